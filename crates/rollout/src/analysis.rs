//! One analysis: build the PromQL for every check, query, and judge v2 against v1.
//!
//! The built-in judges read the gateway's own series (`http_requests_total` and
//! `http_request_duration_seconds`, labelled by `billing_version`), so v1 and v2 are measured on
//! the same instances over the same window. A failed query or a missing series makes its check
//! inconclusive; it never passes.
//!
//! A window is an explicit stretch of time ([`Window`]): every query is evaluated at its end
//! (Prometheus' `time` parameter), and counts are the difference between each series' last sample
//! at the end and its last sample at the start (a series that did not exist at the start counts
//! from zero). Consecutive windows therefore tile time: a request is counted in at most one of
//! them, which is what lets the controller demand passes from disjoint windows, and a series
//! born inside the window (v2's first requests, its first 5xx) counts whole, where `increase()`
//! would take its first sample as a baseline and miss it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::judge::{self, Counts, Judgement, Verdict};
use crate::prometheus::{Prometheus, QueryError, Sample};
use crate::spec::Analysis as AnalysisSpec;

/// Where analysis numbers come from; [`Prometheus`] in production.
pub trait MetricSource {
    /// Runs an instant query evaluated at `at_ms` (Unix milliseconds).
    fn query(&self, promql: &str, at_ms: u64) -> Result<Vec<Sample>, QueryError>;
}

impl MetricSource for Prometheus {
    fn query(&self, promql: &str, at_ms: u64) -> Result<Vec<Sample>, QueryError> {
        Prometheus::query_at(self, promql, at_ms)
    }
}

/// The stretch of time an analysis judges, in Unix milliseconds: from `from_ms` (exclusive) to
/// `to_ms` (inclusive), evaluated at `to_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Window {
    /// Where it starts: the end of the previous counted window, or the step's verification.
    pub from_ms: u64,
    /// Where it ends: the time every query is evaluated at.
    pub to_ms: u64,
}

impl Window {
    /// The window ending at `to_ms` that starts at `from_ms`, but reaches back at most
    /// `longest`, and spans at least one millisecond.
    pub(crate) fn new(from_ms: u64, to_ms: u64, longest: Duration) -> Window {
        let longest = u64::try_from(longest.as_millis()).unwrap_or(u64::MAX);
        let from_ms = from_ms.max(to_ms.saturating_sub(longest));
        Window {
            from_ms: from_ms.min(to_ms.saturating_sub(1)),
            to_ms,
        }
    }

    /// The PromQL duration of its length, in milliseconds, e.g. `2500ms`.
    pub(crate) fn range(&self) -> String {
        format!("{}ms", (self.to_ms - self.from_ms).max(1))
    }
}

/// A query as run, with what it returned: the value per series (named by its `billing_version`,
/// or `value` for a single unlabelled number), or the error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct QueryRecord {
    /// The PromQL.
    pub query: String,
    /// Values by series.
    pub values: BTreeMap<String, f64>,
    /// Why the query gave nothing, if it failed.
    pub error: Option<String>,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CheckOutcome {
    /// `error_ratio`, `latency`, or a custom check's name.
    pub check: String,
    /// The queries behind it.
    pub queries: Vec<QueryRecord>,
    /// The judgement.
    #[serde(flatten)]
    pub judgement: Judgement,
}

/// One analysis: every check's outcome and the combined verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Outcome {
    /// The PromQL range used, e.g. `2500ms`.
    pub window: String,
    /// The stretch of time judged.
    pub span: Window,
    /// The combined verdict (any failure fails; else any inconclusive is inconclusive).
    pub verdict: Verdict,
    /// Each check.
    pub checks: Vec<CheckOutcome>,
}

/// How much each series under `series` grew over the last `range` (evaluated at the window's
/// end): its last sample minus its last sample `range` earlier, or its whole value when it did
/// not exist then. A counter reset (an instance restarted) clamps to zero rather than counting
/// backwards.
fn growth(series: &str, range: &str) -> String {
    format!("(clamp_min({series} - {series} offset {range}, 0) or {series})")
}

