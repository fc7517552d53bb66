//! Integration tests for the `plan` commands: `graph` and `upgrade-plan` on fixture workspaces.

use std::path::{Path, PathBuf};
use std::process::Command;

use graywork_plan::synthetic::{SyntheticCrate, crate_name, metadata_json};
use graywork_plan::{
    Goal, GraphFormat, PlanFormat, PlanOptions, TreeFacts, build_plan, plan_output, render_graph,
};
use graywork_workspace::{CargoOptions, DepKind, ResolveMode, Source, Workspace};
use proptest::prelude::*;

const ALL_KINDS: [DepKind; 3] = [DepKind::Normal, DepKind::Build, DepKind::Dev];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plan")
}

fn cargo_source(manifest: &Path, resolve: ResolveMode) -> Source {
    Source::Cargo(CargoOptions {
        manifest_path: Some(manifest.to_path_buf()),
        resolve,
        offline: true,
    })
}

/// Loads a fixture workspace through `cargo metadata --no-deps --offline`, which reads only
/// the manifests and writes nothing into the fixture.
fn load(name: &str) -> Workspace {
    let manifest = fixtures().join(name).join("Cargo.toml");
    Workspace::load(&cargo_source(&manifest, ResolveMode::NoDeps)).unwrap()
}

fn plan(workspace: &Workspace, goal: Goal, format: PlanFormat) -> String {
    plan_output(workspace, &goal, format, None).unwrap()
}

fn explain(workspace: &Workspace, goal: Goal, krate: &str) -> String {
    plan_output(workspace, &goal, PlanFormat::Text, Some(krate)).unwrap()
}

/// Copies a fixture into a temporary directory, so a full resolve may write its Cargo.lock.
fn copy_fixture(name: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&fixtures().join(name), dir.path());
    dir
}

// ----- graph -----

#[test]
fn graph_shows_renamed_target_build_and_dev_edges() {
    let workspace = load("layered");
    insta::assert_snapshot!(render_graph(&workspace, &ALL_KINDS, GraphFormat::Text));
}

#[test]
fn graph_kinds_filter_drops_dev_edges() {
    let workspace = load("layered");
    let text = render_graph(
        &workspace,
        &[DepKind::Normal, DepKind::Build],
        GraphFormat::Text,
    );
    assert!(!text.contains("dev"), "{text}");
    assert!(text.contains("-> codegen (build)"), "{text}");
}

#[test]
fn graph_json_marks_contract_edges() {
    let workspace = load("contracts");
    insta::assert_snapshot!(render_graph(&workspace, &ALL_KINDS, GraphFormat::Json));
}

#[test]
fn graph_dot_and_mermaid() {
    let workspace = load("contracts");
    insta::assert_snapshot!(
        "graph_dot",
        render_graph(&workspace, &ALL_KINDS, GraphFormat::Dot)
    );
    insta::assert_snapshot!(
        "graph_mermaid",
        render_graph(&workspace, &ALL_KINDS, GraphFormat::Mermaid)
    );
}

#[test]
fn graph_reports_true_cycles() {
    let workspace = load("cycle");
    let text = render_graph(&workspace, &ALL_KINDS, GraphFormat::Text);
    assert!(
        text.contains("cycle of normal/build dependencies: ring-a, ring-b, ring-c"),
        "{text}"
    );
}

// ----- upgrade-plan: goals -----

#[test]
fn crate_bump_orders_dependents_and_ignores_dev_cycles() {
    let workspace = load("layered");
    let goal = Goal::krate("base@0.2.0").unwrap();
    insta::assert_snapshot!(plan(&workspace, goal, PlanFormat::Text));
}

#[test]
fn crate_bump_explain_names_the_chain() {
    let workspace = load("layered");
    let goal = || Goal::krate("base@0.2.0").unwrap();
    let text = [
        explain(&workspace, goal(), "app"),
        explain(&workspace, goal(), "base"),
        explain(&workspace, goal(), "lonely"),
    ]
    .join("\n");
    insta::assert_snapshot!(text);
}

