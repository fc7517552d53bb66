//! `cargo graywork outdated` in a workspace whose registry the test builds (the fixture of
//! `graywork-outdated`'s tests): the table, the plans with stage counts, `--offline`, and
//! errors with exit code 2.

use std::process::Command;

use crate::support::{cargo_graywork, graywork, path_with_binary, run, stderr, stdout};

#[path = "../../../graywork-outdated/tests/it/fixture.rs"]
mod fixture;

use fixture::{Fixture, RegistryKind};
use graywork_plan::Goal;
use graywork_workspace::Workspace;

/// The fixture's workspace, loaded with its `CARGO_HOME` (which defines its registries).
fn load(fixture: &Fixture) -> Workspace {
    let output = run(fixture.cargo(&["metadata", "--no-deps", "--format-version", "1"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let mut workspace = Workspace::from_json(&stdout(&output)).unwrap();
    workspace.read_manifests().unwrap();
    workspace
}

/// `(…, 2 stages)` -> `(…, N stages)`.
fn redact_stage_count(line: &str) -> String {
    for unit in [" stages)", " stage)"] {
        if let Some(end) = line.find(unit)
            && let Some(start) = line[..end].rfind(", ")
        {
            return format!("{}, N stages){}", &line[..start], &line[end + unit.len()..]);
        }
    }
    line.to_owned()
}

/// `cargo graywork ARGS` in the fixture's workspace, with its `CARGO_HOME`.
fn outdated(fixture: &Fixture, args: &[&str]) -> std::process::Output {
    let mut command: Command = cargo_graywork(&[&["outdated"], args].concat());
    fixture.environment(&mut command);
    command.env("PATH", path_with_binary());
    run(command)
}

#[test]
fn the_table_through_cargo() {
    let fixture = Fixture::new(RegistryKind::Git);
    let output = outdated(&fixture, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    insta::assert_snapshot!(fixture.redact(&stdout(&output)));
}

#[test]
fn the_compatible_column_follows_the_resolver_s_rust_version_setting() {
    let fixture = Fixture::new(RegistryKind::Local);
    let gamma_row = |output: &std::process::Output| -> String {
        assert!(output.status.success(), "{}", stderr(output));
        stdout(output)
            .lines()
            .find(|line| line.starts_with("gamma "))
            .map(|line| {
                line.split_whitespace()
                    .take(6)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    // The fixture's `resolver = "3"` prefers versions that build with core's rust-version.
    assert_eq!(
        gamma_row(&outdated(&fixture, &["--offline"])),
        "gamma 2 2.0.0 2.0.1 (2.1.0 needs"
    );
    // The environment overrides it, as it does for cargo.
    let mut command: Command = cargo_graywork(&["outdated", "--offline"]);
    fixture.environment(&mut command);
    command
        .env("PATH", path_with_binary())
        .env("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS", "allow");
    let allowed = run(command);
    assert_eq!(gamma_row(&allowed), "gamma 2 2.0.0 2.1.0 2.1.0 compatible");
    assert!(!stdout(&allowed).contains("compatible versions build with Rust"));
    // A value cargo does not accept is an error naming where it came from (cargo's own
    // loading refuses it first).
    let mut command: Command = cargo_graywork(&["outdated", "--offline"]);
    fixture.environment(&mut command);
    command
        .env("PATH", path_with_binary())
        .env("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS", "newest");
    let refused = run(command);
    assert_eq!(refused.status.code(), Some(2), "{}", stdout(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS") && message.contains("newest"),
        "{message}"
    );
}

#[test]
fn plans_carry_the_upgrade_plan_commands_and_their_stage_counts() {
    let fixture = Fixture::new(RegistryKind::Local);
    let output = outdated(&fixture, &["--plan", "--kind", "normal,build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = fixture.redact(&stdout(&output));
    // Only the crates-io lines: the alternate registry `inner` is a git index whose cache
    // age depends on the clock.
    // The stage counts are the planner's to decide; they are checked against it below.
    let plan: String = text
        .lines()
        .filter(|line| !line.starts_with("registry inner"))
        .map(|line| format!("{}\n", redact_stage_count(line)))
        .collect();
    insta::assert_snapshot!(plan);

    let json = outdated(&fixture, &["--plan", "--format", "json", "-p", "app"]);
    assert!(json.status.success(), "{}", stderr(&json));
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    assert_eq!(value["schema"], "graywork.outdated-plan/v2");
    let counts: Vec<String> = value["incompatible"]
        .as_array()
        .unwrap()
        .iter()
        .map(|update| {
            format!(
                "{} {}",
                update["command"].as_str().unwrap(),
                update["stages"]
            )
        })
        .collect();
    let workspace = load(&fixture);
    let planned = |target: &str| {
        let goal = Goal::dep(target).unwrap();
        graywork_plan::build_plan(&workspace, &goal)
            .unwrap()
            .stages
            .len()
    };
    assert_eq!(
        counts,
        [
            format!(
                "cargo graywork upgrade-plan --dep alpha@2.0.0 {}",
                planned("alpha@2.0.0")
            ),
            format!(
                "cargo graywork upgrade-plan --dep beta@0.4.0 {}",
                planned("beta@0.4.0")
            ),
            format!(
                "cargo graywork upgrade-plan --dep delta@1.1.0 {}",
                planned("delta@1.1.0")
            ),
        ]
    );
    assert!(planned("alpha@2.0.0") >= 1);
    let stage = &value["compatible"]["stages"][0];
    assert_eq!(
        stage["changes"][0]["toml_path"],
        "workspace.dependencies.alpha"
    );
    assert_eq!(stage["changes"][0]["to"], "1.2.0");
}

#[test]
fn offline_says_how_old_the_cache_is() {
    let fixture = Fixture::new(RegistryKind::Git);
    fixture.set_cache_times(
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_203_861),
    );
    let output = outdated(&fixture, &["--offline"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = fixture.redact(&stdout(&output));
    assert!(
        text.starts_with(
            "registry crates-io (replaced by `fixture`): git index file://[ROOT]/registry, offline: \
             from cargo's cache, oldest entry read `alpha` fetched 2026-12-02T09:31:01Z ("
        ),
        "{text}"
    );
}

#[test]
fn errors_exit_2_and_name_what_could_not_be_read() {
    let fixture = Fixture::new(RegistryKind::Local);
    let unknown = outdated(&fixture, &["--exclude", "ap"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(
        stderr(&unknown),
        "error: --exclude ap: unknown member `ap` (members: app, core, tool; did you mean `app`?)\n"
    );
    let without_plan = outdated(&fixture, &["--no-impact"]);
    assert_eq!(without_plan.status.code(), Some(2));
    assert!(
        stderr(&without_plan).contains("--plan"),
        "{}",
        stderr(&without_plan)
    );
    std::fs::remove_file(fixture.workspace.join("Cargo.lock")).unwrap();
    let manifest = fixture.workspace.join("Cargo.toml");
    let mut command = graywork(&[
        "outdated",
        "--manifest-path",
        &manifest.display().to_string(),
    ]);
    fixture.environment(&mut command);
    let no_lock = run(command);
    assert_eq!(no_lock.status.code(), Some(2));
    assert_eq!(
        fixture.redact(&stderr(&no_lock)),
        "error: no Cargo.lock at [ROOT]/workspace/Cargo.lock: `outdated` compares the locked \
         versions; run `cargo generate-lockfile` first\n"
    );
}

#[test]
fn the_compatible_stage_applies_like_any_plan() {
    let fixture = Fixture::new(RegistryKind::Local);
    let manifest = fixture.workspace.join("Cargo.toml");
    let before = std::fs::read_to_string(&manifest).unwrap();

    // A dry run shows the diff and writes nothing.
    let dry = outdated(&fixture, &["--plan", "--apply", "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(stdout(&dry).contains("+alpha"), "{}", stdout(&dry));
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), before);

    let applied = outdated(&fixture, &["--plan", "--apply"]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert!(
        stdout(&applied).contains("workspace.dependencies.alpha"),
        "{}",
        stdout(&applied)
    );
    let after = std::fs::read_to_string(&manifest).unwrap();
    assert_ne!(after, before);
    // The manifests stay valid, and after `cargo update` nothing compatible is left to raise.
    let metadata = run(fixture.cargo(&["metadata", "--no-deps", "--format-version", "1"]));
    assert!(metadata.status.success(), "{}", stderr(&metadata));
    let update = run(fixture.cargo(&["update"]));
    assert!(update.status.success(), "{}", stderr(&update));
    let again = outdated(&fixture, &["--plan", "--apply"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        std::fs::read_to_string(&manifest).unwrap(),
        after,
        "idempotent"
    );
    let json = outdated(&fixture, &["--plan", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    assert!(
        value["compatible"]["stages"]
            .as_array()
            .is_none_or(|stages| stages.is_empty()),
        "{value:#}"
    );
}
