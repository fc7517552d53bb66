//! Whole rollouts against real Prometheus and gateways: promotion, rollback on errors and on
//! latency, inconclusive traffic, a killed controller, Prometheus and an instance going away.

use std::time::Duration;

use serde_json::Value;

use crate::support::{
    ADMIN_TOKEN, Controller, Fleet, Load, Prometheus, RULE, agent, events, exclusive, free_port,
    named, rollout_command, status, wait_for_event,
};

/// The analysis block the scenarios share: 1 s scrapes and analyses, judges as in production
/// but with a test-sized `min_requests` and limits given per scenario.
fn analysis(prometheus: &str, limits: &str) -> String {
    format!(
        r#"[analysis]
prometheus = "{prometheus}"
interval = "1s"
window = "10s"
query_timeout = "2s"
selector = 'job="gateway"'
{limits}

[analysis.error_ratio]
confidence = 0.99
margin = 0.01

[analysis.latency]
quantile = 0.99
factor = 1.2
slack = "30ms"

[[analysis.checks]]
name = "gateways_up"
query = 'sum(up{{job="gateway"}})'
min = 2

[controller]
converge_timeout = "5s"
"#
    )
}

/// What an instance serves for the rule, through its admin endpoint.
fn served_percent(admin: std::net::SocketAddr) -> Option<u8> {
    let report: Value = agent()
        .get(format!("http://{admin}/debug/config"))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .call()
        .unwrap()
        .into_body()
        .read_json()
        .unwrap();
    rollout::served_from_report(&report, RULE).unwrap().percent
}

fn percents_of(events: &[Value], name: &str) -> Vec<u64> {
    named(events, name)
        .iter()
        .filter_map(|e| e["percent"].as_u64().or_else(|| e["to"].as_u64()))
        .collect()
}

#[test]
fn a_healthy_v2_is_promoted_through_every_step_with_every_check_recorded() {
    let _serial = exclusive();
    let fleet = Fleet::start("");
    let metrics_port = free_port();
    let metrics_addr: std::net::SocketAddr = format!("127.0.0.1:{metrics_port}").parse().unwrap();
    // Prometheus scrapes the controller too, so the end state must reach it.
    let prometheus = Prometheus::start_scraping(
        fleet.dir.path(),
        &fleet.metrics_targets(),
        Some(metrics_addr),
    );
    let load = Load::start(&fleet, 100);
    prometheus.wait_for_targets(2);
    let spec = fleet.spec(&format!(
        "[[steps]]\npercent = 10\nhold = \"3s\"\nchecks = 2\n\n[[steps]]\npercent = 50\nhold = \"3s\"\nchecks = 2\n\n[[steps]]\npercent = 100\n\n{}\nmetrics_listen = \"{metrics_addr}\"\nmetrics_linger = \"30s\"\n",
        analysis(
            &prometheus.url,
            "min_requests = 10\nfailure_limit = 2\ninconclusive_limit = 10\nprogress_deadline = \"40s\""
        )
    ));
    let controller = Controller::start(&spec, &fleet.events());
    // While it runs, the controller's own metrics carry the checks.
    wait_for_event(&fleet.events(), "a passed analysis", |e| {
        e["event"] == "analysis" && e["verdict"] == "pass"
    });
    let metrics = agent()
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    for series in [
        "rollout_step ",
        "rollout_percent ",
        "rollout_analysis_value{check=\"error_ratio\"}",
        "rollout_analysis_threshold{check=\"latency\"}",
        "rollout_checks_total{check=\"gateways_up\",result=\"pass\"}",
    ] {
        assert!(metrics.contains(series), "missing {series} in\n{metrics}");
    }
    let (exit, stderr) = controller.wait();
    load.stop();
    let log = events(&fleet.events());
    assert!(exit.success(), "rollout failed: {stderr}");
    assert_eq!(percents_of(&log, "step_applied"), [10, 50, 100]);
    assert_eq!(percents_of(&log, "fragment_written"), [10, 50, 100]);
    for step in [1, 2] {
        for check in ["error_ratio", "latency", "gateways_up"] {
            let passed = named(&log, "check")
                .iter()
                .filter(|e| e["step"] == step && e["check"] == check && e["verdict"] == "pass")
                .count();
            assert!(
                passed >= 2,
                "step {step} check {check} passed {passed} times"
            );
        }
    }
    let check = named(&log, "check")
        .into_iter()
        .find(|e| e["check"] == "error_ratio" && e["verdict"] == "pass")
        .unwrap();
    assert!(
        check["value"].is_number() && check["threshold"].is_number(),
        "{check}"
    );
    assert!(
        named(&log, "query")
            .iter()
            .any(|q| q["query"].as_str().unwrap().contains("http_requests_total")),
        "queries are logged"
    );
    assert_eq!(named(&log, "succeeded").len(), 1);
    assert_eq!(fleet.fragment_percent(), 100);
    for gateway in &fleet.gateways {
        assert_eq!(served_percent(gateway.admin), Some(100), "{}", gateway.name);
    }
    assert_eq!(status(&spec)["phase"], "succeeded");
    // The controller served `/metrics` until Prometheus had scraped the end state (the linger
    // is far longer, so only that scrape can have ended it), and the scrape is stored.
    assert_eq!(
        prometheus.value("last_over_time(rollout_percent{job=\"rollout\"}[1m])"),
        Some(100.0)
    );
    assert_eq!(
        prometheus.value("last_over_time(rollout_step{job=\"rollout\"}[1m])"),
        Some(3.0)
    );
}

