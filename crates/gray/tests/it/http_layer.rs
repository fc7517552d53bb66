//! The `http` feature: the tower layer around a tiny service.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gray::Reason;
use gray::http::{RouteLayer, RoutePolicy, Routed};
use http::{Request, Response};
use tower::{ServiceBuilder, ServiceExt as _, service_fn};

use crate::{config_dir, options};

const CANARY: &str = "[[gray.rules]]\nname = 'canary'\nroute = { billing = 'v2' }\nheaders = { 'X-Canary' = 'v2' }\n";

/// A service that answers with the route the layer put in the request's extensions.
async fn answer(request: Request<()>) -> Result<Response<String>, Infallible> {
    let routed = request
        .extensions()
        .get::<Routed>()
        .expect("the layer routes every request");
    Ok(Response::new(format!(
        "{} {} {}",
        routed.route,
        routed.decision.reason.as_str(),
        routed.fell_back
    )))
}

fn route_layer(base: &str, routes: &[&str]) -> (tempfile::TempDir, RouteLayer) {
    let dir = config_dir(&[("base.toml", base), ("gray/canary.toml", CANARY)]);
    let store = gray::Store::open(&options(dir.path())).unwrap();
    let layer = RouteLayer::new(Arc::new(store), RoutePolicy::new("billing", routes, "v1"));
    (dir, layer)
}

async fn call(layer: &RouteLayer, canary: Option<&str>) -> String {
    let service = ServiceBuilder::new()
        .layer(layer.clone())
        .service(service_fn(answer));
    let mut request = Request::builder().uri("/api/invoices");
    if let Some(value) = canary {
        request = request.header("X-Canary", value);
    }
    let response = service.oneshot(request.body(()).unwrap()).await.unwrap();
    response.into_body()
}

#[tokio::test]
async fn the_layer_puts_the_decision_in_the_extensions() {
    let (_dir, layer) = route_layer("[gray.default]\nbilling = 'v1'\n", &["v1", "v2"]);
    assert_eq!(call(&layer, Some("v2")).await, "v2 TARGETING_MATCH false");
    assert_eq!(call(&layer, None).await, "v1 DEFAULT false");
}

#[tokio::test]
async fn undecidable_or_unservable_routes_take_the_fallback() {
    // No default route: gray cannot decide, the policy's fallback serves.
    let (_dir, layer) = route_layer("", &["v1", "v2"]);
    assert_eq!(call(&layer, None).await, "v1 ERROR true");
    // A service that only serves v1 never gets v2, whatever the rules say.
    let (_dir, layer) = route_layer("[gray.default]\nbilling = 'v1'\n", &["v1"]);
    assert_eq!(call(&layer, Some("v2")).await, "v1 TARGETING_MATCH true");
}

#[tokio::test]
async fn the_observer_sees_every_decision_once() {
    let (_dir, layer) = route_layer("[gray.default]\nbilling = 'v1'\n", &["v1", "v2"]);
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let layer = layer.with_observer(Arc::new(move |routed: &Routed| {
        assert_eq!(routed.decision.reason, Reason::TargetingMatch);
        assert_eq!(routed.decision.rule.as_deref(), Some("canary"));
        counter.fetch_add(1, Ordering::Relaxed);
    }));
    for _ in 0..3 {
        call(&layer, Some("v2")).await;
    }
    assert_eq!(seen.load(Ordering::Relaxed), 3);
}
