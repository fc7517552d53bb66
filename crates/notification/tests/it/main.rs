//! Integration test: a billing v1 provider's invoice becomes queued notifications.

use billing::Calculator;
use notification::{MemoryOutbox, Outbox, notice_from_invoice, render};
use shared::billing::v1::{Billing, InvoiceRequest, LineItem};
use shared::domain::{Amount, CustomerId, Description, Discount, InvoiceId, Quantity, Rate};
use shared::notification::v1::{Message, PhoneNumber};

fn request() -> InvoiceRequest {
    let item = |text, units, price, discount| {
        LineItem::new(
            Description::parse(text).unwrap(),
            Quantity::new(units).unwrap(),
            Amount::from_minor(price),
            discount,
        )
        .unwrap()
    };
    InvoiceRequest::new(
        InvoiceId::parse("inv-2026-0042").unwrap(),
        CustomerId::parse("acme").unwrap(),
        Rate::from_basis_points(1900).unwrap(),
        vec![
            item("Consulting, hours", 12, 9_500, Discount::None),
            item(
                "Licence",
                1,
                49_900,
                Discount::Percent(Rate::from_basis_points(1000).unwrap()),
            ),
        ],
    )
    .unwrap()
}

/// The outbox's messages as text, one block per message.
fn describe(outbox: &MemoryOutbox) -> String {
    let rendered: Vec<String> = outbox
        .drain()
        .into_iter()
        .map(|queued| match queued.message {
            Message::Email { to, subject, body } => {
                format!("#{} email to {to}\nSubject: {subject}\n\n{body}", queued.id)
            }
            Message::Sms { to, text } => format!("#{} sms to {to}\n{text}\n", queued.id),
            other => format!("{other:?}"),
        })
        .collect();
    rendered.join("\n---\n")
}

#[test]
fn rendered_texts_can_be_queued_without_the_contract() {
    let invoice = Calculator::new().create_invoice(&request()).unwrap();
    let notice = notice_from_invoice(&invoice);
    let outbox = MemoryOutbox::new();
    let message = Message::Sms {
        to: PhoneNumber::parse("+4930123456789").unwrap(),
        text: render::sms(&notice).unwrap(),
    };
    outbox.enqueue(message).unwrap();
    assert_eq!(
        describe(&outbox),
        "#msg-1 sms to +4930123456789\nInvoice inv-2026-0042: 1891.03 EUR due. Details by email.\n"
    );
}

#[cfg(feature = "v1")]
#[test]
fn an_issued_invoice_is_queued_by_email_and_sms() {
    use notification::OutboxNotifier;
    use shared::notification::v1::{EmailAddress, Notifier, Recipient};

    let invoice = Calculator::new().create_invoice(&request()).unwrap();
    let notifier = OutboxNotifier::new(MemoryOutbox::new());
    let recipients = [
        Recipient::Email(EmailAddress::parse("billing@acme.example").unwrap()),
        Recipient::Sms(PhoneNumber::parse("+4930123456789").unwrap()),
    ];
    notifier
        .notify_all(&notice_from_invoice(&invoice), &recipients)
        .unwrap();
    insta::assert_snapshot!(describe(notifier.outbox()));
}
