//! `test-matrix`: `cargo test -p CRATE` for each member under each of its feature sets.
//!
//! The jobs are every (member, feature set) pair, members in workspace order. `--sets` chooses
//! the sets ([`SetChoice`]): `full` is [`feature_sets`] (default, none, each feature alone,
//! all, and every subset for crates with at most four features); `bounded` keeps default,
//! none, all and each feature alone for up to [`BOUNDED_SINGLES`] features per crate;
//! `powerset` is every subset; `auto`, the default, is `full` unless that makes more than
//! [`MATRIX_BUDGET`] runs, and then `bounded`, with a line saying so. A set that the crate's
//! source refuses (a `compile_error!` for a feature without its `--cfg` flag, or for features
//! that exclude each other: `graywork_workspace::feature_guards`) is left out with a line
//! saying why, and `--all-features` gives way to every feature that builds.
//!
//! `--partition M/N` keeps the M-th of N contiguous slices of the job list, so one machine
//! builds a crate's sets one after another and reuses its artifacts. Every job runs, one after
//! another, with the same target directory (cargo's own, or `CARGO_TARGET_DIR`): cargo already
//! parallelises each build, and the shared directory means a dependency built once for a
//! feature set is never built again. Progress goes to stderr (a progress bar on a terminal,
//! plain lines otherwise); the summary goes to stdout.

use std::collections::BTreeMap;
use std::fmt;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::{cargo_program, format_duration};
use graywork_workspace::Workspace;
use graywork_workspace::feature_guards::FeatureGuards;
use graywork_workspace::features::{FeatureSet, feature_sets};

/// How `test-matrix` prints its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// A table: crate, feature set, result, time.
    Text,
    /// A JSON document for CI.
    Json,
}

/// Part `index` of `total` (both 1-based), as a GitHub Actions matrix numbers its jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Which part, from 1 to `total`.
    pub index: usize,
    /// How many parts.
    pub total: usize,
}

/// Why a `--partition` value is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartitionError {
    /// Not of the form `M/N`.
    #[error("partition `{0}` is not of the form M/N (for example 1/3)")]
    Syntax(String),
    /// `N` is 0.
    #[error("partition `{0}` has no parts: N must be at least 1")]
    NoParts(String),
    /// `M` is 0.
    #[error("partition `{0}` is out of range: M starts at 1")]
    Zero(String),
    /// `M` is greater than `N`.
    #[error("partition `{0}` is out of range: M must be at most N")]
    BeyondTotal(String),
}

impl FromStr for Partition {
    type Err = PartitionError;

    fn from_str(text: &str) -> Result<Partition, PartitionError> {
        let syntax = || PartitionError::Syntax(text.to_owned());
        let (index, total) = text.split_once('/').ok_or_else(syntax)?;
        let number = |part: &str| -> Result<usize, PartitionError> {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            part.parse().map_err(|_| syntax())
        };
        let (index, total) = (number(index)?, number(total)?);
        if total == 0 {
            return Err(PartitionError::NoParts(text.to_owned()));
        }
        if index == 0 {
            return Err(PartitionError::Zero(text.to_owned()));
        }
        if index > total {
            return Err(PartitionError::BeyondTotal(text.to_owned()));
        }
        Ok(Partition { index, total })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

impl Partition {
    /// The part of `items` this partition runs: the `index`-th of `total` contiguous slices,
    /// whose sizes differ by at most one.
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = (self.index - 1) * items.len() / self.total;
        let end = self.index * items.len() / self.total;
        &items[start..end]
    }
}

/// One `cargo test` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The member to test.
    pub crate_name: String,
    /// The features to build it with.
    pub feature_set: FeatureSet,
}

impl Job {
    /// The arguments after `cargo`.
    pub fn cargo_args(&self, manifest_path: Option<&std::path::Path>) -> Vec<String> {
        let mut args = vec!["test".to_owned(), "-p".to_owned(), self.crate_name.clone()];
        if let Some(path) = manifest_path {
            args.push("--manifest-path".to_owned());
            args.push(path.display().to_string());
        }
        args.extend(self.feature_set.cargo_args());
        args.push("--no-fail-fast".to_owned());
        args
    }
}

/// Which feature sets `test-matrix` builds for each crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum SetChoice {
    /// `full` when that makes at most [`MATRIX_BUDGET`] runs, else `bounded`.
    #[default]
    Auto,
    /// Default features, none, all that build, and each feature alone for up to
    /// [`BOUNDED_SINGLES`] features per crate.
    Bounded,
    /// Default, none, each feature alone, all that build, and every subset for crates with at
    /// most four features (`graywork_workspace::features::feature_sets`).
    Full,
    /// Every subset of each crate's features, for crates with at most [`POWERSET_MAX`]
    /// features (the others get `full`).
    Powerset,
}

