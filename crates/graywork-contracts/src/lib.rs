//! `check-contracts`: semver compatibility of versioned trait contracts and their wiring.
//!
//! The pipeline: [`surface`] parses a crate's sources with syn into a normalised public
//! surface; [`diff`] compares two surfaces and names each change with a [`lint::Lint`], which
//! carries the bump it needs;
//! [`version`] checks each contract module's `VERSION` against those bumps; [`wiring`] checks
//! consumers' ranges and providers' features; [`report`] prints text or JSON. The baseline is
//! the lock file ([`lock`]), a git revision, or another source tree.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use semver::Version;

use graywork_workspace::{Member, ResolveMode, Runner, Workspace, git, manifest_source};

pub mod diff;
mod early;
pub mod impact;
pub mod lint;
pub mod lock;
pub mod manifest;
pub mod registry;
pub mod report;
mod semver_trick;
pub mod surface;
pub mod version;
pub mod wiring;

use diff::Severity;
use manifest::{BuildOptions, CrateManifest, cfg_env};
use report::Report;
use surface::{Crate, DiskTree, Location, MemoryTree, SourceTree, Surface, crate_root};

/// The lock file's name, in the contract crate's directory.
pub const LOCK_FILE_NAME: &str = "contracts.lock";

/// Output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// Grouped by contract and severity.
    #[default]
    Text,
    /// `{"required_bump": ..., "findings": [...]}`.
    Json,
    /// GitHub Actions workflow commands (`::error file=...,line=...::message`), so findings
    /// show on the pull request's diff.
    Github,
}

/// What `check-contracts` compares and how.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The workspace's `Cargo.toml` (default: the current directory's workspace), for the
    /// baselines that check the workspace's contract crate.
    pub manifest_path: Option<PathBuf>,
    /// What to compare with.
    pub baseline: Baseline,
    /// The command that runs the tool, for the fixes messages suggest.
    pub runner: Runner,
    /// Which build of the crate is checked (features and cfg flags).
    pub build: BuildOptions,
    /// Fail when part of either tree could not be read (macros not expanded, glob
    /// re-exports of other crates, files that do not parse).
    pub deny_unread: bool,
}

/// What a check compares with.
#[derive(Debug, Clone)]
pub enum Baseline {
    /// The workspace's contract crate against its lock file.
    Lock(LockOptions),
    /// The workspace's contract crate against its sources at a git revision.
    GitRevision(String),
    /// Two source trees of any crate.
    Directories {
        /// The baseline crate directory.
        old: PathBuf,
        /// The crate directory checked.
        new: PathBuf,
    },
    /// A crate directory against a version of the crate published on the registry, fetched
    /// as cargo fetches a dependency.
    Published {
        /// The crate directory checked.
        crate_dir: PathBuf,
        /// The published version to compare with.
        version: Version,
    },
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline::Lock(LockOptions::default())
    }
}

/// How the lock file is read and written.
#[derive(Debug, Clone, Default)]
pub struct LockOptions {
    /// The lock file (default: contracts.lock in the contract crate's directory).
    pub lock_file: Option<PathBuf>,
    /// Record the current contract surface in the lock file.
    pub bless: bool,
    /// With `bless`: record the surface even if the check fails.
    pub force: bool,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The findings.
    pub report: Report,
    /// Set when `--bless` wrote the lock file: what it wrote.
    pub blessed: Option<String>,
}

/// Runs the check without printing.
pub fn check(args: &CheckOptions) -> anyhow::Result<Outcome> {
    let mut outcome = check_without_coverage_policy(args)?;
    if args.deny_unread && !outcome.report.unread.is_empty() {
        outcome.report.deny_unread = true;
        outcome.report.ok = false;
    }
    Ok(outcome)
}

