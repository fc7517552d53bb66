//! The texts of invoice notifications: an email subject and body, and a short SMS.
//!
//! Rendering is a pure function of the notice, so the same notice always gives the same text.

use shared::domain::ParseError;
use shared::notification::v1::{InvoiceNotice, SmsText};

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

/// Renders the email for `notice`.
pub fn email(notice: &InvoiceNotice) -> Email {
    let subject = format!("Invoice {}: {}", notice.invoice_id(), notice.total());
    let lines = match notice.line_count() {
        1 => "1 line".to_owned(),
        n => format!("{n} lines"),
    };
    let body = format!(
        "Hello {customer},\n\
         \n\
         Your invoice {id} has been issued ({lines}).\n\
         \n\
         {subtotal_label:<10}{subtotal:>24}\n\
         {tax_label:<10}{tax:>24}\n\
         {total_label:<10}{total:>24}\n\
         \n\
         Thank you for your business.\n",
        customer = notice.customer(),
        id = notice.invoice_id(),
        subtotal_label = "Subtotal",
        subtotal = notice.subtotal().to_string(),
        tax_label = "Tax",
        tax = notice.tax().to_string(),
        total_label = "Total",
        total = notice.total().to_string(),
    );
    Email { subject, body }
}

/// Renders the SMS for `notice`.
///
/// With ids of at most 64 bytes and amounts of at most 26 characters the text stays well
/// under 160 characters; the check is still made, so a longer id would be an error rather than
/// a split message.
pub fn sms(notice: &InvoiceNotice) -> Result<SmsText, ParseError> {
    SmsText::parse(&format!(
        "Invoice {}: {} due. Details by email.",
        notice.invoice_id(),
        notice.total()
    ))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use shared::domain::{Currency, CustomerId, InvoiceId, Money};

    use super::*;

    fn notice(id: &str, lines: usize, total_minor: i64) -> InvoiceNotice {
        let eur = |minor| Money::from_minor(minor, Currency::EUR);
        InvoiceNotice::new(
            InvoiceId::parse(id).unwrap(),
            CustomerId::parse("cust-42").unwrap(),
            lines,
            eur(total_minor - total_minor / 6),
            eur(total_minor / 6),
            eur(total_minor),
        )
    }

    #[test]
    fn email_for_one_invoice() {
        let email = email(&notice("inv-2026-001", 3, 17_396));
        assert_eq!(email.subject, "Invoice inv-2026-001: 173.96 EUR");
        insta::assert_snapshot!(email.body);
    }

    #[test]
    fn email_says_line_in_the_singular() {
        assert!(email(&notice("i", 1, 100)).body.contains("(1 line)"));
    }

    #[test]
    fn sms_for_one_invoice() {
        assert_eq!(
            sms(&notice("inv-2026-001", 3, 17_396)).unwrap().as_str(),
            "Invoice inv-2026-001: 173.96 EUR due. Details by email."
        );
    }

    proptest! {
        #[test]
        fn sms_always_fits_in_160_characters(
            id in "[A-Za-z0-9._:-]{1,64}",
            total in any::<i64>(),
        ) {
            let text = sms(&notice(&id, 1, total)).unwrap();
            prop_assert!(text.as_str().chars().count() <= 160);
            prop_assert!(text.as_str().contains(id.as_str()));
        }
    }
}
