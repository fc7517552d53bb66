//! Invoice creation and reads on a file database in WAL mode with one writer.
//!
//! Each create is one committed transaction, so the throughput is inserts per second as the
//! gateway sees them. Run with `cargo bench -p store --bench store`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use shared::billing::{v1, v2};
use shared::domain::{
    Amount, Currency, CustomerId, Description, Discount, IdempotencyKey, InvoiceId, Money,
    Quantity, Rate,
};
use store::{Store, StoreOptions, Synchronous};

/// A three-line v2 invoice, the size of a typical request.
fn v2_invoice(n: u64) -> v2::Invoice {
    let rate = Rate::from_basis_points(1900).unwrap();
    let lines = (0..3)
        .map(|line| {
            let item = v2::LineItem::new(
                Description::parse(&format!("Item {line}")).unwrap(),
                Quantity::new(2).unwrap(),
                Money::from_minor(1_000, Currency::EUR),
                Discount::None,
                rate,
            )
            .unwrap();
            v2::InvoiceLine::new(item, Amount::ZERO, Amount::from_minor(380)).unwrap()
        })
        .collect();
    v2::Invoice::new(
        InvoiceId::parse(&format!("inv-{n}")).unwrap(),
        CustomerId::parse("cust-1").unwrap(),
        IdempotencyKey::parse(&format!("key-{n}")).unwrap(),
        v2::Quote::new(Currency::EUR, lines).unwrap(),
    )
}

fn v1_invoice(n: u64) -> v1::Invoice {
    let rate = Rate::from_basis_points(1900).unwrap();
    let lines = (0..3)
        .map(|line| {
            let item = v1::LineItem::new(
                Description::parse(&format!("Item {line}")).unwrap(),
                Quantity::new(2).unwrap(),
                Amount::from_minor(1_000),
                Discount::None,
            )
            .unwrap();
            v1::InvoiceLine::new(item, Amount::ZERO, Amount::from_minor(380)).unwrap()
        })
        .collect();
    v1::Invoice::new(
        InvoiceId::parse(&format!("inv-{n}")).unwrap(),
        CustomerId::parse("cust-1").unwrap(),
        rate,
        lines,
    )
    .unwrap()
}

fn open(dir: &tempfile::TempDir, synchronous: Synchronous) -> Store {
    let options = StoreOptions {
        synchronous,
        ..StoreOptions::default()
    };
    Store::open_with(dir.path().join("bench.db"), &options).unwrap()
}

fn creates(c: &mut Criterion) {
    let mut group = c.benchmark_group("create");
    group.throughput(Throughput::Elements(1));
    for (name, synchronous) in [
        ("wal_normal", Synchronous::Normal),
        ("wal_full", Synchronous::Full),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir, synchronous);
        let mut next = 0u64;
        group.bench_function(format!("v2_{name}"), |b| {
            b.iter_batched(
                || {
                    next += 1;
                    v2_invoice(next)
                },
                |invoice| black_box(store.create_v2(&invoice).unwrap()),
                BatchSize::SmallInput,
            );
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, Synchronous::Normal);
    let mut next = 0u64;
    group.bench_function("v1_wal_normal", |b| {
        b.iter_batched(
            || {
                next += 1;
                v1_invoice(next)
            },
            |invoice| black_box(store.create_v1(&invoice).unwrap()),
            BatchSize::SmallInput,
        );
    });
    let replayed = v2_invoice(0);
    store.create_v2(&replayed).unwrap();
    group.bench_function("v2_replay_wal_normal", |b| {
        b.iter(|| black_box(store.create_v2(&replayed).unwrap()));
    });
    group.finish();

    let mut group = c.benchmark_group("read");
    group.throughput(Throughput::Elements(1));
    let id = replayed.id().clone();
    group.bench_function("v2_by_id", |b| {
        b.iter(|| black_box(store.get_v2(&id).unwrap()));
    });
    group.finish();
}

criterion_group!(benches, creates);
criterion_main!(benches);
