//! `upgrade-plan` per goal: crate bumps, toolchains, editions, dependencies and contracts.

use graywork_plan::{Goal, PlanFormat, PlanOptions, TreeFacts, build_plan};
use graywork_workspace::{Source, Workspace};

use crate::support::{explain, fixtures, gate_lines, load, plan};

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
    assert_eq!(value["schema"], "graywork.upgrade-plan/v3");
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
    // `store` depends on `api`: the expand stage's gate tests it, and with it every member
    // whose build includes `api`, here the whole workspace.
    assert_eq!(gate_lines(expand), ["cargo test --workspace"]);
    let retire = plan.stages.last().unwrap();
    assert_eq!(retire.phase, graywork_plan::Phase::Retire);
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
