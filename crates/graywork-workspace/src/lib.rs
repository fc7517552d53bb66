//! Loading a target workspace: `cargo metadata` or a saved metadata file, its members, and
//! each member's `[package.metadata.contracts]` and `[package.metadata.migrations]` tables.
//!
//! [`Workspace::load`] is the one entry point every command uses. It runs `cargo metadata`
//! once (through the `cargo_metadata` crate) or reads a saved metadata JSON file, keeps only the
//! workspace members, resolves which of their dependencies point at other members, and parses and
//! validates each member's contract and migration metadata as `docs/contracts.md` specifies.
//!
//! A dependency points at a member when its `path` is that member's directory, when the full
//! resolve says so, or, in `--no-deps` metadata, when a registry or git dependency carries a
//! member's name (workspaces such as tokio redirect those to members with `[patch]`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use cargo_metadata::camino::{Utf8Path, Utf8PathBuf};
use semver::{Version, VersionReq};
use serde_json::Value;

pub mod features;
mod git;
mod runner;

pub use git::git;
pub use runner::Runner;

/// Where a workspace's metadata comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Run `cargo metadata` once.
    Cargo(CargoOptions),
    /// Read the JSON that `cargo metadata --format-version 1` printed earlier.
    MetadataFile(PathBuf),
}

/// How to run `cargo metadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CargoOptions {
    /// The workspace's `Cargo.toml`; the current directory's workspace when `None`.
    pub manifest_path: Option<PathBuf>,
    /// Whether to resolve the whole dependency graph or read only the members' manifests.
    pub resolve: ResolveMode,
    /// Pass `--offline`, so cargo never touches the network.
    pub offline: bool,
}

/// Whether `cargo metadata` resolves dependencies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ResolveMode {
    /// `cargo metadata --no-deps`: members' manifests only. Fast, and enough to order members.
    #[default]
    NoDeps,
    /// The full resolve: exact about which registry dependency is really a member.
    Full,
}

/// A loaded workspace: its root and its members, in the order cargo lists them.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The directory holding the workspace's root `Cargo.toml`.
    pub root: Utf8PathBuf,
    /// Every workspace member.
    pub members: Vec<Member>,
    /// Whether the metadata carried a full dependency resolve (it did not with `--no-deps`).
    pub resolved: bool,
    index: HashMap<String, usize>,
}

/// One workspace member.
#[derive(Debug, Clone)]
pub struct Member {
    /// The package name.
    pub name: String,
    /// The package version.
    pub version: Version,
    /// The absolute path of its `Cargo.toml`.
    pub manifest_path: Utf8PathBuf,
    /// Its edition, for example `2024`.
    pub edition: String,
    /// Its `rust-version`, when it declares one.
    pub rust_version: Option<Version>,
    /// Its `[features]` table: feature name to what it enables.
    pub features: BTreeMap<String, Vec<String>>,
    /// Every dependency it declares, in manifest order.
    pub dependencies: Vec<MemberDependency>,
    /// Its validated `[package.metadata.contracts]` table.
    pub contracts: ContractMeta,
    /// Its validated `[package.metadata.migrations]` table.
    pub migrations: MigrationMeta,
}

/// One dependency as a member's manifest declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDependency {
    /// The package name of the dependency (not the rename).
    pub name: String,
    /// The name the member uses for it (`package = ...` renames), when different.
    pub rename: Option<String>,
    /// The version requirement.
    pub req: VersionReq,
    /// Normal, build or dev.
    pub kind: DepKind,
    /// The `cfg(...)` or target triple it is limited to, when target-specific.
    pub target: Option<String>,
    /// Whether it is an optional dependency.
    pub optional: bool,
    /// Whether default features are on.
    pub uses_default_features: bool,
    /// The features it turns on.
    pub features: Vec<String>,
    /// The directory of a path dependency.
    pub path: Option<Utf8PathBuf>,
    /// The index (into [`Workspace::members`]) of the member it points at, if any.
    pub member: Option<usize>,
    /// Whether `member` was found by name alone: a registry or git dependency in `--no-deps`
    /// metadata, taken to be the member it is named after (workspaces redirect such
    /// dependencies to members with `[patch]`).
    pub matched_by_name: bool,
}

/// The kind of a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DepKind {
    /// `[dependencies]`.
    Normal,
    /// `[build-dependencies]`.
    Build,
    /// `[dev-dependencies]`.
    Dev,
}

impl DepKind {
    /// The name cargo uses: `normal`, `build` or `dev`.
    pub fn as_str(self) -> &'static str {
        match self {
            DepKind::Normal => "normal",
            DepKind::Build => "build",
            DepKind::Dev => "dev",
        }
    }

    /// Whether this kind orders upgrade stages (normal and build do; dev does not).
    pub fn orders(self) -> bool {
        !matches!(self, DepKind::Dev)
    }
}

