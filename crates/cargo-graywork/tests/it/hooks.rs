//! `install-hooks` in a workspace without an xtask writes a hook that calls `cargo graywork`,
//! and that hook decides whether a commit goes in.

use std::path::Path;
use std::process::Command;

use crate::support::{cargo_graywork, path_with_binary, run, scratch_workspace, stderr, stdout};

fn git(root: &Path, args: &[&str]) -> std::process::Output {
    let mut command = Command::new("git");
    command
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args(args)
        .current_dir(root)
        .env("PATH", path_with_binary());
    for variable in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
    ] {
        command.env_remove(variable);
    }
    command.output().expect("git runs")
}

#[test]
fn the_hook_calls_cargo_graywork_and_guards_commits() {
    let workspace = scratch_workspace();
    let root = workspace.path();
    assert!(git(root, &["init", "-q"]).status.success());
    let installed = run(cargo_graywork(&[
        "install-hooks",
        "--manifest-path",
        &root.display().to_string(),
    ]));
    assert!(installed.status.success(), "{}", stderr(&installed));
    assert!(stdout(&installed).contains("installed the pre-commit hook"));
    let hook = std::fs::read_to_string(root.join(".git/hooks/pre-commit")).expect("hook");
    assert!(
        hook.contains("\ncargo graywork check-toolchain\n"),
        "{hook}"
    );
    assert!(!hook.contains("xtask"), "{hook}");

    // The checks pass: the commit goes in.
    assert!(git(root, &["add", "."]).status.success());
    let passing = git(root, &["commit", "-q", "-m", "first"]);
    assert!(
        passing.status.success(),
        "{}",
        String::from_utf8_lossy(&passing.stderr)
    );

    // A member now needs a newer Rust than the pin: check-toolchain fails, the commit is refused.
    crate::support::write(
        root,
        "app/Cargo.toml",
        "[package]\nname = \"app\"\nversion.workspace = true\nedition.workspace = true\n\
         rust-version = \"1.99\"\n\n[dependencies]\ncore-lib = { path = \"../core\" }\nserde = \"1\"\n",
    );
    assert!(git(root, &["add", "."]).status.success());
    let refused = git(root, &["commit", "-q", "-m", "second"]);
    assert!(
        !refused.status.success(),
        "the hook let a failing check through"
    );
    let log = git(root, &["log", "--oneline"]);
    assert_eq!(String::from_utf8_lossy(&log.stdout).lines().count(), 1);
}

/// Without a pinned toolchain, a `rust-version` above the compiler that builds the workspace
/// fails `cargo check`, so the hook refuses the commit that declares it.
#[cfg(unix)]
#[test]
fn without_a_pin_the_hook_refuses_a_rust_version_the_compiler_lacks() {
    use std::os::unix::fs::PermissionsExt as _;
    let workspace = scratch_workspace();
    let root = workspace.path();
    std::fs::remove_file(root.join("rust-toolchain.toml")).expect("remove the pin");
    // The compiler this test stands for, whatever is installed.
    let tools = tempfile::tempdir().expect("temp dir");
    let rustc = tools.path().join("rustc");
    std::fs::write(
        &rustc,
        "#!/bin/sh\necho 'rustc 1.95.0 (59807616e 2026-04-14)'\n",
    )
    .expect("write the fake rustc");
    std::fs::set_permissions(&rustc, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let commit = |message: &str| {
        let mut command = Command::new("git");
        command
            .args([
                "-c",
                "user.name=Test",
                "-c",
                "user.email=test@example.invalid",
            ])
            .args(["commit", "-q", "-m", message])
            .current_dir(root)
            .env("PATH", path_with_binary())
            .env("RUSTC", &rustc);
        for variable in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_COMMON_DIR",
        ] {
            command.env_remove(variable);
        }
        command.output().expect("git runs")
    };
    assert!(git(root, &["init", "-q"]).status.success());
    let installed = run(cargo_graywork(&[
        "install-hooks",
        "--manifest-path",
        &root.display().to_string(),
    ]));
    assert!(installed.status.success(), "{}", stderr(&installed));
    assert!(git(root, &["add", "."]).status.success());
    let passing = commit("first");
    assert!(
        passing.status.success(),
        "{}",
        String::from_utf8_lossy(&passing.stderr)
    );

    crate::support::write(
        root,
        "app/Cargo.toml",
        "[package]\nname = \"app\"\nversion.workspace = true\nedition.workspace = true\n\
         rust-version = \"1.99\"\n\n[dependencies]\ncore-lib = { path = \"../core\" }\nserde = \"1\"\n",
    );
    assert!(git(root, &["add", "."]).status.success());
    let refused = commit("second");
    assert!(
        !refused.status.success(),
        "the hook let rust-version 1.99 through"
    );
    let said = String::from_utf8_lossy(&refused.stdout).into_owned()
        + &String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains(
            "crate `app` declares rust-version 1.99, which exceeds the installed rustc 1.95.0"
        ),
        "{said}"
    );
}
