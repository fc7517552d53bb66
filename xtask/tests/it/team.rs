//! Integration tests for the `team` commands.
//!
//! They run the `xtask` binary on small workspaces: the fixtures under
//! `tests/fixtures/team/toolchain/` (one per kind of mismatch) and trees built in temp dirs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/team/toolchain")
        .join(name)
}

/// The `xtask` binary, with no git repository variables leaking in from a calling hook.
fn xtask(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args);
    for variable in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
    ] {
        command.env_remove(variable);
    }
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the xtask binary runs")
}

/// Exit code, stdout and stderr, as one text for snapshots.
fn transcript(output: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    )
}

/// A `rustc` that reports version 1.95.0, so that checks of a workspace without a pinned
/// toolchain do not depend on the compiler installed (`RUSTC` is honoured as cargo honours it).
#[cfg(unix)]
fn fake_rustc(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join("rustc");
    std::fs::write(
        &path,
        "#!/bin/sh\necho 'rustc 1.95.0 (59807616e 2026-04-14)'\n",
    )
    .expect("write the fake rustc");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("make the fake rustc executable");
    path
}

fn check_toolchain_with(name: &str, extra: &[&str]) -> Output {
    let manifest = fixture(name).join("Cargo.toml");
    let rustc_dir = tempfile::tempdir().expect("temp dir");
    let mut args = vec![
        "check-toolchain",
        "--manifest-path",
        manifest.to_str().expect("fixture paths are UTF-8"),
    ];
    args.extend_from_slice(extra);
    let mut command = xtask(&args);
    #[cfg(unix)]
    command.env("RUSTC", fake_rustc(rustc_dir.path()));
    run(&mut command)
}

fn check_toolchain(name: &str) -> String {
    let output = check_toolchain_with(name, &[]);
    // Errors carry the absolute fixture path; keep snapshots independent of the checkout.
    transcript(&output).replace(&fixture(name).display().to_string(), "<fixture>")
}

#[test]
fn toolchain_agree() {
    insta::assert_snapshot!(check_toolchain("agree"));
}

#[test]
fn toolchain_not_declared_is_not_an_error() {
    insta::assert_snapshot!(check_toolchain("not-declared"));
}

#[test]
fn toolchain_workflow_mismatch() {
    insta::assert_snapshot!(check_toolchain("workflow-mismatch"));
}

#[test]
fn toolchain_msrv_exceeds_pin() {
    insta::assert_snapshot!(check_toolchain("msrv-exceeds-pin"));
}

#[test]
fn toolchain_member_differs() {
    // A member that writes a lower rust-version than the workspace's is a deliberate exception.
    insta::assert_snapshot!(check_toolchain("member-differs"));
}

#[test]
fn toolchain_msrv_below_a_dependency_allow_list_and_deliberate_channels() {
    // A workflow job on the declared MSRV is that MSRV's job, not a stale pin.
    insta::assert_snapshot!(check_toolchain("msrv-order"));
}

#[test]
fn toolchain_deliberate_msrvs_are_exceptions() {
    // Each shape the owners mark: a literal with an `# MSRV` comment above the workspace's, a
    // lower literal with its reason above it, `publish = false` without one, a member that
    // inherits nothing from [workspace.package], and `package.metadata.msrv`.
    insta::assert_snapshot!(check_toolchain("msrv-marked"));
}

#[cfg(unix)]
#[test]
fn toolchain_without_a_pin_needs_the_installed_compiler() {
    // rustc 1.95.0 cannot build a workspace that declares rust-version 1.99.
    insta::assert_snapshot!(check_toolchain("no-pin-too-new"));
}

#[test]
fn toolchain_quiet_prints_only_what_fails() {
    let output = check_toolchain_with("msrv-order", &["--quiet"]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stdout));
}

