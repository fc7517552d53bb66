//! Billing contract, major version 2: the invoice carries its currency, each line its own tax
//! rate, the result a tax breakdown, and creation an idempotency key.
//!
//! What changed from [`v1`](super::v1):
//! - amounts are [`Money`] (currency included) instead of [`Amount`]s in one implicit currency;
//! - each [`LineItem`] has its own tax [`Rate`] instead of one flat rate per invoice, and every
//!   result carries a [`TaxBreakdown`] by rate;
//! - [`Billing::create_invoice`] takes an [`IdempotencyKey`], recorded on the [`Invoice`];
//! - [`Billing::quote`] returns a [`Quote`] (lines, totals and breakdown) instead of totals, and
//!   is the one required method;
//! - [`Billing::tax_breakdown`] and [`Billing::supports_currency`] are new.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{check_stored, checked_gross, line_amounts};
use crate::domain::{
    Amount, ArithmeticError, Currency, CustomerId, Description, Discount, IdempotencyKey,
    InvoiceError, InvoiceId, Money, Quantity, Rate,
};

/// The full version of this contract; the single source of truth for tools and diagnostics.
pub const VERSION: &str = "2.0.0";

/// One line of an invoice request: what, how many, at what unit price, with what discount,
/// taxed at what rate. A fixed discount is in the unit price's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LineItemFields")]
pub struct LineItem {
    description: Description,
    quantity: Quantity,
    unit_price: Money,
    discount: Discount,
    tax_rate: Rate,
    #[serde(skip)]
    gross: Amount,
}

/// [`LineItem`] as it travels, before its checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineItemFields {
    description: Description,
    quantity: Quantity,
    unit_price: Money,
    #[serde(default)]
    discount: Discount,
    tax_rate: Rate,
}