/// Over this many `cargo test` runs, `auto` plans the bounded matrix.
pub const MATRIX_BUDGET: usize = 120;

/// The bounded matrix tests at most this many features of a crate alone.
pub const BOUNDED_SINGLES: usize = 8;

/// `powerset` enumerates the subsets of crates with at most this many features.
pub const POWERSET_MAX: usize = 10;

/// The jobs, and what the plan says about them: sets left out because the crate's source
/// refuses them, and how the matrix was bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatrixPlan {
    /// The `cargo test` runs, members in workspace order.
    pub jobs: Vec<Job>,
    /// One line each, for stderr.
    pub notes: Vec<String>,
}

/// The jobs for the chosen members (every member when `packages` is empty), cut to `partition`.
///
/// Feature sets a crate's source refuses (`graywork_workspace::feature_guards`) are left out
/// with a note, and `--all-features` gives way to the features that build. An unknown crate is
/// an error that lists the members.
pub fn plan(
    workspace: &Workspace,
    packages: &[String],
    partition: Option<Partition>,
    choice: SetChoice,
) -> anyhow::Result<MatrixPlan> {
    for name in packages {
        if workspace.member(name).is_none() {
            let members = workspace.member_names();
            let suggestion = graywork_workspace::closest_name(name, members.iter().copied())
                .map_or(String::new(), |member| format!("did you mean `{member}`? "));
            anyhow::bail!(
                "unknown crate `{name}`: {suggestion}the workspace members are: {}",
                members.join(", ")
            );
        }
    }
    let chosen: Vec<&graywork_workspace::Member> = workspace
        .members
        .iter()
        .filter(|member| packages.is_empty() || packages.contains(&member.name))
        .collect();
    let guards: Vec<FeatureGuards> = chosen
        .iter()
        .map(|member| {
            if member.features.keys().all(|name| name == "default") {
                FeatureGuards::default()
            } else {
                FeatureGuards::read(
                    member.manifest_dir().as_std_path(),
                    workspace.root.as_std_path(),
                )
            }
        })
        .collect();
    let mut plan = plan_sets(&chosen, &guards, choice);
    if let Some(partition) = partition {
        plan.jobs = partition.slice(&plan.jobs).to_vec();
    }
    Ok(plan)
}

/// The pure core of [`plan`]: each member's sets under `choice`, with its guards read.
fn plan_sets(
    members: &[&graywork_workspace::Member],
    guards: &[FeatureGuards],
    choice: SetChoice,
) -> MatrixPlan {
    let sets_for = |choice: SetChoice| -> Vec<(usize, Vec<FeatureSet>)> {
        members
            .iter()
            .enumerate()
            .map(|(index, member)| (index, candidate_sets(&member.features, choice)))
            .collect()
    };
    let mut notes = Vec::new();
    let candidates = match choice {
        SetChoice::Auto => {
            let full = sets_for(SetChoice::Full);
            let runs: usize = full.iter().map(|(_, sets)| sets.len()).sum();
            if runs <= MATRIX_BUDGET {
                full
            } else {
                let bounded = sets_for(SetChoice::Bounded);
                let bounded_runs: usize = bounded.iter().map(|(_, sets)| sets.len()).sum();
                notes.push(format!(
                    "test-matrix: the full matrix is {runs} runs over {} crates, more than \
                     {MATRIX_BUDGET}: running the bounded one, {bounded_runs} runs (default \
                     features, none, all that build, each feature alone for up to \
                     {BOUNDED_SINGLES} per crate); `--sets full` or `--sets powerset` runs more",
                    members.len()
                ));
                bounded
            }
        }
        choice => sets_for(choice),
    };
    let limit = match choice {
        SetChoice::Powerset => Some(POWERSET_MAX),
        SetChoice::Full => None,
        _ => Some(BOUNDED_SINGLES),
    };
    let bounded = notes.len() == 1 || choice == SetChoice::Bounded;
    let mut jobs = Vec::new();
    for (index, sets) in candidates {
        let member = members[index];
        let table = &member.features;
        let count = table.keys().filter(|name| *name != "default").count();
        if let Some(limit) = limit
            && count > limit
            && (bounded || choice == SetChoice::Powerset)
        {
            notes.push(if choice == SetChoice::Powerset {
                format!(
                    "{}: {count} features, more than {limit}: the full sets instead of every subset",
                    member.name
                )
            } else {
                format!(
                    "{}: {count} features: only the first {limit} by name are tested alone",
                    member.name
                )
            });
        }
        let all_that_builds = guards[index].all_that_builds(table);
        let mut seen = std::collections::BTreeSet::new();
        for set in sets {
            let set = if set.all_features
                && let Some((features, refusals)) = &all_that_builds
            {
                let reasons: Vec<String> = refusals.iter().map(ToString::to_string).collect();
                notes.push(format!(
                    "{}: --all-features cannot build, so its run names the features that do: {}",
                    member.name,
                    reasons.join("; ")
                ));
                FeatureSet::only(features.iter().cloned())
            } else {
                set
            };
            let enabled = set.enabled(table);
            if let Some(refusal) = guards[index].refusal(&enabled) {
                notes.push(format!("{}: [{set}] left out: {refusal}", member.name));
                continue;
            }
            if seen.insert(enabled) {
                jobs.push(Job {
                    crate_name: member.name.clone(),
                    feature_set: set,
                });
            }
        }
    }
    MatrixPlan { jobs, notes }
}

