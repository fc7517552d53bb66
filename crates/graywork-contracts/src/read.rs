//! Reading a crate's sources into its public surface: a crate directory as a build selects
//! it, a workspace member, or the workspace's contract crate.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

use crate::manifest::{BuildOptions, CrateManifest, cfg_env};
use crate::semver_trick;
use crate::surface::{self, Crate, DiskTree, SourceTree, Surface, Told, crate_root};

/// Reads a crate directory as the build `options` selects: its surface (with its Cargo
/// features) and its manifest, if it has one.
///
/// A release that re-exports another version of its own crate (the "semver trick") is read
/// with that version's items at the re-exported paths, when cargo's cache holds it.
pub fn read_crate(
    dir: &Path,
    options: &BuildOptions,
) -> anyhow::Result<(Surface, Option<CrateManifest>)> {
    let (mut surface, manifest) = read_crate_alone(dir, options)?;
    if let Some(name) = manifest.as_ref().and_then(|m| m.name.as_deref()) {
        semver_trick::fill_from_own_dependency(&mut surface, dir, name, options, 0);
    }
    Ok((surface, manifest))
}

/// [`read_crate`] without following re-exports of other versions of itself.
pub(crate) fn read_crate_alone(
    dir: &Path,
    options: &BuildOptions,
) -> anyhow::Result<(Surface, Option<CrateManifest>)> {
    let (krate, manifest) = load_crate(dir, options)?;
    let mut surface = krate.surface();
    if let Some(manifest) = &manifest {
        surface.features = manifest.feature_defs();
    }
    Ok((surface, manifest))
}

/// The public items of the crate in `dir` (its default features) that name items of a crate
/// known in its code by one of `extern_crates` (see [`Crate::mentions_of`]). Files are read
/// from the workspace `root`, so locations and errors name them relative to it.
pub fn public_api_mentions(
    root: &Path,
    dir: &Path,
    extern_crates: &[String],
) -> anyhow::Result<Vec<surface::Mention>> {
    let krate = read_member(root, dir)?;
    Ok(extern_crates
        .iter()
        .flat_map(|name| krate.mentions_of(name))
        .collect())
}

/// The crate in `dir` (its default features) read from the workspace `root`, as
/// [`public_api_mentions`] reads it: a caller asking about several dependencies of one member
/// reads it once and asks [`Crate::mentions_of`] for each.
pub fn read_member(root: &Path, dir: &Path) -> anyhow::Result<Crate> {
    read_member_telling(root, dir, &|_, _| {})
}

/// [`read_member`], telling `looked` of every file the reading looks for, in order: its path
/// relative to `root`, and its text or `None` when it does not exist. The reading depends on
/// nothing else on disk, so a cache of what it finds holds while those files are unchanged.
pub fn read_member_telling(
    root: &Path,
    dir: &Path,
    looked: &dyn Fn(&Path, Option<&str>),
) -> anyhow::Result<Crate> {
    let tree = Told {
        tree: DiskTree {
            root: root.to_path_buf(),
        },
        looked,
    };
    let (root_file, env) = crate_entry_in(&tree, root, dir, &BuildOptions::default())?;
    Crate::load_with(&tree, &root_file, &env)
}

/// Walks the crate in `dir` as the build `options` selects, and reads its manifest.
fn load_crate(
    dir: &Path,
    options: &BuildOptions,
) -> anyhow::Result<(Crate, Option<CrateManifest>)> {
    let manifest = CrateManifest::read(dir)?;
    let tree = DiskTree {
        root: dir.to_path_buf(),
    };
    let root = crate_root(&tree)
        .with_context(|| format!("crate directory `{}` has no src/lib.rs", dir.display()))?;
    let env = cfg_env(manifest.as_ref(), options);
    Ok((Crate::load_with(&tree, &root, &env)?, manifest))
}

/// The whole public surface of the contract crate in `crate_dir`, read from the workspace
/// `root` so that every location is shown relative to it.
pub(crate) fn read_contract_crate(
    root: &Path,
    crate_dir: &Path,
    build: &BuildOptions,
) -> anyhow::Result<Surface> {
    let (root_file, env) = crate_entry(root, crate_dir, build)?;
    let disk = DiskTree {
        root: root.to_path_buf(),
    };
    Ok(Crate::load_with(&disk, &root_file, &env)?.surface())
}

/// The root file of the crate in `crate_dir` (relative to the workspace `root`, as it is on
/// disk now) and the cfg its build has.
pub(crate) fn crate_entry(
    root: &Path,
    crate_dir: &Path,
    build: &BuildOptions,
) -> anyhow::Result<(PathBuf, surface::CfgEnv)> {
    let disk = DiskTree {
        root: root.to_path_buf(),
    };
    crate_entry_in(&disk, root, crate_dir, build)
}

/// [`crate_entry`], the files read from `tree` (rooted at `root`).
fn crate_entry_in(
    tree: &dyn SourceTree,
    root: &Path,
    crate_dir: &Path,
    build: &BuildOptions,
) -> anyhow::Result<(PathBuf, surface::CfgEnv)> {
    let crate_rel = PathBuf::from(surface::slash_path(
        crate_dir.strip_prefix(root).unwrap_or(crate_dir),
    ));
    let root_file = ["src/lib.rs", "src/main.rs"]
        .into_iter()
        .map(|file| crate_rel.join(file))
        .find(|file| tree.read(file).is_some())
        .ok_or_else(|| anyhow!("{} has no src/lib.rs", crate_rel.display()))?;
    let manifest = match tree.read(&crate_rel.join("Cargo.toml")) {
        Some(text) => Some(
            CrateManifest::parse(&text)
                .with_context(|| format!("invalid {}", crate_dir.join("Cargo.toml").display()))?,
        ),
        None => None,
    };
    Ok((root_file, cfg_env(manifest.as_ref(), build)))
}
