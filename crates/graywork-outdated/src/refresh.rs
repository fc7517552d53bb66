//! The two cargo commands `outdated` runs: `cargo update --dry-run`, which makes cargo fetch
//! the index entries of every crate in the dependency graph into its cache (with its own
//! network, proxy, authentication and source-replacement handling) without touching
//! `Cargo.lock`, and `cargo -V`, whose version decides how cargo names its cache directories.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use semver::Version;

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

/// The version of `cargo` (`cargo -V`).
pub fn cargo_version(cargo: &OsStr) -> Result<Version, OutdatedError> {
    let failure = |why: String| OutdatedError::Source {
        message: format!(
            "cannot tell cargo's version with `{} -V` (it decides where cargo caches registry indexes): {why}",
            cargo.to_string_lossy()
        ),
    };
    let output = Command::new(cargo)
        .arg("-V")
        .output()
        .map_err(|error| failure(error.to_string()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_cargo_version(&text)
        .ok_or_else(|| failure(format!("unexpected output `{}`", text.trim())))
}

/// `cargo 1.95.0 (f2d3ce0bd 2026-01-01)` -> `1.95.0`; a `-nightly` suffix is dropped so the
/// version compares as the release it precedes.
fn parse_cargo_version(text: &str) -> Option<Version> {
    let word = text.split_whitespace().nth(1)?;
    let mut version = Version::parse(word).ok()?;
    version.pre = semver::Prerelease::EMPTY;
    Some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_release_and_nightly_versions() {
        assert_eq!(
            parse_cargo_version("cargo 1.95.0 (f2d3ce0bd 2026-01-01)\n"),
            Some(Version::new(1, 95, 0))
        );
        assert_eq!(
            parse_cargo_version("cargo 1.97.0-nightly (abc 2026-03-01)"),
            Some(Version::new(1, 97, 0))
        );
        assert_eq!(parse_cargo_version("rustup: no toolchain"), None);
    }

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