#[test]
fn toolchain_as_json_and_quiet() {
    let manifest = fixture("msrv-order").join("Cargo.toml");
    let manifest = manifest.to_str().expect("fixture paths are UTF-8");
    let output = run(&mut xtask(&[
        "check-toolchain",
        "--format",
        "json",
        "--manifest-path",
        manifest,
    ]));
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stdout));
    let agree = fixture("agree").join("Cargo.toml");
    let output = run(&mut xtask(&[
        "check-toolchain",
        "--quiet",
        "--manifest-path",
        agree.to_str().expect("fixture paths are UTF-8"),
    ]));
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn toolchain_member_missing() {
    insta::assert_snapshot!(check_toolchain("member-missing"));
}

#[test]
fn toolchain_member_exceeds_pin() {
    insta::assert_snapshot!(check_toolchain("member-exceeds-pin"));
}

#[test]
fn toolchain_readme_mismatch() {
    insta::assert_snapshot!(check_toolchain("readme-mismatch"));
}

#[test]
fn toolchain_malformed_file_gives_the_line() {
    insta::assert_snapshot!(check_toolchain("malformed-toolchain"));
}

#[test]
fn toolchain_channel_not_a_string_gives_the_line() {
    insta::assert_snapshot!(check_toolchain("channel-not-a-string"));
}

#[test]
fn test_matrix_unknown_crate_lists_the_members() {
    let manifest = fixture("agree").join("Cargo.toml");
    let manifest = manifest.to_str().expect("fixture paths are UTF-8");
    let unknown = run(&mut xtask(&[
        "test-matrix",
        "--manifest-path",
        manifest,
        "-p",
        "nope",
    ]));
    let near = run(&mut xtask(&[
        "test-matrix",
        "--manifest-path",
        manifest,
        "-p",
        "agree-secnd",
    ]));
    insta::assert_snapshot!(format!("{}{}", transcript(&unknown), transcript(&near)));
}

#[test]
fn partition_errors_are_usage_errors() {
    for (partition, expected) in [
        (
            "3/2",
            "partition `3/2` is out of range: M must be at most N",
        ),
        ("0/2", "partition `0/2` is out of range: M starts at 1"),
        ("x", "partition `x` is not of the form M/N"),
    ] {
        for command in ["test-matrix", "ci"] {
            let output = run(&mut xtask(&[command, "--partition", partition]));
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{command} {partition}: {stderr}"
            );
            assert!(stderr.contains(expected), "{command} {partition}: {stderr}");
        }
    }
}

/// A one-crate workspace with features `a` (on by default) and `b`, whose only test fails when
/// `b` is on.
fn matrix_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"matrix-demo\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [lib]\ndoctest = false\n\n[features]\ndefault = [\"a\"]\na = []\nb = []\n\n[workspace]\n",
    )
    .expect("write Cargo.toml");
    std::fs::create_dir(dir.path().join("src")).expect("create src");
    std::fs::write(
        dir.path().join("src/lib.rs"),
        "pub fn answer() -> u32 {\n    if cfg!(feature = \"b\") { 41 } else { 42 }\n}\n\n\
         #[test]\nfn answer_is_42() {\n    assert_eq!(answer(), 42);\n}\n",
    )
    .expect("write lib.rs");
    dir
}

/// The JSON summary with its times zeroed.
fn summary_json(output: &Output) -> serde_json::Value {
    let mut value: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("test-matrix prints JSON");
    value["seconds"] = 0.into();
    for result in value["results"].as_array_mut().expect("a results array") {
        result["seconds"] = 0.into();
    }
    value
}

