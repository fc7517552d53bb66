//! The two listeners' routers: the API's (invoices and health probes) and the admin's (reload,
//! debug, metrics and health probes), with the layers both share (request metrics, JSON 404/405
//! fallbacks, tracing, timeout and body limits).

use std::time::{Duration, Instant};

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

use crate::error::{self, ApiError};
use crate::metrics::{RequestLabels, VersionLabels};
use crate::routing::{self, ServedBy};
use crate::state::AppState;
use crate::{admin, invoices};

/// The API listener's service: the invoice API and the health probes, with body limit,
/// timeout, metrics and tracing. Admin endpoints are not here but on [`admin_app`]'s listener.
pub fn app(state: AppState) -> Router {
    // Requests that name no version are routed by gray rules, decided once per request.
    let routed = Router::new()
        .route("/api/invoices", post(invoices::create_routed))
        .route("/api/invoices/{id}", get(invoices::get_routed))
        .route_layer(routing::route_layer(
            std::sync::Arc::clone(&state.config),
            std::sync::Arc::clone(&state.metrics),
        ));
    let api = Router::new()
        .route("/api/v1/invoices", post(invoices::create_v1))
        .route("/api/v2/invoices", post(invoices::create_v2))
        .route("/api/v1/invoices/{id}", get(invoices::get_v1))
        .route("/api/v2/invoices/{id}", get(invoices::get_v2))
        .merge(routed)
        .merge(probes());
    let timeout = state.settings.server.request_timeout();
    finish(api, state, timeout)
}

/// The admin listener's service (`admin.listen`, loopback by default): config reload, debug
/// config and version with the admin token; `/metrics` with the metrics token, the admin token,
/// or none when `metrics.public`; the health probes without a token.
pub fn admin_app(state: AppState) -> Router {
    let admin = Router::new()
        .route("/config/reload", post(admin::reload))
        .route("/debug/config", get(admin::debug_config))
        .route("/debug/version", get(admin::debug_version))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            admin::require_admin,
        ));
    let metrics = Router::new()
        .route("/metrics", get(admin::metrics))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            admin::require_metrics,
        ));
    // A reload answers by its own deadline (503 `reload_timeout`, recorded and counted), so the
    // admin listener's request timeout must not cut it short.
    let server = &state.settings.server;
    let timeout = server
        .request_timeout()
        .max(server.reload_timeout() + std::time::Duration::from_secs(1));
    finish(admin.merge(metrics).merge(probes()), state, timeout)
}

/// `/healthz` (liveness) and `/readyz` (readiness), on both listeners, without a token.
fn probes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(admin::healthz))
        .route("/readyz", get(admin::readyz))
}

/// The layers every listener has: request metrics, JSON 404/405 fallbacks, tracing, `timeout`
/// and body limit.
fn finish(routes: Router<AppState>, state: AppState, timeout: std::time::Duration) -> Router {
    let body_limit = state.settings.server.body_limit_bytes;
    routes
        .route_layer(middleware::from_fn_with_state(state.clone(), track))
        .fallback(unmatched)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(HandleErrorLayer::new(timeout_error))
                .timeout(timeout)
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .layer(middleware::from_fn_with_state(body_limit, refuse_oversized))
        .with_state(state)
}

/// The longest request target (path and query) accepted, in bytes.
pub(crate) const MAX_URI_BYTES: usize = 8 * 1024;
/// The largest header block accepted (names and values), in bytes.
pub(crate) const MAX_HEADER_BYTES: usize = 32 * 1024;
/// The most header fields accepted. hyper parses up to `server::PARSED_HEADERS` itself, so
/// requests between the two limits still get this JSON answer rather than hyper's empty one.
pub(crate) const MAX_HEADERS: usize = 100;

/// Refuses oversized requests with the JSON errors before anything reads the body: a request
/// target over [`MAX_URI_BYTES`] (414), a header block over [`MAX_HEADER_BYTES`] or
/// [`MAX_HEADERS`] fields (431), and a declared `Content-Length` over the body limit (413, so no
/// `100 Continue` invites the client to send the body).
async fn refuse_oversized(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::UriTooLong {
            limit: MAX_URI_BYTES,
        }
        .into_response();
    }
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge {
            message: format!(
                "request headers exceed {MAX_HEADERS} fields or {MAX_HEADER_BYTES} bytes"
            ),
        }
        .into_response();
    }
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok());
    match declared {
        Some(length) if length > limit as u64 => ApiError::PayloadTooLarge.into_response(),
        _ => next.run(request).await,
    }
}

/// A known path with another method: a JSON 405.
async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Counts and times every matched request by route, billing version and status.
async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    record(&state, route, &response, started.elapsed());
    response
}

fn record(state: &AppState, route: String, response: &Response, elapsed: Duration) {
    let billing_version = response
        .extensions()
        .get::<ServedBy>()
        .map_or("none", |served| served.0.as_str());
    state
        .metrics
        .http_requests
        .get_or_create(&RequestLabels {
            route,
            billing_version: billing_version.to_owned(),
            status: response.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .http_request_duration
        .get_or_create(&VersionLabels {
            billing_version: billing_version.to_owned(),
        })
        .observe(elapsed.as_secs_f64());
}

/// Unknown paths: a JSON 404, counted under route `unmatched`.
async fn unmatched(State(state): State<AppState>) -> Response {
    let response = error::not_found().await.into_response();
    record(&state, "unmatched".to_owned(), &response, Duration::ZERO);
    response
}

/// Turns a timeout (or another middleware failure) into a JSON error.
async fn timeout_error(error: tower::BoxError) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::Timeout
    } else {
        ApiError::internal(format!("middleware failed: {error}"))
    }
}
