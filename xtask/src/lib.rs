//! Workspace automation for any Cargo workspace: dependency graph, staged upgrade plans,
//! contract checks and the checks a team runs before each commit.
//!
//! Every command returns an [`ExitCode`]: `0` when all is well, `1` when the command ran and
//! found a problem (a broken contract, a failed test), and `2` (through an `Err`) on usage,
//! input or parse errors.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod contracts;
pub mod plan;
pub mod team;
pub mod workspace;

/// The `cargo xtask` command line.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every `cargo xtask` command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the members' dependency graph, with contract edges marked.
    Graph(plan::GraphArgs),
    /// Compute a staged upgrade plan over the workspace dependency graph.
    UpgradePlan(plan::UpgradePlanArgs),
    /// Check versioned contracts for semver compatibility and consumer/provider wiring.
    CheckContracts(contracts::CheckContractsArgs),
    /// Check that the pinned toolchain, MSRV, CI workflow and README agree.
    CheckToolchain(team::CheckToolchainArgs),
    /// Run `cargo test -p CRATE` for each member under each feature set that matters.
    TestMatrix(team::TestMatrixArgs),
    /// Install the git pre-commit hook.
    InstallHooks(team::InstallHooksArgs),
    /// Run everything CI runs: fmt, clippy, check-toolchain, check-contracts, test-matrix.
    Ci(team::CiArgs),
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Graph(args) => plan::run_graph(args),
        Command::UpgradePlan(args) => plan::run_upgrade_plan(args),
        Command::CheckContracts(args) => contracts::run(args),
        Command::CheckToolchain(args) => team::run_check_toolchain(args),
        Command::TestMatrix(args) => team::run_test_matrix(args),
        Command::InstallHooks(args) => team::run_install_hooks(args),
        Command::Ci(args) => team::run_ci(args),
    }
}
