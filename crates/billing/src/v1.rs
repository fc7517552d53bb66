//! The billing v1 contract, implemented by [`Calculator`].

use shared::billing::v1::{
    Billing, BillingError, CURRENCY, Invoice, InvoiceLine, InvoiceRequest, LineItem,
};
use shared::domain::InvoiceError;

use crate::{Calculator, price_line};

impl Billing for Calculator {
    fn create_invoice(&self, request: &InvoiceRequest) -> Result<Invoice, BillingError> {
        if !self.accepts(CURRENCY) {
            return Err(BillingError::Provider {
                message: format!("currency {CURRENCY} is not supported by this billing provider"),
            });
        }
        let lines = request
            .lines()
            .iter()
            .map(|item| price_v1_line(item, request))
            .collect::<Result<_, _>>()?;
        Ok(Invoice::new(
            request.invoice_id().clone(),
            request.customer().clone(),
            request.tax_rate(),
            lines,
        )?)
    }
}

fn price_v1_line(item: &LineItem, request: &InvoiceRequest) -> Result<InvoiceLine, InvoiceError> {
    let price = price_line(item.gross(), item.discount(), request.tax_rate())?;
    InvoiceLine::new(item.clone(), price.discount, price.tax)
}
