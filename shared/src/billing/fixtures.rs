//! Builders and a small v2 provider for the contract modules' tests.

use super::v2;
use crate::domain::{
    Amount, Currency, CustomerId, Description, Discount, InvoiceId, Money, Quantity, Rate,
};

pub(crate) fn invoice_id(id: &str) -> InvoiceId {
    InvoiceId::parse(id).unwrap()
}

pub(crate) fn customer(id: &str) -> CustomerId {
    CustomerId::parse(id).unwrap()
}

pub(crate) fn description(text: &str) -> Description {
    Description::parse(text).unwrap()
}

pub(crate) fn quantity(units: i64) -> Quantity {
    Quantity::new(units).unwrap()
}

pub(crate) fn rate(basis_points: u32) -> Rate {
    Rate::from_basis_points(basis_points).unwrap()
}

pub(crate) fn amount(minor: i64) -> Amount {
    Amount::from_minor(minor)
}

/// A v2 line item of `units` × `unit_price` minor units of `currency`.
pub(crate) fn v2_item(units: i64, unit_price: i64, currency: Currency, tax: u32) -> v2::LineItem {
    v2::LineItem::new(
        description("Widget"),
        quantity(units),
        Money::from_minor(unit_price, currency),
        Discount::None,
        rate(tax),
    )
    .unwrap()
}

/// A v2 provider for tests: no discounts, tax truncated towards zero, and optionally a
/// currency or tax rate forced onto every result, to produce what v1 cannot express.
#[derive(Debug, Default)]
pub(crate) struct TruncatingProvider {
    pub(crate) force_currency: Option<Currency>,
    pub(crate) force_first_rate: Option<Rate>,
}

impl v2::Billing for TruncatingProvider {
    fn quote(&self, request: &v2::InvoiceRequest) -> Result<v2::Quote, v2::BillingError> {
        let currency = self.force_currency.unwrap_or(request.currency());
        let lines = request
            .lines()
            .iter()
            .enumerate()
            .map(|(n, item)| {
                let tax_rate = match (n, self.force_first_rate) {
                    (0, Some(forced)) => forced,
                    _ => item.tax_rate(),
                };
                let item = v2::LineItem::new(
                    item.description().clone(),
                    item.quantity(),
                    Money::new(item.unit_price().amount(), currency),
                    Discount::None,
                    tax_rate,
                )?;
                let net = item.gross().amount().minor();
                let tax = net * i64::from(tax_rate.basis_points()) / 10_000;
                v2::InvoiceLine::new(item, Amount::ZERO, amount(tax))
            })
            .collect::<Result<_, _>>()?;
        Ok(v2::Quote::new(currency, lines)?)
    }
}