/// A crate's feature sets under `choice`, before refused ones are left out (`Auto` is
/// decided by the caller and reads as `Full` here).
fn candidate_sets(table: &BTreeMap<String, Vec<String>>, choice: SetChoice) -> Vec<FeatureSet> {
    let names: Vec<&str> = table
        .keys()
        .map(String::as_str)
        .filter(|name| *name != "default")
        .collect();
    let candidates: Vec<FeatureSet> = match choice {
        SetChoice::Auto | SetChoice::Full => return feature_sets(table),
        SetChoice::Powerset if names.len() > POWERSET_MAX => return feature_sets(table),
        SetChoice::Powerset => {
            let mut subsets: Vec<Vec<&str>> = (0..1_usize << names.len())
                .map(|mask| {
                    names
                        .iter()
                        .enumerate()
                        .filter(|(bit, _)| mask & (1 << bit) != 0)
                        .map(|(_, name)| *name)
                        .collect()
                })
                .collect();
            subsets.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            std::iter::once(FeatureSet::default_features())
                .chain(subsets.into_iter().map(FeatureSet::only))
                .chain([FeatureSet::all()])
                .collect()
        }
        SetChoice::Bounded => [
            FeatureSet::default_features(),
            FeatureSet::only(Vec::<String>::new()),
        ]
        .into_iter()
        .chain(
            names
                .iter()
                .take(BOUNDED_SINGLES)
                .map(|name| FeatureSet::only([*name])),
        )
        .chain([FeatureSet::all()])
        .collect(),
    };
    let mut seen = std::collections::BTreeSet::new();
    candidates
        .into_iter()
        .filter(|set| seen.insert(set.enabled(table)))
        .collect()
}

/// The JSON a GitHub Actions `strategy.matrix` takes (through `fromJSON`) to spread the
/// matrix over `parts` runners: `{"partition":["1/N",…,"N/N"]}`, each entry the `--partition`
/// argument of one runner.
pub fn github_matrix(parts: std::num::NonZeroUsize) -> String {
    let total = parts.get();
    let entries: Vec<String> = (1..=total)
        .map(|index| Partition { index, total }.to_string())
        .collect();
    serde_json::json!({ "partition": entries }).to_string()
}

/// How to run the jobs and print the summary.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Passed to each `cargo test` as `--manifest-path`.
    pub manifest_path: Option<PathBuf>,
    /// The summary's format.
    pub format: Format,
    /// The partition the jobs came from, for the summary.
    pub partition: Option<Partition>,
    /// Print no progress, only the tails of failed jobs.
    pub quiet: bool,
}

/// The result of one job.
#[derive(Debug, Clone)]
pub struct JobResult {
    /// The job.
    pub job: Job,
    /// Whether `cargo test` succeeded.
    pub passed: bool,
    /// Whether its tests built: cargo started running them (it runs none when a build fails).
    pub built: bool,
    /// How long it took.
    pub duration: Duration,
    /// The tests its `cargo test` ran, summed over its test binaries.
    pub tests: TestCounts,
}

/// Test cases counted from `cargo test`'s `test result:` lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestCounts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests that were ignored.
    pub ignored: u64,
}

