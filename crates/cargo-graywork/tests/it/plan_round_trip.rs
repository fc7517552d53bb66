//! Round trips of `upgrade-plan`: plan fixture workspaces (and this one) with the command line's
//! tree facts (`cargo_graywork::tree_facts`, which reads public APIs with graywork-contracts),
//! apply every stage to a copy and check, after each, that the manifests load, the members
//! that moved have the new setting and, where a fixture holds real code, that the tree builds.
//! The planner's own tests are in `crates/graywork-plan/tests/it`.

use std::path::Path;
use std::process::Command;

use graywork_plan::{
    ApplyOptions, Goal, Plan, PlanFormat, PlanOptions, Status, TreeFacts, apply_stage,
};
use graywork_workspace::{ResolveMode, Workspace};

#[path = "../../../graywork-plan/tests/it/support.rs"]
mod support;

use support::{
    assert_gates_cover, cargo_source, copy_fixture, copy_tree, fixtures, gate_lines, load,
};

/// Whether a member's effective setting (after inheritance) is the goal's. For a crate bump
/// that is the bumped members' version, and for the members depending on them, that every
/// requirement on them admits the new version.
fn setting_is_new(workspace: &Workspace, member: &str, goal: &Goal) -> bool {
    let member = workspace.member(member).unwrap();
    match goal {
        Goal::Crate { name, version } => {
            let site = |m: usize| &workspace.declarations.members[m].version.site;
            let bumped_site = site(workspace.member_index(name).unwrap());
            let position = workspace.member_index(&member.name).unwrap();
            if site(position) == bumped_site {
                return member.version == *version;
            }
            let uses: Vec<_> = member
                .dependencies
                .iter()
                .filter(|d| d.member.is_some_and(|to| site(to) == bumped_site))
                .collect();
            !uses.is_empty() && uses.iter().all(|d| d.req.matches(version))
        }
        Goal::Dep { name, version } => {
            let uses: Vec<_> = member
                .dependencies
                .iter()
                .filter(|d| d.name == *name && d.member.is_none())
                .collect();
            !uses.is_empty()
                && uses
                    .iter()
                    .all(|d| graywork_plan::planner::requirement_meets(&d.req, version))
        }
        Goal::Edition { edition } => member.edition == edition.to_string(),
        Goal::Toolchain { text, .. } => workspace
            .declarations
            .toolchain
            .as_ref()
            .is_some_and(|pin| pin.value == *text),
        Goal::Contract { .. } => unreachable!("contract plans change code, not settings"),
    }
}

/// Asserts that no member's `rust-version` is below that of a member it depends on through
/// normal or build edges (what `check-toolchain` refuses).
fn assert_msrv_order(workspace: &Workspace, context: &str) {
    let graph = graywork_plan::graph::DepGraph::build(workspace);
    for (m, member) in workspace.members.iter().enumerate() {
        let Some(own) = &member.rust_version else {
            continue;
        };
        for (to, edge) in graph.dependencies(m) {
            if let Some(theirs) = &workspace.members[to].rust_version
                && edge.orders()
            {
                assert!(
                    own >= theirs,
                    "{context}: {} ({own}) depends on {} ({theirs})",
                    member.name,
                    workspace.members[to].name
                );
            }
        }
    }
}

/// The crates of each stage, to compare a plan's shape before and after stages are applied.
fn shape(plan: &Plan) -> Vec<(String, Vec<String>)> {
    plan.stages
        .iter()
        .map(|stage| (stage.name.clone(), stage.crates.clone()))
        .collect()
}

/// Applies every stage of the plan for `goal` to a copy of the workspace at `source`, in
/// order, and checks after each that `cargo metadata --no-deps` accepts the manifests and that
/// each member's effective setting is new exactly when the member is in stages 1..k (or was
/// new before the plan). Returns the number of stages.
fn round_trip(source: &Path, goal: &Goal) -> usize {
    round_trip_with(source, goal, &PlanOptions::default())
}

/// [`round_trip`] with planning options.
fn round_trip_with(source: &Path, goal: &Goal, options: &PlanOptions) -> usize {
    round_trip_in(source, goal, options, false).0
}

