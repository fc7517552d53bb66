//! The Prometheus metrics the gateway exposes on `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::version;

/// Labels of `http_requests_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    /// The matched route template, e.g. `/api/v1/invoices/{id}`, or `unmatched`.
    pub route: String,
    /// `v1`, `v2`, or `none` for requests that touch no billing version.
    pub billing_version: String,
    /// The response status code.
    pub status: u16,
}

/// Labels of the request-duration histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct VersionLabels {
    /// `v1`, `v2`, or `none`.
    pub billing_version: String,
}

/// Labels of `gray_decisions_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DecisionLabels {
    /// The rule that decided, or `default`.
    pub rule: String,
    /// The OpenFeature reason: `TARGETING_MATCH`, `SPLIT`, `DEFAULT`, `DISABLED`, `ERROR`.
    pub reason: String,
    /// The billing version chosen.
    pub variant: String,
}

/// Labels of `config_reloads_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReloadLabels {
    /// `success` or `failure`.
    pub result: &'static str,
}

/// Labels of `outbox_deliveries_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DeliveryLabels {
    /// `delivered` or `failed` (to be retried).
    pub result: &'static str,
}

/// Labels of `build_info`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    rustc: String,
    features: String,
}

/// Every metric the gateway records, and the registry that renders them.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    /// Requests served, by route, billing version and status.
    pub http_requests: Family<RequestLabels, Counter>,
    /// Request durations in seconds, by billing version.
    pub http_request_duration: Family<VersionLabels, Histogram>,
    /// Gray routing decisions, by rule, reason and chosen version.
    pub gray_decisions: Family<DecisionLabels, Counter>,
    /// Config reloads, by result.
    pub config_reloads: Family<ReloadLabels, Counter>,
    /// The generation of the config snapshot serving now.
    pub config_generation: Gauge,
    /// Outbox delivery attempts, by result.
    pub outbox_deliveries: Family<DeliveryLabels, Counter>,
    /// 1 while the config source answers (always, for files alone), 0 while etcd is unreachable.
    pub config_source_up: Gauge,
}

impl Metrics {
    /// A fresh registry with every metric registered and `build_info` set for this build.
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests served, by route, billing version and status",
            http_requests.clone(),
        );
        let http_request_duration = Family::<VersionLabels, Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request duration in seconds, by billing version",
            http_request_duration.clone(),
        );
        let gray_decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "gray_decisions",
            "Gray routing decisions, by rule, reason and chosen billing version",
            gray_decisions.clone(),
        );
        let config_reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "config_reloads",
            "Config reloads, by result",
            config_reloads.clone(),
        );
        let config_generation = Gauge::default();
        registry.register(
            "config_generation",
            "Generation of the config snapshot serving now",
            config_generation.clone(),
        );
        let config_source_up = Gauge::default();
        config_source_up.set(1);
        registry.register(
            "config_source_up",
            "1 while the config source (etcd, when configured) answers; 0 while it is unreachable and the last good config serves",
            config_source_up.clone(),
        );
        let outbox_deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "outbox_deliveries",
            "Invoice notice delivery attempts by the outbox dispatcher, by result",
            outbox_deliveries.clone(),
        );
        // The `Info` type appends `_info` to the name, giving `build_info`.
        registry.register(
            "build",
            "The gateway build: crate version, rustc version and enabled features",
            Info::new(BuildLabels {
                version: version::CRATE_VERSION.to_owned(),
                rustc: version::RUSTC_VERSION.to_owned(),
                features: version::features_label(),
            }),
        );
        // Reload results are pre-created so dashboards see zeros before the first reload.
        for result in ["success", "failure"] {
            let _counter = config_reloads.get_or_create(&ReloadLabels { result });
        }
        for result in ["delivered", "failed"] {
            let _counter = outbox_deliveries.get_or_create(&DeliveryLabels { result });
        }
        Self {
            registry,
            http_requests,
            http_request_duration,
            gray_decisions,
            config_reloads,
            config_generation,
            outbox_deliveries,
            config_source_up,
        }
    }

    /// Records one reload attempt.
    pub(crate) fn record_reload(&self, ok: bool) {
        let result = if ok { "success" } else { "failure" };
        self.config_reloads
            .get_or_create(&ReloadLabels { result })
            .inc();
    }

    /// Renders every metric in the OpenMetrics text format, which Prometheus scrapes.
    pub(crate) fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// A generation as the `config_generation` gauge holds it (saturating; generations are small).
pub(crate) fn generation_gauge(generation: u64) -> i64 {
    i64::try_from(generation).unwrap_or(i64::MAX)
}

/// Buckets from 100 µs to about 3.3 s, doubling; a gateway request lives in that range.
fn duration_histogram() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0001, 2.0, 16,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_the_dashboard_uses_is_rendered() {
        let metrics = Metrics::new();
        metrics
            .http_requests
            .get_or_create(&RequestLabels {
                route: "/api/invoices".to_owned(),
                billing_version: "v2".to_owned(),
                status: 201,
            })
            .inc();
        metrics
            .http_request_duration
            .get_or_create(&VersionLabels {
                billing_version: "v2".to_owned(),
            })
            .observe(0.002);
        metrics
            .gray_decisions
            .get_or_create(&DecisionLabels {
                rule: "canary".to_owned(),
                reason: "SPLIT".to_owned(),
                variant: "v2".to_owned(),
            })
            .inc();
        metrics.record_reload(true);
        metrics.config_generation.set(7);
        let text = metrics.render().unwrap();
        for expected in [
            "http_requests_total{route=\"/api/invoices\",billing_version=\"v2\",status=\"201\"} 1",
            "http_request_duration_seconds_bucket{le=\"0.0032\",billing_version=\"v2\"} 1",
            "gray_decisions_total{rule=\"canary\",reason=\"SPLIT\",variant=\"v2\"} 1",
            "config_reloads_total{result=\"success\"} 1",
            "config_reloads_total{result=\"failure\"} 0",
            "config_generation 7",
            "build_info{version=\"",
            "# EOF",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }
}
