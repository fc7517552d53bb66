//! The built binary on port 0: reload (by request or by watching the config directory) changes
//! routing, a broken file changes nothing, admin endpoints need the token, SIGTERM lets requests
//! in flight finish.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use serde_json::json;

use crate::process::{Server, api_token};
use crate::support::{base_toml, config_dir};

fn invoice(id: &str) -> serde_json::Value {
    json!({
        "invoice_id": id,
        "customer": "cust-1",
        "tax_rate": 1900,
        "lines": [{"description": "Widget", "quantity": 1, "unit_price": 1000}],
    })
}

/// Routing changes between v1 and v2 need a build with both.
#[cfg(all(feature = "v1", feature = "v2"))]
mod reload {
    use super::*;
    use crate::process::{ADMIN_TOKEN, agent, reply};

    #[test]
    fn reload_changes_routing_and_a_broken_file_changes_nothing() {
        let dir = config_dir(&[
            ("base.toml", &base_toml()),
            (
                "gray/rollout.toml",
                "[[gray.rules]]\nname = \"canary-header\"\nroute = { billing = \"v2\" }\nheaders = { \"X-Canary\" = \"v2\" }\n",
            ),
        ]);
        let server = Server::start(dir.path());
        let agent = agent();
        let token = api_token(&["invoices:write", "invoices:read"]);
        let create = |id: &str| {
            reply(
                agent
                    .post(server.url("/api/invoices"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .send_json(invoice(id))
                    .unwrap(),
            )
        };
        let reload = |token: Option<&str>| {
            let mut request = agent.post(server.admin_url("/config/reload"));
            if let Some(token) = token {
                request = request.header("Authorization", &format!("Bearer {token}"));
            }
            reply(request.send_empty().unwrap())
        };

        let before = create("inv-1");
        assert_eq!(before.status, 201, "{before:?}\n{}", server.log());
        assert_eq!(before.billing_version.as_deref(), Some("v1"));

        // Everyone on v2 now.
        std::fs::write(
            dir.path().join("gray/rollout.toml"),
            "[[gray.rules]]\nname = \"everyone\"\nroute = { billing = \"v2\" }\npath_prefix = \"/api/\"\n",
        )
        .unwrap();
        let reloaded = reload(Some(ADMIN_TOKEN));
        assert_eq!(reloaded.status, 200, "{reloaded:?}");
        assert_eq!(reloaded.json["generation"], 2);
        let after = create("inv-2");
        assert_eq!(after.status, 201, "{after:?}");
        assert_eq!(after.billing_version.as_deref(), Some("v2"));

        // A broken file: 422 naming it, and routing stays on v2.
        std::fs::write(
            dir.path().join("gray/rollout.toml"),
            "[[gray.rules]]\nname = \"everyone\"\nroute = { billing = \"v2\" \n",
        )
        .unwrap();
        let failed = reload(Some(ADMIN_TOKEN));
        assert_eq!(failed.status, 422, "{failed:?}");
        assert_eq!(failed.json["error"]["file"], "gray/rollout.toml");
        assert!(
            failed.json["error"]["line"].as_u64().is_some(),
            "{failed:?}"
        );
        let still = create("inv-3");
        assert_eq!(still.billing_version.as_deref(), Some("v2"));

        // An unknown key in a rule: 422 with file, key and line.
        std::fs::write(
            dir.path().join("gray/rollout.toml"),
            "[[gray.rules]]\nname = \"everyone\"\nroute = { billing = \"v2\" }\npercentage = 5\n",
        )
        .unwrap();
        let failed = reload(Some(ADMIN_TOKEN));
        assert_eq!(failed.status, 422, "{failed:?}");
        assert_eq!(failed.json["error"]["file"], "gray/rollout.toml");
        assert_eq!(failed.json["error"]["line"], 4);
        assert!(
            failed.json["error"]["key"]
                .as_str()
                .unwrap()
                .ends_with("percentage"),
            "{failed:?}"
        );

        // Admin endpoints without (or with a wrong) token.
        for (method, path) in [
            ("POST", "/config/reload"),
            ("GET", "/debug/config"),
            ("GET", "/debug/version"),
            ("GET", "/metrics"),
        ] {
            let answer = if method == "POST" {
                reply(agent.post(server.admin_url(path)).send_empty().unwrap())
            } else {
                reply(agent.get(server.admin_url(path)).call().unwrap())
            };
            assert_eq!(answer.status, 401, "{method} {path}");
        }
        assert_eq!(reload(Some("wrong")).status, 401);
        let health = reply(
            agent
                .get(server.admin_url("/debug/config"))
                .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
                .call()
                .unwrap(),
        );
        assert_eq!(
            health.json["generation"], 2,
            "failed reloads leave generation 2"
        );
    }
}

/// Routing changes between v1 and v2 need a build with both.
#[cfg(all(feature = "v1", feature = "v2"))]
mod watch {
    use std::time::Duration;

    use super::*;
    use crate::process::{ADMIN_TOKEN, HttpReply, agent, reply};

    /// Generous bound for the watcher to notice a change: 10 s in 50 ms steps.
    const POLLS: usize = 200;
    const POLL_STEP: Duration = Duration::from_millis(50);

    /// The value of the sample `name` (labels included) in the OpenMetrics text `metrics`.
    fn sample(metrics: &str, name: &str) -> f64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
            .parse()
            .unwrap()
    }

    const FAILED: &str = "config_reloads_total{result=\"failure\"}";
    const SUCCEEDED: &str = "config_reloads_total{result=\"success\"}";

    #[test]
    fn the_watch_config_key_turns_watching_on_without_the_flag() {
        let base = base_toml().replace(
            "request_timeout_ms = 5000",
            "request_timeout_ms = 5000\nwatch_config = true",
        );
        let dir = config_dir(&[("base.toml", &base)]);
        let work = tempfile::tempdir().unwrap();
        let server = Server::start_with(dir.path(), work.path(), &[]);
        let agent = agent();
        let token = api_token(&["invoices:write"]);
        let version = |id: &str| {
            let answer = reply(
                agent
                    .post(server.url("/api/invoices"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .send_json(invoice(id))
                    .unwrap(),
            );
            assert_eq!(answer.status, 201, "{answer:?}\n{}", server.log());
            answer.billing_version
        };
        assert_eq!(version("inv-key-0").as_deref(), Some("v1"));
        crate::support::write(
            dir.path(),
            "gray/rollout.toml",
            "[[gray.rules]]\nname = \"everyone\"\nroute = { billing = \"v2\" }\npath_prefix = \"/api/\"\n",
        );
        let switched = (1..=POLLS).any(|poll| {
            let on_v2 = version(&format!("inv-key-{poll}")).as_deref() == Some("v2");
            if !on_v2 {
                std::thread::sleep(POLL_STEP);
            }
            on_v2
        });
        assert!(
            switched,
            "routing never switched to v2; log:\n{}",
            server.log()
        );
    }

    #[test]
    fn watch_reloads_on_file_change_and_a_broken_file_changes_nothing() {
        let dir = config_dir(&[
            ("base.toml", &base_toml()),
            (
                "gray/rollout.toml",
                "[[gray.rules]]\nname = \"canary-header\"\nroute = { billing = \"v2\" }\nheaders = { \"X-Canary\" = \"v2\" }\n",
            ),
        ]);
        // Database and log outside the watched directory, as docs/operations.md asks.
        let work = tempfile::tempdir().unwrap();
        let server = Server::start_with(dir.path(), work.path(), &["--watch"]);
        let agent = agent();
        let token = api_token(&["invoices:write"]);
        let mut created = 0;
        let mut create = || -> HttpReply {
            created += 1;
            reply(
                agent
                    .post(server.url("/api/invoices"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .send_json(invoice(&format!("inv-watch-{created}")))
                    .unwrap(),
            )
        };
        let admin_get = |path: &str| {
            agent
                .get(server.admin_url(path))
                .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
                .call()
                .unwrap()
                .into_body()
                .read_to_string()
                .unwrap()
        };
        // One change may be reloaded more than once (the watcher can report a write as two
        // events), so the content hash, not the generation, tells whether the config changed.
        let content_hash = || -> String {
            let config: serde_json::Value =
                serde_json::from_str(&admin_get("/debug/config")).unwrap();
            config["content_hash"].as_str().unwrap().to_owned()
        };

        let before = create();
        assert_eq!(before.status, 201, "{before:?}\n{}", server.log());
        assert_eq!(before.billing_version.as_deref(), Some("v1"));
        let metrics = admin_get("/metrics");
        assert_eq!(sample(&metrics, SUCCEEDED), 0.0, "{metrics}");
        assert_eq!(sample(&metrics, FAILED), 0.0, "{metrics}");

        // Everyone on v2, with no reload request: the watcher picks it up.
        std::fs::write(
            dir.path().join("gray/rollout.toml"),
            "[[gray.rules]]\nname = \"everyone\"\nroute = { billing = \"v2\" }\npath_prefix = \"/api/\"\n",
        )
        .unwrap();
        let mut switched = false;
        for _ in 0..POLLS {
            let answer = create();
            assert_eq!(answer.status, 201, "{answer:?}");
            if answer.billing_version.as_deref() == Some("v2") {
                switched = true;
                break;
            }
            std::thread::sleep(POLL_STEP);
        }
        assert!(
            switched,
            "routing never switched to v2; log:\n{}",
            server.log()
        );
        let metrics = admin_get("/metrics");
        assert!(sample(&metrics, SUCCEEDED) >= 1.0, "{metrics}");
        assert_eq!(sample(&metrics, FAILED), 0.0, "{metrics}");
        assert!(sample(&metrics, "config_generation") >= 2.0, "{metrics}");
        let switched_hash = content_hash();

        // A broken file: the failure is counted and logged, and routing stays on v2.
        std::fs::write(
            dir.path().join("gray/rollout.toml"),
            "[[gray.rules]]\nname = \"everyone\"\nroute = { billing = \"v2\" \n",
        )
        .unwrap();
        let mut failed = false;
        for _ in 0..POLLS {
            if sample(&admin_get("/metrics"), FAILED) >= 1.0 {
                failed = true;
                break;
            }
            std::thread::sleep(POLL_STEP);
        }
        assert!(failed, "no failed reload counted; log:\n{}", server.log());
        let still = create();
        assert_eq!(still.status, 201, "{still:?}");
        assert_eq!(still.billing_version.as_deref(), Some("v2"));
        assert_eq!(content_hash(), switched_hash);
        let log = server.log();
        assert!(
            log.lines()
                .any(|line| line.contains("config reload rejected")
                    && line.contains("gray/rollout.toml")
                    && line.contains("watch")),
            "{log}"
        );

        // The watcher does not hold the process up on shutdown.
        let status = std::process::Command::new("kill")
            .args(["-TERM", &server.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(server.wait_success(), "shutdown with a watcher exits 0");
    }
}

/// The request in flight must succeed, so the build needs a billing version.
#[cfg(any(feature = "v1", feature = "v2"))]
#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let dir = config_dir(&[("base.toml", &base_toml())]);
    let server = Server::start(dir.path());
    let body = invoice("inv-flight").to_string();
    let token = api_token(&["invoices:write"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "POST /api/invoices HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\
         Connection: close\r\n\r\n",
        server.addr,
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    // The server answers `100 Continue` once the handler starts reading the body: from then on
    // the request is in flight.
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&interim)
    );

    // `kill` from procps sends SIGTERM; the test has no libc binding of its own.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Shutdown has begun once the listener stops accepting connections.
    let mut refused = false;
    for _ in 0..500 {
        if TcpStream::connect(server.addr).is_err() {
            refused = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(refused, "the listener kept accepting after SIGTERM");

    stream.write_all(body.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(response.contains("inv-flight"), "{response}");
    assert!(
        server.wait_success(),
        "graceful shutdown exits with success"
    );
}

#[test]
fn a_request_that_outlives_the_timeout_is_a_json_503() {
    let base = base_toml().replace("request_timeout_ms = 5000", "request_timeout_ms = 200");
    let dir = config_dir(&[("base.toml", &base)]);
    let server = Server::start(dir.path());
    let token = api_token(&["invoices:write"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    // Announce a body and never send it: the handler waits for it until the timeout.
    write!(
        stream,
        "POST /api/invoices HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{",
        server.addr,
    )
    .unwrap();
    stream.flush().unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(response.contains("\"code\":\"timeout\""), "{response}");
}
