//! Builders and proptest strategies shared by the tests.

// Not every feature set uses every helper.
#![allow(dead_code)]

use proptest::prelude::*;
use shared::domain::{Amount, CustomerId, Description, Discount, InvoiceId, Quantity, Rate};

pub fn invoice_id(id: &str) -> InvoiceId {
    InvoiceId::parse(id).unwrap()
}

pub fn customer(id: &str) -> CustomerId {
    CustomerId::parse(id).unwrap()
}

pub fn description(text: &str) -> Description {
    Description::parse(text).unwrap()
}

pub fn quantity(units: i64) -> Quantity {
    Quantity::new(units).unwrap()
}

pub fn rate(basis_points: u32) -> Rate {
    Rate::from_basis_points(basis_points).unwrap()
}

/// The parts of one generated line, independent of contract version.
#[derive(Debug, Clone)]
pub struct LineParts {
    pub quantity: Quantity,
    pub unit_price: Amount,
    pub discount: Discount,
}

/// A line: quantity up to 1,000, unit price up to 1,000,000 minor units, and any discount
/// (none, 0-100%, or a fixed amount up to the gross).
pub fn line_parts() -> impl Strategy<Value = LineParts> {
    (1i64..=1_000, 0i64..=1_000_000, 0u8..3, 0u32..=10_000).prop_map(
        |(units, unit_price, kind, share)| {
            let gross = units * unit_price;
            let discount = match kind {
                0 => Discount::None,
                1 => Discount::Percent(rate(share)),
                _ => Discount::Fixed(Amount::from_minor(
                    i64::try_from(i128::from(gross) * i128::from(share) / 10_000).unwrap(),
                )),
            };
            LineParts {
                quantity: quantity(units),
                unit_price: Amount::from_minor(unit_price),
                discount,
            }
        },
    )
}

/// One to eight lines.
pub fn lines() -> impl Strategy<Value = Vec<LineParts>> {
    proptest::collection::vec(line_parts(), 1..8)
}

/// A tax rate from 0% to 100%, biased towards the usual ones.
pub fn tax_rate() -> impl Strategy<Value = Rate> {
    prop_oneof![
        Just(rate(0)),
        Just(rate(700)),
        Just(rate(1900)),
        Just(rate(2000)),
        (0u32..=10_000).prop_map(rate),
    ]
}
