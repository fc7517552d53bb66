//! End-to-end tests of `graph` and `upgrade-plan`: the binary on fixture workspaces, run as
//! this workspace runs it (`cargo xtask …`). The round trips that apply every stage of a plan
//! are in `crates/cargo-graywork/tests/it/plan_round_trip.rs`; the planner's own tests are in
//! `crates/graywork-plan/tests/it`.

use std::process::Command;

use crate::support::{copy_fixture, fixtures};

#[test]
fn nightly_pinned_workspace_plans_with_the_installed_toolchain_and_dated_nightly_goals() {
    let dir = copy_fixture("nightly");
    // Run as a user would in that directory: through rustup's `cargo`, which reads the pin.
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("CARGO")
            .env_remove("RUSTUP_TOOLCHAIN")
            .output()
            .unwrap()
    };
    let output = run(&["upgrade-plan", "--toolchain", "nightly-2026-09-01"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("is not installed: read the workspace with the installed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pin `channel = \"nightly-2026-09-01\"` (was nightly-2026-08-18)"),
        "{stdout}"
    );
    // Started by `cargo graywork`, the tool gets the toolchain's own cargo (`$CARGO`), which
    // gets as far as asking rustup's `rustc` for the host, for a full resolve: the note still
    // names the toolchain that is missing.
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["graph", "--resolve"])
        .current_dir(dir.path())
        .env("CARGO", env!("CARGO"))
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // (Where that cargo's `rustc` is not rustup's, nothing hits the pin and there is no note.)
    assert!(!stderr.contains("rustc -vV"), "{stderr}");
    if stderr.contains("read the workspace with the installed") {
        assert!(
            stderr.contains("toolchain 'nightly-2026-08-18")
                && stderr.contains("is not installed: read the workspace with the installed"),
            "{stderr}"
        );
    }
    let output = run(&["upgrade-plan", "--toolchain", "nightly-2026-01-01"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("--toolchain nightly-2026-01-01 is older than the pinned nightly-2026-08-18"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn command_line_filters_applies_and_refuses() {
    let dir = copy_fixture("inherited");
    let manifest = dir.path().join("Cargo.toml");
    let manifest = manifest.to_str().unwrap();
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .args(["--manifest-path", manifest])
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // -p keeps the stages and changes of one member; --exclude drops one.
    let (code, only_legacy, _) = run(&["upgrade-plan", "--edition", "2024", "-p", "legacy"]);
    assert_eq!(code, Some(0));
    assert!(
        only_legacy.contains("the plan is limited to only legacy"),
        "{only_legacy}"
    );
    assert!(!only_legacy.contains("stage 2:"), "{only_legacy}");
    assert!(
        only_legacy.contains("stage 1: edition 2024 (1/2)"),
        "{only_legacy}"
    );
    let (_, without, _) = run(&["upgrade-plan", "--edition", "2024", "--exclude", "legacy"]);
    assert!(
        without.contains("stage 2:") && !without.contains("stage 1:"),
        "{without}"
    );
    let (code, _, stderr) = run(&["upgrade-plan", "--edition", "2024", "-p", "nope"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("unknown crate `nope` in -p/--exclude"),
        "{stderr}"
    );
    // --apply refuses out of order (exit 2), then applies in order; --hide-done hides stage 1.
    let (code, _, stderr) = run(&["upgrade-plan", "--edition", "2024", "--apply", "2"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("stage 1 (edition 2024 (1/2)) is pending"),
        "{stderr}"
    );
    let (code, applied, _) = run(&["upgrade-plan", "--edition", "2024", "--apply", "1"]);
    assert_eq!(code, Some(0));
    assert!(
        applied.contains("legacy/Cargo.toml:5 package.edition: \"2018\" -> \"2024\""),
        "{applied}"
    );
    let (_, hidden, _) = run(&["upgrade-plan", "--edition", "2024", "--hide-done"]);
    assert!(
        !hidden.contains("stage 1:") && hidden.contains("stage 2:"),
        "{hidden}"
    );
}

#[test]
fn a_saved_plan_applies_by_the_numbers_it_was_read_with_and_refuses_drift() {
    let dir = copy_fixture("majors");
    let manifest = dir.path().join("Cargo.toml");
    let manifest = manifest.to_str().unwrap();
    let saved = dir.path().join("plan.json");
    let saved = saved.to_str().unwrap();
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["upgrade-plan"])
            .args(args)
            .args(["--manifest-path", manifest, "--offline"])
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = run(&[
        "--dep",
        "tiny@2",
        "--strategy",
        "side-by-side",
        "--save",
        saved,
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let plan =
        graywork_plan::read_saved_plan(&std::fs::read_to_string(saved).unwrap(), saved).unwrap();
    assert_eq!(plan.stages.len(), 4);
    // Out of order, then in order; each stage as it was read.
    let (code, _, stderr) = run(&["--apply", "2", "--plan", saved]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("stage 1 ("), "{stderr}");
    for stage in ["1", "2", "3"] {
        let (code, out, stderr) = run(&["--apply", stage, "--plan", saved]);
        assert_eq!(code, Some(0), "stage {stage}: {stderr}");
        assert!(
            out.starts_with(&format!("stage {stage}: changed:")),
            "{out}"
        );
    }
    // A goal given beside the plan must be its goal.
    let (code, _, stderr) = run(&["--dep", "tiny@3", "--apply", "4", "--plan", saved]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("not to upgrade dependency tiny to 3.0.0"),
        "{stderr}"
    );
    // Someone edits what the last stage expects: nothing is written.
    let root = std::fs::read_to_string(manifest).unwrap();
    std::fs::write(
        manifest,
        root.replace("tiny = { version = \"1\"", "tiny = { version = \"1.1\""),
    )
    .unwrap();
    let (code, _, stderr) = run(&["--apply", "4", "--plan", saved]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("the tree drifted from the saved plan: stage 4: Cargo.toml: `workspace.dependencies.tiny` is `\"1.1\"`, not `1`"),
        "{stderr}"
    );
    std::fs::write(manifest, &root).unwrap();
    let (code, out, stderr) = run(&["--apply", "4", "--plan", saved, "--dep", "tiny@2"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(out.starts_with("stage 4: changed:"), "{out}");
    // Applying again changes nothing.
    let (code, out, _) = run(&["--apply", "4", "--plan", saved]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("stage 4: nothing to change"), "{out}");
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
