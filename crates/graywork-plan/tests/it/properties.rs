//! Properties of plans over random synthetic workspaces.

use graywork_plan::synthetic::{SyntheticCrate, crate_name, metadata_json};
use graywork_plan::{Goal, build_plan};
use graywork_workspace::Workspace;
use proptest::prelude::*;

use crate::support::assert_gates_cover;

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
