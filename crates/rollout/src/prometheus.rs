//! A Prometheus HTTP API client for instant queries (`GET /api/v1/query`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

/// One sample of an instant vector (or the scalar's value, with no labels).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// The value; `NaN` stays `NaN`.
    pub value: f64,
}

/// Why a query gave no result. Every one of these makes an analysis inconclusive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Prometheus could not be reached.
    #[error("prometheus at {url} is unreachable: {message}")]
    Unreachable {
        /// The base URL.
        url: String,
        /// The transport error.
        message: String,
    },
    /// Prometheus refused the query.
    #[error("prometheus answered {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Prometheus' `error`, or the body.
        message: String,
    },
    /// The answer did not have the documented shape.
    #[error("unexpected answer from prometheus: {0}")]
    Shape(String),
}

/// A Prometheus server.
#[derive(Debug, Clone)]
pub struct Prometheus {
    base: String,
    agent: ureq::Agent,
}

impl Prometheus {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:9090`), with a per-query
    /// timeout.
    pub fn new(base: &str, timeout: Duration) -> Prometheus {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeout.min(Duration::from_secs(2))))
            .timeout_global(Some(timeout))
            .build()
            .into();
        Prometheus {
            base: base.trim_end_matches('/').to_owned(),
            agent,
        }
    }

    /// Runs an instant query at the server's current time and returns its samples (one,
    /// without labels, for a scalar).
    pub fn query(&self, promql: &str) -> Result<Vec<Sample>, QueryError> {
        self.send(promql, None)
    }

    /// Runs an instant query evaluated at `at_ms` (Unix milliseconds).
    pub fn query_at(&self, promql: &str, at_ms: u64) -> Result<Vec<Sample>, QueryError> {
        self.send(promql, Some(at_ms))
    }

    fn send(&self, promql: &str, at_ms: Option<u64>) -> Result<Vec<Sample>, QueryError> {
        let url = format!("{}/api/v1/query", self.base);
        let mut request = self.agent.get(&url).query("query", promql);
        if let Some(at_ms) = at_ms {
            request = request.query("time", format!("{}.{:03}", at_ms / 1000, at_ms % 1000));
        }
        let response = request.call().map_err(|error| QueryError::Unreachable {
            url: self.base.clone(),
            message: error.to_string(),
        })?;
        let status = response.status().as_u16();
        let text =
            response
                .into_body()
                .read_to_string()
                .map_err(|error| QueryError::Unreachable {
                    url: self.base.clone(),
                    message: format!("cannot read the answer: {error}"),
                })?;
        let body: Value = serde_json::from_str(&text).map_err(|_| QueryError::Refused {
            status,
            message: text.chars().take(200).collect(),
        })?;
        if status != 200 || body.get("status").and_then(Value::as_str) != Some("success") {
            return Err(QueryError::Refused {
                status,
                message: body
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("no error message")
                    .to_owned(),
            });
        }
        parse_data(&body["data"])
    }
}

/// Parses `data` of a successful query answer.
pub(crate) fn parse_data(data: &Value) -> Result<Vec<Sample>, QueryError> {
    let shape = |what: &str| QueryError::Shape(what.to_owned());
    let result = &data["result"];
    match data["resultType"].as_str() {
        Some("vector") => result
            .as_array()
            .ok_or_else(|| shape("vector result is not an array"))?
            .iter()
            .map(|item| {
                let labels = item["metric"]
                    .as_object()
                    .map(|metric| {
                        metric
                            .iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Sample {
                    labels,
                    value: sample_value(&item["value"]).ok_or_else(|| shape("bad sample value"))?,
                })
            })
            .collect(),
        Some("scalar") => Ok(vec![Sample {
            labels: BTreeMap::new(),
            value: sample_value(result).ok_or_else(|| shape("bad scalar value"))?,
        }]),
        other => Err(QueryError::Shape(format!(
            "result type {} is neither vector nor scalar",
            other.unwrap_or("missing")
        ))),
    }
}

/// `[timestamp, "value"]` → value (Prometheus writes `NaN`, `+Inf` as strings).
fn sample_value(pair: &Value) -> Option<f64> {
    pair.get(1)?.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_and_scalars_parse() {
        let vector = serde_json::json!({
            "resultType": "vector",
            "result": [
                {"metric": {"billing_version": "v1"}, "value": [1.0, "120"]},
                {"metric": {"billing_version": "v2"}, "value": [1.0, "NaN"]},
            ]
        });
        let samples = parse_data(&vector).unwrap();
        assert_eq!(samples[0].labels["billing_version"], "v1");
        assert_eq!(samples[0].value, 120.0);
        assert!(samples[1].value.is_nan());
        let scalar = serde_json::json!({"resultType": "scalar", "result": [1.0, "0.5"]});
        assert_eq!(parse_data(&scalar).unwrap()[0].value, 0.5);
        let matrix = serde_json::json!({"resultType": "matrix", "result": []});
        assert_eq!(
            parse_data(&matrix).unwrap_err().to_string(),
            "unexpected answer from prometheus: result type matrix is neither vector nor scalar"
        );
    }

    #[test]
    fn an_unreachable_server_is_an_error_naming_it() {
        // Port 9 (discard) on loopback has no listener here; the connection is refused.
        let error = Prometheus::new("http://127.0.0.1:9", Duration::from_secs(2))
            .query("up")
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("prometheus at http://127.0.0.1:9 is unreachable"),
            "{error}"
        );
    }
}