impl LineItem {
    /// Builds a line item. The unit price must not be negative, a fixed discount must lie
    /// between zero and the gross amount, and quantity × unit price must not overflow.
    pub fn new(
        description: Description,
        quantity: Quantity,
        unit_price: Money,
        discount: Discount,
        tax_rate: Rate,
    ) -> Result<Self, InvoiceError> {
        let gross = checked_gross(quantity, unit_price.amount(), discount)?;
        Ok(Self {
            description,
            quantity,
            unit_price,
            discount,
            tax_rate,
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

    /// The price of one unit.
    pub fn unit_price(&self) -> Money {
        self.unit_price
    }

    /// The line's currency: its unit price's.
    pub fn currency(&self) -> Currency {
        self.unit_price.currency()
    }

    /// The discount to take off before tax.
    pub fn discount(&self) -> Discount {
        self.discount
    }

    /// The line's tax rate.
    pub fn tax_rate(&self) -> Rate {
        self.tax_rate
    }

    /// Quantity × unit price, before discount and tax.
    pub fn gross(&self) -> Money {
        Money::new(self.gross, self.currency())
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
            fields.tax_rate,
        )
    }
}

/// Checks that every line is in `currency`.
fn check_currency(
    currency: Currency,
    line_currencies: impl IntoIterator<Item = Currency>,
) -> Result<(), InvoiceError> {
    for (line, found) in line_currencies.into_iter().enumerate() {
        if found != currency {
            return Err(InvoiceError::CurrencyMismatch {
                line,
                expected: currency,
                found,
            });
        }
    }
    Ok(())
}

/// What a consumer asks a provider to bill: at least one line, all in the request's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "InvoiceRequestFields")]
pub struct InvoiceRequest {
    invoice_id: InvoiceId,
    customer: CustomerId,
    currency: Currency,
    lines: Vec<LineItem>,
}

/// [`InvoiceRequest`] as it travels, before its checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvoiceRequestFields {
    invoice_id: InvoiceId,
    customer: CustomerId,
    currency: Currency,
    lines: Vec<LineItem>,
}

impl InvoiceRequest {
    /// Builds a request. No lines is [`InvoiceError::Empty`]; a line in another currency is
    /// [`InvoiceError::CurrencyMismatch`].
    pub fn new(
        invoice_id: InvoiceId,
        customer: CustomerId,
        currency: Currency,
        lines: Vec<LineItem>,
    ) -> Result<Self, InvoiceError> {
        if lines.is_empty() {
            return Err(InvoiceError::Empty);
        }
        check_currency(currency, lines.iter().map(LineItem::currency))?;
        Ok(Self {
            invoice_id,
            customer,
            currency,
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

    /// The currency of every amount.
    pub fn currency(&self) -> Currency {
        self.currency
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
            fields.currency,
            fields.lines,
        )
    }
}

/// A billed line: the item, the discount and tax the provider computed, and the resulting net
/// (gross − discount) and total (net + tax), all in the item's currency.
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
    /// Builds a billed line from its item and the discount and tax amounts (in minor units of
    /// the item's currency) the provider computed. Negative amounts, a discount above the gross
    /// amount and overflow are errors.
    pub fn new(item: LineItem, discount: Amount, tax: Amount) -> Result<Self, InvoiceError> {
        let (net, total) = line_amounts(item.gross, discount, tax)?;
        Ok(Self {
            item,
            discount,
            net,
            tax,
            total,
        })
    }

    fn money(&self, amount: Amount) -> Money {
        Money::new(amount, self.item.currency())
    }

    /// The line item billed.
    pub fn item(&self) -> &LineItem {
        &self.item
    }

    /// The line's currency.
    pub fn currency(&self) -> Currency {
        self.item.currency()
    }

    /// Quantity × unit price.
    pub fn gross(&self) -> Money {
        self.item.gross()
    }

    /// The discount taken off.
    pub fn discount(&self) -> Money {
        self.money(self.discount)
    }

    /// Gross − discount: the taxable amount.
    pub fn net(&self) -> Money {
        self.money(self.net)
    }

    /// The tax on the net amount, at the item's rate.
    pub fn tax(&self) -> Money {
        self.money(self.tax)
    }

    /// Net + tax.
    pub fn total(&self) -> Money {
        self.money(self.total)
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

/// The tax at one rate: the taxable (net) amount of the lines at that rate, and their tax.
/// Built only by [`TaxBreakdown::from_lines`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaxBand {
    /// The rate.
    pub rate: Rate,
    /// The sum of the net amounts of the lines taxed at `rate`.
    pub taxable: Money,
    /// The sum of those lines' taxes. Tax is rounded per line, so this may differ by a few
    /// minor units from `rate` applied to `taxable`.
    pub tax: Money,
}

/// The tax of an invoice by rate, one band per distinct rate, in ascending rate order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaxBreakdown {
    bands: Vec<TaxBand>,
}

impl TaxBreakdown {
    /// Groups lines by tax rate. The lines must be in `currency`.
    pub fn from_lines(currency: Currency, lines: &[InvoiceLine]) -> Result<Self, InvoiceError> {
        check_currency(currency, lines.iter().map(InvoiceLine::currency))?;
        let mut by_rate: BTreeMap<Rate, (Amount, Amount)> = BTreeMap::new();
        for line in lines {
            let (taxable, tax) = by_rate.entry(line.item.tax_rate).or_default();
            *taxable = taxable.checked_add(line.net, "tax breakdown")?;
            *tax = tax.checked_add(line.tax, "tax breakdown")?;
        }
        let bands = by_rate
            .into_iter()
            .map(|(rate, (taxable, tax))| TaxBand {
                rate,
                taxable: Money::new(taxable, currency),
                tax: Money::new(tax, currency),
            })
            .collect();
        Ok(Self { bands })
    }

    /// The bands, in ascending rate order.
    pub fn bands(&self) -> &[TaxBand] {
        &self.bands
    }
}

/// An invoice's totals: subtotal (the sum of net amounts), tax, and total = subtotal + tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "TotalsFields")]
pub struct Totals {
    subtotal: Money,
    tax: Money,
    total: Money,
}

/// [`Totals`] as they travel; the currencies and the total are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TotalsFields {
    subtotal: Money,
    tax: Money,
    total: Money,
}

impl Totals {
    /// Totals from a subtotal and a tax amount in `currency`.
    pub fn new(currency: Currency, subtotal: Amount, tax: Amount) -> Result<Self, ArithmeticError> {
        let total = subtotal.checked_add(tax, "invoice total")?;
        Ok(Self {
            subtotal: Money::new(subtotal, currency),
            tax: Money::new(tax, currency),
            total: Money::new(total, currency),
        })
    }

    /// Adds up lines, which must be in `currency`.
    pub fn from_lines(currency: Currency, lines: &[InvoiceLine]) -> Result<Self, InvoiceError> {
        check_currency(currency, lines.iter().map(InvoiceLine::currency))?;
        let subtotal = Amount::checked_sum(lines.iter().map(|l| l.net), "invoice subtotal")?;
        let tax = Amount::checked_sum(lines.iter().map(|l| l.tax), "invoice tax")?;
        Ok(Self::new(currency, subtotal, tax)?)
    }