fn check_without_coverage_policy(args: &CheckOptions) -> anyhow::Result<Outcome> {
    let report = match &args.baseline {
        Baseline::Published { crate_dir, version } => {
            let name = CrateManifest::read(crate_dir)?
                .and_then(|manifest| manifest.name)
                .ok_or_else(|| {
                    anyhow!(
                        "comparing with a published version needs the crate's name: {} has no Cargo.toml with a package name",
                        crate_dir.display()
                    )
                })?;
            let old_dir = registry::fetch_published(&name, version)?;
            let mut report = compare_dirs_with(&old_dir, crate_dir, &args.build)?;
            report.subject = format!(
                "crate `{name}`: {} against {name} {version} from the registry",
                crate_dir.display()
            );
            report
        }
        Baseline::Directories { old, new } => compare_dirs_with(old, new, &args.build)?,
        Baseline::Lock(_) | Baseline::GitRevision(_) => return check_workspace(args),
    };
    Ok(Outcome {
        report,
        blessed: None,
    })
}

/// `--baseline-dir OLD --crate-dir NEW`: every public item of the crate is surface, read
/// under the crate's default features.
pub fn compare_dirs(old_dir: &Path, new_dir: &Path) -> anyhow::Result<Report> {
    compare_dirs_with(old_dir, new_dir, &BuildOptions::default())
}

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
/// known in its code by one of `extern_crates` (see [`surface::Crate::mentions_of`]). Files
/// are read from the workspace `root`, so locations and errors name them relative to it.
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
    let (root_file, env) = crate_entry(root, dir, &BuildOptions::default())?;
    let disk = DiskTree {
        root: root.to_path_buf(),
    };
    Crate::load_with(&disk, &root_file, &env)
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

/// The whole public surface of the contract crate in `crate_dir`, read from the workspace
/// `root` so that every location is shown relative to it.
fn read_contract_crate(
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
    let crate_rel = PathBuf::from(surface::slash_path(
        crate_dir.strip_prefix(root).unwrap_or(crate_dir),
    ));
    let root_file = ["src/lib.rs", "src/main.rs"]
        .into_iter()
        .map(|file| crate_rel.join(file))
        .find(|file| root.join(file).is_file())
        .ok_or_else(|| anyhow!("{} has no src/lib.rs", crate_rel.display()))?;
    let manifest = CrateManifest::read(crate_dir)?;
    Ok((root_file, cfg_env(manifest.as_ref(), build)))
}

/// A lock file read and, when it could be read, parsed.
struct LockRead {
    /// The path as messages show it (relative to the workspace root).
    display: String,
    /// The text, and the recorded crate name and surface it parses to.
    read: std::io::Result<(String, anyhow::Result<(String, Surface)>)>,
}

impl LockRead {
    fn read(path: &Path, display: String) -> LockRead {
        let read = std::fs::read_to_string(path).map(|text| {
            let parsed = lock::parse(&text, &display);
            (text, parsed)
        });
        LockRead { display, read }
    }
}