/// The built-in judges' queries for `range` and label `selector`: requests, 5xx answers and the
/// latency quantile, by `billing_version`.
pub(crate) fn builtin_queries(
    spec: &AnalysisSpec,
    range: &str,
) -> (String, String, Option<String>) {
    let selector = if spec.selector.is_empty() {
        String::new()
    } else {
        format!(",{}", spec.selector)
    };
    let requests = format!(
        "sum by (billing_version) {}",
        growth(
            &format!("http_requests_total{{billing_version=~\"v1|v2\"{selector}}}"),
            range
        )
    );
    let errors = format!(
        "sum by (billing_version) {}",
        growth(
            &format!("http_requests_total{{billing_version=~\"v1|v2\",status=~\"5..\"{selector}}}"),
            range
        )
    );
    let latency = spec.latency.as_ref().map(|judge| {
        format!(
            "histogram_quantile({}, sum by (billing_version, le) {})",
            judge.quantile,
            growth(
                &format!(
                    "http_request_duration_seconds_bucket{{billing_version=~\"v1|v2\"{selector}}}"
                ),
                range
            )
        )
    });
    (requests, errors, latency)
}

/// Runs every check of `spec` over `window` and judges it.
pub(crate) fn analyse(source: &dyn MetricSource, spec: &AnalysisSpec, window: Window) -> Outcome {
    let range = window.range();
    let at = window.to_ms;
    let run = |query: &str| run_query(source, query, at);
    let (requests_q, errors_q, latency_q) = builtin_queries(spec, &range);
    let mut checks = Vec::new();
    if spec.error_ratio.is_some() || spec.latency.is_some() {
        let requests = run(&requests_q);
        let traffic = by_version(&requests).map(|requests| {
            let errors = run(&errors_q);
            (requests, errors)
        });
        if let Some(judge_spec) = &spec.error_ratio {
            let outcome = match &traffic {
                Err(error) => inconclusive("error_ratio", vec![requests.clone()], error),
                Ok((requests_by, errors)) => match errors.error.as_ref() {
                    Some(error) => inconclusive(
                        "error_ratio",
                        vec![requests.clone(), errors.clone()],
                        &format!("the 5xx query failed: {error}"),
                    ),
                    None => {
                        let (v1, v2) = counts(requests_by, &errors.values);
                        CheckOutcome {
                            check: "error_ratio".to_owned(),
                            queries: vec![requests.clone(), errors.clone()],
                            judgement: judge::error_ratio(judge_spec, v1, v2, spec.min_requests),
                        }
                    }
                },
            };
            checks.push(outcome);
        }
        if let (Some(judge_spec), Some(latency_q)) = (&spec.latency, latency_q) {
            let outcome = match &traffic {
                Err(error) => inconclusive("latency", vec![requests.clone()], error),
                Ok((requests_by, _)) => {
                    let quantiles = run(&latency_q);
                    match quantiles.error.as_ref() {
                        Some(error) => inconclusive(
                            "latency",
                            vec![requests.clone(), quantiles.clone()],
                            &format!("the latency query failed: {error}"),
                        ),
                        None => {
                            let (v1, v2) = counts(requests_by, &BTreeMap::new());
                            let value =
                                |v: &str| quantiles.values.get(v).copied().unwrap_or(f64::NAN);
                            CheckOutcome {
                                check: "latency".to_owned(),
                                judgement: judge::latency(
                                    judge_spec,
                                    value("v1"),
                                    value("v2"),
                                    judge::enough_traffic(v1, v2, spec.min_requests),
                                ),
                                queries: vec![requests.clone(), quantiles],
                            }
                        }
                    }
                }
            };
            checks.push(outcome);
        }
    }
    for check in &spec.checks {
        let query = check.query.replace("$window", &range);
        let record = run(&query);
        let outcome = match (&record.error, single_value(&record)) {
            (Some(error), _) => inconclusive(&check.name, vec![record.clone()], error),
            (None, Err(why)) => inconclusive(&check.name, vec![record.clone()], &why),
            (None, Ok(value)) => CheckOutcome {
                check: check.name.clone(),
                queries: vec![record.clone()],
                judgement: judge::threshold(check, value),
            },
        };
        checks.push(outcome);
    }
    Outcome {
        window: range,
        span: window,
        verdict: Verdict::combine(checks.iter().map(|c| c.judgement.verdict)),
        checks,
    }
}