#[test]
fn a_v2_with_20_percent_errors_is_rolled_back_and_serves_nothing_after() {
    let _serial = exclusive();
    let fleet = Fleet::start("[faults.billing.v2]\nerror_rate = 0.2\n");
    let prometheus = Prometheus::start(fleet.dir.path(), &fleet.metrics_targets());
    // 300 requests/s in total, so the 1% step sends v2 about 3 per second.
    let load = Load::start(&fleet, 300);
    prometheus.wait_for_targets(2);
    let spec = fleet.spec(&format!(
        "[[steps]]\npercent = 1\nhold = \"30s\"\nchecks = 20\n\n[[steps]]\npercent = 10\n\n[[steps]]\npercent = 100\n\n{}",
        analysis(
            &prometheus.url,
            "min_requests = 10\nfailure_limit = 1\ninconclusive_limit = 30\nprogress_deadline = \"40s\""
        )
    ));
    let (exit, stderr) = Controller::start(&spec, &fleet.events()).wait();
    let log = events(&fleet.events());
    assert_eq!(exit.code(), Some(1), "{stderr}");
    assert_eq!(
        percents_of(&log, "step_applied"),
        [1],
        "never past the bad step"
    );
    let rolled_back = named(&log, "rolled_back");
    assert_eq!(rolled_back.len(), 1, "{log:#?}");
    let reason = rolled_back[0]["reason"].as_str().unwrap();
    assert!(reason.contains("error_ratio"), "{reason}");
    let failed = named(&log, "check")
        .into_iter()
        .find(|e| e["check"] == "error_ratio" && e["verdict"] == "fail")
        .expect("a failed error_ratio check");
    assert!(failed["value"].as_f64().unwrap() > failed["threshold"].as_f64().unwrap());
    assert_eq!(fleet.fragment_percent(), 0);
    // No request is served by v2 once the rollback reload is verified, on either instance.
    let before: Vec<f64> = fleet.gateways.iter().map(|g| g.served_by("v2")).collect();
    std::thread::sleep(Duration::from_secs(2));
    let after: Vec<f64> = fleet.gateways.iter().map(|g| g.served_by("v2")).collect();
    let sent = load.stop();
    assert_eq!(before, after, "v2 served requests after the rollback");
    assert!(before.iter().sum::<f64>() > 0.0, "v2 served the 1% step");
    let status = status(&spec);
    assert_eq!(status["phase"], "rolled_back");
    assert_eq!(status["percent"], 0);
    // The benchmark figure (bench/rollback.sh collects it): from the bad step's exposure (its
    // write), from its verified application, and from the failing check, to the last instance
    // verified at 0%; and where the time went: applying the step, collecting the failing
    // window, and the rollback.
    let applied = &named(&log, "step_applied")[0];
    let failing = named(&log, "analysis")
        .into_iter()
        .find(|e| e["verdict"] == "fail")
        .expect("a failed analysis");
    // The failing analysis is the last one: its request query is the last one logged.
    let v2_requests = named(&log, "query")
        .into_iter()
        .rev()
        .find(|q| {
            q["check"] == "error_ratio"
                && q["query"].as_str().unwrap().starts_with("sum by (billing_version) (clamp_min(http_requests_total{billing_version=~\"v1|v2\",job")
        })
        .map(|q| q["values"]["v2"].clone());
    eprintln!(
        "rollback figure: since_exposure_ms={} since_step_ms={} since_failure_ms={} apply_ms={} failing_window_ms={} analyses={} failing_v2_requests={} load_requests_per_second=300 step_percent=1 requests_sent={sent}",
        rolled_back[0]["since_exposure_ms"],
        rolled_back[0]["since_step_ms"],
        rolled_back[0]["since_failure_ms"],
        applied["elapsed_ms"],
        failing["window_to_ms"].as_u64().unwrap() - failing["window_from_ms"].as_u64().unwrap(),
        named(&log, "analysis").len(),
        v2_requests.unwrap_or_default(),
    );
}

