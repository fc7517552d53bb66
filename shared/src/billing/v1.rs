//! Billing contract, major version 1: one implicit currency ([`CURRENCY`]) and one flat tax rate
//! per invoice.
//!
//! A consumer builds an [`InvoiceRequest`] and asks a [`Billing`] provider for the [`Invoice`].
//! Amounts are [`Amount`]s in minor units of [`CURRENCY`]. Every line and invoice is built
//! through a constructor that checks its arithmetic, so an [`Invoice`]'s total is always the sum
//! of its lines' totals.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{check_stored, checked_gross, line_amounts};
use crate::domain::{
    Amount, ArithmeticError, Currency, CustomerId, Description, Discount, InvoiceError, InvoiceId,
    Quantity, Rate,
};

/// The full version of this contract; the single source of truth for tools and diagnostics.
pub const VERSION: &str = "1.3.0";

/// The one currency every v1 amount is in.
pub const CURRENCY: Currency = Currency::EUR;

/// One line of an invoice request: what, how many, at what unit price, with what discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LineItemFields")]
pub struct LineItem {
    description: Description,
    quantity: Quantity,
    unit_price: Amount,
    discount: Discount,
    #[serde(skip)]
    gross: Amount,
}

/// [`LineItem`] as it travels, before its checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineItemFields {
    description: Description,
    quantity: Quantity,
    unit_price: Amount,
    #[serde(default)]
    discount: Discount,
}

impl LineItem {
    /// Builds a line item. The unit price must not be negative, a fixed discount must lie
    /// between zero and the gross amount, and quantity × unit price must not overflow.
    pub fn new(
        description: Description,
        quantity: Quantity,
        unit_price: Amount,
        discount: Discount,
    ) -> Result<Self, InvoiceError> {
        let gross = checked_gross(quantity, unit_price, discount)?;
        Ok(Self {
            description,
            quantity,
            unit_price,
            discount,
            gross,
        })
    }

    /// What the line is for.
    pub fn description(&self) -> &Description {
        &self.description
    }

    /// How many units.
    pub fn quantity(&self) -> Quantity {
        self.quantity
    }

    /// The price of one unit, in minor units of [`CURRENCY`].
    pub fn unit_price(&self) -> Amount {
        self.unit_price
    }

    /// The discount to take off before tax.
    pub fn discount(&self) -> Discount {
        self.discount
    }

    /// Quantity × unit price, before discount and tax.
    pub fn gross(&self) -> Amount {
        self.gross
    }
}

impl TryFrom<LineItemFields> for LineItem {
    type Error = InvoiceError;

    fn try_from(fields: LineItemFields) -> Result<Self, Self::Error> {
        Self::new(
            fields.description,
            fields.quantity,
            fields.unit_price,
            fields.discount,
        )
    }
}

/// What a consumer asks a provider to bill: at least one line, taxed at one flat rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "InvoiceRequestFields")]
pub struct InvoiceRequest {
    invoice_id: InvoiceId,
    customer: CustomerId,
    tax_rate: Rate,
    lines: Vec<LineItem>,
}

/// [`InvoiceRequest`] as it travels, before its checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvoiceRequestFields {
    invoice_id: InvoiceId,
    customer: CustomerId,
    tax_rate: Rate,
    lines: Vec<LineItem>,
}

impl InvoiceRequest {
    /// Builds a request; an empty list of lines is [`InvoiceError::Empty`].
    pub fn new(
        invoice_id: InvoiceId,
        customer: CustomerId,
        tax_rate: Rate,
        lines: Vec<LineItem>,
    ) -> Result<Self, InvoiceError> {
        if lines.is_empty() {
            return Err(InvoiceError::Empty);
        }
        Ok(Self {
            invoice_id,
            customer,
            tax_rate,
            lines,
        })
    }

    /// The id the invoice will carry.
    pub fn invoice_id(&self) -> &InvoiceId {
        &self.invoice_id
    }

    /// Who is billed.
    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }

    /// The flat tax rate for every line.
    pub fn tax_rate(&self) -> Rate {
        self.tax_rate
    }

    /// The lines, never empty.
    pub fn lines(&self) -> &[LineItem] {
        &self.lines
    }
}

impl TryFrom<InvoiceRequestFields> for InvoiceRequest {
    type Error = InvoiceError;

    fn try_from(fields: InvoiceRequestFields) -> Result<Self, Self::Error> {
        Self::new(
            fields.invoice_id,
            fields.customer,
            fields.tax_rate,
            fields.lines,
        )
    }
}

/// A billed line: the item, the discount and tax the provider computed, and the resulting net
/// (gross − discount) and total (net + tax).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "InvoiceLineFields")]
pub struct InvoiceLine {
    item: LineItem,
    discount: Amount,
    net: Amount,
    tax: Amount,
    total: Amount,
}

