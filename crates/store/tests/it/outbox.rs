//! The outbox across reopen, and the write check against a database another connection locks.

use std::time::Duration;

use store::{Store, StoreError, StoreOptions};

use crate::support::{message, v1_invoice};

#[test]
fn pending_notices_and_their_attempts_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.db");
    {
        let store = Store::open(&path).unwrap();
        for n in 0..3 {
            store
                .create_v1_with_notice(&v1_invoice(&format!("inv-{n}"), 1900), &message("m"))
                .unwrap();
        }
        let due = store.due_notices(0, 10).unwrap();
        store.mark_delivered(&[due[0].id], 10).unwrap();
        store.mark_failed(due[1].id, 500, "refused").unwrap();
    }
    let store = Store::open(&path).unwrap();
    let due: Vec<_> = store
        .due_notices(1_000, 10)
        .unwrap()
        .into_iter()
        .map(|n| (n.invoice_id, n.attempts))
        .collect();
    assert_eq!(due, [("inv-2".to_owned(), 0), ("inv-1".to_owned(), 1)]);
}

#[test]
fn the_write_check_fails_while_another_connection_holds_the_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.db");
    let options = StoreOptions {
        busy_timeout: Duration::from_millis(50),
        ..StoreOptions::default()
    };
    let store = Store::open_with(&path, &options).unwrap();
    store.check_writable().unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = store.check_writable().unwrap_err();
    assert!(matches!(err, StoreError::Database { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "query on invoice store {} failed: database is locked",
            path.display()
        )
    );
    other.execute_batch("ROLLBACK").unwrap();
    store.check_writable().unwrap();
    // The check wrote nothing.
    assert_eq!(store.count().unwrap(), 0);
}
