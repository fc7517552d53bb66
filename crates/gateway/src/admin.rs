//! Admin endpoints: config reload, merged config with provenance, version, metrics and health.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, FromRef, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{ApiError, ConfigLocation};
use crate::reload::{self, AdminReloadError, LiveConfig};
use crate::state::AppState;
use crate::version;

/// Refuses admin requests without the admin token (401), before any handler runs; failures
/// past the throttle's limits answer 429 with `Retry-After` instead.
pub(crate) async fn require_admin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    authenticate(&state, &request, |headers| state.admin_token.check(headers))?;
    Ok(next.run(request).await)
}

/// `/metrics` takes the metrics token or the admin token, or none with `metrics.public`.
pub(crate) async fn require_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if !state.settings.metrics.public {
        authenticate(&state, &request, |headers| {
            if state.metrics_token.matches(headers) {
                Ok(())
            } else {
                state.admin_token.check(headers)
            }
        })?;
    }
    Ok(next.run(request).await)
}

/// Runs `check`; a failure is recorded against the client's address and answers 401, or 429
/// with `Retry-After` once the address, or all addresses together, failed too often
/// ([`AuthThrottle`](crate::admin_auth::AuthThrottle)). The token is checked first, so the
/// right one always passes, however many wrong ones arrive from its address or anywhere else.
/// Requests without an address (in-process tests) are not throttled.
fn authenticate(
    state: &AppState,
    request: &Request,
    check: impl FnOnce(&axum::http::HeaderMap) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let Err(refused) = check(request.headers()) else {
        return Ok(());
    };
    let Some(client) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
    else {
        return Err(refused);
    };
    match state.auth_throttle.fail(client, Instant::now()) {
        Ok(()) => Err(refused),
        Err(throttled) => Err(ApiError::TooManyRequests {
            message: throttled.message().to_owned(),
            retry_after_secs: throttled.retry_after_secs,
        }),
    }
}

/// The answer of a successful reload.
#[derive(Debug, Serialize)]
pub(crate) struct Reloaded {
    /// The generation now serving.
    pub generation: u64,
    /// The new snapshot's content hash.
    pub content_hash: String,
    /// Settings that changed but apply only after a restart (`server.listen`, …).
    pub restart_required: Vec<String>,
}

/// `POST /config/reload`: reads every layer again and swaps the result in; on any error the
/// previous config keeps serving and the answer is 422 naming the file, key and line. The reload
/// runs on its own thread with a deadline (`server.reload_timeout_ms`, then 503
/// `reload_timeout`); one asked for while another runs answers 409 `reload_in_progress`. The
/// config directory watcher records its reloads the same way ([`reload::record`]).
pub(crate) async fn reload(State(state): State<AppState>) -> Result<Json<Reloaded>, ApiError> {
    let deadline = state.settings.server.reload_timeout();
    match reload::admin_reload(&LiveConfig::from_ref(&state), deadline).await {
        Ok(generation) => {
            let snapshot = state.config.current();
            let restart_required = snapshot
                .deserialize::<crate::settings::Settings>()
                .map(|loaded| crate::settings::restart_required(&state.settings, &loaded))
                .unwrap_or_default();
            if !restart_required.is_empty() {
                tracing::warn!(
                    keys = restart_required.join(", "),
                    "config reloaded; these settings take effect only after a restart"
                );
            }
            Ok(Json(Reloaded {
                generation,
                content_hash: snapshot.content_hash().to_owned(),
                restart_required,
            }))
        }
        Err(error) => Err(reload_error(error)),
    }
}

/// The answer for a reload that did not swap a config in.
fn reload_error(error: AdminReloadError) -> ApiError {
    match error {
        AdminReloadError::InProgress => ApiError::ReloadInProgress,
        AdminReloadError::TimedOut(deadline) => ApiError::ReloadTimedOut {
            timeout_ms: u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
        },
        AdminReloadError::Unavailable => ApiError::Unavailable {
            code: "reload_unavailable",
            message: "earlier config reloads are still stuck; reloads are refused until they end"
                .to_owned(),
            retry_after_secs: 10,
        },
        AdminReloadError::Invalid(error) => invalid_config(&error),
        AdminReloadError::Failed(detail) => ApiError::internal(detail),
    }
}

/// The 422 answer for a config error, with its file, key and line.
pub(crate) fn invalid_config(error: &gray::ConfigError) -> ApiError {
    ApiError::InvalidConfig {
        message: error.to_string(),
        location: ConfigLocation {
            file: error.file(),
            key: error.key().map(str::to_owned),
            line: error.line(),
        },
    }
}

/// The answer of `GET /debug/config`.
#[derive(Debug, Serialize)]
pub(crate) struct ConfigReport {
    /// The generation serving.
    pub generation: u64,
    /// Its content hash.
    pub content_hash: String,
    /// Whether gray routing is on.
    pub gray_enabled: bool,
    /// The files and variables it was built from, lowest precedence first.
    pub sources: Vec<gray::SourceInfo>,
    /// Every leaf key with its value (secrets redacted) and provenance.
    pub entries: Vec<ConfigEntry>,
    /// This instance's labels in force (`gray.labels`, then `INSTANCE_LABELS`), values redacted
    /// by the same rule as the entries.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Every gray rule, in evaluation order: whether it is enabled, and why it can never match
    /// on this instance (a label or environment condition fails), so a rollout can tell an
    /// instance that would route nothing by its rule.
    pub rules: Vec<RuleReport>,
}