impl fmt::Display for DepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A member's `[package.metadata.contracts]` table, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractMeta {
    /// Contracts this crate defines (the contract crate only).
    pub defines: Vec<String>,
    /// Contract name to the semver ranges the crate needs (one per major it consumes).
    pub requires: BTreeMap<String, Vec<VersionReq>>,
    /// Contract name to major to the cargo feature that compiles its implementation.
    pub provides: BTreeMap<String, BTreeMap<u64, String>>,
    /// Contracts whose major the crate chooses per request through gray rules.
    pub gray: Vec<String>,
}

impl ContractMeta {
    /// The feature that compiles this crate's implementation of `contract` v`major`: the one
    /// declared under `provides`, or `vMAJOR` by convention when none is.
    pub fn provider_feature(&self, contract: &str, major: u64) -> String {
        self.provides
            .get(contract)
            .and_then(|majors| majors.get(&major))
            .cloned()
            .unwrap_or_else(|| format!("v{major}"))
    }

    /// Whether the table is empty (the crate takes no part in any contract).
    pub fn is_empty(&self) -> bool {
        self.defines.is_empty()
            && self.requires.is_empty()
            && self.provides.is_empty()
            && self.gray.is_empty()
    }

    /// Parses and validates one member's table against its `[features]`.
    ///
    /// `metadata` is the package's whole `package.metadata` value (`null` when absent).
    /// Cross-crate rules (every named contract is defined somewhere) are checked by
    /// [`Workspace::from_metadata`], which sees every member.
    pub fn parse(
        metadata: &Value,
        features: &BTreeMap<String, Vec<String>>,
    ) -> Result<ContractMeta, Vec<ContractMetaError>> {
        let (meta, errors) = ContractMeta::parse_lenient(metadata, features);
        if errors.is_empty() {
            Ok(meta)
        } else {
            Err(errors)
        }
    }

    /// Like [`ContractMeta::parse`], but also returns what parsed well beside the errors, so
    /// cross-crate checks can still run on it.
    fn parse_lenient(
        metadata: &Value,
        features: &BTreeMap<String, Vec<String>>,
    ) -> (ContractMeta, Vec<ContractMetaError>) {
        let mut errors = Vec::new();
        let mut meta = ContractMeta::default();
        let table = match metadata.get("contracts") {
            None | Some(Value::Null) => return (meta, errors),
            Some(Value::Object(table)) => table,
            Some(other) => {
                errors.push(ContractMetaError::at(
                    "",
                    format!("expected a table, found {}", json_kind(other)),
                ));
                return (meta, errors);
            }
        };
        for (key, value) in table {
            match key.as_str() {
                "defines" => meta.defines = parse_names(key, value, &mut errors),
                "gray" => meta.gray = parse_names(key, value, &mut errors),
                "requires" => parse_requires(value, &mut meta, &mut errors),
                "provides" => parse_provides(value, features, &mut meta, &mut errors),
                _ => errors.push(ContractMetaError::at(
                    key,
                    "unknown key (expected one of defines, requires, provides, gray)",
                )),
            }
        }
        for name in &meta.gray {
            if !meta.requires.contains_key(name) {
                errors.push(ContractMetaError::at(
                    "gray",
                    format!("contract `{name}` is not in `requires`"),
                ));
            }
        }
        (meta, errors)
    }

    /// Every contract the table names, under any key, with the key that names it.
    pub fn named_contracts(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let defines = self.defines.iter().map(|name| ("defines", name.as_str()));
        let requires = self.requires.keys().map(|name| ("requires", name.as_str()));
        let provides = self.provides.keys().map(|name| ("provides", name.as_str()));
        let gray = self.gray.iter().map(|name| ("gray", name.as_str()));
        defines.chain(requires).chain(provides).chain(gray)
    }
}

/// A member's `[package.metadata.migrations]` table, validated: the schema migrations that go
/// with a contract's major upgrade (a store crate declares them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationMeta {
    /// Contract name to major to the migrations that go with moving to that major.
    pub contracts: BTreeMap<String, BTreeMap<u64, MajorMigrations>>,
}

/// The schema migrations that go with one major of one contract.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MajorMigrations {
    /// The expand migration: adds what the new major needs, which the old major ignores.
    pub expand: Option<String>,
    /// The contract migration: drops what only the old major used.
    pub contract: Option<String>,
}

impl MigrationMeta {
    /// Whether the table is empty (the crate declares no migrations).
    pub fn is_empty(&self) -> bool {
        self.contracts.is_empty()
    }

    /// The migrations declared for `contract` at `major`, if any.
    pub fn for_major(&self, contract: &str, major: u64) -> Option<&MajorMigrations> {
        self.contracts.get(contract)?.get(&major)
    }

    /// Parses and validates one member's table.
    ///
    /// `metadata` is the package's whole `package.metadata` value (`null` when absent).
    /// Whether each named contract is defined somewhere is checked by
    /// [`Workspace::from_metadata`], which sees every member.
    pub fn parse(metadata: &Value) -> Result<MigrationMeta, Vec<ContractMetaError>> {
        let (meta, errors) = MigrationMeta::parse_lenient(metadata);
        if errors.is_empty() {
            Ok(meta)
        } else {
            Err(errors)
        }
    }

