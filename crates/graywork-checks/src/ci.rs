//! `ci`: every check CI runs, in order, each timed, stopping at the first failure.
//!
//! The steps: `cargo fmt --check`; clippy with `-D warnings` for the default features, for
//! `--all-features` (or, when a member's source refuses some of its features, every member's
//! features that build, by name), and once with `--no-default-features` for the members whose default
//! features turn something on; then `check-toolchain`, `check-contracts` (when a member defines
//! contracts) and `test-matrix`, which run in this process. Clippy stays at three invocations over the whole workspace so a
//! cold run stays short; the per-crate feature sets are built exactly by `test-matrix`. With
//! `--coverage`, a last step measures line coverage per crate and its drift ([`coverage`]).
//! [`record`] turns a run's results into OpenMetrics text, and [`push`] hands it to a
//! Pushgateway.

use std::fmt;
use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::matrix::Partition;
use super::{cargo_program, format_duration};
use graywork_workspace::feature_guards::FeatureGuards;
use graywork_workspace::features::FeatureSet;
use graywork_workspace::{Runner, Workspace};

pub mod coverage;
pub mod push;
pub mod record;

/// One CI step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `cargo ARGS...` as a child process.
    Cargo(Vec<String>),
    /// `cargo xtask ARGS...` or `cargo graywork ARGS...`: this tool, run in this process.
    Tool(Runner, Vec<String>),
    /// The Debian packages the tests need (`[workspace.metadata.graywork.ci]
    /// system-packages`), installed with `apt-get` when missing.
    SystemPackages(Vec<String>),
    /// Line coverage per crate and its drift (`ci --coverage`).
    Coverage(Box<coverage::Plan>),
}

impl Step {
    /// A short, stable name for metrics: `fmt`, `clippy`, `clippy-all-features`,
    /// `clippy-no-default-features`, the tool's command (`test-matrix`, …), `system-packages`
    /// or `coverage`.
    pub fn name(&self) -> String {
        match self {
            Step::Cargo(args) => {
                let command = args.first().map_or("cargo", String::as_str);
                let has = |flag: &str| args.iter().any(|arg| arg == flag);
                if has("--all-features") || has("--features") {
                    format!("{command}-all-features")
                } else if has("--no-default-features") {
                    format!("{command}-no-default-features")
                } else {
                    command.to_owned()
                }
            }
            Step::Tool(_, args) => args.first().cloned().unwrap_or_default(),
            Step::SystemPackages(_) => "system-packages".to_owned(),
            Step::Coverage(_) => "coverage".to_owned(),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Cargo(args) => write!(f, "cargo {}", args.join(" ")),
            Step::Tool(runner, args) => write!(f, "{runner} {}", args.join(" ")),
            Step::SystemPackages(packages) => {
                write!(f, "apt-get install {} (those missing)", packages.join(" "))
            }
            Step::Coverage(plan) => f.write_str(&plan.command()),
        }
    }
}

