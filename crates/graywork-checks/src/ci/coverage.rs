//! `ci --coverage`: line coverage per crate, and its drift against the last run recorded on
//! the main branch.
//!
//! The figures come from an lcov report: the one `cargo tarpaulin` writes (its LLVM engine needs
//! no toolchain component: tarpaulin reads the profiles itself), installed with
//! `cargo install --locked` when missing, or one the caller already has (`--coverage-lcov`,
//! from cargo-llvm-cov, grcov or an earlier run). Each source file counts for the member whose
//! directory holds it (the deepest, for nested members); files outside every member are left
//! out. The runs are kept in a small JSON history file; the baseline is the last run recorded on
//! the main branch that did not fail for a drop (or whose drop was accepted), so running again
//! does not make a drop pass. A crate whose coverage fell by more than the configured number of
//! percentage points fails the step.
//!
//! Reading the report, grouping it per crate and judging the drift are pure functions
//! ([`parse_lcov`], [`per_crate`], [`judge`]); [`run`] is the I/O around them.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::cargo_program;

/// The cargo-tarpaulin release `ci --coverage` installs when none is installed.
pub const TARPAULIN_VERSION: &str = "0.37.5";

/// How many runs the history keeps (the oldest go first).
pub const HISTORY_RUNS: usize = 200;

/// Percentage points, to a hundredth (`1.5` is 150): the largest drop a crate may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Points(u32);

impl Points {
    /// The default threshold: one percentage point.
    pub const DEFAULT: Points = Points(100);

    /// The threshold as a ratio (1 point is 0.01).
    pub fn as_ratio(self) -> f64 {
        f64::from(self.0) / 10_000.0
    }
}

impl FromStr for Points {
    type Err = String;

    fn from_str(text: &str) -> Result<Points, String> {
        let invalid =
            || format!("`{text}` is not a number of percentage points from 0 to 100 (like 0.5)");
        let value: f64 = text.trim().parse().map_err(|_| invalid())?;
        if !(0.0..=100.0).contains(&value) {
            return Err(invalid());
        }
        // In range, so the product fits a u32 and rounding is the only conversion.
        Ok(Points((value * 100.0).round() as u32))
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// Where the figures come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `cargo tarpaulin` over the workspace, writing its lcov report into this directory (also
    /// its target directory, so the instrumented build never replaces the normal one).
    Tarpaulin {
        /// The directory for the build and the report.
        dir: PathBuf,
    },
    /// An lcov report that already exists.
    Lcov(PathBuf),
}

/// Everything the coverage step needs, collected before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The workspace root; relative paths in a report are relative to it.
    pub root: PathBuf,
    /// Passed to tarpaulin as `--manifest-path`.
    pub manifest_path: PathBuf,
    /// Each member's name and directory.
    pub members: Vec<(String, PathBuf)>,
    /// Where the figures come from.
    pub source: Source,
    /// The history file.
    pub history: PathBuf,
    /// The branch whose runs are baselines.
    pub main_branch: String,
    /// The largest drop a crate may take.
    pub max_drop: Points,
    /// Record this run as a baseline even if a crate fell.
    pub accept_drop: bool,
    /// The commit measured.
    pub commit: String,
    /// The branch it is recorded under.
    pub branch: String,
    /// When, in seconds since the Unix epoch.
    pub unix_time: u64,
}

impl Plan {
    /// The command line this step runs, for `ci --list` and the summary.
    pub fn command(&self) -> String {
        match &self.source {
            Source::Tarpaulin { dir } => format!(
                "cargo {} (line coverage per crate; drift against the last {} run)",
                tarpaulin_args(&self.manifest_path, dir).join(" "),
                self.main_branch
            ),
            Source::Lcov(path) => format!(
                "coverage from {} (line coverage per crate; drift against the last {} run)",
                path.display(),
                self.main_branch
            ),
        }
    }
}

