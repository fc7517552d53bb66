//! Migrating up from an empty database and from every older version (1, 2 and the contracted
//! 3), and refusing newer ones.

use rusqlite::Connection;
use shared::domain::Currency;
use store::migrations::{self, CONTRACT_BILLING_V2, Target};
use store::{Store, StoreError};

use crate::support::{self, id, v1_invoice, v2_invoice};

fn schema_rows(path: &std::path::Path) -> Vec<(u32, String, String)> {
    support::schema_rows(&Connection::open(path).unwrap())
}

/// A database as a binary that knew only migration 1 left it: the v1 schema and v1 rows,
/// written with the v1 columns alone.
fn version_1_database(path: &std::path::Path) {
    let mut conn = Connection::open(path).unwrap();
    let reached =
        migrations::migrate(&mut conn, "v1.db", Target::Through(1), Currency::EUR).unwrap();
    assert_eq!(reached, 1);
    conn.execute_batch(
        "INSERT INTO invoices (id, customer, tax_rate_bp, subtotal, tax, total)
             VALUES ('old-1', 'cust-1', 1900, 1200, 228, 1428);
         INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_price,
                                    discount_kind, discount_value, discount_amount, tax)
             VALUES ('old-1', 0, 'Widget', 2, 150, 'none', 0, 0, 57),
                    ('old-1', 1, 'Gadget', 1, 999, 'fixed', 99, 99, 171);",
    )
    .unwrap();
}

#[test]
fn an_empty_database_is_migrated_through_every_expand_step() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version(), 4);
    assert!(!store.contracted());
    drop(store);
    let rows = schema_rows(&path);
    let names: Vec<_> = rows
        .iter()
        .map(|(v, n, k)| (*v, n.as_str(), k.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (1, "billing_v1_schema", "expand"),
            (2, "billing_v2_expand", "expand"),
            (4, "notification_outbox", "expand"),
        ]
    );
}

#[test]
fn a_version_1_database_with_v1_rows_upgrades_and_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.db");
    version_1_database(&path);

    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version(), 4);
    let old = store.get_v1(&id("old-1")).unwrap().unwrap();
    assert_eq!(old, v1_invoice("old-1", 1900));
    let as_v2 = store.get_v2(&id("old-1")).unwrap().unwrap();
    assert_eq!(as_v2.currency(), Currency::EUR);
    assert_eq!(as_v2.idempotency_key().as_str(), "v1:old-1");
    assert_eq!(as_v2.totals().total().amount().minor(), 1428);

    // The expanded schema takes v2 writes beside the old rows.
    let new = v2_invoice("new-1", "key-1", Currency::USD, &[700, 1900]);
    store.create_v2(&new).unwrap();
    assert_eq!(store.get_v2(&id("new-1")).unwrap(), Some(new));
    assert_eq!(store.count().unwrap(), 2);
}

#[test]
fn a_version_2_database_gains_the_outbox_and_contracts_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.db");
    version_1_database(&path);
    // As a binary that knew migrations 1 and 2 left it.
    let mut conn = Connection::open(&path).unwrap();
    migrations::migrate(&mut conn, "v2.db", Target::Through(2), Currency::EUR).unwrap();
    drop(conn);
    assert_eq!(schema_rows(&path).len(), 2);

    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version(), 4);
    assert!(!store.contracted());
    assert_eq!(store.apply_contract_migration().unwrap(), 4);
    assert!(store.contracted());
    drop(store);
    let rows = schema_rows(&path);
    assert_eq!(
        rows[2],
        (3, CONTRACT_BILLING_V2.to_owned(), "contract".to_owned())
    );
    assert_eq!(rows.len(), 4);

    // The contracted schema is detected on reopen from the recorded step, not the version.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version(), 4);
    assert!(store.contracted());
    assert_eq!(
        store.get_v1(&id("old-1")).unwrap(),
        Some(v1_invoice("old-1", 1900))
    );
    let conn = Connection::open(&path).unwrap();
    let backfilled: (String, i64) = conn
        .query_row(
            "SELECT i.currency, l.tax_rate_bp FROM invoices i
               JOIN invoice_lines l ON l.invoice_id = i.id WHERE i.id = 'old-1' LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(backfilled, ("EUR".to_owned(), 1900));
}

#[test]
fn a_database_newer_than_the_binary_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.db");
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO schema_migrations (version, name, kind) VALUES (5, 'from_the_future', 'expand')",
            [],
        )
        .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 5,
                known: 4,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "invoice store {} is at schema version 5, but this binary knows versions up to 4; \
             run a newer binary",
            path.display()
        )
    );
}

