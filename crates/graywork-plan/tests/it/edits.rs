//! Inherited settings, machine-readable edits and `--apply` on copies of the fixtures.

use graywork_plan::{
    ApplyOptions, Goal, PlanFormat, PlanOptions, Status, TreeFacts, apply_stage, build_plan,
    render_report,
};
use graywork_workspace::{ResolveMode, Workspace};

use crate::support::{cargo_source, copy_fixture, error_of, gate_lines, load, plan};

#[test]
fn lockstep_version_is_one_edit_that_moves_every_inheriting_member() {
    let workspace = load("inherited");
    let text = plan(
        &workspace,
        Goal::krate("kernel@0.5.0").unwrap(),
        PlanFormat::Text,
    );
    insta::assert_snapshot!(text);
}

#[test]
fn member_with_its_own_version_moves_alone() {
    let workspace = load("inherited");
    let plan = build_plan(&workspace, &Goal::krate("tools@1.3.0").unwrap()).unwrap();
    assert_eq!(plan.stages[0].crates, ["tools"]);
    let edit = &plan.stages[0].changes[0];
    assert_eq!(
        (edit.file.as_deref(), edit.line, edit.toml_path.as_deref()),
        (Some("tools/Cargo.toml"), Some(4), Some("package.version"))
    );
    // A compatible bump changes no code: `legacy`, which depends on tools, is in the gate.
    assert_eq!(plan.stages.len(), 1);
    assert_eq!(plan.stages[0].dependents, ["legacy"]);
    assert_eq!(
        gate_lines(&plan.stages[0])[0],
        "cargo test -p legacy -p tools"
    );
}

#[test]
fn shared_dependency_entry_compatible_target_is_one_edit_in_one_stage() {
    let workspace = load("inherited");
    let text = plan(
        &workspace,
        Goal::dep("bytes@1.9").unwrap(),
        PlanFormat::Text,
    );
    insta::assert_snapshot!(text);
}

#[test]
fn shared_dependency_entry_incompatible_target_edits_are_machine_readable() {
    let workspace = load("inherited");
    let json = plan(&workspace, Goal::dep("bytes@2").unwrap(), PlanFormat::Json);
    insta::assert_snapshot!(json);
}

#[test]
fn inherited_edition_moves_in_one_edit_and_own_editions_follow() {
    let workspace = load("inherited");
    let text = plan(&workspace, Goal::edition("2024").unwrap(), PlanFormat::Text);
    insta::assert_snapshot!(text);
}

#[test]
fn done_detection_reads_the_toolchain_pin_and_downgrades_are_errors() {
    let workspace = load("inherited");
    let pending = build_plan(&workspace, &Goal::toolchain("1.96").unwrap()).unwrap();
    let pin = &pending.stages[0].changes[0];
    assert_eq!(
        (
            pin.file.as_deref(),
            pin.line,
            pin.from.as_deref(),
            pin.to.as_deref()
        ),
        (
            Some("rust-toolchain.toml"),
            Some(2),
            Some("1.95.0"),
            Some("1.96")
        )
    );
    assert_eq!(pending.stages[0].status, Status::Pending);
    let done = build_plan(&workspace, &Goal::toolchain("1.95.0").unwrap()).unwrap();
    assert_eq!(done.stages[0].status, Status::Done);
    let errors = [
        error_of(build_plan(&workspace, &Goal::toolchain("1.90").unwrap())),
        error_of(build_plan(&workspace, &Goal::edition("2015").unwrap())),
        error_of(build_plan(&workspace, &Goal::dep("bytes@0.4").unwrap())),
        error_of(build_plan(&workspace, &Goal::krate("io@0.3.0").unwrap())),
    ];
    insta::assert_snapshot!(errors.join("\n"));
    let allowed = graywork_plan::plan(
        &workspace,
        &TreeFacts::collect(&workspace),
        &Goal::toolchain("1.90").unwrap(),
        &PlanOptions {
            allow_downgrade: true,
            ..PlanOptions::default()
        },
    )
    .unwrap();
    assert!(
        allowed.warnings[0].contains("downgrade"),
        "{:?}",
        allowed.warnings
    );
}

#[test]
fn commented_out_patch_leaves_the_registry_dependency_external() {
    let workspace = load("commented-patch");
    let frontend = workspace.member("frontend").unwrap();
    assert_eq!(frontend.dependencies[0].member, None);
    let plan = build_plan(&workspace, &Goal::krate("engine@0.6.0").unwrap()).unwrap();
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    assert_eq!(plan.stages.len(), 1);
    assert_eq!(plan.stages[0].crates, ["engine"]);
    // A real [patch] makes the edge, with one warning per patch entry.
    let patched = build_plan(
        &load("patched"),
        &Goal::krate("engine-macros@0.6.0").unwrap(),
    )
    .unwrap();
    assert_eq!(patched.warnings.len(), 2, "{:?}", patched.warnings);
    assert!(patched.warnings.iter().all(|w| w.contains("--resolve")));
}

#[test]
fn side_by_side_renames_feature_references_in_place() {
    let side_by_side = PlanOptions {
        strategy: graywork_plan::Strategy::SideBySide,
        ..PlanOptions::default()
    };
    let dir = copy_fixture("majors");
    let manifest = dir.path().join("Cargo.toml");
    let goal = Goal::dep("tiny@2").unwrap();
    let mut texts = Vec::new();
    for stage in 1..=3 {
        let workspace = Workspace::load(&cargo_source(&manifest, ResolveMode::NoDeps)).unwrap();
        let plan = graywork_plan::plan(
            &workspace,
            &TreeFacts::collect(&workspace),
            &goal,
            &side_by_side,
        )
        .unwrap();
        apply_stage(dir.path(), &plan, stage, ApplyOptions::default()).unwrap();
    }
    for file in ["Cargo.toml", "feed/Cargo.toml"] {
        texts.push(format!(
            "--- {file}\n{}",
            std::fs::read_to_string(dir.path().join(file)).unwrap()
        ));
    }
    insta::assert_snapshot!(texts.join("\n"));
}