    fn parse_lenient(metadata: &Value) -> (MigrationMeta, Vec<ContractMetaError>) {
        const TABLE: &str = "migrations";
        let mut errors = Vec::new();
        let mut meta = MigrationMeta::default();
        let table = match metadata.get(TABLE) {
            None | Some(Value::Null) => return (meta, errors),
            Some(Value::Object(table)) => table,
            Some(other) => {
                errors.push(ContractMetaError::in_table(
                    TABLE,
                    "",
                    format!("expected a table, found {}", json_kind(other)),
                ));
                return (meta, errors);
            }
        };
        for (name, majors) in table {
            if !is_contract_name(name) {
                errors.push(ContractMetaError::in_table(
                    TABLE,
                    name,
                    format!(
                        "`{name}` is not a contract name (lowercase letters, digits, `_`, `-`)"
                    ),
                ));
                continue;
            }
            let Value::Object(majors) = majors else {
                errors.push(ContractMetaError::in_table(
                    TABLE,
                    name,
                    format!(
                        "expected a table of major to {{ expand, contract }}, found {}",
                        json_kind(majors)
                    ),
                ));
                continue;
            };
            let mut parsed = BTreeMap::new();
            for (major_text, steps) in majors {
                let major_key = format!("{name}.{major_text}");
                let Some(major) = parse_major(major_text) else {
                    errors.push(ContractMetaError::in_table(
                        TABLE,
                        &major_key,
                        format!("`{major_text}` is not a major version (expected `v1`, `v2`, ...)"),
                    ));
                    continue;
                };
                let Value::Object(steps) = steps else {
                    errors.push(ContractMetaError::in_table(
                        TABLE,
                        &major_key,
                        format!(
                            "expected a table with `expand`, `contract` or both, found {}",
                            json_kind(steps)
                        ),
                    ));
                    continue;
                };
                let mut migrations = MajorMigrations::default();
                for (step, value) in steps {
                    let step_key = format!("{major_key}.{step}");
                    let slot = match step.as_str() {
                        "expand" => &mut migrations.expand,
                        "contract" => &mut migrations.contract,
                        _ => {
                            errors.push(ContractMetaError::in_table(
                                TABLE,
                                &step_key,
                                "unknown key (expected one of expand, contract)",
                            ));
                            continue;
                        }
                    };
                    match value.as_str() {
                        Some(migration) if is_contract_name(migration) => {
                            *slot = Some(migration.to_owned());
                        }
                        Some(migration) => errors.push(ContractMetaError::in_table(
                            TABLE,
                            &step_key,
                            format!(
                                "`{migration}` is not a migration name (lowercase letters, digits, `_`, `-`)"
                            ),
                        )),
                        None => errors.push(ContractMetaError::in_table(
                            TABLE,
                            &step_key,
                            format!("expected a migration name, found {}", json_kind(value)),
                        )),
                    }
                }
                if steps.is_empty() {
                    errors.push(ContractMetaError::in_table(
                        TABLE,
                        &major_key,
                        "expected `expand`, `contract` or both",
                    ));
                    continue;
                }
                parsed.insert(major, migrations);
            }
            meta.contracts.insert(name.clone(), parsed);
        }
        (meta, errors)
    }
}

/// One problem in a member's `[package.metadata.contracts]` table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key_path}: {message}")]
pub struct ContractMetaError {
    /// The key, for example `package.metadata.contracts.provides.billing.v2` or
    /// `package.metadata.migrations.billing.v2.expand`.
    pub key_path: String,
    /// What is wrong with it.
    pub message: String,
}

impl ContractMetaError {
    fn at(key: &str, message: impl Into<String>) -> ContractMetaError {
        ContractMetaError::in_table("contracts", key, message)
    }

    /// A problem at `key` of the `[package.metadata.TABLE]` table.
    fn in_table(table: &str, key: &str, message: impl Into<String>) -> ContractMetaError {
        let key_path = if key.is_empty() {
            format!("package.metadata.{table}")
        } else {
            format!("package.metadata.{table}.{key}")
        };
        ContractMetaError {
            key_path,
            message: message.into(),
        }
    }
}

/// Every contract-metadata problem in a workspace, each naming the crate, its manifest and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid contract metadata:{}", render_problems(.problems))]
pub struct ContractMetaErrors {
    /// The problems, in member order.
    pub problems: Vec<CrateContractMetaError>,
}

/// A contract-metadata problem in one crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateContractMetaError {
    /// The crate.
    pub crate_name: String,
    /// Its `Cargo.toml`, relative to the workspace root when inside it.
    pub manifest: String,
    /// The problem.
    pub error: ContractMetaError,
}

impl fmt::Display for CrateContractMetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "crate `{}` ({}): {}",
            self.crate_name, self.manifest, self.error
        )
    }
}

