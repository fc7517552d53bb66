//! The `billing` contract: one module per major version, and a bridge between them.
//!
//! [`v1`] bills in one implicit currency with a flat tax rate; [`v2`] carries the currency,
//! taxes each line at its own rate, reports a tax breakdown and takes an idempotency key.
//! [`bridge`] serves v1 consumers from any v2 provider, so providers can move first.

pub mod bridge;
pub mod v1;
pub mod v2;

use crate::domain::{Amount, Discount, InvoiceError, Quantity};

/// Checks a line's unit price and discount and returns its gross amount (quantity × unit
/// price). Both contract versions build their line items through it.
fn checked_gross(
    quantity: Quantity,
    unit_price: Amount,
    discount: Discount,
) -> Result<Amount, InvoiceError> {
    if unit_price.is_negative() {
        return Err(InvoiceError::NegativeUnitPrice { amount: unit_price });
    }
    let gross = unit_price.checked_mul(quantity, "line gross")?;
    if let Discount::Fixed(amount) = discount {
        check_discount(amount, gross)?;
    }
    Ok(gross)
}

/// Checks that a discount is between zero and the line's gross amount.
fn check_discount(discount: Amount, gross: Amount) -> Result<(), InvoiceError> {
    if discount.is_negative() {
        return Err(InvoiceError::NegativeDiscount { amount: discount });
    }
    if discount > gross {
        return Err(InvoiceError::DiscountExceedsGross { discount, gross });
    }
    Ok(())
}

/// Checks a stored amount, when there is one, against the amount recomputed from the lines.
fn check_stored(
    field: &'static str,
    stored: Option<Amount>,
    computed: Amount,
) -> Result<(), InvoiceError> {
    match stored {
        Some(stored) if stored != computed => Err(InvoiceError::TotalsMismatch {
            field,
            stored,
            computed,
        }),
        _ => Ok(()),
    }
}

/// A line's net amount (gross − discount) and total (net + tax), after checking the discount
/// and the tax.
fn line_amounts(
    gross: Amount,
    discount: Amount,
    tax: Amount,
) -> Result<(Amount, Amount), InvoiceError> {
    check_discount(discount, gross)?;
    if tax.is_negative() {
        return Err(InvoiceError::NegativeTax { amount: tax });
    }
    let net = gross.checked_sub(discount, "line net")?;
    let total = net.checked_add(tax, "line total")?;
    Ok((net, total))
}

#[cfg(test)]
mod fixtures;
