//! Benchmarks: pricing a 10-line and a 100-line invoice through v1, v2, and v1 over v2.

use std::hint::black_box;

use billing::Calculator;
use criterion::{Criterion, criterion_group, criterion_main};
use shared::billing::bridge::{self, V1OverV2};
use shared::billing::{v1, v2};
use shared::domain::{Amount, CustomerId, Description, Discount, InvoiceId, Quantity, Rate};

fn request(lines: usize) -> v1::InvoiceRequest {
    let items = (0..lines)
        .map(|n| {
            let discount = match n % 3 {
                0 => Discount::None,
                1 => Discount::Percent(Rate::from_basis_points(750).unwrap()),
                _ => Discount::Fixed(Amount::from_minor(99)),
            };
            v1::LineItem::new(
                Description::parse(&format!("Item {n}")).unwrap(),
                Quantity::new(1 + (n as i64 % 7)).unwrap(),
                Amount::from_minor(1_999 + n as i64 * 37),
                discount,
            )
            .unwrap()
        })
        .collect();
    v1::InvoiceRequest::new(
        InvoiceId::parse("inv-bench").unwrap(),
        CustomerId::parse("cust-bench").unwrap(),
        Rate::from_basis_points(1900).unwrap(),
        items,
    )
    .unwrap()
}

fn pricing(c: &mut Criterion) {
    let calculator = Calculator::new();
    let bridged = V1OverV2::new(Calculator::new());
    for lines in [10, 100] {
        let v1_request = request(lines);
        let v2_request = bridge::request_to_v2(&v1_request).unwrap();
        let key = bridge::idempotency_key_for(v1_request.invoice_id());
        c.bench_function(&format!("v1 create_invoice, {lines} lines"), |b| {
            b.iter(|| v1::Billing::create_invoice(&calculator, black_box(&v1_request)).unwrap())
        });
        c.bench_function(&format!("v2 create_invoice, {lines} lines"), |b| {
            b.iter(|| {
                v2::Billing::create_invoice(&calculator, black_box(&v2_request), &key).unwrap()
            })
        });
        c.bench_function(&format!("v1 over v2 create_invoice, {lines} lines"), |b| {
            b.iter(|| v1::Billing::create_invoice(&bridged, black_box(&v1_request)).unwrap())
        });
    }
}

criterion_group!(benches, pricing);
criterion_main!(benches);
