//! Properties of plans over random synthetic workspaces.

use graywork_plan::synthetic::{SyntheticCrate, crate_name, metadata_json};
use graywork_plan::{Goal, Plan, build_plan};
use graywork_workspace::{DepKind, Workspace};
use proptest::prelude::*;

use crate::support::gate_lines;

/// Asserts that every stage's gate tests every member whose build inputs its edits change:
/// its crates, every member that reaches them through normal or build edges (whatever stage
/// it moves in), and every member that dev-depends on one of those, unless the gate covers
/// the whole workspace.
fn assert_gates_cover(workspace: &Workspace, plan: &Plan) {
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

/// A random DAG: crate `i` depends only on crates `< i`, plus dev edges anywhere.
fn random_dag() -> impl Strategy<Value = Vec<SyntheticCrate>> {
    (1usize..40).prop_flat_map(|count| {
        proptest::collection::vec(
            (
                proptest::collection::vec(any::<proptest::sample::Index>(), 0..5),
                proptest::collection::vec(any::<proptest::sample::Index>(), 0..2),
                proptest::option::of(any::<proptest::sample::Index>()),
            ),
            count,
        )
        .prop_map(move |specs| {
            specs
                .into_iter()
                .enumerate()
                .map(|(index, (deps, build, dev))| {
                    let earlier = |picks: Vec<proptest::sample::Index>| {
                        let mut picked: Vec<usize> = if index == 0 {
                            Vec::new()
                        } else {
                            picks.iter().map(|pick| pick.index(index)).collect()
                        };
                        picked.sort_unstable();
                        picked.dedup();
                        picked
                    };
                    let deps = earlier(deps);
                    let build_deps: Vec<usize> = earlier(build)
                        .into_iter()
                        .filter(|d| !deps.contains(d))
                        .collect();
                    let dev_deps: Vec<usize> = dev
                        .map(|pick| pick.index(count))
                        .filter(|&d| d != index)
                        .into_iter()
                        .collect();
                    SyntheticCrate {
                        deps,
                        build_deps,
                        dev_deps,
                    }
                })
                .collect()
        })
    })
}

proptest! {
    #[test]
    fn edition_moves_every_dependent_before_its_dependencies_in_the_longest_chain_of_stages(
        crates in random_dag()
    ) {
        let workspace = Workspace::from_json(&metadata_json(&crates)).unwrap();
        // Members that declare their own edition are layered, dependents first.
        let plan = build_plan(&workspace, &Goal::edition("2024").unwrap()).unwrap();
        let mut stage_of = std::collections::HashMap::new();
        for stage in &plan.stages {
            for name in &stage.crates {
                stage_of.insert(name.clone(), stage.index);
            }
        }
        prop_assert_eq!(stage_of.len(), crates.len());
        let mut longest = vec![0usize; crates.len()];
        for (index, krate) in crates.iter().enumerate() {
            let from = stage_of[&crate_name(index)];
            for &dep in krate.deps.iter().chain(&krate.build_deps) {
                prop_assert!(from < stage_of[&crate_name(dep)]);
            }
            longest[index] = 1 + krate
                .deps
                .iter()
                .chain(&krate.build_deps)
                .map(|&dep| longest[dep])
                .max()
                .unwrap_or(0);
        }
        prop_assert_eq!(plan.stages.len(), longest.into_iter().max().unwrap_or(0));
    }
}

proptest! {
    #[test]
    fn a_breaking_crate_bump_moves_its_direct_dependents_and_gates_the_rest(
        crates in random_dag(),
        root in any::<proptest::sample::Index>(),
    ) {
        let root = root.index(crates.len());
        let workspace = Workspace::from_json(&metadata_json(&crates)).unwrap();
        let goal = Goal::krate(&format!("{}@9.0.0", crate_name(root))).unwrap();
        let plan = build_plan(&workspace, &goal).unwrap();
        prop_assert_eq!(plan.stages.len(), 1);
        // The root and every member depending on it directly, through any kind, move; the
        // gate tests everything whose build includes them.
        let mut expected: Vec<String> = crates
            .iter()
            .enumerate()
            .filter(|(index, krate)| {
                *index == root
                    || krate.deps.iter().chain(&krate.build_deps).chain(&krate.dev_deps).any(|&dep| dep == root)
            })
            .map(|(index, _)| crate_name(index))
            .collect();
        expected.sort();
        prop_assert_eq!(&plan.stages[0].crates, &expected);
        assert_gates_cover(&workspace, &plan);
    }
}
