//! The invoice API in process: creates and reads through v1, v2 and gray routing, auth, bad
//! input, idempotency and the outbox.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{TestApp, admin, post_json, queued, request, token};

fn write_token() -> String {
    token(&["invoices:write", "invoices:read"])
}

fn read_token() -> String {
    token(&["invoices:read"])
}

/// A valid v1 request body.
pub fn v1_body(id: &str) -> Value {
    json!({
        "invoice_id": id,
        "customer": "cust-1",
        "tax_rate": 1900,
        "lines": [{"description": "Widget", "quantity": 2, "unit_price": 500}],
    })
}

/// A valid v2 request body in `currency`, with one line per tax rate.
pub fn v2_body(id: &str, currency: &str, rates: &[u32]) -> Value {
    let lines: Vec<Value> = rates
        .iter()
        .map(|rate| {
            json!({
                "description": "Widget",
                "quantity": 2,
                "unit_price": {"amount": 500, "currency": currency},
                "tax_rate": rate,
            })
        })
        .collect();
    json!({"invoice_id": id, "customer": "cust-1", "currency": currency, "lines": lines})
}

fn get(uri: &str, bearer: Option<&str>) -> axum::http::Request<Body> {
    request(Method::GET, uri, bearer)
        .body(Body::empty())
        .unwrap()
}

fn with_header(
    mut request: axum::http::Request<Body>,
    name: &'static str,
    value: &str,
) -> axum::http::Request<Body> {
    request.headers_mut().insert(name, value.parse().unwrap());
    request
}

#[cfg(feature = "v1")]
mod v1 {
    use super::*;

    #[tokio::test]
    async fn a_v1_create_is_stored_notified_and_readable() {
        let app = TestApp::new();
        let reply = app
            .send(post_json(
                "/api/v1/invoices",
                Some(&write_token()),
                &v1_body("inv-1"),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        assert_eq!(reply.header("x-billing-version"), Some("v1"));
        assert_eq!(reply.header("location"), Some("/api/v1/invoices/inv-1"));
        let created = reply.json();
        assert_eq!(created["id"], "inv-1");
        assert_eq!(created["totals"]["total"], 1190);
        assert_eq!(queued(&app.state).len(), 1);

        let read = app
            .send(get("/api/v1/invoices/inv-1", Some(&read_token())))
            .await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(read.header("x-billing-version"), Some("v1"));
        assert_eq!(read.json(), created);
        assert_eq!(app.state.invoices().count().unwrap(), 1);
    }

    #[tokio::test]
    async fn repeating_a_v1_create_replays_and_a_different_body_conflicts() {
        let app = TestApp::new();
        let first = app
            .send(post_json(
                "/api/v1/invoices",
                Some(&write_token()),
                &v1_body("inv-1"),
            ))
            .await;
        assert_eq!(first.status, StatusCode::CREATED);
        let again = app
            .send(post_json(
                "/api/v1/invoices",
                Some(&write_token()),
                &v1_body("inv-1"),
            ))
            .await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.json(), first.json());
        assert_eq!(
            queued(&app.state).len(),
            1,
            "a replay sends no second notice"
        );

        let mut other = v1_body("inv-1");
        other["customer"] = json!("someone-else");
        let conflict = app
            .send(post_json("/api/v1/invoices", Some(&write_token()), &other))
            .await;
        assert_eq!(conflict.status, StatusCode::CONFLICT);
        assert_eq!(conflict.error_code(), "conflict");
    }

    #[tokio::test]
    async fn v1_takes_no_idempotency_key() {
        let app = TestApp::new();
        let request = with_header(
            post_json("/api/v1/invoices", Some(&write_token()), &v1_body("inv-1")),
            "idempotency-key",
            "k-1",
        );
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            reply.text().contains("no idempotency key"),
            "{}",
            reply.text()
        );
    }

