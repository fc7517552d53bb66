//! The workspace model: a loaded workspace, its members and the dependencies they declare.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use cargo_metadata::camino::{Utf8Path, Utf8PathBuf};
use semver::{Version, VersionReq};

use crate::declarations::Declarations;
use crate::metadata::{ContractMeta, MigrationMeta, RolloutMeta};
use crate::paths::relative_display;

/// A loaded workspace: its root and its members, in the order cargo lists them.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The directory holding the workspace's root `Cargo.toml`.
    pub root: Utf8PathBuf,
    /// The build directory cargo uses for it (`target/`, or what config or the environment
    /// sets).
    pub target_dir: Utf8PathBuf,
    /// Every workspace member.
    pub members: Vec<Member>,
    /// Whether the metadata carried a full dependency resolve (it did not with `--no-deps`).
    pub resolved: bool,
    /// Where each member's settings are declared (member manifest or inherited from the root),
    /// the root's `[patch]` entries and the toolchain pin.
    pub declarations: Declarations,
    /// Things loading had to work around, to tell the user once (a pinned toolchain that is
    /// not installed).
    pub notices: Vec<String>,
    pub(crate) index: HashMap<String, usize>,
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
    /// Its validated `[package.metadata.rollout]` table.
    pub rollout: RolloutMeta,
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

/// How a requirement of one comparator writes its operator before the version: `=` (exact),
/// `~` (tilde), `^` (a caret written out) or nothing (cargo's caret); `None` for a wildcard, a
/// range, several comparators or text that is no requirement, whose form a new version cannot
/// keep. Edits that move a requirement to a new version write it the same way.
pub fn requirement_operator(written: &str) -> Option<&'static str> {
    let req = VersionReq::parse(written).ok()?;
    let [comparator] = req.comparators.as_slice() else {
        return None;
    };
    match comparator.op {
        semver::Op::Exact => Some("="),
        semver::Op::Tilde => Some("~"),
        semver::Op::Caret if written.trim_start().starts_with('^') => Some("^"),
        semver::Op::Caret => Some(""),
        _ => None,
    }
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

impl Workspace {
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

#[cfg(test)]
mod tests {
    use super::requirement_operator;

    #[test]
    fn a_requirement_of_one_comparator_names_its_operator() {
        for (written, operator) in [
            ("=0.1.12", Some("=")),
            ("~1.4", Some("~")),
            ("^1.2", Some("^")),
            (" ^1.2", Some("^")),
            ("1.2", Some("")),
            ("1.*", None),
            ("*", None),
            (">=1.2, <2", None),
            (">=1.2", None),
            ("not a requirement", None),
        ] {
            assert_eq!(requirement_operator(written), operator, "{written}");
        }
    }
}