#[test]
fn processes_opening_a_new_database_at_once_migrate_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.db");
    let barrier = std::sync::Barrier::new(4);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                barrier.wait();
                assert_eq!(Store::open(&path).unwrap().schema_version(), 4);
            });
        }
    });
    assert_eq!(schema_rows(&path).len(), 3);
}

/// Separate processes, as two gateways started together on one volume are: this test binary
/// runs itself once per opener, each child opening the database named in the environment at
/// the instant the parent names, and the parent checks they all succeeded and migrated once.
#[test]
fn separate_processes_opening_one_database_at_once_all_start_and_migrate_once() {
    const CHILD_DB: &str = "GRAYWORK_STORE_TEST_CHILD_DB";
    const CHILD_START: &str = "GRAYWORK_STORE_TEST_CHILD_START_MS";
    if let Some(path) = std::env::var_os(CHILD_DB) {
        // In a child: wait for the common start, open, and report the version.
        let start: u128 = std::env::var(CHILD_START).unwrap().parse().unwrap();
        while unix_ms() < start {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let store = Store::open(std::path::Path::new(&path)).unwrap();
        println!("child-schema-version={}", store.schema_version());
        return;
    }
    let exe = std::env::current_exe().unwrap();
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gateway.db");
        let start = unix_ms() + 300;
        let children: Vec<_> = (0..4)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args([
                        "--exact",
                        "migrations::separate_processes_opening_one_database_at_once_all_start_and_migrate_once",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env(CHILD_DB, &path)
                    .env(CHILD_START, start.to_string())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && stdout.contains("child-schema-version=4"),
                "round {round}: a child failed to open the new database:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(schema_rows(&path).len(), 3, "round {round}");
    }
}

fn unix_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

#[test]
fn a_store_opened_before_the_contract_migration_fails_until_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.db");
    let before = Store::open(&path).unwrap();
    before.create_v1(&v1_invoice("inv-1", 1900)).unwrap();
    Store::open(&path)
        .unwrap()
        .apply_contract_migration()
        .unwrap();
    let err = before.get_v1(&id("inv-1")).unwrap_err();
    assert!(
        matches!(err, StoreError::Database { .. }) && err.to_string().contains("tax_rate_bp"),
        "{err}"
    );
    drop(before);
    let after = Store::open(&path).unwrap();
    assert_eq!(
        after.get_v1(&id("inv-1")).unwrap(),
        Some(v1_invoice("inv-1", 1900))
    );
}

/// Opens `path` as this binary does and checks the outbox works there: a create queues its
/// notice in the same transaction, and the notice is due at once.
fn outbox_works(path: &std::path::Path, invoice: &str) {
    let store = Store::open(path).unwrap();
    assert_eq!(store.schema_version(), 4);
    store
        .create_v1_with_notice(&v1_invoice(invoice, 1900), &support::message("hello"))
        .unwrap();
    let due = store.due_notices(u64::MAX, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].delivery_key, format!("invoice-created/{invoice}"));
}

#[test]
fn every_older_version_upgrades_to_the_outbox() {
    // 0: a new file; 1 and 2: as binaries that knew only those left them; 3: a database whose
    // contract step ran before the outbox existed.
    for through in [0, 1, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gateway.db");
        version_1_database(&path);
        let mut conn = Connection::open(&path).unwrap();
        if through > 1 {
            migrations::migrate(&mut conn, "old.db", Target::Through(through), Currency::EUR)
                .unwrap();
        }
        drop(conn);
        if through == 0 {
            std::fs::remove_file(&path).unwrap();
        }
        outbox_works(&path, &format!("new-{through}"));

        let rows = schema_rows(&path);
        let versions: Vec<u32> = rows.iter().map(|row| row.0).collect();
        let expected: &[u32] = if through == 3 {
            &[1, 2, 3, 4]
        } else {
            &[1, 2, 4]
        };
        assert_eq!(versions, expected, "from version {through}");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.contracted(), through == 3, "from version {through}");
        if through > 0 {
            assert_eq!(
                store.get_v1(&id("old-1")).unwrap(),
                Some(v1_invoice("old-1", 1900)),
                "from version {through}"
            );
        }
        // The contract step still runs (or stays done) after the outbox step.
        assert_eq!(store.apply_contract_migration().unwrap(), 4);
        assert!(store.contracted());
        assert_eq!(store.outbox_counts().unwrap().pending, 1);
    }
}
