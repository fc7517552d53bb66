//! `ci`: every check CI runs, in order, each timed, stopping at the first failure.
//!
//! The steps: `cargo fmt --check`; clippy with `-D warnings` for the default features, for
//! `--all-features`, and once with `--no-default-features` for the members whose default
//! features turn something on; then `check-toolchain`, `check-contracts` (when a member defines
//! contracts) and `test-matrix`, which run in this process. Clippy stays at three invocations over the whole workspace so a
//! cold run stays short; the per-crate feature sets are built exactly by `test-matrix`.

use std::fmt;
use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::matrix::Partition;
use super::{cargo_program, format_duration};
use graywork_workspace::features::FeatureSet;
use graywork_workspace::{Runner, Workspace};

/// One CI step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `cargo ARGS...` as a child process.
    Cargo(Vec<String>),
    /// `cargo xtask ARGS...` or `cargo graywork ARGS...`: this tool, run in this process.
    Tool(Runner, Vec<String>),
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Cargo(args) => write!(f, "cargo {}", args.join(" ")),
            Step::Tool(runner, args) => write!(f, "{runner} {}", args.join(" ")),
        }
    }
}

/// The steps for `workspace`, in order; with `manifest_path`, every step is pointed at it.
pub fn steps(
    runner: Runner,
    workspace: &Workspace,
    partition: Option<Partition>,
    manifest_path: Option<&Path>,
) -> Vec<Step> {
    let manifest: Vec<String> = manifest_path
        .map(|path| vec!["--manifest-path".to_owned(), path.display().to_string()])
        .unwrap_or_default();
    // The manifest goes before `tail`, so clippy's `-- -D warnings` stays last.
    let command = |args: &[&str], tail: &[&str]| -> Vec<String> {
        args.iter()
            .map(|arg| (*arg).to_owned())
            .chain(manifest.iter().cloned())
            .chain(tail.iter().map(|arg| (*arg).to_owned()))
            .collect()
    };
    const DENY_WARNINGS: [&str; 3] = ["--", "-D", "warnings"];
    let mut steps = vec![
        Step::Cargo(command(&["fmt", "--all", "--check"], &[])),
        Step::Cargo(command(
            &["clippy", "--workspace", "--all-targets"],
            &DENY_WARNINGS,
        )),
        Step::Cargo(command(
            &["clippy", "--workspace", "--all-targets", "--all-features"],
            &DENY_WARNINGS,
        )),
    ];
    let with_defaults: Vec<&str> = workspace
        .members
        .iter()
        .filter(|member| {
            !FeatureSet::default_features()
                .enabled(&member.features)
                .is_empty()
        })
        .map(|member| member.name.as_str())
        .collect();
    if !with_defaults.is_empty() {
        let mut args = vec!["clippy", "--all-targets", "--no-default-features"];
        for name in &with_defaults {
            args.extend(["-p", name]);
        }
        steps.push(Step::Cargo(command(&args, &DENY_WARNINGS)));
    }
    steps.push(Step::Tool(runner, command(&["check-toolchain"], &[])));
    // A workspace without a contract crate has nothing for check-contracts to check, and the
    // command refuses such a workspace, so the step is left out rather than failing every run.
    if !workspace.defined_contracts().is_empty() {
        steps.push(Step::Tool(runner, command(&["check-contracts"], &[])));
    }
    let partition = partition.map(|partition| partition.to_string());
    let mut matrix = vec!["test-matrix"];
    if let Some(partition) = &partition {
        matrix.extend(["--partition", partition]);
    }
    steps.push(Step::Tool(runner, command(&matrix, &[])));
    steps
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It succeeded.
    Passed,
    /// It failed.
    Failed,
    /// An earlier step failed, so it did not run.
    Skipped,
}

/// One step's result.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// The step as a command line.
    pub command: String,
    /// How it ended.
    pub status: Status,
    /// How long it ran.
    pub duration: Duration,
}

/// Every step's result.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// In step order.
    pub results: Vec<StepResult>,
    /// The whole run's time.
    pub duration: Duration,
}

impl Summary {
    /// Whether every step passed.
    pub fn all_passed(&self) -> bool {
        self.results.iter().all(|r| r.status == Status::Passed)
    }

