//! Invoice computation: implements the billing contract, v1 and v2, behind additive features.
//!
//! [`Calculator`] prices invoice requests: quantity × unit price, minus the line's discount,
//! plus tax on what remains. The same arithmetic serves both contract versions, so a v1
//! invoice and the v2 invoice for the same request (in [`v1::CURRENCY`], at one flat rate) agree
//! to the minor unit.
//!
//! # Features
//!
//! | Feature | Default | Enables |
//! |---------|---------|---------|
//! | `v1`    | yes     | `impl shared::billing::v1::Billing for Calculator`: one implicit currency, flat tax rate |
//! | `v2`    | no      | `impl shared::billing::v2::Billing for Calculator`: currency, per-line tax, tax breakdown, idempotency key |
//!
//! The features are additive: enabling `v2` adds an implementation and changes nothing about
//! `v1`, and both may be on together. With neither, the crate still offers [`Calculator`]'s
//! configuration and the [`rounding`] arithmetic.
//!
//! # Rounding
//!
//! Percentages (discounts and tax) are applied **per line** and rounded **half to even**
//! (banker's rounding) to the currency's minor unit; see [`rounding::apply_rate`]. Invoice
//! totals are exact sums of the rounded line amounts, so the total always equals the sum of the
//! lines, and a v2 tax band is the sum of its lines' rounded taxes. Rounding per line rather
//! than per invoice means each line on the printed invoice adds up on its own; the price is
//! that a band's tax may differ by a few minor units from its rate applied to its taxable sum.
//!
//! # Arithmetic
//!
//! Amounts are `i64` minor units and every operation is checked: an overflow is a typed error
//! naming the operation ([`shared::domain::ArithmeticError`], wrapped in the contract's
//! `BillingError`), never a wrap or a panic.
//!
//! [`v1::CURRENCY`]: shared::billing::v1::CURRENCY
#![warn(unreachable_pub)]

pub mod rounding;
#[cfg(feature = "v1")]
mod v1;
#[cfg(feature = "v2")]
mod v2;

use std::collections::BTreeSet;

use shared::domain::{Amount, ArithmeticError, Currency, Discount, Rate};

/// Prices invoice requests. Stateless and deterministic: the same request always gives the
/// same invoice, which is what makes retries with an idempotency key safe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calculator {
    /// The currencies billed in, or `None` for every currency.
    currencies: Option<BTreeSet<Currency>>,
}

impl Calculator {
    /// A calculator that bills in every currency.
    pub fn new() -> Self {
        Self::default()
    }

    /// A calculator that bills only in `currencies`; requests in any other currency are
    /// rejected (v2: `UnsupportedCurrency`; v1, whose currency is fixed: a provider error).
    pub fn with_currencies(currencies: impl IntoIterator<Item = Currency>) -> Self {
        Self {
            currencies: Some(currencies.into_iter().collect()),
        }
    }

    /// Whether this calculator bills in `currency`.
    pub fn accepts(&self, currency: Currency) -> bool {
        self.currencies
            .as_ref()
            .is_none_or(|currencies| currencies.contains(&currency))
    }
}

/// The discount and tax of one line, as the calculator priced them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinePrice {
    /// The discount taken off the gross amount.
    pub discount: Amount,
    /// The tax on the net amount (gross − discount).
    pub tax: Amount,
}

/// Prices one line: the discount off `gross`, then `tax_rate` on the rest, each rounded half
/// to even. A fixed discount is taken as given; the line constructors have already checked
/// that it lies between zero and `gross`.
pub fn price_line(
    gross: Amount,
    discount: Discount,
    tax_rate: Rate,
) -> Result<LinePrice, ArithmeticError> {
    let discount = match discount {
        Discount::None => Amount::ZERO,
        Discount::Percent(rate) => rounding::apply_rate(gross, rate, "line discount")?,
        Discount::Fixed(amount) => amount,
    };
    let net = gross.checked_sub(discount, "line net")?;
    let tax = rounding::apply_rate(net, tax_rate, "line tax")?;
    Ok(LinePrice { discount, tax })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(basis_points: u32) -> Rate {
        Rate::from_basis_points(basis_points).unwrap()
    }

    #[test]
    fn a_line_without_discount_is_taxed_on_its_gross() {
        let price = price_line(Amount::from_minor(10_000), Discount::None, rate(2000)).unwrap();
        assert_eq!(
            price,
            LinePrice {
                discount: Amount::ZERO,
                tax: Amount::from_minor(2_000)
            }
        );
    }

    #[test]
    fn a_percentage_discount_comes_off_before_tax() {
        let price = price_line(
            Amount::from_minor(10_000),
            Discount::Percent(rate(1000)),
            rate(2000),
        )
        .unwrap();
        assert_eq!(price.discount, Amount::from_minor(1_000));
        assert_eq!(price.tax, Amount::from_minor(1_800));
    }

    #[test]
    fn a_fixed_discount_is_taken_as_given() {
        let price = price_line(
            Amount::from_minor(999),
            Discount::Fixed(Amount::from_minor(99)),
            rate(1000),
        )
        .unwrap();
        assert_eq!(price.discount, Amount::from_minor(99));
        assert_eq!(price.tax, Amount::from_minor(90));
    }

    #[test]
    fn discount_and_tax_round_half_to_even() {
        // 5% of 250 is 12.5, which rounds to the even 12; 10% of the net 238 is 23.8 -> 24.
        let price = price_line(
            Amount::from_minor(250),
            Discount::Percent(rate(500)),
            rate(1000),
        )
        .unwrap();
        assert_eq!(price.discount, Amount::from_minor(12));
        assert_eq!(price.tax, Amount::from_minor(24));
        // 5% of 270 is 13.5 -> 14 (even).
        let price = price_line(
            Amount::from_minor(270),
            Discount::Percent(rate(500)),
            Rate::ZERO,
        )
        .unwrap();
        assert_eq!(price.discount, Amount::from_minor(14));
    }

    #[test]
    fn calculators_accept_every_currency_unless_restricted() {
        assert!(Calculator::new().accepts(Currency::JPY));
        let restricted = Calculator::with_currencies([Currency::EUR, Currency::USD]);
        assert!(restricted.accepts(Currency::USD));
        assert!(!restricted.accepts(Currency::GBP));
    }
}
