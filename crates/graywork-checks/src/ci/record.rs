//! What one `ci` run records, as OpenMetrics text: each step's verdict and time; per crate and
//! feature set, whether it built, its tests passed, failed and skipped, and its time; the
//! commit, branch and toolchain; and, with `--coverage`, line coverage per crate with its drift.
//!
//! Every family is a gauge without timestamps, so the same text serves Prometheus's textfile
//! collectors (`--metrics-out`) and a Pushgateway (`--push`), which refuses timestamps. The
//! text comes in two groups, pushed apart (`job="graywork_ci"` and `job="graywork_ci_coverage"`)
//! so that a run without `--coverage` replaces the build figures and leaves the last coverage
//! figures in place. The families are documented in `docs/ci-metrics.md`; the Grafana
//! dashboard's CI panels query them.

use std::fmt::Write as _;
use std::path::Path;

use super::coverage::Report;
use super::{Status, Step, Summary};
use crate::matrix::JobResult;

/// The Pushgateway job of the build figures.
pub const BUILD_JOB: &str = "graywork_ci";
/// The Pushgateway job of the coverage figures.
pub const COVERAGE_JOB: &str = "graywork_ci_coverage";

/// What identifies a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// The workspace root directory's name: the Pushgateway groups runs by it.
    pub workspace: String,
    /// `git rev-parse HEAD`, or `unknown` outside a repository.
    pub commit: String,
    /// The branch the run is recorded under: given, else git's current branch (`detached`
    /// on a detached HEAD, `unknown` outside a repository).
    pub branch: String,
    /// The compiler's version (`1.95.0`), or `unknown`.
    pub toolchain: String,
    /// When the run started, in seconds since the Unix epoch.
    pub unix_time: u64,
}

impl RunInfo {
    /// Reads the commit, branch and toolchain of the workspace at `root`; `branch` overrides
    /// git's (CI checkouts are often on a detached HEAD).
    pub fn collect(root: &Path, branch: Option<&str>) -> RunInfo {
        let git = |args: &[&str]| {
            graywork_workspace::git(root, args)
                .ok()
                .map(|out| out.trim().to_owned())
                .filter(|out| !out.is_empty())
        };
        let branch = branch.map(str::to_owned).unwrap_or_else(|| {
            match git(&["rev-parse", "--abbrev-ref", "HEAD"]).as_deref() {
                Some("HEAD") => "detached".to_owned(),
                Some(name) => name.to_owned(),
                None => "unknown".to_owned(),
            }
        });
        // The compiler cargo would use here: `$RUSTC`, else `rustc` (through rustup's pin).
        let toolchain =
            graywork_workspace::rustc_version(root).unwrap_or_else(|| "unknown".to_owned());
        RunInfo {
            workspace: root.file_name().map_or_else(
                || "workspace".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            ),
            commit: git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_owned()),
            branch,
            toolchain,
            unix_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs()),
        }
    }
}

/// One run's results.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// What identifies it.
    pub info: &'a RunInfo,
    /// The steps, in the order of `summary.results`.
    pub steps: &'a [Step],
    /// How each ended.
    pub summary: &'a Summary,
    /// Every `cargo test` job test-matrix ran.
    pub jobs: &'a [JobResult],
    /// The coverage step's report, when it ran and measured.
    pub coverage: Option<&'a Report>,
}

