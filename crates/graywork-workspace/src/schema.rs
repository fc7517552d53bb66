//! The typed plan schema every tool shares: a stage of an upgrade plan, its changes
//! (machine-readable manifest edits and changes for people), its gate commands, status and
//! rollout steps. `upgrade-plan` builds whole plans of these; `outdated --plan` builds its
//! compatible-updates stage of the same types, so one `--apply` carries out both.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One command of a stage's gate: cargo, under a toolchain when the goal moves it, with its
/// arguments. JSON writes it as the command line (`cargo +1.96 test --workspace`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// The toolchain (`cargo +TOOLCHAIN …`), when the gate runs under the goal's toolchain.
    pub toolchain: Option<String>,
    /// The cargo subcommand and its arguments, for example `test`, `-p`, `app`.
    pub args: Vec<String>,
}

impl Gate {
    /// Reads a command line written `cargo [+TOOLCHAIN] ARGS…` (arguments never hold spaces).
    pub fn parse(line: &str) -> Option<Gate> {
        let mut words = line.split_whitespace();
        if words.next()? != "cargo" {
            return None;
        }
        let mut words = words.peekable();
        let toolchain = words
            .next_if(|word| word.starts_with('+'))
            .map(|word| word[1..].to_owned());
        Some(Gate {
            toolchain,
            args: words.map(str::to_owned).collect(),
        })
    }

    /// The cargo subcommand (`test`, `clippy`, `build`, a tool's `xtask`).
    pub fn subcommand(&self) -> Option<&str> {
        self.args.first().map(String::as_str)
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cargo")?;
        if let Some(toolchain) = &self.toolchain {
            write!(f, " +{toolchain}")?;
        }
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        Ok(())
    }
}

impl Serialize for Gate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Gate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Gate, D::Error> {
        let line = String::deserialize(deserializer)?;
        Gate::parse(&line)
            .ok_or_else(|| serde::de::Error::custom(format!("not a cargo command: `{line}`")))
    }
}

/// One stage: crates that change together once every earlier stage is done.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stage {
    /// 1-based position in the plan.
    pub index: usize,
    /// A short title.
    pub name: String,
    /// The step of the goal it belongs to.
    pub phase: Phase,
    /// The package names that change in this stage, sorted.
    pub crates: Vec<String>,
    /// What to change, per crate (`crate` is `null` for a change outside any crate).
    pub changes: Vec<Change>,
    /// The crates outside `crates` and `dependents` whose tests join the gate because they
    /// dev-depend on one of those: their test builds include what the stage changes.
    pub dev_dependents: Vec<String>,
    /// The crates outside `crates` whose tests join the gate because they depend on one of
    /// `crates` through normal or build dependencies, directly or not, whatever stage they
    /// move in: their builds include what the stage changes.
    pub dependents: Vec<String>,
    /// The gate: exact commands that must pass before the next stage starts.
    pub gates: Vec<Gate>,
    /// How to undo this stage, and the point it returns to.
    pub rollback: String,
    /// `done`, `in-progress` or `pending`, judged from the current tree.
    pub status: Status,
    /// Gray rollout steps, for changes switched at run time; empty otherwise.
    pub rollout: Vec<RolloutStep>,
}

/// The step of a goal a stage belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// A contract's new major, or a dependency's second entry, added beside the old one.
    Expand,
    /// Providers implement a contract's new major.
    Provide,
    /// Consumers or users move to the new major or entry.
    Migrate,
    /// The old major or entry goes.
    Retire,
    /// A member's version moves (with its direct dependents when breaking).
    Bump,
    /// A dependency's requirements move.
    Upgrade,
    /// The toolchain pin moves.
    Toolchain,
    /// Members move to an edition.
    Edition,
}

