//! `check-toolchain`, `test-matrix`, `install-hooks` and `ci`: their arguments and how they run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;
use graywork_checks::ci::{push, record};
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
    /// Write the run's results as OpenMetrics text to FILE (for Prometheus's textfile
    /// collectors): per crate and feature set built or not, tests passed, failed and skipped,
    /// times, the toolchain, and coverage with `--coverage`.
    #[arg(long, value_name = "FILE")]
    pub metrics_out: Option<PathBuf>,
    /// Push the same metrics to the Pushgateway at URL (groups `job="graywork_ci"` and
    /// `job="graywork_ci_coverage"`, `workspace` = the root directory's name).
    #[arg(long, value_name = "URL")]
    pub push: Option<String>,
    /// Measure line coverage per crate with cargo-tarpaulin (installed when missing) and fail
    /// if a crate's coverage fell by more than the threshold since the last main-branch run.
    #[arg(long)]
    pub coverage: bool,
    /// Read line coverage from this lcov report instead of running cargo-tarpaulin (implies
    /// `--coverage`).
    #[arg(long, value_name = "FILE")]
    pub coverage_lcov: Option<PathBuf>,
    /// The largest drop a crate's coverage may take, in percentage points (default:
    /// `coverage-max-drop` in `[workspace.metadata.graywork.ci]`, else 1).
    #[arg(long, value_name = "POINTS")]
    pub coverage_max_drop: Option<ci::coverage::Points>,
    /// The coverage history file (default: `coverage-history` in
    /// `[workspace.metadata.graywork.ci]`, else `target/graywork/coverage-history.json`).
    #[arg(long, value_name = "FILE")]
    pub coverage_history: Option<PathBuf>,
    /// Record this run as a baseline even if a crate's coverage fell beyond the threshold
    /// (the step then passes and says so).
    #[arg(long)]
    pub accept_coverage_drop: bool,
    /// The branch this run is recorded under (default: git's current branch); only runs on
    /// the main branch (`coverage-main-branch`, default `main`) are coverage baselines.
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// The workspace's `Cargo.toml` or its directory (default: the current directory's
    /// workspace).
    #[arg(long, value_name = "PATH", value_parser = crate::args::manifest_path)]
    pub manifest_path: Option<PathBuf>,
}

