//! v2 creates with an idempotency key store one invoice, however many retries race.

use std::sync::{Arc, Barrier};

use shared::domain::Currency;
use store::{Outcome, Store};

use crate::support::{key, v2_invoice};

const THREADS: usize = 8;

#[test]
fn concurrent_retries_on_one_store_create_one_invoice() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    let invoice = v2_invoice("inv-1", "retry-key", Currency::USD, &[700, 1900]);
    let barrier = Barrier::new(THREADS);
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    store.create_v2(&invoice).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = results
        .iter()
        .filter(|r| r.outcome == Outcome::Created)
        .count();
    assert_eq!(created, 1);
    assert!(results.iter().all(|r| r.invoice == invoice));
    assert_eq!(store.count().unwrap(), 1);
}

#[test]
fn concurrent_retries_through_separate_connections_create_one_invoice_per_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.db");
    // Separate stores are separate connections: only SQLite's locking and the key's UNIQUE
    // index keep them from storing duplicates, as between processes.
    let stores: Vec<_> = (0..4).map(|_| Store::open(&path).unwrap()).collect();
    let invoices: Vec<_> = (0..20)
        .map(|n| {
            v2_invoice(
                &format!("inv-{n}"),
                &format!("key-{n}"),
                Currency::EUR,
                &[1900],
            )
        })
        .collect();
    let barrier = Barrier::new(stores.len());
    let outcomes: Vec<Vec<Outcome>> = std::thread::scope(|scope| {
        let handles: Vec<_> = stores
            .iter()
            .map(|store| {
                let (barrier, invoices) = (&barrier, &invoices);
                scope.spawn(move || {
                    barrier.wait();
                    invoices
                        .iter()
                        .map(|invoice| {
                            let stored = store.create_v2(invoice).unwrap();
                            assert_eq!(&stored.invoice, invoice);
                            stored.outcome
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = outcomes
        .iter()
        .flatten()
        .filter(|&&o| o == Outcome::Created)
        .count();
    assert_eq!(created, invoices.len());
    assert_eq!(stores[0].count().unwrap(), invoices.len() as u64);
    for invoice in &invoices {
        assert_eq!(
            stores[3]
                .get_v2_by_idempotency_key(&key(invoice.idempotency_key().as_str()))
                .unwrap()
                .as_ref(),
            Some(invoice)
        );
    }
}
