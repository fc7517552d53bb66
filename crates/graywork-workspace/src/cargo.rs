//! Where cargo is: the program to run and its home directory, and the compiler it runs with
//! its version, found one way for every tool crate.

use std::ffi::OsString;
use std::path::PathBuf;

/// The `cargo` to run: the one running this command when cargo started it (`$CARGO`), so
/// child processes use the same toolchain; else `cargo` from `PATH`.
pub fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The compiler cargo runs: `$RUSTC`, else `rustc`.
pub fn rustc_program() -> OsString {
    std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())
}

/// The version [`rustc_program`] prints with `--version` (`1.95.0`, `1.96.0-nightly`), run in
/// `root` so that rustup resolves the toolchain the workspace there pins. `None` when it cannot
/// be run or prints no version.
pub fn rustc_version(root: &std::path::Path) -> Option<String> {
    let output = std::process::Command::new(rustc_program())
        .arg("--version")
        .current_dir(root)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .nth(1)
        .map(str::to_owned)
}

/// Cargo's home directory: `$CARGO_HOME`, else `.cargo` in the user's home; `None` when
/// neither is set.
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|home| home.join(".cargo")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_compiler_s_version_is_its_second_word() {
        let version = super::rustc_version(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
            .expect("the toolchain that builds the tests has a rustc");
        assert!(
            semver::Version::parse(&version).is_ok(),
            "not a version: {version}"
        );
        let missing = std::path::Path::new("/nonexistent/graywork");
        assert_eq!(
            super::rustc_version(missing),
            None,
            "no directory to run in"
        );
    }
}
