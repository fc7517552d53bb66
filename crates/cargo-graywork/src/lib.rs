//! The `cargo graywork` command line: the clap definitions, the exit-code contract and the
//! dispatch to the tool crates. `cargo xtask` in this workspace runs the same code.
//!
//! Every command returns an [`ExitCode`]: `0` when all is well, `1` when the command ran and
//! found a problem (a broken contract, a failed test), and `2` (through an `Err`) on usage,
//! input or parse errors.
#![warn(unreachable_pub)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use graywork_workspace::Runner;

mod args;
mod cache;
mod checks;
mod contracts;
mod impact;
mod member_reads;
mod outdated;
mod output;
mod parallel;
mod plan;
mod rustup;

pub use output::ColorChoice;
pub use plan::tree_facts;

/// The exit codes, as `--help` lists them.
const EXIT_CODES: &str = "\
Exit codes:
  0  all is well
  1  the command ran and found a problem (a broken contract, a failed test or check)
  2  usage, input or parse error (bad arguments, malformed files, unknown crates)";

/// The `cargo graywork` (or `cargo xtask`) command line.
#[derive(Debug, Parser)]
#[command(
    name = "cargo graywork",
    bin_name = "cargo graywork",
    version,
    about,
    propagate_version = true,
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, before or after the command's name.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalArgs {
    /// When to colour the output: `auto` colours a terminal unless `NO_COLOR` is set.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print only what the command found: no progress, no confirmations, nothing when all agree.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the members' dependency graph, with contract edges marked.
    Graph(plan::GraphArgs),
    /// Compute a staged upgrade plan over the workspace dependency graph.
    UpgradePlan(plan::UpgradePlanArgs),
    /// Check versioned contracts for semver compatibility and consumer/provider wiring.
    CheckContracts(contracts::CheckContractsArgs),
    /// Check that the pinned toolchain, MSRV, CI workflow and README agree.
    CheckToolchain(checks::CheckToolchainArgs),
    /// Run `cargo test -p CRATE` for each member under each feature set that matters.
    TestMatrix(checks::TestMatrixArgs),
    /// Install the git pre-commit hook.
    InstallHooks(checks::InstallHooksArgs),
    /// Run everything CI runs: fmt, clippy, check-toolchain, check-contracts, test-matrix.
    Ci(checks::CiArgs),
    /// List the registry dependencies that have newer versions, and plan their upgrades.
    Outdated(outdated::OutdatedArgs),
}

/// What every command is run with besides its arguments.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The command that started the tool, for hooks, CI steps and suggested fixes.
    pub runner: Runner,
    /// `--quiet`.
    pub quiet: bool,
}

/// The whole program: parses `args` (the process's arguments, the program name first), runs
/// the command, prints any error once, and returns the exit code.
///
/// `cargo graywork ARGS` starts the binary as `cargo-graywork graywork ARGS`; the extra
/// `graywork` is dropped, so the binary also runs directly as `cargo-graywork ARGS`.
pub fn main(runner: Runner, args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|arg| arg == "graywork") {
        args.remove(1);
    }
    // Before anything starts cargo: a pin whose toolchain is missing would fail every run.
    if let Some(code) = rustup::fall_back(&args) {
        return code;
    }
    let color = output::color_from_args(&args);
    output::set_color(color);
    let command = output::styled_command::<Cli>(runner, color);
    let cli = match command
        .try_get_matches_from(&args)
        .and_then(|matches| <Cli as clap::FromArgMatches>::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        // Help and version go to stdout with exit 0; usage errors to stderr with exit 2.
        Err(error) => return ExitCode::from(output::clap_exit(&error)),
    };
    // The parsed choice, which equals the raw one read above unless clap saw it differently.
    output::set_color(cli.global.color);
    match run(cli, runner) {
        Ok(code) => code,
        Err(error) => {
            output::report_error(&error);
            ExitCode::from(2)
        }
    }
}

/// Runs one parsed command line.
///
/// The colour choice is the process's, set once by [`main`]: `ci` runs the tool's own steps
/// through this function, and they keep the choice the user made for the whole run.
pub fn run(cli: Cli, runner: Runner) -> anyhow::Result<ExitCode> {
    let context = Context {
        runner,
        quiet: cli.global.quiet,
    };
    match cli.command {
        Command::Graph(args) => plan::run_graph(args),
        Command::UpgradePlan(args) => plan::run_upgrade_plan(args, context),
        Command::CheckContracts(args) => contracts::run(args, context),
        Command::CheckToolchain(args) => checks::run_check_toolchain(args, context),
        Command::TestMatrix(args) => checks::run_test_matrix(args, context),
        Command::InstallHooks(args) => checks::run_install_hooks(args, context),
        Command::Ci(args) => checks::run_ci(args, context),
        Command::Outdated(args) => outdated::run(args, context),
    }
}
