//! The checks a team runs before each commit: toolchain agreement, the feature test matrix,
//! the pre-commit hook and the CI sequence.
//!
//! - `check-toolchain` ([`toolchain`]): the pin, the MSRV, the workflows and the README agree.
//! - `test-matrix` ([`matrix`]): `cargo test -p CRATE` under each feature set ([`features`]).
//! - `install-hooks` ([`hooks`]): a pre-commit hook that runs the fast checks.
//! - `ci` ([`ci`]): fmt, clippy, check-toolchain, check-contracts and test-matrix, in order.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::workspace::{self, ResolveMode, Workspace};

pub mod ci;
pub mod features;
pub mod hooks;
pub mod matrix;
pub mod toolchain;

/// Arguments of `cargo xtask check-toolchain`.
#[derive(Debug, clap::Args)]
pub struct CheckToolchainArgs {
    /// The workspace's `Cargo.toml` (default: the current directory's workspace).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

/// Arguments of `cargo xtask test-matrix`.
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
    #[arg(long)]
    pub list: bool,
    /// The workspace's `Cargo.toml` (default: the current directory's workspace).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

/// Arguments of `cargo xtask install-hooks`.
#[derive(Debug, clap::Args)]
pub struct InstallHooksArgs {
    /// Replace a pre-commit hook that `install-hooks` did not write.
    #[arg(long)]
    pub force: bool,
    /// The workspace's `Cargo.toml` (default: the current directory's workspace).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

/// Arguments of `cargo xtask ci`.
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
    /// The workspace's `Cargo.toml` (default: the current directory's workspace).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

/// Runs `cargo xtask check-toolchain`: exit 1 on any mismatch.
pub fn run_check_toolchain(args: CheckToolchainArgs) -> anyhow::Result<ExitCode> {
    let workspace = load_workspace(args.manifest_path.as_deref())?;
    let members: Vec<toolchain::MemberManifest> = workspace
        .members
        .iter()
        .map(|member| toolchain::MemberManifest {
            name: member.name.clone(),
            manifest_path: member.manifest_path.clone().into_std_path_buf(),
        })
        .collect();
    let report = toolchain::check(workspace.root.as_std_path(), &members)?;
    print!("{}", report.render());
    Ok(if report.mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs `cargo xtask test-matrix`: exit 1 if any combination failed.
pub fn run_test_matrix(args: TestMatrixArgs) -> anyhow::Result<ExitCode> {
    let workspace = load_workspace(args.manifest_path.as_deref())?;
    let jobs = matrix::plan(&workspace, &args.packages, args.partition)?;
    if args.list {
        for job in &jobs {
            println!(
                "cargo {}",
                job.cargo_args(args.manifest_path.as_deref()).join(" ")
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let config = matrix::RunConfig {
        manifest_path: args.manifest_path,
        format: args.format,
        partition: args.partition,
    };
    let outcome = matrix::run(&jobs, &config)?;
    Ok(if outcome.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs `cargo xtask install-hooks`.
pub fn run_install_hooks(args: InstallHooksArgs) -> anyhow::Result<ExitCode> {
    let root = hooks::workspace_root(args.manifest_path.as_deref())?;
    let workspace = load_workspace(args.manifest_path.as_deref())?;
    let with_contracts = !workspace.defined_contracts().is_empty();
    let outcome = hooks::install(&root, with_contracts, args.force)?;
    println!("{outcome}");
    Ok(ExitCode::SUCCESS)
}

/// Runs `cargo xtask ci`: exit 1 if any step failed.
pub fn run_ci(args: CiArgs) -> anyhow::Result<ExitCode> {
    let workspace = load_workspace(args.manifest_path.as_deref())?;
    let steps = ci::steps(&workspace, args.partition, args.manifest_path.as_deref());
    if args.list {
        for step in &steps {
            println!("{step}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let summary = ci::run(&steps, args.keep_going);
    print!("{}", summary.render());
    // The test cases behind the verdict, last, so a reader of the log's tail sees them.
    if let Some(tests) = matrix::tests_in_this_process() {
        println!("{}", matrix::tests_line(tests));
    }
    Ok(if summary.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Loads the workspace's members from `cargo metadata --no-deps`.
fn load_workspace(manifest_path: Option<&std::path::Path>) -> anyhow::Result<Workspace> {
    Workspace::load(&workspace::manifest_source(
        manifest_path,
        ResolveMode::NoDeps,
        false,
    ))
}

/// The `cargo` to run: the one running this command when cargo started it, else `cargo`.
pub fn cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

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
