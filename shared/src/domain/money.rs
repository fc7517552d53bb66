//! Money: currency codes, signed amounts in minor units, and amounts tied to a currency.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ArithmeticError, ParseError, Quantity};

/// An ISO 4217 currency code such as `EUR`: three ASCII capital letters.
///
/// Any three capital letters parse; the code is not checked against the ISO list, so new
/// currencies need no code change. [`minor_unit_digits`](Self::minor_unit_digits) knows the
/// currencies whose minor unit is not a hundredth.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// The euro.
    pub const EUR: Self = Self(*b"EUR");
    /// The US dollar.
    pub const USD: Self = Self(*b"USD");
    /// The pound sterling.
    pub const GBP: Self = Self(*b"GBP");
    /// The Swiss franc.
    pub const CHF: Self = Self(*b"CHF");
    /// The Japanese yen, which has no minor unit.
    pub const JPY: Self = Self(*b"JPY");

    /// Parses a currency code; it must already be upper case.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        match value.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(ParseError::Currency {
                value: value.to_owned(),
            }),
        }
    }

    /// The code as text, for example `"EUR"`.
    pub fn as_str(&self) -> &str {
        // Invariant: the bytes are ASCII capitals, checked by `parse` or written as constants.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// How many decimal digits the minor unit has: 2 for EUR (cents), 0 for JPY, 3 for KWD.
    pub fn minor_unit_digits(&self) -> u32 {
        match &self.0 {
            b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG"
            | b"RWF" | b"UGX" | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = ParseError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_owned()
    }
}

impl std::str::FromStr for Currency {
    type Err = ParseError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

/// A signed amount in minor units (cents for EUR) of a currency the context fixes.
///
/// Every operation that can overflow is checked and returns an [`ArithmeticError`] naming it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Amount(i64);

impl Amount {
    /// Nothing.
    pub const ZERO: Self = Self(0);
    /// The largest amount.
    pub const MAX: Self = Self(i64::MAX);

    /// An amount of `minor` minor units.
    pub const fn from_minor(minor: i64) -> Self {
        Self(minor)
    }

    /// The amount in minor units.
    pub const fn minor(self) -> i64 {
        self.0
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `self + other`, or an overflow error naming `operation`.
    pub fn checked_add(
        self,
        other: Self,
        operation: &'static str,
    ) -> Result<Self, ArithmeticError> {
        self.0
            .checked_add(other.0)
            .map(Self)
            .ok_or(ArithmeticError::Overflow { operation })
    }

    /// `self - other`, or an overflow error naming `operation`.
    pub fn checked_sub(
        self,
        other: Self,
        operation: &'static str,
    ) -> Result<Self, ArithmeticError> {
        self.0
            .checked_sub(other.0)
            .map(Self)
            .ok_or(ArithmeticError::Overflow { operation })
    }

    /// `self × quantity`, or an overflow error naming `operation`.
    pub fn checked_mul(
        self,
        quantity: Quantity,
        operation: &'static str,
    ) -> Result<Self, ArithmeticError> {
        self.0
            .checked_mul(i64::from(quantity.get()))
            .map(Self)
            .ok_or(ArithmeticError::Overflow { operation })
    }

    /// The sum of `amounts`, or an overflow error naming `operation`.
    pub fn checked_sum(
        amounts: impl IntoIterator<Item = Self>,
        operation: &'static str,
    ) -> Result<Self, ArithmeticError> {
        amounts
            .into_iter()
            .try_fold(Self::ZERO, |sum, amount| sum.checked_add(amount, operation))
    }

    /// Formats the amount with `digits` decimal places, for example `-12.34`.
    pub fn display_with(self, digits: u32) -> impl fmt::Display {
        DecimalAmount {
            minor: self.0,
            digits,
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} minor units", self.0)
    }
}

/// Formats minor units as a decimal number without floating point.
struct DecimalAmount {
    minor: i64,
    digits: u32,
}

impl fmt::Display for DecimalAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let magnitude = self.minor.unsigned_abs();
        if self.digits == 0 {
            return write!(f, "{sign}{magnitude}");
        }
        let scale = 10u64.pow(self.digits);
        let (whole, fraction) = (magnitude / scale, magnitude % scale);
        let width = self.digits as usize;
        write!(f, "{sign}{whole}.{fraction:0width$}")
    }
}

/// An amount in a named currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount: Amount,
    currency: Currency,
}

impl Money {
    /// `amount` minor units of `currency`.
    pub const fn new(amount: Amount, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// `minor` minor units of `currency`.
    pub const fn from_minor(minor: i64, currency: Currency) -> Self {
        Self::new(Amount::from_minor(minor), currency)
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self::new(Amount::ZERO, currency)
    }

    /// The amount, in minor units.
    pub const fn amount(self) -> Amount {
        self.amount
    }

    /// The currency.
    pub const fn currency(self) -> Currency {
        self.currency
    }

    /// `self + other`; both must be in the same currency.
    pub fn checked_add(self, other: Self, operation: &'static str) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        Ok(Self::new(
            self.amount.checked_add(other.amount, operation)?,
            self.currency,
        ))
    }

    /// `self - other`; both must be in the same currency.
    pub fn checked_sub(self, other: Self, operation: &'static str) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        Ok(Self::new(
            self.amount.checked_sub(other.amount, operation)?,
            self.currency,
        ))
    }

    fn same_currency(self, other: Self) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