/// `[workspace.metadata.graywork.ci]` settings for coverage, each with its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `coverage-max-drop`: percentage points (default 1).
    pub max_drop: Points,
    /// `coverage-history`: relative to the workspace root (default: in the target directory).
    pub history: Option<PathBuf>,
    /// `coverage-main-branch` (default `main`).
    pub main_branch: String,
}

impl Settings {
    /// Reads the settings from the root manifest; a value of the wrong shape is an error
    /// naming its key.
    pub fn from_manifest(root_manifest: &Path) -> anyhow::Result<Settings> {
        let text = std::fs::read_to_string(root_manifest)
            .with_context(|| format!("cannot read {}", root_manifest.display()))?;
        let manifest: toml::Table = toml::from_str(&text)
            .with_context(|| format!("cannot parse {}", root_manifest.display()))?;
        let manifest = toml::Value::Table(manifest);
        let table = ["workspace", "metadata", "graywork", "ci"]
            .iter()
            .try_fold(&manifest, |value, part| value.get(part));
        let get = |key: &str| table.and_then(|table| table.get(key));
        let wrong = |key: &str, what: &str| {
            anyhow::anyhow!(
                "{}: `workspace.metadata.graywork.ci.{key}` must be {what}",
                root_manifest.display()
            )
        };
        let max_drop = match get("coverage-max-drop") {
            None => Points::DEFAULT,
            Some(value) => {
                let number = value
                    .as_float()
                    .or_else(|| value.as_integer().map(|n| n as f64))
                    .ok_or_else(|| wrong("coverage-max-drop", "a number of percentage points"))?;
                number.to_string().parse().map_err(|_| {
                    wrong(
                        "coverage-max-drop",
                        "a number of percentage points from 0 to 100",
                    )
                })?
            }
        };
        let history = match get("coverage-history") {
            None => None,
            Some(value) => Some(PathBuf::from(
                value
                    .as_str()
                    .ok_or_else(|| wrong("coverage-history", "a path"))?,
            )),
        };
        let main_branch = match get("coverage-main-branch") {
            None => "main".to_owned(),
            Some(value) => value
                .as_str()
                .filter(|name| !name.is_empty())
                .ok_or_else(|| wrong("coverage-main-branch", "a branch name"))?
                .to_owned(),
        };
        Ok(Settings {
            max_drop,
            history,
            main_branch,
        })
    }
}

/// Lines found and lines hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lines {
    /// Lines hit at least once.
    pub covered: u64,
    /// Instrumented lines.
    pub lines: u64,
}

impl Lines {
    /// Covered over instrumented; `None` without instrumented lines.
    pub fn ratio(self) -> Option<f64> {
        (self.lines > 0).then(|| self.covered as f64 / self.lines as f64)
    }
}

/// One source file of an lcov report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLines {
    /// The path as the report wrote it.
    pub path: PathBuf,
    /// Its lines.
    pub lines: Lines,
}

/// The files of an lcov report (`SF:` … `DA:line,hits` … `end_of_record`). A file named twice
/// is merged line by line; a line counts once, hit if any record hit it.
pub fn parse_lcov(text: &str) -> Result<Vec<FileLines>, String> {
    let mut files: BTreeMap<PathBuf, BTreeMap<u64, bool>> = BTreeMap::new();
    let mut current: Option<PathBuf> = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        let at = || format!("line {}: `{line}`", index + 1);
        if let Some(path) = line.strip_prefix("SF:") {
            current = Some(PathBuf::from(path));
            files.entry(PathBuf::from(path)).or_default();
        } else if let Some(data) = line.strip_prefix("DA:") {
            let path = current
                .as_ref()
                .ok_or_else(|| format!("{}: a line count before any SF: record", at()))?;
            let mut fields = data.split(',');
            let number = fields.next().and_then(|n| n.parse::<u64>().ok());
            // Some tools write hit counts as floats or negative numbers; only zero is a miss.
            let hits = fields.next().map(str::trim);
            let (Some(number), Some(hits)) = (number, hits) else {
                return Err(format!("{}: expected DA:LINE,HITS", at()));
            };
            let hit = hits.parse::<f64>().map_err(|_| at())? > 0.0;
            let entry = files.entry(path.clone()).or_default();
            let seen = entry.entry(number).or_insert(false);
            *seen |= hit;
        } else if line == "end_of_record" {
            current = None;
        }
    }
    Ok(files
        .into_iter()
        .map(|(path, lines)| FileLines {
            path,
            lines: Lines {
                covered: lines.values().filter(|hit| **hit).count() as u64,
                lines: lines.len() as u64,
            },
        })
        .collect())
}

