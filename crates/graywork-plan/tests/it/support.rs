//! Helpers the test modules share: loading fixtures, planning, copies, gate checks and error
//! text. cargo-graywork's round trips and the xtask's end-to-end tests include this file by
//! path, so the plan fixtures have one set of helpers; each uses only some of them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use graywork_plan::{Goal, Plan, PlanFormat, plan_output};
use graywork_workspace::{CargoOptions, DepKind, ResolveMode, Source, Workspace};

#[path = "../../../graywork-workspace/tests/it/copy_tree.rs"]
mod copy_tree;
pub(crate) use copy_tree::copy_tree;

pub(crate) const ALL_KINDS: [DepKind; 3] = [DepKind::Normal, DepKind::Build, DepKind::Dev];

/// The plan fixtures, which the xtask's end-to-end tests run the binary on too, found from
/// any crate that includes this file. Canonical, so error messages name them as they did when
/// the tests lived beside them.
pub(crate) fn fixtures() -> PathBuf {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"));
    let crates = if crates.ends_with("xtask") {
        crates.join("../crates")
    } else {
        crates.join("..")
    };
    crates
        .join("graywork-plan/tests/fixtures/plan")
        .canonicalize()
        .unwrap()
}

pub(crate) fn cargo_source(manifest: &Path, resolve: ResolveMode) -> Source {
    Source::Cargo(CargoOptions {
        manifest_path: Some(manifest.to_path_buf()),
        resolve,
        offline: true,
    })
}

/// Loads a fixture workspace through `cargo metadata --no-deps --offline`, which reads only
/// the manifests and writes nothing into the fixture.
pub(crate) fn load(name: &str) -> Workspace {
    let manifest = fixtures().join(name).join("Cargo.toml");
    Workspace::load(&cargo_source(&manifest, ResolveMode::NoDeps)).unwrap()
}

pub(crate) fn plan(workspace: &Workspace, goal: Goal, format: PlanFormat) -> String {
    plan_output(workspace, &goal, format, None).unwrap()
}

pub(crate) fn explain(workspace: &Workspace, goal: Goal, krate: &str) -> String {
    plan_output(workspace, &goal, PlanFormat::Text, Some(krate)).unwrap()
}

/// Copies a fixture into a temporary directory, so a full resolve may write its Cargo.lock
/// and `--apply` may edit it.
pub(crate) fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join(name), dir.path());
    dir
}

/// A stage's gate commands as command lines.
pub(crate) fn gate_lines(stage: &graywork_plan::Stage) -> Vec<String> {
    stage.gates.iter().map(ToString::to_string).collect()
}

pub(crate) fn error_of<E: std::fmt::Display>(result: Result<impl std::fmt::Debug, E>) -> String {
    let message = format!("{:#}", result.unwrap_err());
    message.replace(&fixtures().display().to_string(), "[fixtures]")
}

/// Asserts that every stage's gate tests every member whose build inputs its edits change:
/// its crates, every member that reaches them through normal or build edges (whatever stage
/// it moves in), and every member that dev-depends on one of those, unless the gate covers
/// the whole workspace.
pub(crate) fn assert_gates_cover(workspace: &Workspace, plan: &Plan) {
    let graph = graywork_plan::graph::DepGraph::build(workspace);
    for stage in &plan.stages {
        let lines = gate_lines(stage);
        let workspace_wide = lines.iter().any(|gate| {
            gate.contains("--workspace") && gate.contains(" test ") && !gate.contains("--exclude")
        });
        if workspace_wide || stage.crates.is_empty() {
            continue;
        }
        let crates: Vec<usize> = stage
            .crates
            .iter()
            .map(|name| workspace.member_index(name).unwrap())
            .collect();
        let closure = graph.ordering_dependents_closure(&crates);
        let mut expected: Vec<usize> = (0..workspace.members.len())
            .filter(|&m| closure[m])
            .collect();
        for m in 0..workspace.members.len() {
            if !closure[m]
                && graph
                    .dependencies(m)
                    .any(|(to, edge)| edge.kinds.contains(&DepKind::Dev) && closure[to])
            {
                expected.push(m);
            }
        }
        let test_line = lines
            .iter()
            .find(|gate| gate.starts_with("cargo test "))
            .unwrap_or_else(|| panic!("stage {} has no test line: {:?}", stage.index, stage.gates));
        let words: Vec<&str> = test_line.split(' ').collect();
        let excluded = |name: &str| words.windows(2).any(|pair| pair == ["--exclude", name]);
        let selected = |name: &str| {
            if words.contains(&"--workspace") {
                !excluded(name)
            } else {
                words.windows(2).any(|pair| pair == ["-p", name])
            }
        };
        for m in 0..workspace.members.len() {
            let name = &workspace.members[m].name;
            assert_eq!(
                selected(name),
                expected.contains(&m),
                "stage {}: {name} in `{test_line}`",
                stage.index
            );
        }
    }
}