    /// The currency of all three amounts.
    pub fn currency(&self) -> Currency {
        self.total.currency()
    }

    /// The sum of the lines' net amounts.
    pub fn subtotal(&self) -> Money {
        self.subtotal
    }

    /// The sum of the lines' taxes.
    pub fn tax(&self) -> Money {
        self.tax
    }

    /// Subtotal + tax, which is also the sum of the lines' totals.
    pub fn total(&self) -> Money {
        self.total
    }
}

impl TryFrom<TotalsFields> for Totals {
    type Error = InvoiceError;

    fn try_from(fields: TotalsFields) -> Result<Self, Self::Error> {
        let currency = fields.total.currency();
        check_currency(
            currency,
            [fields.subtotal.currency(), fields.tax.currency()],
        )?;
        let totals = Self::new(currency, fields.subtotal.amount(), fields.tax.amount())?;
        check_stored("total", Some(fields.total.amount()), totals.total.amount())?;
        Ok(totals)
    }
}

/// What a request would bill, before it is issued: lines, totals and tax breakdown in one
/// currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "QuoteFields")]
pub struct Quote {
    currency: Currency,
    lines: Vec<InvoiceLine>,
    totals: Totals,
    breakdown: TaxBreakdown,
}

/// [`Quote`] as it travels; stored totals are checked against the lines.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuoteFields {
    currency: Currency,
    lines: Vec<InvoiceLine>,
    totals: Option<Totals>,
    breakdown: Option<TaxBreakdown>,
}

impl Quote {
    /// Adds up lines. No lines is [`InvoiceError::Empty`]; a line in another currency is
    /// [`InvoiceError::CurrencyMismatch`].
    pub fn new(currency: Currency, lines: Vec<InvoiceLine>) -> Result<Self, InvoiceError> {
        if lines.is_empty() {
            return Err(InvoiceError::Empty);
        }
        let totals = Totals::from_lines(currency, &lines)?;
        let breakdown = TaxBreakdown::from_lines(currency, &lines)?;
        Ok(Self {
            currency,
            lines,
            totals,
            breakdown,
        })
    }

    /// The currency of every amount.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The billed lines, never empty.
    pub fn lines(&self) -> &[InvoiceLine] {
        &self.lines
    }

    /// The totals.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// The tax by rate; its bands add up to the totals' tax.
    pub fn breakdown(&self) -> &TaxBreakdown {
        &self.breakdown
    }
}

impl TryFrom<QuoteFields> for Quote {
    type Error = InvoiceError;

    fn try_from(fields: QuoteFields) -> Result<Self, Self::Error> {
        let quote = Self::new(fields.currency, fields.lines)?;
        if let Some(stored) = fields.totals {
            let computed = quote.totals;
            let amount = |m: Money| Some(m.amount());
            check_stored(
                "subtotal",
                amount(stored.subtotal),
                computed.subtotal.amount(),
            )?;
            check_stored("tax", amount(stored.tax), computed.tax.amount())?;
            check_stored("total", amount(stored.total), computed.total.amount())?;
            check_currency(quote.currency, [stored.currency()])?;
        }
        if let Some(stored) = fields.breakdown
            && stored != quote.breakdown
        {
            let stored_tax = Amount::checked_sum(
                stored.bands.iter().map(|band| band.tax.amount()),
                "tax breakdown",
            )?;
            return Err(InvoiceError::TotalsMismatch {
                field: "tax breakdown",
                stored: stored_tax,
                computed: quote.totals.tax.amount(),
            });
        }
        Ok(quote)
    }
}

/// An issued invoice: a [`Quote`] with an id, a customer and the idempotency key it was
/// created with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    id: InvoiceId,
    customer: CustomerId,
    idempotency_key: IdempotencyKey,
    #[serde(flatten)]
    quote: Quote,
}

impl Invoice {
    /// Issues `quote` as invoice `id` to `customer`.
    pub fn new(
        id: InvoiceId,
        customer: CustomerId,
        idempotency_key: IdempotencyKey,
        quote: Quote,
    ) -> Self {
        Self {
            id,
            customer,
            idempotency_key,
            quote,
        }
    }

    /// The invoice id.
    pub fn id(&self) -> &InvoiceId {
        &self.id
    }