impl TestCounts {
    /// Sums the `test result: ok. 3 passed; 0 failed; 1 ignored; …` lines of `cargo test`'s
    /// output (libtest prints one per test binary and doc-test run).
    pub fn from_cargo_output(output: &str) -> TestCounts {
        let mut counts = TestCounts::default();
        for line in output.lines() {
            let Some(rest) = line.trim_start().strip_prefix("test result: ") else {
                continue;
            };
            // `rest` is `ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; …`.
            let fields = rest.split_once(". ").map_or(rest, |(_, fields)| fields);
            for field in fields.split(';') {
                let mut words = field.split_whitespace();
                let (Some(number), Some(what)) = (words.next(), words.next()) else {
                    continue;
                };
                let Ok(number) = number.parse::<u64>() else {
                    continue;
                };
                match what {
                    "passed" => counts.passed += number,
                    "failed" => counts.failed += number,
                    "ignored" => counts.ignored += number,
                    _ => {}
                }
            }
        }
        counts
    }

    fn add(&mut self, other: TestCounts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }
}

/// The tests counted by every `test-matrix` run in this process, for `ci`'s closing line.
static TESTS_IN_THIS_PROCESS: std::sync::Mutex<Option<TestCounts>> = std::sync::Mutex::new(None);

/// The tests counted by every `test-matrix` run in this process so far, if one ran.
pub fn tests_in_this_process() -> Option<TestCounts> {
    // A poisoned lock only means a panicking thread held it; the counts are still whole.
    *TESTS_IN_THIS_PROCESS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Every job's result.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// In the order the jobs ran.
    pub results: Vec<JobResult>,
    /// The whole run's time.
    pub duration: Duration,
}

impl Outcome {
    /// The summary in `format`, ending with a newline.
    pub fn render(&self, format: Format, partition: Option<Partition>) -> anyhow::Result<String> {
        Ok(match format {
            Format::Text => self.render_text(),
            Format::Json => format!(
                "{}\n",
                serde_json::to_string_pretty(&self.render_json(partition))
                    .context("cannot render the test-matrix summary as JSON")?
            ),
        })
    }

    /// Whether every job passed.
    pub fn all_passed(&self) -> bool {
        self.results.iter().all(|result| result.passed)
    }

    /// The summary table.
    pub fn render_text(&self) -> String {
        let crate_width = self
            .results
            .iter()
            .map(|r| r.job.crate_name.len())
            .chain(["crate".len()])
            .max()
            .unwrap_or(0);
        let set_width = self
            .results
            .iter()
            .map(|r| r.job.feature_set.label().len())
            .chain(["feature set".len()])
            .max()
            .unwrap_or(0);
        let mut out = format!(
            "{:<crate_width$}  {:<set_width$}  result  time\n",
            "crate", "feature set"
        );
        for result in &self.results {
            out.push_str(&format!(
                "{:<crate_width$}  {:<set_width$}  {:<6}  {}\n",
                result.job.crate_name,
                result.job.feature_set.label(),
                if result.passed { "pass" } else { "FAIL" },
                format_duration(result.duration)
            ));
        }
        let failed = self.results.iter().filter(|r| !r.passed).count();
        out.push_str(&format!(
            "feature sets: {} passed, {failed} failed in {}\n",
            self.results.len() - failed,
            format_duration(self.duration)
        ));
        out.push_str(&format!("{}\n", tests_line(self.tests())));
        out
    }

    /// The tests every job ran, summed.
    pub fn tests(&self) -> TestCounts {
        let mut total = TestCounts::default();
        for result in &self.results {
            total.add(result.tests);
        }
        total
    }

    /// The summary as JSON: `{"version": 1, "partition", "passed", "failed", "seconds",
    /// "results": [{"crate", "features", "args", "status", "seconds"}]}`.
    pub fn render_json(&self, partition: Option<Partition>) -> serde_json::Value {
        let failed = self.results.iter().filter(|r| !r.passed).count();
        let results: Vec<serde_json::Value> = self
            .results
            .iter()
            .map(|result| {
                serde_json::json!({
                    "crate": result.job.crate_name,
                    "features": result.job.feature_set.label(),
                    "args": result.job.feature_set.cargo_args(),
                    "status": if result.passed { "pass" } else { "fail" },
                    "seconds": round_seconds(result.duration),
                })
            })
            .collect();
        serde_json::json!({
            "version": 1,
            "partition": partition.map(|p| p.to_string()),
            "passed": self.results.len() - failed,
            "failed": failed,
            "seconds": round_seconds(self.duration),
            "tests": {
                "passed": self.tests().passed,
                "failed": self.tests().failed,
                "ignored": self.tests().ignored,
            },
            "results": results,
        })
    }
}

