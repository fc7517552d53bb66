//! Config reloads in process: files that are not regular files, the config's total budget, and
//! secrets redacted alike in every output.

use axum::http::{Method, StatusCode};

use crate::support::{TestApp, admin, base_toml};

#[cfg(unix)]
#[tokio::test]
async fn a_fifo_fragment_fails_every_reload_at_once_naming_it_and_reloads_work_once_it_is_gone() {
    let app = TestApp::with_files(&[("base.toml", &base_toml())]);
    std::fs::create_dir_all(app.dir.path().join("gray")).unwrap();
    let pipe = app.dir.path().join("gray/pipe.toml");
    let status = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("run mkfifo");
    assert!(status.success());
    // Nobody writes to the FIFO, so a reload that opened it and waited would never end; more
    // reloads than may ever be stuck at once all answer.
    for _ in 0..6 {
        let reply = app.send(admin(Method::POST, "/config/reload")).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.text()
        );
        let body = reply.json();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("gray/pipe.toml"), "{message}");
        assert!(message.contains("not a regular file"), "{message}");
    }
    std::fs::remove_file(&pipe).unwrap();
    let reply = app.send(admin(Method::POST, "/config/reload")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["generation"], 2);
}

/// A config with a secret in every place one has leaked from: an array of tables, keys named
/// `passwd`, `pwd` and `credentials`, a connection URL, and an instance label. Every secret
/// value contains `hunter`.
fn config_with_secrets() -> String {
    format!(
        r#"{}
[[payments.replicas]]
host = "replica-a"
password = "hunter-array"

[legacy]
passwd = "hunter-passwd"
pwd = "hunter-pwd"
credentials = "hunter-credentials"
user = "svc-legacy"

[cloud.credentials]
client = "hunter-table"

[reports]
database_url = "postgres://reporter:hunter-url@db.internal:5432/reports"
note = "see http://docs.internal/reports"

[gray.labels]
zone = "cn-east"
api_token = "hunter-label"
"#,
        base_toml()
    )
}

/// What every output must show of [`config_with_secrets`]: the secrets hidden, the rest shown.
fn assert_secrets_hidden(text: &str) {
    assert!(!text.contains("hunter"), "{text}");
    for shown in [
        "replica-a",
        "svc-legacy",
        "postgres://reporter:<redacted>@db.internal:5432/reports",
        "http://docs.internal/reports",
        "GATEWAY_TEST_ADMIN_TOKEN",
        "GATEWAY_TEST_SECRET",
        "test-key",
    ] {
        assert!(text.contains(shown), "{shown} missing from {text}");
    }
}

#[tokio::test]
async fn debug_config_hides_secrets_in_arrays_of_tables_other_names_and_urls() {
    let app = TestApp::with_files(&[("base.toml", &config_with_secrets())]);
    let reply = app.send(admin(Method::GET, "/debug/config")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_secrets_hidden(&reply.text());
    let body = reply.json();
    let entry = |key: &str| {
        body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .unwrap_or_else(|| panic!("no entry {key}"))["value"]
            .clone()
    };
    assert_eq!(
        entry("payments.replicas"),
        serde_json::json!([{"host": "replica-a", "password": "<redacted>"}])
    );
    for key in [
        "legacy.passwd",
        "legacy.pwd",
        "legacy.credentials",
        "cloud.credentials.client",
        "gray.labels.api_token",
    ] {
        assert_eq!(entry(key), "<redacted>", "{key}");
    }
    assert_eq!(entry("gray.labels.zone"), "cn-east");
}

/// Runs the built binary in `dir` with a cleared environment.
fn gateway(dir: &std::path::Path, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(args)
        .env_clear()
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn config_show_hides_the_same_secrets_in_both_formats() {
    let dir = crate::support::config_dir(&[("base.toml", &config_with_secrets())]);
    for format in ["toml", "json"] {
        let text = gateway(
            dir.path(),
            &["config", "show", "--config-dir", ".", "--format", format],
        );
        assert_secrets_hidden(&text);
    }
}

/// The rule routes to a billing version, so the build needs one.
#[cfg(any(feature = "v1", feature = "v2"))]
#[test]
fn gray_explain_hides_the_label_values_debug_config_hides() {
    let mut config = config_with_secrets();
    // A rule that cannot match here, so its explanation compares the secret label's values.
    config.push_str(&format!(
        "\n[[gray.rules]]\nname = 'by-token'\nlabels = {{ api_token = 'hunter-wanted' }}\nroute = {{ billing = '{}' }}\n",
        gateway::BillingVersion::fallback()
    ));
    let dir = crate::support::config_dir(&[("base.toml", &config)]);
    let text = gateway(
        dir.path(),
        &[
            "gray",
            "explain",
            "--config-dir",
            ".",
            "--path",
            "/api/invoices",
        ],
    );
    assert!(!text.contains("hunter"), "{text}");
    assert!(text.contains("api_token=<redacted>"), "{text}");
    assert!(text.contains("zone=cn-east"), "{text}");
}

#[tokio::test]
async fn fragments_over_the_total_budget_fail_the_reload_naming_the_budget_and_the_largest() {
    let app = TestApp::with_files(&[("base.toml", &base_toml())]);
    // Five fragments of 4 MiB each: every one within the file cap, 20 MiB together.
    let header = "[gray.labels]\nnote = '";
    let fill = 4 * 1024 * 1024 - header.len() - "'\n".len();
    let fragment = format!("{header}{}'\n", "x".repeat(fill));
    for i in 1..=5 {
        app.write(&format!("gray/large-{i}.toml"), &fragment);
    }
    let reply = app.send(admin(Method::POST, "/config/reload")).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text()
    );
    let body = reply.json();
    // The fourth fragment is where the 16 MiB budget ran out; the rest were never read.
    assert_eq!(body["error"]["file"], "gray/large-4.toml");
    let message = body["error"]["message"].as_str().unwrap();
    for part in [
        "6 sources totalling",
        "largest: gray/large-1.toml 4194304 bytes, gray/large-2.toml 4194304 bytes",
        "exceeds the limit of 16777216 (limit `max_total_bytes`)",
    ] {
        assert!(message.contains(part), "{part} missing from {message}");
    }
    for i in 1..=5 {
        std::fs::remove_file(app.dir.path().join(format!("gray/large-{i}.toml"))).unwrap();
    }
    let reply = app.send(admin(Method::POST, "/config/reload")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}
