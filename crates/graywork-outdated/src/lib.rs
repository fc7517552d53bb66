//! `outdated`: which registry dependencies of a workspace's members have newer versions, read
//! from the registry index the way cargo stores it, and the plans that take them.
//!
//! The flow is I/O first, then pure computation: [`collect`] groups the workspace model's
//! declarations by where they are written (`declarations.rs`: a member's entry or a root
//! `[workspace.dependencies]` entry, with file, line and who inherits it), reads
//! `Cargo.lock` (`lockfile.rs`: the locked version and which registry it came from), the
//! cargo configuration that
//! decides each registry's index (`config.rs`, with `[source]` replacement), optionally lets
//! cargo refresh its index cache (`refresh.rs`), and reads each crate's entry with
//! `tame-index` (`index.rs`). [`report::report`] then compares requirement, locked version,
//! newest compatible and newest overall; [`plan::plan`] turns the report into
//! `upgrade-plan --dep` commands and one compatible-updates stage; `render.rs` prints both.
#![warn(unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::PathBuf;

use graywork_workspace::Workspace;

use crate::lockfile::{Locked, Lockfile};

pub mod config;
pub mod declarations;
mod error;
pub mod index;
pub mod lockfile;
pub mod plan;
pub mod refresh;
mod render;
pub mod report;
pub mod rust_version;

pub use declarations::{Declaration, Use, declarations};
pub use error::OutdatedError;
pub use plan::{OutdatedPlan, plan};
pub use render::{OutdatedFormat, render_plan, render_report};
pub use report::{Facts, Report, Selection, report};

/// Where cargo lives and how `outdated` may use it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The directory cargo would be started in: its configuration is discovered from here.
    pub cwd: PathBuf,
    /// The cargo program (`$CARGO`, else `cargo`).
    pub cargo: OsString,
    /// `$CARGO_HOME` (else `~/.cargo`), where cargo keeps its index caches.
    pub cargo_home: PathBuf,
    /// Answer from cargo's cache without letting cargo refresh it.
    pub offline: bool,
}

impl Settings {
    /// Settings from the process environment: the current directory, `$CARGO`, `$CARGO_HOME`.
    pub fn from_env(offline: bool) -> Result<Settings, OutdatedError> {
        let cwd = std::env::current_dir().map_err(|source| OutdatedError::Read {
            path: PathBuf::from("."),
            source,
        })?;
        let cargo_home =
            graywork_workspace::cargo_home().ok_or_else(|| OutdatedError::Source {
                message: "neither CARGO_HOME nor a home directory is set, so cargo's index cache cannot be found".to_owned(),
            })?;
        Ok(Settings {
            cwd,
            cargo: graywork_workspace::cargo_program(),
            cargo_home,
            offline,
        })
    }
}