/// The steps for `workspace`, in order; with `manifest_path`, every step is pointed at it.
pub fn steps(
    runner: Runner,
    workspace: &Workspace,
    system_packages: &[String],
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
    let mut steps = Vec::new();
    // Packages first: a test that needs a program fails with a clear message only if it is
    // installed before the tests run.
    if !system_packages.is_empty() {
        steps.push(Step::SystemPackages(system_packages.to_vec()));
    }
    // `--all-features` for the whole workspace, unless a member's source refuses some of its
    // features (a `--cfg` they need, features that exclude each other): then every member's
    // features that build, by name.
    let all_features = all_features_that_build(workspace);
    let mut all_features_args = vec!["clippy", "--workspace", "--all-targets"];
    match &all_features {
        None => all_features_args.push("--all-features"),
        Some(features) => all_features_args.extend(["--features", features.as_str()]),
    }
    steps.extend([
        Step::Cargo(command(&["fmt", "--all", "--check"], &[])),
        Step::Cargo(command(
            &["clippy", "--workspace", "--all-targets"],
            &DENY_WARNINGS,
        )),
        Step::Cargo(command(&all_features_args, &DENY_WARNINGS)),
    ]);
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

/// `None` when `--all-features` builds every member; otherwise each member's features that
/// build, as `member/feature` for `--features`.
fn all_features_that_build(workspace: &Workspace) -> Option<String> {
    let mut refused = false;
    let mut features = Vec::new();
    for member in &workspace.members {
        let names = member.features.keys().filter(|name| *name != "default");
        if names.clone().next().is_none() {
            continue;
        }
        let guards = FeatureGuards::read(
            member.manifest_dir().as_std_path(),
            workspace.root.as_std_path(),
        );
        match guards.all_that_builds(&member.features) {
            Some((kept, _)) => {
                refused = true;
                features.extend(kept.iter().map(|name| format!("{}/{name}", member.name)));
            }
            None => features.extend(names.map(|name| format!("{}/{name}", member.name))),
        }
    }
    refused.then(|| features.join(","))
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
    /// The coverage step's report, when it ran and measured.
    pub coverage: Option<coverage::Report>,
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
        let passed = run_step(step, tool, &mut summary.coverage);
        let duration = step_started.elapsed();
        let _ = writeln!(
            std::io::stdout(),
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

/// Runs one step; the coverage step's report goes to `coverage`.
fn run_step(
    step: &Step,
    tool: &dyn Fn(&[String]) -> bool,
    coverage: &mut Option<coverage::Report>,
) -> bool {
    match step {
        Step::Cargo(args) => match Command::new(cargo_program()).args(args).status() {
            Ok(status) => status.success(),
            Err(error) => {
                eprintln!("error: cannot run `{step}`: {error}");
                false
            }
        },
        Step::Tool(_, args) => tool(args),
        Step::Coverage(plan) => match coverage::run(plan) {
            Ok(report) => {
                let passed = report.passed();
                *coverage = Some(report);
                passed
            }
            Err(error) => {
                eprintln!("error: {error:#}");
                false
            }
        },
        Step::SystemPackages(packages) => match install_missing(packages) {
            Ok(()) => true,
            Err(error) => {
                eprintln!("error: {error:#}");
                false
            }
        },
    }
}

/// The `system-packages` list of `[workspace.metadata.graywork.ci]` in the workspace's root
/// manifest: Debian packages the tests need (a database server, `prometheus`, …). Absent means
/// none; anything but a list of package names is an error naming the key.
pub fn system_packages(root_manifest: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(root_manifest)
        .with_context(|| format!("cannot read {}", root_manifest.display()))?;
    let manifest: toml::Table = toml::from_str(&text)
        .with_context(|| format!("cannot parse {}", root_manifest.display()))?;
    let key = "workspace.metadata.graywork.ci.system-packages";
    let Some(value) = ["workspace", "metadata", "graywork", "ci", "system-packages"]
        .iter()
        .try_fold(&toml::Value::Table(manifest), |value, part| value.get(part))
        .cloned()
    else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = value
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .with_context(|| {
            format!(
                "{}: `{key}` must be a list of Debian package names",
                root_manifest.display()
            )
        })?;
    if let Some(bad) = names.iter().find(|name| !is_package_name(name)) {
        anyhow::bail!(
            "{}: `{key}` has `{bad}`, which is not a Debian package name",
            root_manifest.display()
        );
    }
    Ok(names)
}

/// Debian's rule: lowercase letters, digits and `+-.`, starting with a letter or digit.
fn is_package_name(name: &str) -> bool {
    name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
}

/// Installs the packages that `dpkg` does not list as installed, with `apt-get`.
fn install_missing(packages: &[String]) -> anyhow::Result<()> {
    let missing: Vec<&String> = packages
        .iter()
        .filter(|package| !is_installed(package))
        .collect();
    if missing.is_empty() {
        let _ = writeln!(
            std::io::stdout(),
            "system packages: all installed ({})",
            packages.join(", ")
        );
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|name| name.as_str()).collect();
    let _ = writeln!(
        std::io::stdout(),
        "system packages: installing {}",
        names.join(", ")
    );
    let apt = |args: &[&str]| -> anyhow::Result<()> {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .with_context(|| {
                format!(
                    "cannot run apt-get to install {}; install them by hand",
                    names.join(", ")
                )
            })?;
        anyhow::ensure!(
            status.success(),
            "`apt-get {}` failed ({status}); install {} by hand",
            args.join(" "),
            names.join(", ")
        );
        Ok(())
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&names);
    apt(&install)
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|output| {
            output.status.success()
                && String::from_utf8_lossy(&output.stdout).ends_with("install ok installed")
        })
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
            coverage: None,
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
    fn system_packages_come_from_the_root_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("Cargo.toml");
        let read = |text: &str| {
            std::fs::write(&manifest, text).unwrap();
            system_packages(&manifest).map_err(|error| format!("{error:#}"))
        };
        assert_eq!(read("[workspace]\n"), Ok(vec![]));
        assert_eq!(
            read(
                "[workspace.metadata.graywork.ci]\nsystem-packages = [\"procps\", \"etcd-server\"]\n"
            ),
            Ok(vec!["procps".to_owned(), "etcd-server".to_owned()])
        );
        let wrong_shape = read("[workspace.metadata.graywork.ci]\nsystem-packages = \"procps\"\n");
        assert!(
            wrong_shape
                .as_ref()
                .is_err_and(|e| e.contains("must be a list")),
            "{wrong_shape:?}"
        );
        let bad_name = read("[workspace.metadata.graywork.ci]\nsystem-packages = [\"rm -rf /\"]\n");
        assert!(
            bad_name.as_ref().is_err_and(|e| e.contains("`rm -rf /`")),
            "{bad_name:?}"
        );
        let broken = read("[workspace\n");
        assert!(
            broken.as_ref().is_err_and(|e| e.contains("cannot parse")),
            "{broken:?}"
        );
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
