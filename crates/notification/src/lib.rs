//! Invoice notifications: renders email and SMS texts for an invoice ([`render_message`]) and
//! queues them in an outbox.
//!
//! This crate consumes the billing v1 contract ([`notice_from_invoice`] reads a
//! `shared::billing::v1::Invoice`) and provides the notification v1 contract
//! ([`OutboxNotifier`] implements `shared::notification::v1::Notifier`).
//!
//! # Features
//!
//! | Feature | Default | Enables |
//! |---------|---------|---------|
//! | `v1`    | yes     | `impl shared::notification::v1::Notifier for OutboxNotifier` |
//!
//! Without `v1`, rendering ([`render`], [`render_message`]) and the outbox ([`Outbox`],
//! [`MemoryOutbox`]) are still available.
#![warn(unreachable_pub)]

mod outbox;
pub mod render;

use shared::billing::v1;
use shared::domain::Money;
use shared::notification::v1::{InvoiceNotice, Message, NotifyError, Recipient};
#[cfg(feature = "v1")]
use shared::notification::v1::{MessageId, Notifier};

pub use outbox::{MemoryOutbox, Outbox, QueuedMessage};

/// What to tell the customer about a billing v1 invoice: its id, customer, line count and
/// totals in the contract's implicit currency.
pub fn notice_from_invoice(invoice: &v1::Invoice) -> InvoiceNotice {
    let money = |amount| Money::new(amount, v1::CURRENCY);
    let totals = invoice.totals();
    InvoiceNotice::new(
        invoice.id().clone(),
        invoice.customer().clone(),
        invoice.lines().len(),
        money(totals.subtotal()),
        money(totals.tax()),
        money(totals.total()),
    )
}

/// The message telling `recipient` about `notice`, rendered for its channel: an email (subject
/// and body) or an SMS text. A service that keeps its own outbox (a database table written in
/// the invoice's transaction, say) stores this message and delivers it later.
///
/// # Errors
///
/// [`NotifyError::Render`] when the SMS text cannot be rendered, and
/// [`NotifyError::UnsupportedChannel`] for a channel this crate does not know.
pub fn render_message(
    notice: &InvoiceNotice,
    recipient: &Recipient,
) -> Result<Message, NotifyError> {
    match recipient {
        Recipient::Email(to) => {
            let email = render::email(notice);
            Ok(Message::Email {
                to: to.clone(),
                subject: email.subject,
                body: email.body,
            })
        }
        Recipient::Sms(to) => Ok(Message::Sms {
            to: to.clone(),
            text: render::sms(notice).map_err(|source| NotifyError::Render {
                invoice_id: notice.invoice_id().clone(),
                source,
            })?,
        }),
        _ => Err(NotifyError::UnsupportedChannel { channel: "unknown" }),
    }
}

/// Renders notices for each recipient's channel and queues them in an [`Outbox`].
#[derive(Debug, Default)]
pub struct OutboxNotifier<O> {
    outbox: O,
}

impl<O> OutboxNotifier<O> {
    /// A notifier queueing into `outbox`.
    pub fn new(outbox: O) -> Self {
        Self { outbox }
    }

    /// The outbox messages are queued in.
    pub fn outbox(&self) -> &O {
        &self.outbox
    }
}

#[cfg(feature = "v1")]
impl<O: Outbox> Notifier for OutboxNotifier<O> {
    fn notify_invoice(
        &self,
        notice: &InvoiceNotice,
        recipient: &Recipient,
    ) -> Result<MessageId, NotifyError> {
        let message = render_message(notice, recipient)?;
        self.outbox.enqueue(message)
    }
}

#[cfg(test)]
mod tests {
    use shared::domain::{
        Amount, Currency, CustomerId, Description, Discount, InvoiceId, Quantity, Rate,
    };

    use super::*;

    fn invoice() -> v1::Invoice {
        let item = v1::LineItem::new(
            Description::parse("Widget").unwrap(),
            Quantity::new(2).unwrap(),
            Amount::from_minor(500),
            Discount::None,
        )
        .unwrap();
        let line = v1::InvoiceLine::new(item, Amount::ZERO, Amount::from_minor(190)).unwrap();
        v1::Invoice::new(
            InvoiceId::parse("inv-1").unwrap(),
            CustomerId::parse("c-1").unwrap(),
            Rate::from_basis_points(1900).unwrap(),
            vec![line],
        )
        .unwrap()
    }

    #[test]
    fn a_notice_carries_the_invoice_totals_in_the_v1_currency() {
        let notice = notice_from_invoice(&invoice());
        assert_eq!(notice.invoice_id().as_str(), "inv-1");
        assert_eq!(notice.customer().as_str(), "c-1");
        assert_eq!(notice.line_count(), 1);
        assert_eq!(notice.subtotal(), Money::from_minor(1_000, Currency::EUR));
        assert_eq!(notice.tax(), Money::from_minor(190, Currency::EUR));
        assert_eq!(notice.total(), Money::from_minor(1_190, Currency::EUR));
    }

    #[test]
    fn render_message_renders_for_the_recipients_channel() {
        use shared::notification::v1::{EmailAddress, PhoneNumber};

        let notice = notice_from_invoice(&invoice());
        let email = Recipient::Email(EmailAddress::parse("ana@example.com").unwrap());
        let sms = Recipient::Sms(PhoneNumber::parse("+4915112345678").unwrap());
        assert!(matches!(
            render_message(&notice, &email).unwrap(),
            Message::Email { to, subject, .. }
                if to.as_str() == "ana@example.com" && subject == "Invoice inv-1: 11.90 EUR"
        ));
        assert!(matches!(
            render_message(&notice, &sms).unwrap(),
            Message::Sms { text, .. } if text.as_str().starts_with("Invoice inv-1: 11.90 EUR")
        ));
    }

    #[cfg(feature = "v1")]
    #[test]
    fn each_channel_gets_its_own_message() {
        use shared::notification::v1::{EmailAddress, PhoneNumber};

        let notifier = OutboxNotifier::new(MemoryOutbox::new());
        let notice = notice_from_invoice(&invoice());
        let email = Recipient::Email(EmailAddress::parse("ana@example.com").unwrap());
        let sms = Recipient::Sms(PhoneNumber::parse("+4915112345678").unwrap());
        let ids = notifier.notify_all(&notice, &[email, sms]).unwrap();
        let queued = notifier.outbox().messages();
        assert_eq!(queued.iter().map(|q| q.id).collect::<Vec<_>>(), ids);
        assert!(matches!(
            &queued[0].message,
            Message::Email { subject, .. } if subject == "Invoice inv-1: 11.90 EUR"
        ));
        assert!(matches!(
            &queued[1].message,
            Message::Sms { text, .. } if text.as_str().starts_with("Invoice inv-1: 11.90 EUR")
        ));
    }

    #[cfg(feature = "v1")]
    #[test]
    fn an_outbox_refusal_reaches_the_caller_unchanged() {
        use shared::notification::v1::EmailAddress;

        struct Full;
        impl Outbox for Full {
            fn enqueue(&self, _: Message) -> Result<MessageId, NotifyError> {
                Err(NotifyError::Outbox {
                    message: "queue full".to_owned(),
                })
            }
        }

        let notifier = OutboxNotifier::new(Full);
        let email = Recipient::Email(EmailAddress::parse("ana@example.com").unwrap());
        let error = notifier
            .notify_invoice(&notice_from_invoice(&invoice()), &email)
            .unwrap_err();
        assert_eq!(error.to_string(), "outbox rejected message: queue full");
    }
}