    /// Who is billed.
    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }

    /// The key the invoice was created with; the same key names the same invoice.
    pub fn idempotency_key(&self) -> &IdempotencyKey {
        &self.idempotency_key
    }

    /// The currency of every amount.
    pub fn currency(&self) -> Currency {
        self.quote.currency
    }

    /// The billed lines, never empty.
    pub fn lines(&self) -> &[InvoiceLine] {
        &self.quote.lines
    }

    /// The totals.
    pub fn totals(&self) -> Totals {
        self.quote.totals
    }

    /// The tax by rate.
    pub fn breakdown(&self) -> &TaxBreakdown {
        &self.quote.breakdown
    }

    /// Lines, totals and breakdown together.
    pub fn quote(&self) -> &Quote {
        &self.quote
    }
}

/// Why a billing request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BillingError {
    /// The lines or totals do not add up, are in mixed currencies, or overflowed.
    #[error("invalid invoice: {0}")]
    Invoice(#[from] InvoiceError),
    /// The provider does not bill in this currency.
    #[error("currency {currency} is not supported by this billing provider")]
    UnsupportedCurrency {
        /// The requested currency.
        currency: Currency,
    },
    /// The provider failed for a reason of its own.
    #[error("billing provider failed: {message}")]
    Provider {
        /// What went wrong, for logs.
        message: String,
    },
}

/// A billing provider, version 2.
///
/// One required method, [`quote`](Self::quote); the others have defaults built on it, so
/// methods added in minor versions never break implementors. Providers must be deterministic:
/// the same request gives the same quote, so a retried create with the same idempotency key
/// gives the same invoice. Remembering which keys were already used is the store's job.
pub trait Billing {
    /// Computes what `request` would bill: lines, totals and tax breakdown.
    /// A provider that does not bill in the request's currency returns
    /// [`BillingError::UnsupportedCurrency`].
    fn quote(&self, request: &InvoiceRequest) -> Result<Quote, BillingError>;

    /// Issues the invoice for `request`, recording `idempotency_key` on it.
    fn create_invoice(
        &self,
        request: &InvoiceRequest,
        idempotency_key: &IdempotencyKey,
    ) -> Result<Invoice, BillingError> {
        let quote = self.quote(request)?;
        Ok(Invoice::new(
            request.invoice_id().clone(),
            request.customer().clone(),
            idempotency_key.clone(),
            quote,
        ))
    }

    /// Computes only the tax breakdown of `request`.
    fn tax_breakdown(&self, request: &InvoiceRequest) -> Result<TaxBreakdown, BillingError> {
        Ok(self.quote(request)?.breakdown)
    }

    /// Whether the provider bills in `currency`. The default accepts every currency.
    fn supports_currency(&self, currency: Currency) -> bool {
        let _ = currency;
        true
    }
}

macro_rules! forward_billing {
    ($($wrapper:ty),*) => {$(
        impl<T: Billing + ?Sized> Billing for $wrapper {
            fn quote(&self, request: &InvoiceRequest) -> Result<Quote, BillingError> {
                (**self).quote(request)
            }

            fn create_invoice(
                &self,
                request: &InvoiceRequest,
                idempotency_key: &IdempotencyKey,
            ) -> Result<Invoice, BillingError> {
                (**self).create_invoice(request, idempotency_key)
            }

            fn tax_breakdown(
                &self,
                request: &InvoiceRequest,
            ) -> Result<TaxBreakdown, BillingError> {
                (**self).tax_breakdown(request)
            }

            fn supports_currency(&self, currency: Currency) -> bool {
                (**self).supports_currency(currency)
            }
        }
    )*};
}