#[test]
fn apply_dry_run_prints_a_diff_and_writes_nothing() {
    let dir = copy_fixture("inherited");
    let manifest = dir.path().join("Cargo.toml");
    let before = std::fs::read_to_string(&manifest).unwrap();
    let workspace = Workspace::load(&cargo_source(&manifest, ResolveMode::NoDeps)).unwrap();
    let plan = build_plan(&workspace, &Goal::krate("kernel@0.5.0").unwrap()).unwrap();
    let options = ApplyOptions {
        dry_run: true,
        ..ApplyOptions::default()
    };
    let report = apply_stage(dir.path(), &plan, 1, options).unwrap();
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), before);
    insta::assert_snapshot!(render_report(&report, true));
}

#[test]
fn apply_keeps_comments_refuses_out_of_order_and_is_idempotent() {
    let dir = copy_fixture("inherited");
    let manifest = dir.path().join("Cargo.toml");
    let load_copy = || Workspace::load(&cargo_source(&manifest, ResolveMode::NoDeps)).unwrap();
    let staged = build_plan(&load_copy(), &Goal::dep("bytes@2").unwrap()).unwrap();
    let refused = apply_stage(dir.path(), &staged, 2, ApplyOptions::default()).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "--apply 2: stage 1 (upgrade the shared bytes entry to 2.0.0) is pending; apply it first, or pass --force"
    );
    let missing = apply_stage(dir.path(), &staged, 3, ApplyOptions::default()).unwrap_err();
    assert_eq!(missing.to_string(), "--apply 3: the plan has 2 stages");
    let goal = Goal::krate("tools@2.0.0").unwrap();
    let plan = build_plan(&load_copy(), &goal).unwrap();
    let first = apply_stage(dir.path(), &plan, 1, ApplyOptions::default()).unwrap();
    insta::assert_snapshot!(render_report(&first, false));
    let tools = std::fs::read_to_string(dir.path().join("tools/Cargo.toml")).unwrap();
    assert!(tools.starts_with("# A member with a version"), "{tools}");
    assert!(tools.contains("version = \"2.0.0\"\n"), "{tools}");
    let plan = build_plan(&load_copy(), &goal).unwrap();
    let again = apply_stage(dir.path(), &plan, 1, ApplyOptions::default()).unwrap();
    assert!(again.changed.is_empty(), "{:?}", again.changed);
    // The toolchain pin keeps its comment and its other keys.
    let plan = build_plan(&load_copy(), &Goal::toolchain("1.96").unwrap()).unwrap();
    apply_stage(dir.path(), &plan, 1, ApplyOptions::default()).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("rust-toolchain.toml")).unwrap(),
        "[toolchain]\nchannel = \"1.96\" # pinned for CI\ncomponents = [\"clippy\"]\n"
    );
    // --force applies out of order.
    let forced = ApplyOptions {
        force: true,
        ..ApplyOptions::default()
    };
    let report = apply_stage(dir.path(), &staged, 2, forced).unwrap();
    assert_eq!(
        report.changed,
        ["tools/Cargo.toml:10 dependencies.bytes: \"1.4\" -> \"2.0.0\""]
    );
}

#[test]
fn a_dep_upgrade_keeps_how_each_requirement_is_written() {
    // An exact pin stays exact and a tilde a tilde: the new version, written the same way.
    let dir = copy_fixture("inherited");
    let root = dir.path().join("Cargo.toml");
    let tools = dir.path().join("tools/Cargo.toml");
    let edit = |path: &std::path::Path, from: &str, to: &str| {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains(from), "{text}");
        std::fs::write(path, text.replace(from, to)).unwrap();
    };
    edit(
        &root,
        "bytes = { version = \"1.5\",",
        "bytes = { version = \"=1.5.0\",",
    );
    edit(&tools, "bytes = \"1.4\"", "bytes = \"~1.4\"");
    let load_copy = || Workspace::load(&cargo_source(&root, ResolveMode::NoDeps)).unwrap();
    let goal = Goal::dep("bytes@2").unwrap();
    let plan = build_plan(&load_copy(), &goal).unwrap();
    let edits: Vec<(&str, &str)> = plan
        .stages
        .iter()
        .flat_map(|stage| &stage.changes)
        .filter_map(|change| Some((change.from.as_deref()?, change.to.as_deref()?)))
        .collect();
    assert_eq!(edits, [("=1.5.0", "=2.0.0"), ("~1.4", "~2.0.0")]);
    for stage in 1..=plan.stages.len() {
        let plan = build_plan(&load_copy(), &goal).unwrap();
        apply_stage(dir.path(), &plan, stage, ApplyOptions::default()).unwrap();
    }
    let text = std::fs::read_to_string(&root).unwrap();
    assert!(text.contains("bytes = { version = \"=2.0.0\","), "{text}");
    let text = std::fs::read_to_string(&tools).unwrap();
    assert!(text.contains("bytes = \"~2.0.0\""), "{text}");
    // Applied, the plan is done: both requirements admit the target.
    let plan = build_plan(&load_copy(), &goal).unwrap();
    assert!(
        plan.stages.iter().all(|stage| stage.status == Status::Done),
        "{:?}",
        plan.stages
    );
}
