//! The command line, run as the built binary with a cleared environment.

use std::path::Path;
use std::process::{Command, Output};

use crate::process::SECRET;
use crate::support::{base_toml, config_dir};

/// Runs the binary with only `vars` in its environment.
fn gateway(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(args)
        .env_clear()
        .envs(vars.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    assert!(!output.status.success(), "unexpectedly succeeded");
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn version_names_the_crate_version() {
    let dir = tempfile::tempdir().unwrap();
    let text = stdout(&gateway(dir.path(), &["--version"], &[]));
    assert!(
        text.starts_with(&format!("gateway {}", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
}

/// The snapshot includes the default route, which a build with no billing version lacks.
#[cfg(any(feature = "v1", feature = "v2"))]
#[test]
fn config_show_prints_values_with_provenance_and_redacts_secrets() {
    let dir = config_dir(&[("base.toml", &base_toml())]);
    let text = stdout(&gateway(
        dir.path(),
        &["config", "show", "--config-dir", "."],
        &[("APP__SERVER__REQUEST_TIMEOUT_MS", "7000")],
    ));
    let fallback = gateway::BillingVersion::fallback().as_str();
    insta::assert_snapshot!(text.replace(fallback, "VERSION"), @r#"
    admin.token_env = "GATEWAY_TEST_ADMIN_TOKEN"  # base.toml:8
    auth.key_id = "test-key"  # base.toml:12
    auth.secret_env = "GATEWAY_TEST_SECRET"  # base.toml:13
    gray.default.billing = "VERSION"  # base.toml:19
    gray.enabled = true  # base.toml:16
    payments.db_password = "<redacted>"  # base.toml:22
    server.body_limit_bytes = 4096  # base.toml:4
    server.listen = "127.0.0.1:0"  # base.toml:3
    server.request_timeout_ms = 7000  # env:APP__SERVER__REQUEST_TIMEOUT_MS
    "#);
}

#[test]
fn config_show_filters_by_key_and_speaks_json() {
    let dir = config_dir(&[("base.toml", &base_toml())]);
    let text = stdout(&gateway(
        dir.path(),
        &[
            "config",
            "show",
            "--config-dir",
            ".",
            "--key",
            "server",
            "--format",
            "json",
        ],
        &[],
    ));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "server.body_limit_bytes",
            "server.listen",
            "server.request_timeout_ms"
        ]
    );
    assert_eq!(report["entries"][0]["origin"], "base.toml:4");

    let missing = gateway(
        dir.path(),
        &["config", "show", "--config-dir", ".", "--key", "serv"],
        &[],
    );
    assert!(stderr(&missing).contains("config key `serv` does not exist"));
}

#[test]
fn commands_name_the_config_problem() {
    let dir = tempfile::tempdir().unwrap();
    let missing = gateway(
        dir.path(),
        &["config", "show", "--config-dir", "nowhere"],
        &[],
    );
    let message = stderr(&missing);
    assert!(
        message.contains("cannot load config from nowhere"),
        "{message}"
    );
    assert!(message.contains("base.toml"), "{message}");

    let dir = config_dir(&[("base.toml", "[server]\nlisten = \"nope\"\n")]);
    let bad = gateway(dir.path(), &["serve", "--config-dir", "."], &[]);
    let message = stderr(&bad);
    assert!(message.contains("server.listen"), "{message}");
    assert!(message.contains("base.toml:2"), "{message}");
}

#[test]
fn serve_refuses_to_start_without_the_token_signing_secret() {
    let dir = config_dir(&[("base.toml", &base_toml())]);
    let output = gateway(dir.path(), &["serve", "--config-dir", "."], &[]);
    let message = stderr(&output);
    assert!(message.contains("GATEWAY_TEST_SECRET"), "{message}");
    assert!(message.contains("auth.secret_env"), "{message}");

    let short = gateway(
        dir.path(),
        &["serve", "--config-dir", "."],
        &[("GATEWAY_TEST_SECRET", "short")],
    );
    assert!(stderr(&short).contains("at least 32"));
}

#[test]
fn token_issue_prints_a_token_the_service_accepts() {
    let dir = config_dir(&[("base.toml", &base_toml())]);
    let text = stdout(&gateway(
        dir.path(),
        &[
            "token",
            "issue",
            "--config-dir",
            ".",
            "--subject",
            "ops",
            "--scope",
            "invoices:read",
        ],
        &[("GATEWAY_TEST_SECRET", SECRET)],
    ));
    let key =
        auth::SigningKey::new(auth::KeyId::parse("test-key").unwrap(), SECRET.as_bytes()).unwrap();
    let claims = auth::Keyring::new(key, [])
        .unwrap()
        .verify(text.trim(), gateway::unix_now())
        .unwrap();
    assert_eq!(claims.subject.as_str(), "ops");
    assert!(claims.has_scope(&auth::Scope::parse("invoices:read").unwrap()));
}

/// Rules routing to v2 over a v1 default need a build with both.
#[cfg(all(feature = "v1", feature = "v2"))]
mod explain {
    use super::*;

    const ROLLOUT: &str = r#"
[[gray.rules]]
name = "canary-header"
route = { billing = "v2" }
headers = { "X-Canary" = "v2" }

[[gray.rules]]
name = "prod-canaries"
route = { billing = "v2" }
labels = { env = "prod", canary = "true" }

[[gray.rules]]
name = "rollout"
route = { billing = "v2" }
percent = 10
bucket_by = "header:X-User-Id"
"#;

    fn explain(args: &[&str]) -> String {
        let dir = config_dir(&[("base.toml", &base_toml()), ("gray/rollout.toml", ROLLOUT)]);
        let mut argv = vec!["gray", "explain", "--config-dir", "."];
        argv.extend_from_slice(args);
        let text = stdout(&gateway(
            dir.path(),
            &argv,
            &[("ENABLE_GRAY_CONFIG", "true")],
        ));
        // The content hash is the gray crate's business; only its presence is checked here.
        let hash_at = text.find("content hash ").unwrap() + "content hash ".len();
        let hash_len = text[hash_at..].find(')').unwrap();
        assert_eq!(hash_len, 12, "{text}");
        format!("{}HASH{}", &text[..hash_at], &text[hash_at + hash_len..])
    }

    #[test]
    fn a_header_rule_match() {
        insta::assert_snapshot!(explain(&["--path", "/api/invoices", "--header", "X-Canary: v2"]), @r"
        path:    /api/invoices
        route:   billing = v2
        rule:    canary-header
        reason:  TARGETING_MATCH
        bucket:  (none)
        defined: gray/rollout.toml:2
          rule canary-header: active
          rule prod-canaries: inactive (label canary is not set, rule needs true)
          rule rollout: active; no sticky key in this request
        labels:  (none)
        gray:    enabled (content hash HASH)
        ");
    }

    #[test]
    fn a_percentage_split_shows_the_bucket() {
        let text = explain(&["--path", "/api/invoices", "--header", "X-User-Id: user-3"]);
        let bucket = gray::bucket("rollout", "user-3");
        let expected_route = if bucket <= 10 { "v2" } else { "v1" };
        assert!(
            text.contains(&format!("route:   billing = {expected_route}")),
            "{text}"
        );
        assert!(
            text.contains(&format!("rule rollout: active; bucket {bucket} ")),
            "{text}"
        );
    }

    #[test]
    fn labels_from_the_command_line_activate_label_rules() {
        let text = explain(&[
            "--path",
            "/api/invoices",
            "--label",
            "env=prod",
            "--label",
            "canary=true",
        ]);
        assert!(text.contains("rule:    prod-canaries"), "{text}");
        assert!(text.contains("reason:  TARGETING_MATCH"), "{text}");
        assert!(text.contains("labels:  canary=true,env=prod"), "{text}");
    }
}

/// `gray explain` says whether an environment condition matches, never what the variable holds.
#[test]
fn explain_never_prints_an_environment_value() {
    let rule = "[[gray.rules]]\nname = \"secret-gate\"\nroute = { billing = \"v1\" }\nenv = { GRAYWORK_AUTH_SECRET = \"x\" }\n";
    let dir = config_dir(&[("base.toml", &base_toml()), ("gray/secret.toml", rule)]);
    if !cfg!(feature = "v1") {
        return;
    }
    let text = stdout(&gateway(
        dir.path(),
        &[
            "gray",
            "explain",
            "--config-dir",
            ".",
            "--path",
            "/api/invoices",
        ],
        &[
            ("ENABLE_GRAY_CONFIG", "true"),
            ("GRAYWORK_AUTH_SECRET", "hunter2-signing-secret"),
        ],
    ));
    assert!(
        text.contains(
            "rule secret-gate: inactive (environment GRAYWORK_AUTH_SECRET does not match"
        ),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}
