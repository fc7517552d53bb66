//! The built binary under attack and accident (issue: a stuck reload, slow clients, huge
//! configs, exposed admin, failing storage must never take the API down). Every test drives the
//! real binary on loopback, port 0.

use std::time::{Duration, Instant};

use crate::process::{ADMIN_TOKEN, Server, agent, api_token, reply};
use crate::support::{base_toml, config_dir};

/// Sends SIGTERM through procps' `kill` (the tests have no libc binding of their own).
pub fn terminate(server: &Server) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success());
}

/// The slowest of `n` invoice reads (of an invoice that does not exist), in milliseconds.
pub fn slowest_api_read(server: &Server, n: usize) -> u128 {
    let agent = agent();
    let token = api_token(&["invoices:read"]);
    (0..n)
        .map(|_| {
            let started = Instant::now();
            let answer = reply(
                agent
                    .get(server.url("/api/invoices/missing-1"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .call()
                    .unwrap(),
            );
            assert_eq!(answer.status, 404, "{answer:?}");
            started.elapsed().as_millis()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn a_fifo_config_fails_the_reload_at_once_and_never_delays_the_api() {
    let dir = config_dir(&[("base.toml", &base_toml())]);
    let server = Server::start(dir.path());
    let agent = agent();
    // Replace base.toml by a FIFO nobody writes to: reading it would block forever.
    std::fs::remove_file(dir.path().join("base.toml")).unwrap();
    mkfifo(&dir.path().join("base.toml"));
    for _ in 0..20 {
        let started = Instant::now();
        let answer = reply(
            agent
                .post(server.admin_url("/config/reload"))
                .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
                .send_empty()
                .unwrap(),
        );
        assert_eq!(answer.status, 422, "{answer:?}");
        assert_eq!(answer.json["error"]["code"], "invalid_config");
        assert!(
            answer.json["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not a regular file"),
            "{answer:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    // The API answers as before (a generous bound: the point is "not blocked", not speed).
    assert!(slowest_api_read(&server, 20) < 2_000);
    terminate(&server);
    assert!(server.wait_success(), "SIGTERM exits 0");
}

mod connections {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;

    use super::*;

    /// Starts the binary with connection settings overridden from the environment.
    fn server_with(vars: &[(&str, &str)]) -> (tempfile::TempDir, Server) {
        let dir = config_dir(&[("base.toml", &base_toml())]);
        let server = Server::start_with_env(dir.path(), dir.path(), &[], vars);
        (dir, server)
    }

    /// Whether the server has closed `stream` (a read sees end of file or a reset), waiting at
    /// most `within`.
    fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
        stream.set_read_timeout(Some(within)).unwrap();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return true,
                // A 408 or similar before the close is fine; keep reading to the end.
                Ok(_) => continue,
                Err(error) => {
                    return !matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    );
                }
            }
        }
    }

    /// Lets this test process hold a few thousand sockets.
    fn raise_own_fd_limit() -> u64 {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        let target = limit.maximum.or(limit.current).unwrap_or(1024);
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum: limit.maximum,
            },
        );
        getrlimit(Resource::Nofile).current.unwrap_or(1024)
    }

    #[test]
    fn slow_header_senders_are_closed_while_a_normal_client_is_served() {
        let own_limit = raise_own_fd_limit();
        let slow = 2_000.min(
            usize::try_from(own_limit)
                .unwrap_or(1024)
                .saturating_sub(200),
        );
        let (_dir, server) = server_with(&[("APP__SERVER__HEADER_READ_TIMEOUT_MS", "1500")]);
        let mut held: Vec<TcpStream> = (0..slow)
            .map(|_| {
                let mut stream = TcpStream::connect(server.addr).unwrap();
                // Half a header, and then nothing.
                stream
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                    .unwrap();
                stream
            })
            .collect();
        // A normal client is answered at once while they are held.
        assert!(slowest_api_read(&server, 10) < 1_000);
        // Every slow connection is closed by the header timeout.
        let still_open = held
            .iter_mut()
            .map(|stream| closed_within(stream, Duration::from_secs(5)))
            .filter(|closed| !closed)
            .count();
        assert_eq!(still_open, 0, "of {slow} slow connections");
        assert!(slowest_api_read(&server, 10) < 1_000);
    }

    /// A fresh connection's `GET /healthz`, as a liveness probe sends it: the status code.
    fn probe(addr: std::net::SocketAddr) -> u16 {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        // A generous bound, so a probe stuck in the backlog fails the test instead of hanging it.
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer);
        text.split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    }

    /// A connection that sends half a header and then nothing, or `None` when the server's
    /// backlog is too full to take it within a few seconds.
    fn slow(addr: std::net::SocketAddr) -> Option<TcpStream> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .ok()?;
        Some(stream)
    }

    #[test]
    fn admin_probes_are_answered_while_slow_connections_fill_the_admin_port() {
        raise_own_fd_limit();
        // With the API's header-read timeout at a minute, slow connections that the admin
        // listener only timed out would hold its 64 places a minute, and probes would wait in
        // the backlog behind them far longer than a probe's bound.
        let (_dir, server) = server_with(&[("APP__SERVER__HEADER_READ_TIMEOUT_MS", "60000")]);
        let mut held: Vec<TcpStream> = (0..150).filter_map(|_| slow(server.admin_addr)).collect();
        for n in 0..20 {
            // The attack goes on between probes.
            held.extend((0..5).filter_map(|_| slow(server.admin_addr)));
            assert_eq!(
                probe(server.admin_addr),
                200,
                "probe {n}, {} slow connections",
                held.len()
            );
        }
        // The API port is untouched by all this.
        assert_eq!(probe(server.addr), 200);
    }

    #[test]
    fn idle_keep_alive_connections_are_closed() {
        let (_dir, server) = server_with(&[("APP__SERVER__IDLE_TIMEOUT_MS", "300")]);
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream
            .write_all(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut first = [0u8; 12];
        stream.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"HTTP/1.1 404");
        assert!(closed_within(&mut stream, Duration::from_secs(5)));
    }

    #[test]
    fn the_connection_cap_queues_clients_instead_of_failing() {
        let (_dir, server) = server_with(&[
            ("APP__SERVER__MAX_CONNECTIONS", "8"),
            ("APP__SERVER__HEADER_READ_TIMEOUT_MS", "500"),
        ]);
        let _silent: Vec<TcpStream> = (0..8)
            .map(|_| TcpStream::connect(server.addr).unwrap())
            .collect();
        // The ninth waits in the backlog until the header timeout frees a slot, then is served.
        assert!(slowest_api_read(&server, 3) < 5_000);
    }

    #[test]
    fn shutdown_drops_what_is_still_open_after_its_deadline() {
        let (_dir, server) = server_with(&[
            ("APP__SERVER__SHUTDOWN_TIMEOUT_MS", "500"),
            ("APP__SERVER__REQUEST_TIMEOUT_MS", "60000"),
        ]);
        // A request whose body never finishes stays in flight.
        let token = api_token(&["invoices:write"]);
        let mut stream = TcpStream::connect(server.addr).unwrap();
        let head = format!(
            "POST /api/invoices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"a\":"
        );
        stream.write_all(head.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let started = Instant::now();
        terminate(&server);
        let exited = server.wait_success();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(exited, "a shutdown past its deadline still exits 0");
    }
}