fn run_query(source: &dyn MetricSource, query: &str, at_ms: u64) -> QueryRecord {
    match source.query(query, at_ms) {
        Ok(samples) => QueryRecord {
            query: query.to_owned(),
            values: samples
                .into_iter()
                .map(|sample| {
                    let name = sample
                        .labels
                        .get("billing_version")
                        .cloned()
                        .unwrap_or_else(|| {
                            if sample.labels.is_empty() {
                                "value".to_owned()
                            } else {
                                format!("{:?}", sample.labels)
                            }
                        });
                    (name, sample.value)
                })
                .collect(),
            error: None,
        },
        Err(error) => QueryRecord {
            query: query.to_owned(),
            values: BTreeMap::new(),
            error: Some(error.to_string()),
        },
    }
}

/// The request counts by version, or why there are none.
fn by_version(record: &QueryRecord) -> Result<BTreeMap<String, f64>, String> {
    if let Some(error) = &record.error {
        return Err(format!("the request query failed: {error}"));
    }
    if record.values.is_empty() {
        return Err(
            "no request series in the window (is Prometheus scraping the gateways?)".to_owned(),
        );
    }
    Ok(record.values.clone())
}

fn counts(requests: &BTreeMap<String, f64>, errors: &BTreeMap<String, f64>) -> (Counts, Counts) {
    let of = |version: &str| Counts {
        requests: requests
            .get(version)
            .copied()
            .filter(|v| v.is_finite())
            .unwrap_or(0.0),
        // No 5xx series for a version means it had no 5xx answers.
        errors: errors
            .get(version)
            .copied()
            .filter(|v| v.is_finite())
            .unwrap_or(0.0),
    };
    (of("v1"), of("v2"))
}

fn single_value(record: &QueryRecord) -> Result<f64, String> {
    let mut values = record.values.values();
    match (values.next(), values.next()) {
        (Some(value), None) => Ok(*value),
        (None, _) => Err("the query returned no series".to_owned()),
        (Some(_), Some(_)) => Err(format!(
            "the query returned {} series; a check needs one number (aggregate it)",
            record.values.len()
        )),
    }
}