/// [`InvoiceLine`] as it travels; stored net and total are checked against the recomputed ones.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvoiceLineFields {
    item: LineItem,
    discount: Amount,
    tax: Amount,
    net: Option<Amount>,
    total: Option<Amount>,
}

impl InvoiceLine {
    /// Builds a billed line from its item and the discount and tax amounts the provider
    /// computed. Negative amounts, a discount above the gross amount and overflow are errors.
    pub fn new(item: LineItem, discount: Amount, tax: Amount) -> Result<Self, InvoiceError> {
        let (net, total) = line_amounts(item.gross(), discount, tax)?;
        Ok(Self {
            item,
            discount,
            net,
            tax,
            total,
        })
    }

    /// The line item billed.
    pub fn item(&self) -> &LineItem {
        &self.item
    }

    /// Quantity × unit price.
    pub fn gross(&self) -> Amount {
        self.item.gross()
    }

    /// The discount taken off, in minor units.
    pub fn discount(&self) -> Amount {
        self.discount
    }

    /// Gross − discount: the taxable amount.
    pub fn net(&self) -> Amount {
        self.net
    }

    /// The tax on the net amount.
    pub fn tax(&self) -> Amount {
        self.tax
    }

    /// Net + tax.
    pub fn total(&self) -> Amount {
        self.total
    }
}

impl TryFrom<InvoiceLineFields> for InvoiceLine {
    type Error = InvoiceError;

    fn try_from(fields: InvoiceLineFields) -> Result<Self, Self::Error> {
        let line = Self::new(fields.item, fields.discount, fields.tax)?;
        check_stored("line net", fields.net, line.net)?;
        check_stored("line total", fields.total, line.total)?;
        Ok(line)
    }
}

/// An invoice's totals: subtotal (the sum of net amounts), tax, and total = subtotal + tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "TotalsFields")]
pub struct Totals {
    subtotal: Amount,
    tax: Amount,
    total: Amount,
}

/// [`Totals`] as they travel; the total is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TotalsFields {
    subtotal: Amount,
    tax: Amount,
    total: Amount,
}

impl Totals {
    /// Totals from a subtotal and a tax amount.
    pub fn new(subtotal: Amount, tax: Amount) -> Result<Self, ArithmeticError> {
        let total = subtotal.checked_add(tax, "invoice total")?;
        Ok(Self {
            subtotal,
            tax,
            total,
        })
    }

    /// Adds up lines.
    pub fn from_lines(lines: &[InvoiceLine]) -> Result<Self, ArithmeticError> {
        let subtotal = Amount::checked_sum(lines.iter().map(InvoiceLine::net), "invoice subtotal")?;
        let tax = Amount::checked_sum(lines.iter().map(InvoiceLine::tax), "invoice tax")?;
        Self::new(subtotal, tax)
    }

    /// The sum of the lines' net amounts.
    pub fn subtotal(&self) -> Amount {
        self.subtotal
    }

    /// The sum of the lines' taxes.
    pub fn tax(&self) -> Amount {
        self.tax
    }

    /// Subtotal + tax, which is also the sum of the lines' totals.
    pub fn total(&self) -> Amount {
        self.total
    }
}

impl TryFrom<TotalsFields> for Totals {
    type Error = InvoiceError;

    fn try_from(fields: TotalsFields) -> Result<Self, Self::Error> {
        let totals = Self::new(fields.subtotal, fields.tax)?;
        check_stored("total", Some(fields.total), totals.total)?;
        Ok(totals)
    }
}

/// A computed invoice: id, customer, the flat tax rate, its lines and their totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "InvoiceFields")]
pub struct Invoice {
    id: InvoiceId,
    customer: CustomerId,
    tax_rate: Rate,
    lines: Vec<InvoiceLine>,
    totals: Totals,
}

/// [`Invoice`] as it travels; stored totals are checked against the lines.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvoiceFields {
    id: InvoiceId,
    customer: CustomerId,
    tax_rate: Rate,
    lines: Vec<InvoiceLine>,
    totals: Option<Totals>,
}

impl Invoice {
    /// Builds an invoice and adds up its totals. No lines is [`InvoiceError::Empty`].
    pub fn new(
        id: InvoiceId,
        customer: CustomerId,
        tax_rate: Rate,
        lines: Vec<InvoiceLine>,
    ) -> Result<Self, InvoiceError> {
        if lines.is_empty() {
            return Err(InvoiceError::Empty);
        }
        let totals = Totals::from_lines(&lines)?;
        Ok(Self {
            id,
            customer,
            tax_rate,
            lines,
            totals,
        })
    }

    /// The invoice id.
    pub fn id(&self) -> &InvoiceId {
        &self.id
    }

