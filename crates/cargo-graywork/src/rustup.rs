//! The toolchain fallback at the command line: before any command runs, a workspace pinned to
//! a toolchain that rustup has not installed gets this binary run again under an installed one
//! (`graywork_checks::rustup`), so that every command, online `outdated` included, uses the same
//! toolchain, and says so once on stderr. When the toolchain was already chosen
//! (`cargo +stable graywork`, or `RUSTUP_TOOLCHAIN`) it only says so. `cargo graywork` itself
//! cannot get this far: rustup's `cargo` proxy fails on the pin before it starts the tool,
//! hence the commands the README gives (`cargo-graywork …`, `cargo +stable graywork …`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Set in the re-run process so that it does not say it again.
const NOTED: &str = "GRAYWORK_TOOLCHAIN_FALLBACK";

/// Runs the binary again under an installed toolchain when the workspace's pin is missing;
/// `Some(code)` is the re-run's exit code, `None` means go on in this process.
pub(crate) fn fall_back(args: &[OsString]) -> Option<ExitCode> {
    if std::env::var_os(NOTED).is_some() {
        return None;
    }
    // `graph` and `upgrade-plan` start no cargo but `cargo metadata`, whose loader falls back
    // to an installed toolchain by itself and records that in the plan, where a saved plan
    // keeps it.
    let command = args
        .iter()
        .skip(1)
        .map(|arg| arg.to_string_lossy())
        .find(|arg| !arg.starts_with('-'));
    if command.is_some_and(|command| command == "graph" || command == "upgrade-plan") {
        return None;
    }
    let cwd = std::env::current_dir().ok()?;
    let manifest_dir = manifest_path(args).map(|manifest| {
        let manifest = cwd.join(manifest);
        if manifest.is_dir() {
            manifest
        } else {
            manifest.parent().map(Path::to_path_buf).unwrap_or_default()
        }
    });
    let chosen = std::env::var_os("RUSTUP_TOOLCHAIN");
    let fallback =
        graywork_checks::rustup::fallback(&cwd, manifest_dir.as_deref(), chosen.as_deref())?;
    eprintln!("{}", fallback.note);
    fallback
        .run_with
        .map(|toolchain| run_again(args, &toolchain))
}

/// Starts this binary again with `RUSTUP_TOOLCHAIN=toolchain` and the same arguments.
fn run_again(args: &[OsString], toolchain: &str) -> ExitCode {
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(error) => {
            eprintln!("error: cannot find this program to run it again: {error}");
            return ExitCode::from(2);
        }
    };
    let mut command = std::process::Command::new(program);
    command
        .args(args.iter().skip(1))
        .env("RUSTUP_TOOLCHAIN", toolchain)
        .env(NOTED, "1");
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        // `exec` only returns on failure.
        let error = command.exec();
        eprintln!("error: cannot run this program again: {error}");
        ExitCode::from(2)
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) => ExitCode::from(status.code().unwrap_or(2).clamp(0, 255) as u8),
        Err(error) => {
            eprintln!("error: cannot run this program again: {error}");
            ExitCode::from(2)
        }
    }
}

/// The `--manifest-path` argument, in either spelling.
fn manifest_path(args: &[OsString]) -> Option<PathBuf> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        if text == "--manifest-path" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(value) = text.strip_prefix("--manifest-path=") {
            return Some(PathBuf::from(value));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_path_in_either_spelling() {
        let args = |list: &[&str]| -> Vec<OsString> { list.iter().map(OsString::from).collect() };
        assert_eq!(
            manifest_path(&args(&["x", "outdated", "--manifest-path", "w/Cargo.toml"])),
            Some(PathBuf::from("w/Cargo.toml"))
        );
        assert_eq!(
            manifest_path(&args(&["x", "--manifest-path=w"])),
            Some(PathBuf::from("w"))
        );
        assert_eq!(manifest_path(&args(&["x", "graph"])), None);
    }
}
