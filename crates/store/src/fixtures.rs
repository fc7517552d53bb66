//! Invoice builders and schema queries for the unit tests and the integration tests (`tests/it`
//! includes this file).

use shared::billing::{v1, v2};
use shared::domain::{
    Amount, Currency, CustomerId, Description, Discount, IdempotencyKey, InvoiceId, Money,
    Quantity, Rate,
};

/// The rows of `schema_migrations` (version, name, kind), in version order.
pub(crate) fn schema_rows(conn: &rusqlite::Connection) -> Vec<(u32, String, String)> {
    conn.prepare("SELECT version, name, kind FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// An SMS notice with `text`.
pub(crate) fn message(text: &str) -> shared::notification::v1::Message {
    use shared::notification::v1::{Message, PhoneNumber, SmsText};
    Message::Sms {
        to: PhoneNumber::parse("+4915112345678").unwrap(),
        text: SmsText::parse(text).unwrap(),
    }
}

pub(crate) fn id(text: &str) -> InvoiceId {
    InvoiceId::parse(text).unwrap()
}

pub(crate) fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

pub(crate) fn rate(basis_points: u32) -> Rate {
    Rate::from_basis_points(basis_points).unwrap()
}

/// Tax on `net` at `rate`, truncated.
fn tax_on(net: i64, rate: Rate) -> Amount {
    Amount::from_minor(net * i64::from(rate.basis_points()) / 10_000)
}

/// A v1 invoice with two lines (2 × 150 and 1 × 999 with 99 off) at `rate_bp`.
pub(crate) fn v1_invoice(invoice: &str, rate_bp: u32) -> v1::Invoice {
    let rate = rate(rate_bp);
    let item = |text: &str, units, price, discount| {
        v1::LineItem::new(
            Description::parse(text).unwrap(),
            Quantity::new(units).unwrap(),
            Amount::from_minor(price),
            discount,
        )
        .unwrap()
    };
    let lines = [
        (item("Widget", 2, 150, Discount::None), 0),
        (
            item("Gadget", 1, 999, Discount::Fixed(Amount::from_minor(99))),
            99,
        ),
    ]
    .into_iter()
    .map(|(item, discount)| {
        let net = item.gross().minor() - discount;
        v1::InvoiceLine::new(item, Amount::from_minor(discount), tax_on(net, rate)).unwrap()
    })
    .collect();
    v1::Invoice::new(
        id(invoice),
        CustomerId::parse("cust-1").unwrap(),
        rate,
        lines,
    )
    .unwrap()
}

/// A v2 invoice in `currency`, one line per rate in `rates_bp` (each 3 × 200, 10% off).
pub(crate) fn v2_invoice(
    invoice: &str,
    idempotency_key: &str,
    currency: Currency,
    rates_bp: &[u32],
) -> v2::Invoice {
    let lines = rates_bp
        .iter()
        .map(|&bp| {
            let rate = rate(bp);
            let item = v2::LineItem::new(
                Description::parse("Service").unwrap(),
                Quantity::new(3).unwrap(),
                Money::from_minor(200, currency),
                Discount::Percent(self::rate(1000)),
                rate,
            )
            .unwrap();
            v2::InvoiceLine::new(item, Amount::from_minor(60), tax_on(540, rate)).unwrap()
        })
        .collect();
    v2::Invoice::new(
        id(invoice),
        CustomerId::parse("cust-2").unwrap(),
        key(idempotency_key),
        v2::Quote::new(currency, lines).unwrap(),
    )
}