/// The report's lines per member: each file counts for the member whose directory holds it,
/// the deepest one when members nest. Relative paths are taken from `root`. Every member is in
/// the answer, with zero lines when the report has none of its files.
pub fn per_crate(
    files: &[FileLines],
    members: &[(String, PathBuf)],
    root: &Path,
) -> BTreeMap<String, Lines> {
    let mut crates: BTreeMap<String, Lines> = members
        .iter()
        .map(|(name, _)| (name.clone(), Lines::default()))
        .collect();
    for file in files {
        let path = if file.path.is_absolute() {
            file.path.clone()
        } else {
            root.join(&file.path)
        };
        let owner = members
            .iter()
            .filter(|(_, dir)| path.starts_with(dir))
            .max_by_key(|(_, dir)| dir.components().count());
        if let Some((name, _)) = owner {
            let lines = crates.entry(name.clone()).or_default();
            lines.covered += file.lines.covered;
            lines.lines += file.lines.lines;
        }
    }
    crates
}

/// One recorded run in the history file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRun {
    /// The commit measured.
    pub commit: String,
    /// The branch it was recorded under.
    pub branch: String,
    /// When, in seconds since the Unix epoch.
    pub unix_time: u64,
    /// Whether a crate fell beyond the threshold (and the drop was not accepted): such a run is
    /// never a baseline.
    pub failed: bool,
    /// Lines per crate.
    pub crates: BTreeMap<String, Lines>,
}

/// The history file's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Oldest first.
    pub runs: Vec<RecordedRun>,
}

impl History {
    /// The run drift is measured against: the last on `main_branch` that did not fail.
    pub fn baseline(&self, main_branch: &str) -> Option<&RecordedRun> {
        self.runs
            .iter()
            .rev()
            .find(|run| run.branch == main_branch && !run.failed)
    }

    /// Reads the file; a missing file is an empty history.
    pub fn read(path: &Path) -> anyhow::Result<History> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a coverage history (delete it to start a new one)",
                    path.display()
                )
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(History::default()),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes the file whole (through a temporary file and a rename), keeping the last
    /// [`HISTORY_RUNS`] runs.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut kept = self.clone();
        let excess = kept.runs.len().saturating_sub(HISTORY_RUNS);
        kept.runs.drain(..excess);
        let text = serde_json::to_string_pretty(&kept).context("cannot encode the history")?;
        write_atomically(path, &format!("{text}\n"))
    }
}

/// Writes `text` to `path` through a temporary file beside it and a rename, so a reader (a
/// textfile collector, a concurrent run) never sees half a file.
pub fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file_name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let partial = path.with_file_name(format!(
        ".{}.{}.partial",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&partial, text)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))
}

/// One crate's figures in a report.
#[derive(Debug, Clone, PartialEq)]
pub struct CrateCoverage {
    /// Its lines now.
    pub lines: Lines,
    /// Its ratio minus the baseline's, when both have instrumented lines.
    pub drift: Option<f64>,
}

/// What the coverage step found.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The commit measured.
    pub commit: String,
    /// The branch it was recorded under.
    pub branch: String,
    /// Per crate.
    pub crates: BTreeMap<String, CrateCoverage>,
    /// The run drift is measured against: its commit, when there is one.
    pub baseline_commit: Option<String>,
    /// The threshold.
    pub max_drop: Points,
    /// The crates that fell beyond it, by name.
    pub fell: Vec<String>,
    /// Whether a drop was accepted (`--accept-coverage-drop`).
    pub accepted: bool,
}

