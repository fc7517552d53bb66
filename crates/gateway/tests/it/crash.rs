//! Nothing acknowledged is lost: SIGKILL the binary in the middle of a burst of creates,
//! restart it on the same database, and find every acknowledged invoice.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::process::{Server, agent, api_token, reply};
use crate::support::{base_toml, config_dir};

const WRITERS: usize = 4;
/// Acknowledged creates to wait for before the kill; the writers keep going until it lands.
const KILL_AFTER: usize = 60;

#[test]
fn every_acknowledged_invoice_survives_sigkill() {
    let dir = config_dir(&[("base.toml", &base_toml())]);
    let server = Server::start(dir.path());
    let url = server.url("/api/invoices");
    let token = api_token(&["invoices:write", "invoices:read"]);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (url, token) = (url.clone(), token.clone());
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
