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
