//! `outdated --plan`: for each semver-incompatible update the `upgrade-plan --dep NAME@VERSION`
//! command that stages it, and for every semver-compatible update one stage that raises
//! each such requirement where it is declared.
//!
//! The compatible stage is an `upgrade-plan` stage, of the plan schema both share
//! ([`graywork_workspace::schema`]): each change is a machine-readable edit (`kind`, `file`,
//! `line`, `toml_path`, `from`, `to`, `done`), so the same `--apply` carries it out.

use std::collections::{BTreeMap, BTreeSet};

use graywork_workspace::schema::{Change, ChangeKind, EditOp, Gate, Phase, Stage, Status};
use graywork_workspace::{DepKind, Runner, Workspace};
use semver::Version;
use serde::Serialize;

use crate::report::{Dependency, RegistryReport, Report};

/// The JSON format version of [`OutdatedPlan`].
pub const OUTDATED_PLAN_SCHEMA: &str = "graywork.outdated-plan/v2";

/// The plans for every update the report found.
#[derive(Debug, Clone, Serialize)]
pub struct OutdatedPlan {
    /// [`OUTDATED_PLAN_SCHEMA`].
    pub schema: &'static str,
    /// The registries read, and how fresh their index is (as in the report).
    pub registries: Vec<RegistryReport>,
    /// One entry per dependency with a semver-incompatible update, by name.
    pub incompatible: Vec<IncompatibleUpdate>,
    /// The one-stage plan raising every requirement that has a semver-compatible update.
    pub compatible: CompatiblePlan,
}

/// A semver-incompatible update, planned by `upgrade-plan --dep`.
#[derive(Debug, Clone, Serialize)]
pub struct IncompatibleUpdate {
    /// The dependency.
    pub name: String,
    /// The newest version, which no current requirement admits.
    pub version: Version,
    /// The requirements it replaces, as written, sorted.
    pub from: Vec<String>,
    /// Where they are written (`file:line`).
    pub declared: Vec<String>,
    /// The command that prints the staged plan.
    pub command: String,
    /// How many stages that plan has, when the caller computed it.
    pub stages: Option<usize>,
    /// How many lines of the members the new major is predicted to break (upgrade-plan's
    /// impact), when the caller computed it: both versions' sources were in cargo's cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact_lines: Option<usize>,
}

/// The compatible-updates plan.
#[derive(Debug, Clone, Serialize)]
pub struct CompatiblePlan {
    /// What it does, in one sentence.
    pub summary: String,
    /// Requirements with a compatible update that are left alone, and why.
    pub warnings: Vec<String>,
    /// No stage when there is nothing to raise, else exactly one.
    pub stages: Vec<Stage>,
}

/// Plans every update in `report`. Commands name `runner`, and `manifest_arg` (for example
/// `--manifest-path ../w/Cargo.toml`) when the workspace is not the current one.
pub fn plan(
    report: &Report,
    workspace: &Workspace,
    runner: Runner,
    manifest_arg: Option<&str>,
) -> OutdatedPlan {
    OutdatedPlan {
        schema: OUTDATED_PLAN_SCHEMA,
        registries: report.registries.clone(),
        incompatible: incompatible(report, runner, manifest_arg),
        compatible: compatible(report, workspace),
    }
}

fn incompatible(
    report: &Report,
    runner: Runner,
    manifest_arg: Option<&str>,
) -> Vec<IncompatibleUpdate> {
    let mut by_name: BTreeMap<&str, Vec<&Dependency>> = BTreeMap::new();
    for dependency in report
        .dependencies
        .iter()
        .filter(|d| d.update.incompatible())
    {
        by_name
            .entry(&dependency.name)
            .or_default()
            .push(dependency);
    }
    by_name
        .into_iter()
        .filter_map(|(name, dependencies)| {
            let version = dependencies.iter().filter_map(|d| d.latest.clone()).max()?;
            let from: BTreeSet<String> =
                dependencies.iter().map(|d| d.requirement.clone()).collect();
            let mut command = format!("{runner} upgrade-plan --dep {name}@{version}");
            if let Some(arg) = manifest_arg {
                command.push(' ');
                command.push_str(arg);
            }
            Some(IncompatibleUpdate {
                name: name.to_owned(),
                version,
                from: from.into_iter().collect(),
                declared: dependencies
                    .iter()
                    .map(|d| format!("{}:{}", d.declared.file, d.declared.line))
                    .collect(),
                command,
                stages: None,
                impact_lines: None,
            })
        })
        .collect()
}