#[test]
fn test_matrix_runs_every_feature_set_and_reports_failures() {
    let workspace = matrix_workspace();
    let manifest = workspace.path().join("Cargo.toml");
    let manifest = manifest.to_str().expect("temp paths are UTF-8");
    let matrix = |extra: &[&str]| -> Output {
        let mut args = vec![
            "test-matrix",
            "--manifest-path",
            manifest,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        run(xtask(&args).env("CARGO_TARGET_DIR", workspace.path().join("target")))
    };

    let all = matrix(&[]);
    assert_eq!(all.status.code(), Some(1), "{}", transcript(&all));
    insta::assert_json_snapshot!(summary_json(&all));
    // Not a terminal: one plain line per job, and a failed job's output.
    let stderr = String::from_utf8_lossy(&all.stderr);
    assert!(
        stderr.contains("[3/4] cargo test -p matrix-demo --manifest-path"),
        "{stderr}"
    );
    assert!(stderr.contains("answer_is_42"), "{stderr}");

    let first_half = matrix(&["-p", "matrix-demo", "--partition", "1/2"]);
    assert_eq!(
        first_half.status.code(),
        Some(0),
        "{}",
        transcript(&first_half)
    );
    let second_half = matrix(&["--partition", "2/2"]);
    assert_eq!(
        second_half.status.code(),
        Some(1),
        "{}",
        transcript(&second_half)
    );
    let labels = |output: &Output| -> Vec<String> {
        summary_json(output)["results"]
            .as_array()
            .expect("a results array")
            .iter()
            .map(|result| result["features"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        [labels(&first_half), labels(&second_half)].concat(),
        labels(&all)
    );
}

/// A git repository holding a one-crate workspace.
fn git_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"hooked\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .expect("write Cargo.toml");
    std::fs::create_dir(dir.path().join("src")).expect("create src");
    std::fs::write(dir.path().join("src/lib.rs"), "").expect("write lib.rs");
    git(dir.path(), &["init", "-q"]);
    dir
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn install_hooks(dir: &Path, extra: &[&str]) -> Output {
    run(install_hooks_command(dir).args(extra))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o111 == 0o111)
}

#[cfg(not(unix))]
fn is_executable(_path: &Path) -> bool {
    true
}

#[test]
fn install_hooks_is_idempotent_and_updates_its_own_hook() {
    let repo = git_workspace();
    let hook = repo.path().join(".git/hooks/pre-commit");

    let first = install_hooks(repo.path(), &[]);
    assert!(first.status.success(), "{}", transcript(&first));
    assert!(stdout(&first).starts_with("installed the pre-commit hook at "));
    // No member defines contracts: the hook leaves check-contracts out, and says so once.
    assert!(
        stdout(&first).ends_with(&format!(
            "\n{}\n",
            graywork_checks::hooks::WITHOUT_CONTRACTS
        )),
        "{}",
        stdout(&first)
    );
    let script = std::fs::read_to_string(&hook).expect("the hook is written");
    assert_eq!(
        script,
        graywork_checks::hooks::hook_script(graywork_workspace::Runner::Xtask, "", false)
    );
    assert!(is_executable(&hook));

    let second = install_hooks(repo.path(), &[]);
    assert!(second.status.success(), "{}", transcript(&second));
    assert!(
        stdout(&second).ends_with("is already installed\n"),
        "{}",
        stdout(&second)
    );
    assert_eq!(std::fs::read_to_string(&hook).expect("hook"), script);

    std::fs::write(&hook, format!("{script}echo an older version\n")).expect("edit hook");
    let third = install_hooks(repo.path(), &[]);
    assert!(
        stdout(&third).starts_with("updated the pre-commit hook"),
        "{}",
        stdout(&third)
    );
    assert_eq!(std::fs::read_to_string(&hook).expect("hook"), script);
}

#[test]
fn install_hooks_refuses_a_foreign_hook_without_force() {
    let repo = git_workspace();
    let hook = repo.path().join(".git/hooks/pre-commit");
    let foreign = "#!/bin/sh\nexec ./scripts/lint\n";
    std::fs::write(&hook, foreign).expect("write a foreign hook");

    let refused = install_hooks(repo.path(), &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", transcript(&refused));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("pre-commit exists and was not written by `cargo xtask install-hooks`")
            && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&hook).expect("hook"), foreign);

    let forced = install_hooks(repo.path(), &["--force"]);
    assert!(forced.status.success(), "{}", transcript(&forced));
    assert!(stdout(&forced).starts_with("replaced the existing pre-commit hook"));
    let script = std::fs::read_to_string(&hook).expect("hook");
    assert!(
        script.contains(&graywork_checks::hooks::marker(
            graywork_workspace::Runner::Xtask
        )),
        "{script}"
    );
}

#[test]
fn install_hooks_follows_core_hooks_path() {
    let repo = git_workspace();
    git(repo.path(), &["config", "core.hooksPath", "githooks"]);
    let output = install_hooks(repo.path(), &[]);
    assert!(output.status.success(), "{}", transcript(&output));
    assert!(repo.path().join("githooks/pre-commit").is_file());
    assert!(!repo.path().join(".git/hooks/pre-commit").exists());
}

#[test]
fn install_hooks_from_a_worktree_writes_the_shared_hook() {
    let repo = git_workspace();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "init"]);
    let worktree = repo.path().join("wt");
    git(repo.path(), &["worktree", "add", "-q", "wt"]);
    let output = install_hooks(&worktree, &[]);
    assert!(output.status.success(), "{}", transcript(&output));
    assert!(repo.path().join(".git/hooks/pre-commit").is_file());
}