fn render_problems(problems: &[CrateContractMetaError]) -> String {
    problems
        .iter()
        .map(|problem| format!("\n  {problem}"))
        .collect()
}

impl Workspace {
    /// Loads a workspace from `cargo metadata` or a saved metadata file.
    ///
    /// Errors name the manifest or file (and, for a malformed file, the JSON path), and every
    /// invalid contract-metadata key with its crate and `Cargo.toml`.
    pub fn load(source: &Source) -> anyhow::Result<Workspace> {
        match source {
            Source::Cargo(options) => {
                let metadata = run_cargo_metadata(options)?;
                Ok(Workspace::from_metadata(metadata)?)
            }
            Source::MetadataFile(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read metadata file {}", path.display()))?;
                Workspace::from_json(&text)
                    .with_context(|| format!("invalid metadata file {}", path.display()))
            }
        }
    }

    /// Parses `cargo metadata --format-version 1` output.
    ///
    /// A malformed document's error names the JSON path of the offending value, for example
    /// `packages[2].version`.
    pub fn from_json(text: &str) -> anyhow::Result<Workspace> {
        let metadata = parse_metadata_json(text)?;
        // `cargo metadata` lists every member among the packages; a hand-edited file may not,
        // and a member dropped silently would vanish from every plan.
        let ids: HashSet<&str> = metadata
            .packages
            .iter()
            .map(|p| p.id.repr.as_str())
            .collect();
        if let Some((position, id)) = metadata
            .workspace_members
            .iter()
            .enumerate()
            .find(|(_, id)| !ids.contains(id.repr.as_str()))
        {
            anyhow::bail!(
                "malformed metadata JSON at `workspace_members[{position}]`: `{id}` is not the id of any entry in `packages`"
            );
        }
        Ok(Workspace::from_metadata(metadata)?)
    }

    /// Builds the workspace from parsed metadata, validating every member's contract table.
    pub fn from_metadata(
        metadata: cargo_metadata::Metadata,
    ) -> Result<Workspace, ContractMetaErrors> {
        let cargo_metadata::Metadata {
            packages,
            workspace_members,
            resolve,
            workspace_root,
            ..
        } = metadata;
        let member_ids: HashMap<&str, usize> = workspace_members
            .iter()
            .enumerate()
            .map(|(position, id)| (id.repr.as_str(), position))
            .collect();
        let mut member_packages: Vec<Option<cargo_metadata::Package>> =
            (0..workspace_members.len()).map(|_| None).collect();
        for package in packages {
            if let Some(&position) = member_ids.get(package.id.repr.as_str()) {
                member_packages[position] = Some(package);
            }
        }
        let member_packages: Vec<cargo_metadata::Package> =
            member_packages.into_iter().flatten().collect();

        let index: HashMap<String, usize> = member_packages
            .iter()
            .enumerate()
            .map(|(position, package)| (package.name.to_string(), position))
            .collect();
        let dir_index: HashMap<&Utf8Path, usize> = member_packages
            .iter()
            .enumerate()
            .filter_map(|(position, package)| {
                package.manifest_path.parent().map(|dir| (dir, position))
            })
            .collect();
        // For a full resolve: each member's resolved dependencies on other members.
        let id_to_member: HashMap<&str, usize> = member_packages
            .iter()
            .enumerate()
            .map(|(position, package)| (package.id.repr.as_str(), position))
            .collect();
        let resolved_edges: Option<HashMap<usize, BTreeSet<usize>>> =
            resolve.as_ref().map(|resolve| {
                resolve
                    .nodes
                    .iter()
                    .filter_map(|node| {
                        let from = *id_to_member.get(node.id.repr.as_str())?;
                        let targets = node
                            .deps
                            .iter()
                            .filter_map(|dep| id_to_member.get(dep.pkg.repr.as_str()).copied())
                            .collect();
                        Some((from, targets))
                    })
                    .collect()
            });

        let mut problems = Vec::new();
        let mut members = Vec::with_capacity(member_packages.len());
        for (position, package) in member_packages.iter().enumerate() {
            let dependencies = package
                .dependencies
                .iter()
                .map(|dependency| {
                    let member = dependency_member(
                        dependency,
                        &index,
                        &dir_index,
                        resolved_edges.as_ref().map(|edges| edges.get(&position)),
                    );
                    convert_dependency(dependency, member, resolved_edges.is_some())
                })
                .collect();
            let (contracts, mut errors) =
                ContractMeta::parse_lenient(&package.metadata, &package.features);
            let (migrations, migration_errors) = MigrationMeta::parse_lenient(&package.metadata);
            errors.extend(migration_errors);
            if !errors.is_empty() {
                let manifest = relative_display(&workspace_root, &package.manifest_path);
                problems.extend(errors.into_iter().map(|error| CrateContractMetaError {
                    crate_name: package.name.to_string(),
                    manifest: manifest.clone(),
                    error,
                }));
            }
            members.push(Member {
                name: package.name.to_string(),
                version: package.version.clone(),
                manifest_path: package.manifest_path.clone(),
                edition: package.edition.as_str().to_owned(),
                rust_version: package.rust_version.clone(),
                features: package.features.clone(),
                dependencies,
                contracts,
                migrations,
            });
        }

        validate_contract_names(&workspace_root, &members, &mut problems);
        problems.sort_by(|a, b| a.crate_name.cmp(&b.crate_name));
        if !problems.is_empty() {
            return Err(ContractMetaErrors { problems });
        }
        Ok(Workspace {
            root: workspace_root,
            members,
            resolved: resolve.is_some(),
            index,
        })
    }

