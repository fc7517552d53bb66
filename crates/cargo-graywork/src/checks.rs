//! `check-toolchain`, `test-matrix`, `install-hooks` and `ci`: their arguments and how they run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;
use graywork_checks::{ci, hooks, matrix, toolchain};
use graywork_workspace::{ResolveMode, Workspace};

use crate::{Context, output};

/// Arguments of `check-toolchain`.
#[derive(Debug, clap::Args)]
pub struct CheckToolchainArgs {
    /// The workspace's `Cargo.toml` or its directory (default: the current directory's
    /// workspace).
    #[arg(long, value_name = "PATH", value_parser = crate::args::manifest_path)]
    pub manifest_path: Option<PathBuf>,
    /// Output format: the report as text, or as JSON (`graywork.check-toolchain/v1`).
    #[arg(long, value_enum, default_value_t = ToolchainFormat::Text)]
    pub format: ToolchainFormat,
}

/// `check-toolchain --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ToolchainFormat {
    /// Declarations, allowed exceptions, mismatches with fixes, and a verdict.
    Text,
    /// The same, as one JSON object.
    Json,
}

/// Arguments of `test-matrix`.
#[derive(Debug, clap::Args)]
pub struct TestMatrixArgs {
    /// Test only this crate (repeatable; default: every member).
    #[arg(short = 'p', long = "package", value_name = "CRATE")]
    pub packages: Vec<String>,
    /// The summary's format.
    #[arg(long, value_enum, default_value_t = matrix::Format::Text)]
    pub format: matrix::Format,
    /// Run only part M of N (1-based, as in a GitHub Actions matrix), for example `2/3`.
    #[arg(long, value_name = "M/N")]
    pub partition: Option<matrix::Partition>,
    /// Print the `cargo test` commands without running them.
    #[arg(long, conflicts_with = "emit")]
    pub list: bool,
    /// Which feature sets of each crate: `auto` is `full` up to 120 runs and `bounded` above.
    #[arg(long, value_enum, default_value_t = matrix::SetChoice::Auto)]
    pub sets: matrix::SetChoice,
    /// Print, instead of running anything, what CI needs to spread the matrix: `github-matrix N`
    /// is the JSON a GitHub Actions `strategy.matrix` takes for N runners, each entry the
    /// `--partition` argument of one.
    #[arg(long, num_args = 2, value_names = ["FORMAT", "N"])]
    pub emit: Option<Vec<String>>,
    /// The workspace's `Cargo.toml` or its directory (default: the current directory's
    /// workspace).
    #[arg(long, value_name = "PATH", value_parser = crate::args::manifest_path)]
    pub manifest_path: Option<PathBuf>,
}

/// Arguments of `install-hooks`.
#[derive(Debug, clap::Args)]
pub struct InstallHooksArgs {
    /// Replace a pre-commit hook that `install-hooks` did not write.
    #[arg(long)]
    pub force: bool,
    /// The workspace's `Cargo.toml` or its directory (default: the current directory's
    /// workspace).
    #[arg(long, value_name = "PATH", value_parser = crate::args::manifest_path)]
    pub manifest_path: Option<PathBuf>,
}

/// Arguments of `ci`.
#[derive(Debug, clap::Args)]
pub struct CiArgs {
    /// Run every step even after one fails (the exit code still reports the failure).
    #[arg(long)]
    pub keep_going: bool,
    /// Pass `--partition M/N` to the test-matrix step.
    #[arg(long, value_name = "M/N")]
    pub partition: Option<matrix::Partition>,
    /// Print the steps without running them.
    #[arg(long)]
    pub list: bool,
    /// The workspace's `Cargo.toml` or its directory (default: the current directory's
    /// workspace).
    #[arg(long, value_name = "PATH", value_parser = crate::args::manifest_path)]
    pub manifest_path: Option<PathBuf>,
}