#[test]
fn a_v2_slower_by_50_ms_is_rolled_back_by_the_latency_judge() {
    let _serial = exclusive();
    let fleet = Fleet::start("[faults.billing.v2]\nextra_latency_ms = 50\n");
    let prometheus = Prometheus::start(fleet.dir.path(), &fleet.metrics_targets());
    let load = Load::start(&fleet, 100);
    prometheus.wait_for_targets(2);
    let spec = fleet.spec(&format!(
        "[[steps]]\npercent = 20\nhold = \"30s\"\nchecks = 20\n\n[[steps]]\npercent = 100\n\n{}",
        analysis(
            &prometheus.url,
            "min_requests = 10\nfailure_limit = 2\ninconclusive_limit = 30\nprogress_deadline = \"40s\""
        )
    ));
    let (exit, stderr) = Controller::start(&spec, &fleet.events()).wait();
    load.stop();
    let log = events(&fleet.events());
    assert_eq!(exit.code(), Some(1), "{stderr}");
    let reason = named(&log, "rolled_back")[0]["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("latency: v2 p99"), "{reason}");
    let latency_failures = named(&log, "check")
        .iter()
        .filter(|e| e["check"] == "latency" && e["verdict"] == "fail")
        .count();
    assert_eq!(
        latency_failures, 2,
        "failure_limit 2 rolls back at the second failure"
    );
    assert!(
        named(&log, "check")
            .iter()
            .all(|e| e["check"] != "error_ratio" || e["verdict"] != "fail"),
        "errors are not what failed"
    );
    assert_eq!(fleet.fragment_percent(), 0);
    assert_eq!(status(&spec)["phase"], "rolled_back");
}

#[test]
fn too_little_traffic_is_inconclusive_and_aborts_at_the_deadline() {
    let _serial = exclusive();
    let fleet = Fleet::start("");
    let prometheus = Prometheus::start(fleet.dir.path(), &fleet.metrics_targets());
    let load = Load::start(&fleet, 4);
    prometheus.wait_for_targets(2);
    let spec = fleet.spec(&format!(
        "[[steps]]\npercent = 10\nhold = \"1s\"\nchecks = 1\n\n[[steps]]\npercent = 100\n\n{}",
        analysis(
            &prometheus.url,
            "min_requests = 50\nfailure_limit = 1\ninconclusive_limit = 1000\nprogress_deadline = \"6s\""
        )
    ));
    let (exit, stderr) = Controller::start(&spec, &fleet.events()).wait();
    load.stop();
    let log = events(&fleet.events());
    assert_eq!(exit.code(), Some(1), "{stderr}");
    let analyses = named(&log, "analysis");
    assert!(analyses.len() >= 3, "{analyses:#?}");
    assert!(
        analyses.iter().all(|a| a["verdict"] == "inconclusive"),
        "{analyses:#?}"
    );
    assert!(named(&log, "check").iter().any(|c| {
        c["detail"]
            .as_str()
            .unwrap()
            .contains("fewer than min_requests 50")
    }));
    let aborted = named(&log, "aborted");
    assert_eq!(aborted.len(), 1, "{log:#?}");
    assert!(
        aborted[0]["reason"]
            .as_str()
            .unwrap()
            .contains("progress deadline")
    );
    assert_eq!(percents_of(&log, "step_applied"), [10], "never promoted");
    assert_eq!(fleet.fragment_percent(), 0);
    assert_eq!(status(&spec)["phase"], "aborted");
}

#[test]
fn a_controller_killed_mid_step_resumes_without_applying_a_step_twice() {
    let _serial = exclusive();
    let fleet = Fleet::start("");
    let prometheus = Prometheus::start(fleet.dir.path(), &fleet.metrics_targets());
    let load = Load::start(&fleet, 100);
    prometheus.wait_for_targets(2);
    let spec = fleet.spec(&format!(
        "[[steps]]\npercent = 10\nhold = \"4s\"\nchecks = 2\n\n[[steps]]\npercent = 50\nhold = \"2s\"\nchecks = 2\n\n[[steps]]\npercent = 100\n\n{}",
        analysis(
            &prometheus.url,
            "min_requests = 10\nfailure_limit = 3\ninconclusive_limit = 15\nprogress_deadline = \"40s\""
        )
    ));
    let first = Controller::start(&spec, &fleet.events());
    wait_for_event(&fleet.events(), "step 1 applied", |e| {
        e["event"] == "step_applied" && e["step"] == 1
    });
    wait_for_event(&fleet.events(), "an analysis of step 1", |e| {
        e["event"] == "analysis" && e["step"] == 1
    });
    first.kill();
    let saved = status(&spec);
    assert_eq!(saved["phase"], "analysing", "{saved:#}");
    assert_eq!(saved["step"], 0);
    assert_eq!(saved["percent"], 10);
    let (exit, stderr) = Controller::start(&spec, &fleet.events()).wait();
    load.stop();
    assert!(exit.success(), "{stderr}");
    let log = events(&fleet.events());
    assert_eq!(named(&log, "resumed").len(), 1);
    assert_eq!(percents_of(&log, "fragment_written"), [10, 50, 100]);
    assert_eq!(percents_of(&log, "step_applied"), [10, 50, 100]);
    assert_eq!(fleet.fragment_percent(), 100);
    assert_eq!(status(&spec)["phase"], "succeeded");
}

/// The drills' spec: a 50% step that needs two passes and a 10 s hold. Each drill breaks
/// something once the step has its passes, well before the hold ends; a controller that counted
/// stale or missing evidence would promote when the hold ends.
fn drill_spec(fleet: &Fleet, prometheus: &str, limits: &str) -> std::path::PathBuf {
    fleet.spec(&format!(
        "[[steps]]\npercent = 50\nhold = \"10s\"\nchecks = 2\n\n[[steps]]\npercent = 100\n\n{}",
        analysis(prometheus, &format!("min_requests = 10\n{limits}"))
    ))
}

/// Waits for the step's second pass.
fn wait_for_two_passes(fleet: &Fleet) {
    wait_for_event(&fleet.events(), "the second pass", |e| {
        e["event"] == "analysis" && e["verdict"] == "pass" && e["passed"] == 2
    });
}

/// What every drill ends with: never past the first step, the fragment back at 0%.
fn assert_never_promoted(fleet: &Fleet, log: &[Value]) {
    assert!(named(log, "succeeded").is_empty(), "{log:#?}");
    assert_eq!(
        percents_of(log, "step_applied"),
        [50],
        "never past the step"
    );
    assert_eq!(fleet.fragment_percent(), 0);
    for gateway in &fleet.gateways {
        assert_eq!(served_percent(gateway.admin), Some(0), "{}", gateway.name);
    }
}

#[test]
fn a_v2_that_starts_failing_after_its_passes_is_rolled_back_not_promoted() {
    let _serial = exclusive();
    let fleet = Fleet::start("");
    let prometheus = Prometheus::start(fleet.dir.path(), &fleet.metrics_targets());
    let load = Load::start(&fleet, 100);
    prometheus.wait_for_targets(2);
    // Failures are allowed long enough for the hold to end among them.
    let spec = drill_spec(
        &fleet,
        &prometheus.url,
        "failure_limit = 12\ninconclusive_limit = 30\nprogress_deadline = \"40s\"",
    );
    let controller = Controller::start(&spec, &fleet.events());
    wait_for_two_passes(&fleet);
    fleet.set_faults("[faults.billing.v2]\nerror_rate = 0.5\n");
    let (exit, stderr) = controller.wait();
    load.stop();
    let log = events(&fleet.events());
    assert_eq!(exit.code(), Some(1), "{stderr}");
    assert_never_promoted(&fleet, &log);
    let ended = named(&log, "rolled_back");
    assert_eq!(ended.len(), 1, "{log:#?}");
    assert!(
        ended[0]["reason"].as_str().unwrap().contains("error_ratio"),
        "{}",
        ended[0]["reason"]
    );
    // The first failure took the passes away.
    let first_failure = named(&log, "analysis")
        .into_iter()
        .find(|a| a["verdict"] == "fail")
        .unwrap();
    assert_eq!(first_failure["passed"], 0, "{first_failure}");
    assert_eq!(status(&spec)["phase"], "rolled_back");
}

#[test]
fn prometheus_killed_after_the_passes_is_inconclusive_then_aborts_never_promotes() {
    let _serial = exclusive();
    let fleet = Fleet::start("");
    let mut prometheus = Prometheus::start(fleet.dir.path(), &fleet.metrics_targets());
    let load = Load::start(&fleet, 100);
    prometheus.wait_for_targets(2);
    // Inconclusive analyses are allowed long enough for the hold to end among them.
    let spec = drill_spec(
        &fleet,
        &prometheus.url,
        "failure_limit = 2\ninconclusive_limit = 12\nprogress_deadline = \"40s\"",
    );
    let controller = Controller::start(&spec, &fleet.events());
    wait_for_two_passes(&fleet);
    prometheus.stop();
    let (exit, stderr) = controller.wait();
    load.stop();
    let log = events(&fleet.events());
    assert_eq!(exit.code(), Some(1), "{stderr}");
    assert_never_promoted(&fleet, &log);
    assert!(
        named(&log, "check")
            .iter()
            .any(|c| c["verdict"] == "inconclusive"
                && c["detail"].as_str().unwrap().contains("unreachable")),
        "an analysis saw Prometheus unreachable"
    );
    let ended = named(&log, "aborted");
    assert_eq!(ended.len(), 1, "{log:#?}");
    assert!(
        ended[0]["reason"]
            .as_str()
            .unwrap()
            .contains("inconclusive_limit"),
        "{}",
        ended[0]["reason"]
    );
}

#[test]
fn traffic_stopping_after_the_passes_earns_no_more_passes_and_aborts() {
    let _serial = exclusive();
    let fleet = Fleet::start("");
    let prometheus = Prometheus::start(fleet.dir.path(), &fleet.metrics_targets());
    let load = Load::start(&fleet, 100);
    prometheus.wait_for_targets(2);
    let spec = drill_spec(
        &fleet,
        &prometheus.url,
        "failure_limit = 2\ninconclusive_limit = 1000\nprogress_deadline = \"14s\"",
    );
    let controller = Controller::start(&spec, &fleet.events());
    wait_for_two_passes(&fleet);
    load.stop();
    let (exit, stderr) = controller.wait();
    let log = events(&fleet.events());
    assert_eq!(exit.code(), Some(1), "{stderr}");
    assert_never_promoted(&fleet, &log);
    // Once the traffic stopped, the windows after the last pass held too few new requests.
    let last = named(&log, "analysis").last().copied().unwrap();
    assert_eq!(last["verdict"], "inconclusive", "{last}");
    assert!(
        named(&log, "check").iter().any(|c| c["detail"]
            .as_str()
            .unwrap()
            .contains("fewer than min_requests 10")),
        "{log:#?}"
    );
    let ended = named(&log, "aborted");
    assert_eq!(ended.len(), 1, "{log:#?}");
    assert!(
        ended[0]["reason"]
            .as_str()
            .unwrap()
            .contains("progress deadline"),
        "{}",
        ended[0]["reason"]
    );
}

#[test]
fn an_instance_down_when_a_step_is_applied_stops_the_rollout_with_a_record() {
    let _serial = exclusive();
    let mut fleet = Fleet::start("");
    let spec = fleet.spec(&format!(
        "[[steps]]\npercent = 10\nchecks = 1\n\n[[steps]]\npercent = 100\n\n{}",
        analysis(
            "http://127.0.0.1:1",
            "min_requests = 10\nfailure_limit = 1\ninconclusive_limit = 1000\nprogress_deadline = \"60s\""
        )
        .replace("converge_timeout = \"5s\"", "converge_timeout = \"2s\"")
    ));
    // Both instances are up at the start (the preflight refuses a rollout otherwise); one goes
    // down once the first step is applied, and the next step (a promotion) cannot reach it.
    let controller = Controller::start(&spec, &fleet.events());
    wait_for_event(&fleet.events(), "step 1 applied", |e| {
        e["event"] == "step_applied" && e["step"] == 1
    });
    controller.kill();
    fleet.gateways[1].kill();
    let promoted = rollout_command()
        .args(["promote", "--no-progress", "--events"])
        .arg(fleet.events())
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(
        promoted.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&promoted.stderr)
    );
    let log = events(&fleet.events());
    let failed = named(&log, "step_failed");
    assert_eq!(failed.len(), 1, "{log:#?}");
    assert_eq!(failed[0]["percent"], 100);
    assert_eq!(failed[0]["converged"][0]["instance"], "gw-a");
    assert!(
        failed[0]["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("instance gw-b")
    );
    let saved = status(&spec);
    assert_eq!(saved["phase"], "stopped", "{saved:#}");
    let reason = saved["reason"].as_str().unwrap();
    assert!(reason.contains("did not reach every instance"), "{reason}");
    assert!(
        reason.contains("rollback wrote percent 0 but could not verify: instance gw-b"),
        "{reason}"
    );
    assert_eq!(saved["instances"][0]["instance"], "gw-a");
    assert_eq!(percents_of(&log, "step_applied"), [10]);
    assert_eq!(fleet.fragment_percent(), 0);
    assert_eq!(served_percent(fleet.gateways[0].admin), Some(0));
    // Once the instance is back, `abort` verifies the rollback on every instance.
    fleet.restart(1);
    let aborted = rollout_command()
        .args(["abort", "--no-progress", "--events"])
        .arg(fleet.events())
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(
        aborted.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&aborted.stderr)
    );
    let saved = status(&spec);
    assert_eq!(saved["phase"], "aborted", "{saved:#}");
    let verified: Vec<&str> = saved["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["instance"].as_str().unwrap())
        .collect();
    assert_eq!(verified, ["gw-a", "gw-b"]);
    for gateway in &fleet.gateways {
        assert_eq!(served_percent(gateway.admin), Some(0), "{}", gateway.name);
    }
}

#[test]
fn a_rollout_is_refused_before_any_edit_when_an_instance_does_not_serve_the_rule() {
    let _serial = exclusive();
    let mut fleet = Fleet::start("");
    let spec = fleet.spec(&format!(
        "[[steps]]\npercent = 10\nchecks = 1\n\n[[steps]]\npercent = 100\n\n{}",
        analysis(
            "http://127.0.0.1:1",
            "min_requests = 10\nfailure_limit = 1\ninconclusive_limit = 5\nprogress_deadline = \"60s\""
        )
    ));
    fleet.gateways[1].kill();
    let before = std::fs::read_to_string(fleet.fragment()).unwrap();
    let output = rollout_command()
        .args(["run", "--no-progress", "--events"])
        .arg(fleet.events())
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("preflight: nothing was changed"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "instance gw-b: http://{}/debug/config",
            fleet.gateways[1].admin
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("instance gw-a"), "{stderr}");
    assert_eq!(std::fs::read_to_string(fleet.fragment()).unwrap(), before);
    assert!(events(&fleet.events()).is_empty(), "nothing started");
    // A drill build says so: `faults` is among the features it reports, never passing for a
    // production build.
    let version: Value = agent()
        .get(format!("http://{}/debug/version", fleet.gateways[0].admin))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .call()
        .unwrap()
        .into_body()
        .read_json()
        .unwrap();
    assert_eq!(
        version["features"],
        serde_json::json!(["v1", "v2", "faults"])
    );
    let metrics = agent()
        .get(format!("http://{}/metrics", fleet.gateways[0].admin))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(metrics.contains("features=\"v1,v2,faults\""), "{metrics}");
}

#[test]
fn pause_reaches_a_running_controller_and_abort_without_one_rolls_back() {
    let _serial = exclusive();
    let fleet = Fleet::start("");
    let spec = fleet.spec(&format!(
        "[[steps]]\npercent = 10\nchecks = 1\n\n[[steps]]\npercent = 100\n\n{}",
        analysis(
            "http://127.0.0.1:1",
            "min_requests = 10\nfailure_limit = 1\ninconclusive_limit = 1000\nprogress_deadline = \"60s\""
        )
    ));
    let controller = Controller::start(&spec, &fleet.events());
    wait_for_event(&fleet.events(), "step 1 applied", |e| {
        e["event"] == "step_applied" && e["step"] == 1
    });
    let paused = rollout_command().arg("pause").arg(&spec).output().unwrap();
    assert!(
        paused.status.success(),
        "{}",
        String::from_utf8_lossy(&paused.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&paused.stderr),
        "pause: taken by the running controller\n"
    );
    wait_for_event(&fleet.events(), "the pause", |e| {
        e["event"] == "command" && e["command"] == "pause" && e["paused"] == true
    });
    assert_eq!(status(&spec)["paused"], true);
    controller.kill();
    let aborted = rollout_command()
        .args(["abort", "--reason", "drill", "--no-progress", "--events"])
        .arg(fleet.events())
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(
        aborted.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&aborted.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&aborted.stderr),
        "aborted: aborted by operator: drill\nabort: done; rollout is aborted (paused)\n"
    );
    let saved = status(&spec);
    assert_eq!(saved["phase"], "aborted");
    assert_eq!(saved["reason"], "aborted by operator: drill");
    assert_eq!(fleet.fragment_percent(), 0);
    for gateway in &fleet.gateways {
        assert_eq!(served_percent(gateway.admin), Some(0), "{}", gateway.name);
    }
}