mod config_caps {
    use std::fmt::Write as _;

    use super::*;

    fn reload(server: &Server) -> crate::process::HttpReply {
        reply(
            agent()
                .post(server.admin_url("/config/reload"))
                .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
                .send_empty()
                .unwrap(),
        )
    }

    #[test]
    fn over_cap_configs_answer_422_naming_file_and_limit_and_the_old_config_serves() {
        let dir = config_dir(&[("base.toml", &base_toml())]);
        let server = Server::start(dir.path());
        let good = reload(&server);
        assert_eq!(good.status, 200, "{good:?}");
        let generation = good.json["generation"].as_u64().unwrap();

        // A 5 MiB fragment: over the 4 MiB file cap.
        let huge = format!("[big]\ntext = '{}'\n", "x".repeat(5 * 1024 * 1024));
        std::fs::create_dir_all(dir.path().join("gray")).unwrap();
        std::fs::write(dir.path().join("gray/huge.toml"), huge).unwrap();
        let answer = reload(&server);
        assert_eq!(answer.status, 422, "{answer:?}");
        assert_eq!(answer.json["error"]["file"], "gray/huge.toml");
        let message = answer.json["error"]["message"].as_str().unwrap();
        assert!(message.contains("max_file_bytes"), "{message}");
        std::fs::remove_file(dir.path().join("gray/huge.toml")).unwrap();

        // 3,000 rules: over the rule cap.
        let mut rules = String::new();
        for i in 0..3_000 {
            writeln!(rules, "[[gray.rules]]\nname = 'r{i}'\nroute = {{ billing = 'v1' }}\nheaders = {{ 'x-r' = '{i}' }}").unwrap();
        }
        std::fs::write(dir.path().join("gray/many.toml"), rules).unwrap();
        let answer = reload(&server);
        assert_eq!(answer.status, 422, "{answer:?}");
        assert_eq!(answer.json["error"]["file"], "gray/many.toml");
        let message = answer.json["error"]["message"].as_str().unwrap();
        assert!(message.contains("max_rules"), "{message}");

        // The config loaded before still serves, and the API answers.
        let debug = reply(
            agent()
                .get(server.admin_url("/debug/config"))
                .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
                .call()
                .unwrap(),
        );
        assert_eq!(debug.json["generation"].as_u64(), Some(generation));
        assert!(slowest_api_read(&server, 3) < 2_000);
    }
}

