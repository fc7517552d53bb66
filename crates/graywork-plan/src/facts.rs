//! Facts about the workspace's tree that `cargo metadata` does not carry, collected before
//! planning so that planning itself reads nothing: which contract modules exist, which
//! declared schema migrations are written, and which features cannot build as they are.

use std::collections::{BTreeMap, BTreeSet};

use graywork_workspace::feature_guards::{FeatureGuards, Refusal, workflow_exclusive_groups};
use graywork_workspace::{Workspace, files_under};

/// What the planner knows about the tree beyond the metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeFacts {
    /// For each contract some member defines: the majors whose module file exists in the
    /// defining crate (`src/NAME/vN.rs` or `src/NAME/vN/mod.rs`), or `None` when the defining
    /// crate's files are not on disk (metadata saved elsewhere says nothing about them).
    pub contract_modules: BTreeMap<String, Option<BTreeSet<u64>>>,
    /// `(member index, migration name)` for each declared migration that some file under the
    /// member's `src/` names: the tree's evidence that the migration is written.
    pub written_migrations: BTreeSet<(usize, String)>,
    /// For the dependency of a `--dep` goal: each member whose public API names its items
    /// (member index -> where). Reading a public API is the contract checker's job, so the
    /// caller fills this (`cargo-graywork` does, with `graywork-contracts`); empty means no
    /// member is known to.
    pub exposures: BTreeMap<usize, Vec<Exposure>>,
    /// What the plan must warn about from reading the tree (a public API that could not be
    /// read, say).
    pub warnings: Vec<String>,
    /// For a member bumped side by side (`--crate X@V --strategy side-by-side`): the versions
    /// of it its dependents could keep from outside the workspace, each with where it is
    /// found ([`available_versions`]). Filled by the caller for that goal.
    pub available: BTreeMap<String, Vec<(semver::Version, String)>>,
    /// Per member whose `--all-features` its own source refuses (a `compile_error!` under a
    /// cfg naming features, evaluated for this host without `--cfg` flags, as
    /// [`graywork_workspace::feature_guards`] reads it): the features gates name instead, and
    /// why the others are left out.
    pub guarded_features: BTreeMap<usize, (Vec<String>, Vec<Refusal>)>,
    /// The members whose feature guards were read.
    guards_read: BTreeSet<usize>,
    /// The workspace's CI `--mutually-exclusive-features` groups, once read.
    exclusive_in_ci: Option<Vec<(Vec<String>, String)>>,
}

/// A public item of a member that names a dependency's items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposure {
    /// The item's public path in the member (`Frame`, `Codec::decode`); empty when the
    /// member's public API could not be read, which counts as exposing (moving it with its
    /// dependents is always safe) and `text` says why.
    pub item: String,
    /// The file, relative to the workspace root.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
    /// What names the dependency (`bytes::Bytes`, `pub use bytes::Buf`).
    pub text: String,
}

