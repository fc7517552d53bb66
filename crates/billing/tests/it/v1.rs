//! Billing v1 through `Calculator`.

use billing::Calculator;
use proptest::prelude::*;
use shared::billing::v1::{Billing, BillingError, InvoiceLine, InvoiceRequest, LineItem};
use shared::domain::{Amount, ArithmeticError, Currency, Discount, InvoiceError};

use crate::support::*;

pub fn request(tax_basis_points: u32, parts: &[LineParts]) -> InvoiceRequest {
    let lines = parts
        .iter()
        .enumerate()
        .map(|(n, part)| {
            LineItem::new(
                description(&format!("Item {n}")),
                part.quantity,
                part.unit_price,
                part.discount,
            )
            .unwrap()
        })
        .collect();
    InvoiceRequest::new(
        invoice_id("inv-1"),
        customer("cust-1"),
        rate(tax_basis_points),
        lines,
    )
    .unwrap()
}

#[test]
fn prices_a_typical_invoice() {
    let request = request(
        2000,
        &[
            LineParts {
                quantity: quantity(3),
                unit_price: Amount::from_minor(1_999),
                discount: Discount::None,
            },
            LineParts {
                quantity: quantity(1),
                unit_price: Amount::from_minor(10_000),
                discount: Discount::Percent(rate(1500)),
            },
        ],
    );
    let invoice = Calculator::new().create_invoice(&request).unwrap();
    let lines: Vec<_> = invoice
        .lines()
        .iter()
        .map(|l| {
            (
                l.gross().minor(),
                l.discount().minor(),
                l.net().minor(),
                l.tax().minor(),
            )
        })
        .collect();
    // 3 × 19.99 = 59.97, tax 11.994 -> 11.99; 100.00 - 15% = 85.00, tax 17.00.
    assert_eq!(
        lines,
        [(5_997, 0, 5_997, 1_199), (10_000, 1_500, 8_500, 1_700)]
    );
    let totals = invoice.totals();
    assert_eq!(totals.subtotal().minor(), 14_497);
    assert_eq!(totals.tax().minor(), 2_899);
    assert_eq!(totals.total().minor(), 17_396);
    assert_eq!(Calculator::new().quote(&request).unwrap(), totals);
}

#[test]
fn an_invoice_total_that_overflows_is_an_error() {
    let half = Amount::from_minor(i64::MAX / 2 + 1);
    let part = LineParts {
        quantity: quantity(1),
        unit_price: half,
        discount: Discount::None,
    };
    let request = request(0, &[part.clone(), part]);
    let err = Calculator::new().create_invoice(&request).unwrap_err();
    assert_eq!(
        err,
        BillingError::Invoice(InvoiceError::Arithmetic(ArithmeticError::Overflow {
            operation: "invoice subtotal"
        }))
    );
    assert_eq!(
        err.to_string(),
        "invalid invoice: amount overflow in invoice subtotal"
    );
}

#[test]
fn tax_that_overflows_the_line_total_is_an_error() {
    let request = request(
        10_000,
        &[LineParts {
            quantity: quantity(1),
            unit_price: Amount::MAX,
            discount: Discount::None,
        }],
    );
    let err = Calculator::new().create_invoice(&request).unwrap_err();
    assert_eq!(
        err,
        BillingError::Invoice(InvoiceError::Arithmetic(ArithmeticError::Overflow {
            operation: "line total"
        }))
    );
}

#[test]
fn a_calculator_without_the_implicit_currency_refuses_v1() {
    let calculator = Calculator::with_currencies([Currency::USD]);
    let one = LineParts {
        quantity: quantity(1),
        unit_price: Amount::from_minor(100),
        discount: Discount::None,
    };
    let err = calculator.create_invoice(&request(0, &[one])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "billing provider failed: currency EUR is not supported by this billing provider"
    );
}

#[test]
fn invoices_round_trip_through_json_and_reject_tampered_totals() {
    let request = request(
        1900,
        &[LineParts {
            quantity: quantity(2),
            unit_price: Amount::from_minor(1_234),
            discount: Discount::Fixed(Amount::from_minor(100)),
        }],
    );
    let invoice = Calculator::new().create_invoice(&request).unwrap();
    let json = serde_json::to_string_pretty(&invoice).unwrap();
    insta::assert_snapshot!(json);
    assert_eq!(
        serde_json::from_str::<shared::billing::v1::Invoice>(&json).unwrap(),
        invoice
    );

    let tampered = json.replace("\"total\": 2818", "\"total\": 2819");
    assert_ne!(tampered, json);
    let err = serde_json::from_str::<shared::billing::v1::Invoice>(&tampered).unwrap_err();
    assert!(
        err.to_string()
            .contains("total is 2819 minor units but its lines add up to 2818"),
        "{err}"
    );
}

#[test]
fn a_json_request_with_no_lines_is_rejected() {
    let json = r#"{"invoice_id":"inv-1","customer":"c-1","tax_rate":2000,"lines":[]}"#;
    let err = serde_json::from_str::<InvoiceRequest>(json).unwrap_err();
    assert!(err.to_string().contains("invoice has no lines"), "{err}");
}

proptest! {
    #[test]
    fn the_total_is_the_sum_of_the_lines(tax in tax_rate(), parts in lines()) {
        let request = request(tax.basis_points(), &parts);
        let invoice = Calculator::new().create_invoice(&request).unwrap();
        let sum = |f: fn(&InvoiceLine) -> Amount| {
            invoice.lines().iter().map(f).map(Amount::minor).sum::<i64>()
        };
        let totals = invoice.totals();
        prop_assert_eq!(totals.total().minor(), sum(InvoiceLine::total));
        prop_assert_eq!(totals.subtotal().minor(), sum(InvoiceLine::net));
        prop_assert_eq!(totals.tax().minor(), sum(InvoiceLine::tax));
        prop_assert_eq!(totals.total().minor(), totals.subtotal().minor() + totals.tax().minor());
        for line in invoice.lines() {
            prop_assert_eq!(line.net().minor(), line.gross().minor() - line.discount().minor());
            prop_assert!(line.net().minor() >= 0 && line.tax().minor() >= 0);
            // Half-even rounding keeps the tax within half a minor unit of the exact value.
            let exact = i128::from(line.net().minor()) * i128::from(tax.basis_points());
            let rounded = i128::from(line.tax().minor()) * 10_000;
            prop_assert!((exact - rounded).abs() * 2 <= 10_000);
        }
    }
}
