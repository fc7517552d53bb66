//! The checks a team runs before each commit: toolchain agreement, the feature test matrix,
//! the pre-commit hook and the CI sequence.

use std::process::ExitCode;

/// Arguments of `cargo xtask check-toolchain`.
#[derive(Debug, clap::Args)]
pub struct CheckToolchainArgs {}

/// Arguments of `cargo xtask test-matrix`.
#[derive(Debug, clap::Args)]
pub struct TestMatrixArgs {}

/// Arguments of `cargo xtask install-hooks`.
#[derive(Debug, clap::Args)]
pub struct InstallHooksArgs {}

/// Arguments of `cargo xtask ci`.
#[derive(Debug, clap::Args)]
pub struct CiArgs {}

/// Runs `cargo xtask check-toolchain`.
pub fn run_check_toolchain(_args: CheckToolchainArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`check-toolchain` is not implemented yet")
}

/// Runs `cargo xtask test-matrix`.
pub fn run_test_matrix(_args: TestMatrixArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`test-matrix` is not implemented yet")
}

/// Runs `cargo xtask install-hooks`.
pub fn run_install_hooks(_args: InstallHooksArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`install-hooks` is not implemented yet")
}

/// Runs `cargo xtask ci`.
pub fn run_ci(_args: CiArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ci` is not implemented yet")
}