mod admin_exposure {
    use super::*;

    #[test]
    fn admin_endpoints_live_only_on_the_admin_listener() {
        let dir = config_dir(&[("base.toml", &base_toml())]);
        let server = Server::start(dir.path());
        assert_ne!(server.addr, server.admin_addr);
        let agent = agent();
        for path in [
            "/config/reload",
            "/debug/config",
            "/debug/version",
            "/metrics",
        ] {
            let answer = reply(
                agent
                    .get(server.url(path))
                    .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
                    .call()
                    .unwrap(),
            );
            assert_eq!(answer.status, 404, "{path} on the API port");
            assert_eq!(answer.json["error"]["code"], "not_found");
        }
        for url in [server.url("/healthz"), server.admin_url("/readyz")] {
            let answer = reply(agent.get(&url).call().unwrap());
            assert_eq!(answer.status, 200, "{url}");
            assert_eq!(answer.json, serde_json::json!({"status": "ok"}));
        }
    }

    #[test]
    fn failed_admin_logins_are_throttled_and_the_right_token_never_is() {
        let dir = config_dir(&[("base.toml", &base_toml())]);
        let server = Server::start(dir.path());
        let agent = agent();
        let attempt = |token: &str| {
            let response = agent
                .get(server.admin_url("/debug/version"))
                .header("Authorization", &format!("Bearer {token}"))
                .call()
                .unwrap();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (reply(response), retry_after)
        };
        let mut statuses = Vec::new();
        for _ in 0..10 {
            statuses.push(attempt("not-the-admin-token").0.status);
        }
        assert_eq!(statuses, [401; 10]);
        // The address then waits 1 s, 2 s, 4 s … between counted failures, so a 429 comes
        // within a few more tries on any machine.
        let (throttled, retry_after) = (0..20)
            .map(|_| attempt("not-the-admin-token"))
            .find(|(reply, _)| reply.status == 429)
            .expect("a 429 within 20 more failures");
        assert_eq!(throttled.json["error"]["code"], "too_many_requests");
        let seconds: u64 = retry_after.expect("Retry-After").parse().unwrap();
        assert!((1..=60).contains(&seconds), "{seconds}");
        // The right token from the same address passes at once.
        assert_eq!(attempt(ADMIN_TOKEN).0.status, 200);
    }