forward_billing!(&T, Box<T>, Arc<T>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::fixtures::*;

    fn request(items: Vec<LineItem>) -> InvoiceRequest {
        InvoiceRequest::new(invoice_id("inv-2"), customer("c-2"), Currency::USD, items).unwrap()
    }

    fn key(text: &str) -> IdempotencyKey {
        IdempotencyKey::parse(text).unwrap()
    }

    #[test]
    fn requests_reject_no_lines_and_foreign_currencies() {
        assert_eq!(
            InvoiceRequest::new(invoice_id("i"), customer("c"), Currency::USD, vec![]),
            Err(InvoiceError::Empty)
        );
        let lines = vec![
            v2_item(1, 100, Currency::USD, 0),
            v2_item(1, 100, Currency::GBP, 0),
        ];
        assert_eq!(
            InvoiceRequest::new(invoice_id("i"), customer("c"), Currency::USD, lines),
            Err(InvoiceError::CurrencyMismatch {
                line: 1,
                expected: Currency::USD,
                found: Currency::GBP
            })
        );
    }

    #[test]
    fn quotes_reject_no_lines_and_foreign_currencies() {
        assert_eq!(Quote::new(Currency::USD, vec![]), Err(InvoiceError::Empty));
        let line = InvoiceLine::new(
            v2_item(1, 100, Currency::EUR, 0),
            Amount::ZERO,
            Amount::ZERO,
        )
        .unwrap();
        assert!(matches!(
            Quote::new(Currency::USD, vec![line]),
            Err(InvoiceError::CurrencyMismatch { line: 0, .. })
        ));
    }

    #[test]
    fn the_breakdown_groups_lines_by_rate_in_ascending_order() {
        let line = |units, rate_bp, tax| {
            InvoiceLine::new(
                v2_item(units, 100, Currency::USD, rate_bp),
                Amount::ZERO,
                amount(tax),
            )
            .unwrap()
        };
        let lines = [line(1, 1900, 19), line(2, 700, 14), line(3, 1900, 57)];
        let breakdown = TaxBreakdown::from_lines(Currency::USD, &lines).unwrap();
        let bands: Vec<_> = breakdown
            .bands()
            .iter()
            .map(|b| (b.rate, b.taxable.amount(), b.tax.amount()))
            .collect();
        assert_eq!(
            bands,
            [
                (rate(700), amount(200), amount(14)),
                (rate(1900), amount(400), amount(76))
            ]
        );
    }

    #[test]
    fn provided_methods_build_on_quote() {
        let provider = TruncatingProvider::default();
        let request = request(vec![
            v2_item(1, 1_000, Currency::USD, 700),
            v2_item(1, 1_000, Currency::USD, 1900),
        ]);
        let invoice = provider.create_invoice(&request, &key("k-1")).unwrap();
        assert_eq!(invoice.idempotency_key(), &key("k-1"));
        assert_eq!(invoice.id(), request.invoice_id());
        assert_eq!(invoice.quote(), &provider.quote(&request).unwrap());
        assert_eq!(
            &provider.tax_breakdown(&request).unwrap(),
            invoice.breakdown()
        );
        assert!(provider.supports_currency(Currency::JPY));
        assert_eq!(
            invoice.totals().total(),
            Money::from_minor(2_260, Currency::USD)
        );
    }

    #[test]
    fn pointers_to_providers_are_providers() {
        let request = request(vec![v2_item(2, 500, Currency::USD, 1000)]);
        let direct = TruncatingProvider::default().quote(&request).unwrap();
        let shared: Arc<dyn Billing + Send + Sync> = Arc::new(TruncatingProvider::default());
        let boxed: Box<dyn Billing> = Box::new(TruncatingProvider::default());
        assert_eq!(shared.quote(&request).unwrap(), direct);
        assert_eq!(boxed.tax_breakdown(&request).unwrap(), *direct.breakdown());
        assert!(shared.supports_currency(Currency::EUR));
        fn invoice_with(provider: impl Billing, request: &InvoiceRequest) -> Invoice {
            provider.create_invoice(request, &key("k")).unwrap()
        }
        let provider = TruncatingProvider::default();
        let by_reference = invoice_with(&provider, &request);
        assert_eq!(invoice_with(provider, &request), by_reference);
        assert_eq!(by_reference.quote(), &direct);
    }

    #[test]
    fn invoices_round_trip_through_json_and_tampering_is_caught() {
        let request = request(vec![
            v2_item(1, 1_000, Currency::USD, 700),
            v2_item(1, 1_000, Currency::USD, 1900),
        ]);
        let invoice = TruncatingProvider::default()
            .create_invoice(&request, &key("k"))
            .unwrap();
        let value = serde_json::to_value(&invoice).unwrap();
        assert_eq!(
            serde_json::from_value::<Invoice>(value.clone()).unwrap(),
            invoice
        );

        let mut tampered = value.clone();
        tampered["breakdown"][0]["tax"]["amount"] = 1.into();
        let err = serde_json::from_value::<Invoice>(tampered).unwrap_err();
        assert!(
            err.to_string().contains("invoice tax breakdown is 191"),
            "{err}"
        );

        let mut tampered = value;
        tampered["totals"]["tax"]["currency"] = "EUR".into();
        let err = serde_json::from_value::<Invoice>(tampered).unwrap_err();
        assert!(err.to_string().contains("currency mismatch"), "{err}");
    }
}