/// Runs `check-toolchain`: exit 1 on any mismatch.
pub fn run_check_toolchain(args: CheckToolchainArgs, context: Context) -> anyhow::Result<ExitCode> {
    let workspace = load_workspace(args.manifest_path.as_deref())?;
    let members: Vec<toolchain::MemberManifest> = workspace
        .members
        .iter()
        .map(|member| toolchain::MemberManifest {
            name: member.name.clone(),
            manifest_path: member.manifest_path.clone().into_std_path_buf(),
            depends_on: member
                .dependencies
                .iter()
                .filter(|dependency| dependency.kind.orders())
                .filter_map(|dependency| dependency.member)
                .map(|target| workspace.members[target].name.clone())
                .collect(),
        })
        .collect();
    let root = workspace.root.as_std_path();
    let report = toolchain::check(root, &members, || toolchain::installed_rustc(root))?;
    let shown = match args.format {
        // `--quiet` keeps only the lines that fail.
        ToolchainFormat::Text if context.quiet => report.render_failures(),
        ToolchainFormat::Text => report.render(),
        ToolchainFormat::Json if context.quiet && report.mismatches.is_empty() => String::new(),
        ToolchainFormat::Json => report.to_json(),
    };
    output::print(&shown)?;
    Ok(if report.mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs `test-matrix`: exit 1 if any combination failed.
pub fn run_test_matrix(args: TestMatrixArgs, context: Context) -> anyhow::Result<ExitCode> {
    if let Some(emit) = &args.emit {
        output::print(&format!("{}\n", emit_matrix(emit)?))?;
        return Ok(ExitCode::SUCCESS);
    }
    let workspace = load_workspace(args.manifest_path.as_deref())?;
    let plan = matrix::plan(&workspace, &args.packages, args.partition, args.sets)?;
    if !context.quiet {
        for note in &plan.notes {
            eprintln!("{note}");
        }
    }
    let jobs = plan.jobs;
    if args.list {
        let lines: String = jobs
            .iter()
            .map(|job| {
                format!(
                    "cargo {}\n",
                    job.cargo_args(args.manifest_path.as_deref()).join(" ")
                )
            })
            .collect();
        output::print(&lines)?;
        return Ok(ExitCode::SUCCESS);
    }
    let config = matrix::RunConfig {
        manifest_path: args.manifest_path,
        format: args.format,
        partition: args.partition,
        quiet: context.quiet,
    };
    let outcome = matrix::run(&jobs, &config)?;
    output::print(&outcome.render(config.format, config.partition)?)?;
    Ok(if outcome.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs `install-hooks`.
pub fn run_install_hooks(args: InstallHooksArgs, context: Context) -> anyhow::Result<ExitCode> {
    let workspace = load_workspace(args.manifest_path.as_deref())?;
    let with_contracts = !workspace.defined_contracts().is_empty();
    let outcome = hooks::install(
        context.runner,
        workspace.root.as_std_path(),
        with_contracts,
        args.force,
    )?;
    if !context.quiet {
        output::print(&format!("{outcome}\n"))?;
        // Said once, when the hook is written: the hook itself stays silent about a check it
        // does not run.
        if !with_contracts && !matches!(outcome, hooks::InstallOutcome::Unchanged(_)) {
            output::print(&format!("{}\n", hooks::WITHOUT_CONTRACTS))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `ci`: exit 1 if any step failed.
pub fn run_ci(args: CiArgs, context: Context) -> anyhow::Result<ExitCode> {
    let workspace = load_workspace(args.manifest_path.as_deref())?;
    let system_packages =
        ci::system_packages(&workspace.root.join("Cargo.toml").into_std_path_buf())?;
    let steps = ci::steps(
        context.runner,
        &workspace,
        &system_packages,
        args.partition,
        args.manifest_path.as_deref(),
    );
    if args.list {
        let lines: String = steps.iter().map(|step| format!("{step}\n")).collect();
        output::print(&lines)?;
        return Ok(ExitCode::SUCCESS);
    }
    // The tool's own steps run in this process, through the same command line.
    let tool = |step_args: &[String]| -> bool {
        let argv = std::iter::once(context.runner.command().to_owned())
            .chain(step_args.iter().cloned())
            .chain(context.quiet.then(|| "--quiet".to_owned()));
        let outcome = crate::Cli::try_parse_from(argv)
            .map_err(anyhow::Error::from)
            .and_then(|cli| crate::run(cli, context.runner));
        match outcome {
            Ok(code) => code == ExitCode::SUCCESS,
            Err(error) => {
                output::report_error(&error);
                false
            }
        }
    };
    let summary = ci::run(&steps, args.keep_going, &tool);
    output::print(&summary.render())?;
    // The test cases behind the verdict, last, so a reader of the log's tail sees them.
    if let Some(tests) = matrix::tests_in_this_process() {
        output::print(&format!("{}\n", matrix::tests_line(tests)))?;
    }
    Ok(if summary.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Loads the workspace's members from `cargo metadata --no-deps`.
fn load_workspace(manifest_path: Option<&std::path::Path>) -> anyhow::Result<Workspace> {
    Workspace::load(&graywork_workspace::manifest_source(
        manifest_path,
        ResolveMode::NoDeps,
        false,
    ))
}

/// `--emit FORMAT N`.
fn emit_matrix(emit: &[String]) -> anyhow::Result<String> {
    match emit {
        [format, parts] if format == "github-matrix" => {
            let parts: std::num::NonZeroUsize = parts.parse().map_err(|_| {
                anyhow::anyhow!(
                    "--emit github-matrix {parts}: N must be a whole number of at least 1"
                )
            })?;
            Ok(matrix::github_matrix(parts))
        }
        [format, _] => anyhow::bail!("--emit {format}: unknown format (known: github-matrix)"),
        _ => anyhow::bail!(
            "--emit takes a format and a number, for example `--emit github-matrix 4`"
        ),
    }
}
