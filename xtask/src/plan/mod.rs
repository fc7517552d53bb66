//! `graph` and `upgrade-plan`: the workspace dependency graph and staged upgrade plans over it.

use std::process::ExitCode;

/// Arguments of `cargo xtask graph`.
#[derive(Debug, clap::Args)]
pub struct GraphArgs {}

/// Arguments of `cargo xtask upgrade-plan`.
#[derive(Debug, clap::Args)]
pub struct UpgradePlanArgs {}

/// Runs `cargo xtask graph`.
pub fn run_graph(_args: GraphArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`graph` is not implemented yet")
}

/// Runs `cargo xtask upgrade-plan`.
pub fn run_upgrade_plan(_args: UpgradePlanArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`upgrade-plan` is not implemented yet")
}