/// The code changes a stage lists for people, made as people would: a fixture member may hold
/// `adapt/TARGET.STRATEGY.PHASE.rs`, `adapt/TARGET.PHASE.rs` or `adapt/TARGET.rs` (TARGET as
/// the goal prints it, `tiny@2.0.0`; the first that exists), its `src/lib.rs` once a stage that
/// changes it (its crates, or a change naming it) is applied.
fn adapt_code(
    workspace: &Workspace,
    stage: &graywork_plan::Stage,
    goal: &Goal,
    options: &PlanOptions,
) {
    let mut names: Vec<&String> = stage.crates.iter().collect();
    names.extend(
        stage
            .changes
            .iter()
            .filter_map(|change| change.crate_name.as_ref()),
    );
    names.sort();
    names.dedup();
    let target = goal.target();
    let phase = stage.phase;
    let strategy = options.strategy.as_str();
    for name in names {
        let member = workspace.member(name).unwrap();
        let adapt = member.manifest_dir().as_std_path().join("adapt");
        let candidates = [
            format!("{target}.{strategy}.{phase}.rs"),
            format!("{target}.{phase}.rs"),
            format!("{target}.rs"),
        ];
        if let Some(source) = candidates
            .iter()
            .map(|file| adapt.join(file))
            .find(|path| path.is_file())
        {
            std::fs::copy(
                &source,
                member.manifest_dir().as_std_path().join("src/lib.rs"),
            )
            .unwrap();
        }
    }
}