    #[tokio::test]
    async fn unrouted_requests_go_to_the_default_version() {
        let app = TestApp::new();
        let reply = app
            .send(post_json(
                "/api/invoices",
                Some(&write_token()),
                &v1_body("inv-9"),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        assert_eq!(reply.header("x-billing-version"), Some("v1"));
        let read = app
            .send(get("/api/invoices/inv-9", Some(&read_token())))
            .await;
        assert_eq!(read.header("x-billing-version"), Some("v1"));
        let metrics = app.send(admin(Method::GET, "/metrics")).await.text();
        assert!(
            metrics.contains(
                "gray_decisions_total{rule=\"default\",reason=\"DEFAULT\",variant=\"v1\"} 2"
            ),
            "{metrics}"
        );
        assert!(
            metrics.contains(
                "http_requests_total{route=\"/api/invoices\",billing_version=\"v1\",status=\"201\"} 1"
            ),
            "{metrics}"
        );
    }

    #[tokio::test]
    async fn a_routed_create_accepts_a_key_even_when_v1_serves_it() {
        let app = TestApp::new();
        let create = || {
            with_header(
                post_json("/api/invoices", Some(&write_token()), &v1_body("inv-k")),
                "idempotency-key",
                "client-key",
            )
        };
        let first = app.send(create()).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
        assert_eq!(first.header("x-billing-version"), Some("v1"));
        let again = app.send(create()).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
    }

    #[tokio::test]
    async fn a_notify_field_picks_the_channel() {
        let app = TestApp::new();
        let mut body = v1_body("inv-1");
        body["notify"] = json!({"sms": "+4915112345678"});
        let reply = app
            .send(post_json("/api/v1/invoices", Some(&write_token()), &body))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        let messages = queued(&app.state);
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].delivery_key, "invoice-created/inv-1");
        assert!(
            matches!(
                messages[0].message().unwrap(),
                shared::notification::v1::Message::Sms { .. }
            ),
            "{messages:?}"
        );
    }
}

