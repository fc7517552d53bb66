//! Errors of the domain types: parsing scalar values, arithmetic, and invoice invariants.

use super::{Amount, Currency};

/// Why a domain value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A text value was empty.
    #[error("invalid {what}: empty")]
    Empty {
        /// Which kind of value was being parsed (`invoice id`, `description`, ...).
        what: &'static str,
    },
    /// A text value was longer than allowed.
    #[error("invalid {what}: {len} bytes, at most {max} allowed")]
    TooLong {
        /// Which kind of value was being parsed.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The largest allowed length in bytes.
        max: usize,
    },
    /// A text value was shorter than allowed.
    #[error("invalid {what}: {len} characters, at least {min} required")]
    TooShort {
        /// Which kind of value was being parsed.
        what: &'static str,
        /// Its length in characters.
        len: usize,
        /// The smallest allowed length in characters.
        min: usize,
    },
    /// A text value contained a character that is not allowed.
    #[error("invalid {what}: character {ch:?} at byte {at} is not allowed")]
    InvalidChar {
        /// Which kind of value was being parsed.
        what: &'static str,
        /// The offending character.
        ch: char,
        /// Its byte offset in the value.
        at: usize,
    },
    /// A currency code was not three ASCII capital letters.
    #[error("invalid currency code {value:?}: expected three capital letters such as \"EUR\"")]
    Currency {
        /// The text that was given.
        value: String,
    },
    /// A quantity was zero or negative.
    #[error("invalid quantity {value}: must be at least 1")]
    NonPositiveQuantity {
        /// The quantity that was given.
        value: i64,
    },
    /// A quantity was larger than [`Quantity::MAX`](super::Quantity::MAX).
    #[error("invalid quantity {value}: at most {max} allowed")]
    QuantityTooLarge {
        /// The quantity that was given.
        value: i64,
        /// The largest allowed quantity.
        max: u32,
    },
    /// A rate was above 100% (10,000 basis points).
    #[error("invalid rate {basis_points} basis points: at most 10000 (100%) allowed")]
    RateOutOfRange {
        /// The rate that was given, in basis points.
        basis_points: u32,
    },
}

/// An arithmetic operation on amounts left the range of `i64` minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArithmeticError {
    /// The result does not fit in an `i64` of minor units.
    #[error("amount overflow in {operation}")]
    Overflow {
        /// The operation that overflowed (`line gross`, `invoice total`, ...).
        operation: &'static str,
    },
}

/// Why a line or an invoice could not be built: its parts do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvoiceError {
    /// The invoice has no lines.
    #[error("invoice has no lines")]
    Empty,
    /// A line's unit price is below zero.
    #[error("unit price {amount} is negative")]
    NegativeUnitPrice {
        /// The unit price that was given, in minor units.
        amount: Amount,
    },
    /// A fixed discount is below zero.
    #[error("discount {amount} is negative")]
    NegativeDiscount {
        /// The discount that was given, in minor units.
        amount: Amount,
    },
    /// A discount is larger than the line's gross amount (quantity times unit price).
    #[error("discount {discount} exceeds the line's gross amount {gross}")]
    DiscountExceedsGross {
        /// The discount, in minor units.
        discount: Amount,
        /// The line's gross amount, in minor units.
        gross: Amount,
    },
    /// A line's tax is below zero.
    #[error("tax {amount} is negative")]
    NegativeTax {
        /// The tax that was given, in minor units.
        amount: Amount,
    },
    /// An amount is in a different currency from the invoice.
    #[error("currency mismatch on line {line}: invoice is in {expected}, line is in {found}")]
    CurrencyMismatch {
        /// The index of the offending line, from 0.
        line: usize,
        /// The invoice's currency.
        expected: Currency,
        /// The line's currency.
        found: Currency,
    },
    /// Stored totals disagree with the totals recomputed from the lines.
    #[error("invoice {field} is {stored} but its lines add up to {computed}")]
    TotalsMismatch {
        /// Which total disagrees (`subtotal`, `tax`, `total`).
        field: &'static str,
        /// The stored value.
        stored: Amount,
        /// The value recomputed from the lines.
        computed: Amount,
    },
    /// An amount overflowed while the line or invoice was added up.
    #[error(transparent)]
    Arithmetic(#[from] ArithmeticError),
}