fn check_workspace(args: &CheckOptions) -> anyhow::Result<Outcome> {
    let lock_options = match &args.baseline {
        Baseline::Lock(options) => Some(options),
        _ => None,
    };
    let lock_file = lock_options.and_then(|options| options.lock_file.clone());
    let bless = lock_options.is_some_and(|options| options.bless);
    let force = lock_options.is_some_and(|options| options.force);
    // The contract crate is parsed while cargo reads the workspace, when the root manifest
    // says where it is; the metadata confirms the guess before it is used.
    let (workspace, early) = std::thread::scope(|scope| {
        let early = scope.spawn(|| {
            let early::Guess {
                root,
                contract_crate: crate_dir,
                providers,
            } = early::guess(args.manifest_path.as_deref())?;
            let surface = read_contract_crate(&root, &crate_dir, &args.build);
            let lock = lock_options.map(|_| {
                let path = lock_file
                    .clone()
                    .unwrap_or_else(|| crate_dir.join(LOCK_FILE_NAME));
                let display = surface::slash_path(path.strip_prefix(&root).unwrap_or(&path));
                LockRead::read(&path, display)
            });
            let impls = wiring::ProviderImpls::read(&root, &providers);
            Some((root, crate_dir, surface, lock, impls))
        });
        let workspace = Workspace::load(&manifest_source(
            args.manifest_path.as_deref(),
            ResolveMode::NoDeps,
            false,
        ));
        let early = early
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (workspace, early)
    });
    let workspace = workspace?;
    let definers: Vec<&Member> = workspace
        .members
        .iter()
        .filter(|m| !m.contracts.defines.is_empty())
        .collect();
    let contract_crate = match definers.as_slice() {
        [one] => *one,
        [] => bail!(
            "no member of the workspace at {} defines contracts (`defines` in \
             [package.metadata.contracts])",
            workspace.root
        ),
        several => bail!(
            "several members define contracts ({}); check-contracts expects one contract crate",
            several
                .iter()
                .map(|m| format!("`{}`", m.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let defines = &contract_crate.contracts.defines;
    let crate_dir = contract_crate.manifest_dir().as_std_path().to_path_buf();
    let root = workspace.root.as_std_path();
    let display = |path: &Path| surface::slash_path(path.strip_prefix(root).unwrap_or(path));

    let crate_rel = PathBuf::from(display(&crate_dir));
    let same_dir = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let lock_path = lock_file
        .clone()
        .unwrap_or_else(|| crate_dir.join(LOCK_FILE_NAME));
    let lock_display = display(&lock_path);
    let (full, early_lock, provider_impls) = match early {
        Some((early_root, early_dir, surface, lock, impls))
            if same_dir(&early_root, root)
                && same_dir(&early_dir, &crate_dir)
                // Locations are shown relative to the root: both reads must spell them alike.
                && surface::slash_path(early_dir.strip_prefix(&early_root).unwrap_or(&early_dir))
                    == display(&crate_dir) =>
        {
            (
                surface,
                lock.filter(|lock| lock.display == lock_display),
                impls,
            )
        }
        _ => (
            read_contract_crate(root, &crate_dir, &args.build),
            None,
            wiring::ProviderImpls::default(),
        ),
    };
    let full = full.with_context(|| format!("contract crate `{}`", contract_crate.name))?;
    let unread = full.unread.clone();
    let current = version::contract_surface(full, defines);

    // The wiring check reads the providers' sources: it runs while the baseline is read.
    let contracts_of_wiring = wiring_contracts(&current, defines);
    let read_baseline = || -> anyhow::Result<(Option<Surface>, String, bool)> {
        Ok(if let Baseline::GitRevision(revision) = &args.baseline {
            let tree = git_tree(&crate_dir, &crate_rel, revision)?;
            let (root_file, env) = crate_entry(root, &crate_dir, &args.build)?;
            let old = Crate::load_with(&tree, &root_file, &env)
                .map(|krate| krate.surface())
                .with_context(|| format!("in git revision `{revision}`"))?;
            let old = version::contract_surface(old, defines);
            (
                Some(old),
                format!(
                    "crate `{}` against git revision `{revision}`",
                    contract_crate.name
                ),
                false,
            )
        } else {
            let read =
                early_lock.unwrap_or_else(|| LockRead::read(&lock_path, lock_display.clone()));
            match read.read {
                // `--bless --force` re-records a lock file this version cannot read (an older format).
                Ok((_, Err(_))) if bless && force => (
                    None,
                    format!(
                        "crate `{}` (unreadable lock file replaced)",
                        contract_crate.name
                    ),
                    true,
                ),
                Ok((_, parsed)) => {
                    let (locked_crate, surface) = parsed?;
                    if locked_crate != contract_crate.name {
                        bail!(
                            "{lock_display} records crate `{locked_crate}`, but the contract crate is `{}`",
                            contract_crate.name
                        );
                    }
                    (
                        Some(surface),
                        format!("crate `{}` against {lock_display}", contract_crate.name),
                        true,
                    )
                }
                Err(_) if bless => (
                    None,
                    format!("crate `{}` (no lock file yet)", contract_crate.name),
                    true,
                ),
                Err(err) => bail!(
                    "cannot read lock file {lock_display}: {err}; record the baseline with `{} check-contracts --bless`",
                    args.runner
                ),
            }
        })
    };
    let (baseline, wiring_findings) = std::thread::scope(|scope| {
        let wiring =
            scope.spawn(|| wiring::check(&workspace, &contracts_of_wiring, &provider_impls));
        let baseline = read_baseline();
        let wiring = wiring
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (baseline, wiring)
    });
    let (baseline, subject, from_lock) = baseline?;

    let mut findings = Vec::new();
    let lock_loc = Location {
        file: lock_display.clone(),
        line: 1,
    };
    if let Some(old) = &baseline {
        let raw = diff::diff(old, &current);
        findings = version::apply_contract_discipline(
            raw,
            old,
            &current,
            defines,
            &contract_crate.name,
            &lock_loc,
        );
    }
    findings.extend(wiring_findings?);
    let lock_text = lock::render(&contract_crate.name, &current)?;
    let lock_up_to_date = if from_lock && lock_options.is_some() {
        Some(std::fs::read_to_string(&lock_path).is_ok_and(|text| text == lock_text))
    } else {
        None
    };
    let mut report = Report::new(subject, findings, lock_up_to_date);
    let baseline_unread = baseline.as_ref().map_or(&[][..], |old| &old.unread[..]);
    report.add_unread(&unread, baseline_unread, false);
    let mut blessed = None;
    if bless {
        if !report.ok && !force {
            blessed = Some(format!(
                "refusing to bless {lock_display}: the check fails with {} error(s); fix them, or pass --force to record the surface anyway",
                report.errors()
            ));
            return Ok(Outcome { report, blessed });
        }
        std::fs::write(&lock_path, &lock_text)
            .with_context(|| format!("cannot write lock file {lock_display}"))?;
        let items = current.traits.len()
            + current.structs.len()
            + current.enums.len()
            + current.functions.len()
            + current.consts.len();
        blessed = Some(format!(
            "blessed {lock_display}: {items} items in {} contract modules",
            current.versions.len()
        ));
        report.lock_up_to_date = Some(true);
        report.ok = true;
        for finding in &mut report.findings {
            finding.severity = Severity::Note;
        }
    }
    Ok(Outcome { report, blessed })
}

/// The contract versions and trait names the wiring check needs.
fn wiring_contracts(current: &Surface, defines: &[String]) -> wiring::Contracts {
    let mut contracts = wiring::Contracts::default();
    for (module, text) in &current.versions {
        if let (Some(key), Ok(parsed)) = (
            version::contract_module(module, defines),
            Version::parse(text),
        ) {
            contracts.versions.insert(key, parsed);
        }
    }
    for path in current.traits.keys() {
        if let Some(key) = version::contract_module(path, defines)
            && let Some((_, name)) = path.rsplit_once("::")
        {
            contracts
                .traits
                .entry(key)
                .or_default()
                .insert(name.to_string());
        }
    }
    contracts
}

/// The `.rs` files of a crate directory at a git revision, keyed as `crate_rel/relative`.
fn git_tree(crate_dir: &Path, crate_rel: &Path, revision: &str) -> anyhow::Result<MemoryTree> {
    if revision.starts_with('-') {
        bail!("invalid git revision `{revision}`");
    }
    let listing = git(
        crate_dir,
        &["ls-tree", "-r", "--name-only", revision, "--", "."],
    )?;
    let mut tree = MemoryTree::default();
    for path in listing.lines().filter(|p| p.ends_with(".rs")) {
        let text = git(crate_dir, &["show", &format!("{revision}:./{path}")])?;
        tree.files.insert(crate_rel.join(path), text);
    }
    if tree.read(&crate_rel.join("src/lib.rs")).is_none() {
        bail!(
            "git revision `{revision}` has no src/lib.rs under {}",
            crate_dir.display()
        );
    }
    Ok(tree)
}