#[test]
fn promote_skips_the_remaining_analysis_to_100_percent() {
    let _serial = exclusive();
    let fleet = Fleet::start("");
    // Prometheus is absent: every analysis is inconclusive, so only a promotion can finish.
    let spec = fleet.spec(&format!(
        "[[steps]]\npercent = 10\nchecks = 1\n\n[[steps]]\npercent = 50\n\n[[steps]]\npercent = 100\n\n{}",
        analysis(
            "http://127.0.0.1:1",
            "min_requests = 10\nfailure_limit = 1\ninconclusive_limit = 1000\nprogress_deadline = \"60s\""
        )
    ));
    let controller = Controller::start(&spec, &fleet.events());
    wait_for_event(&fleet.events(), "an inconclusive analysis of step 1", |e| {
        e["event"] == "analysis" && e["step"] == 1 && e["verdict"] == "inconclusive"
    });
    let promoted = rollout_command()
        .arg("promote")
        .arg(&spec)
        .output()
        .unwrap();
    assert!(
        promoted.status.success(),
        "{}",
        String::from_utf8_lossy(&promoted.stderr)
    );
    let (exit, stderr) = controller.wait();
    assert!(exit.success(), "{stderr}");
    let log = events(&fleet.events());
    assert_eq!(
        percents_of(&log, "step_applied"),
        [10, 100],
        "50% was skipped"
    );
    assert_eq!(fleet.fragment_percent(), 100);
    for gateway in &fleet.gateways {
        assert_eq!(served_percent(gateway.admin), Some(100), "{}", gateway.name);
    }
    assert_eq!(status(&spec)["phase"], "succeeded");
}