#[test]
fn install_hooks_in_a_workspace_below_the_top_level_changes_directory() {
    let repo = git_workspace();
    let nested = repo.path().join("rust");
    std::fs::create_dir(&nested).expect("create rust/");
    for file in ["Cargo.toml", "src"] {
        std::fs::rename(repo.path().join(file), nested.join(file)).expect("move the workspace");
    }
    let output = install_hooks(&nested, &[]);
    assert!(output.status.success(), "{}", transcript(&output));
    let script = std::fs::read_to_string(repo.path().join(".git/hooks/pre-commit")).expect("hook");
    assert!(
        script.contains("cd \"$(git rev-parse --show-toplevel)/rust\"\n"),
        "{script}"
    );
}

#[test]
fn install_hooks_outside_a_git_repository_is_an_error() {
    let dir = git_workspace();
    std::fs::remove_dir_all(dir.path().join(".git")).expect("remove .git");
    let output = run(install_hooks_command(dir.path()).env(
        "GIT_CEILING_DIRECTORIES",
        dir.path().parent().expect("a parent"),
    ));
    assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("`git rev-parse --git-path hooks` failed"),
        "{}",
        transcript(&output)
    );
}

fn install_hooks_command(dir: &Path) -> Command {
    let manifest = dir.join("Cargo.toml");
    let mut command = xtask(&[
        "install-hooks",
        "--manifest-path",
        manifest.to_str().expect("temp paths are UTF-8"),
    ]);
    command.current_dir(dir);
    command
}

#[test]
fn ci_lists_its_steps() {
    let workspace = matrix_workspace();
    let manifest = workspace.path().join("Cargo.toml");
    let manifest = manifest.to_str().expect("temp paths are UTF-8");
    let output = run(&mut xtask(&[
        "ci",
        "--list",
        "--partition",
        "2/3",
        "--manifest-path",
        manifest,
    ]));
    insta::assert_snapshot!(transcript(&output).replace(manifest, "<manifest>"));
}

#[test]
fn ci_checks_contracts_only_where_a_member_defines_them() {
    let list = |manifest: &Path| -> String {
        let output = run(&mut xtask(&[
            "ci",
            "--list",
            "--manifest-path",
            manifest.to_str().expect("fixture paths are UTF-8"),
        ]));
        assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
        stdout(&output)
    };
    let with_contracts =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/contracts/workspace/Cargo.toml");
    assert!(
        list(&with_contracts).contains("\ncargo xtask check-contracts --manifest-path "),
        "{}",
        list(&with_contracts)
    );
    let without_contracts = matrix_workspace();
    let steps = list(&without_contracts.path().join("Cargo.toml"));
    assert!(!steps.contains("check-contracts"), "{steps}");
    assert!(
        steps.contains("\ncargo xtask test-matrix --manifest-path "),
        "{steps}"
    );
}

