//! The command a user types to run the tool, so hooks, CI steps and suggested fixes name it.

use std::fmt;

/// How the tool was started: `cargo xtask` in a workspace whose xtask is this tool, or the
/// installed `cargo graywork` anywhere else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Runner {
    /// `cargo xtask …`, through the workspace's own xtask crate.
    #[default]
    Xtask,
    /// `cargo graywork …`, the installed `cargo-graywork` binary.
    Graywork,
}

impl Runner {
    /// The command line prefix: `cargo xtask` or `cargo graywork`.
    pub fn command(self) -> &'static str {
        match self {
            Runner::Xtask => "cargo xtask",
            Runner::Graywork => "cargo graywork",
        }
    }
}

impl fmt::Display for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.command())
    }
}
