//! The outbox across reopen, and the write check: a commit that reaches the file, which fails
//! while another connection holds the write lock.

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
    assert!(matches!(err, StoreError::NotWritable { .. }), "{err}");
    assert!(err.is_busy());
    assert_eq!(
        err.to_string(),
        format!(
            "invoice store {} does not take writes: database is locked",
            path.display()
        )
    );
    other.execute_batch("ROLLBACK").unwrap();
    store.check_writable().unwrap();
    // The check changed no data.
    assert_eq!(store.count().unwrap(), 0);
}

/// Taking the write lock proves nothing on read-only storage whose `-wal` and `-shm` files
/// exist (SQLite grants it there); only a commit that reaches the file does.
#[test]
fn the_write_check_commits_a_write_that_other_connections_see() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.db");
    let store = Store::open(&path).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    let data_version = || -> i64 {
        other
            .pragma_query_value(None, "data_version", |row| row.get(0))
            .unwrap()
    };
    let user_version = || -> i64 {
        other
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    };
    let before = (data_version(), user_version());
    store.check_writable().unwrap();
    let after = (data_version(), user_version());
    assert_ne!(after.0, before.0, "another connection sees a commit");
    assert_eq!(after.1, before.1, "and no changed value");
    assert_eq!(store.count().unwrap(), 0);
}
