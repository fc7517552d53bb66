//! Whole-crate checks: every public item of a crate compared between two source trees, or
//! between a crate directory and a version of it published on the registry.

use std::path::Path;

use anyhow::{Context, anyhow};
use semver::Version;

use crate::diff;
use crate::manifest::{BuildOptions, CrateManifest, cfg_env};
use crate::read::read_crate;
use crate::registry;
use crate::report::Report;
use crate::surface::{self, Location};
use crate::version;

/// `--baseline-dir OLD --crate-dir NEW`: every public item of the crate is surface, read
/// under the crate's default features.
pub fn compare_dirs(old_dir: &Path, new_dir: &Path) -> anyhow::Result<Report> {
    compare_dirs_with(old_dir, new_dir, &BuildOptions::default())
}

/// Like [`compare_dirs`], for the build `options` selects.
pub fn compare_dirs_with(
    old_dir: &Path,
    new_dir: &Path,
    options: &BuildOptions,
) -> anyhow::Result<Report> {
    // The two trees are independent: the baseline is read on a second thread while this one
    // reads the new tree, which nearly halves the wall time of a pair (parsing is the bulk).
    let (old, new) = std::thread::scope(|scope| {
        let baseline = scope.spawn(|| read_crate(old_dir, options));
        let new = read_crate(new_dir, options);
        let old = baseline
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (old, new)
    });
    let (old, old_manifest) =
        old.with_context(|| format!("cannot read baseline crate {}", old_dir.display()))?;
    let (new, new_manifest) =
        new.with_context(|| format!("cannot read crate {}", new_dir.display()))?;
    let name = new_manifest.as_ref().and_then(|m| m.name.clone());
    // A cfg that holds in the crate's default build says nothing to its users.
    let default_build = cfg_env(new_manifest.as_ref(), &BuildOptions::default());
    let version_line = new_manifest.as_ref().map_or(1, |m| m.version_line);
    let new_version = new_manifest.and_then(|m| m.version);
    let old_version = old_manifest.and_then(|m| m.version);
    let subject = match &name {
        Some(name) => format!(
            "crate `{name}`: {} against {}",
            new_dir.display(),
            old_dir.display()
        ),
        None => format!("{} against {}", new_dir.display(), old_dir.display()),
    };
    let crate_name = name.unwrap_or_else(|| "crate".to_string());
    let mut findings = diff::diff(&old, &new);
    for finding in &mut findings {
        if finding
            .cfg
            .as_deref()
            .is_some_and(|cfg| default_build.eval_text(cfg) == Some(true))
        {
            finding.cfg = None;
        }
    }
    let manifest_loc = Location {
        file: "Cargo.toml".to_string(),
        line: version_line,
    };
    let findings = version::apply_crate_discipline(
        findings,
        &crate_name,
        old_version.zip(new_version),
        &manifest_loc,
    );
    let mut report = Report::new(subject, findings, None);
    report.add_unread(&new.unread, &old.unread, false);
    report.location_base = surface::slash_path(new_dir);
    Ok(report)
}

/// The crate in `crate_dir` against `version` of it from the registry, fetched as cargo
/// fetches a dependency (from cargo's cache when it is there).
pub(crate) fn compare_with_published(
    crate_dir: &Path,
    version: &Version,
    build: &BuildOptions,
) -> anyhow::Result<Report> {
    let name = CrateManifest::read(crate_dir)?
        .and_then(|manifest| manifest.name)
        .ok_or_else(|| {
            anyhow!(
                "comparing with a published version needs the crate's name: {} has no Cargo.toml with a package name",
                crate_dir.display()
            )
        })?;
    let old_dir = registry::fetch_published(&name, version)?;
    let mut report = compare_dirs_with(&old_dir, crate_dir, build)?;
    report.subject = format!(
        "crate `{name}`: {} against {name} {version} from the registry",
        crate_dir.display()
    );
    Ok(report)
}