/// Runs `check-toolchain`: exit 1 on any mismatch.
pub(crate) fn run_check_toolchain(
    args: CheckToolchainArgs,
    context: Context,
) -> anyhow::Result<ExitCode> {
    let workspace = load_workspace(args.manifest_path.as_deref())?;
    let root = workspace.root.as_std_path();
    let report = toolchain::check(&workspace, || toolchain::installed_rustc(root))?;
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
pub(crate) fn run_test_matrix(args: TestMatrixArgs, context: Context) -> anyhow::Result<ExitCode> {
    test_matrix(args, context).map(|(code, _)| code)
}

/// `test-matrix`, with the jobs it ran (none for `--list` and `--emit`), which `ci` records.
fn test_matrix(
    args: TestMatrixArgs,
    context: Context,
) -> anyhow::Result<(ExitCode, Vec<matrix::JobResult>)> {
    if let Some(emit) = &args.emit {
        output::print(&format!("{}\n", emit_matrix(emit)?))?;
        return Ok((ExitCode::SUCCESS, Vec::new()));
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
        return Ok((ExitCode::SUCCESS, Vec::new()));
    }
    let config = matrix::RunConfig {
        manifest_path: args.manifest_path,
        format: args.format,
        partition: args.partition,
        quiet: context.quiet,
    };
    let outcome = matrix::run(&jobs, &config)?;
    output::print(&outcome.render(config.format, config.partition)?)?;
    let code = if outcome.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    Ok((code, outcome.results))
}

/// Runs `install-hooks`.
pub(crate) fn run_install_hooks(
    args: InstallHooksArgs,
    context: Context,
) -> anyhow::Result<ExitCode> {
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
pub(crate) fn run_ci(args: CiArgs, context: Context) -> anyhow::Result<ExitCode> {
    let workspace = load_workspace(args.manifest_path.as_deref())?;
    let system_packages =
        ci::system_packages(&workspace.root.join("Cargo.toml").into_std_path_buf())?;
    let mut steps = ci::steps(
        context.runner,
        &workspace,
        &system_packages,
        args.partition,
        args.manifest_path.as_deref(),
    );
    let root = workspace.root.as_std_path();
    let info = record::RunInfo::collect(root, args.branch.as_deref());
    if args.coverage || args.coverage_lcov.is_some() {
        let plan = coverage_plan(&args, &workspace, &info)?;
        steps.push(ci::Step::Coverage(Box::new(plan)));
    }
    if args.list {
        let lines: String = steps.iter().map(|step| format!("{step}\n")).collect();
        output::print(&lines)?;
        return Ok(ExitCode::SUCCESS);
    }
    // The tool's own steps run in this process, through the same command line; test-matrix's
    // jobs are kept for the metrics.
    let jobs = std::cell::RefCell::new(Vec::new());
    let tool = |step_args: &[String]| -> bool {
        let argv = std::iter::once(context.runner.command().to_owned())
            .chain(step_args.iter().cloned())
            .chain(context.quiet.then(|| "--quiet".to_owned()));
        let outcome = crate::Cli::try_parse_from(argv)
            .map_err(anyhow::Error::from)
            .and_then(|cli| match cli.command {
                crate::Command::TestMatrix(matrix_args) => {
                    let step_context = Context {
                        runner: context.runner,
                        quiet: cli.global.quiet,
                    };
                    let (code, results) = test_matrix(matrix_args, step_context)?;
                    jobs.borrow_mut().extend(results);
                    Ok(code)
                }
                _ => crate::run(cli, context.runner),
            });
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
    let jobs = jobs.into_inner();
    let record = record::Record {
        info: &info,
        steps: &steps,
        summary: &summary,
        jobs: &jobs,
        coverage: summary.coverage.as_ref(),
    };
    if let Some(path) = &args.metrics_out {
        ci::coverage::write_atomically(path, &record.openmetrics())?;
        if !context.quiet {
            output::print(&format!("metrics written to {}\n", path.display()))?;
        }
    }
    if let Some(url) = &args.push {
        let mut groups = vec![(record::BUILD_JOB, record.build_metrics())];
        groups.extend(
            record
                .coverage_metrics()
                .map(|text| (record::COVERAGE_JOB, text)),
        );
        for (job, text) in groups {
            let group = push::group_url(url, job, &info.workspace, args.partition);
            push::put(&group, &text)?;
            if !context.quiet {
                output::print(&format!("metrics pushed to {group}\n"))?;
            }
        }
    }
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

/// The coverage step's plan: the settings of `[workspace.metadata.graywork.ci]`, overridden by
/// the command line.
fn coverage_plan(
    args: &CiArgs,
    workspace: &Workspace,
    info: &record::RunInfo,
) -> anyhow::Result<ci::coverage::Plan> {
    let root = workspace.root.as_std_path();
    let settings = ci::coverage::Settings::from_manifest(&root.join("Cargo.toml"))?;
    // Cargo's target directory as `CARGO_TARGET_DIR` sets it, else the workspace's `target`.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(|| root.join("target"), |dir| root.join(dir));
    let history = args
        .coverage_history
        .clone()
        .or_else(|| settings.history.map(|path| root.join(path)))
        .unwrap_or_else(|| target.join("graywork/coverage-history.json"));
    let source = match &args.coverage_lcov {
        Some(path) => ci::coverage::Source::Lcov(path.clone()),
        None => ci::coverage::Source::Tarpaulin {
            dir: target.join("graywork/coverage"),
        },
    };
    Ok(ci::coverage::Plan {
        root: root.to_owned(),
        manifest_path: root.join("Cargo.toml"),
        members: workspace
            .members
            .iter()
            .map(|member| {
                (
                    member.name.clone(),
                    member.manifest_dir().as_std_path().to_owned(),
                )
            })
            .collect(),
        source,
        history,
        main_branch: settings.main_branch,
        max_drop: args.coverage_max_drop.unwrap_or(settings.max_drop),
        accept_drop: args.accept_coverage_drop,
        commit: info.commit.clone(),
        branch: info.branch.clone(),
        unix_time: info.unix_time,
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
