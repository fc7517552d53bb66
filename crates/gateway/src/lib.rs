//! The graywork gateway: an HTTP service that routes billing v1/v2 per request by gray rules.
//!
//! [`app`] builds the whole service as an axum [`Router`] from an [`AppState`]; `main.rs` only
//! parses the command line, sets up logging and serves it. Tests drive [`app`] in process.
//!
//! # Features
//!
//! | Feature | Default | What it enables |
//! |---------|---------|-----------------|
//! | `v1`    | yes     | billing contract v1: `/api/v1/invoices`, and `v1` as a gray route |
//! | `v2`    | yes     | billing contract v2: `/api/v2/invoices`, and `v2` as a gray route |
//!
//! Routes to a version the build lacks answer 404 `version_not_built`, and a gray rule routing
//! to it is a config load error.

pub mod admin;
pub mod admin_auth;
pub mod cli;
pub mod commands;
pub mod error;
pub mod invoices;
pub mod metrics;
pub mod reload;
pub mod routing;
pub mod server;
pub mod settings;
pub mod state;
pub mod telemetry;
pub mod version;

use std::time::{Duration, Instant};

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

pub use crate::error::ApiError;
pub use crate::state::{AppState, StateParts};

use crate::metrics::{RequestLabels, VersionLabels};
use crate::routing::BillingVersion;

/// Marks a response with the billing version that served it; read by the metrics middleware.
#[derive(Debug, Clone, Copy)]
pub struct ServedBy(pub BillingVersion);

/// The whole service: invoice API, admin endpoints, body limit, timeout, metrics and tracing.
pub fn app(state: AppState) -> Router {
    let admin = Router::new()
        .route("/config/reload", post(admin::reload))
        .route("/debug/config", get(admin::debug_config))
        .route("/debug/version", get(admin::debug_version))
        .route("/metrics", get(admin::metrics))
        .route("/healthz", get(admin::healthz))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            admin::require_admin,
        ));
    let timeout = state.settings.server.request_timeout();
    let body_limit = state.settings.server.body_limit_bytes;
    let api = Router::new()
        .route("/api/v1/invoices", post(invoices::create_v1))
        .route("/api/v2/invoices", post(invoices::create_v2))
        .route("/api/invoices", post(invoices::create_routed))
        .route("/api/v1/invoices/{id}", get(invoices::get_v1))
        .route("/api/v2/invoices/{id}", get(invoices::get_v2))
        .route("/api/invoices/{id}", get(invoices::get_routed));
    Router::new()
        .merge(api)
        .merge(admin)
        .route_layer(middleware::from_fn_with_state(state.clone(), track))
        .fallback(unmatched)
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(HandleErrorLayer::new(timeout_error))
                .timeout(timeout)
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .with_state(state)
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
