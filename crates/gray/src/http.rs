//! The HTTP adapter (feature `http`): [`HeaderLookup`] for `http::HeaderMap`, and a tower layer
//! that decides once per request, applies a fallback policy, logs the decision and puts it in the
//! request's extensions, so any tower or axum service can route by gray rules.
//!
//! ```
//! use std::sync::Arc;
//! use gray::http::{RouteLayer, RoutePolicy, Routed};
//! # fn store() -> gray::Store {
//! #     let dir = tempfile::tempdir().unwrap();
//! #     std::fs::write(dir.path().join("base.toml"), "[gray.default]\nbilling = 'v1'\n").unwrap();
//! #     let options = gray::LoadOptions::new(dir.path()).with_routes("billing", &["v1", "v2"]);
//! #     gray::Store::open(&options).unwrap()
//! # }
//!
//! let layer = RouteLayer::new(Arc::new(store()), RoutePolicy::new("billing", &["v1", "v2"], "v1"));
//! let request = http::Request::builder().uri("/api/invoices").body(()).unwrap();
//! let routed: Routed = layer.route(&request);
//! assert_eq!(routed.route, "v1");
//! ```

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderMap, Request};
use tower_layer::Layer;
use tower_service::Service;

use crate::rules::{Decision, HeaderLookup, OwnedDecision, Reason, RequestView};
use crate::store::Store;

/// `http::HeaderMap` matches names case-insensitively by construction; values that are not
/// visible ASCII read as absent.
impl HeaderLookup for HeaderMap {
    fn header(&self, lowercase_name: &str) -> Option<&str> {
        self.get(lowercase_name)
            .and_then(|value| value.to_str().ok())
    }
}

/// What a service can serve, and what it serves when gray cannot decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutePolicy {
    /// The routed dimension (`billing`).
    pub dimension: String,
    /// The routes this service can serve (`v1`, `v2`); a decision naming another falls back.
    pub routes: Vec<String>,
    /// The route used when the decision is an error (no default route, unknown dimension) or
    /// names a route outside `routes`.
    pub fallback: String,
}

impl RoutePolicy {
    /// A policy for `dimension` serving `routes`, falling back to `fallback`.
    pub fn new(dimension: &str, routes: &[&str], fallback: &str) -> RoutePolicy {
        RoutePolicy {
            dimension: dimension.to_owned(),
            routes: routes.iter().map(|route| (*route).to_owned()).collect(),
            fallback: fallback.to_owned(),
        }
    }

    /// The route that serves a request given gray's decision, and whether it is the fallback.
    pub fn choose<'a>(&'a self, decision: &Decision<'a>) -> (&'a str, bool) {
        match decision.route {
            Some(route) if self.routes.iter().any(|r| r == route) => (route, false),
            _ => (&self.fallback, true),
        }
    }
}

/// The outcome of routing one request; the layer puts it in the request's extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routed {
    /// The route that serves the request, after the fallback policy.
    pub route: String,
    /// Whether `route` is the policy's fallback rather than gray's decision.
    pub fell_back: bool,
    /// What gray decided.
    pub decision: OwnedDecision,
    /// The generation of the snapshot that decided.
    pub generation: u64,
}

/// Called with every routing outcome, e.g. to count decisions in a metrics registry.
pub type DecisionObserver = Arc<dyn Fn(&Routed) + Send + Sync>;

/// A tower layer that routes every request by gray rules; see the module docs.
#[derive(Clone)]
pub struct RouteLayer {
    store: Arc<Store>,
    policy: Arc<RoutePolicy>,
    observer: Option<DecisionObserver>,
}

impl RouteLayer {
    /// Routes by the snapshot `store` serves at each request, under `policy`.
    pub fn new(store: Arc<Store>, policy: RoutePolicy) -> RouteLayer {
        RouteLayer {
            store,
            policy: Arc::new(policy),
            observer: None,
        }
    }

    /// The same layer, also calling `observer` with every outcome.
    pub fn with_observer(self, observer: DecisionObserver) -> RouteLayer {
        RouteLayer {
            observer: Some(observer),
            ..self
        }
    }

    /// Decides for one request: reads the snapshot in force, decides, applies the fallback
    /// policy, logs the decision (target `gray`) and tells the observer.
    pub fn route<B>(&self, request: &Request<B>) -> Routed {
        let snapshot = self.store.guard();
        let path = request.uri().path();
        let decision = snapshot.decide(
            &self.policy.dimension,
            &RequestView {
                path,
                headers: request.headers(),
            },
        );
        let (route, fell_back) = self.policy.choose(&decision);
        log(&decision, route, path, snapshot.generation());
        let routed = Routed {
            route: route.to_owned(),
            fell_back,
            decision: decision.to_owned_decision(),
            generation: snapshot.generation(),
        };
        if let Some(observer) = &self.observer {
            observer(&routed);
        }
        routed
    }
}

impl fmt::Debug for RouteLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteLayer")
            .field("policy", &self.policy)
            .field("observer", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

/// One log event per decision; a failed decision (reason `ERROR`) is a warning.
fn log(decision: &Decision<'_>, route: &str, path: &str, generation: u64) {
    let rule = decision.rule.unwrap_or("default");
    if decision.reason == Reason::Error {
        tracing::warn!(
            target: "gray",
            rule,
            route,
            reason = decision.reason.as_str(),
            detail = decision.detail.unwrap_or(""),
            path,
            generation,
            "gray decision failed; using the fallback route"
        );
    } else {
        tracing::info!(
            target: "gray",
            rule,
            route,
            reason = decision.reason.as_str(),
            bucket = decision.bucket,
            detail = decision.detail,
            path,
            generation,
            "gray decision"
        );
    }
}

impl<S> Layer<S> for RouteLayer {
    type Service = RouteService<S>;

    fn layer(&self, inner: S) -> RouteService<S> {
        RouteService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`RouteLayer`] wraps around another: it adds a [`Routed`] to each request's
/// extensions, then calls the inner service.
#[derive(Clone, Debug)]
pub struct RouteService<S> {
    inner: S,
    layer: RouteLayer,
}

impl<S, B> Service<Request<B>> for RouteService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> S::Future {
        let routed = self.layer.route(&request);
        request.extensions_mut().insert(routed);
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn header_maps_are_looked_up_case_insensitively() {
        let mut map = HeaderMap::new();
        map.insert("X-Canary", HeaderValue::from_static("v2"));
        assert_eq!(map.header("x-canary"), Some("v2"));
        assert_eq!(map.header("x-user-id"), None);
    }

    fn decision(route: Option<&'static str>, reason: Reason) -> Decision<'static> {
        Decision {
            route,
            rule: None,
            reason,
            bucket: None,
            detail: None,
        }
    }

    #[test]
    fn errors_and_unservable_routes_fall_back() {
        let policy = RoutePolicy::new("billing", &["v1"], "v1");
        assert_eq!(policy.choose(&decision(None, Reason::Error)), ("v1", true));
        assert_eq!(
            policy.choose(&decision(Some("v2"), Reason::TargetingMatch)),
            ("v1", true)
        );
        assert_eq!(
            policy.choose(&decision(Some("v1"), Reason::Default)),
            ("v1", false)
        );
    }
}
