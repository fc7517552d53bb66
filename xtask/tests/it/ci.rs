//! `ci --metrics-out`, `--push` and `--coverage` end to end: one run of a small fixture
//! workspace goes through a real Pushgateway into a real Prometheus (Debian's
//! `prometheus-pushgateway` and `prometheus`, started here on free loopback ports), and every CI
//! panel of the Grafana dashboard evaluates to the series that run implies; a coverage drop
//! beyond the threshold fails `ci --coverage` and names the crate.
//!
//! The drift is judged on recorded lcov figures (`tests/fixtures/team/ci/*.lcov`), so these
//! tests need no coverage tool; where `cargo tarpaulin` is installed, the drift test also runs
//! it on the fixture before and after deleting a test.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::copy_tree;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/team/ci")
        .join(name)
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=ci", "-c", "user.email=ci@example.invalid"])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A copy of the fixture workspace `name` in a temp dir, committed on branch `main`.
fn workspace(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&fixture(name), dir.path());
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "fixture"]);
    dir
}

/// `xtask ci` on `dir`'s workspace, building into the workspace's own target directory.
fn ci(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("ci")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .args(args)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("the xtask binary runs")
}

fn transcript(output: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A program the tests need, from `PATH`.
fn program(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not on PATH; this test needs the real one: run .ci/run, which \
                 installs Debian's `{package}` package"
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// A server process on a loopback port, killed when dropped.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `program` with the arguments `args(port)` gives, on a free port, and waits until
    /// `GET /-/ready` answers 200. A port taken between choosing and binding makes the server
    /// exit, and it is started again on another.
    fn start(dir: &Path, name: &str, program: &Path, args: impl Fn(u16) -> Vec<String>) -> Server {
        for attempt in 1..=5 {
            let port = free_port();
            let log = dir.join(format!("{name}-{attempt}.log"));
            let child = Command::new(program)
                .args(args(port))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("create the log"))
                .spawn()
                .unwrap_or_else(|error| panic!("{name} starts: {error}"));
            let mut server = Server {
                child,
                url: format!("http://127.0.0.1:{port}"),
                log,
            };
            let started = Instant::now();
            loop {
                let ready = agent()
                    .get(format!("{}/-/ready", server.url))
                    .call()
                    .is_ok_and(|response| response.status().as_u16() == 200);
                // Ready, and from this child: a server that lost the port to another process
                // exits, and the answer came from that other one.
                let exited = server.child.try_wait().ok().flatten().is_some();
                if ready && !exited {
                    return server;
                }
                if exited {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "{name} did not get ready; its log:\n{}",
                    std::fs::read_to_string(&server.log).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = server.child.wait();
        }
        panic!(
            "{name} exited at start five times; see its logs in {}",
            dir.display()
        );
    }

    /// An instant query's answer, if Prometheus gave one.
    fn try_query(&self, promql: &str) -> Option<serde_json::Value> {
        agent()
            .get(format!("{}/api/v1/query", self.url))
            .query("query", promql)
            .call()
            .ok()?
            .into_body()
            .read_json()
            .ok()
    }

    /// Whether an instant query returns at least one series.
    fn has_series(&self, promql: &str) -> bool {
        self.try_query(promql)
            .and_then(|answer| Some(!answer["data"]["result"].as_array()?.is_empty()))
            .unwrap_or(false)
    }

    /// An instant query's series, as `{label="value",…} value` lines in sorted order.
    fn query(&self, promql: &str) -> Vec<String> {
        let answer = self
            .try_query(promql)
            .unwrap_or_else(|| panic!("prometheus answers {promql}"));
        assert_eq!(answer["status"], "success", "{promql}: {answer}");
        let mut lines: Vec<String> = answer["data"]["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|series| {
                let labels: BTreeMap<String, String> =
                    serde_json::from_value(series["metric"].clone()).expect("labels");
                let labels: Vec<String> = labels
                    .iter()
                    .map(|(name, value)| format!("{name}={value:?}"))
                    .collect();
                format!(
                    "{{{}}} {}",
                    labels.join(","),
                    series["value"][1].as_str().unwrap_or("?")
                )
            })
            .collect();
        lines.sort();
        lines
    }
}

/// Every dashboard panel that queries the CI metrics: its title and its targets' expressions.
fn ci_panels() -> Vec<(String, Vec<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/grafana/gray-upgrade.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read the dashboard"))
            .expect("the dashboard is JSON");
    dashboard["panels"]
        .as_array()
        .expect("the dashboard has panels")
        .iter()
        .filter_map(|panel| {
            let exprs: Vec<String> = panel["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|target| target["expr"].as_str().map(str::to_owned))
                .collect();
            exprs
                .iter()
                .any(|expr| expr.contains("graywork_ci_"))
                .then(|| (panel["title"].as_str().unwrap_or("?").to_owned(), exprs))
        })
        .collect()
}

#[test]
fn one_pushed_run_fills_every_ci_panel_of_the_dashboard() {
    let pushgateway_program = program("prometheus-pushgateway", "prometheus-pushgateway");
    let prometheus_program = program("prometheus", "prometheus");
    let work = tempfile::tempdir().expect("temp dir");
    // Debian's build persists pushed groups in /var/lib by default; this one keeps them in
    // memory, so no earlier push on the machine shows up here.
    let pushgateway = Server::start(work.path(), "pushgateway", &pushgateway_program, |port| {
        vec![
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--persistence.file=".to_owned(),
            "--log.level=warn".to_owned(),
        ]
    });
    let config = work.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: pushgateway\n    \
             honor_labels: true\n    scrape_interval: 1s\n    scrape_timeout: 900ms\n    \
             static_configs:\n      - targets: ['{}']\n",
            pushgateway.url.trim_start_matches("http://")
        ),
    )
    .expect("write prometheus.yml");
    let data = work.path().join("prometheus-data");
    let prometheus = Server::start(work.path(), "prometheus", &prometheus_program, |port| {
        vec![
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", data.display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--log.level=warn".to_owned(),
        ]
    });

    // alpha passes; beta fails a test and its `broken` feature does not build; the recorded
    // coverage has beta down from 2/2 to 1/2 lines since the baseline in the history.
    let fixture_workspace = workspace("dashboard");
    let root = fixture_workspace.path();
    let history = work.path().join("history.json");
    std::fs::copy(fixture("dashboard-history.json"), &history).expect("copy the history");
    let metrics = work.path().join("ci.prom");
    let lcov = fixture("dashboard.lcov");
    let output = ci(
        root,
        &[
            "--keep-going",
            "--push",
            &pushgateway.url,
            "--metrics-out",
            metrics.to_str().expect("temp paths are UTF-8"),
            "--coverage-lcov",
            lcov.to_str().expect("fixture paths are UTF-8"),
            "--coverage-history",
            history.to_str().expect("temp paths are UTF-8"),
        ],
    );
    let shown = transcript(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("coverage FAILED: beta fell by more than 1.00 points since 0000000000"),
        "{shown}"
    );
    assert!(
        shown.contains("/metrics/job/graywork_ci/workspace/")
            && shown.contains("/metrics/job/graywork_ci_coverage/workspace/"),
        "{shown}"
    );

    // The file is valid exposition text (promtool comes with Debian's prometheus).
    let promtool = program("promtool", "prometheus");
    let checked = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&metrics).expect("the metrics file exists"))
        .output()
        .expect("promtool runs");
    assert!(checked.status.success(), "{}", transcript(&checked));
    let text = std::fs::read_to_string(&metrics).expect("read the metrics");
    assert!(text.ends_with("# EOF\n"), "{text}");

    // Prometheus scrapes both groups from the Pushgateway.
    let started = Instant::now();
    while !prometheus.has_series("graywork_ci_run_success")
        || !prometheus.has_series("graywork_ci_coverage_success")
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "prometheus did not ingest the pushed metrics; its log:\n{}",
            std::fs::read_to_string(&prometheus.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let commit = git(root, &["rev-parse", "HEAD"]);
    let toolchain = text
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix("graywork_ci_run_info{")?;
            let start = rest.find("toolchain=\"")? + "toolchain=\"".len();
            Some(rest[start..].split('"').next()?.to_owned())
        })
        .expect("the run names its toolchain");
    let mut evaluated = String::new();
    let panels = ci_panels();
    assert!(panels.len() >= 5, "{panels:?}");
    for (title, exprs) in &panels {
        evaluated.push_str(&format!("## {title}\n"));
        for expr in exprs {
            let series = prometheus.query(expr);
            assert!(!series.is_empty(), "panel {title:?}: {expr} is empty");
            evaluated.push_str(&format!("{expr}\n"));
            for line in series {
                evaluated.push_str(&format!(
                    "  {}\n",
                    line.replace(&commit, "<commit>").replace(
                        &format!("toolchain=\"{toolchain}\""),
                        "toolchain=<toolchain>"
                    )
                ));
            }
        }
    }
    insta::assert_snapshot!(evaluated);
}