impl fmt::Display for Money {
    /// `12.34 EUR`, with as many decimals as the currency's minor unit has.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.minor_unit_digits();
        write!(f, "{} {}", self.amount.display_with(digits), self.currency)
    }
}

/// Why an operation on two [`Money`] values failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The two amounts are in different currencies.
    #[error("currency mismatch: {left} and {right}")]
    CurrencyMismatch {
        /// The left operand's currency.
        left: Currency,
        /// The right operand's currency.
        right: Currency,
    },
    /// The result overflowed.
    #[error(transparent)]
    Arithmetic(#[from] ArithmeticError),
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn currency_codes_must_be_three_capitals() {
        assert_eq!(Currency::parse("EUR").unwrap(), Currency::EUR);
        for bad in ["eur", "EU", "EURO", "", "E1R", "ÉUR"] {
            assert_eq!(
                Currency::parse(bad).unwrap_err(),
                ParseError::Currency {
                    value: bad.to_owned()
                },
                "{bad}"
            );
        }
    }

    #[test]
    fn currencies_know_their_minor_unit() {
        assert_eq!(Currency::EUR.minor_unit_digits(), 2);
        assert_eq!(Currency::JPY.minor_unit_digits(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_unit_digits(), 3);
    }

    #[test]
    fn money_displays_in_decimal_with_the_currency() {
        assert_eq!(
            Money::from_minor(1234, Currency::EUR).to_string(),
            "12.34 EUR"
        );
        assert_eq!(
            Money::from_minor(-5, Currency::USD).to_string(),
            "-0.05 USD"
        );
        assert_eq!(Money::from_minor(500, Currency::JPY).to_string(), "500 JPY");
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::from_minor(1_005, kwd).to_string(), "1.005 KWD");
        assert_eq!(
            Money::from_minor(i64::MIN, Currency::EUR).to_string(),
            "-92233720368547758.08 EUR"
        );
    }

    #[test]
    fn adding_different_currencies_is_an_error() {
        let err = Money::from_minor(1, Currency::EUR)
            .checked_add(Money::from_minor(1, Currency::USD), "test")
            .unwrap_err();
        assert_eq!(
            err,
            MoneyError::CurrencyMismatch {
                left: Currency::EUR,
                right: Currency::USD
            }
        );
        assert_eq!(err.to_string(), "currency mismatch: EUR and USD");
        assert!(
            Money::from_minor(1, Currency::EUR)
                .checked_sub(Money::from_minor(1, Currency::GBP), "test")
                .is_err()
        );
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let err = Amount::MAX
            .checked_add(Amount::from_minor(1), "invoice total")
            .unwrap_err();
        assert_eq!(
            err,
            ArithmeticError::Overflow {
                operation: "invoice total"
            }
        );
        assert_eq!(err.to_string(), "amount overflow in invoice total");
        let quantity = Quantity::new(2).unwrap();
        assert!(Amount::MAX.checked_mul(quantity, "line gross").is_err());
        assert!(
            Amount::from_minor(i64::MIN)
                .checked_sub(Amount::from_minor(1), "x")
                .is_err()
        );
        let money = Money::new(Amount::MAX, Currency::EUR);
        assert_eq!(
            money
                .checked_add(Money::from_minor(1, Currency::EUR), "sum")
                .unwrap_err(),
            MoneyError::Arithmetic(ArithmeticError::Overflow { operation: "sum" })
        );
    }

    #[test]
    fn money_round_trips_through_json() {
        let money = Money::from_minor(250, Currency::GBP);
        let json = serde_json::to_string(&money).unwrap();
        assert_eq!(json, r#"{"amount":250,"currency":"GBP"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);
        assert!(serde_json::from_str::<Money>(r#"{"amount":1,"currency":"gbp"}"#).is_err());
    }

    proptest! {
        #[test]
        fn checked_add_agrees_with_wide_arithmetic(a in any::<i64>(), b in any::<i64>()) {
            let wide = i128::from(a) + i128::from(b);
            let result = Amount::from_minor(a).checked_add(Amount::from_minor(b), "p");
            match i64::try_from(wide) {
                Ok(expected) => prop_assert_eq!(result, Ok(Amount::from_minor(expected))),
                Err(_) => prop_assert!(result.is_err()),
            }
        }

        #[test]
        fn checked_sum_is_order_independent_when_it_fits(
            amounts in proptest::collection::vec(-1_000_000_000i64..1_000_000_000, 0..50)
        ) {
            let forward = Amount::checked_sum(amounts.iter().copied().map(Amount::from_minor), "p");
            let backward =
                Amount::checked_sum(amounts.iter().rev().copied().map(Amount::from_minor), "p");
            prop_assert_eq!(forward, backward);
            prop_assert_eq!(forward.unwrap().minor(), amounts.iter().sum::<i64>());
        }

        #[test]
        fn display_parses_back_to_the_same_minor_units(minor in any::<i64>()) {
            let text = Money::from_minor(minor, Currency::EUR).to_string();
            let number = text.strip_suffix(" EUR").unwrap().replace('.', "");
            prop_assert_eq!(number.parse::<i64>().unwrap(), minor);
        }
    }
}
