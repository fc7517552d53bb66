//! The controller's own metrics (`rollout_*`), served on a loopback `/metrics` while it runs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels naming a check.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabels {
    /// `error_ratio`, `latency` or a custom check's name.
    pub check: String,
}

/// Labels of `rollout_checks_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// The check.
    pub check: String,
    /// `pass`, `fail` or `inconclusive`.
    pub result: String,
}

/// A float gauge.
pub(crate) type FloatGauge = Gauge<f64, AtomicU64>;

/// Every `rollout_*` series.
#[derive(Debug)]
pub struct RolloutMetrics {
    registry: Registry,
    /// The current step, 1-based; 0 before the first.
    pub step: Gauge,
    /// The percent every instance was last verified to serve.
    pub percent: Gauge,
    /// Each check's last value.
    pub analysis_value: Family<CheckLabels, FloatGauge>,
    /// Each check's last threshold.
    pub analysis_threshold: Family<CheckLabels, FloatGauge>,
    /// Checks judged, by result.
    pub checks: Family<ResultLabels, Counter>,
    /// Seconds from the exposure of the step that failed to the last instance verified at 0%.
    pub rollback_seconds: FloatGauge,
    /// `/metrics` answers rendered so far.
    scrapes: AtomicU64,
}

impl Default for RolloutMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl RolloutMetrics {
    /// A registry with every series registered.
    pub fn new() -> RolloutMetrics {
        let mut registry = Registry::with_prefix("rollout");
        let step = Gauge::default();
        registry.register(
            "step",
            "The current step, 1-based; 0 before the first",
            step.clone(),
        );
        let percent = Gauge::default();
        registry.register(
            "percent",
            "The rule percent every instance was last verified to serve",
            percent.clone(),
        );
        let analysis_value = Family::<CheckLabels, FloatGauge>::default();
        registry.register(
            "analysis_value",
            "The last measured value of each check (v2's, for the built-in judges)",
            analysis_value.clone(),
        );
        let analysis_threshold = Family::<CheckLabels, FloatGauge>::default();
        registry.register(
            "analysis_threshold",
            "The threshold each check's value was last held to",
            analysis_threshold.clone(),
        );
        let checks = Family::<ResultLabels, Counter>::default();
        registry.register(
            "checks",
            "Checks judged, by check and result",
            checks.clone(),
        );
        let rollback_seconds = FloatGauge::default();
        registry.register(
            "rollback_seconds",
            "Seconds from the exposure of the step that failed to the last instance verified at 0%",
            rollback_seconds.clone(),
        );
        RolloutMetrics {
            registry,
            step,
            percent,
            analysis_value,
            analysis_threshold,
            checks,
            rollback_seconds,
            scrapes: AtomicU64::new(0),
        }
    }

    /// How many `/metrics` answers were rendered so far.
    pub fn scrapes(&self) -> u64 {
        self.scrapes.load(Ordering::SeqCst)
    }

    /// Waits until a `/metrics` answer is rendered after `seen` answers were (so it holds
    /// everything set before this call), or until `linger` has passed. Returns whether a scrape
    /// came.
    pub fn wait_for_scrape(&self, seen: u64, linger: Duration) -> bool {
        let started = Instant::now();
        while self.scrapes() <= seen {
            if started.elapsed() >= linger {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// The OpenMetrics text of a scrape (counted by [`RolloutMetrics::scrapes`]). It is counted
    /// before it is rendered, so a scrape counted after a value was set shows that value.
    pub fn scrape(&self) -> String {
        self.scrapes.fetch_add(1, Ordering::SeqCst);
        self.render()
    }

    /// The OpenMetrics text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; an error here would be a bug in an encoder.
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// Serves `GET /metrics` on `addr` (loopback) from a background thread; returns the bound
/// address. The server lives as long as the process.
pub fn serve(metrics: Arc<RolloutMetrics>, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    std::thread::Builder::new()
        .name("rollout-metrics".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                let app = Router::new().route(
                    "/metrics",
                    get(move || {
                        let metrics = Arc::clone(&metrics);
                        async move {
                            (
                                [(
                                    header::CONTENT_TYPE,
                                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                                )],
                                metrics.scrape(),
                            )
                                .into_response()
                        }
                    }),
                );
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => {
                        if let Err(error) = axum::serve(listener, app).await {
                            eprintln!("warning: the rollout metrics server stopped: {error}");
                        }
                    }
                    Err(error) => eprintln!("warning: cannot serve rollout metrics: {error}"),
                }
            });
        })?;
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_series_the_dashboard_uses_is_rendered() {
        let metrics = RolloutMetrics::new();
        metrics.step.set(2);
        metrics.percent.set(10);
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
        metrics.rollback_seconds.set(1.5);
        let text = metrics.render();
        for expected in [
            "rollout_step 2",
            "rollout_percent 10",
            "rollout_analysis_value{check=\"error_ratio\"} 0.2",
            "rollout_analysis_threshold{check=\"error_ratio\"} 0.01",
            "rollout_checks_total{check=\"error_ratio\",result=\"fail\"} 1",
            "rollout_rollback_seconds 1.5",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }

    #[test]
    fn a_scrape_after_the_wait_began_ends_it() {
        let metrics = RolloutMetrics::new();
        let seen = metrics.scrapes();
        assert!(!metrics.wait_for_scrape(seen, Duration::ZERO));
        metrics.scrape();
        assert!(metrics.wait_for_scrape(seen, Duration::ZERO));
        assert!(!metrics.wait_for_scrape(metrics.scrapes(), Duration::ZERO));
    }
}
