//! `outdated`: which registry dependencies of a workspace's members have newer versions, read
//! from the registry index the way cargo stores it, and the plans that take them.
//!
//! The flow is I/O first, then pure computation: [`collect`] reads the declarations
//! (`declarations.rs`: member manifests and the root `[workspace.dependencies]`, with file,
//! line and who inherits each), `Cargo.lock` (`lockfile.rs`), the cargo configuration that
//! decides each registry's index (`config.rs`, with `[source]` replacement), optionally lets
//! cargo refresh its index cache (`refresh.rs`), and reads each crate's entry with
//! `tame-index` (`index.rs`). [`report::report`] then compares requirement, locked version,
//! newest compatible and newest overall; [`plan::plan`] turns the report into
//! `upgrade-plan --dep` commands and one compatible-updates stage; `render.rs` prints both.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::PathBuf;

use graywork_workspace::Workspace;

pub mod config;
pub mod declarations;
mod error;
pub mod index;
pub mod lockfile;
pub mod plan;
pub mod refresh;
mod render;
pub mod report;

pub use declarations::{Declaration, DeclaredSource, Use, read_declarations};
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
        let cargo_home = match std::env::var_os("CARGO_HOME") {
            Some(home) => PathBuf::from(home),
            None => std::env::home_dir()
                .map(|home| home.join(".cargo"))
                .ok_or_else(|| OutdatedError::Source {
                    message: "neither CARGO_HOME nor a home directory is set, so cargo's index cache cannot be found".to_owned(),
                })?,
        };
        Ok(Settings {
            cwd,
            cargo: std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")),
            cargo_home,
            offline,
        })
    }
}

/// Reads everything the report needs for the members and kinds `selection` names.
///
/// Errors name what could not be read: a missing `Cargo.lock`, a malformed manifest or
/// config file, a source that has no index, a crate missing from an offline cache, a
/// malformed index entry, or a failed `cargo update --dry-run`.
pub fn collect(
    workspace: &Workspace,
    settings: &Settings,
    selection: &Selection,
) -> Result<Facts, OutdatedError> {
    check_members(workspace, selection)?;
    let lockfile = lockfile::Lockfile::read(workspace.root.join("Cargo.lock").as_std_path())?;
    let mut declarations = Vec::new();
    let mut skipped = Vec::new();
    for declaration in read_declarations(workspace)? {
        if !declaration
            .users
            .iter()
            .any(|usage| selection.selects(usage))
        {
            continue;
        }
        match declaration.source {
            DeclaredSource::Registry(_) => declarations.push(declaration),
            DeclaredSource::Git => skipped.push(report::Skipped {
                name: declaration.package.clone(),
                location: declaration.location.clone(),
                reason: "a git dependency: no registry lists its versions".to_owned(),
            }),
            // Path dependencies are the workspace's own code or vendored crates.
            DeclaredSource::Path => {}
        }
    }

    let env = |name: &str| std::env::var(name).ok();
    let cargo_config = config::CargoConfig::discover(&settings.cwd, &settings.cargo_home, &env)?;
    let mut wanted: BTreeMap<String, (Option<String>, BTreeSet<String>, String)> = BTreeMap::new();
    for declaration in &declarations {
        let registry = report::registry_name(declaration).to_owned();
        let entry = wanted.entry(registry).or_insert_with(|| {
            let named = match &declaration.source {
                DeclaredSource::Registry(name) => name.clone(),
                _ => None,
            };
            (
                named,
                BTreeSet::new(),
                format!("`{}` in {}", declaration.key, declaration.location),
            )
        });
        entry.1.insert(declaration.package.clone());
    }
    let mut sources = Vec::new();
    for (name, (named, crates, used_by)) in wanted {
        let source = cargo_config.registry_source(named.as_deref(), &used_by)?;
        sources.push((name, source, crates));
    }

    let any_cached = sources
        .iter()
        .any(|(_, source, _)| source.index.is_cached());
    let refreshed = any_cached && !settings.offline;
    if refreshed {
        refresh::refresh_index(
            &settings.cargo,
            &settings.cargo_home,
            workspace.root.join("Cargo.toml").as_std_path(),
            &settings.cwd,
        )?;
    }
    let cargo_version = if any_cached {
        refresh::cargo_version(&settings.cargo)?
    } else {
        semver::Version::new(0, 0, 0)
    };
    let mut registries = BTreeMap::new();
    for (name, source, crates) in sources {
        let cached = source.index.is_cached();
        let reader = index::IndexReader::open(
            source.clone(),
            &settings.cargo_home,
            &cargo_version,
            settings.offline,
        )?;
        let mut entries = BTreeMap::new();
        for krate in crates {
            let versions = reader.read(&krate)?;
            entries.insert(krate, versions);
        }
        registries.insert(
            name,
            report::RegistryFacts {
                source,
                refreshed: refreshed && cached,
                crates: entries,
            },
        );
    }
    Ok(Facts {
        declarations,
        skipped,
        lockfile,
        registries,
    })
}

fn check_members(workspace: &Workspace, selection: &Selection) -> Result<(), OutdatedError> {
    let known = workspace.member_names();
    for (flag, names) in [
        ("--package", &selection.packages),
        ("--exclude", &selection.exclude),
    ] {
        if let Some(name) = names.iter().find(|name| workspace.member(name).is_none()) {
            let closest = known
                .iter()
                .map(|candidate| (strsim::levenshtein(name, candidate), *candidate))
                .min()
                .filter(|(distance, _)| *distance <= 3)
                .map(|(_, candidate)| format!("; did you mean `{candidate}`?"))
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
