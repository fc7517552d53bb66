//! The dual-stack adapter: serves billing v1 consumers from a billing v2 provider.
//!
//! [`V1OverV2`] implements [`v1::Billing`] over any [`v2::Billing`]. A v1 request always has a
//! v2 form: its currency becomes [`v1::CURRENCY`], its flat tax rate becomes every line's rate,
//! and its idempotency key is derived from the invoice id ([`idempotency_key_for`]), so a
//! retried v1 create maps to the same v2 key. The v2 result maps back when v1 can express it
//! (one currency, [`v1::CURRENCY`], and one tax rate); otherwise the answer is
//! [`v1::BillingError::RequiresV2`].
//!
//! The conversion functions are public so stores and gateways can move stored invoices between
//! the two forms with the same rules.

use super::{v1, v2};
use crate::domain::{IdempotencyKey, InvoiceError, InvoiceId, Money, Rate};

/// A [`v1::Billing`] provider backed by a [`v2::Billing`] provider.
#[derive(Debug, Clone, Default)]
pub struct V1OverV2<P> {
    provider: P,
}

impl<P> V1OverV2<P> {
    /// Serves v1 from `provider`.
    pub fn new(provider: P) -> Self {
        Self { provider }
    }

    /// The v2 provider.
    pub fn provider(&self) -> &P {
        &self.provider
    }

    /// Gives the v2 provider back.
    pub fn into_inner(self) -> P {
        self.provider
    }
}

impl<P: v2::Billing> v1::Billing for V1OverV2<P> {
    fn create_invoice(
        &self,
        request: &v1::InvoiceRequest,
    ) -> Result<v1::Invoice, v1::BillingError> {
        let v2_request = request_to_v2(request)?;
        let key = idempotency_key_for(request.invoice_id());
        let invoice = self
            .provider
            .create_invoice(&v2_request, &key)
            .map_err(error_to_v1)?;
        invoice_to_v1(&invoice)
    }

    fn quote(&self, request: &v1::InvoiceRequest) -> Result<v1::Totals, v1::BillingError> {
        let quote = self
            .provider
            .quote(&request_to_v2(request)?)
            .map_err(error_to_v1)?;
        totals_to_v1(&quote.totals())
    }
}

/// The idempotency key a v1 request is given in v2: `v1:` followed by the invoice id, so the
/// same v1 invoice always maps to the same key.
pub fn idempotency_key_for(invoice_id: &InvoiceId) -> IdempotencyKey {
    IdempotencyKey::derived(format!("v1:{invoice_id}"))
}

/// The v2 form of a v1 request: every amount in [`v1::CURRENCY`], every line taxed at the
/// request's flat rate.
pub fn request_to_v2(request: &v1::InvoiceRequest) -> Result<v2::InvoiceRequest, InvoiceError> {
    let lines = request
        .lines()
        .iter()
        .map(|item| line_item_to_v2(item, request.tax_rate()))
        .collect::<Result<_, _>>()?;
    v2::InvoiceRequest::new(
        request.invoice_id().clone(),
        request.customer().clone(),
        v1::CURRENCY,
        lines,
    )
}

fn line_item_to_v2(item: &v1::LineItem, tax_rate: Rate) -> Result<v2::LineItem, InvoiceError> {
    v2::LineItem::new(
        item.description().clone(),
        item.quantity(),
        Money::new(item.unit_price(), v1::CURRENCY),
        item.discount(),
        tax_rate,
    )
}