impl Record<'_> {
    /// The build figures: the run, its steps and its jobs.
    pub fn build_metrics(&self) -> String {
        let info = self.info;
        let toolchain = info.toolchain.as_str();
        let mut families = vec![
            Family::new(
                "graywork_ci_run_info",
                "The run: commit, branch and toolchain; always 1.",
            )
            .sample(
                &[
                    ("commit", &info.commit),
                    ("branch", &info.branch),
                    ("toolchain", toolchain),
                    (
                        "coverage",
                        if self.coverage.is_some() {
                            "true"
                        } else {
                            "false"
                        },
                    ),
                ],
                1.0,
            ),
            Family::new(
                "graywork_ci_run_timestamp_seconds",
                "When the run started, in seconds since the Unix epoch.",
            )
            .sample(&[], info.unix_time as f64),
            Family::new("graywork_ci_run_success", "1 if every step passed, else 0.")
                .sample(&[], flag(self.summary.all_passed())),
            Family::new(
                "graywork_ci_run_duration_seconds",
                "How long the whole run took.",
            )
            .sample(&[], seconds(self.summary.duration)),
        ];
        let mut step_success = Family::new(
            "graywork_ci_step_success",
            "Each step that ran: 1 if it passed, else 0 (a step skipped after a failure is absent).",
        );
        let mut step_duration = Family::new(
            "graywork_ci_step_duration_seconds",
            "How long each step that ran took.",
        );
        for (step, result) in self.steps.iter().zip(&self.summary.results) {
            if result.status == Status::Skipped {
                continue;
            }
            let name = step.name();
            let labels = [("step", name.as_str()), ("toolchain", toolchain)];
            step_success.push(&labels, flag(result.status == Status::Passed));
            step_duration.push(&labels, seconds(result.duration));
        }
        families.extend([step_success, step_duration]);
        let mut built = Family::new(
            "graywork_ci_build_success",
            "Each crate and feature set test-matrix ran: 1 if its tests built, else 0.",
        );
        let mut passed = Family::new(
            "graywork_ci_job_success",
            "Each crate and feature set: 1 if `cargo test` passed, else 0.",
        );
        let mut tests_passed = Family::new(
            "graywork_ci_tests_passed",
            "Tests that passed, per crate and feature set.",
        );
        let mut tests_failed = Family::new(
            "graywork_ci_tests_failed",
            "Tests that failed, per crate and feature set.",
        );
        let mut tests_skipped = Family::new(
            "graywork_ci_tests_skipped",
            "Tests that were ignored, per crate and feature set.",
        );
        let mut job_duration = Family::new(
            "graywork_ci_job_duration_seconds",
            "How long each crate and feature set's `cargo test` took, build included.",
        );
        for job in self.jobs {
            let features = job.job.feature_set.label();
            let labels = [
                ("crate", job.job.crate_name.as_str()),
                ("features", features.as_str()),
                ("toolchain", toolchain),
            ];
            built.push(&labels, flag(job.built));
            passed.push(&labels, flag(job.passed));
            tests_passed.push(&labels, job.tests.passed as f64);
            tests_failed.push(&labels, job.tests.failed as f64);
            tests_skipped.push(&labels, job.tests.ignored as f64);
            job_duration.push(&labels, seconds(job.duration));
        }
        families.extend([
            built,
            passed,
            tests_passed,
            tests_failed,
            tests_skipped,
            job_duration,
        ]);
        render(&families)
    }

    /// The coverage figures, when the coverage step measured.
    pub fn coverage_metrics(&self) -> Option<String> {
        let report = self.coverage?;
        let baseline = report.baseline_commit.as_deref().unwrap_or("none");
        let mut families = vec![
            Family::new(
                "graywork_ci_coverage_info",
                "The measured commit and the one drift is measured against; always 1.",
            )
            .sample(
                &[
                    ("commit", &report.commit),
                    ("branch", &report.branch),
                    ("baseline_commit", baseline),
                ],
                1.0,
            ),
            Family::new(
                "graywork_ci_coverage_timestamp_seconds",
                "When the measured run started, in seconds since the Unix epoch.",
            )
            .sample(&[], self.info.unix_time as f64),
            Family::new(
                "graywork_ci_coverage_success",
                "1 if no crate fell by more than the threshold (or the drop was accepted), else 0.",
            )
            .sample(&[], flag(report.passed())),
            Family::new(
                "graywork_ci_coverage_max_drop_ratio",
                "The largest drop a crate may take, as a ratio.",
            )
            .sample(&[], report.max_drop.as_ratio()),
        ];
        let mut covered = Family::new(
            "graywork_ci_coverage_lines_covered",
            "Lines hit by the tests, per crate.",
        );
        let mut lines = Family::new(
            "graywork_ci_coverage_lines",
            "Instrumented lines, per crate.",
        );
        let mut ratio = Family::new(
            "graywork_ci_coverage_ratio",
            "Line coverage per crate, from 0 to 1 (crates without instrumented lines are absent).",
        );
        let mut drift = Family::new(
            "graywork_ci_coverage_drift_ratio",
            "Line coverage per crate minus the baseline run's (absent without a baseline).",
        );
        for (name, figures) in &report.crates {
            let labels = [("crate", name.as_str())];
            covered.push(&labels, figures.lines.covered as f64);
            lines.push(&labels, figures.lines.lines as f64);
            if let Some(value) = figures.lines.ratio() {
                ratio.push(&labels, value);
            }
            if let Some(value) = figures.drift {
                drift.push(&labels, value);
            }
        }
        families.extend([covered, lines, ratio, drift]);
        Some(render(&families))
    }

    /// Both groups as one OpenMetrics document, ending with `# EOF`.
    pub fn openmetrics(&self) -> String {
        let mut text = self.build_metrics();
        if let Some(coverage) = self.coverage_metrics() {
            text.push_str(&coverage);
        }
        text.push_str("# EOF\n");
        text
    }
}

/// Seconds to the millisecond: finer digits are noise.
fn seconds(duration: std::time::Duration) -> f64 {
    duration.as_millis() as f64 / 1000.0
}

fn flag(value: bool) -> f64 {
    if value { 1.0 } else { 0.0 }
}