#[test]
fn test_matrix_lists_its_jobs() {
    let workspace = matrix_workspace();
    let manifest = workspace.path().join("Cargo.toml");
    let manifest = manifest.to_str().expect("temp paths are UTF-8");
    let list = |extra: &[&str]| -> String {
        let mut args = vec!["test-matrix", "--list", "--manifest-path", manifest];
        args.extend_from_slice(extra);
        transcript(&run(&mut xtask(&args))).replace(manifest, "<manifest>")
    };
    insta::assert_snapshot!(format!("{}{}", list(&[]), list(&["--partition", "2/3"])));
}

#[test]
fn test_matrix_leaves_out_what_the_source_refuses() {
    // `unstable` needs a --cfg flag and the two TLS features exclude each other: no run asks
    // for a build that cannot pass, and the plan says why, on stderr.
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/team/matrix/guarded/Cargo.toml");
    let manifest = manifest.to_str().expect("fixture paths are UTF-8");
    let output = run(&mut xtask(&[
        "test-matrix",
        "--list",
        "--manifest-path",
        manifest,
    ]));
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    insta::assert_snapshot!(transcript(&output).replace(manifest, "<manifest>"));
}

/// A workspace of `members` crates with `features` independent features each.
fn wide_workspace(members: usize, features: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let names: Vec<String> = (0..members).map(|index| format!("m{index:02}")).collect();
    let list: Vec<String> = names.iter().map(|name| format!("\"{name}\"")).collect();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!(
            "[workspace]\nmembers = [{}]\nresolver = \"3\"\n",
            list.join(", ")
        ),
    )
    .expect("write Cargo.toml");
    let table: String = (0..features)
        .map(|index| format!("f{index:02} = []\n"))
        .collect();
    for name in &names {
        std::fs::create_dir_all(dir.path().join(name).join("src")).expect("create src");
        std::fs::write(
            dir.path().join(name).join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\n{table}"
            ),
        )
        .expect("write a member");
        std::fs::write(dir.path().join(name).join("src/lib.rs"), "").expect("write lib.rs");
    }
    dir
}

#[test]
fn test_matrix_is_bounded_on_large_workspaces_unless_asked() {
    let workspace = wide_workspace(20, 10);
    let manifest = workspace.path().join("Cargo.toml");
    let manifest = manifest.to_str().expect("temp paths are UTF-8");
    let list = |extra: &[&str]| -> (usize, String) {
        let mut args = vec!["test-matrix", "--list", "--manifest-path", manifest];
        args.extend_from_slice(extra);
        let output = run(&mut xtask(&args));
        assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
        (
            stdout(&output).lines().count(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // Full: none, each of 10 alone, all = 12 per crate, 240 runs: over the budget.
    let (runs, notes) = list(&[]);
    // Bounded: none, 8 alone, all = 10 per crate.
    assert_eq!(runs, 200);
    assert!(
        notes.starts_with(
            "test-matrix: the full matrix is 240 runs over 20 crates, more than 120: running the bounded one, 200 runs"
        ),
        "{notes}"
    );
    assert!(
        notes.contains("m00: 10 features: only the first 8 by name are tested alone"),
        "{notes}"
    );
    assert_eq!(list(&["--sets", "full"]).0, 240);
    // Every subset of one crate's 10 features, the empty one being its defaults.
    assert_eq!(list(&["--sets", "powerset", "-p", "m03"]).0, 1024);
    // A small selection is not bounded.
    let (runs, notes) = list(&["-p", "m01"]);
    assert_eq!((runs, notes.as_str()), (12, ""));
}