    /// The summary table and the verdict.
    pub fn render(&self) -> String {
        let mut out = String::from("\nci summary:\n");
        for result in &self.results {
            let (status, time) = match result.status {
                Status::Passed => ("pass", format_duration(result.duration)),
                Status::Failed => ("FAIL", format_duration(result.duration)),
                Status::Skipped => ("skipped", String::new()),
            };
            out.push_str(&format!("  {status:<7}  {time:>8}  {}\n", result.command));
        }
        let failed = self
            .results
            .iter()
            .filter(|r| r.status == Status::Failed)
            .count();
        let total = format_duration(self.duration);
        if failed == 0 {
            out.push_str(&format!("ci passed in {total}\n"));
        } else {
            out.push_str(&format!(
                "ci failed: {failed} of {} steps failed in {total}\n",
                self.results.len()
            ));
        }
        out
    }
}

/// Runs the steps in order. After a failure the rest are skipped unless `keep_going`. `tool`
/// runs one of this tool's own commands in this process and says whether it passed.
pub fn run(steps: &[Step], keep_going: bool, tool: &dyn Fn(&[String]) -> bool) -> Summary {
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut failed = false;
    for (position, step) in steps.iter().enumerate() {
        let command = step.to_string();
        if failed && !keep_going {
            summary.results.push(StepResult {
                command,
                status: Status::Skipped,
                duration: Duration::ZERO,
            });
            continue;
        }
        let _ = writeln!(
            std::io::stdout(),
            "==> [{}/{}] {command}",
            position + 1,
            steps.len()
        );
        // Flushing keeps the header ahead of the child's output when stdout is a pipe.
        let _ = std::io::stdout().flush();
        let step_started = Instant::now();
        let passed = run_step(step, tool);
        let duration = step_started.elapsed();
        println!(
            "<== {} in {}: {command}",
            if passed { "pass" } else { "FAIL" },
            format_duration(duration)
        );
        failed |= !passed;
        summary.results.push(StepResult {
            command,
            status: if passed {
                Status::Passed
            } else {
                Status::Failed
            },
            duration,
        });
    }
    summary.duration = started.elapsed();
    summary
}

fn run_step(step: &Step, tool: &dyn Fn(&[String]) -> bool) -> bool {
    match step {
        Step::Cargo(args) => match Command::new(cargo_program()).args(args).status() {
            Ok(status) => status.success(),
            Err(error) => {
                eprintln!("error: cannot run `{step}`: {error}");
                false
            }
        },
        Step::Tool(_, args) => tool(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(statuses: &[Status]) -> Summary {
        Summary {
            results: statuses
                .iter()
                .enumerate()
                .map(|(index, status)| StepResult {
                    command: format!("step {index}"),
                    status: *status,
                    duration: Duration::from_millis(1_500),
                })
                .collect(),
            duration: Duration::from_secs(125),
        }
    }

    #[test]
    fn summaries() {
        let passed = summary(&[Status::Passed, Status::Passed]);
        assert!(passed.all_passed());
        insta::assert_snapshot!(passed.render());
        let failed = summary(&[Status::Passed, Status::Failed, Status::Skipped]);
        assert!(!failed.all_passed());
        insta::assert_snapshot!(failed.render());
    }

    #[test]
    fn stops_at_the_first_failure_unless_told_to_keep_going() {
        let steps = [
            Step::Tool(Runner::Xtask, vec!["no-such-command".to_owned()]),
            Step::Tool(
                Runner::Xtask,
                vec![
                    "test-matrix".to_owned(),
                    "--partition".to_owned(),
                    "3/2".to_owned(),
                ],
            ),
        ];
        // The tool fails every command; what it was asked to run is recorded.
        let statuses = |keep_going| -> (Vec<Status>, Vec<String>) {
            let calls = std::cell::RefCell::new(Vec::new());
            let tool = |args: &[String]| {
                calls.borrow_mut().push(args.join(" "));
                false
            };
            let statuses = run(&steps, keep_going, &tool)
                .results
                .iter()
                .map(|r| r.status)
                .collect();
            (statuses, calls.into_inner())
        };
        assert_eq!(
            statuses(false),
            (
                vec![Status::Failed, Status::Skipped],
                vec!["no-such-command".to_owned()]
            )
        );
        assert_eq!(
            statuses(true),
            (
                vec![Status::Failed, Status::Failed],
                vec![
                    "no-such-command".to_owned(),
                    "test-matrix --partition 3/2".to_owned()
                ]
            )
        );
    }
}