    /// Who is billed.
    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }

    /// The flat tax rate.
    pub fn tax_rate(&self) -> Rate {
        self.tax_rate
    }

    /// The billed lines, never empty.
    pub fn lines(&self) -> &[InvoiceLine] {
        &self.lines
    }

    /// The totals, in minor units of [`CURRENCY`].
    pub fn totals(&self) -> Totals {
        self.totals
    }
}

impl TryFrom<InvoiceFields> for Invoice {
    type Error = InvoiceError;

    fn try_from(fields: InvoiceFields) -> Result<Self, Self::Error> {
        let invoice = Self::new(fields.id, fields.customer, fields.tax_rate, fields.lines)?;
        if let Some(stored) = fields.totals {
            let computed = invoice.totals;
            check_stored("subtotal", Some(stored.subtotal), computed.subtotal)?;
            check_stored("tax", Some(stored.tax), computed.tax)?;
            check_stored("total", Some(stored.total), computed.total)?;
        }
        Ok(invoice)
    }
}

/// Why a billing request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BillingError {
    /// The lines or totals do not add up, or overflowed.
    #[error("invalid invoice: {0}")]
    Invoice(#[from] InvoiceError),
    /// The result exists but only a newer contract version can express it.
    #[error("billing v1 cannot express this invoice: {0}")]
    RequiresV2(#[from] RequiresV2),
    /// The provider failed for a reason of its own.
    #[error("billing provider failed: {message}")]
    Provider {
        /// What went wrong, for logs.
        message: String,
    },
}

/// What an invoice uses that only billing v2 can express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequiresV2 {
    /// The invoice is in a currency other than [`CURRENCY`].
    #[error("it is in {found}, and v1 only knows {CURRENCY}")]
    Currency {
        /// The invoice's currency.
        found: Currency,
    },
    /// The lines are taxed at different rates, and v1 has one flat rate.
    #[error("its lines are taxed at {count} different rates, and v1 has one flat rate")]
    MixedTaxRates {
        /// How many different rates the lines use.
        count: usize,
    },
}

/// A billing provider, version 1.
///
/// One required method, [`create_invoice`](Self::create_invoice); the others have defaults
/// built on it, so methods added in minor versions never break implementors. Providers must be
/// deterministic: the same request gives the same invoice.
pub trait Billing {
    /// Computes the invoice for `request`.
    fn create_invoice(&self, request: &InvoiceRequest) -> Result<Invoice, BillingError>;

    /// Computes only the totals `request` would have. The default builds the whole invoice;
    /// providers may override it with something cheaper.
    fn quote(&self, request: &InvoiceRequest) -> Result<Totals, BillingError> {
        Ok(self.create_invoice(request)?.totals())
    }
}

impl<T: Billing + ?Sized> Billing for &T {
    fn create_invoice(&self, request: &InvoiceRequest) -> Result<Invoice, BillingError> {
        (**self).create_invoice(request)
    }

    fn quote(&self, request: &InvoiceRequest) -> Result<Totals, BillingError> {
        (**self).quote(request)
    }
}

impl<T: Billing + ?Sized> Billing for Box<T> {
    fn create_invoice(&self, request: &InvoiceRequest) -> Result<Invoice, BillingError> {
        (**self).create_invoice(request)
    }

    fn quote(&self, request: &InvoiceRequest) -> Result<Totals, BillingError> {
        (**self).quote(request)
    }
}

impl<T: Billing + ?Sized> Billing for Arc<T> {
    fn create_invoice(&self, request: &InvoiceRequest) -> Result<Invoice, BillingError> {
        (**self).create_invoice(request)
    }