/// One gauge family and its samples.
struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<String>,
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            samples: Vec::new(),
        }
    }

    fn sample(mut self, labels: &[(&str, &str)], value: f64) -> Family {
        self.push(labels, value);
        self
    }

    fn push(&mut self, labels: &[(&str, &str)], value: f64) {
        let mut line = self.name.to_owned();
        if !labels.is_empty() {
            let pairs: Vec<String> = labels
                .iter()
                .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
                .collect();
            let _ = write!(line, "{{{}}}", pairs.join(","));
        }
        let _ = write!(line, " {}", number(value));
        self.samples.push(line);
    }
}

/// The families with samples, each with its HELP and TYPE lines.
fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for family in families.iter().filter(|family| !family.samples.is_empty()) {
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} gauge", family.name);
        for sample in &family.samples {
            out.push_str(sample);
            out.push('\n');
        }
    }
    out
}

/// A label value as the exposition formats escape it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value: integers without a fraction, others as Rust prints them (never NaN here).
fn number(value: f64) -> String {
    if value.is_finite() {
        format!("{value}")
    } else if value.is_nan() {
        "NaN".to_owned()
    } else if value > 0.0 {
        "+Inf".to_owned()
    } else {
        "-Inf".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::ci::coverage::{CrateCoverage, Lines};
    use crate::ci::{StepResult, coverage};
    use crate::matrix::{Job, TestCounts};
    use graywork_workspace::Runner;
    use graywork_workspace::features::FeatureSet;

    #[test]
    fn a_run_as_openmetrics() {
        let info = RunInfo {
            workspace: "w".to_owned(),
            commit: "abc123".to_owned(),
            branch: "main".to_owned(),
            toolchain: "1.95.0".to_owned(),
            unix_time: 1_700_000_000,
        };
        let steps = [
            Step::Cargo(vec![
                "fmt".to_owned(),
                "--all".to_owned(),
                "--check".to_owned(),
            ]),
            Step::Cargo(vec![
                "clippy".to_owned(),
                "--workspace".to_owned(),
                "--all-features".to_owned(),
            ]),
            Step::Tool(Runner::Xtask, vec!["test-matrix".to_owned()]),
            Step::Coverage(Box::new(coverage::Plan {
                root: PathBuf::from("/w"),
                manifest_path: PathBuf::from("/w/Cargo.toml"),
                members: Vec::new(),
                source: coverage::Source::Lcov(PathBuf::from("lcov.info")),
                history: PathBuf::from("h.json"),
                main_branch: "main".to_owned(),
                max_drop: coverage::Points::DEFAULT,
                accept_drop: false,
                commit: "abc123".to_owned(),
                branch: "main".to_owned(),
                unix_time: 1_700_000_000,
            })),
        ];
        let result = |status, millis| StepResult {
            command: String::new(),
            status,
            duration: Duration::from_millis(millis),
        };
        let summary = Summary {
            results: vec![
                result(Status::Passed, 500),
                result(Status::Failed, 2_250),
                result(Status::Passed, 9_000),
                result(Status::Skipped, 0),
            ],
            duration: Duration::from_millis(11_750),
            coverage: None,
        };
        let job = |name: &str, set: FeatureSet, built, passed, tests: [u64; 3]| JobResult {
            job: Job {
                crate_name: name.to_owned(),
                feature_set: set,
            },
            built,
            passed,
            duration: Duration::from_millis(1_500),
            tests: TestCounts {
                passed: tests[0],
                failed: tests[1],
                ignored: tests[2],
            },
        };
        let jobs = [
            job(
                "alpha",
                FeatureSet::default_features(),
                true,
                true,
                [3, 0, 1],
            ),
            job(
                "beta",
                FeatureSet::only(["broken"]),
                false,
                false,
                [0, 0, 0],
            ),
            job(
                "beta \"quoted\"\\",
                FeatureSet::all(),
                true,
                false,
                [1, 2, 0],
            ),
        ];
        let coverage = coverage::Report {
            commit: "abc123".to_owned(),
            branch: "main".to_owned(),
            crates: BTreeMap::from([
                (
                    "alpha".to_owned(),
                    CrateCoverage {
                        lines: Lines {
                            covered: 3,
                            lines: 4,
                        },
                        drift: Some(-0.25),
                    },
                ),
                (
                    "beta".to_owned(),
                    CrateCoverage {
                        lines: Lines::default(),
                        drift: None,
                    },
                ),
            ]),
            baseline_commit: Some("0ld".to_owned()),
            max_drop: coverage::Points::DEFAULT,
            fell: vec!["alpha".to_owned()],
            accepted: false,
        };
        let record = Record {
            info: &info,
            steps: &steps,
            summary: &summary,
            jobs: &jobs,
            coverage: Some(&coverage),
        };
        insta::assert_snapshot!(record.openmetrics());
        let without = Record {
            coverage: None,
            ..record
        };
        assert!(without.coverage_metrics().is_none());
        assert!(without.openmetrics().contains("coverage=\"false\""));
    }
}
