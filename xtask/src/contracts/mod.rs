//! `check-contracts`: semver compatibility of versioned trait contracts and their wiring.

use std::process::ExitCode;

/// Arguments of `cargo xtask check-contracts`.
#[derive(Debug, clap::Args)]
pub struct CheckContractsArgs {}

/// Runs `cargo xtask check-contracts`.
pub fn run(_args: CheckContractsArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`check-contracts` is not implemented yet")
}
