//! The outbox dispatcher in the real binary: a failing delivery is retried with backoff and
//! resumes by itself once the sender works, each notice keeping its delivery key.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::crash::{outbox_toml, wait_for_deliveries};
use crate::process::{ADMIN_TOKEN, Server, agent, api_token, reply};
use crate::support::{base_toml, config_dir};

/// The value of `outbox_deliveries_total{result="RESULT"}` on `/metrics`.
fn deliveries(server: &Server, result: &str) -> u64 {
    let text = agent()
        .get(server.admin_url("/metrics"))
        .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    let prefix = format!("outbox_deliveries_total{{result=\"{result}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn a_failing_sender_is_retried_and_delivery_resumes_once_it_works() {
    let spool = tempfile::tempdir().unwrap();
    let file = spool.path().join("spool/notices.jsonl");
    let base = format!("{}{}", base_toml(), outbox_toml(&file));
    let dir = config_dir(&[("base.toml", &base)]);
    let server = Server::start(dir.path());
    let token = api_token(&["invoices:write"]);
    let agent = agent();
    let mut wanted = BTreeSet::new();
    for n in 0..3 {
        let id = format!("inv-o{n}");
        let created = reply(
            agent
                .post(server.url("/api/invoices"))
                .header("Authorization", &format!("Bearer {token}"))
                .send_json(json!({
                    "invoice_id": id,
                    "customer": "cust-1",
                    "tax_rate": 1900,
                    "lines": [{"description": "Widget", "quantity": 1, "unit_price": 1000}],
                    "notify": {"sms": "+4915112345678"},
                }))
                .unwrap(),
        );
        assert_eq!(created.status, 201, "{created:?}");
        wanted.insert(format!("invoice-created/{id}"));
    }

    // The spool directory is missing: every attempt fails and is tried again later. Wait
    // until each notice has failed twice (read from the database the gateway writes).
    let db = rusqlite::Connection::open(dir.path().join("data/gateway.db")).unwrap();
    let least_failures = || -> u32 {
        db.query_row(
            "SELECT min(attempts) FROM notification_outbox WHERE delivered_at IS NULL",
            [],
            |row| row.get::<_, Option<u32>>(0),
        )
        .unwrap()
        .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while least_failures() < 2 {
        assert!(Instant::now() < deadline, "no retries\n{}", server.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    // The failures are counted after they are recorded: wait for the count to follow.
    while deliveries(&server, "failed") < 6 {
        assert!(
            Instant::now() < deadline,
            "failures not counted\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(deliveries(&server, "delivered"), 0);
    assert!(
        server
            .log()
            .contains("invoice notice delivery failed; will retry"),
        "{}",
        server.log()
    );

    std::fs::create_dir(spool.path().join("spool")).unwrap();
    let delivered = wait_for_deliveries(&file, &wanted, &server);
    assert_eq!(delivered.len(), 3);
    for line in delivered.values() {
        assert_eq!(line["message"]["channel"], "sms", "{line}");
        assert!(line["attempt"].as_u64().unwrap() >= 3, "{line}");
    }
    // The dispatcher counts a delivery after it has written it: wait for the count to follow.
    let deadline = Instant::now() + Duration::from_secs(30);
    while deliveries(&server, "delivered") < 3 {
        assert!(
            Instant::now() < deadline,
            "deliveries not counted\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
