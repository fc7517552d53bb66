//! Scratch workspaces and ways to run the binary in them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A directory on `PATH` holding `cargo-graywork`, so `cargo graywork` finds it the way it
/// finds an installed subcommand.
pub fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_cargo-graywork"))
        .parent()
        .expect("the binary lives in a directory")
        .to_path_buf()
}

/// `PATH` with the binary's directory first.
pub fn path_with_binary() -> std::ffi::OsString {
    let mut paths = vec![bin_dir()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).expect("paths join")
}

/// The binary, run directly, with no git variables leaking in from a calling hook.
pub fn graywork(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-graywork"));
    command.args(args);
    clean(&mut command);
    command
}

/// `cargo graywork ARGS`: cargo finds the binary on `PATH`.
pub fn cargo_graywork(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO"));
    command
        .arg("graywork")
        .args(args)
        .env("PATH", path_with_binary());
    clean(&mut command);
    command
}

fn clean(command: &mut Command) {
    for variable in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "NO_COLOR",
        "CLICOLOR_FORCE",
    ] {
        command.env_remove(variable);
    }
}

pub fn run(mut command: impl std::borrow::BorrowMut<Command>) -> Output {
    command.borrow_mut().output().expect("the command runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A workspace with no xtask: two members, `app` depending on `core`, both using `serde`
/// from the registry; the toolchain pinned to the one this machine has.
pub fn scratch_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        "[workspace]\nmembers = [\"core\", \"app\"]\nresolver = \"3\"\n\n\
         [workspace.package]\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write(
        root,
        "rust-toolchain.toml",
        "[toolchain]\nchannel = \"1.95.0\"\ncomponents = [\"rustfmt\", \"clippy\"]\n",
    );
    write(
        root,
        "core/Cargo.toml",
        "[package]\nname = \"core-lib\"\nversion.workspace = true\nedition.workspace = true\n\n\
         [dependencies]\nserde = \"1\"\n",
    );
    write(
        root,
        "core/src/lib.rs",
        "//! Core.\n\npub fn one() -> u32 {\n    1\n}\n",
    );
    write(
        root,
        "app/Cargo.toml",
        "[package]\nname = \"app\"\nversion.workspace = true\nedition.workspace = true\n\n\
         [dependencies]\ncore-lib = { path = \"../core\" }\nserde = \"1\"\n",
    );
    write(
        root,
        "app/src/lib.rs",
        "//! App.\n\npub fn two() -> u32 {\n    core_lib::one() + 1\n}\n",
    );
    dir
}

pub fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create dirs");
    }
    std::fs::write(path, text).expect("write file");
}