impl TreeFacts {
    /// Reads the facts for `workspace` from disk: the defining crates' contract module
    /// directories and the sources of the members that declare migrations.
    pub fn collect(workspace: &Workspace) -> TreeFacts {
        let mut facts = TreeFacts::default();
        for (contract, definer) in workspace.defined_contracts() {
            let member = &workspace.members[definer];
            let modules = member.manifest_path.is_file().then(|| {
                let dir = member.manifest_dir().join("src").join(contract);
                let mut majors = BTreeSet::new();
                for entry in std::fs::read_dir(dir.as_std_path())
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    let path = entry.path();
                    let major = match name.strip_suffix(".rs") {
                        Some(stem) if path.is_file() => graywork_workspace::parse_major(stem),
                        None if path.join("mod.rs").is_file() => {
                            graywork_workspace::parse_major(&name)
                        }
                        _ => None,
                    };
                    majors.extend(major);
                }
                majors
            });
            facts.contract_modules.insert(contract.to_owned(), modules);
        }
        for (position, member) in workspace.members.iter().enumerate() {
            if member.migrations.is_empty() {
                continue;
            }
            let names: BTreeSet<&str> = member
                .migrations
                .contracts
                .values()
                .flat_map(BTreeMap::values)
                .flat_map(|steps| steps.expand.iter().chain(&steps.contract))
                .map(String::as_str)
                .collect();
            let sources: Vec<String> = files_under(member.manifest_dir().join("src").as_std_path())
                .iter()
                .filter_map(|path| std::fs::read_to_string(path).ok())
                .collect();
            for name in names {
                if sources.iter().any(|text| text.contains(name)) {
                    facts.written_migrations.insert((position, name.to_owned()));
                }
            }
        }
        facts
    }

    /// Reads which features the sources of `members` refuse ([`TreeFacts::guarded_features`]),
    /// for those with features beyond their defaults not read yet; returns whether one refuses
    /// any. Reading a crate's whole `src/` costs, so it is done for the members a plan's gates
    /// test with all their features ([`crate::plan_reading_guards`]), not for every member.
    pub fn read_feature_guards(
        &mut self,
        workspace: &Workspace,
        members: impl IntoIterator<Item = usize>,
    ) -> bool {
        let mut found = false;
        for position in members {
            let member = &workspace.members[position];
            if !self.guards_read.insert(position)
                || !graywork_workspace::features::all_features_differ(&member.features)
                || !member.manifest_path.is_file()
            {
                continue;
            }
            // The workflows' exclusive groups are the workspace's: read once.
            let exclusive = self
                .exclusive_in_ci
                .get_or_insert_with(|| workflow_exclusive_groups(workspace.root.as_std_path()));
            let guards = FeatureGuards::read_with(
                member.manifest_dir().as_std_path(),
                workspace.root.as_std_path(),
                exclusive,
            );
            if let Some(guarded) = guards.all_that_builds(&member.features) {
                self.guarded_features.insert(position, guarded);
                found = true;
            }
        }
        found
    }

    /// Whether the module of `contract` v`major` exists; `None` when the tree is not visible.
    pub fn module_exists(&self, contract: &str, major: u64) -> Option<bool> {
        self.contract_modules
            .get(contract)?
            .as_ref()
            .map(|majors| majors.contains(&major))
    }

    /// Whether member `member`'s sources name migration `name`.
    pub fn migration_written(&self, member: usize, name: &str) -> bool {
        self.written_migrations.contains(&(member, name.to_owned()))
    }
}

/// The published versions of `name` a build can take offline: those in cargo's registry
/// cache (`$CARGO_HOME/registry/cache/*/NAME-VERSION.crate`, or unpacked under
/// `registry/src`), and those a root `[patch]` entry provides from a path outside the member
/// of that name. Each with where it is found.
pub fn available_versions(workspace: &Workspace, name: &str) -> Vec<(semver::Version, String)> {
    let mut found = Vec::new();
    let member_dir = workspace
        .member(name)
        .map(|member| member.manifest_dir().to_owned());
    for patch in &workspace.declarations.patches {
        let Some(path) = &patch.path else {
            continue;
        };
        if patch.name != name || Some(path) == member_dir.as_ref() {
            continue;
        }
        let version = std::fs::read_to_string(path.join("Cargo.toml").as_std_path())
            .ok()
            .and_then(|text| text.parse::<toml_edit::DocumentMut>().ok())
            .and_then(|document| {
                document
                    .get("package")?
                    .get("version")?
                    .as_str()
                    .and_then(|text| semver::Version::parse(text).ok())
            });
        if let Some(version) = version {
            found.push((
                version,
                format!(
                    "[patch.{}] {} ({})",
                    patch.registry, patch.name, patch.site.file
                ),
            ));
        }
    }
    if let Some(home) = graywork_workspace::cargo_home() {
        let prefix = format!("{name}-");
        for kind in ["cache", "src"] {
            for registry in std::fs::read_dir(home.join("registry").join(kind))
                .into_iter()
                .flatten()
                .flatten()
            {
                for entry in std::fs::read_dir(registry.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    let file = entry.file_name();
                    let file = file.to_string_lossy();
                    let stem = file.strip_suffix(".crate").unwrap_or(&file);
                    let Some(version) = stem
                        .strip_prefix(&prefix)
                        .and_then(|text| semver::Version::parse(text).ok())
                    else {
                        continue;
                    };
                    if !found.iter().any(|(known, _)| *known == version) {
                        found.push((version, "cargo's registry cache".to_owned()));
                    }
                }
            }
        }
    }
    found.sort();
    found
}