/// The words of the coverage table's row for `name`.
fn coverage_row<'a>(shown: &'a str, name: &str) -> Vec<&'a str> {
    shown
        .lines()
        .map(str::split_whitespace)
        .map(Iterator::collect::<Vec<&str>>)
        // The coverage table comes after test-matrix's, whose rows also start with the name.
        .rfind(|words| words.first() == Some(&name))
        .unwrap_or_default()
}

/// The test `smaller` deleted from the drift fixture's source.
fn delete_a_test(root: &Path) {
    let path = root.join("gamma/src/lib.rs");
    let source = std::fs::read_to_string(&path).expect("read gamma");
    let start = source
        .find("\n    #[test]\n    fn smaller()")
        .expect("the fixture has the test");
    std::fs::write(&path, format!("{}}}\n", &source[..start])).expect("write gamma");
}

#[test]
fn a_coverage_drop_beyond_the_threshold_fails_ci_coverage() {
    let fixture_workspace = workspace("drift");
    let root = fixture_workspace.path();
    let short = &git(root, &["rev-parse", "HEAD"])[..12];
    let history = root.join("history.json");
    let history = history.to_str().expect("temp paths are UTF-8");
    let run = |lcov: &str, extra: &[&str]| -> (Option<i32>, String) {
        let lcov = fixture(lcov);
        let mut args = vec![
            "--coverage-lcov",
            lcov.to_str().expect("fixture paths are UTF-8"),
            "--coverage-history",
            history,
        ];
        args.extend_from_slice(extra);
        let output = ci(root, &args);
        (output.status.code(), transcript(&output))
    };
    // The first run on main is the baseline: gamma 8/8.
    let (code, shown) = run("drift-before.lcov", &[]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("(no baseline yet)"), "{shown}");
    // The test of `smaller` deleted: 4/8, fifty points down.
    let (code, shown) = run("drift-after.lcov", &[]);
    assert_eq!(code, Some(1), "{shown}");
    assert!(
        shown.contains(&format!(
            "coverage FAILED: gamma fell by more than 1.00 points since {short}"
        )),
        "{shown}"
    );
    assert_eq!(
        coverage_row(&shown, "gamma"),
        ["gamma", "4/8", "50.00%", "-50.00", "FELL"],
        "{shown}"
    );
    // A failed run is no baseline: running again does not make the drop pass.
    let (code, shown) = run("drift-after.lcov", &[]);
    assert_eq!(code, Some(1), "{shown}");
    // A drop exactly at the threshold passes (and that run is the next baseline).
    let (code, shown) = run("drift-after.lcov", &["--coverage-max-drop", "50"]);
    assert_eq!(code, Some(0), "{shown}");
    let (code, shown) = run("drift-before.lcov", &[]);
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(
        coverage_row(&shown, "gamma"),
        ["gamma", "8/8", "100.00%", "+50.00"],
        "{shown}"
    );
    // A drop accepted on purpose passes, saying so, and becomes the baseline.
    let (code, shown) = run("drift-after.lcov", &["--accept-coverage-drop"]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        shown.contains("coverage drop accepted: gamma fell"),
        "{shown}"
    );
    let (code, shown) = run("drift-after.lcov", &[]);
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(
        coverage_row(&shown, "gamma"),
        ["gamma", "4/8", "50.00%", "+0.00"],
        "{shown}"
    );
    // A run on another branch is measured against main but never becomes its baseline.
    let (code, shown) = run("drift-before.lcov", &["--branch", "topic"]);
    assert_eq!(code, Some(0), "{shown}");
    let (code, shown) = run("drift-after.lcov", &[]);
    assert_eq!(code, Some(0), "{shown}");

    // The coverage tool itself, where it is installed.
    let tarpaulin = Command::new(env!("CARGO"))
        .args(["tarpaulin", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !tarpaulin {
        eprintln!(
            "skipped the run of cargo-tarpaulin itself: `cargo tarpaulin` is not installed here \
             (`ci --coverage` installs it, a build of several minutes); the drift was judged on \
             recorded figures above"
        );
        return;
    }
    let tool_workspace = workspace("drift");
    let root = tool_workspace.path();
    let history = root.join("tool-history.json");
    let history = history.to_str().expect("temp paths are UTF-8");
    let output = ci(root, &["--coverage", "--coverage-history", history]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    assert_eq!(
        coverage_row(&transcript(&output), "gamma"),
        ["gamma", "8/8", "100.00%", "-"],
        "{}",
        transcript(&output)
    );
    delete_a_test(root);
    let output = ci(root, &["--coverage", "--coverage-history", history]);
    let shown = transcript(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    assert_eq!(
        coverage_row(&shown, "gamma"),
        ["gamma", "4/8", "50.00%", "-50.00", "FELL"],
        "{shown}"
    );
}

#[test]
fn ci_lists_the_coverage_step_last() {
    let fixture_workspace = workspace("drift");
    let root = fixture_workspace.path();
    let list = |extra: &[&str]| -> String {
        let mut args = vec!["--list"];
        args.extend_from_slice(extra);
        let output = ci(root, &args);
        assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        stdout.lines().last().unwrap_or_default().to_owned()
    };
    let root_text = root.display().to_string();
    assert_eq!(
        list(&["--coverage"]).replace(&root_text, "<root>"),
        "cargo tarpaulin --workspace --engine llvm --skip-clean --no-fail-fast --timeout 900 \
         --out Lcov --manifest-path <root>/Cargo.toml --target-dir <root>/target/graywork/coverage \
         --output-dir <root>/target/graywork/coverage (line coverage per crate; drift against \
         the last main run)"
    );
    assert_eq!(
        list(&["--coverage-lcov", "report.lcov"]),
        "coverage from report.lcov (line coverage per crate; drift against the last main run)"
    );
    assert!(
        list(&[]).starts_with("cargo xtask test-matrix"),
        "{}",
        list(&[])
    );
}
