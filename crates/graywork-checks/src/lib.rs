//! The checks a team runs before each commit: toolchain agreement, the feature test matrix,
//! the pre-commit hook and the CI sequence.
//!
//! - `check-toolchain` ([`toolchain`]): the pin, the MSRV, the workflows and the README agree.
//! - `test-matrix` ([`matrix`]): `cargo test -p CRATE` under each feature set
//!   (`graywork_workspace::features`).
//! - `install-hooks` ([`hooks`]): a pre-commit hook that runs the fast checks.
//! - `ci` ([`ci`]): fmt, clippy, check-toolchain, check-contracts and test-matrix, in order.
//! - [`rustup`]: which installed toolchain every command runs with when the workspace pins one
//!   that rustup lacks.
#![warn(unreachable_pub)]

pub mod ci;
pub mod hooks;
pub mod matrix;
pub mod rustup;
pub mod toolchain;

pub use graywork_workspace::cargo_program;

/// A duration for people: `0.4s`, `12.3s`, `4m 05s`.
pub fn format_duration(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else {
        let whole = duration.as_secs();
        format!("{}m {:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(super::format_duration(Duration::from_millis(420)), "0.4s");
        assert_eq!(
            super::format_duration(Duration::from_millis(59_940)),
            "59.9s"
        );
        assert_eq!(super::format_duration(Duration::from_secs(245)), "4m 05s");
    }
}
