//! Loading a workspace: one `cargo metadata` call or a saved metadata file, reduced to the
//! members, with each dependency that points at another member resolved to it.
//!
//! A dependency points at a member when its `path` is that member's directory, when the full
//! resolve says so, or, in `--no-deps` metadata, when a registry or git dependency carries a
//! member's name (workspaces such as tokio redirect those to members with `[patch]`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use cargo_metadata::camino::Utf8Path;

use crate::declarations::Declarations;
use crate::manifests::ReadAhead;
use crate::metadata::{
    ContractMetaError, ContractMetaErrors, CrateContractMetaError, PackageMetadata,
};
use crate::model::{DepKind, Member, MemberDependency, Workspace};
use crate::paths::relative_display;

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

impl Workspace {
    /// Loads a workspace from `cargo metadata` or a saved metadata file.
    ///
    /// Errors name the manifest or file (and, for a malformed file, the JSON path), and every
    /// invalid contract-metadata key with its crate and `Cargo.toml`.
    pub fn load(source: &Source) -> anyhow::Result<Workspace> {
        let mut ahead = ReadAhead::default();
        let mut workspace = match source {
            Source::Cargo(options) => {
                // The manifests the root lists are read while cargo runs; cargo's answer
                // decides which of them are used.
                let (metadata, read_ahead) = std::thread::scope(|scope| {
                    let read_ahead = scope.spawn(|| {
                        crate::guess_members(options.manifest_path.as_deref())
                            .map(|(root, dirs)| ReadAhead::read(&root, &dirs))
                            .unwrap_or_default()
                    });
                    let metadata = run_cargo_metadata(options);
                    let read_ahead = read_ahead
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    (metadata, read_ahead)
                });
                ahead = read_ahead;
                let (metadata, notice) = metadata?;
                let mut workspace = Workspace::from_metadata(metadata)?;
                workspace.notices.extend(notice);
                workspace
            }
            Source::MetadataFile(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read metadata file {}", path.display()))?;
                Workspace::from_json(&text)
                    .with_context(|| format!("invalid metadata file {}", path.display()))?
            }
        };
        workspace.read_manifests_with(&mut ahead)?;
        Ok(workspace)
    }

    /// Reads where each member's settings are declared from the manifests on disk, and keeps a
    /// registry dependency named like a member as an edge to it only where the root's
    /// `[patch]` redirects it to that member's directory (or, with a full resolve, where the
    /// resolve says so). A tree that is not on disk (saved metadata from elsewhere) keeps what
    /// the metadata says.
    pub fn read_manifests(&mut self) -> anyhow::Result<()> {
        self.read_manifests_with(&mut ReadAhead::default())
    }

    /// [`Workspace::read_manifests`], taking the manifests `ahead` holds.
    fn read_manifests_with(&mut self, ahead: &mut ReadAhead) -> anyhow::Result<()> {
        if !self.root.join("Cargo.toml").is_file() {
            return Ok(());
        }
        self.declarations = Declarations::read_with(&self.root, &self.members, ahead)?;
        let dirs: Vec<cargo_metadata::camino::Utf8PathBuf> = self
            .members
            .iter()
            .map(|member| member.manifest_dir().to_owned())
            .collect();
        for member in &mut self.members {
            for dependency in &mut member.dependencies {
                let Some(target) = dependency.member.filter(|_| dependency.matched_by_name) else {
                    continue;
                };
                if self
                    .declarations
                    .patch_to(&dependency.name, &dirs[target])
                    .is_none()
                {
                    dependency.member = None;
                    dependency.matched_by_name = false;
                }
            }
        }
        Ok(())
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
            target_directory,
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
            let schema = PackageMetadata::from_value(&package.metadata);
            let (contracts, mut errors) = schema.contracts(&package.features);
            let (migrations, migration_errors) = schema.migrations();
            errors.extend(migration_errors);
            let (rollout, rollout_errors) = schema.rollout(&contracts);
            errors.extend(rollout_errors);
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
                rollout,
            });
        }

        validate_contract_names(&workspace_root, &members, &mut problems);
        problems.sort_by(|a, b| a.crate_name.cmp(&b.crate_name));
        if !problems.is_empty() {
            return Err(ContractMetaErrors { problems });
        }
        Ok(Workspace {
            notices: Vec::new(),
            declarations: Declarations::from_metadata(&workspace_root, &members),
            root: workspace_root,
            target_dir: target_directory,
            members,
            resolved: resolve.is_some(),
            index,
        })
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