#[cfg(not(feature = "v1"))]
#[tokio::test]
async fn v1_routes_are_refused_in_a_build_without_v1() {
    let app = TestApp::new();
    let reply = app
        .send(post_json(
            "/api/v1/invoices",
            Some(&write_token()),
            &v1_body("inv-1"),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error_code(), "version_not_built");
    let reply = app
        .send(get("/api/v1/invoices/inv-1", Some(&read_token())))
        .await;
    assert_eq!(reply.error_code(), "version_not_built");
}

#[cfg(feature = "v2")]
mod v2 {
    use super::*;

    #[tokio::test]
    async fn a_v2_create_with_an_idempotency_key_header_is_idempotent() {
        let app = TestApp::new();
        let create = || {
            with_header(
                post_json(
                    "/api/v2/invoices",
                    Some(&write_token()),
                    &v2_body("inv-2", "USD", &[1900, 700]),
                ),
                "idempotency-key",
                "order-42",
            )
        };
        let first = app.send(create()).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
        assert_eq!(first.header("x-billing-version"), Some("v2"));
        assert_eq!(first.json()["idempotency_key"], "order-42");
        assert_eq!(first.json()["currency"], "USD");
        let again = app.send(create()).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.json(), first.json());
        assert_eq!(app.state.invoices().count().unwrap(), 1);
        assert_eq!(queued(&app.state).len(), 1);

        let conflict = app
            .send(with_header(
                post_json(
                    "/api/v2/invoices",
                    Some(&write_token()),
                    &v2_body("inv-3", "USD", &[1900]),
                ),
                "idempotency-key",
                "order-42",
            ))
            .await;
        assert_eq!(conflict.status, StatusCode::CONFLICT);
        assert!(conflict.text().contains("order-42"), "{}", conflict.text());
    }

    #[tokio::test]
    async fn the_idempotency_key_may_be_a_body_field_but_not_two_different_keys() {
        let app = TestApp::new();
        let mut body = v2_body("inv-2", "EUR", &[1900]);
        body["idempotency_key"] = json!("body-key");
        let reply = app
            .send(post_json("/api/v2/invoices", Some(&write_token()), &body))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        assert_eq!(reply.json()["idempotency_key"], "body-key");

        let same = with_header(
            post_json("/api/v2/invoices", Some(&write_token()), &body),
            "idempotency-key",
            "body-key",
        );
        assert_eq!(app.send(same).await.status, StatusCode::OK);

        let differing = with_header(
            post_json("/api/v2/invoices", Some(&write_token()), &body),
            "idempotency-key",
            "other-key",
        );
        let reply = app.send(differing).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.text().contains("differ"), "{}", reply.text());
    }

    #[tokio::test]
    async fn concurrent_retries_with_one_key_store_one_invoice() {
        let app = TestApp::new();
        let router = app.router();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let router = router.clone();
                tokio::spawn(async move {
                    let request = with_header(
                        post_json(
                            "/api/v2/invoices",
                            Some(&write_token()),
                            &v2_body("inv-c", "EUR", &[1900]),
                        ),
                        "idempotency-key",
                        "retry-me",
                    );
                    crate::support::send(router, request).await
                })
            })
            .collect();
        let mut statuses = Vec::new();
        let mut bodies = Vec::new();
        for task in tasks {
            let reply = task.await.unwrap();
            statuses.push(reply.status);
            bodies.push(reply.json());
        }
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CREATED)
                .count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::CREATED || *s == StatusCode::OK)
        );
        assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]));
        assert_eq!(app.state.invoices().count().unwrap(), 1);
        assert_eq!(queued(&app.state).len(), 1);
    }

    #[tokio::test]
    async fn a_canary_header_routes_to_v2_through_the_bridge() {
        let app = TestApp::new();
        let request = with_header(
            post_json("/api/invoices", Some(&write_token()), &v1_body("inv-7")),
            "x-canary",
            "v2",
        );
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        assert_eq!(reply.header("x-billing-version"), Some("v2"));
        assert_eq!(reply.header("location"), Some("/api/v2/invoices/inv-7"));
        assert_eq!(reply.json()["currency"], "EUR");
        assert_eq!(reply.json()["idempotency_key"], "v1:inv-7");

        let read = app
            .send(with_header(
                get("/api/invoices/inv-7", Some(&read_token())),
                "x-canary",
                "v2",
            ))
            .await;
        assert_eq!(read.header("x-billing-version"), Some("v2"));
        let metrics = app.send(admin(Method::GET, "/metrics")).await.text();
        assert!(
            metrics.contains(
                "gray_decisions_total{rule=\"canary-header\",reason=\"TARGETING_MATCH\",variant=\"v2\"} 2"
            ),
            "{metrics}"
        );
    }

    #[tokio::test]
    async fn a_v2_invoice_v1_cannot_represent_reads_as_409_needing_v2() {
        let app = TestApp::new();
        for (id, currency, rates) in [
            ("inv-usd", "USD", &[1900][..]),
            ("inv-mixed", "EUR", &[1900, 700][..]),
        ] {
            let reply = app
                .send(post_json(
                    "/api/v2/invoices",
                    Some(&write_token()),
                    &v2_body(id, currency, rates),
                ))
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
            let read = app
                .send(get(&format!("/api/v2/invoices/{id}"), Some(&read_token())))
                .await;
            assert_eq!(read.status, StatusCode::OK);
            if cfg!(feature = "v1") {
                let read = app
                    .send(get(&format!("/api/v1/invoices/{id}"), Some(&read_token())))
                    .await;
                assert_eq!(read.status, StatusCode::CONFLICT, "{}", read.text());
                assert_eq!(read.error_code(), "needs_newer_version");
                assert_eq!(read.header("x-billing-version"), Some("v1"));
                assert_eq!(read.json()["error"]["needs"], "v2");
                assert!(
                    read.text().contains(&format!("/api/v2/invoices/{id}")),
                    "{}",
                    read.text()
                );
            }
        }
        if cfg!(feature = "v1") {
            let metrics = app.send(admin(Method::GET, "/metrics")).await.text();
            assert!(
                metrics.contains(
                    "http_requests_total{route=\"/api/v1/invoices/{id}\",billing_version=\"v1\",status=\"409\"} 2"
                ),
                "{metrics}"
            );
        }
    }

    #[tokio::test]
    async fn a_v2_invoice_v1_can_represent_reads_through_v1() {
        let app = TestApp::new();
        let reply = app
            .send(post_json(
                "/api/v2/invoices",
                Some(&write_token()),
                &v2_body("inv-eur", "EUR", &[1900, 1900]),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        if cfg!(feature = "v1") {
            let read = app
                .send(get("/api/v1/invoices/inv-eur", Some(&read_token())))
                .await;
            assert_eq!(read.status, StatusCode::OK, "{}", read.text());
            assert_eq!(read.json()["tax_rate"], 1900);
        }
    }

    #[cfg(feature = "v1")]
    #[tokio::test]
    async fn a_v1_invoice_reads_through_v2_with_defaults() {
        let app = TestApp::new();
        let reply = app
            .send(post_json(
                "/api/v1/invoices",
                Some(&write_token()),
                &v1_body("inv-1"),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        let read = app
            .send(get("/api/v2/invoices/inv-1", Some(&read_token())))
            .await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.text());
        assert_eq!(read.header("x-billing-version"), Some("v2"));
        let body = read.json();
        assert_eq!(body["currency"], "EUR");
        assert_eq!(body["idempotency_key"], "v1:inv-1");
        assert_eq!(body["lines"][0]["item"]["tax_rate"], 1900);
    }

    #[tokio::test]
    async fn unsupported_or_mismatched_currencies_are_422() {
        let app = TestApp::new();
        let mut body = v2_body("inv-x", "EUR", &[1900]);
        body["lines"][0]["unit_price"]["currency"] = json!("USD");
        let reply = app
            .send(post_json("/api/v2/invoices", Some(&write_token()), &body))
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.text().contains("currency"), "{}", reply.text());
    }
}

#[cfg(not(feature = "v2"))]
#[tokio::test]
async fn v2_routes_are_refused_in_a_build_without_v2() {
    let app = TestApp::new();
    let reply = app
        .send(post_json(
            "/api/v2/invoices",
            Some(&write_token()),
            &v2_body("inv-2", "EUR", &[1900]),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error_code(), "version_not_built");
    let reply = app
        .send(get("/api/v2/invoices/inv-2", Some(&read_token())))
        .await;
    assert_eq!(reply.error_code(), "version_not_built");
}

/// The paths every auth and bad-input case is tried on.
fn create_paths() -> Vec<&'static str> {
    let mut paths = vec!["/api/invoices"];
    if cfg!(feature = "v1") {
        paths.push("/api/v1/invoices");
    }
    if cfg!(feature = "v2") {
        paths.push("/api/v2/invoices");
    }
    paths
}

fn body_for(path: &str, id: &str) -> Value {
    if path.starts_with("/api/v2/") {
        v2_body(id, "EUR", &[1900])
    } else {
        v1_body(id)
    }
}

#[tokio::test]
async fn creates_need_a_valid_token_with_the_write_scope() {
    let app = TestApp::new();
    let expired = crate::support::keyring().issue(
        &auth::Subject::parse("tester").unwrap(),
        &[auth::Scope::parse("invoices:write").unwrap()],
        1,
    );
    for path in create_paths() {
        let body = body_for(path, "inv-auth");
        for (bearer, status) in [
            (None, StatusCode::UNAUTHORIZED),
            (Some("not-a-token".to_owned()), StatusCode::UNAUTHORIZED),
            (Some(expired.clone()), StatusCode::UNAUTHORIZED),
            (Some(read_token()), StatusCode::FORBIDDEN),
        ] {
            let reply = app.send(post_json(path, bearer.as_deref(), &body)).await;
            assert_eq!(reply.status, status, "{path} {bearer:?}: {}", reply.text());
            assert!(reply.json()["error"]["message"].is_string());
        }
    }
    assert_eq!(app.state.invoices().count().unwrap(), 0);
}

#[tokio::test]
async fn reads_need_a_valid_token_with_the_read_scope() {
    let app = TestApp::new();
    let mut paths = vec!["/api/invoices/inv-1"];
    if cfg!(feature = "v1") {
        paths.push("/api/v1/invoices/inv-1");
    }
    if cfg!(feature = "v2") {
        paths.push("/api/v2/invoices/inv-1");
    }
    for path in paths {
        let reply = app.send(get(path, None)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        let reply = app.send(get(path, Some(&token(&["invoices:write"])))).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(reply.error_code(), "forbidden");
        let reply = app.send(get(path, Some(&read_token()))).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        let expected = if crate::support::ANY_VERSION {
            "not_found"
        } else {
            "version_not_built"
        };
        assert_eq!(reply.error_code(), expected);
    }
}

#[tokio::test]
async fn bad_ids_are_400() {
    let app = TestApp::new();
    for path in ["/api/invoices/bad%20id", "/api/invoices/%C3%A9t%C3%A9"] {
        let reply = app.send(get(path, Some(&read_token()))).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.text()
        );
        assert_eq!(reply.error_code(), "bad_request");
    }
    let long = format!("/api/invoices/{}", "x".repeat(65));
    let reply = app.send(get(&long, Some(&read_token()))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bad_bodies_are_4xx_json_errors() {
    let app = TestApp::new();
    for path in create_paths() {
        let raw = |body: &str, content_type: Option<&str>| {
            let mut builder = request(Method::POST, path, Some(&write_token()));
            if let Some(content_type) = content_type {
                builder = builder.header(header::CONTENT_TYPE, content_type);
            }
            builder.body(Body::from(body.to_owned())).unwrap()
        };
        let json_type = Some("application/json");
        let mut missing = body_for(path, "inv-b");
        missing.as_object_mut().unwrap().remove("customer");
        let mut unknown = body_for(path, "inv-b");
        unknown["surprise"] = json!(1);
        let mut no_lines = body_for(path, "inv-b");
        no_lines["lines"] = json!([]);
        let mut bad_id = body_for(path, "inv-b");
        bad_id["invoice_id"] = json!("has space");
        let mut negative = body_for(path, "inv-b");
        negative["lines"][0]["quantity"] = json!(-3);
        let mut bad_notify = body_for(path, "inv-b");
        bad_notify["notify"] = json!({"pigeon": "coo"});
        let mut bad_key = body_for(path, "inv-b");
        bad_key["idempotency_key"] = json!("has space");
        let cases: Vec<(String, axum::http::Request<Body>, StatusCode, &str)> = vec![
            (
                "malformed".into(),
                raw("{\"invoice_id\": ", json_type),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                "not json".into(),
                raw("hello", json_type),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                "no content type".into(),
                raw(&body_for(path, "inv-b").to_string(), None),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            (
                "array".into(),
                raw("[1, 2]", json_type),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
            ),
            (
                "missing field".into(),
                raw(&missing.to_string(), json_type),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
            ),
            (
                "unknown field".into(),
                raw(&unknown.to_string(), json_type),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
            ),
            (
                "no lines".into(),
                raw(&no_lines.to_string(), json_type),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
            ),
            (
                "bad invoice id".into(),
                raw(&bad_id.to_string(), json_type),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
            ),
            (
                "negative quantity".into(),
                raw(&negative.to_string(), json_type),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
            ),
            (
                "bad notify".into(),
                raw(&bad_notify.to_string(), json_type),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
            ),
            (
                "bad idempotency key".into(),
                raw(&bad_key.to_string(), json_type),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
            ),
            (
                "oversize".into(),
                raw(&format!("{{\"pad\": \"{}\"}}", "x".repeat(5000)), json_type),
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            ),
        ];
        for (name, request, status, code) in cases {
            let reply = app.send(request).await;
            assert_eq!(reply.status, status, "{path} {name}: {}", reply.text());
            assert_eq!(reply.error_code(), code, "{path} {name}");
        }
    }
    assert_eq!(app.state.invoices().count().unwrap(), 0);
    assert!(queued(&app.state).is_empty());
}

#[tokio::test]
async fn duplicate_keys_at_any_depth_are_422_naming_the_key() {
    let app = TestApp::new();
    for path in create_paths() {
        // serde_json writes keys sorted and without spaces, so the edits below find their text.
        let body = body_for(path, "inv-dup").to_string();
        let mut cases = vec![
            (
                body.replacen('{', r#"{"customer":"cust-2","#, 1),
                "customer",
                None,
            ),
            (
                body.replacen(
                    r#""customer":"cust-1""#,
                    r#""\u0063ustomer":"cust-2","customer":"cust-1""#,
                    1,
                ),
                "customer",
                None,
            ),
            (
                body.replacen(r#""quantity":2"#, r#""quantity":2,"quantity":3"#, 1),
                "quantity",
                Some("lines[0]"),
            ),
            (
                body.replacen(
                    '{',
                    r#"{"notify":{"email":"a@example.com","email":"b@example.com"},"#,
                    1,
                ),
                "email",
                Some("notify"),
            ),
        ];
        if path.starts_with("/api/v2/") {
            cases.push((
                body.replacen(r#""amount":500"#, r#""amount":500,"amount":1"#, 1),
                "amount",
                Some("lines[0].unit_price"),
            ));
        }
        for (text, key, at) in cases {
            assert_ne!(text, body, "the edit for {key} applies");
            let request = request(Method::POST, path, Some(&write_token()))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(text.clone()))
                .unwrap();
            let reply = app.send(request).await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path} {text}: {}",
                reply.text()
            );
            assert_eq!(reply.error_code(), "unprocessable", "{path} {text}");
            let message = reply.json()["error"]["message"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(
                message.contains(&format!("duplicate key `{key}`")),
                "{path} {text}: {message}"
            );
            if let Some(at) = at {
                assert!(message.contains(at), "{path} {text}: {message}");
            }
        }
    }
    assert_eq!(app.state.invoices().count().unwrap(), 0);
    assert!(queued(&app.state).is_empty());
}