/// `cargo check --workspace --all-targets --offline` in the copy at `root`, with its own target
/// directory.
fn assert_builds(root: &Path, context: &str) {
    let output = Command::new(graywork_workspace::cargo_program())
        .args([
            "check",
            "--workspace",
            "--all-targets",
            "--offline",
            "--quiet",
        ])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{context}: the tree does not build:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Builds what each `cargo test` and `cargo clippy` line of the stage's gate builds (as
/// `cargo check --all-targets`, with the same packages and features), in the copy at `root`:
/// a gate that can never pass fails here.
fn assert_gates_build(root: &Path, stage: &graywork_plan::Stage, context: &str) {
    for gate in &gate_lines(stage) {
        let Some(args) = gate
            .strip_prefix("cargo test ")
            .or_else(|| gate.strip_prefix("cargo clippy "))
        else {
            continue;
        };
        let args = args.split(" -- ").next().unwrap_or_default();
        let output = Command::new(graywork_workspace::cargo_program())
            .args(["check", "--all-targets", "--offline", "--quiet"])
            .args(
                args.split_whitespace()
                    .filter(|arg| *arg != "--all-targets"),
            )
            .current_dir(root)
            .env("CARGO_TARGET_DIR", root.join("target"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{context}: `{gate}` cannot pass:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// [`round_trip_with`], also making the code changes the fixture holds (see [`adapt_code`])
/// and, with `build`, building the tree before the plan and after each stage. Returns the
/// number of stages and the copy.
fn round_trip_in(
    source: &Path,
    goal: &Goal,
    options: &PlanOptions,
    build: bool,
) -> (usize, tempfile::TempDir) {
    let build_plan = |workspace: &Workspace, goal: &Goal| {
        let mut facts = cargo_graywork::tree_facts(workspace, goal, options.strategy);
        graywork_plan::plan_reading_guards(workspace, &mut facts, goal, options)
    };
    let dir = tempfile::tempdir().unwrap();
    copy_tree(source, dir.path());
    let manifest = dir.path().join("Cargo.toml");
    let load_copy = || Workspace::load(&cargo_source(&manifest, ResolveMode::NoDeps)).unwrap();
    let initial = load_copy();
    let first = build_plan(&initial, goal).unwrap();
    assert_gates_cover(&initial, &first);
    if build {
        assert_builds(dir.path(), &format!("{goal}: before the plan"));
    }
    let new_before: Vec<String> = initial
        .members
        .iter()
        .filter(|m| {
            !matches!(goal, Goal::Toolchain { .. }) && setting_is_new(&initial, &m.name, goal)
        })
        .map(|m| m.name.clone())
        .collect();
    for k in 1..=first.stages.len() {
        let workspace = load_copy();
        let plan = build_plan(&workspace, goal).unwrap();
        assert_eq!(
            shape(&plan),
            shape(&first),
            "{goal}: the plan keeps its shape"
        );
        assert_gates_cover(&workspace, &plan);
        apply_stage(dir.path(), &plan, k, ApplyOptions::default())
            .unwrap_or_else(|error| panic!("{goal}: stage {k}: {error}"));
        let after = load_copy();
        adapt_code(&after, &plan.stages[k - 1], goal, options);
        if build {
            assert_builds(dir.path(), &format!("{goal}: after stage {k}"));
            assert_gates_build(
                dir.path(),
                &plan.stages[k - 1],
                &format!("{goal}: stage {k}"),
            );
        }
        assert_msrv_order(&after, &format!("{goal}: after stage {k}"));
        let moved: Vec<&String> = first.stages[..k]
            .iter()
            .flat_map(|stage| &stage.crates)
            .collect();
        for member in &after.members {
            let expected = moved.contains(&&member.name) || new_before.contains(&member.name);
            assert_eq!(
                setting_is_new(&after, &member.name, goal),
                expected,
                "{goal}: after stage {k}, {}",
                member.name
            );
        }
    }
    // Everything is done now, and applying again changes nothing.
    let workspace = load_copy();
    let plan = build_plan(&workspace, goal).unwrap();
    for stage in &plan.stages {
        assert_eq!(stage.status, Status::Done, "{goal}: stage {}", stage.index);
        let again = apply_stage(dir.path(), &plan, stage.index, ApplyOptions::default()).unwrap();
        assert!(again.changed.is_empty(), "{goal}: {:?}", again.changed);
    }
    (first.stages.len(), dir)
}

#[test]
fn fixture_with_real_code_builds_after_every_stage() {
    // A dependency's new major in lockstep, the same side by side, and a member's breaking
    // bump: each stage leaves a tree that builds, once the code changes it lists are made.
    let side_by_side = PlanOptions {
        strategy: graywork_plan::Strategy::SideBySide,
        ..PlanOptions::default()
    };
    let source = fixtures().join("majors");
    let tiny = Goal::dep("tiny@2").unwrap();
    let (stages, _) = round_trip_in(&source, &tiny, &PlanOptions::default(), true);
    assert_eq!(stages, 1);
    // `feed`'s `nightly` needs a `--cfg` flag: its gates name the features that build.
    let workspace = load("majors");
    let plan = graywork_plan::plan_reading_guards(
        &workspace,
        &mut TreeFacts::collect(&workspace),
        &tiny,
        &PlanOptions::default(),
    )
    .unwrap();
    assert_eq!(
        gate_lines(&plan.stages[0]),
        [
            "cargo test --workspace",
            "cargo test -p feed --features stamps,verbose",
            "cargo build --workspace --all-targets"
        ]
    );
    assert!(
        plan.warnings.contains(&"feed: its gates name the features it builds with instead of --all-features: its source refuses `full` and `nightly` without `--cfg feed_nightly` (compile_error! at feed/src/lib.rs:5)".to_owned()),
        "{:?}",
        plan.warnings
    );
    let (stages, dir) = round_trip_in(&source, &tiny, &side_by_side, true);
    assert_eq!(stages, 4);
    // Side by side ends where lockstep does: the old entry, its comments and its place kept,
    // holding the new version, and each member's manifest as it was (features included).
    let original = std::fs::read_to_string(source.join("Cargo.toml")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap(),
        original.replace(
            "tiny = { version = \"1\", default-features = false }",
            "tiny = { version = \"2.0.0\", default-features = false }"
        )
    );
    for member in ["clock", "feed", "cli"] {
        let manifest = format!("{member}/Cargo.toml");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(&manifest)).unwrap(),
            std::fs::read_to_string(source.join(&manifest)).unwrap(),
            "{manifest}"
        );
    }
    let clock = Goal::krate("clock@0.2.0").unwrap();
    let (stages, _) = round_trip_in(&source, &clock, &PlanOptions::default(), true);
    assert_eq!(stages, 1);
    // Side by side, `feed` and `cli` keep clock 0.1.0 (published, here through [patch]) and
    // move one by one.
    let workspace = load("majors");
    let mut facts = cargo_graywork::tree_facts(&workspace, &clock, side_by_side.strategy);
    let plan =
        graywork_plan::plan_reading_guards(&workspace, &mut facts, &clock, &side_by_side).unwrap();
    insta::assert_snapshot!(
        "crate_side_by_side",
        graywork_plan::render_plan(&plan, PlanFormat::Text)
    );
    let (stages, dir) = round_trip_in(&source, &clock, &side_by_side, true);
    assert_eq!(stages, 4);
    let original = std::fs::read_to_string(source.join("Cargo.toml")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap(),
        original.replace(
            "clock = { path = \"clock\", version = \"0.1.0\" }",
            "clock = { path = \"clock\", version = \"0.2.0\" }"
        )
    );
    // Without a published old version there is nothing to keep: the plan says so.
    let mut unpublished = facts.clone();
    unpublished.available.clear();
    let error = graywork_plan::plan(&workspace, &unpublished, &clock, &side_by_side).unwrap_err();
    assert!(
        error.to_string().starts_with("--crate clock@0.2.0 --strategy side-by-side: no published clock 0.1.0 is where cargo finds it offline"),
        "{error}"
    );
}

#[test]
fn staged_inherited_edition_moves_dependents_first_and_inherits_again() {
    let staged = PlanOptions {
        strategy: graywork_plan::Strategy::Staged,
        ..PlanOptions::default()
    };
    let workspace = load("inherited");
    let goal = Goal::edition("2024").unwrap();
    let plan =
        graywork_plan::plan(&workspace, &TreeFacts::collect(&workspace), &goal, &staged).unwrap();
    insta::assert_snapshot!(graywork_plan::render_plan(&plan, PlanFormat::Text));
    let (stages, dir) = round_trip_in(&fixtures().join("inherited"), &goal, &staged, false);
    assert_eq!(stages, 4);
    // Every member inherits the workspace's edition and rust-version again at the end.
    let root = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    assert!(
        root.contains("edition = \"2024\"\nrust-version = \"1.85\""),
        "{root}"
    );
    for member in ["app", "io", "kernel", "tools", "legacy"] {
        let manifest = std::fs::read_to_string(dir.path().join(member).join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("edition.workspace = true"),
            "{member}: {manifest}"
        );
        assert!(
            !manifest.contains("rust-version = "),
            "{member}: {manifest}"
        );
    }
    // Other goals take no such strategy.
    let error = graywork_plan::plan(
        &workspace,
        &TreeFacts::collect(&workspace),
        &Goal::dep("bytes@2").unwrap(),
        &staged,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "--strategy staged: it applies to --edition, not to --dep goals"
    );
}

#[test]
fn target_tables_are_matched_the_way_cargo_reads_them() {
    // `cargo metadata` prints `cfg(all(windows, not(unix)))`; the manifest spells it without
    // spaces. The edit lands in that table, keeping its other keys, and adds none.
    let dir = copy_fixture("cycle");
    let manifest = dir.path().join("top/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "[target.'cfg(windows)'.dependencies]\nserde = { version = \"2.0.1\" }",
        "[target.'cfg(all(windows,not(unix)))'.dependencies]\nserde = { version = \"1.5\", default-features = false }",
    );
    std::fs::write(&manifest, &text).unwrap();
    let goal = Goal::dep("serde@2").unwrap();
    let (_, copy) = round_trip_in(dir.path(), &goal, &PlanOptions::default(), false);
    let after = std::fs::read_to_string(copy.path().join("top/Cargo.toml")).unwrap();
    assert_eq!(after.matches("[target.").count(), 1, "{after}");
    assert!(
        after.contains("[target.'cfg(all(windows,not(unix)))'.dependencies]\nserde = { version = \"2.0.0\", default-features = false }"),
        "{after}"
    );
}

#[test]
fn round_trip_applies_every_stage_of_fixture_plans() {
    let cases = [
        ("inherited", Goal::krate("kernel@0.5.0").unwrap(), 1),
        ("inherited", Goal::krate("tools@2.0.0").unwrap(), 1),
        ("inherited", Goal::dep("bytes@1.9").unwrap(), 1),
        ("inherited", Goal::dep("bytes@2").unwrap(), 2),
        ("inherited", Goal::dep("itoa@2").unwrap(), 1),
        ("inherited", Goal::edition("2024").unwrap(), 2),
        ("inherited", Goal::toolchain("1.96").unwrap(), 1),
        ("layered", Goal::krate("base@0.2.0").unwrap(), 1),
        ("layered", Goal::toolchain("1.96").unwrap(), 1),
        ("patched", Goal::krate("engine-macros@0.6.0").unwrap(), 1),
        ("cycle", Goal::dep("serde@2").unwrap(), 3),
    ];
    let expected: Vec<String> = cases
        .iter()
        .map(|(fixture, goal, stages)| format!("{fixture}: {goal}: {stages}"))
        .collect();
    let actual: Vec<String> = cases
        .iter()
        .map(|(fixture, goal, _)| {
            format!(
                "{fixture}: {goal}: {}",
                round_trip(&fixtures().join(fixture), goal)
            )
        })
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn side_by_side_moves_a_shared_entry_in_stages_and_round_trips() {
    let side_by_side = PlanOptions {
        strategy: graywork_plan::Strategy::SideBySide,
        ..PlanOptions::default()
    };
    let workspace = load("inherited");
    let plan = graywork_plan::plan(
        &workspace,
        &TreeFacts::collect(&workspace),
        &Goal::dep("bytes@2").unwrap(),
        &side_by_side,
    )
    .unwrap();
    insta::assert_snapshot!(graywork_plan::render_plan(&plan, PlanFormat::Text));
    let stages = round_trip_with(
        &fixtures().join("inherited"),
        &Goal::dep("bytes@2").unwrap(),
        &side_by_side,
    );
    assert_eq!(stages, 5);
}

#[test]
fn side_by_side_moves_a_member_that_exposes_the_dependency_with_its_users() {
    let side_by_side = PlanOptions {
        strategy: graywork_plan::Strategy::SideBySide,
        ..PlanOptions::default()
    };
    let goal = Goal::dep("bytes@2").unwrap();
    let workspace = load("exposed");
    let facts = cargo_graywork::tree_facts(&workspace, &goal, side_by_side.strategy);
    // `wire` and `codec` name bytes' types, `store` re-exports one; `proto` only uses bytes
    // inside a function body. Only `wire` and `proto` have a dependent that uses bytes, so
    // only their public APIs can tie them to another member: `codec` and `store` are not read.
    let read = graywork_plan::staged_members(
        &workspace,
        "bytes",
        &semver::Version::new(2, 0, 0),
        side_by_side.strategy,
    );
    let read = member_names(&workspace, &read);
    assert_eq!(read, ["wire", "proto"]);
    let exposers = member_names(&workspace, facts.exposures.keys());
    assert_eq!(exposers, ["wire"]);
    // Read anyway, `codec` and `store` do name bytes' types.
    for member in ["codec", "store"] {
        let dir = workspace.member(member).unwrap().manifest_dir();
        let mentions = graywork_contracts::public_api_mentions(
            workspace.root.as_std_path(),
            dir.as_std_path(),
            &["bytes".to_owned()],
        )
        .unwrap();
        assert!(!mentions.is_empty(), "{member}");
    }
    let plan = graywork_plan::plan(&workspace, &facts, &goal, &side_by_side).unwrap();
    insta::assert_snapshot!(graywork_plan::render_plan(&plan, PlanFormat::Text));
    // Alone, `wire` would move first, beside `proto`; it waits for `codec`, which uses its
    // frames' bytes, and the two move in one stage. `store` has no dependents: it moves alone.
    let crates: Vec<Vec<&str>> = plan
        .stages
        .iter()
        .map(|stage| stage.crates.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        crates,
        [
            vec![],
            vec!["proto", "store"],
            vec!["codec", "wire"],
            vec!["codec", "proto", "store", "wire"]
        ]
    );
    let explain = PlanOptions {
        explain: Some("wire".to_owned()),
        ..side_by_side.clone()
    };
    let explained = graywork_plan::plan(&workspace, &facts, &goal, &explain).unwrap();
    let why =
        graywork_plan::render_explain(&explained, &workspace, "wire", PlanFormat::Text).unwrap();
    assert!(
        why.contains("wire names bytes types in its public API, so it moves in one stage with its dependents that use bytes too"),
        "{why}"
    );
    // Lockstep needs no reading of sources: one stage moves every user.
    let lockstep = cargo_graywork::tree_facts(&workspace, &goal, graywork_plan::Strategy::Lockstep);
    assert!(lockstep.exposures.is_empty());
    assert_eq!(
        round_trip_with(&fixtures().join("exposed"), &goal, &side_by_side),
        4
    );
}

#[test]
fn own_requirements_moving_to_a_new_major_tie_an_exposing_member_to_its_users() {
    // The same workspace with each member declaring its own bytes requirement.
    let dir = copy_fixture("exposed");
    for member in ["wire", "proto", "codec", "store"] {
        let manifest = dir.path().join(member).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(
            &manifest,
            text.replace("bytes.workspace = true", "bytes = \"1.5\""),
        )
        .unwrap();
    }
    let workspace = Workspace::load(&cargo_source(
        &dir.path().join("Cargo.toml"),
        ResolveMode::NoDeps,
    ))
    .unwrap();
    let crates_of = |goal: &Goal| -> Vec<Vec<String>> {
        let facts = cargo_graywork::tree_facts(&workspace, goal, Default::default());
        let plan = graywork_plan::plan(&workspace, &facts, goal, &PlanOptions::default()).unwrap();
        plan.stages
            .iter()
            .map(|stage| stage.crates.clone())
            .collect()
    };
    // A new major: wire waits for codec, which uses its frames' bytes.
    let major = Goal::dep("bytes@2").unwrap();
    assert_eq!(
        crates_of(&major),
        [vec!["proto", "store"], vec!["codec", "wire"]]
    );
    assert_eq!(round_trip(dir.path(), &major), 2);
    // A compatible target needs no tie and no reading of sources: one stage moves everyone.
    let minor = Goal::dep("bytes@1.9").unwrap();
    let facts = cargo_graywork::tree_facts(&workspace, &minor, Default::default());
    assert!(facts.exposures.is_empty());
    assert_eq!(crates_of(&minor), [vec!["codec", "proto", "store", "wire"]]);
}

#[test]
fn a_shared_entry_moving_in_lockstep_takes_along_own_requirements_tied_to_its_users() {
    // One member declares bytes itself, the others inherit the shared entry. Whether the own
    // one is `wire` (it exposes bytes to `codec`, a user of the shared entry) or `codec` (it
    // uses the bytes types `wire` exposes), it moves in the shared entry's stage.
    for own in ["wire", "codec"] {
        let dir = copy_fixture("exposed");
        let manifest = dir.path().join(own).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(
            &manifest,
            text.replace("bytes.workspace = true", "bytes = \"1.5\""),
        )
        .unwrap();
        let workspace = Workspace::load(&cargo_source(
            &dir.path().join("Cargo.toml"),
            ResolveMode::NoDeps,
        ))
        .unwrap();
        let goal = Goal::dep("bytes@2").unwrap();
        let facts = cargo_graywork::tree_facts(&workspace, &goal, Default::default());
        let plan = graywork_plan::plan(&workspace, &facts, &goal, &PlanOptions::default()).unwrap();
        let crates: Vec<Vec<&str>> = plan
            .stages
            .iter()
            .map(|stage| stage.crates.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(crates, [vec!["codec", "proto", "store", "wire"]], "{own}");
        let edit = plan.stages[0]
            .changes
            .iter()
            .find(|change| change.crate_name.as_deref() == Some(own))
            .unwrap();
        assert!(
            edit.change.contains("with the shared entry: "),
            "{}",
            edit.change
        );
        assert_eq!(round_trip(dir.path(), &goal), 1, "{own}");
        // Side by side, own requirements move first: the tie cannot be kept, and the plan
        // says so.
        let side_by_side = PlanOptions {
            strategy: graywork_plan::Strategy::SideBySide,
            ..PlanOptions::default()
        };
        let facts = cargo_graywork::tree_facts(&workspace, &goal, side_by_side.strategy);
        let plan = graywork_plan::plan(&workspace, &facts, &goal, &side_by_side).unwrap();
        assert!(
            plan.warnings.iter().any(|w| w.starts_with(
                "`wire` names bytes types in its public API and `codec` uses them, but"
            )),
            "{own}: {:?}",
            plan.warnings
        );
    }
}

#[test]
fn side_by_side_takes_a_member_whose_public_api_cannot_be_read_to_expose() {
    // `proto` only uses bytes inside a function; unreadable, it is taken to expose bytes and
    // tied to `codec` (which depends on it and uses bytes), and the plan says why.
    let dir = copy_fixture("exposed");
    std::fs::write(dir.path().join("proto/src/lib.rs"), "pub fn checksum(\n").unwrap();
    let workspace = Workspace::load(&cargo_source(
        &dir.path().join("Cargo.toml"),
        ResolveMode::NoDeps,
    ))
    .unwrap();
    let goal = Goal::dep("bytes@2").unwrap();
    let options = PlanOptions {
        strategy: graywork_plan::Strategy::SideBySide,
        ..PlanOptions::default()
    };
    let facts = cargo_graywork::tree_facts(&workspace, &goal, options.strategy);
    let plan = graywork_plan::plan(&workspace, &facts, &goal, &options).unwrap();
    let warning = plan
        .warnings
        .iter()
        .find(|w| w.starts_with("cannot read the public API of `proto`"))
        .unwrap_or_else(|| panic!("{:?}", plan.warnings));
    assert!(warning.contains("proto/src/lib.rs:"), "{warning}");
    let crates: Vec<Vec<&str>> = plan
        .stages
        .iter()
        .map(|stage| stage.crates.iter().map(String::as_str).collect())
        .collect();
    // Tied to codec, proto no longer moves before it: one migration stage holds them all.
    assert_eq!(
        crates,
        [
            vec![],
            vec!["codec", "proto", "store", "wire"],
            vec!["codec", "proto", "store", "wire"]
        ]
    );
    let note = plan.stages[1]
        .changes
        .iter()
        .find(|change| change.crate_name.as_deref() == Some("proto"))
        .unwrap();
    assert!(
        note.change
            .starts_with("the public API of `proto` could not be read"),
        "{}",
        note.change
    );
}

#[test]
fn round_trip_on_this_workspace() {
    // This crate is `crates/cargo-graywork`: the workspace's root is two directories up.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap();
    for goal in [
        Goal::krate("shared@0.4.0").unwrap(),
        Goal::dep("rusqlite@0.38").unwrap(),
    ] {
        assert!(round_trip(root, &goal) >= 1, "{goal}");
    }
}

#[test]
fn lockstep_reads_only_the_shared_users_an_own_requirement_depends_on() {
    let goal = Goal::dep("bytes@2").unwrap();
    let workspace = load("lockstep-ties");
    // `base` names bytes' types, but its only dependent using bytes (`codec`) inherits the
    // shared entry too: the one edit moves both, so `base` is not read. `wire` is, since
    // `edge`, with a requirement of its own, uses its frames; `leaf` is, since `codec` uses
    // its chunks.
    let read = graywork_plan::staged_members(
        &workspace,
        "bytes",
        &semver::Version::new(2, 0, 0),
        graywork_plan::Strategy::Lockstep,
    );
    let read = member_names(&workspace, &read);
    assert_eq!(read, ["wire", "leaf"]);
    let facts = cargo_graywork::tree_facts(&workspace, &goal, graywork_plan::Strategy::Lockstep);
    let exposers = member_names(&workspace, facts.exposures.keys());
    assert_eq!(exposers, ["wire", "leaf"]);
    let plan = graywork_plan::plan(&workspace, &facts, &goal, &PlanOptions::default()).unwrap();
    let text = graywork_plan::render_plan(&plan, PlanFormat::Text);
    // Both own requirements move with the shared entry, each with its reason.
    assert_eq!(plan.stages.len(), 1, "{text}");
    assert_eq!(
        plan.stages[0].crates,
        ["base", "codec", "edge", "leaf", "wire"],
        "{text}"
    );
    assert!(
        text.contains(
            "with the shared entry: it uses the bytes types `wire` names in its public API"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "with the shared entry: it names bytes types in its public API, and `codec` uses them"
        ),
        "{text}"
    );
    // Reading every user would give the same plan: what `base` names decides nothing.
    let mut every = facts.clone();
    let base = workspace.member_index("base").unwrap();
    every.exposures.insert(
        base,
        vec![graywork_plan::Exposure {
            item: "body".to_owned(),
            file: "base/src/lib.rs".to_owned(),
            line: 4,
            text: "bytes::Bytes".to_owned(),
        }],
    );
    let with_base =
        graywork_plan::plan(&workspace, &every, &goal, &PlanOptions::default()).unwrap();
    assert_eq!(
        graywork_plan::render_plan(&with_base, PlanFormat::Text),
        text
    );
}

/// The names of the members at `positions`, in that order.
fn member_names<'w>(
    workspace: &'w Workspace,
    positions: impl IntoIterator<Item = &'w usize>,
) -> Vec<&'w str> {
    positions
        .into_iter()
        .map(|&m| workspace.members[m].name.as_str())
        .collect()
}