    /// The member with this package name.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.member_index(name)
            .map(|position| &self.members[position])
    }

    /// The index into [`Workspace::members`] of the member with this package name.
    pub fn member_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Every member's name, sorted.
    pub fn member_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.members.iter().map(|m| m.name.as_str()).collect();
        names.sort_unstable();
        names
    }

    /// Every contract some member defines, sorted, with the defining member's index.
    pub fn defined_contracts(&self) -> BTreeMap<&str, usize> {
        let mut defined = BTreeMap::new();
        for (position, member) in self.members.iter().enumerate() {
            for name in &member.contracts.defines {
                defined.entry(name.as_str()).or_insert(position);
            }
        }
        defined
    }

    /// A member's manifest path relative to the workspace root (as written in messages).
    pub fn relative_manifest(&self, member: &Member) -> String {
        relative_display(&self.root, &member.manifest_path)
    }
}

impl Member {
    /// The directory holding the member's `Cargo.toml`.
    pub fn manifest_dir(&self) -> &Utf8Path {
        self.manifest_path.parent().unwrap_or(&self.manifest_path)
    }

    /// The name of the dependency on `package` as the member writes it (its rename, if any).
    pub fn dependency_on(&self, package: &str) -> Option<&MemberDependency> {
        self.dependencies.iter().find(|dep| dep.name == package)
    }
}

impl MemberDependency {
    /// The name the member's code uses for the dependency.
    pub fn local_name(&self) -> &str {
        self.rename.as_deref().unwrap_or(&self.name)
    }
}

/// Parses metadata JSON: fast path first, and only on failure a second pass that tracks the
/// JSON path of the offending value.
fn parse_metadata_json(text: &str) -> anyhow::Result<cargo_metadata::Metadata> {
    match serde_json::from_str(text) {
        Ok(metadata) => Ok(metadata),
        Err(_) => {
            let deserializer = &mut serde_json::Deserializer::from_str(text);
            match serde_path_to_error::deserialize::<_, cargo_metadata::Metadata>(deserializer) {
                Ok(metadata) => Ok(metadata),
                Err(error) => {
                    let path = error.path().to_string();
                    let inner = error.into_inner();
                    if path == "." || path == "?" {
                        anyhow::bail!("malformed metadata JSON: {inner}")
                    }
                    anyhow::bail!("malformed metadata JSON at `{path}`: {inner}")
                }
            }
        }
    }
}

fn run_cargo_metadata(options: &CargoOptions) -> anyhow::Result<cargo_metadata::Metadata> {
    if let Some(path) = &options.manifest_path
        && !path.is_file()
    {
        anyhow::bail!(
            "manifest {} does not exist or is not a file",
            path.display()
        );
    }
    let mut command = cargo_metadata::MetadataCommand::new();
    if let Some(path) = &options.manifest_path {
        command.manifest_path(path);
    }
    if options.resolve == ResolveMode::NoDeps {
        command.no_deps();
    }
    if options.offline {
        command.other_options(vec!["--offline".to_owned()]);
    }
    let place = options.manifest_path.as_deref().map_or_else(
        || "the current directory".to_owned(),
        |p| p.display().to_string(),
    );
    command.exec().map_err(|error| match error {
        cargo_metadata::Error::CargoMetadata { stderr } => {
            anyhow::anyhow!("`cargo metadata` failed for {place}: {}", stderr.trim())
        }
        other => anyhow::anyhow!("`cargo metadata` failed for {place}: {other}"),
    })
}

fn dependency_member(
    dependency: &cargo_metadata::Dependency,
    index: &HashMap<String, usize>,
    dir_index: &HashMap<&Utf8Path, usize>,
    resolved: Option<Option<&BTreeSet<usize>>>,
) -> Option<usize> {
    if let Some(path) = &dependency.path {
        // A path dependency is a member exactly when it points at a member's directory.
        return dir_index.get(path.as_path()).copied();
    }
    let candidate = *index.get(&dependency.name)?;
    match resolved {
        // Without a resolve, a registry or git dependency named like a member is taken to be
        // that member: workspaces redirect such dependencies to members with `[patch]`.
        None => Some(candidate),
        Some(targets) => targets
            .is_some_and(|targets| targets.contains(&candidate))
            .then_some(candidate),
    }
}

