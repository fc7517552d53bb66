//! `outdated --plan`: for each semver-incompatible update the `upgrade-plan --dep NAME@VERSION`
//! command that stages it, and for every semver-compatible update one stage that raises
//! each such requirement where it is declared.
//!
//! The compatible stage has the shape of an `upgrade-plan` stage (`crates`, `changes`,
//! `gates`, `rollback`, `status`) and each change is a machine-readable edit (`kind`, `file`,
//! `line`, `toml_path`, `from`, `to`, `done`), so the same `--apply` can carry it out.

use std::collections::{BTreeMap, BTreeSet};

use graywork_workspace::{Runner, Workspace};
use semver::Version;
use serde::Serialize;

use crate::report::{Dependency, RegistryReport, Report};

/// The JSON format version of [`OutdatedPlan`].
pub const OUTDATED_PLAN_SCHEMA: &str = "graywork.outdated-plan/v1";

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

/// One stage, shaped like an `upgrade-plan` stage.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    /// 1-based position.
    pub index: usize,
    /// A short title.
    pub name: String,
    /// Always `upgrade`.
    pub phase: &'static str,
    /// The members whose effective requirements change, sorted.
    pub crates: Vec<String>,
    /// The edits, one per declaration.
    pub changes: Vec<Edit>,
    /// Members outside `crates` whose tests join the gate (dev-dependents and transitive
    /// dependents of `crates`).
    pub dev_dependents: Vec<String>,
    /// The commands that must pass.
    pub gates: Vec<String>,
    /// How to undo the stage.
    pub rollback: String,
    /// `pending` (a raised requirement is never already in the tree).
    pub status: &'static str,
}

/// One manifest edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// Always `requirement`.
    pub kind: &'static str,
    /// The member whose manifest holds it, `None` for a root `[workspace.dependencies]` entry.
    #[serde(rename = "crate")]
    pub crate_name: Option<String>,
    /// The file, relative to the workspace root.
    pub file: String,
    /// The line of the entry's key.
    pub line: usize,
    /// The TOML path of the entry; the edit sets its `version` (or the entry itself when it
    /// is a plain string).
    pub toml_path: String,
    /// The same path as keys from the document's root, for `--apply`.
    #[serde(skip)]
    pub keys: Vec<String>,
    /// The requirement now.
    pub from: String,
    /// The requirement after the edit.
    pub to: String,
    /// The edit, in words.
    pub change: String,
    /// Whether the tree already has it.
    pub done: bool,
    /// The members that inherit a shared entry (empty for a member's own entry).
    pub inherited_by: Vec<String>,
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
        changes.push(Edit {
            kind: "requirement",
            crate_name: if dependency.declared.shared {
                None
            } else {
                users.iter().next().cloned()
            },
            file: dependency.declared.file.clone(),
            line: dependency.declared.line,
            toml_path: dependency.declared.toml_path.clone(),
            keys: dependency.declared.keys.clone(),
            from: dependency.requirement.clone(),
            to: to.clone(),
            change: format!(
                "raise `{}` from `{}` to `{to}` (newest compatible version{})",
                dependency.name,
                dependency.requirement,
                if dependency.declared.shared {
                    format!(
                        "; moves {}",
                        users.iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                } else {
                    String::new()
                }
            ),
            done: false,
            inherited_by: if dependency.declared.shared {
                users.into_iter().collect()
            } else {
                Vec::new()
            },
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
    let tested = dependents_closure(workspace, &crates);
    let dev_dependents: Vec<String> = tested.difference(&crates).cloned().collect();
    let gates = tested
        .iter()
        .map(|name| format!("cargo test -p {name}"))
        .collect();
    let files: BTreeSet<&str> = changes.iter().map(|change| change.file.as_str()).collect();
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
            phase: "upgrade",
            crates: crates.into_iter().collect(),
            changes,
            dev_dependents,
            gates,
            rollback,
            status: "pending",
        }],
    }
}

/// `crates` and every member that depends on one of them, directly or transitively, by any
/// kind: the members whose build or tests the stage can break.
fn dependents_closure(workspace: &Workspace, crates: &BTreeSet<String>) -> BTreeSet<String> {
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); workspace.members.len()];
    for (position, member) in workspace.members.iter().enumerate() {
        for dependency in &member.dependencies {
            if let Some(target) = dependency.member
                && target != position
            {
                dependents[target].push(position);
            }
        }
    }
    let mut seen: BTreeSet<usize> = crates
        .iter()
        .filter_map(|name| workspace.member_index(name))
        .collect();
    let mut pending: Vec<usize> = seen.iter().copied().collect();
    while let Some(position) = pending.pop() {
        for &dependent in &dependents[position] {
            if seen.insert(dependent) {
                pending.push(dependent);
            }
        }
    }
    seen.into_iter()
        .map(|position| workspace.members[position].name.clone())
        .collect()
}