    fn quote(&self, request: &InvoiceRequest) -> Result<Totals, BillingError> {
        (**self).quote(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::fixtures::*;

    fn item(units: i64, unit_price: i64) -> LineItem {
        LineItem::new(
            description("Widget"),
            quantity(units),
            amount(unit_price),
            Discount::None,
        )
        .unwrap()
    }

    /// A provider taxing nothing, to exercise the trait's provided methods.
    struct TaxFree;

    impl Billing for TaxFree {
        fn create_invoice(&self, request: &InvoiceRequest) -> Result<Invoice, BillingError> {
            let lines = request
                .lines()
                .iter()
                .map(|item| InvoiceLine::new(item.clone(), Amount::ZERO, Amount::ZERO))
                .collect::<Result<_, _>>()?;
            Ok(Invoice::new(
                request.invoice_id().clone(),
                request.customer().clone(),
                request.tax_rate(),
                lines,
            )?)
        }
    }

    fn request() -> InvoiceRequest {
        InvoiceRequest::new(
            invoice_id("inv-1"),
            customer("c-1"),
            rate(0),
            vec![item(2, 150), item(1, 20)],
        )
        .unwrap()
    }

    #[test]
    fn lines_compute_net_and_total() {
        let line = InvoiceLine::new(item(3, 100), amount(50), amount(25)).unwrap();
        assert_eq!(
            (line.gross(), line.net(), line.total()),
            (amount(300), amount(250), amount(275))
        );
    }

    #[test]
    fn lines_reject_bad_discounts_and_taxes() {
        assert_eq!(
            InvoiceLine::new(item(1, 100), amount(101), Amount::ZERO),
            Err(InvoiceError::DiscountExceedsGross {
                discount: amount(101),
                gross: amount(100)
            })
        );
        assert_eq!(
            InvoiceLine::new(item(1, 100), amount(-1), Amount::ZERO),
            Err(InvoiceError::NegativeDiscount { amount: amount(-1) })
        );
        assert_eq!(
            InvoiceLine::new(item(1, 100), Amount::ZERO, amount(-1)),
            Err(InvoiceError::NegativeTax { amount: amount(-1) })
        );
        assert!(matches!(
            InvoiceLine::new(item(1, i64::MAX), Amount::ZERO, amount(1)),
            Err(InvoiceError::Arithmetic(ArithmeticError::Overflow {
                operation: "line total"
            }))
        ));
    }

    #[test]
    fn invoices_need_lines() {
        assert_eq!(
            Invoice::new(invoice_id("i"), customer("c"), rate(0), vec![]),
            Err(InvoiceError::Empty)
        );
        assert_eq!(
            InvoiceRequest::new(invoice_id("i"), customer("c"), rate(0), vec![]),
            Err(InvoiceError::Empty)
        );
    }

    #[test]
    fn the_default_quote_is_the_invoice_totals() {
        let totals = TaxFree.quote(&request()).unwrap();
        assert_eq!(totals, Totals::new(amount(320), Amount::ZERO).unwrap());
        assert_eq!(totals.total(), amount(320));
    }

    #[test]
    fn pointers_to_providers_are_providers() {
        let shared: Arc<dyn Billing + Send + Sync> = Arc::new(TaxFree);
        let boxed: Box<dyn Billing> = Box::new(TaxFree);
        let direct = TaxFree.create_invoice(&request()).unwrap();
        assert_eq!(shared.create_invoice(&request()).unwrap(), direct);
        assert_eq!(boxed.quote(&request()).unwrap(), direct.totals());
        let by_reference = |provider: &dyn Billing| {
            fn quote_with(provider: impl Billing) -> Totals {
                provider.quote(&request()).unwrap()
            }
            quote_with(provider)
        };
        assert_eq!(by_reference(&TaxFree), direct.totals());
    }

    #[test]
    fn requests_parse_from_json_with_an_optional_discount() {
        let json = r#"{"invoice_id":"inv-9","customer":"c-9","tax_rate":1900,"lines":[
            {"description":"Widget","quantity":2,"unit_price":150},
            {"description":"Gadget","quantity":1,"unit_price":999,"discount":{"percent":500}}]}"#;
        let request: InvoiceRequest = serde_json::from_str(json).unwrap();
        assert_eq!(request.tax_rate(), rate(1900));
        assert_eq!(request.lines()[0].gross(), amount(300));
        assert_eq!(request.lines()[1].discount(), Discount::Percent(rate(500)));
    }

    #[test]
    fn json_requests_are_checked_like_built_ones() {
        let cases = [
            (
                r#"{"invoice_id":"i","customer":"c","tax_rate":0,"lines":[]}"#,
                "invoice has no lines",
            ),
            (
                r#"{"invoice_id":"i","customer":"c","tax_rate":0,"lines":[{"description":"W","quantity":0,"unit_price":1}]}"#,
                "invalid quantity 0",
            ),
            (
                r#"{"invoice_id":"i","customer":"c","tax_rate":0,"lines":[{"description":"W","quantity":1,"unit_price":-1}]}"#,
                "unit price -1 minor units is negative",
            ),
            (
                r#"{"invoice_id":"i","customer":"c","tax_rate":0,"currency":"USD","lines":[]}"#,
                "unknown field `currency`",
            ),
        ];
        for (json, expected) in cases {
            let err = serde_json::from_str::<InvoiceRequest>(json).unwrap_err();
            assert!(err.to_string().contains(expected), "{json}: {err}");
        }
    }

    #[test]
    fn stored_totals_must_match_the_lines() {
        let invoice = TaxFree.create_invoice(&request()).unwrap();
        let mut value = serde_json::to_value(&invoice).unwrap();
        assert_eq!(
            serde_json::from_value::<Invoice>(value.clone()).unwrap(),
            invoice
        );
        value["totals"]["subtotal"] = 1.into();
        value["totals"]["total"] = 1.into();
        let err = serde_json::from_value::<Invoice>(value).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invoice subtotal is 1 minor units but its lines add up to 320 minor units"
        );
    }
}
