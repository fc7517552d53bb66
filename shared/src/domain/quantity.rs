//! Quantities, rates in basis points, and line discounts.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Amount, ParseError};

/// How many units a line bills: a whole number from 1 to [`Quantity::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    /// The largest quantity accepted on one line.
    pub const MAX: u32 = 1_000_000_000;
    /// One unit.
    pub const ONE: Self = Self(1);

    /// Parses a quantity; zero, negative and overlarge values are errors.
    pub fn new(value: i64) -> Result<Self, ParseError> {
        if value <= 0 {
            return Err(ParseError::NonPositiveQuantity { value });
        }
        match u32::try_from(value) {
            Ok(units) if units <= Self::MAX => Ok(Self(units)),
            _ => Err(ParseError::QuantityTooLarge {
                value,
                max: Self::MAX,
            }),
        }
    }

    /// The number of units.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl TryFrom<i64> for Quantity {
    type Error = ParseError;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Quantity> for u32 {
    fn from(value: Quantity) -> Self {
        value.0
    }
}

/// A rate from 0% to 100%, in basis points (hundredths of a percent): 2000 is 20%.
///
/// Used for tax rates and percentage discounts.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "u32", into = "u32")]
pub struct Rate(u16);

impl Rate {
    /// 0%.
    pub const ZERO: Self = Self(0);
    /// 100%, the largest rate.
    pub const FULL: Self = Self(Self::FULL_BASIS_POINTS);
    /// 100% in basis points.
    pub const FULL_BASIS_POINTS: u16 = 10_000;

    /// Parses a rate given in basis points; above 10,000 (100%) is an error.
    pub fn from_basis_points(basis_points: u32) -> Result<Self, ParseError> {
        match u16::try_from(basis_points) {
            Ok(bp) if bp <= Self::FULL_BASIS_POINTS => Ok(Self(bp)),
            _ => Err(ParseError::RateOutOfRange { basis_points }),
        }
    }

    /// The rate in basis points.
    pub const fn basis_points(self) -> u32 {
        self.0 as u32
    }
}

impl fmt::Display for Rate {
    /// `20%`, `7.5%`, `0.25%`: a percentage without trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, hundredths) = (self.0 / 100, self.0 % 100);
        match hundredths {
            0 => write!(f, "{whole}%"),
            h if h % 10 == 0 => write!(f, "{whole}.{}%", h / 10),
            h => write!(f, "{whole}.{h:02}%"),
        }
    }
}

impl TryFrom<u32> for Rate {
    type Error = ParseError;

    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Self::from_basis_points(value)
    }
}

impl From<Rate> for u32 {
    fn from(value: Rate) -> Self {
        value.basis_points()
    }
}

/// A discount on one line, taken off before tax.
///
/// A fixed discount is in the line's currency and must not exceed the line's gross amount;
/// line constructors check that. The enum is deliberately exhaustive: a new kind of discount
/// changes what every provider must compute, so it belongs in a new contract major version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discount {
    /// No discount.
    #[default]
    None,
    /// A share of the line's gross amount.
    Percent(Rate),
    /// A fixed amount off the line, in minor units.
    Fixed(Amount),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_negative_quantities_are_rejected() {
        assert_eq!(
            Quantity::new(0),
            Err(ParseError::NonPositiveQuantity { value: 0 })
        );
        assert_eq!(
            Quantity::new(-3),
            Err(ParseError::NonPositiveQuantity { value: -3 })
        );
        assert_eq!(
            Quantity::new(-3).unwrap_err().to_string(),
            "invalid quantity -3: must be at least 1"
        );
    }

    #[test]
    fn overlarge_quantities_are_rejected() {
        assert_eq!(Quantity::new(1_000_000_000).unwrap().get(), 1_000_000_000);
        assert_eq!(
            Quantity::new(1_000_000_001),
            Err(ParseError::QuantityTooLarge {
                value: 1_000_000_001,
                max: Quantity::MAX
            })
        );
        assert!(Quantity::new(i64::MAX).is_err());
    }

    #[test]
    fn quantities_deserialize_through_the_parser() {
        assert_eq!(serde_json::from_str::<Quantity>("3").unwrap().get(), 3);
        let err = serde_json::from_str::<Quantity>("-1").unwrap_err();
        assert!(err.to_string().contains("must be at least 1"), "{err}");
    }

    #[test]
    fn rates_are_capped_at_one_hundred_percent() {
        assert_eq!(Rate::from_basis_points(10_000), Ok(Rate::FULL));
        assert_eq!(
            Rate::from_basis_points(10_001),
            Err(ParseError::RateOutOfRange {
                basis_points: 10_001
            })
        );
        assert!(Rate::from_basis_points(u32::MAX).is_err());
        assert!(serde_json::from_str::<Rate>("20000").is_err());
    }

    #[test]
    fn rates_display_as_percentages() {
        let shown = |bp| Rate::from_basis_points(bp).unwrap().to_string();
        assert_eq!(shown(2000), "20%");
        assert_eq!(shown(750), "7.5%");
        assert_eq!(shown(25), "0.25%");
        assert_eq!(shown(0), "0%");
    }

    #[test]
    fn discounts_serialize_tagged() {
        let percent = Discount::Percent(Rate::from_basis_points(1000).unwrap());
        assert_eq!(
            serde_json::to_string(&percent).unwrap(),
            r#"{"percent":1000}"#
        );
        let fixed: Discount = serde_json::from_str(r#"{"fixed":250}"#).unwrap();
        assert_eq!(fixed, Discount::Fixed(Amount::from_minor(250)));
        assert_eq!(
            serde_json::from_str::<Discount>(r#""none""#).unwrap(),
            Discount::None
        );
    }
}
