//! The billing v2 contract, implemented by [`Calculator`].

use shared::billing::v2::{Billing, BillingError, InvoiceLine, InvoiceRequest, LineItem, Quote};
use shared::domain::{Currency, InvoiceError};

use crate::{Calculator, price_line};

impl Billing for Calculator {
    fn quote(&self, request: &InvoiceRequest) -> Result<Quote, BillingError> {
        if !self.accepts(request.currency()) {
            return Err(BillingError::UnsupportedCurrency {
                currency: request.currency(),
            });
        }
        let lines = request
            .lines()
            .iter()
            .map(price_v2_line)
            .collect::<Result<_, _>>()?;
        Ok(Quote::new(request.currency(), lines)?)
    }

    fn supports_currency(&self, currency: Currency) -> bool {
        self.accepts(currency)
    }
}

fn price_v2_line(item: &LineItem) -> Result<InvoiceLine, InvoiceError> {
    let price = price_line(item.gross().amount(), item.discount(), item.tax_rate())?;
    InvoiceLine::new(item.clone(), price.discount, price.tax)
}