/// One gray rule as this instance holds it.
#[derive(Debug, Serialize)]
pub(crate) struct RuleReport {
    /// The rule's name.
    pub name: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Why it can never match on this instance; `None` when it can.
    pub inactive_because: Option<String>,
}

/// One leaf key of the merged config.
#[derive(Debug, Serialize)]
pub(crate) struct ConfigEntry {
    /// The dotted key.
    pub key: String,
    /// The value in force, with secrets hidden by [`gray::redact_value`].
    pub value: serde_json::Value,
    /// Where the value in force was set: `file:line` or `env:NAME`.
    pub origin: String,
    /// Its layer.
    pub layer: gray::Layer,
    /// Lower layers that set the key too and were overridden, lowest first.
    pub overridden: Vec<String>,
}

/// The merged config of `snapshot` with provenance, secrets redacted by gray's one rule
/// ([`gray::redact_value`]), which `gateway config show` and `gateway gray explain` use too.
pub(crate) fn config_report(snapshot: &gray::Snapshot) -> ConfigReport {
    let entries = snapshot
        .entries()
        .into_iter()
        .map(|entry| {
            let (winner, lower) = match entry.origins.split_last() {
                Some((winner, lower)) => (Some(winner), lower),
                None => (None, &[][..]),
            };
            let value = toml_to_json(&gray::redact_value(&entry.key, &entry.value));
            ConfigEntry {
                origin: winner.map(ToString::to_string).unwrap_or_default(),
                layer: winner.map_or(gray::Layer::Base, |o| o.layer),
                overridden: lower.iter().map(ToString::to_string).collect(),
                key: entry.key,
                value,
            }
        })
        .collect();
    ConfigReport {
        generation: snapshot.generation(),
        content_hash: snapshot.content_hash().to_owned(),
        gray_enabled: snapshot.gray_enabled(),
        sources: snapshot.sources().to_vec(),
        entries,
        labels: snapshot
            .labels()
            .map(|(name, value, _)| {
                let shown = gray::redact_str(&format!("gray.labels.{name}"), value);
                (name.to_owned(), shown.into_owned())
            })
            .collect(),
        rules: snapshot
            .rules()
            .iter()
            .map(|rule| RuleReport {
                name: rule.name.clone(),
                enabled: rule.enabled,
                inactive_because: rule.inactive_because.clone(),
            })
            .collect(),
    }
}

/// `GET /debug/config`.
pub(crate) async fn debug_config(State(state): State<AppState>) -> Json<ConfigReport> {
    Json(config_report(&state.config.current()))
}

/// `GET /debug/version`.
pub(crate) async fn debug_version() -> Json<version::VersionReport> {
    Json(version::report())
}

/// The content type of the OpenMetrics text format, which Prometheus scrapes natively.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let text = state
        .metrics
        .render()
        .map_err(|err| ApiError::internal(format!("cannot render metrics: {err}")))?;
    let mut response = text.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS));
    Ok(response)
}

/// The answer of `GET /healthz` and `GET /readyz`: a status and nothing else, since they
/// answer without a token.
#[derive(Debug, Serialize)]
pub(crate) struct Health {
    /// `ok`, or for `/readyz` `unavailable`, or `degraded` (still serving, from the last good
    /// config, while etcd is unreachable).
    pub(crate) status: &'static str,
}

/// `GET /healthz`: liveness; answers while the process serves requests.
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// `GET /readyz`: readiness; 200 when a config is loaded and the database commits a write (on
/// the probe's own database thread, within a deadline), otherwise 503 with only `"status":
/// "unavailable"` (the reason is logged). While etcd is unreachable the answer is 200
/// `"status": "degraded"`: the last good config keeps serving.
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    match crate::storage::check_ready(&state.probe_storage, &state.invoices).await {
        Ok(()) if state.metrics.config_source_up.get() == 0 => {
            Json(Health { status: "degraded" }).into_response()
        }
        Ok(()) => Json(Health { status: "ok" }).into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                }),
            )
                .into_response()
        }
    }
}

/// A TOML value as JSON (datetimes become their TOML text).
pub(crate) fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Value::from(*f),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(items) => items.iter().map(toml_to_json).collect(),
        toml::Value::Table(table) => table
            .iter()
            .map(|(k, v)| (k.clone(), toml_to_json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_values_convert_to_json() {
        let value: toml::Table = toml::from_str("a = 1\nb = [true, 'x']\nc = { d = 1.5 }").unwrap();
        assert_eq!(
            toml_to_json(&toml::Value::Table(value)),
            serde_json::json!({"a": 1, "b": [true, "x"], "c": {"d": 1.5}})
        );
    }
}
