//! The binary behaves like a cargo subcommand: `cargo graywork …` in any workspace, exit codes,
//! colour, `--quiet`, `--manifest-path` as a directory, one error prefix, a closed stdout.

use std::io::Read as _;
use std::process::Stdio;

use crate::support::{cargo_graywork, graywork, run, scratch_workspace, stderr, stdout};

#[test]
fn cargo_graywork_plans_another_workspace() {
    let workspace = scratch_workspace();
    let manifest = workspace.path().join("Cargo.toml");
    let output = run(cargo_graywork(&[
        "upgrade-plan",
        "--dep",
        "serde@2",
        "--manifest-path",
        &manifest.display().to_string(),
        "--format",
        "json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON plan");
    let crates: Vec<String> = plan["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .flat_map(|stage| stage["crates"].as_array().cloned().unwrap_or_default())
        .filter_map(|name| name.as_str().map(str::to_owned))
        .collect();
    // Both members use serde; core-lib changes before the member that depends on it.
    let position = |name: &str| crates.iter().position(|c| c == name);
    assert!(position("core-lib").is_some(), "{crates:?}");
    assert!(position("core-lib") < position("app"), "{crates:?}");
}

#[test]
fn the_binary_also_runs_directly_and_takes_a_directory_as_manifest_path() {
    let workspace = scratch_workspace();
    let direct = run(graywork(&[
        "graph",
        "--manifest-path",
        &workspace.path().display().to_string(),
    ]));
    assert!(direct.status.success(), "{}", stderr(&direct));
    assert!(
        stdout(&direct).contains("app 0.1.0\n  -> core-lib (normal)"),
        "{}",
        stdout(&direct)
    );
    // Through cargo, the extra `graywork` argument is dropped: the output is the same.
    let through_cargo = run(cargo_graywork(&[
        "graph",
        "--manifest-path",
        &workspace.path().display().to_string(),
    ]));
    assert_eq!(stdout(&direct), stdout(&through_cargo));
}

#[test]
fn help_lists_the_exit_codes_and_names_the_runner() {
    let output = run(graywork(&["--help"]));
    assert!(output.status.success());
    let help = stdout(&output);
    assert!(help.contains("Usage: cargo graywork"), "{help}");
    for line in [
        "0  all is well",
        "1  the command ran and found a problem",
        "2  usage",
    ] {
        assert!(help.contains(line), "{help}");
    }
}

#[test]
fn exit_codes_follow_the_contract() {
    let usage = run(graywork(&["upgrade-plan"]));
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
    let workspace = scratch_workspace();
    let unknown = run(graywork(&[
        "upgrade-plan",
        "--crate",
        "nope@1.0.0",
        "--manifest-path",
        &workspace.path().display().to_string(),
    ]));
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("nope"), "{}", stderr(&unknown));
}

#[test]
fn errors_carry_one_prefix() {
    let dir = tempfile::tempdir().expect("temp dir");
    crate::support::write(dir.path(), "Cargo.toml", "[workspace\nmembers = [");
    let output = run(graywork(&[
        "graph",
        "--manifest-path",
        &dir.path().join("Cargo.toml").display().to_string(),
    ]));
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.starts_with("error: "), "{text}");
    assert_eq!(text.matches("error:").count(), 1, "{text}");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let args = [
        "upgrade-plan",
        "--crate",
        "x@1.0.0",
        "--manifest-path",
        "/nonexistent",
    ];
    // Piped: no escape codes with `auto`, escape codes with `always`, none with `never`.
    let auto = stderr(&run(graywork(&args)));
    assert!(!auto.contains('\u{1b}'), "{auto:?}");
    let always = stderr(&run(graywork(&args).arg("--color=always")));
    assert!(always.contains("\u{1b}["), "{always:?}");
    let never = stderr(&run(graywork(&args).args(["--color", "never"])));
    assert!(!never.contains('\u{1b}'), "{never:?}");
    // `NO_COLOR` is honoured by `auto`, while an explicit `always` still wins.
    let no_color = stderr(&run(graywork(&args).env("NO_COLOR", "1")));
    assert!(!no_color.contains('\u{1b}'), "{no_color:?}");
}

#[test]
fn quiet_prints_nothing_when_all_agree() {
    let workspace = scratch_workspace();
    let manifest = workspace.path().display().to_string();
    let loud = run(graywork(&["check-toolchain", "--manifest-path", &manifest]));
    assert!(loud.status.success(), "{}{}", stdout(&loud), stderr(&loud));
    assert!(!stdout(&loud).is_empty());
    let quiet = run(graywork(&[
        "--quiet",
        "check-toolchain",
        "--manifest-path",
        &manifest,
    ]));
    assert!(quiet.status.success());
    assert_eq!(stdout(&quiet), "");
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let workspace = scratch_workspace();
    let mut child = graywork(&[
        "test-matrix",
        "--list",
        "--manifest-path",
        &workspace.path().display().to_string(),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn");
    // Close the reading end at once, as `| head -0` would.
    drop(child.stdout.take());
    let status = child.wait().expect("wait");
    let mut errors = String::new();
    if let Some(mut stream) = child.stderr.take() {
        stream.read_to_string(&mut errors).expect("read stderr");
    }
    assert!(status.success(), "{status}: {errors}");
    assert!(!errors.contains("panicked"), "{errors}");
}

#[test]
fn github_matrix_spreads_the_test_matrix() {
    let output = run(graywork(&["test-matrix", "--emit", "github-matrix", "3"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "{\"partition\":[\"1/3\",\"2/3\",\"3/3\"]}\n"
    );
    let zero = run(graywork(&["test-matrix", "--emit", "github-matrix", "0"]));
    assert_eq!(zero.status.code(), Some(2));
    assert!(stderr(&zero).contains("at least 1"), "{}", stderr(&zero));
    let unknown = run(graywork(&["test-matrix", "--emit", "gitlab", "2"]));
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("unknown format"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn apply_takes_a_stage_whole() {
    let workspace = scratch_workspace();
    let manifest = workspace.path().display().to_string();
    for filter in [["-p", "app"], ["--exclude", "app"]] {
        let output = run(graywork(&[
            "upgrade-plan",
            "--dep",
            "serde@2",
            "--apply",
            "1",
            filter[0],
            filter[1],
            "--manifest-path",
            &manifest,
        ]));
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("cannot be used with"),
            "{}",
            stderr(&output)
        );
    }
}
