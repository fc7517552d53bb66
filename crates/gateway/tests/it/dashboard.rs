//! The Grafana dashboard only queries metrics the gateway exposes, and has the panels operators
//! need during a gray upgrade.

use axum::http::Method;

use crate::support::{TestApp, admin};

fn dashboard() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/grafana/gray-upgrade.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The metric names a PromQL expression selects: identifiers directly followed by `{`.
fn selected_metrics(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = expr.as_bytes();
    for (at, byte) in bytes.iter().enumerate() {
        if *byte != b'{' {
            continue;
        }
        let start = expr[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        if start < at {
            names.push(expr[start..at].to_owned());
        }
    }
    names
}

#[test]
fn selected_metrics_are_found_in_expressions() {
    assert_eq!(
        selected_metrics("sum by (x) (rate(http_requests_total{job=~\"$job\"}[5m])) / up{a=\"b\"}"),
        ["http_requests_total", "up"]
    );
}

#[tokio::test]
async fn every_panel_queries_an_exposed_metric() {
    let app = TestApp::new();
    // Traffic so that every labelled family has a sample.
    app.send(admin(Method::POST, "/config/reload")).await;
    let read = crate::support::token(&["invoices:read"]);
    let routed = crate::support::request(Method::GET, "/api/invoices/inv-1", Some(&read))
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(routed).await;
    let exposed = app.send(admin(Method::GET, "/metrics")).await.text();
    let dashboard = dashboard();
    let panels = dashboard["panels"].as_array().unwrap();
    let mut queried = 0;
    for panel in panels {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for metric in selected_metrics(expr) {
                queried += 1;
                let has_sample = exposed.lines().any(|line| {
                    line.strip_prefix(metric.as_str())
                        .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
                });
                assert!(
                    has_sample,
                    "panel {:?} queries {metric}, which /metrics does not expose:\n{exposed}",
                    panel["title"]
                );
            }
        }
    }
    assert!(queried >= 6);
}

#[test]
fn the_dashboard_has_the_gray_upgrade_panels() {
    let dashboard = dashboard();
    let titles: Vec<&str> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    for wanted in [
        "Requests by billing version",
        "Error rate by billing version",
        "p99 latency by billing version",
        "Gray decisions by rule and reason",
        "Config reloads",
        "build_info by rustc version",
    ] {
        assert!(
            titles.contains(&wanted),
            "missing panel {wanted:?} in {titles:?}"
        );
    }
}
