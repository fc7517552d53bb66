//! Admin endpoints in process: auth, reload, debug config and version, metrics, health.

use axum::body::Body;
use axum::http::{Method, StatusCode};

use crate::support::{ADMIN_TOKEN, TestApp, admin, base_toml, request};

const ADMIN_ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/config/reload"),
    ("GET", "/debug/config"),
    ("GET", "/debug/version"),
    ("GET", "/metrics"),
];

#[tokio::test]
async fn every_admin_endpoint_needs_the_admin_token() {
    let app = TestApp::new();
    for (method, path) in ADMIN_ENDPOINTS {
        let method: Method = method.parse().unwrap();
        for bearer in [
            None,
            Some("wrong-token"),
            Some(&crate::support::token(&["invoices:read"])[..]),
        ] {
            let reply = app
                .send(
                    request(method.clone(), path, bearer)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} {bearer:?}"
            );
            assert_eq!(reply.error_code(), "unauthorized");
            assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        }
        let reply = app.send(admin(method.clone(), path)).await;
        assert!(
            reply.status.is_success(),
            "{method} {path}: {}",
            reply.status
        );
    }
}

#[tokio::test]
async fn health_probes_answer_without_a_token_and_reveal_only_status() {
    let app = TestApp::new();
    for path in ["/healthz", "/readyz"] {
        for router in [app.router(), app.admin_router()] {
            let reply = crate::support::send(
                router,
                request(Method::GET, path, None)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            assert_eq!(reply.json(), serde_json::json!({"status": "ok"}), "{path}");
        }
    }
}

#[tokio::test]
async fn admin_endpoints_are_absent_from_the_api_listener() {
    let app = TestApp::new();
    for (method, path) in ADMIN_ENDPOINTS {
        let method: Method = method.parse().unwrap();
        let reply = crate::support::send(app.router(), admin(method.clone(), path)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(reply.error_code(), "not_found");
    }
}

#[tokio::test]
async fn the_metrics_token_opens_metrics_and_nothing_else() {
    use crate::support::METRICS_TOKEN;
    let app = TestApp::new();
    let metrics = app
        .send(
            request(Method::GET, "/metrics", Some(METRICS_TOKEN))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(metrics.status, StatusCode::OK);
    for (method, path) in &ADMIN_ENDPOINTS[..3] {
        let method: Method = method.parse().unwrap();
        let reply = app
            .send(
                request(method.clone(), path, Some(METRICS_TOKEN))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
}

#[tokio::test]
async fn reload_returns_the_new_generation_and_counts_it() {
    let app = TestApp::new();
    let reply = app.send(admin(Method::POST, "/config/reload")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["generation"], 2);
    assert_eq!(reply.json()["content_hash"].as_str().unwrap().len(), 64);
    let reply = app.send(admin(Method::POST, "/config/reload")).await;
    assert_eq!(reply.json()["generation"], 3);
    let metrics = app.send(admin(Method::GET, "/metrics")).await.text();
    assert!(
        metrics.contains("config_reloads_total{result=\"success\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("config_generation 3"), "{metrics}");
}

/// The broken rule routes to a version this build has, so the percentage is what fails.
#[cfg(any(feature = "v1", feature = "v2"))]
#[tokio::test]
async fn an_invalid_config_is_422_with_file_key_and_line_and_the_old_config_keeps_serving() {
    let app = TestApp::new();
    app.write(
        "gray/canary.toml",
        &format!(
            "[[gray.rules]]\nname = \"canary-header\"\nroute = {{ billing = \"{}\" }}\nheaders = {{ \"X-Canary\" = \"v2\" }}\npercent = 250\n",
            gateway::BillingVersion::fallback()
        ),
    );
    let reply = app.send(admin(Method::POST, "/config/reload")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = &reply.json()["error"];
    assert_eq!(error["code"], "invalid_config");
    assert_eq!(error["file"], "gray/canary.toml");
    assert_eq!(error["line"], 5);
    assert_eq!(error["key"], "gray.rules[0].percent");

    app.write("base.toml", "[server\nlisten = 1\n");
    let reply = app.send(admin(Method::POST, "/config/reload")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = &reply.json()["error"];
    assert_eq!(error["file"], "base.toml");
    assert_eq!(error["line"], 1);

    let debug = app.send(admin(Method::GET, "/debug/config")).await;
    assert_eq!(debug.json()["generation"], 1);
    let metrics = app.send(admin(Method::GET, "/metrics")).await.text();
    assert!(
        metrics.contains("config_reloads_total{result=\"failure\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("config_generation 1"), "{metrics}");
}

#[tokio::test]
async fn a_route_to_a_version_the_build_lacks_is_a_reload_error() {
    let app = TestApp::new();
    app.write(
        "gray/canary.toml",
        "[[gray.rules]]\nname = \"to-v3\"\nroute = { billing = \"v3\" }\n",
    );
    let reply = app.send(admin(Method::POST, "/config/reload")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["error"]["file"], "gray/canary.toml");
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("v3")
    );
}

#[tokio::test]
async fn debug_config_shows_provenance_and_redacts_secrets() {
    let app = TestApp::new();
    let reply = app.send(admin(Method::GET, "/debug/config")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["generation"], 1);
    assert_eq!(body["gray_enabled"], true);
    let entries = body["entries"].as_array().unwrap();
    let entry = |key: &str| {
        entries
            .iter()
            .find(|e| e["key"] == key)
            .unwrap_or_else(|| panic!("no entry {key} in {entries:?}"))
            .clone()
    };
    assert_eq!(entry("server.body_limit_bytes")["value"], 4096);
    assert_eq!(entry("server.body_limit_bytes")["origin"], "base.toml:4");
    assert_eq!(entry("server.body_limit_bytes")["layer"], "base");
    if crate::support::ANY_VERSION {
        assert_eq!(
            entry("gray.default.billing")["value"],
            gateway::BillingVersion::fallback().as_str()
        );
    }
    // Only secrets are redacted: the gateway's `*_env` keys name variables, and a key id is
    // no secret; another reader's password is.
    assert_eq!(entry("payments.db_password")["value"], "<redacted>");
    assert_eq!(
        entry("admin.token_env")["value"],
        "GATEWAY_TEST_ADMIN_TOKEN"
    );
    assert_eq!(entry("auth.secret_env")["value"], "GATEWAY_TEST_SECRET");
    assert_eq!(entry("auth.key_id")["value"], "test-key");
    let text = reply.text();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains(ADMIN_TOKEN), "{text}");
    assert_eq!(
        text.contains("gray/canary.toml"),
        cfg!(feature = "v2"),
        "{text}"
    );
}

#[tokio::test]
async fn debug_config_names_the_layer_that_won_and_the_ones_overridden() {
    let app = TestApp::with_files(&[
        ("base.toml", &base_toml()),
        ("gray/slow.toml", "[server]\nrequest_timeout_ms = 9000\n"),
    ]);
    let body = app.send(admin(Method::GET, "/debug/config")).await.json();
    let entry = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "server.request_timeout_ms")
        .unwrap()
        .clone();
    assert_eq!(entry["value"], 9000);
    assert_eq!(entry["origin"], "gray/slow.toml:2");
    assert_eq!(entry["layer"], "gray");
    assert_eq!(entry["overridden"], serde_json::json!(["base.toml:5"]));
}

#[tokio::test]
async fn debug_version_names_crate_contracts_rustc_features_and_revision() {
    let app = TestApp::new();
    let body = app.send(admin(Method::GET, "/debug/version")).await.json();
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        body["rustc"].as_str().unwrap().starts_with("rustc "),
        "{body}"
    );
    assert!(!body["git_revision"].as_str().unwrap().is_empty());
    let features: Vec<&str> = body["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(features, gateway::FEATURES);
    let contracts = body["contracts"].as_array().unwrap();
    assert!(
        contracts
            .iter()
            .any(|c| c["contract"] == "auth" && c["version"] == shared::auth::v1::VERSION)
    );
}

#[tokio::test]
async fn metrics_are_openmetrics_text_with_build_info() {
    let app = TestApp::new();
    let reply = app.send(admin(Method::GET, "/metrics")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = reply.text();
    let features = gateway::FEATURES.join(",");
    assert!(text.contains(&format!("features=\"{features}\"")), "{text}");
    assert!(text.contains("build_info{"), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[tokio::test]
async fn admin_requests_are_counted_under_their_route() {
    let app = TestApp::new();
    app.send(admin(Method::GET, "/debug/version")).await;
    app.send(
        request(Method::GET, "/debug/version", None)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let text = app.send(admin(Method::GET, "/metrics")).await.text();
    assert!(
        text.contains(
            "http_requests_total{route=\"/debug/version\",billing_version=\"none\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "http_requests_total{route=\"/debug/version\",billing_version=\"none\",status=\"401\"} 1"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_paths_are_a_json_404() {
    let app = TestApp::new();
    let reply = app.send(admin(Method::GET, "/nope")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error_code(), "not_found");
}

#[test]
fn a_config_directory_that_cannot_be_watched_is_an_error_naming_it() {
    let app = TestApp::new();
    let missing = app.dir.path().join("gone");
    let mut state_dir = app.state.load_options().clone();
    state_dir.dir = missing.clone();
    let state = gateway::AppState::new(gateway::StateParts {
        config: std::sync::Arc::clone(app.state.config()),
        load_options: state_dir,
        settings: app.state.settings().clone(),
        admin_token: gateway::AdminToken::new(ADMIN_TOKEN),
        metrics_token: gateway::AdminToken::disabled(),
        keyring: crate::support::keyring(),
        invoices: std::sync::Arc::clone(app.state.invoices()),
        default_recipient: app.state.default_recipient().clone(),
    });
    let error = gateway::watch_config(&state).unwrap_err();
    assert_eq!(error.code(), "watch");
    assert_eq!(error.file(), Some(missing.display().to_string()));
}

#[test]
fn watched_and_admin_reloads_record_the_same_metrics() {
    use gateway::{Trigger, reload};
    let app = TestApp::new();
    assert_eq!(reload(&app.state, Trigger::Watch).unwrap(), 2);
    assert_eq!(reload(&app.state, Trigger::Admin).unwrap(), 3);
    app.write("gray/broken.toml", "[[gray.rules]\n");
    let error = reload(&app.state, Trigger::Watch).unwrap_err();
    assert_eq!(error.file().as_deref(), Some("gray/broken.toml"));
    assert_eq!(app.state.config().guard().generation(), 3);
    let text = app.state.metrics_text().unwrap();
    for expected in [
        "config_reloads_total{result=\"success\"} 2",
        "config_reloads_total{result=\"failure\"} 1",
        "config_generation 3",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn the_generation_gauge_never_goes_back_when_reloads_finish_out_of_order() {
    use gateway::{Trigger, record_reload as record};
    let app = TestApp::new();
    record(&app.state, Trigger::Watch, Ok(5));
    record(&app.state, Trigger::Admin, Ok(4));
    assert_eq!(app.state.config_generation_gauge(), 5);
}

/// Throttling by client address, with the address the server would attach to the request.
mod throttle {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    use std::time::Instant;

    use axum::extract::ConnectInfo;

    use super::*;
    use crate::support::{METRICS_TOKEN, Reply, send};

    async fn from(app: &TestApp, client: IpAddr, path: &str, token: &str) -> Reply {
        let mut request = request(Method::GET, path, Some(token))
            .body(Body::empty())
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(client, 40_000)));
        send(app.admin_router(), request).await
    }

    fn retry_after(reply: &Reply) -> u64 {
        reply
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap()
    }

    #[tokio::test]
    async fn a_wrong_token_flood_from_the_admins_address_never_throttles_the_right_token() {
        let app = TestApp::new();
        let local = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let (mut unauthorized, mut throttled) = (0, 0);
        for round in 0..100 {
            let wrong = from(&app, local, "/debug/version", "not-the-admin-token").await;
            match wrong.status {
                StatusCode::UNAUTHORIZED => unauthorized += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    throttled += 1;
                    assert_eq!(wrong.error_code(), "too_many_requests");
                    assert!((1..=60).contains(&retry_after(&wrong)));
                }
                other => panic!("round {round}: {other}"),
            }
            if round % 10 == 9 {
                let right = from(&app, local, "/debug/version", ADMIN_TOKEN).await;
                assert_eq!(right.status, StatusCode::OK, "round {round}");
                let scrape = from(&app, local, "/metrics", METRICS_TOKEN).await;
                assert_eq!(scrape.status, StatusCode::OK, "round {round}");
            }
        }
        // Ten free failures; after that the address waits a second, then longer, so only a
        // machine many minutes slow could see more than a few more.
        assert!((10..20).contains(&unauthorized), "{unauthorized}");
        assert_eq!(unauthorized + throttled, 100);
    }

    #[tokio::test]
    async fn failures_from_rotating_addresses_are_limited_in_total() {
        let app = TestApp::new();
        let started = Instant::now();
        let mut unauthorized = 0;
        let mut throttled = 0;
        for n in 0..300u32 {
            let client = IpAddr::V4(Ipv4Addr::from(0x7f00_0100 + n));
            let wrong = from(&app, client, "/debug/config", "not-the-admin-token").await;
            match wrong.status {
                StatusCode::UNAUTHORIZED => unauthorized += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    throttled += 1;
                    assert!(retry_after(&wrong) >= 1);
                }
                other => panic!("{client}: {other}"),
            }
            // The right token from any of them still passes.
            if n % 50 == 49 {
                let right = from(&app, client, "/debug/version", ADMIN_TOKEN).await;
                assert_eq!(right.status, StatusCode::OK, "{client}");
            }
        }
        // A burst of 20, then one a second.
        let refilled = started.elapsed().as_secs() + 1;
        assert!(
            unauthorized <= 20 + refilled,
            "{unauthorized} failures counted in {refilled} s"
        );
        assert_eq!(unauthorized + throttled, 300);
    }
}
