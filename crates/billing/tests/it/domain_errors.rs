//! Error paths the contracts' constructors guard, whatever the enabled features.

use shared::billing::v1;
use shared::domain::{Amount, ArithmeticError, Discount, InvoiceError, ParseError, Quantity};

use crate::support::*;

#[test]
fn zero_and_negative_quantities_cannot_be_built() {
    assert_eq!(
        Quantity::new(0),
        Err(ParseError::NonPositiveQuantity { value: 0 })
    );
    assert_eq!(
        Quantity::new(-1),
        Err(ParseError::NonPositiveQuantity { value: -1 })
    );
}

#[test]
fn an_empty_invoice_request_cannot_be_built() {
    let err = v1::InvoiceRequest::new(invoice_id("inv-1"), customer("c-1"), rate(2000), vec![])
        .unwrap_err();
    assert_eq!(err, InvoiceError::Empty);
}

#[test]
fn a_line_whose_gross_overflows_cannot_be_built() {
    let err = v1::LineItem::new(
        description("Huge"),
        quantity(2),
        Amount::MAX,
        Discount::None,
    )
    .unwrap_err();
    assert_eq!(
        err,
        InvoiceError::Arithmetic(ArithmeticError::Overflow {
            operation: "line gross"
        })
    );
}

#[test]
fn a_fixed_discount_above_the_gross_cannot_be_built() {
    let err = v1::LineItem::new(
        description("Widget"),
        quantity(2),
        Amount::from_minor(100),
        Discount::Fixed(Amount::from_minor(201)),
    )
    .unwrap_err();
    assert_eq!(
        err,
        InvoiceError::DiscountExceedsGross {
            discount: Amount::from_minor(201),
            gross: Amount::from_minor(200),
        }
    );
}

#[test]
fn negative_prices_and_discounts_cannot_be_built() {
    let negative_price = v1::LineItem::new(
        description("Refund"),
        quantity(1),
        Amount::from_minor(-1),
        Discount::None,
    );
    assert_eq!(
        negative_price.unwrap_err(),
        InvoiceError::NegativeUnitPrice {
            amount: Amount::from_minor(-1)
        }
    );
    let negative_discount = v1::LineItem::new(
        description("Widget"),
        quantity(1),
        Amount::from_minor(10),
        Discount::Fixed(Amount::from_minor(-1)),
    );
    assert_eq!(
        negative_discount.unwrap_err(),
        InvoiceError::NegativeDiscount {
            amount: Amount::from_minor(-1)
        }
    );
}