/// Runs `cargo metadata`; returns the metadata and a notice when cargo had to run on another
/// toolchain than the workspace pins.
/// Runs `cargo metadata` and returns its answer as soon as cargo has written it: cargo's own
/// teardown (a few milliseconds of unmapping memory) then overlaps this process's work, and a
/// thread reaps it. Output without metadata waits for cargo and reports its stderr, as
/// `MetadataCommand::exec` does.
fn exec_metadata(
    command: &cargo_metadata::MetadataCommand,
) -> Result<cargo_metadata::Metadata, cargo_metadata::Error> {
    use std::io::{BufRead as _, BufReader, Read as _};
    use std::process::Stdio;

    let mut process = command.cargo_command();
    process
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = process.spawn()?;
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(cargo_metadata::Error::NoJson);
    };
    let stderr_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });
    // The metadata is the line that starts with `{`; cargo writes it at the end of its run.
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    let mut parse_error = None;
    loop {
        line.clear();
        match stdout.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line.starts_with('{') => {
                match cargo_metadata::MetadataCommand::parse(&line) {
                    Ok(metadata) => {
                        std::thread::spawn(move || {
                            drop(stdout);
                            let _ = child.wait();
                            let _ = stderr_reader.join();
                        });
                        return Ok(metadata);
                    }
                    Err(error) => parse_error = Some(error),
                }
                break;
            }
            Ok(_) => {}
        }
    }
    drop(stdout);
    let status = child.wait()?;
    let stderr = String::from_utf8(stderr_reader.join().unwrap_or_default())?;
    if !status.success() {
        return Err(cargo_metadata::Error::CargoMetadata { stderr });
    }
    Err(parse_error.unwrap_or(cargo_metadata::Error::NoJson))
}

fn run_cargo_metadata(
    options: &CargoOptions,
) -> anyhow::Result<(cargo_metadata::Metadata, Option<String>)> {
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
    let mut other = Vec::new();
    if options.resolve == ResolveMode::NoDeps {
        command.no_deps();
    } else if let Some(host) = host_triple() {
        // The full resolve for every platform downloads crates no build here needs (and fails
        // offline): resolve for the host, as a build would.
        other.extend(["--filter-platform".to_owned(), host]);
    }
    if options.offline {
        other.push("--offline".to_owned());
    }
    command.other_options(other);
    let place = options.manifest_path.as_deref().map_or_else(
        || "the current directory".to_owned(),
        |p| p.display().to_string(),
    );
    let failed = |error: cargo_metadata::Error| match error {
        cargo_metadata::Error::CargoMetadata { stderr } => {
            anyhow::anyhow!("`cargo metadata` failed for {place}: {}", stderr.trim())
        }
        other => anyhow::anyhow!("`cargo metadata` failed for {place}: {other}"),
    };
    match exec_metadata(&command) {
        Ok(metadata) => Ok((metadata, None)),
        // A workspace pinned to a toolchain this machine lacks (a dated nightly): reading
        // manifests does not need it, so cargo runs on the installed default instead.
        Err(cargo_metadata::Error::CargoMetadata { stderr })
            if stderr.contains("is not installed") =>
        {
            let Some(installed) = installed_toolchain() else {
                return Err(failed(cargo_metadata::Error::CargoMetadata { stderr }));
            };
            command.env("RUSTUP_TOOLCHAIN", &installed);
            let metadata = exec_metadata(&command).map_err(failed)?;
            // rustup's own line (`toolchain '…' is not installed`), not cargo's first one,
            // which may only say that the `rustc -vV` it ran failed.
            let pinned = stderr
                .lines()
                .find(|line| line.contains("is not installed"))
                .unwrap_or_default()
                .trim()
                .trim_start_matches("error: ")
                .to_owned();
            Ok((
                metadata,
                Some(format!(
                    "{pinned}: read the workspace with the installed {installed} instead"
                )),
            ))
        }
        Err(error) => Err(failed(error)),
    }
}

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> Option<String> {
    let output = std::process::Command::new(crate::rustc_program())
        .arg("-vV")
        .output()
        .ok()?;
    String::from_utf8(output.stdout)
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
}

/// The toolchain to fall back to: the one running this tool, or rustup's default.
fn installed_toolchain() -> Option<String> {
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN")
        && !toolchain.is_empty()
    {
        return Some(toolchain);
    }
    let output = std::process::Command::new("rustup")
        .arg("default")
        .output()
        .ok()?;
    String::from_utf8(output.stdout)
        .ok()?
        .split_whitespace()
        .next()
        .map(str::to_owned)
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
