//! The Grafana dashboard's rollout panels query only series the controller exports.

use rollout::{CheckLabels, ResultLabels, RolloutMetrics};

fn dashboard_expressions() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/grafana/gray-upgrade.json"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|panel| panel["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|target| target["expr"].as_str().map(str::to_owned))
        .collect()
}

/// The `rollout_*` names an expression mentions.
fn rollout_series(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("rollout_"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_rollout_series_on_the_dashboard_is_exported() {
    let metrics = RolloutMetrics::new();
    let check = CheckLabels {
        check: "error_ratio".to_owned(),
    };
    metrics.analysis_value.get_or_create(&check).set(0.2);
    metrics.analysis_threshold.get_or_create(&check).set(0.01);
    metrics
        .checks
        .get_or_create(&ResultLabels {
            check: "error_ratio".to_owned(),
            result: "fail".to_owned(),
        })
        .inc();
    let exported = metrics.render();
    let queried: Vec<String> = dashboard_expressions()
        .iter()
        .flat_map(|expr| rollout_series(expr))
        .collect();
    for wanted in [
        "rollout_step",
        "rollout_percent",
        "rollout_analysis_value",
        "rollout_analysis_threshold",
        "rollout_checks_total",
        "rollout_rollback_seconds",
    ] {
        assert!(
            queried.iter().any(|q| q == wanted),
            "no panel shows {wanted}"
        );
    }
    for series in &queried {
        assert!(
            exported.lines().any(|line| line
                .strip_prefix(series.as_str())
                .is_some_and(|rest| rest.starts_with(['{', ' ']))),
            "the dashboard queries {series}, which the controller does not export:\n{exported}"
        );
    }
}