impl Phase {
    /// The name the outputs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Expand => "expand",
            Phase::Provide => "provide",
            Phase::Migrate => "migrate",
            Phase::Retire => "retire",
            Phase::Bump => "bump",
            Phase::Upgrade => "upgrade",
            Phase::Toolchain => "toolchain",
            Phase::Edition => "edition",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change: a manifest edit (with its file, line, TOML path, from and to) that
/// `--apply` can make, or a code change listed for people.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Change {
    /// The package name, or `None` for a change outside any one crate (a shared declaration
    /// in the root manifest, the toolchain pin, config).
    #[serde(rename = "crate")]
    pub crate_name: Option<String>,
    /// What kind of change it is.
    pub kind: ChangeKind,
    /// The file to edit, relative to the workspace root (`None` for code changes).
    pub file: Option<String>,
    /// The line of the key, when the file was read.
    pub line: Option<usize>,
    /// The TOML path of the value, for example `workspace.dependencies.serde`.
    pub toml_path: Option<String>,
    /// The value today.
    pub from: Option<String>,
    /// The value the edit writes.
    pub to: Option<String>,
    /// What the edit does at `toml_path`: `set` the value, `add-entry` (a new
    /// `[workspace.dependencies]` entry), `rename-key` (from the key `from` to the key `to`,
    /// keeping the entry) or `remove-entry`; `null` for code and migrations.
    pub op: Option<EditOp>,
    /// The edit, in words.
    pub change: String,
    /// Whether the current tree already has it.
    pub done: bool,
    /// The TOML path as keys (`toml_path` unquoted), for `--apply`; empty for code changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// For `add-entry`: the key of the entry the new one copies (its other keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_of: Option<String>,
    /// For an edit of a shared declaration: the members that inherit it, sorted (empty
    /// otherwise, and then left out of JSON).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherited_by: Vec<String>,
    /// For a code change predicted from a dependency's breaking changes: what changed and how
    /// sure the prediction is (`file` and `line` say where the member uses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<ImpactDetail>,
}

/// What a manifest edit does at its TOML path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EditOp {
    /// Set the value (a dependency entry in table form: its `version`).
    #[default]
    Set,
    /// Add a `[workspace.dependencies]` entry: a copy of another with `package` and `version`
    /// set.
    AddEntry,
    /// Rename a dependency key, keeping the entry.
    RenameKey,
    /// Remove a dependency entry.
    RemoveEntry,
    /// Declare the setting in the member's own manifest (`to`) instead of inheriting it
    /// (`edition.workspace = true`).
    Override,
    /// Inherit the setting from `[workspace.package]` (`edition.workspace = true`) instead of
    /// declaring it (`from`).
    Inherit,
}

impl Change {
    /// A change made by people (code, metadata they must write), not by `--apply`.
    pub fn code(crate_name: Option<String>, change: String, done: bool) -> Change {
        Change {
            crate_name,
            change,
            done,
            ..Change::default()
        }
    }

    /// Whether `--apply` can make it: a manifest or toolchain edit.
    pub fn is_edit(&self) -> bool {
        self.file.is_some() && !matches!(self.kind, ChangeKind::Code | ChangeKind::Migration)
    }
}

/// The kinds of change a plan lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// `package.version` or `[workspace.package] version`.
    Version,
    /// A dependency requirement, in a member or in `[workspace.dependencies]`.
    Requirement,
    /// `package.edition` or `[workspace.package] edition`.
    Edition,
    /// `package.rust-version` or `[workspace.package] rust-version`.
    RustVersion,
    /// `toolchain.channel` in `rust-toolchain.toml`.
    Toolchain,
    /// A change to source code or metadata that people make.
    #[default]
    Code,
    /// A schema migration.
    Migration,
}

/// One gray rollout step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RolloutStep {
    /// The share of requests routed to the new version.
    pub percent: u8,
    /// The config fragment to edit.
    pub fragment: String,
    /// The gray rule whose `percent` the step sets.
    pub rule: String,
    /// What to apply.
    pub apply: String,
    /// The metrics to watch before taking the next step.
    pub watch: Vec<String>,
}

/// Whether a stage is already done in the current tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every change is already in the tree.
    Done,
    /// Some changes are in the tree, or the code is in and the rollout is not.
    InProgress,
    /// Nothing of it is in the tree.
    Pending,
}

impl Status {
    /// The name the outputs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::InProgress => "in-progress",
            Status::Pending => "pending",
        }
    }
}

/// A predicted break: the dependency's item, the change, its lint and how sure it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactDetail {
    /// The dependency's item that changed (`Bytes::slice`).
    pub item: String,
    /// The lint that names the change (`inherent_method_missing`).
    pub lint: String,
    /// The change, in words.
    pub change: String,
    /// `certain` (a resolved path to the changed item) or `likely` (matched by name).
    pub certainty: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_read_back_what_they_print() {
        for line in [
            "cargo test --workspace --exclude a",
            "cargo +1.96 clippy --workspace --all-targets --all-features -- -D warnings",
            "cargo xtask check-contracts",
        ] {
            let gate = Gate::parse(line).unwrap();
            assert_eq!(gate.to_string(), line);
        }
        assert_eq!(
            Gate::parse("cargo +nightly test")
                .unwrap()
                .toolchain
                .as_deref(),
            Some("nightly")
        );
        assert!(Gate::parse("make test").is_none());
    }
}