/// The closing line: `tests: N passed, N failed, N skipped`.
pub fn tests_line(tests: TestCounts) -> String {
    format!(
        "tests: {} passed, {} failed, {} skipped",
        tests.passed, tests.failed, tests.ignored
    )
}

fn round_seconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 100.0).round() / 100.0
}

/// How many trailing lines of a failed job's stdout and stderr are echoed.
const FAILURE_TAIL_LINES: usize = 60;

/// Runs every job (none is skipped after a failure), reporting progress on stderr; the caller
/// prints the summary ([`Outcome::render`]).
pub fn run(jobs: &[Job], config: &RunConfig) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let progress = Progress::new(jobs.len(), config.quiet);
    let mut outcome = Outcome::default();
    if jobs.is_empty() && !config.quiet {
        progress.line("test-matrix: no jobs in this partition");
    }
    for (position, job) in jobs.iter().enumerate() {
        let args = job.cargo_args(config.manifest_path.as_deref());
        let shown = format!("cargo {}", args.join(" "));
        progress.start(position, jobs.len(), &shown);
        let job_started = Instant::now();
        let output = Command::new(cargo_program())
            .args(&args)
            .output()
            .with_context(|| format!("cannot run `{shown}`"))?;
        let duration = job_started.elapsed();
        let passed = output.status.success();
        let verdict = if passed { "pass" } else { "FAIL" };
        progress.finish(&format!(
            "{verdict} {} [{}] in {}",
            job.crate_name,
            job.feature_set.label(),
            format_duration(duration)
        ));
        if !passed {
            let mut tail = format!(
                "---- `{shown}` failed ({}); its output ends:",
                output.status
            );
            for stream in [&output.stderr, &output.stdout] {
                let text = String::from_utf8_lossy(stream);
                let lines: Vec<&str> = text
                    .lines()
                    .filter(|line| !is_cargo_progress(line))
                    .collect();
                for line in &lines[lines.len().saturating_sub(FAILURE_TAIL_LINES)..] {
                    tail.push('\n');
                    tail.push_str(line);
                }
            }
            progress.line(&tail);
        }
        let tests = TestCounts::from_cargo_output(&String::from_utf8_lossy(&output.stdout));
        outcome.results.push(JobResult {
            job: job.clone(),
            passed,
            built: passed || ran_tests(&String::from_utf8_lossy(&output.stderr)),
            duration,
            tests,
        });
    }
    progress.done();
    outcome.duration = started.elapsed();
    TESTS_IN_THIS_PROCESS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get_or_insert_with(TestCounts::default)
        .add(outcome.tests());
    Ok(outcome)
}

/// Whether cargo's stderr shows it running a test binary or doc-tests (`Running …`,
/// `Doc-tests …`), which it does only once everything built.
fn ran_tests(stderr: &str) -> bool {
    stderr.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with("Running ") || line.starts_with("Doc-tests ")
    })
}

/// Whether a line is cargo's build progress, which says nothing about why a job failed.
fn is_cargo_progress(line: &str) -> bool {
    let line = line.trim_start();
    [
        "Compiling ",
        "Checking ",
        "Downloading ",
        "Downloaded ",
        "Blocking ",
        "Locking ",
        "Adding ",
    ]
    .iter()
    .any(|status| line.starts_with(status))
}

/// A progress bar on a terminal, plain lines on stderr otherwise; with `quiet`, only the
/// lines that report a failure.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
}