fn compatible(report: &Report, workspace: &Workspace) -> CompatiblePlan {
    let summary =
        "raise every requirement to its newest semver-compatible version, in one stage".to_owned();
    let mut warnings = Vec::new();
    let mut changes = Vec::new();
    let mut crates = BTreeSet::new();
    for dependency in &report.dependencies {
        if let Some(reason) = &dependency.not_raised {
            warnings.push(format!(
                "{} at {}:{} is not raised: {reason}",
                dependency.name, dependency.declared.file, dependency.declared.line
            ));
        }
        let Some(to) = &dependency.raise_to else {
            continue;
        };
        let users: BTreeSet<String> = dependency.users.iter().map(|u| u.member.clone()).collect();
        crates.extend(users.iter().cloned());
        let inherited_by: Vec<String> = if dependency.declared.shared {
            users.iter().cloned().collect()
        } else {
            Vec::new()
        };
        changes.push(Change {
            crate_name: if dependency.declared.shared {
                None
            } else {
                users.iter().next().cloned()
            },
            kind: ChangeKind::Requirement,
            file: Some(dependency.declared.file.clone()),
            line: Some(dependency.declared.line),
            toml_path: Some(dependency.declared.toml_path.clone()),
            from: Some(dependency.requirement.clone()),
            to: Some(to.clone()),
            op: Some(EditOp::Set),
            change: format!(
                "raise `{}` from `{}` to `{to}` (newest compatible version{})",
                dependency.name,
                dependency.requirement,
                if inherited_by.is_empty() {
                    String::new()
                } else {
                    format!("; moves {}", inherited_by.join(", "))
                }
            ),
            done: false,
            keys: dependency.declared.keys.clone(),
            inherited_by,
            ..Change::default()
        });
    }
    if changes.is_empty() {
        return CompatiblePlan {
            summary,
            warnings,
            stages: Vec::new(),
        };
    }
    changes.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let (dependents, dev_dependents) = gate_members(workspace, &crates);
    let tested: BTreeSet<&String> = crates
        .iter()
        .chain(&dependents)
        .chain(&dev_dependents)
        .collect();
    let packages = if tested.len() == workspace.members.len() {
        "--workspace".to_owned()
    } else {
        let listed: Vec<String> = tested.iter().map(|name| format!("-p {name}")).collect();
        listed.join(" ")
    };
    let gates = vec![Gate {
        toolchain: None,
        args: format!("test {packages}")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    }];
    let files: BTreeSet<&str> = changes
        .iter()
        .filter_map(|change| change.file.as_deref())
        .collect();
    let rollback = format!(
        "git checkout -- {} Cargo.lock (back to the tree before the stage)",
        files.into_iter().collect::<Vec<_>>().join(" ")
    );
    let count = changes.len();
    CompatiblePlan {
        summary,
        warnings,
        stages: vec![Stage {
            index: 1,
            name: format!(
                "raise {count} requirement{} to the newest compatible version",
                if count == 1 { "" } else { "s" }
            ),
            phase: Phase::Upgrade,
            crates: crates.into_iter().collect(),
            changes,
            dev_dependents,
            dependents,
            gates,
            rollback,
            status: Status::Pending,
            rollout: Vec::new(),
        }],
    }
}

/// The members whose build or tests include `crates`, beside them: every member depending on
/// one of them through normal or build dependencies, directly or not, and every member that
/// dev-depends on one of those. Both sorted by name, neither holding a crate of `crates`.
fn gate_members(workspace: &Workspace, crates: &BTreeSet<String>) -> (Vec<String>, Vec<String>) {
    let count = workspace.members.len();
    let mut dependents: Vec<Vec<(usize, DepKind)>> = vec![Vec::new(); count];
    for (position, member) in workspace.members.iter().enumerate() {
        for dependency in &member.dependencies {
            if let Some(target) = dependency.member
                && target != position
            {
                dependents[target].push((position, dependency.kind));
            }
        }
    }
    let mut reached = vec![false; count];
    let mut pending: Vec<usize> = crates
        .iter()
        .filter_map(|name| workspace.member_index(name))
        .collect();
    for &member in &pending {
        reached[member] = true;
    }
    while let Some(position) = pending.pop() {
        for &(dependent, kind) in &dependents[position] {
            if kind.orders() && !reached[dependent] {
                reached[dependent] = true;
                pending.push(dependent);
            }
        }
    }
    let mut dev = BTreeSet::new();
    for position in (0..count).filter(|&m| reached[m]) {
        for &(dependent, kind) in &dependents[position] {
            if kind == DepKind::Dev && !reached[dependent] {
                dev.insert(workspace.members[dependent].name.clone());
            }
        }
    }
    let normal: BTreeSet<String> = (0..count)
        .filter(|&m| reached[m] && !crates.contains(&workspace.members[m].name))
        .map(|m| workspace.members[m].name.clone())
        .collect();
    (normal.into_iter().collect(), dev.into_iter().collect())
}
