//! Applying a rate to an amount, rounded half to even to the minor unit.

use shared::domain::{Amount, ArithmeticError, Rate};

/// `amount × rate`, rounded half to even (banker's rounding) to a whole minor unit.
///
/// Exact halves go to the even neighbour, so 12.5 becomes 12 and 13.5 becomes 14, and
/// -12.5 becomes -12: rounding is symmetric around zero and, over many lines, unbiased.
/// The product is formed in `i128`, so it cannot overflow; the result is checked back into
/// `i64` and an overflow there is reported naming `operation`.
pub fn apply_rate(
    amount: Amount,
    rate: Rate,
    operation: &'static str,
) -> Result<Amount, ArithmeticError> {
    let denominator = i128::from(Rate::FULL_BASIS_POINTS);
    let product = i128::from(amount.minor()) * i128::from(rate.basis_points());
    let magnitude = round_half_even(product.unsigned_abs(), denominator.unsigned_abs());
    let magnitude =
        i128::try_from(magnitude).map_err(|_| ArithmeticError::Overflow { operation })?;
    let signed = if product < 0 { -magnitude } else { magnitude };
    i64::try_from(signed)
        .map(Amount::from_minor)
        .map_err(|_| ArithmeticError::Overflow { operation })
}

/// `numerator / denominator`, rounded half to even.
fn round_half_even(numerator: u128, denominator: u128) -> u128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    let twice = remainder * 2;
    let round_up = twice > denominator || (twice == denominator && quotient % 2 == 1);
    quotient + u128::from(round_up)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn apply(minor: i64, basis_points: u32) -> i64 {
        let rate = Rate::from_basis_points(basis_points).unwrap();
        apply_rate(Amount::from_minor(minor), rate, "test")
            .unwrap()
            .minor()
    }

    #[test]
    fn exact_halves_go_to_the_even_neighbour() {
        // 50% of odd amounts lands exactly on a half.
        assert_eq!(apply(1, 5000), 0);
        assert_eq!(apply(3, 5000), 2);
        assert_eq!(apply(5, 5000), 2);
        assert_eq!(apply(7, 5000), 4);
        assert_eq!(apply(25, 5000), 12);
        assert_eq!(apply(27, 5000), 14);
    }

    #[test]
    fn rounding_is_symmetric_around_zero() {
        assert_eq!(apply(-25, 5000), -12);
        assert_eq!(apply(-27, 5000), -14);
        assert_eq!(apply(-1999, 1000), -200);
    }

    #[test]
    fn non_halves_round_to_nearest() {
        assert_eq!(apply(1_234, 1900), 234); // 234.46
        assert_eq!(apply(1_237, 1900), 235); // 235.03
        assert_eq!(apply(19, 2500), 5); // 4.75
    }

    #[test]
    fn extremes_do_not_overflow() {
        assert_eq!(apply(i64::MAX, 10_000), i64::MAX);
        assert_eq!(apply(i64::MIN, 10_000), i64::MIN);
        assert_eq!(apply(i64::MAX, 0), 0);
    }

    proptest! {
        #[test]
        fn result_is_within_half_a_unit_of_the_exact_value(
            minor in any::<i64>(),
            basis_points in 0u32..=10_000,
        ) {
            let exact = i128::from(minor) * i128::from(basis_points);
            let rounded = i128::from(apply(minor, basis_points)) * 10_000;
            prop_assert!((exact - rounded).abs() * 2 <= 10_000);
        }

        #[test]
        fn a_rate_never_grows_an_amount(minor in any::<i64>(), basis_points in 0u32..=10_000) {
            prop_assert!(apply(minor, basis_points).unsigned_abs() <= minor.unsigned_abs());
        }
    }
}