/// The v1 form of a v2 invoice, when v1 can express it: the invoice is in [`v1::CURRENCY`]
/// and all its lines share one tax rate. The idempotency key and breakdown are dropped (the
/// breakdown has one band, equal to the totals).
pub fn invoice_to_v1(invoice: &v2::Invoice) -> Result<v1::Invoice, v1::BillingError> {
    if invoice.currency() != v1::CURRENCY {
        return Err(v1::RequiresV2::Currency {
            found: invoice.currency(),
        }
        .into());
    }
    let bands = invoice.breakdown().bands();
    let tax_rate = match bands {
        [band] => band.rate,
        _ => return Err(v1::RequiresV2::MixedTaxRates { count: bands.len() }.into()),
    };
    let lines = invoice
        .lines()
        .iter()
        .map(|line| {
            let item = line.item();
            let item = v1::LineItem::new(
                item.description().clone(),
                item.quantity(),
                item.unit_price().amount(),
                item.discount(),
            )?;
            v1::InvoiceLine::new(item, line.discount().amount(), line.tax().amount())
        })
        .collect::<Result<_, _>>()?;
    Ok(v1::Invoice::new(
        invoice.id().clone(),
        invoice.customer().clone(),
        tax_rate,
        lines,
    )?)
}

/// The v2 form of a v1 invoice, with these defaults for what v1 does not record: the currency
/// is [`v1::CURRENCY`], every line's tax rate is the flat rate, and the idempotency key is
/// [`idempotency_key_for`] the invoice id.
pub fn invoice_to_v2(invoice: &v1::Invoice) -> Result<v2::Invoice, InvoiceError> {
    let lines = invoice
        .lines()
        .iter()
        .map(|line| {
            let item = line_item_to_v2(line.item(), invoice.tax_rate())?;
            v2::InvoiceLine::new(item, line.discount(), line.tax())
        })
        .collect::<Result<_, _>>()?;
    Ok(v2::Invoice::new(
        invoice.id().clone(),
        invoice.customer().clone(),
        idempotency_key_for(invoice.id()),
        v2::Quote::new(v1::CURRENCY, lines)?,
    ))
}

/// The v1 form of v2 totals, when they are in [`v1::CURRENCY`].
pub fn totals_to_v1(totals: &v2::Totals) -> Result<v1::Totals, v1::BillingError> {
    if totals.currency() != v1::CURRENCY {
        return Err(v1::RequiresV2::Currency {
            found: totals.currency(),
        }
        .into());
    }
    Ok(
        v1::Totals::new(totals.subtotal().amount(), totals.tax().amount())
            .map_err(InvoiceError::from)?,
    )
}