fn convert_dependency(
    dependency: &cargo_metadata::Dependency,
    member: Option<usize>,
    resolved: bool,
) -> MemberDependency {
    let kind = match dependency.kind {
        cargo_metadata::DependencyKind::Development => DepKind::Dev,
        cargo_metadata::DependencyKind::Build => DepKind::Build,
        // An unknown future kind is treated as normal: ordering too strictly is safe.
        _ => DepKind::Normal,
    };
    MemberDependency {
        name: dependency.name.clone(),
        rename: dependency.rename.clone(),
        req: dependency.req.clone(),
        kind,
        target: dependency.target.as_ref().map(ToString::to_string),
        optional: dependency.optional,
        uses_default_features: dependency.uses_default_features,
        features: dependency.features.clone(),
        path: dependency.path.clone(),
        member,
        matched_by_name: member.is_some() && dependency.path.is_none() && !resolved,
    }
}

fn validate_contract_names(
    root: &Utf8Path,
    members: &[Member],
    problems: &mut Vec<CrateContractMetaError>,
) {
    let mut definers: BTreeMap<&str, &Member> = BTreeMap::new();
    for member in members {
        for name in &member.contracts.defines {
            if let Some(first) = definers.insert(name.as_str(), member)
                && first.name != member.name
            {
                problems.push(CrateContractMetaError {
                    crate_name: member.name.clone(),
                    manifest: relative_display(root, &member.manifest_path),
                    error: ContractMetaError::at(
                        "defines",
                        format!("contract `{name}` is already defined by `{}`", first.name),
                    ),
                });
            }
        }
    }
    let known: Vec<&str> = definers.keys().copied().collect();
    for member in members {
        for (key, name) in member.contracts.named_contracts() {
            if key == "defines" || definers.contains_key(name) {
                continue;
            }
            let known_list = known_list(&known);
            problems.push(CrateContractMetaError {
                crate_name: member.name.clone(),
                manifest: relative_display(root, &member.manifest_path),
                error: ContractMetaError::at(
                    &format!("{key}.{name}"),
                    format!("unknown contract `{name}` ({known_list})"),
                ),
            });
        }
        for name in member.migrations.contracts.keys() {
            if definers.contains_key(name.as_str()) {
                continue;
            }
            problems.push(CrateContractMetaError {
                crate_name: member.name.clone(),
                manifest: relative_display(root, &member.manifest_path),
                error: ContractMetaError::in_table(
                    "migrations",
                    name,
                    format!("unknown contract `{name}` ({})", known_list(&known)),
                ),
            });
        }
    }
}

fn known_list(known: &[&str]) -> String {
    if known.is_empty() {
        "no crate defines any contract".to_owned()
    } else {
        format!("known: {}", known.join(", "))
    }
}

fn parse_names(key: &str, value: &Value, errors: &mut Vec<ContractMetaError>) -> Vec<String> {
    let Value::Array(items) = value else {
        errors.push(ContractMetaError::at(
            key,
            format!(
                "expected an array of contract names, found {}",
                json_kind(value)
            ),
        ));
        return Vec::new();
    };
    let mut names = Vec::new();
    for (position, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(name) if is_contract_name(name) => names.push(name.to_owned()),
            Some(name) => errors.push(ContractMetaError::at(
                &format!("{key}[{position}]"),
                format!("`{name}` is not a contract name (lowercase letters, digits, `_`, `-`)"),
            )),
            None => errors.push(ContractMetaError::at(
                &format!("{key}[{position}]"),
                format!("expected a contract name, found {}", json_kind(item)),
            )),
        }
    }
    names
}

fn parse_requires(value: &Value, meta: &mut ContractMeta, errors: &mut Vec<ContractMetaError>) {
    let Value::Object(table) = value else {
        errors.push(ContractMetaError::at(
            "requires",
            format!(
                "expected a table of contract name to range, found {}",
                json_kind(value)
            ),
        ));
        return;
    };
    for (name, ranges) in table {
        let key = format!("requires.{name}");
        let texts: Vec<(String, &Value)> = match ranges {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(position, item)| (format!("{key}[{position}]"), item))
                .collect(),
            other => vec![(key.clone(), other)],
        };
        if texts.is_empty() {
            errors.push(ContractMetaError::at(&key, "expected at least one range"));
            continue;
        }
        let mut parsed = Vec::new();
        for (item_key, item) in texts {
            let Some(text) = item.as_str() else {
                errors.push(ContractMetaError::at(
                    &item_key,
                    format!("expected a semver range string, found {}", json_kind(item)),
                ));
                continue;
            };
            match VersionReq::parse(text) {
                Ok(req) => parsed.push(req),
                Err(error) => errors.push(ContractMetaError::at(
                    &item_key,
                    format!("bad semver range `{text}`: {error}"),
                )),
            }
        }
        meta.requires.insert(name.clone(), parsed);
    }
}

