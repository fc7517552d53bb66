//! What was acknowledged is still there after the store is closed and opened again.

use shared::domain::Currency;
use store::{Outcome, Store};

use crate::support::{id, v1_invoice, v2_invoice};

#[test]
fn invoices_survive_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/gateway.db");
    let v1 = v1_invoice("inv-1", 1900);
    let v2 = v2_invoice("inv-2", "key-2", Currency::USD, &[700, 1900]);
    {
        let store = Store::open(&path).unwrap();
        store.create_v1(&v1).unwrap();
        store.create_v2(&v2).unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count().unwrap(), 2);
    assert_eq!(store.get_v1(&id("inv-1")).unwrap(), Some(v1));
    assert_eq!(store.get_v2(&id("inv-2")).unwrap(), Some(v2.clone()));
    // The key is remembered across the restart.
    assert_eq!(store.create_v2(&v2).unwrap().outcome, Outcome::Replayed);
}

#[test]
fn a_second_connection_sees_each_write_once_it_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.db");
    let writer = Store::open(&path).unwrap();
    let reader = Store::open(&path).unwrap();
    for n in 0..10 {
        let invoice = v1_invoice(&format!("inv-{n}"), 1900);
        writer.create_v1(&invoice).unwrap();
        assert_eq!(reader.get_v1(invoice.id()).unwrap(), Some(invoice));
    }
}
