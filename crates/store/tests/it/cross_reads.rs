//! Invoices written through one billing version and read through the other.

use shared::billing::bridge;
use shared::billing::v1::RequiresV2;
use shared::domain::Currency;
use store::{Store, StoreError};

use crate::support::{id, rate, v1_invoice, v2_invoice};

#[test]
fn a_v1_invoice_reads_through_v2_with_the_documented_defaults() {
    let store = Store::open_in_memory().unwrap();
    let invoice = v1_invoice("inv-1", 1900);
    store.create_v1(&invoice).unwrap();
    let read = store.get_v2(&id("inv-1")).unwrap().unwrap();
    assert_eq!(read.currency(), Currency::EUR);
    assert_eq!(read.idempotency_key().as_str(), "v1:inv-1");
    assert_eq!(read.breakdown().bands().len(), 1);
    assert_eq!(read.breakdown().bands()[0].rate, rate(1900));
    assert_eq!(read, bridge::invoice_to_v2(&invoice).unwrap());
}

#[test]
fn a_v2_invoice_v1_can_express_reads_through_v1() {
    let store = Store::open_in_memory().unwrap();
    let invoice = v2_invoice("inv-2", "k", Currency::EUR, &[1900, 1900]);
    store.create_v2(&invoice).unwrap();
    let read = store.get_v1(&id("inv-2")).unwrap().unwrap();
    assert_eq!(read.tax_rate(), rate(1900));
    assert_eq!(read, bridge::invoice_to_v1(&invoice).unwrap());
    assert_eq!(store.get_v2(&id("inv-2")).unwrap(), Some(invoice));
}

#[test]
fn a_v2_invoice_v1_cannot_express_needs_v2() {
    let store = Store::open_in_memory().unwrap();
    store
        .create_v2(&v2_invoice("inv-jpy", "k1", Currency::JPY, &[1000]))
        .unwrap();
    store
        .create_v2(&v2_invoice(
            "inv-mixed",
            "k2",
            Currency::EUR,
            &[0, 700, 1900],
        ))
        .unwrap();
    match store.get_v1(&id("inv-jpy")) {
        Err(StoreError::NeedsV2 { id, reason }) => {
            assert_eq!(id.as_str(), "inv-jpy");
            assert_eq!(
                reason,
                RequiresV2::Currency {
                    found: Currency::JPY
                }
            );
        }
        other => panic!("expected NeedsV2, got {other:?}"),
    }
    match store.get_v1(&id("inv-mixed")) {
        Err(StoreError::NeedsV2 { reason, .. }) => {
            assert_eq!(reason, RequiresV2::MixedTaxRates { count: 3 });
        }
        other => panic!("expected NeedsV2, got {other:?}"),
    }
    // Through v2 both read back.
    assert!(store.get_v2(&id("inv-jpy")).unwrap().is_some());
    assert!(store.get_v2(&id("inv-mixed")).unwrap().is_some());
}