fn parse_provides(
    value: &Value,
    features: &BTreeMap<String, Vec<String>>,
    meta: &mut ContractMeta,
    errors: &mut Vec<ContractMetaError>,
) {
    let Value::Object(table) = value else {
        errors.push(ContractMetaError::at(
            "provides",
            format!(
                "expected a table of contract name to {{ major = feature }}, found {}",
                json_kind(value)
            ),
        ));
        return;
    };
    for (name, majors) in table {
        let key = format!("provides.{name}");
        let Value::Object(majors) = majors else {
            errors.push(ContractMetaError::at(
                &key,
                format!(
                    "expected a table of major to feature, found {}",
                    json_kind(majors)
                ),
            ));
            continue;
        };
        let mut parsed = BTreeMap::new();
        for (major_text, feature) in majors {
            let major_key = format!("{key}.{major_text}");
            let Some(major) = parse_major(major_text) else {
                errors.push(ContractMetaError::at(
                    &major_key,
                    format!("`{major_text}` is not a major version (expected `v1`, `v2`, ...)"),
                ));
                continue;
            };
            let Some(feature) = feature.as_str() else {
                errors.push(ContractMetaError::at(
                    &major_key,
                    format!("expected a feature name, found {}", json_kind(feature)),
                ));
                continue;
            };
            if !features.contains_key(feature) {
                let known: Vec<&str> = features
                    .keys()
                    .map(String::as_str)
                    .filter(|f| *f != "default")
                    .collect();
                let known = if known.is_empty() {
                    "the crate has no features".to_owned()
                } else {
                    format!("features: {}", known.join(", "))
                };
                errors.push(ContractMetaError::at(
                    &major_key,
                    format!("feature `{feature}` is not in [features] ({known})"),
                ));
                continue;
            }
            parsed.insert(major, feature.to_owned());
        }
        meta.provides.insert(name.clone(), parsed);
    }
}