impl Progress {
    fn new(len: usize, quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress { bar: None, quiet };
        }
        let bar = indicatif::ProgressBar::new(len as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} [{elapsed}] {msg}")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress {
            bar: Some(bar),
            quiet: false,
        }
    }

    fn start(&self, position: usize, len: usize, command: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(command.to_owned()),
            None if self.quiet => {}
            None => eprintln!("[{}/{len}] {command}", position + 1),
        }
    }

    fn finish(&self, line: &str) {
        if !self.quiet {
            self.line(line);
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn line(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_matrix_lists_every_partition() {
        let parts = |n| std::num::NonZeroUsize::new(n).map(github_matrix);
        assert_eq!(
            parts(3).as_deref(),
            Some(r#"{"partition":["1/3","2/3","3/3"]}"#)
        );
        assert_eq!(parts(1).as_deref(), Some(r#"{"partition":["1/1"]}"#));
        // Every entry parses back as the partition it names.
        let json: serde_json::Value =
            serde_json::from_str(&parts(4).unwrap_or_default()).unwrap_or_default();
        let parsed: Vec<Partition> = json["partition"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.as_str()?.parse().ok())
            .collect();
        assert_eq!(parsed.len(), 4);
        assert!(parsed.iter().all(|p| p.total == 4));
    }

    #[test]
    fn partitions_parse() {
        assert_eq!(
            "2/3".parse::<Partition>(),
            Ok(Partition { index: 2, total: 3 })
        );
        assert_eq!(
            "1/1".parse::<Partition>().map(|p| p.to_string()),
            Ok("1/1".to_owned())
        );
        let errors: Vec<String> = [
            "3/2", "0/2", "1/0", "0/0", "2", "a/b", "1/2/3", "-1/2", "/2", " 1/2",
        ]
        .iter()
        .map(|text| match text.parse::<Partition>() {
            Ok(partition) => format!("{text}: parsed as {partition}"),
            Err(error) => error.to_string(),
        })
        .collect();
        insta::assert_snapshot!(errors.join("\n"));
    }

    #[test]
    fn partitions_cover_every_job_once() {
        let items: Vec<usize> = (0..10).collect();
        for total in 1..=12 {
            let mut joined = Vec::new();
            for index in 1..=total {
                let part = Partition { index, total }.slice(&items);
                assert!(part.len() <= items.len() / total + 1);
                joined.extend_from_slice(part);
            }
            assert_eq!(joined, items, "{total} parts");
        }
        assert_eq!(Partition { index: 2, total: 3 }.slice(&items), [3, 4, 5]);
    }

    #[test]
    fn a_job_built_when_cargo_ran_its_tests() {
        assert!(ran_tests(
            "   Compiling a v0.1.0\n     Running unittests src/lib.rs (target/debug/deps/a-1)\n"
        ));
        assert!(ran_tests("   Doc-tests a\n"));
        assert!(!ran_tests(
            "error[E0308]: mismatched types\nerror: could not compile `a` (lib test) due to 1 \
             previous error\n"
        ));
    }

    #[test]
    fn failure_output_drops_build_progress() {
        assert!(is_cargo_progress(
            "   Compiling shared v0.3.0 (/work/shared)"
        ));
        assert!(is_cargo_progress("    Checking tower v0.5.3"));
        assert!(!is_cargo_progress(
            "error[E0063]: missing fields `a` and `b`"
        ));
        assert!(!is_cargo_progress(
            "     Running tests/it/main.rs (target/debug/deps/it-1)"
        ));
    }

    #[test]
    fn job_arguments() {
        let job = Job {
            crate_name: "billing".to_owned(),
            feature_set: FeatureSet::only(["v2"]),
        };
        assert_eq!(
            job.cargo_args(Some(std::path::Path::new("w/Cargo.toml")))
                .join(" "),
            "test -p billing --manifest-path w/Cargo.toml --no-default-features --features v2 \
             --no-fail-fast"
        );
    }

    #[test]
    fn summaries() {
        let result = |name: &str, set: FeatureSet, passed: bool, millis: u64| JobResult {
            job: Job {
                crate_name: name.to_owned(),
                feature_set: set,
            },
            passed,
            built: true,
            duration: Duration::from_millis(millis),
            tests: TestCounts {
                passed: millis / 100,
                failed: u64::from(!passed),
                ignored: 0,
            },
        };
        let outcome = Outcome {
            results: vec![
                result("billing", FeatureSet::default_features(), true, 1_250),
                result("billing", FeatureSet::only(["v2"]), false, 75_000),
                result("shared", FeatureSet::all(), true, 300),
            ],
            duration: Duration::from_millis(76_550),
        };
        assert!(!outcome.all_passed());
        insta::assert_snapshot!(outcome.render_text());
        insta::assert_json_snapshot!(outcome.render_json(Some(Partition { index: 1, total: 2 })));
    }

    #[test]
    fn counts_tests_from_cargo_output() {
        let output = "\
running 3 tests
test a ... ok
test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s

running 2 tests
test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
test result: garbled
";
        assert_eq!(
            TestCounts::from_cargo_output(output),
            TestCounts {
                passed: 4,
                failed: 1,
                ignored: 1
            }
        );
        assert_eq!(
            tests_line(TestCounts::from_cargo_output(output)),
            "tests: 4 passed, 1 failed, 1 skipped"
        );
        assert_eq!(
            TestCounts::from_cargo_output("no tests here"),
            TestCounts::default()
        );
    }
}