/// The v1 form of a v2 error.
pub fn error_to_v1(error: v2::BillingError) -> v1::BillingError {
    match error {
        v2::BillingError::Invoice(error) => v1::BillingError::Invoice(error),
        v2::BillingError::Provider { message } => v1::BillingError::Provider { message },
        unsupported @ v2::BillingError::UnsupportedCurrency { .. } => v1::BillingError::Provider {
            message: unsupported.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::fixtures::*;
    use crate::billing::v1::Billing as _;
    use crate::domain::{Currency, Discount};

    fn v1_request(tax: u32) -> v1::InvoiceRequest {
        let item = |units, price, discount| {
            v1::LineItem::new(
                description("Widget"),
                quantity(units),
                amount(price),
                discount,
            )
            .unwrap()
        };
        v1::InvoiceRequest::new(
            invoice_id("inv-7"),
            customer("c-7"),
            rate(tax),
            vec![
                item(2, 1_050, Discount::None),
                item(1, 999, Discount::Fixed(amount(99))),
            ],
        )
        .unwrap()
    }

    #[test]
    fn v1_keys_derive_from_the_invoice_id() {
        assert_eq!(
            idempotency_key_for(&invoice_id("inv-7")).as_str(),
            "v1:inv-7"
        );
        let longest = "x".repeat(InvoiceId::MAX_LEN);
        assert!(IdempotencyKey::parse(idempotency_key_for(&invoice_id(&longest)).as_str()).is_ok());
    }

    #[test]
    fn a_v1_request_becomes_a_v2_request_in_the_implicit_currency_at_the_flat_rate() {
        let v2_request = request_to_v2(&v1_request(1900)).unwrap();
        assert_eq!(v2_request.currency(), v1::CURRENCY);
        assert_eq!(v2_request.invoice_id(), &invoice_id("inv-7"));
        assert!(
            v2_request
                .lines()
                .iter()
                .all(|l| l.tax_rate() == rate(1900))
        );
        assert_eq!(
            v2_request.lines()[1].discount(),
            Discount::Fixed(amount(99))
        );
    }

    #[test]
    fn the_adapter_serves_v1_from_a_v2_provider() {
        let adapter = V1OverV2::new(TruncatingProvider::default());
        let invoice = adapter.create_invoice(&v1_request(1900)).unwrap();
        let taxes: Vec<_> = invoice.lines().iter().map(|l| l.tax()).collect();
        // 21.00 at 19% = 3.99; (9.99 - 0.99) at 19%: the test provider ignores discounts, so
        // 9.99 at 19% = 1.8981, truncated to 1.89.
        assert_eq!(taxes, [amount(399), amount(189)]);
        assert_eq!(invoice.tax_rate(), rate(1900));
        assert_eq!(adapter.quote(&v1_request(1900)).unwrap(), invoice.totals());
        assert_eq!(adapter.provider().force_currency, None);
    }

    #[test]
    fn v1_and_v2_forms_convert_both_ways() {
        let v2_invoice = TruncatingProvider::default().create_invoice_for_test(&v1_request(700));
        let as_v1 = invoice_to_v1(&v2_invoice).unwrap();
        assert_eq!(invoice_to_v2(&as_v1).unwrap(), v2_invoice);
        assert_eq!(as_v1.totals().total(), v2_invoice.totals().total().amount());
    }

    #[test]
    fn another_currency_requires_v2() {
        let provider = TruncatingProvider {
            force_currency: Some(Currency::USD),
            ..TruncatingProvider::default()
        };
        let adapter = V1OverV2::new(provider);
        let expected = v1::BillingError::RequiresV2(v1::RequiresV2::Currency {
            found: Currency::USD,
        });
        assert_eq!(
            adapter.create_invoice(&v1_request(0)),
            Err(expected.clone())
        );
        assert_eq!(adapter.quote(&v1_request(0)), Err(expected));
    }

    #[test]
    fn mixed_tax_rates_require_v2() {
        let provider = TruncatingProvider {
            force_first_rate: Some(rate(500)),
            ..TruncatingProvider::default()
        };
        let err = V1OverV2::new(provider)
            .create_invoice(&v1_request(1900))
            .unwrap_err();
        assert_eq!(
            err,
            v1::BillingError::RequiresV2(v1::RequiresV2::MixedTaxRates { count: 2 })
        );
        assert_eq!(
            err.to_string(),
            "billing v1 cannot express this invoice: its lines are taxed at 2 different rates, \
             and v1 has one flat rate"
        );
    }

    #[test]
    fn v2_errors_map_to_v1_errors() {
        assert_eq!(
            error_to_v1(v2::BillingError::Invoice(InvoiceError::Empty)),
            v1::BillingError::Invoice(InvoiceError::Empty)
        );
        assert_eq!(
            error_to_v1(v2::BillingError::Provider {
                message: "down".into()
            }),
            v1::BillingError::Provider {
                message: "down".into()
            }
        );
        assert_eq!(
            error_to_v1(v2::BillingError::UnsupportedCurrency {
                currency: Currency::EUR
            }),
            v1::BillingError::Provider {
                message: "currency EUR is not supported by this billing provider".into()
            }
        );
    }

    trait CreateForTest {
        fn create_invoice_for_test(&self, request: &v1::InvoiceRequest) -> v2::Invoice;
    }

    impl<P: v2::Billing> CreateForTest for P {
        fn create_invoice_for_test(&self, request: &v1::InvoiceRequest) -> v2::Invoice {
            let key = idempotency_key_for(request.invoice_id());
            self.create_invoice(&request_to_v2(request).unwrap(), &key)
                .unwrap()
        }
    }
}
