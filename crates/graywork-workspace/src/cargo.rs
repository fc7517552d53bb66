//! Where cargo is: the program to run and its home directory, found one way for every tool
//! crate.

use std::ffi::OsString;
use std::path::PathBuf;

/// The `cargo` to run: the one running this command when cargo started it (`$CARGO`), so
/// child processes use the same toolchain; else `cargo` from `PATH`.
pub fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Cargo's home directory: `$CARGO_HOME`, else `.cargo` in the user's home; `None` when
/// neither is set.
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|home| home.join(".cargo")))
}