    #[test]
    fn a_short_admin_token_refuses_to_start_naming_the_variable() {
        let dir = config_dir(&[("base.toml", &base_toml())]);
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0",
            ])
            .arg("--config-dir")
            .arg(dir.path())
            .env("GATEWAY_TEST_ADMIN_TOKEN", "x")
            .env("GATEWAY_TEST_SECRET", crate::process::SECRET)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("GATEWAY_TEST_ADMIN_TOKEN"), "{stderr}");
        assert!(stderr.contains("at least 32 bytes"), "{stderr}");
    }
}

/// Creates must reach the store, so the build needs a billing version.
#[cfg(any(feature = "v1", feature = "v2"))]
mod storage {
    use super::*;
    use crate::process::serve_command;
    use crate::volume::{Kind, Volume};

    #[test]
    fn a_failing_store_answers_503_with_retry_after_and_recovers() {
        let dir = config_dir(&[("base.toml", &base_toml())]);
        let server = Server::start_with_env(
            dir.path(),
            dir.path(),
            &[],
            &[("APP__STORAGE__BUSY_TIMEOUT_MS", "200")],
        );
        let agent = agent();
        let token = api_token(&["invoices:write"]);
        let create = |id: &str| {
            let response = agent
                .post(server.url("/api/invoices"))
                .header("Authorization", &format!("Bearer {token}"))
                .send_json(serde_json::json!({
                    "invoice_id": id,
                    "customer": "cust-1",
                    "tax_rate": 1900,
                    "lines": [{"description": "Widget", "quantity": 1, "unit_price": 1000}],
                }))
                .unwrap();
            let retry_after = response.headers().get("retry-after").cloned();
            (reply(response), retry_after)
        };
        assert_eq!(create("inv-s1").0.status, 201);
        // Another connection holds the write lock past the busy timeout: the store fails.
        let other = rusqlite::Connection::open(dir.path().join("data/gateway.db")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let (failed, retry_after) = create("inv-s2");
        assert_eq!(failed.status, 503, "{failed:?}\n{}", server.log());
        assert_eq!(failed.json["error"]["code"], "storage_unavailable");
        assert!(retry_after.is_some(), "Retry-After");
        // The lock goes away: the service recovers by itself.
        other.execute_batch("ROLLBACK").unwrap();
        drop(other);
        assert_eq!(create("inv-s3").0.status, 201);
    }

    #[test]
    fn readiness_says_unavailable_while_the_database_takes_no_writes() {
        let dir = config_dir(&[("base.toml", &base_toml())]);
        let server = Server::start_with_env(
            dir.path(),
            dir.path(),
            &[],
            &[("APP__STORAGE__BUSY_TIMEOUT_MS", "200")],
        );
        let agent = agent();
        assert_eq!(
            reply(agent.get(server.url("/readyz")).call().unwrap()).status,
            200
        );
        // The check is a real write transaction: another connection holding the write lock
        // past the busy timeout makes it fail, on both listeners.
        let other = rusqlite::Connection::open(dir.path().join("data/gateway.db")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        for url in [server.url("/readyz"), server.admin_url("/readyz")] {
            let ready = reply(agent.get(url).call().unwrap());
            assert_eq!(ready.status, 503, "{ready:?}");
            assert_eq!(ready.json, serde_json::json!({"status": "unavailable"}));
        }
        assert!(
            server.log().contains("database is locked"),
            "{}",
            server.log()
        );
        other.execute_batch("ROLLBACK").unwrap();
        drop(other);
        assert_eq!(
            reply(agent.get(server.url("/readyz")).call().unwrap()).status,
            200
        );
    }

    /// A volume that can be made read-only for real, or `None` (the test then passes, printing
    /// why it could not run) on a machine that cannot mount one.
    fn volume() -> Option<Volume> {
        match Volume::new() {
            Ok(volume) => Some(volume),
            Err(reason) => {
                eprintln!("skipped: this machine cannot mount a test volume: {reason}");
                None
            }
        }
    }

    fn create_on(server: &Server, id: &str) -> crate::process::HttpReply {
        let token = api_token(&["invoices:write"]);
        reply(
            agent()
                .post(server.url("/api/invoices"))
                .header("Authorization", &format!("Bearer {token}"))
                .send_json(serde_json::json!({
                    "invoice_id": id,
                    "customer": "cust-1",
                    "tax_rate": 1900,
                    "lines": [{"description": "Widget", "quantity": 1, "unit_price": 1000}],
                }))
                .unwrap(),
        )
    }

    #[test]
    fn an_existing_database_on_read_only_storage_refuses_to_start_naming_path_and_cause() {
        let Some(volume) = volume() else { return };
        let dir = config_dir(&[("base.toml", &base_toml())]);
        let db = volume.mount_point.join("gateway.db");
        let db_text = db.to_str().unwrap();
        let vars = [("APP__STORAGE__PATH", db_text)];
        // A first run creates the database, stores an invoice and is killed: its -wal and -shm
        // files stay, which is what let a read-only database pass a write check that only took
        // the write lock.
        let server = Server::start_wrapped(&volume.enter(), dir.path(), dir.path(), &[], &vars);
        assert_eq!(create_on(&server, "inv-ro1").status, 201);
        server.kill();
        for file in ["gateway.db-wal", "gateway.db-shm"] {
            assert!(volume.exists(&volume.mount_point.join(file)), "{file}");
        }
        volume.remount_read_only();

        let log = dir.path().join("read-only-start.log");
        let mut child = serve_command(&volume.enter(), dir.path(), &[], &vars)
            .current_dir(dir.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // A gateway that starts prints its address and serves on; one that refuses exits.
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        for line in std::io::BufRead::lines(stdout) {
            if line.unwrap().starts_with("gateway listening on") {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!(
                    "the gateway started on read-only storage; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap()
                );
            }
        }
        assert!(!child.wait().unwrap().success());
        let stderr = std::fs::read_to_string(&log).unwrap();
        assert!(stderr.contains("storage.path"), "{stderr}");
        assert!(stderr.contains(db_text), "{stderr}");
        assert!(stderr.contains("Read-only file system"), "{stderr}");
    }

    #[test]
    fn a_running_gateway_whose_storage_turns_read_only_reports_not_ready() {
        let Some(volume) = volume() else { return };
        if volume.kind != Kind::Ext4 {
            eprintln!(
                "skipped: no loop device for ext4, and a tmpfs cannot turn read-only under open files"
            );
            return;
        }
        let dir = config_dir(&[("base.toml", &base_toml())]);
        let db = volume.mount_point.join("gateway.db");
        let db_text = db.to_str().unwrap();
        let server = Server::start_wrapped(
            &volume.enter(),
            dir.path(),
            dir.path(),
            &[],
            &[("APP__STORAGE__PATH", db_text)],
        );
        let agent = agent();
        assert_eq!(
            reply(agent.get(server.admin_url("/readyz")).call().unwrap()).status,
            200
        );
        assert_eq!(create_on(&server, "inv-ro2").status, 201);
        // The kernel turns the file system read-only under the gateway's open files, as after
        // a disk error.
        if let Err(reason) = volume.force_read_only() {
            eprintln!("skipped: {reason}");
            return;
        }
        for url in [server.url("/readyz"), server.admin_url("/readyz")] {
            let ready = reply(agent.get(&url).call().unwrap());
            assert_eq!(ready.status, 503, "{url}: {ready:?}\n{}", server.log());
            assert_eq!(ready.json, serde_json::json!({"status": "unavailable"}));
        }
        let failed = create_on(&server, "inv-ro3");
        assert_eq!(failed.status, 503, "{failed:?}");
        assert_eq!(failed.json["error"]["code"], "storage_unavailable");
        let log = server.log();
        assert!(log.contains(db_text), "{log}");
        assert!(log.contains("Read-only file system"), "{log}");
    }
}

mod protocol_and_input {
    use axum::body::Body;
    use axum::http::{Method, StatusCode};

    use super::*;
    use crate::support::{TestApp, admin, request, token};

    #[tokio::test]
    async fn unknown_methods_and_paths_answer_json() {
        let app = TestApp::new();
        let reply = app
            .send(
                request(Method::DELETE, "/api/v1/invoices", None)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(reply.error_code(), "method_not_allowed");
        let reply = app
            .send(
                request(Method::GET, "/nope", None)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.error_code(), "not_found");
    }

    #[tokio::test]
    async fn an_over_limit_content_length_is_refused_before_the_body_is_read() {
        let app = TestApp::new();
        // A body that never ends: reading it would hang the request.
        let endless = Body::new(Endless);
        let request = request(
            Method::POST,
            "/api/invoices",
            Some(&token(&["invoices:write"])),
        )
        .header("content-type", "application/json")
        .header("content-length", "1000000")
        .body(endless)
        .unwrap();
        let reply = tokio::time::timeout(Duration::from_secs(5), app.send(request))
            .await
            .expect("answered without reading the body");
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(reply.error_code(), "payload_too_large");
    }

    /// A request body that never yields a byte.
    struct Endless;

    impl hyper::body::Body for Endless {
        type Data = axum::body::Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
            std::task::Poll::Pending
        }
    }

    // The invoice endpoints, where tokens are checked, exist only in a build with a billing
    // version.
    #[cfg(any(feature = "v1", feature = "v2"))]
    #[tokio::test]
    async fn the_bearer_scheme_is_case_insensitive() {
        let app = TestApp::new();
        let reply = app
            .send(
                axum::http::Request::builder()
                    .method(Method::GET)
                    .uri("/api/invoices/none-1")
                    .header(
                        "authorization",
                        format!("BEARER {}", token(&["invoices:read"])),
                    )
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());
        assert_eq!(reply.error_code(), "not_found");
    }

    #[tokio::test]
    async fn tokens_living_longer_than_max_ttl_are_refused() {
        let app = TestApp::new();
        let scopes = [auth::Scope::parse("invoices:read").unwrap()];
        let long = crate::support::keyring().issue(
            &auth::Subject::parse("tester").unwrap(),
            &scopes,
            gateway::unix_now() + 2 * 24 * 3600,
        );
        let reply = app
            .send(
                request(Method::GET, "/api/invoices/none-1", Some(&long))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(
            reply.text().contains("auth.max_ttl_seconds"),
            "{}",
            reply.text()
        );
    }

    #[tokio::test]
    async fn a_reload_says_which_changed_settings_need_a_restart() {
        let app = TestApp::new();
        let base = crate::support::base_toml()
            .replace("body_limit_bytes = 4096", "body_limit_bytes = 8192");
        app.write("base.toml", &base);
        let reply = app.send(admin(Method::POST, "/config/reload")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        // (The fixture runs on a database path of its own, which differs from the config too.)
        let keys = reply.json()["restart_required"].clone();
        let keys: Vec<&str> = keys
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert!(keys.contains(&"server.body_limit_bytes"), "{keys:?}");
        assert!(!keys.contains(&"server.listen"), "{keys:?}");
    }

    #[tokio::test]
    async fn a_typo_in_a_gateway_section_fails_the_reload_naming_file_line_and_valid_keys() {
        let app = TestApp::new();
        let base = crate::support::base_toml().replace("body_limit_bytes", "body_limit");
        app.write("base.toml", &base);
        let reply = app.send(admin(Method::POST, "/config/reload")).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.text()
        );
        let error = &reply.json()["error"];
        assert_eq!(error["file"], "base.toml");
        assert_eq!(error["line"], 4);
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("unknown field `body_limit`"), "{message}");
        assert!(message.contains("body_limit_bytes"), "{message}");

        let near_miss = crate::support::base_toml() + "\n[storge]\npath = 'x.db'\n";
        app.write("base.toml", &near_miss);
        let reply = app.send(admin(Method::POST, "/config/reload")).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.text()
        );
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("did you mean [storage]"), "{message}");
    }
}

mod command_line {
    use super::*;

    fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
            .args(args)
            .env("ENABLE_GRAY_CONFIG", "true")
            .env("GATEWAY_TEST_SECRET", crate::process::SECRET)
            .env_remove("ENV")
            .current_dir(dir)
            .output()
            .unwrap()
    }

    #[test]
    fn version_lists_the_billing_versions_built_in() {
        let dir = tempfile::tempdir().unwrap();
        let text = String::from_utf8(run(dir.path(), &["--version"]).stdout).unwrap();
        for version in gateway::BILLING_VERSIONS {
            assert!(text.contains(version), "{text}");
        }
        assert!(text.contains("billing"), "{text}");
    }

    #[test]
    fn token_issue_refuses_unknown_or_missing_scopes_and_long_lives() {
        let dir = config_dir(&[("base.toml", &base_toml())]);
        let base = ["token", "issue", "--config-dir", ".", "--subject", "ops"];
        for (extra, expected) in [
            (&[][..], "at least one --scope"),
            (
                &["--scope", "invoices:delete"][..],
                "unknown --scope invoices:delete",
            ),
            (
                &["--scope", "invoices:read", "--ttl-seconds", "999999"][..],
                "auth.max_ttl_seconds",
            ),
        ] {
            let args: Vec<&str> = base.iter().chain(extra).copied().collect();
            let output = run(dir.path(), &args);
            assert!(!output.status.success(), "{args:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains(expected), "{args:?}: {stderr}");
        }
    }

    #[test]
    fn a_gateway_section_in_a_gray_fragment_is_a_load_error() {
        let dir = config_dir(&[
            ("base.toml", &base_toml()),
            ("gray/x.toml", "[server]\nbody_limit_bytes = 1\n"),
        ]);
        let output = run(dir.path(), &["config", "show", "--config-dir", "."]);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("gray/x.toml"), "{stderr}");
        assert!(
            stderr.contains("not allowed in a gray/ fragment"),
            "{stderr}"
        );
    }
}

mod protocol_limits {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;

    use super::*;

    /// Sends `request` raw and returns the status line and the body.
    fn raw(server: &Server, request: &str) -> (String, String) {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text.lines().next().unwrap_or_default().to_owned();
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
        (status, body)
    }

    #[test]
    fn long_uris_and_large_headers_answer_json() {
        let dir = config_dir(&[("base.toml", &base_toml())]);
        let server = Server::start(dir.path());
        let long_path = format!("/{}", "a".repeat(10_000));
        let (status, body) = raw(
            &server,
            &format!("GET {long_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        );
        assert!(status.contains("414"), "{status}");
        assert!(body.contains("\"uri_too_long\""), "{body}");

        let many: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
        let (status, body) = raw(
            &server,
            &format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}Connection: close\r\n\r\n"),
        );
        assert!(status.contains("431"), "{status}");
        assert!(body.contains("\"headers_too_large\""), "{body}");

        let big = "v".repeat(40_000);
        let (status, body) = raw(
            &server,
            &format!(
                "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\nConnection: close\r\n\r\n"
            ),
        );
        assert!(status.contains("431"), "{status}");
        assert!(body.contains("\"headers_too_large\""), "{body}");
    }
}