fn inconclusive(check: &str, queries: Vec<QueryRecord>, why: &str) -> CheckOutcome {
    CheckOutcome {
        check: check.to_owned(),
        queries,
        judgement: Judgement {
            verdict: Verdict::Inconclusive,
            value: None,
            threshold: None,
            detail: why.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::spec::{CustomCheck, ErrorRatioJudge, LatencyJudge};

    /// Answers queries by substring; records what was asked.
    struct Canned {
        answers: Vec<(&'static str, Result<Vec<Sample>, QueryError>)>,
        asked: RefCell<Vec<String>>,
    }

    impl MetricSource for Canned {
        fn query(&self, promql: &str, _at_ms: u64) -> Result<Vec<Sample>, QueryError> {
            self.asked.borrow_mut().push(promql.to_owned());
            self.answers
                .iter()
                .find(|(needle, _)| promql.contains(needle))
                .map_or_else(|| Ok(Vec::new()), |(_, answer)| answer.clone())
        }
    }

    fn by(version: &str, value: f64) -> Sample {
        Sample {
            labels: [("billing_version".to_owned(), version.to_owned())].into(),
            value,
        }
    }

    fn spec() -> AnalysisSpec {
        AnalysisSpec {
            prometheus: "http://p".to_owned(),
            interval: Duration::from_secs(1),
            window: Duration::from_secs(10),
            min_requests: 20,
            failure_limit: 1,
            inconclusive_limit: 3,
            progress_deadline: Duration::from_secs(60),
            query_timeout: Duration::from_secs(1),
            selector: "job=\"gateway\"".to_owned(),
            error_ratio: Some(ErrorRatioJudge {
                confidence: 0.99,
                margin: 0.01,
            }),
            latency: Some(LatencyJudge {
                quantile: 0.99,
                factor: 1.2,
                slack: Duration::from_millis(10),
            }),
            checks: vec![CustomCheck {
                name: "v2_share".to_owned(),
                query: "sum(rate(x[$window]))".to_owned(),
                min: None,
                max: Some(0.5),
            }],
        }
    }

    #[test]
    fn the_built_in_queries_compare_versions_under_the_selector() {
        let (requests, errors, latency) = builtin_queries(&spec(), "2500ms");
        insta::assert_snapshot!(format!("{requests}\n{errors}\n{}", latency.unwrap()), @r#"
        sum by (billing_version) (clamp_min(http_requests_total{billing_version=~"v1|v2",job="gateway"} - http_requests_total{billing_version=~"v1|v2",job="gateway"} offset 2500ms, 0) or http_requests_total{billing_version=~"v1|v2",job="gateway"})
        sum by (billing_version) (clamp_min(http_requests_total{billing_version=~"v1|v2",status=~"5..",job="gateway"} - http_requests_total{billing_version=~"v1|v2",status=~"5..",job="gateway"} offset 2500ms, 0) or http_requests_total{billing_version=~"v1|v2",status=~"5..",job="gateway"})
        histogram_quantile(0.99, sum by (billing_version, le) (clamp_min(http_request_duration_seconds_bucket{billing_version=~"v1|v2",job="gateway"} - http_request_duration_seconds_bucket{billing_version=~"v1|v2",job="gateway"} offset 2500ms, 0) or http_request_duration_seconds_bucket{billing_version=~"v1|v2",job="gateway"}))
        "#);
    }

    #[test]
    fn a_bad_v2_fails_and_the_custom_check_sees_the_window() {
        let source = Canned {
            answers: vec![
                ("status=~", Ok(vec![by("v2", 40.0)])),
                (
                    "(clamp_min(http_requests_total",
                    Ok(vec![by("v1", 2000.0), by("v2", 200.0)]),
                ),
                (
                    "histogram_quantile",
                    Ok(vec![by("v1", 0.002), by("v2", 0.003)]),
                ),
                (
                    "rate(x[",
                    Ok(vec![Sample {
                        labels: BTreeMap::new(),
                        value: 0.1,
                    }]),
                ),
            ],
            asked: RefCell::default(),
        };
        let window = Window::new(1_000, 8_300, Duration::from_secs(10));
        let outcome = analyse(&source, &spec(), window);
        assert_eq!(outcome.window, "7300ms");
        let verdicts: Vec<_> = outcome
            .checks
            .iter()
            .map(|c| (c.check.as_str(), c.judgement.verdict))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("error_ratio", Verdict::Fail),
                ("latency", Verdict::Pass),
                ("v2_share", Verdict::Pass)
            ]
        );
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert!(
            source
                .asked
                .borrow()
                .contains(&"sum(rate(x[7300ms]))".to_owned())
        );
    }

    #[test]
    fn prometheus_down_or_no_series_is_inconclusive_for_every_check() {
        let down = Canned {
            answers: vec![(
                "",
                Err(QueryError::Unreachable {
                    url: "http://p".to_owned(),
                    message: "connection refused".to_owned(),
                }),
            )],
            asked: RefCell::default(),
        };
        let outcome = analyse(
            &down,
            &spec(),
            Window::new(0, 10_000, Duration::from_secs(10)),
        );
        assert!(
            outcome
                .checks
                .iter()
                .all(|c| c.judgement.verdict == Verdict::Inconclusive)
        );
        assert_eq!(outcome.verdict, Verdict::Inconclusive);
        let empty = Canned {
            answers: vec![],
            asked: RefCell::default(),
        };
        let outcome = analyse(
            &empty,
            &spec(),
            Window::new(0, 10_000, Duration::from_secs(10)),
        );
        assert_eq!(outcome.verdict, Verdict::Inconclusive);
        assert_eq!(
            outcome.checks[0].judgement.detail,
            "no request series in the window (is Prometheus scraping the gateways?)"
        );
        assert_eq!(
            outcome.checks[2].judgement.detail,
            "the query returned no series"
        );
    }

    #[test]
    fn a_window_starts_where_the_evidence_does_but_reaches_back_at_most_the_longest() {
        let longest = Duration::from_secs(10);
        assert_eq!(
            Window::new(5_000, 7_500, longest),
            Window {
                from_ms: 5_000,
                to_ms: 7_500
            }
        );
        assert_eq!(Window::new(5_000, 7_500, longest).range(), "2500ms");
        assert_eq!(Window::new(0, 60_000, longest).from_ms, 50_000);
        // Never empty, never inverted.
        assert_eq!(Window::new(9_000, 9_000, longest).range(), "1ms");
        assert_eq!(Window::new(9_500, 9_000, longest).from_ms, 8_999);
    }
}
