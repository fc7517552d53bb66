//! The workspace dependency graph and staged upgrade plans over it (`graph`, `upgrade-plan`).
//!
//! The flow is [`Workspace::load`] (one `cargo metadata` call, or a saved file) ->
//! [`graph::DepGraph`] (petgraph) -> [`planner::build_plan`] (longest-path layering of the
//! affected crates per goal step) -> [`render`]. Planning never runs cargo and never reads
//! anything: the few facts it needs about the tree ([`TreeFacts`]) are collected first, so plans
//! can be computed from saved metadata and tested without a disk.
//!
//! # Features
//!
//! | Feature | Default | What it enables |
//! |---------|---------|-----------------|
//! | `clap` | no | `clap::ValueEnum` for [`GraphFormat`] and [`PlanFormat`], for the command line |
//! | `synthetic` | no | `graywork_plan::synthetic`: random `cargo metadata` documents for the benchmark and the tests |
#![warn(unreachable_pub)]

use graywork_workspace::Workspace;

pub mod apply;
pub mod facts;
pub mod goal;
pub mod graph;
pub mod impact;
pub mod planner;
pub mod render;
// Only the crate's tests and its benchmark generate workspaces; a bench target links the library
// as any user does, so a feature rather than `cfg(test)` alone.
#[cfg(any(test, feature = "synthetic"))]
pub mod synthetic;

pub use apply::{
    ApplyError, ApplyOptions, ApplyReport, apply_changes, apply_saved_stage, apply_stage,
    read_saved_plan, render_report,
};
pub use facts::{Exposure, TreeFacts};
pub use goal::Goal;
pub use planner::{
    Change, ChangeKind, EditOp, Phase, Plan, PlanOptions, Stage, Status, Strategy, build_plan,
    plan, staged_members,
};
pub use render::{GraphFormat, PlanFormat, render_explain, render_graph, render_plan};

/// Collects the tree's facts, plans `goal` and renders it (or the explanation for `explain`):
/// the whole command after loading.
pub fn plan_output(
    workspace: &Workspace,
    goal: &Goal,
    format: PlanFormat,
    explain: Option<&str>,
) -> anyhow::Result<String> {
    let options = PlanOptions {
        explain: explain.map(str::to_owned),
        ..PlanOptions::default()
    };
    plan_output_with(workspace, goal, format, &options)
}

/// Like [`plan_output`], with every planning option.
pub fn plan_output_with(
    workspace: &Workspace,
    goal: &Goal,
    format: PlanFormat,
    options: &PlanOptions,
) -> anyhow::Result<String> {
    let mut facts = TreeFacts::collect(workspace);
    let plan = plan_reading_guards(workspace, &mut facts, goal, options)?;
    match options.explain.as_deref() {
        Some(krate) => render_explain(&plan, workspace, krate, format),
        None => Ok(render_plan(&plan, format)),
    }
}

/// [`planner::plan`], then the feature guards of the members its stages change
/// ([`TreeFacts::read_feature_guards`]), planning again when one refuses features, so gates
/// name the features those members build with. Only those members' sources are read.
pub fn plan_reading_guards(
    workspace: &Workspace,
    facts: &mut TreeFacts,
    goal: &Goal,
    options: &PlanOptions,
) -> anyhow::Result<Plan> {
    let plan = planner::plan(workspace, facts, goal, options)?;
    let members: Vec<usize> = plan
        .stages
        .iter()
        .flat_map(|stage| &stage.crates)
        .filter_map(|name| workspace.member_index(name))
        .collect();
    if facts.read_feature_guards(workspace, members) {
        planner::plan(workspace, facts, goal, options)
    } else {
        Ok(plan)
    }
}