impl Report {
    /// Whether the step passes: no crate fell beyond the threshold, or the drop was accepted.
    pub fn passed(&self) -> bool {
        self.fell.is_empty() || self.accepted
    }

    /// The table: crate, covered/lines, coverage, drift; then the verdict.
    pub fn render(&self) -> String {
        let width = self
            .crates
            .keys()
            .map(String::len)
            .chain(["crate".len()])
            .max()
            .unwrap_or(0);
        let against = self.baseline_commit.as_deref().map_or_else(
            || "no baseline yet".to_owned(),
            |commit| format!("drift against {}", short(commit)),
        );
        let mut out = format!(
            "coverage of {} on {} ({against}):\n  {:<width$}  {:>13}  {:>8}  {:>8}\n",
            short(&self.commit),
            self.branch,
            "crate",
            "lines",
            "coverage",
            "drift"
        );
        for (name, figures) in &self.crates {
            let ratio = figures
                .lines
                .ratio()
                .map_or_else(|| "-".to_owned(), |r| format!("{:.2}%", r * 100.0));
            let drift = figures
                .drift
                .map_or_else(|| "-".to_owned(), |d| format!("{:+.2}", d * 100.0));
            let fell = if self.fell.contains(name) {
                "  FELL"
            } else {
                ""
            };
            out.push_str(&format!(
                "  {name:<width$}  {:>13}  {ratio:>8}  {drift:>8}{fell}\n",
                format!("{}/{}", figures.lines.covered, figures.lines.lines)
            ));
        }
        if self.fell.is_empty() {
            out.push_str(&format!(
                "coverage: no crate fell by more than {} points\n",
                self.max_drop
            ));
        } else {
            out.push_str(&format!(
                "coverage {}: {} fell by more than {} points since {}\n",
                if self.accepted {
                    "drop accepted"
                } else {
                    "FAILED"
                },
                self.fell.join(", "),
                self.max_drop,
                self.baseline_commit.as_deref().map_or("-", short)
            ));
        }
        out
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Judges `crates` against the baseline in `history` and returns the report and the run to
/// record. Pure: the history is not changed.
pub fn judge(
    crates: &BTreeMap<String, Lines>,
    history: &History,
    plan: &Plan,
) -> (Report, RecordedRun) {
    let baseline = history.baseline(&plan.main_branch);
    let mut figures = BTreeMap::new();
    let mut fell = Vec::new();
    for (name, lines) in crates {
        let before = baseline.and_then(|run| run.crates.get(name)?.ratio());
        let drift = lines.ratio().zip(before).map(|(now, before)| now - before);
        // A hundredth of a point of slack keeps float noise from deciding a tie.
        if drift.is_some_and(|d| d < -(plan.max_drop.as_ratio() + 1e-6)) {
            fell.push(name.clone());
        }
        figures.insert(
            name.clone(),
            CrateCoverage {
                lines: *lines,
                drift,
            },
        );
    }
    let report = Report {
        commit: plan.commit.clone(),
        branch: plan.branch.clone(),
        crates: figures,
        baseline_commit: baseline.map(|run| run.commit.clone()),
        max_drop: plan.max_drop,
        fell,
        accepted: plan.accept_drop,
    };
    let run = RecordedRun {
        commit: plan.commit.clone(),
        branch: plan.branch.clone(),
        unix_time: plan.unix_time,
        failed: !report.passed(),
        crates: crates.clone(),
    };
    (report, run)
}

/// Measures, judges and records: runs tarpaulin (installing it first when missing) or reads
/// the given report, prints the table, and appends the run to the history.
pub fn run(plan: &Plan) -> anyhow::Result<Report> {
    let lcov = match &plan.source {
        Source::Lcov(path) => path.clone(),
        Source::Tarpaulin { dir } => {
            ensure_tarpaulin(&cargo_program())?;
            run_tarpaulin(plan, dir)?
        }
    };
    let text = std::fs::read_to_string(&lcov)
        .with_context(|| format!("cannot read the coverage report {}", lcov.display()))?;
    let files = parse_lcov(&text)
        .map_err(|error| anyhow::anyhow!("{} is not an lcov report: {error}", lcov.display()))?;
    let crates = per_crate(&files, &plan.members, &plan.root);
    let mut history = History::read(&plan.history)?;
    let (report, recorded) = judge(&crates, &history, plan);
    let _ = write!(std::io::stdout(), "{}", report.render());
    history.runs.push(recorded);
    history.write(&plan.history)?;
    Ok(report)
}

/// tarpaulin's arguments after `cargo`: the whole workspace under its LLVM engine (no ptrace,
/// so tests that time things or start processes run as they do under `cargo test`), building
/// into `dir` and writing `dir/lcov.info`; failing tests do not stop the measurement (test-matrix
/// judges them).
fn tarpaulin_args(manifest_path: &Path, dir: &Path) -> Vec<String> {
    [
        "tarpaulin",
        "--workspace",
        "--engine",
        "llvm",
        "--skip-clean",
        "--no-fail-fast",
        "--timeout",
        "900",
        "--out",
        "Lcov",
        "--manifest-path",
        &manifest_path.display().to_string(),
        "--target-dir",
        &dir.display().to_string(),
        "--output-dir",
        &dir.display().to_string(),
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect()
}

fn run_tarpaulin(plan: &Plan, dir: &Path) -> anyhow::Result<PathBuf> {
    let lcov = dir.join("lcov.info");
    // A report left by an earlier run must not pass for this one's.
    match std::fs::remove_file(&lcov) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("cannot remove {}", lcov.display()));
        }
    }
    let args = tarpaulin_args(&plan.manifest_path, dir);
    let status = Command::new(cargo_program())
        .args(&args)
        .current_dir(&plan.root)
        .status()
        .context("cannot run cargo tarpaulin")?;
    // Failed tests make tarpaulin exit non-zero after it wrote the report; test-matrix reports
    // them, so only a missing report fails the measurement.
    anyhow::ensure!(
        lcov.is_file(),
        "`cargo {}` wrote no report ({status})",
        args.join(" ")
    );
    Ok(lcov)
}

