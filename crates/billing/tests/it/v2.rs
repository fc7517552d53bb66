//! Billing v2 through `Calculator`.

use billing::Calculator;
use proptest::prelude::*;
use shared::billing::v2::{Billing, BillingError, InvoiceLine, InvoiceRequest, LineItem};
use shared::domain::{
    Amount, ArithmeticError, Currency, Discount, IdempotencyKey, InvoiceError, Money, Rate,
};

use crate::support::*;

pub fn request(currency: Currency, parts: &[(LineParts, Rate)]) -> InvoiceRequest {
    let lines = parts
        .iter()
        .enumerate()
        .map(|(n, (part, tax_rate))| {
            LineItem::new(
                description(&format!("Item {n}")),
                part.quantity,
                Money::new(part.unit_price, currency),
                part.discount,
                *tax_rate,
            )
            .unwrap()
        })
        .collect();
    InvoiceRequest::new(invoice_id("inv-2"), customer("cust-2"), currency, lines).unwrap()
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

fn part(units: i64, unit_price: i64) -> LineParts {
    LineParts {
        quantity: quantity(units),
        unit_price: Amount::from_minor(unit_price),
        discount: Discount::None,
    }
}

fn mixed_rate_request() -> InvoiceRequest {
    request(
        Currency::USD,
        &[
            (part(2, 1_050), rate(700)),
            (part(1, 4_999), rate(1900)),
            (part(3, 333), rate(700)),
        ],
    )
}

#[test]
fn taxes_each_line_at_its_own_rate_and_breaks_the_tax_down() {
    let invoice = Calculator::new()
        .create_invoice(&mixed_rate_request(), &key("order-7"))
        .unwrap();
    assert_eq!(invoice.currency(), Currency::USD);
    assert_eq!(invoice.idempotency_key().as_str(), "order-7");
    // 21.00 at 7% = 1.47; 49.99 at 19% = 9.4981 -> 9.50; 9.99 at 7% = 0.6993 -> 0.70.
    let taxes: Vec<_> = invoice
        .lines()
        .iter()
        .map(|l| l.tax().amount().minor())
        .collect();
    assert_eq!(taxes, [147, 950, 70]);
    let bands: Vec<_> = invoice
        .breakdown()
        .bands()
        .iter()
        .map(|b| {
            (
                b.rate.basis_points(),
                b.taxable.amount().minor(),
                b.tax.amount().minor(),
            )
        })
        .collect();
    assert_eq!(bands, [(700, 3_099, 217), (1900, 4_999, 950)]);
    assert_eq!(
        invoice.totals().total(),
        Money::from_minor(9_265, Currency::USD)
    );
    assert_eq!(invoice.totals().total().to_string(), "92.65 USD");
}

#[test]
fn quote_breakdown_and_create_agree() {
    let calculator = Calculator::new();
    let request = mixed_rate_request();
    let quote = calculator.quote(&request).unwrap();
    let invoice = calculator.create_invoice(&request, &key("k")).unwrap();
    assert_eq!(invoice.quote(), &quote);
    assert_eq!(
        calculator.tax_breakdown(&request).unwrap(),
        *quote.breakdown()
    );
}

#[test]
fn the_same_key_and_request_give_the_same_invoice() {
    let calculator = Calculator::new();
    let first = calculator
        .create_invoice(&mixed_rate_request(), &key("retry-1"))
        .unwrap();
    let again = calculator
        .create_invoice(&mixed_rate_request(), &key("retry-1"))
        .unwrap();
    assert_eq!(first, again);
}

#[test]
fn an_unsupported_currency_is_refused() {
    let calculator = Calculator::with_currencies([Currency::EUR]);
    assert!(!calculator.supports_currency(Currency::USD));
    let err = calculator.quote(&mixed_rate_request()).unwrap_err();
    assert_eq!(
        err,
        BillingError::UnsupportedCurrency {
            currency: Currency::USD
        }
    );
    assert_eq!(
        err.to_string(),
        "currency USD is not supported by this billing provider"
    );
}

#[test]
fn lines_in_another_currency_are_a_mismatch() {
    let eur_line = LineItem::new(
        description("Widget"),
        quantity(1),
        Money::from_minor(100, Currency::EUR),
        Discount::None,
        rate(0),
    )
    .unwrap();
    let err = InvoiceRequest::new(
        invoice_id("i"),
        customer("c"),
        Currency::USD,
        vec![eur_line],
    )
    .unwrap_err();
    assert_eq!(
        err,
        InvoiceError::CurrencyMismatch {
            line: 0,
            expected: Currency::USD,
            found: Currency::EUR
        }
    );
    assert_eq!(
        err.to_string(),
        "currency mismatch on line 0: invoice is in USD, line is in EUR"
    );
}

#[test]
fn an_empty_request_is_an_error() {
    let err =
        InvoiceRequest::new(invoice_id("i"), customer("c"), Currency::USD, vec![]).unwrap_err();
    assert_eq!(err, InvoiceError::Empty);
}

#[test]
fn an_overflowing_invoice_is_an_error() {
    let half = i64::MAX / 2 + 1;
    let request = request(
        Currency::EUR,
        &[(part(1, half), rate(0)), (part(1, half), rate(0))],
    );
    let err = Calculator::new().quote(&request).unwrap_err();
    assert_eq!(
        err,
        BillingError::Invoice(InvoiceError::Arithmetic(ArithmeticError::Overflow {
            operation: "invoice subtotal"
        }))
    );
}

#[test]
fn invoices_round_trip_through_json() {
    let invoice = Calculator::new()
        .create_invoice(&mixed_rate_request(), &key("order-7"))
        .unwrap();
    let json = serde_json::to_string_pretty(&invoice).unwrap();
    insta::assert_snapshot!(json);
    let back: shared::billing::v2::Invoice = serde_json::from_str(&json).unwrap();
    assert_eq!(back, invoice);
}

proptest! {
    #[test]
    fn the_total_and_the_breakdown_are_sums_of_the_lines(
        parts in proptest::collection::vec((line_parts(), tax_rate()), 1..8),
    ) {
        let invoice = Calculator::new()
            .create_invoice(&request(Currency::GBP, &parts), &key("k"))
            .unwrap();
        let sum = |f: fn(&InvoiceLine) -> Money| {
            invoice.lines().iter().map(|l| f(l).amount().minor()).sum::<i64>()
        };
        let totals = invoice.totals();
        prop_assert_eq!(totals.currency(), Currency::GBP);
        prop_assert_eq!(totals.total().amount().minor(), sum(InvoiceLine::total));
        prop_assert_eq!(totals.subtotal().amount().minor(), sum(InvoiceLine::net));
        prop_assert_eq!(totals.tax().amount().minor(), sum(InvoiceLine::tax));
        let bands = invoice.breakdown().bands();
        let band_tax: i64 = bands.iter().map(|b| b.tax.amount().minor()).sum();
        let band_taxable: i64 = bands.iter().map(|b| b.taxable.amount().minor()).sum();
        prop_assert_eq!(band_tax, totals.tax().amount().minor());
        prop_assert_eq!(band_taxable, totals.subtotal().amount().minor());
        prop_assert!(bands.windows(2).all(|pair| pair[0].rate < pair[1].rate));
    }
}