#[test]
fn a_wrong_admin_token_is_refused_naming_the_instance_and_status() {
    let _serial = exclusive();
    let fleet = Fleet::start("");
    let spec = fleet.spec(&format!(
        "[[steps]]\npercent = 10\nchecks = 1\n\n[[steps]]\npercent = 100\n\n{}",
        analysis(
            "http://127.0.0.1:1",
            "min_requests = 10\nfailure_limit = 1\ninconclusive_limit = 5\nprogress_deadline = \"60s\""
        )
    ));
    let output = rollout_command()
        .env(
            crate::support::ADMIN_TOKEN_ENV,
            "not-the-admin-token-0123456789abcdef",
        )
        .args(["run", "--no-progress", "--events"])
        .arg(fleet.events())
        .arg(&spec)
        .output()
        .unwrap();
    // The preflight is refused first, before anything is edited or saved.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let refused = format!(
        "instance gw-a: http://{}/debug/config: refused with 401",
        fleet.gateways[0].admin
    );
    assert!(stderr.contains(&refused), "{stderr}");
    assert!(events(&fleet.events()).is_empty(), "nothing started");
    // Nothing reached the instances: they still serve the percent they started with.
    assert_eq!(fleet.fragment_percent(), 0);
    for gateway in &fleet.gateways {
        assert_eq!(served_percent(gateway.admin), Some(0), "{}", gateway.name);
    }
}