/// Installs cargo-tarpaulin with `cargo install --locked` when `cargo tarpaulin` is missing,
/// saying so; returns whether it installed it.
fn ensure_tarpaulin(cargo: &std::ffi::OsStr) -> anyhow::Result<bool> {
    let installed = Command::new(cargo)
        .args(["tarpaulin", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if installed {
        return Ok(false);
    }
    let args = [
        "install",
        "cargo-tarpaulin",
        "--locked",
        "--version",
        TARPAULIN_VERSION,
    ];
    let _ = writeln!(
        std::io::stdout(),
        "coverage: cargo-tarpaulin is not installed; installing it: cargo {} \
         (a build of a few minutes, once)",
        args.join(" ")
    );
    let _ = std::io::stdout().flush();
    let status = Command::new(cargo)
        .args(args)
        .status()
        .context("cannot run cargo install")?;
    anyhow::ensure!(
        status.success(),
        "`cargo {}` failed ({status})",
        args.join(" ")
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(branch: &str, max_drop: &str) -> Plan {
        Plan {
            root: PathBuf::from("/w"),
            manifest_path: PathBuf::from("/w/Cargo.toml"),
            members: vec![
                ("outer".to_owned(), PathBuf::from("/w/outer")),
                ("inner".to_owned(), PathBuf::from("/w/outer/inner")),
                ("empty".to_owned(), PathBuf::from("/w/empty")),
            ],
            source: Source::Lcov(PathBuf::from("lcov.info")),
            history: PathBuf::from("/w/target/history.json"),
            main_branch: "main".to_owned(),
            max_drop: max_drop.parse().unwrap(),
            accept_drop: false,
            commit: "c2".to_owned(),
            branch: branch.to_owned(),
            unix_time: 2,
        }
    }

    fn lines(covered: u64, lines: u64) -> Lines {
        Lines { covered, lines }
    }

    fn recorded(commit: &str, branch: &str, failed: bool, outer: Lines) -> RecordedRun {
        RecordedRun {
            commit: commit.to_owned(),
            branch: branch.to_owned(),
            unix_time: 1,
            failed,
            crates: BTreeMap::from([("outer".to_owned(), outer)]),
        }
    }

    #[test]
    fn lcov_reports_are_read_per_file_and_merged() {
        let report = "TN:\nSF:/w/outer/src/lib.rs\nFN:1,f\nDA:1,3\nDA:2,0\nDA:3,1\nLF:3\nLH:2\n\
                      end_of_record\nSF:outer/inner/src/lib.rs\nDA:1,0\nend_of_record\n\
                      SF:/w/outer/src/lib.rs\nDA:2,5\nDA:4,0\nend_of_record\n\
                      SF:/elsewhere/dep.rs\nDA:1,1\nend_of_record\n";
        let files = parse_lcov(report).unwrap();
        assert_eq!(
            files,
            vec![
                FileLines {
                    path: PathBuf::from("/elsewhere/dep.rs"),
                    lines: lines(1, 1)
                },
                FileLines {
                    path: PathBuf::from("/w/outer/src/lib.rs"),
                    lines: lines(3, 4)
                },
                FileLines {
                    path: PathBuf::from("outer/inner/src/lib.rs"),
                    lines: lines(0, 1)
                },
            ]
        );
        // The nested member takes its own files; a file outside every member counts for none.
        assert_eq!(
            per_crate(&files, &plan("main", "1").members, Path::new("/w")),
            BTreeMap::from([
                ("empty".to_owned(), lines(0, 0)),
                ("inner".to_owned(), lines(0, 1)),
                ("outer".to_owned(), lines(3, 4)),
            ])
        );
        assert_eq!(
            parse_lcov("DA:1,1\n"),
            Err("line 1: `DA:1,1`: a line count before any SF: record".to_owned())
        );
        assert_eq!(
            parse_lcov("SF:a.rs\nDA:x\n"),
            Err("line 2: `DA:x`: expected DA:LINE,HITS".to_owned())
        );
    }

    #[test]
    fn drift_is_measured_against_the_last_main_run_that_did_not_fail() {
        let history = History {
            runs: vec![
                recorded("c0", "main", false, lines(90, 100)),
                recorded("c1", "main", true, lines(10, 100)),
                recorded("x", "feature", false, lines(99, 100)),
            ],
        };
        let now = BTreeMap::from([
            ("outer".to_owned(), lines(88, 100)),
            ("empty".to_owned(), lines(0, 0)),
        ]);
        // Two points down against c0 (c1 failed, and feature branches are never baselines).
        let (report, run) = judge(&now, &history, &plan("main", "1.5"));
        assert_eq!(report.baseline_commit.as_deref(), Some("c0"));
        let drift = report.crates["outer"].drift.unwrap();
        assert!((drift + 0.02).abs() < 1e-9, "{drift}");
        assert_eq!(report.crates["empty"].drift, None);
        assert_eq!(report.fell, ["outer"]);
        assert!(!report.passed());
        assert!(run.failed);
        insta::assert_snapshot!(report.render(), @r"
        coverage of c2 on main (drift against c0):
          crate          lines  coverage     drift
          empty            0/0         -         -
          outer         88/100    88.00%     -2.00  FELL
        coverage FAILED: outer fell by more than 1.50 points since c0
        ");
        // Exactly at the threshold passes; so does an accepted drop, which becomes a baseline.
        let (report, run) = judge(&now, &history, &plan("main", "2"));
        assert!(report.passed() && !run.failed, "{}", report.render());
        let mut accepting = plan("main", "1");
        accepting.accept_drop = true;
        let (report, run) = judge(&now, &history, &accepting);
        assert!(report.passed() && !run.failed);
        assert!(
            report
                .render()
                .contains("coverage drop accepted: outer fell")
        );
        // Without a baseline there is no drift and nothing fails.
        let (report, _) = judge(&now, &History::default(), &plan("main", "0"));
        assert_eq!(report.baseline_commit, None);
        assert!(report.passed());
        assert!(
            report
                .render()
                .starts_with("coverage of c2 on main (no baseline yet):")
        );
    }

    #[test]
    fn history_keeps_the_last_runs_and_survives_a_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/history.json");
        assert_eq!(History::read(&path).unwrap(), History::default());
        let history = History {
            runs: (0..HISTORY_RUNS + 3)
                .map(|n| recorded(&format!("c{n}"), "main", false, lines(n as u64, 500)))
                .collect(),
        };
        history.write(&path).unwrap();
        let back = History::read(&path).unwrap();
        assert_eq!(back.runs.len(), HISTORY_RUNS);
        assert_eq!(back.runs[0].commit, "c3");
        assert_eq!(back.runs.last(), history.runs.last());
        std::fs::write(&path, "{").unwrap();
        let error = format!("{:#}", History::read(&path).unwrap_err());
        assert!(error.contains("is not a coverage history"), "{error}");
    }

    /// A `cargo` that knows no `tarpaulin` subcommand until `install` ran, and records its
    /// arguments.
    #[cfg(unix)]
    #[test]
    fn a_missing_tarpaulin_is_installed_with_cargo_install_locked() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let calls = dir.path().join("calls");
        let installed = dir.path().join("installed");
        let cargo = dir.path().join("cargo");
        std::fs::write(
            &cargo,
            format!(
                "#!/bin/sh\necho \"$*\" >> '{calls}'\n\
                 if [ \"$1\" = tarpaulin ]; then test -e '{installed}'; exit $?; fi\n\
                 if [ \"$1\" = install ]; then touch '{installed}'; exit 0; fi\nexit 2\n",
                calls = calls.display(),
                installed = installed.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
        // A process another test forks while the script was open for writing holds it until it
        // execs, and running the script meanwhile fails with ETXTBSY; once one run started, no
        // process can hold it open for writing again.
        for _ in 0..500 {
            match Command::new(&cargo).arg("probe").status() {
                Err(error) if error.raw_os_error() == Some(26) => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                _ => break,
            }
        }
        std::fs::remove_file(&calls).unwrap();
        assert!(ensure_tarpaulin(cargo.as_os_str()).unwrap());
        assert!(!ensure_tarpaulin(cargo.as_os_str()).unwrap());
        assert_eq!(
            std::fs::read_to_string(&calls).unwrap(),
            format!(
                "tarpaulin --version\ninstall cargo-tarpaulin --locked --version \
                 {TARPAULIN_VERSION}\ntarpaulin --version\n"
            )
        );
    }

    #[test]
    fn points_parse_and_settings_come_from_the_root_manifest() {
        assert_eq!(
            "1.5".parse::<Points>().map(|p| p.to_string()),
            Ok("1.50".to_owned())
        );
        assert_eq!("0".parse::<Points>(), Ok(Points(0)));
        assert!("-1".parse::<Points>().is_err());
        assert!("101".parse::<Points>().is_err());
        assert!("lots".parse::<Points>().is_err());
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("Cargo.toml");
        let read = |text: &str| {
            std::fs::write(&manifest, text).unwrap();
            Settings::from_manifest(&manifest).map_err(|error| format!("{error:#}"))
        };
        assert_eq!(
            read("[workspace]\n"),
            Ok(Settings {
                max_drop: Points::DEFAULT,
                history: None,
                main_branch: "main".to_owned()
            })
        );
        assert_eq!(
            read(
                "[workspace.metadata.graywork.ci]\ncoverage-max-drop = 2\n\
                 coverage-history = \"ci/coverage.json\"\ncoverage-main-branch = \"trunk\"\n"
            ),
            Ok(Settings {
                max_drop: Points(200),
                history: Some(PathBuf::from("ci/coverage.json")),
                main_branch: "trunk".to_owned()
            })
        );
        let wrong = read("[workspace.metadata.graywork.ci]\ncoverage-max-drop = \"1\"\n");
        assert!(
            wrong
                .as_ref()
                .is_err_and(|e| e.contains("coverage-max-drop` must be")),
            "{wrong:?}"
        );
    }
}
