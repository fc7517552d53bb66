//! Captures the rustc version and git revision at build time for `/debug/version` and `build_info`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=GATEWAY_GIT_REVISION");

    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let rustc_version = command_output(Command::new(rustc).arg("--version"))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=GATEWAY_RUSTC_VERSION={rustc_version}");

    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let revision = std::env::var("GATEWAY_GIT_REVISION")
        .ok()
        .filter(|r| !r.trim().is_empty())
        .or_else(|| git_revision(&manifest_dir))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=GATEWAY_GIT_REVISION={revision}");
}

/// The short commit id of the checkout holding this crate, or `None` when git or `.git` is
/// absent (a source tarball, a vendored copy). Watches HEAD and the ref it names so that a new
/// commit rebuilds the version string.
fn git_revision(manifest_dir: &Path) -> Option<String> {
    let git_dir = command_output(
        Command::new("git")
            .args(["rev-parse", "--absolute-git-dir"])
            .current_dir(manifest_dir),
    )?;
    let git_dir = PathBuf::from(git_dir);
    let head = git_dir.join("HEAD");
    println!("cargo:rerun-if-changed={}", head.display());
    if let Ok(text) = std::fs::read_to_string(&head)
        && let Some(reference) = text.trim().strip_prefix("ref: ")
    {
        let ref_path = git_dir.join(reference);
        if ref_path.exists() {
            println!("cargo:rerun-if-changed={}", ref_path.display());
        }
        let packed = git_dir.join("packed-refs");
        if packed.exists() {
            println!("cargo:rerun-if-changed={}", packed.display());
        }
    }
    command_output(
        Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(manifest_dir),
    )
}

/// Runs a command and returns its trimmed stdout when it succeeds with non-empty output.
fn command_output(command: &mut Command) -> Option<String> {
    let output = command.output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