#[test]
fn crate_bump_of_a_member_with_no_dependents_is_one_stage() {
    let workspace = load("layered");
    let plan = build_plan(&workspace, &Goal::krate("lonely@0.3.0").unwrap()).unwrap();
    assert_eq!(plan.stages.len(), 1);
    assert_eq!(plan.stages[0].crates, vec!["lonely"]);
    assert!(plan.stages[0].dev_dependents.is_empty());
}

#[test]
fn crate_bump_to_the_current_version_is_done() {
    let workspace = load("layered");
    let plan = build_plan(&workspace, &Goal::krate("base@0.1.0").unwrap()).unwrap();
    assert!(
        plan.stages
            .iter()
            .all(|stage| stage.status == graywork_plan::Status::Done)
    );
    let error = build_plan(&workspace, &Goal::krate("base@0.0.9").unwrap()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "--crate base@0.0.9 is older than the current base 0.1.0: this plan is a downgrade (pass --allow-downgrade to plan it anyway)"
    );
    let options = PlanOptions {
        allow_downgrade: true,
        ..PlanOptions::default()
    };
    let plan = graywork_plan::plan(
        &workspace,
        &TreeFacts::collect(&workspace),
        &Goal::krate("base@0.0.9").unwrap(),
        &options,
    )
    .unwrap();
    assert!(
        plan.warnings[0].contains("downgrade"),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn toolchain_plan_as_json() {
    let workspace = load("layered");
    let goal = Goal::toolchain("1.90").unwrap();
    insta::assert_snapshot!(plan(&workspace, goal, PlanFormat::Json));
}

#[test]
fn edition_plan_marks_members_already_there() {
    let workspace = load("layered");
    insta::assert_snapshot!(plan(
        &workspace,
        Goal::edition("2024").unwrap(),
        PlanFormat::Markdown
    ));
}

#[test]
fn true_cycle_is_one_stage_with_a_warning() {
    let workspace = load("cycle");
    // Editions are declared per member here, so members are layered, leaves first.
    let goal = Goal::edition("2024").unwrap();
    let text = [
        plan(&workspace, goal.clone(), PlanFormat::Text),
        explain(&workspace, goal, "top"),
    ]
    .join("\n");
    insta::assert_snapshot!(text);
}

#[test]
fn dep_upgrade_covers_renamed_optional_and_dev_uses() {
    let workspace = load("cycle");
    let goal = Goal::dep("serde@2").unwrap();
    insta::assert_snapshot!(plan(&workspace, goal, PlanFormat::Text));
}

#[test]
fn patch_style_registry_dependency_is_an_edge_without_resolve() {
    let workspace = load("patched");
    assert!(!workspace.resolved);
    let goal = Goal::krate("engine-macros@0.6.0").unwrap();
    insta::assert_snapshot!(plan(&workspace, goal, PlanFormat::Text));
}

#[test]
fn full_resolve_agrees_with_no_deps() {
    for name in ["layered", "patched"] {
        let dir = copy_fixture(name);
        let manifest = dir.path().join("Cargo.toml");
        let full = Workspace::load(&cargo_source(&manifest, ResolveMode::Full)).unwrap();
        assert!(full.resolved, "{name}");
        let no_deps = Workspace::load(&cargo_source(&manifest, ResolveMode::NoDeps)).unwrap();
        let graph = |workspace: &Workspace| {
            render_graph(workspace, &ALL_KINDS, GraphFormat::Text).replace(", by name", "")
        };
        assert_eq!(graph(&full), graph(&no_deps), "{name}");
    }
}

#[test]
fn saved_metadata_file_gives_the_same_plan() {
    let saved = fixtures().join("layered-full-metadata.json");
    let workspace = Workspace::load(&Source::MetadataFile(saved)).unwrap();
    assert!(workspace.resolved);
    let goal = || Goal::krate("base@0.2.0").unwrap();
    assert_eq!(
        plan(&workspace, goal(), PlanFormat::Json),
        plan(&load("layered"), goal(), PlanFormat::Json)
    );
}

#[test]
fn contract_plan_text() {
    let workspace = load("contracts");
    insta::assert_snapshot!(plan(
        &workspace,
        Goal::contract("greet@2").unwrap(),
        PlanFormat::Text
    ));
}

#[test]
fn contract_plan_json() {
    let workspace = load("contracts");
    let json = plan(
        &workspace,
        Goal::contract("greet@2").unwrap(),
        PlanFormat::Json,
    );
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema"], "graywork.upgrade-plan/v2");
    for stage in value["stages"].as_array().unwrap() {
        for key in [
            "index", "name", "crates", "changes", "gates", "rollback", "status", "rollout",
        ] {
            assert!(stage.get(key).is_some(), "stage lacks `{key}`: {stage}");
        }
    }
    insta::assert_snapshot!(json);
}

#[test]
fn contract_plan_mermaid_dot_and_explain() {
    let workspace = load("contracts");
    let goal = || Goal::contract("greet@2").unwrap();
    insta::assert_snapshot!(
        "contract_plan_mermaid",
        plan(&workspace, goal(), PlanFormat::Mermaid)
    );
    insta::assert_snapshot!(
        "contract_plan_dot",
        plan(&workspace, goal(), PlanFormat::Dot)
    );
    insta::assert_snapshot!(
        "contract_plan_explain",
        [
            explain(&workspace, goal(), "web"),
            explain(&workspace, goal(), "speaker"),
            explain(&workspace, goal(), "store"),
        ]
        .join("\n")
    );
}

#[test]
fn contract_plan_without_declared_migrations_names_none() {
    let mut workspace = load("contracts");
    for member in &mut workspace.members {
        member.migrations = Default::default();
    }
    let plan = build_plan(&workspace, &Goal::contract("greet@2").unwrap()).unwrap();
    let expand = &plan.stages[0];
    assert_eq!(expand.crates, vec!["api".to_owned()]);
    // `store` depends on `api` and, without its migrations, changes in no later stage: the
    // expand stage's gate tests it.
    assert_eq!(
        expand.gates,
        vec![
            "cargo test -p api".to_owned(),
            "cargo test -p store".to_owned()
        ]
    );
    let retire = plan.stages.last().unwrap();
    assert_eq!(retire.phase, "retire");
    assert!(!retire.crates.contains(&"store".to_owned()));
    assert_eq!(
        retire.rollback,
        "revert the retire commit; rollback point: the tree after stage 4"
    );
    for stage in &plan.stages {
        for change in &stage.changes {
            assert!(
                !change.change.contains("migration") && !change.change.contains("columns"),
                "stage {} names a migration: {}",
                stage.index,
                change.change
            );
        }
        assert!(!stage.rollback.contains("column"), "{}", stage.rollback);
    }
}

// ----- bad input -----

fn error_of(result: anyhow::Result<impl std::fmt::Debug>) -> String {
    let message = format!("{:#}", result.unwrap_err());
    message.replace(&fixtures().display().to_string(), "[fixtures]")
}

#[test]
fn bad_input_errors_name_the_file_crate_or_version() {
    let layered = load("layered");
    let contracts = load("contracts");
    let plan_error = |workspace: &Workspace, goal: Goal| error_of(build_plan(workspace, &goal));
    let malformed = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        malformed.path(),
        r#"{"packages": [{"name": "a", "version": "one"}], "workspace_members": []}"#,
    )
    .unwrap();
    let malformed_error = error_of(Workspace::load(&Source::MetadataFile(
        malformed.path().to_path_buf(),
    )))
    .replace(&malformed.path().display().to_string(), "[file]");
    let cases = [
        (
            "unknown crate",
            plan_error(&layered, Goal::krate("bsae@0.2.0").unwrap()),
        ),
        (
            "unknown contract",
            plan_error(&contracts, Goal::contract("gret@2").unwrap()),
        ),
        (
            "first major",
            plan_error(&contracts, Goal::contract("greet@1").unwrap()),
        ),
        (
            "skipped major",
            plan_error(&contracts, Goal::contract("greet@4").unwrap()),
        ),
        (
            "unknown dependency",
            plan_error(&load("cycle"), Goal::dep("serd@2").unwrap()),
        ),
        (
            "dependency that is a member",
            plan_error(&layered, Goal::dep("util@2").unwrap()),
        ),
        ("non-semver version", error_of(Goal::krate("base@0.2"))),
        (
            "explain unknown crate",
            error_of(plan_output(
                &layered,
                &Goal::krate("base@0.2.0").unwrap(),
                PlanFormat::Text,
                Some("ap"),
            )),
        ),
        (
            "missing manifest",
            error_of(Workspace::load(&cargo_source(
                &fixtures().join("missing/Cargo.toml"),
                ResolveMode::NoDeps,
            ))),
        ),
        (
            "missing metadata file",
            error_of(Workspace::load(&Source::MetadataFile(
                fixtures().join("missing.json"),
            ))),
        ),
        ("malformed metadata file", malformed_error),
        (
            "invalid contract metadata",
            error_of(Workspace::load(&cargo_source(
                &fixtures().join("invalid/Cargo.toml"),
                ResolveMode::NoDeps,
            ))),
        ),
    ];
    let text: Vec<String> = cases
        .iter()
        .map(|(case, message)| format!("{case}:\n  {message}"))
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}

#[test]
fn cargo_metadata_failure_names_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("Cargo.toml");
    std::fs::write(&manifest, "[package\nname = 1\n").unwrap();
    let message = error_of(Workspace::load(&cargo_source(
        &manifest,
        ResolveMode::NoDeps,
    )));
    let expected = format!("`cargo metadata` failed for {}: ", manifest.display());
    assert!(message.starts_with(&expected), "{message}");
}