/// Reads everything the report needs for the members and kinds `selection` names.
///
/// Errors name what could not be read: a missing `Cargo.lock`, a malformed config file, a
/// source that has no index, or a crate missing from an offline cache. A failed
/// `cargo update --dry-run` is recorded on the registries it could not refresh, and a crate
/// whose entry cannot be read (malformed, or not in the registry) is skipped with the reason.
pub fn collect(
    workspace: &Workspace,
    settings: &Settings,
    selection: &Selection,
) -> Result<Facts, OutdatedError> {
    check_members(workspace, selection)?;
    if !workspace.declarations.from_disk {
        return Err(OutdatedError::Source {
            message: format!(
                "`outdated` reads where requirements are declared from the manifests, and {}/Cargo.toml is not on disk",
                workspace.root
            ),
        });
    }
    let lockfile = Lockfile::read(workspace.root.join("Cargo.lock").as_std_path())?;
    let env = |name: &str| std::env::var(name).ok();
    let cargo_config = config::CargoConfig::discover(&settings.cwd, &settings.cargo_home, &env)?;

    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    for declaration in declarations(workspace) {
        if !declaration
            .users
            .iter()
            .any(|usage| selection.selects(usage))
        {
            continue;
        }
        match locked_from_registry(&lockfile, &declaration) {
            Ok((source, locked)) => {
                let registry =
                    cargo_config.registry_for_lock_source(&source, &declaration.package)?;
                entries.push(report::Entry {
                    declaration,
                    registry,
                    locked,
                });
            }
            Err(reason) => skipped.push(report::Skipped {
                name: declaration.package.clone(),
                location: declaration.location.clone(),
                reason,
            }),
        }
    }

    // Each registry once, with the crates to read from it.
    let mut wanted: BTreeMap<String, (BTreeSet<String>, String)> = BTreeMap::new();
    for entry in &entries {
        let declaration = &entry.declaration;
        wanted
            .entry(entry.registry.clone())
            .or_insert_with(|| {
                (
                    BTreeSet::new(),
                    format!("`{}` in {}", declaration.key, declaration.location),
                )
            })
            .0
            .insert(declaration.package.clone());
    }
    let mut sources = Vec::new();
    for (name, (crates, used_by)) in wanted {
        let source = cargo_config.registry_source(Some(&name), &used_by)?;
        sources.push((name, source, crates));
    }

    let any_cached = sources
        .iter()
        .any(|(_, source, _)| source.index.is_cached());
    // A failed refresh (an unreachable git dependency, a crate gone from the registry, no
    // network) does not fail the report: every row cargo's cache can answer is still answered,
    // the registries say they were not refreshed and why, and a crate without an entry is a
    // row of its own under `skipped`.
    let mut refresh_failed = None;
    let refreshed = any_cached && !settings.offline && {
        match refresh::refresh_index(
            &settings.cargo,
            &settings.cargo_home,
            workspace.root.join("Cargo.toml").as_std_path(),
            &settings.cwd,
        ) {
            Ok(()) => true,
            Err(OutdatedError::Refresh { stderr, .. }) => {
                refresh_failed = Some(first_error_line(&stderr));
                false
            }
            Err(other) => return Err(other),
        }
    };
    let mut registries = BTreeMap::new();
    let mut unread: BTreeMap<(String, String), String> = BTreeMap::new();
    for (name, source, crates) in sources {
        let cached = source.index.is_cached();
        let reader =
            index::IndexReader::open(source.clone(), &settings.cargo_home, settings.offline)?;
        let mut read = BTreeMap::new();
        for krate in crates {
            match reader.read(&krate) {
                Ok(versions) => {
                    read.insert(krate, versions);
                }
                // Offline, an entry missing from cargo's cache is a question only going
                // online answers, so it stays an error that says so.
                Err(error @ OutdatedError::NotInIndex { .. }) if settings.offline && cached => {
                    return Err(error);
                }
                Err(error) => {
                    unread.insert((name.clone(), krate), error.to_string());
                }
            }
        }
        registries.insert(
            name,
            report::RegistryFacts {
                source,
                refreshed: refreshed && cached,
                refresh_failed: refresh_failed.clone().filter(|_| cached),
                crates: read,
            },
        );
    }
    entries.retain(|entry| {
        let key = (entry.registry.clone(), entry.declaration.package.clone());
        match unread.get(&key) {
            None => true,
            Some(reason) => {
                skipped.push(report::Skipped {
                    name: entry.declaration.package.clone(),
                    location: entry.declaration.location.clone(),
                    reason: reason.clone(),
                });
                false
            }
        }
    });
    let rust_version = rust_version::policy(
        workspace,
        &cargo_config,
        &env,
        &rust_version::installed_rustc,
    )?;
    Ok(Facts {
        entries,
        skipped,
        registries,
        rust_version,
    })
}

/// The line of cargo's output that says what failed (its first `error:` line, else its first
/// line), without the prefix.
fn first_error_line(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|line| line.starts_with("error"))
        .or_else(|| stderr.lines().find(|line| !line.trim().is_empty()))
        .unwrap_or("no output");
    line.trim_start_matches("error:").trim().to_owned()
}

/// The lock file's registry source and versions for a declaration's users, or why it is not
/// a registry dependency as locked (git, a `[patch]` to a path, or not locked at all).
fn locked_from_registry(
    lockfile: &Lockfile,
    declaration: &Declaration,
) -> Result<(String, Vec<semver::Version>), String> {
    let requirement = semver::VersionReq::parse(&declaration.requirement).ok();
    let mut registry = None;
    let mut versions = Vec::new();
    let mut elsewhere = None;
    for usage in &declaration.users {
        match lockfile.locked(&usage.member, &declaration.package, requirement.as_ref()) {
            Locked::Registry { version, source } => {
                registry.get_or_insert(source);
                versions.push(version);
            }
            Locked::Elsewhere { version, source } => {
                elsewhere.get_or_insert((version, source));
            }
            Locked::Missing => {}
        }
    }
    versions.sort();
    versions.dedup();
    match (registry, elsewhere) {
        (Some(source), _) => Ok((source, versions)),
        (None, Some((version, Some(source)))) => Err(format!(
            "locked to {version} from {source}, not from a registry"
        )),
        (None, Some((version, None))) => Err(format!(
            "locked to {version} from a path ([patch] redirects it)"
        )),
        (None, None) => Err(
            "not in Cargo.lock, which is older than the manifests; run `cargo update`".to_owned(),
        ),
    }
}

fn check_members(workspace: &Workspace, selection: &Selection) -> Result<(), OutdatedError> {
    let known = workspace.member_names();
    for (flag, names) in [
        ("--package", &selection.packages),
        ("--exclude", &selection.exclude),
    ] {
        if let Some(name) = names.iter().find(|name| workspace.member(name).is_none()) {
            let closest = graywork_workspace::closest_name(name, known.iter().copied())
                .map(|candidate| format!("; did you mean `{candidate}`?"))
                .unwrap_or_default();
            return Err(OutdatedError::UnknownMember {
                flag,
                name: name.clone(),
                hint: format!("members: {}{closest}", known.join(", ")),
            });
        }
    }
    Ok(())
}
