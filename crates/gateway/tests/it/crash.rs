//! Nothing acknowledged is lost: SIGKILL the binary in the middle of a burst of creates,
//! restart it on the same database, and find every acknowledged invoice, and its notice
//! delivered by the outbox.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::process::{Server, agent, api_token, reply};
use crate::support::{base_toml, config_dir};

const WRITERS: usize = 4;
/// Acknowledged creates to wait for before the kill; the writers keep going until it lands.
const KILL_AFTER: usize = 60;

/// Starts [`WRITERS`] threads creating invoices against `server` and SIGKILLs it once
/// [`KILL_AFTER`] creates are acknowledged; returns the acknowledged invoice ids.
fn burst_until_killed(server: Server, token: &str) -> Vec<String> {
    let url = server.url("/api/invoices");
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (url, token) = (url.clone(), token.to_owned());
            let (acknowledged, stop) = (Arc::clone(&acknowledged), Arc::clone(&stop));
            std::thread::spawn(move || {
                let agent = agent();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let id = format!("inv-{writer}-{n}");
                    let body = json!({
                        "invoice_id": id,
                        "customer": "cust-1",
                        "tax_rate": 1900,
                        "lines": [{"description": "Widget", "quantity": 1, "unit_price": 100 + n}],
                    });
                    let sent = agent
                        .post(&url)
                        .header("Authorization", &format!("Bearer {token}"))
                        .send_json(body);
                    match sent {
                        Ok(response) if response.status().as_u16() == 201 => {
                            acknowledged.lock().unwrap().push(id);
                        }
                        Ok(response) => panic!("create {id} answered {}", response.status()),
                        // The server died mid-request: this create was never acknowledged.
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();

    while acknowledged.lock().unwrap().len() < KILL_AFTER {
        std::thread::yield_now();
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= KILL_AFTER);
    acknowledged
}

#[test]
fn every_acknowledged_invoice_survives_sigkill() {
    let dir = config_dir(&[("base.toml", &base_toml())]);
    let server = Server::start(dir.path());
    let token = api_token(&["invoices:write", "invoices:read"]);
    let acknowledged = burst_until_killed(server, &token);

    let restarted = Server::start(dir.path());
    let agent = agent();
    for id in &acknowledged {
        let found = reply(
            agent
                .get(restarted.url(&format!("/api/invoices/{id}")))
                .header("Authorization", &format!("Bearer {token}"))
                .call()
                .unwrap(),
        );
        assert_eq!(
            found.status,
            200,
            "acknowledged invoice {id} is missing: {found:?}\n{}",
            restarted.log()
        );
        assert!(found.billing_version.is_some());
        assert_eq!(found.json["id"], id.as_str());
    }
}

#[test]
fn every_acknowledged_invoice_s_notice_is_delivered_after_sigkill() {
    // The notice file's directory is missing during the burst, so every notice is still
    // pending (failing, retried) when the process is killed; it appears before the restart.
    let spool = tempfile::tempdir().unwrap();
    let file = spool.path().join("spool/notices.jsonl");
    let base = format!("{}{}", base_toml(), outbox_toml(&file));
    let dir = config_dir(&[("base.toml", &base)]);
    let server = Server::start(dir.path());
    let token = api_token(&["invoices:write"]);
    let acknowledged = burst_until_killed(server, &token);
    assert!(!file.exists());

    std::fs::create_dir(spool.path().join("spool")).unwrap();
    let restarted = Server::start(dir.path());
    let wanted: BTreeSet<String> = acknowledged
        .iter()
        .map(|id| format!("invoice-created/{id}"))
        .collect();
    let delivered = wait_for_deliveries(&file, &wanted, &restarted);
    // At least once: every acknowledged notice, each with its invoice and message; creates
    // that were in flight at the kill may have committed too, and deliver as well.
    for key in &wanted {
        let line = &delivered[key];
        assert_eq!(
            line["invoice_id"].as_str().unwrap(),
            key.strip_prefix("invoice-created/").unwrap()
        );
        assert_eq!(line["message"]["channel"], "email", "{line}");
        assert_eq!(line["message"]["to"], "billing@example.com", "{line}");
    }
}

/// An `[outbox]` section delivering to `file`, retrying quickly.
pub fn outbox_toml(file: &Path) -> String {
    format!(
        "\n[outbox]\nsender = \"file\"\nfile = '{}'\nretry_initial_ms = 50\nretry_max_ms = 400\npoll_interval_ms = 50\n",
        file.display()
    )
}

/// The notice file's lines by delivery key, once every key in `wanted` is there. Gives up
/// (failing the test with the server's log) after a minute, so a lost notice cannot hang it.
pub fn wait_for_deliveries(
    file: &Path,
    wanted: &BTreeSet<String>,
    server: &Server,
) -> BTreeMap<String, serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let delivered: BTreeMap<String, serde_json::Value> = text
            .lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                (value["delivery_key"].as_str().unwrap().to_owned(), value)
            })
            .collect();
        let missing: Vec<_> = wanted
            .iter()
            .filter(|key| !delivered.contains_key(*key))
            .collect();
        if missing.is_empty() {
            return delivered;
        }
        assert!(
            Instant::now() < deadline,
            "{} notices never delivered, e.g. {:?}\n{}",
            missing.len(),
            missing.first(),
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