#[test]
fn a_healthy_v2_is_promoted_with_the_fragment_in_etcd() {
    let _serial = exclusive();
    let etcd = fleet::testing::TestEtcd::start();
    let fleet = Fleet::start_on_etcd(&etcd);
    let prometheus = Prometheus::start(fleet.dir.path(), &fleet.metrics_targets());
    let load = Load::start(&fleet, 100);
    prometheus.wait_for_targets(2);
    let spec = fleet.spec_on_etcd(
        &etcd.endpoint(),
        &format!(
            "[[steps]]\npercent = 50\nhold = \"2s\"\nchecks = 1\n\n[[steps]]\npercent = 100\n\n{}",
            analysis(
                &prometheus.url,
                "min_requests = 10\nfailure_limit = 2\ninconclusive_limit = 10\nprogress_deadline = \"40s\""
            )
        ),
    );
    let controller = Controller::start(&spec, &fleet.events());
    let (exit, stderr) = controller.wait();
    load.stop();
    let log = events(&fleet.events());
    assert!(exit.success(), "rollout failed: {stderr}");
    assert_eq!(percents_of(&log, "fragment_written"), [50, 100]);
    let written = fleet::EtcdClient::new(fleet::ClientOptions::new(&[&etcd.endpoint()]))
        .unwrap()
        .get(crate::support::ETCD_KEY)
        .unwrap()
        .unwrap();
    let text = String::from_utf8(written.value).unwrap();
    assert_eq!(rollout::rule_percent(&text, RULE).unwrap(), 100);
    for gateway in &fleet.gateways {
        assert_eq!(served_percent(gateway.admin), Some(100), "{}", gateway.name);
    }
}
