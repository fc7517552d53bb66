//! The one cargo command `outdated` runs besides `cargo metadata`: `cargo update --dry-run`,
//! which makes cargo fetch the index entries of every crate in the dependency graph into its
//! cache (with its own network, proxy, authentication and source-replacement handling)
//! without touching `Cargo.lock`.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use crate::error::OutdatedError;

/// Runs `cargo update --dry-run` for the workspace whose root manifest is `manifest`, from
/// `cwd` (cargo reads its configuration from there, as the later index reads do), with
/// `cargo_home` as `CARGO_HOME` (where the index reads look).
pub fn refresh_index(
    cargo: &OsStr,
    cargo_home: &Path,
    manifest: &Path,
    cwd: &Path,
) -> Result<(), OutdatedError> {
    let root = manifest.parent().unwrap_or(manifest).to_path_buf();
    let output = Command::new(cargo)
        .args(["update", "--dry-run", "--quiet", "--manifest-path"])
        .arg(manifest)
        .current_dir(cwd)
        .env("CARGO_HOME", cargo_home)
        .output()
        .map_err(|error| OutdatedError::Refresh {
            root: root.clone(),
            stderr: format!("cannot run {}: {error}", cargo.to_string_lossy()),
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(OutdatedError::Refresh {
        root,
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_refresh_says_what_cargo_said() {
        let dir = std::env::temp_dir();
        let error = refresh_index(
            OsStr::new("/definitely/not/cargo"),
            &dir,
            &dir.join("Cargo.toml"),
            &dir,
        )
        .unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("could not refresh the registry index"),
            "{message}"
        );
        assert!(
            message.contains("cannot run /definitely/not/cargo"),
            "{message}"
        );
        assert!(
            message.ends_with("(pass --offline to answer from cargo's local index cache)"),
            "{message}"
        );
    }
}