/// Parses `v1`, `v2`, ...: a `v` and a positive integer without leading zeros.
pub fn parse_major(text: &str) -> Option<u64> {
    let digits = text.strip_prefix('v')?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn is_contract_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

/// `path` relative to `root` when inside it, else as is, with `/` separators.
fn relative_display(root: &Utf8Path, path: &Utf8Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .as_str()
        .replace('\\', "/")
}

/// Converts a std path for use with [`Source`] from a `--manifest-path` argument.
pub fn manifest_source(
    manifest_path: Option<&Path>,
    resolve: ResolveMode,
    offline: bool,
) -> Source {
    Source::Cargo(CargoOptions {
        manifest_path: manifest_path.map(Path::to_path_buf),
        resolve,
        offline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn features(names: &[&str]) -> BTreeMap<String, Vec<String>> {
        names
            .iter()
            .map(|n| ((*n).to_owned(), Vec::new()))
            .collect()
    }

    fn errors(metadata: Value, feats: &[&str]) -> Vec<String> {
        match ContractMeta::parse(&metadata, &features(feats)) {
            Ok(meta) => panic!("expected errors, parsed {meta:?}"),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn parses_every_key() {
        let metadata = json!({"contracts": {
            "requires": {"billing": ["^1.2", "^2.0"], "auth": "1"},
            "provides": {"billing": {"v1": "v1", "v2": "v2"}},
            "gray": ["billing"],
        }});
        let meta = ContractMeta::parse(&metadata, &features(&["v1", "v2"])).unwrap();
        assert_eq!(meta.requires["billing"].len(), 2);
        assert_eq!(meta.requires["auth"][0], VersionReq::parse("1").unwrap());
        assert_eq!(meta.provides["billing"][&2], "v2");
        assert_eq!(meta.gray, vec!["billing".to_owned()]);
        assert!(!meta.is_empty());
    }

    #[test]
    fn absent_table_is_empty() {
        let meta = ContractMeta::parse(&Value::Null, &BTreeMap::new()).unwrap();
        assert!(meta.is_empty());
        let meta = ContractMeta::parse(&json!({"other": 1}), &BTreeMap::new()).unwrap();
        assert!(meta.is_empty());
    }

    #[test]
    fn rejects_unknown_key_bad_range_and_missing_feature() {
        let found = errors(
            json!({"contracts": {
                "provide": [],
                "requires": {"billing": "^^1"},
                "provides": {"billing": {"v2": "v2", "two": "v1", "v3": 3}},
            }}),
            &["v1"],
        );
        assert_eq!(
            found,
            vec![
                "package.metadata.contracts.provide: unknown key (expected one of defines, requires, provides, gray)",
                "package.metadata.contracts.provides.billing.two: `two` is not a major version (expected `v1`, `v2`, ...)",
                "package.metadata.contracts.provides.billing.v2: feature `v2` is not in [features] (features: v1)",
                "package.metadata.contracts.provides.billing.v3: expected a feature name, found a number",
                "package.metadata.contracts.requires.billing: bad semver range `^^1`: unexpected character '^' while parsing major version number",
            ]
        );
    }

    #[test]
    fn rejects_wrong_shapes() {
        let found = errors(
            json!({"contracts": {
                "defines": "billing",
                "gray": ["Billing", 3],
                "requires": {"billing": [1], "auth": []},
                "provides": {"billing": "v1"},
            }}),
            &[],
        );
        assert_eq!(
            found,
            vec![
                "package.metadata.contracts.defines: expected an array of contract names, found a string",
                "package.metadata.contracts.gray[0]: `Billing` is not a contract name (lowercase letters, digits, `_`, `-`)",
                "package.metadata.contracts.gray[1]: expected a contract name, found a number",
                "package.metadata.contracts.provides.billing: expected a table of major to feature, found a string",
                "package.metadata.contracts.requires.auth: expected at least one range",
                "package.metadata.contracts.requires.billing[0]: expected a semver range string, found a number",
            ]
        );
        let found = errors(json!({"contracts": 1}), &[]);
        assert_eq!(
            found,
            vec!["package.metadata.contracts: expected a table, found a number"]
        );
        let found = errors(json!({"contracts": {"requires": 1, "provides": []}}), &[]);
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn gray_contract_must_be_required() {
        let found = errors(json!({"contracts": {"gray": ["billing"]}}), &[]);
        assert_eq!(
            found,
            vec!["package.metadata.contracts.gray: contract `billing` is not in `requires`"]
        );
    }

    #[test]
    fn parses_migrations() {
        let metadata = json!({"migrations": {
            "billing": {"v2": {"expand": "billing_v2_expand", "contract": "billing_v2_contract"},
                        "v3": {"expand": "billing_v3_expand"}},
        }});
        let meta = MigrationMeta::parse(&metadata).unwrap();
        let v2 = meta.for_major("billing", 2).unwrap();
        assert_eq!(v2.expand.as_deref(), Some("billing_v2_expand"));
        assert_eq!(v2.contract.as_deref(), Some("billing_v2_contract"));
        assert_eq!(meta.for_major("billing", 3).unwrap().contract, None);
        assert_eq!(meta.for_major("billing", 1), None);
        assert_eq!(meta.for_major("auth", 2), None);
        assert!(!meta.is_empty());
        assert!(MigrationMeta::parse(&Value::Null).unwrap().is_empty());
        assert!(
            MigrationMeta::parse(&json!({"contracts": {}}))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn rejects_bad_migrations() {
        let found = |metadata: Value| -> Vec<String> {
            match MigrationMeta::parse(&metadata) {
                Ok(meta) => panic!("expected errors, parsed {meta:?}"),
                Err(errors) => errors.iter().map(ToString::to_string).collect(),
            }
        };
        assert_eq!(
            found(json!({"migrations": {
                "Billing": {},
                "auth": "v2",
                "billing": {
                    "2": {"expand": "a"},
                    "v2": {"expand": "Up", "contract": 3, "down": "x"},
                    "v3": {},
                    "v4": "b",
                },
            }})),
            vec![
                "package.metadata.migrations.Billing: `Billing` is not a contract name (lowercase letters, digits, `_`, `-`)",
                "package.metadata.migrations.auth: expected a table of major to { expand, contract }, found a string",
                "package.metadata.migrations.billing.2: `2` is not a major version (expected `v1`, `v2`, ...)",
                "package.metadata.migrations.billing.v2.contract: expected a migration name, found a number",
                "package.metadata.migrations.billing.v2.down: unknown key (expected one of expand, contract)",
                "package.metadata.migrations.billing.v2.expand: `Up` is not a migration name (lowercase letters, digits, `_`, `-`)",
                "package.metadata.migrations.billing.v3: expected `expand`, `contract` or both",
                "package.metadata.migrations.billing.v4: expected a table with `expand`, `contract` or both, found a string",
            ]
        );
        assert_eq!(
            found(json!({"migrations": ["billing"]})),
            vec!["package.metadata.migrations: expected a table, found an array"]
        );
    }

    #[test]
    fn parses_majors() {
        assert_eq!(parse_major("v1"), Some(1));
        assert_eq!(parse_major("v12"), Some(12));
        for bad in ["v0", "v01", "1", "v", "v1.0", "V1", "v-1"] {
            assert_eq!(parse_major(bad), None, "{bad}");
        }
    }

    #[test]
    fn malformed_json_names_the_path() {
        let error = Workspace::from_json(
            r#"{"packages": [{"name": 3}], "workspace_members": [], "workspace_root": "/w",
                "target_directory": "/w/target", "version": 1}"#,
        )
        .unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("packages[0].name"), "{message}");
        let error = Workspace::from_json(
            r#"{"packages": [], "workspace_members": ["ghost 0.1.0 (path+file:///w/ghost)"],
                "workspace_root": "/w", "target_directory": "/w/target", "version": 1}"#,
        )
        .unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            "malformed metadata JSON at `workspace_members[0]`: \
             `ghost 0.1.0 (path+file:///w/ghost)` is not the id of any entry in `packages`"
        );
        let error = Workspace::from_json("{").unwrap_err();
        assert!(
            format!("{error:#}").starts_with("malformed metadata JSON: EOF"),
            "{error:#}"
        );
    }
}