#[test]
fn command_line_exits_2_on_bad_input_and_0_on_a_plan() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .output()
            .unwrap()
    };
    let saved = fixtures().join("layered-full-metadata.json");
    let saved = saved.to_str().unwrap();
    let output = run(&[
        "upgrade-plan",
        "--crate",
        "nope@1.0.0",
        "--metadata-file",
        saved,
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown crate `nope`"), "{stderr}");

    let output = run(&[
        "upgrade-plan",
        "--crate",
        "base@0.2.0",
        "--metadata-file",
        saved,
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("upgrade plan: bump base"));

    let output = run(&["upgrade-plan", "--toolchain", "1.90", "--edition", "2024"]);
    assert_eq!(output.status.code(), Some(2), "two goals are a usage error");
    let output = run(&["upgrade-plan", "--metadata-file", saved]);
    assert_eq!(output.status.code(), Some(2), "no goal is a usage error");

    let output = run(&["graph", "--metadata-file", saved, "--format", "mermaid"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("flowchart LR"));
}

// ----- properties -----

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
    fn every_edge_points_to_an_earlier_stage_and_stages_equal_the_longest_chain(
        crates in random_dag()
    ) {
        let workspace = Workspace::from_json(&metadata_json(&crates)).unwrap();
        // Members that declare their own edition are layered, leaves first.
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
                prop_assert!(from > stage_of[&crate_name(dep)]);
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
    fn a_crate_bump_orders_exactly_its_dependents(
        crates in random_dag(),
        root in any::<proptest::sample::Index>(),
    ) {
        let root = root.index(crates.len());
        let workspace = Workspace::from_json(&metadata_json(&crates)).unwrap();
        let goal = Goal::krate(&format!("{}@9.0.0", crate_name(root))).unwrap();
        let plan = build_plan(&workspace, &goal).unwrap();
        let mut stage_of = std::collections::HashMap::new();
        for stage in &plan.stages {
            for name in &stage.crates {
                stage_of.insert(name.clone(), stage.index);
            }
        }
        // Affected: the root and everything reaching it through normal or build edges.
        let mut affected = vec![false; crates.len()];
        affected[root] = true;
        for (index, krate) in crates.iter().enumerate() {
            if krate.deps.iter().chain(&krate.build_deps).any(|&dep| affected[dep]) {
                affected[index] = true;
            }
        }
        for (index, krate) in crates.iter().enumerate() {
            prop_assert_eq!(stage_of.contains_key(&crate_name(index)), affected[index]);
            for &dep in krate.deps.iter().chain(&krate.build_deps) {
                if affected[index] && affected[dep] {
                    prop_assert!(stage_of[&crate_name(index)] > stage_of[&crate_name(dep)]);
                }
            }
        }
        prop_assert_eq!(stage_of[&crate_name(root)], 1);
    }
}
