//! Notification contract, major version 1: telling a customer about an invoice, by email or SMS.
//!
//! A consumer describes the invoice as an [`InvoiceNotice`] and hands it to a [`Notifier`] with
//! a [`Recipient`]; the provider renders a [`Message`] for the recipient's channel and queues it
//! for delivery. The notice carries no billing-contract types, so this contract does not change
//! when billing moves to a new major version.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::{CustomerId, InvoiceId, Money, ParseError, check};

/// The full version of this contract; the single source of truth for tools and diagnostics.
pub const VERSION: &str = "1.0.0";

/// An email address: `local@domain`, 3 to 254 bytes, no spaces or control characters.
///
/// Only the shape is checked; whether the mailbox exists is for the mail system to say.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// The longest address accepted, in bytes.
    pub const MAX_LEN: usize = 254;

    /// Parses an email address.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        const WHAT: &str = "email address";
        check(WHAT, value, Self::MAX_LEN, |ch| {
            !ch.is_whitespace() && !ch.is_control()
        })?;
        match value.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                if let Some(at) = domain.find('@') {
                    return Err(ParseError::InvalidChar {
                        what: WHAT,
                        ch: '@',
                        at: local.len() + 1 + at,
                    });
                }
                Ok(Self(value.to_owned()))
            }
            _ => Err(ParseError::InvalidChar {
                what: WHAT,
                ch: '@',
                at: value.find('@').unwrap_or(value.len()),
            }),
        }
    }
}

/// A phone number for SMS in E.164 form: `+` and 8 to 15 digits, for example `+4915112345678`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses a phone number in E.164 form.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        const WHAT: &str = "phone number";
        // Characters are checked below, to report the missing `+` first.
        check(WHAT, value, 16, |_| true)?;
        let Some(digits) = value.strip_prefix('+') else {
            let ch = value.chars().next().unwrap_or('+');
            return Err(ParseError::InvalidChar {
                what: WHAT,
                ch,
                at: 0,
            });
        };
        if let Some((at, ch)) = digits.char_indices().find(|(_, ch)| !ch.is_ascii_digit()) {
            return Err(ParseError::InvalidChar {
                what: WHAT,
                ch,
                at: at + 1,
            });
        }
        if digits.len() < 8 {
            return Err(ParseError::TooShort {
                what: WHAT,
                len: digits.len(),
                min: 8,
            });
        }
        Ok(Self(value.to_owned()))
    }
}

/// The text of one SMS: 1 to [`SmsText::MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SmsText(String);

impl SmsText {
    /// The most characters one SMS may carry.
    pub const MAX_CHARS: usize = 160;

    /// Parses an SMS text; empty or longer than [`MAX_CHARS`](Self::MAX_CHARS) characters is an
    /// error.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        const WHAT: &str = "sms text";
        if value.is_empty() {
            return Err(ParseError::Empty { what: WHAT });
        }
        let chars = value.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(ParseError::TooLong {
                what: WHAT,
                len: chars,
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(value.to_owned()))
    }
}

text_newtype_impls!(ParseError; []; EmailAddress, PhoneNumber, SmsText);

/// Where a notification goes, and so on which channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Recipient {
    /// By email.
    Email(EmailAddress),
    /// By SMS.
    Sms(PhoneNumber),
}

/// What the customer is told about: an invoice was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceNotice {
    invoice_id: InvoiceId,
    customer: CustomerId,
    line_count: usize,
    subtotal: Money,
    tax: Money,
    total: Money,
}

impl InvoiceNotice {
    /// A notice for invoice `invoice_id` to `customer`, with `line_count` lines and these
    /// totals, all in one currency.
    pub fn new(
        invoice_id: InvoiceId,
        customer: CustomerId,
        line_count: usize,
        subtotal: Money,
        tax: Money,
        total: Money,
    ) -> Self {
        Self {
            invoice_id,
            customer,
            line_count,
            subtotal,
            tax,
            total,
        }
    }

    /// The invoice id.
    pub fn invoice_id(&self) -> &InvoiceId {
        &self.invoice_id
    }

    /// Who is billed.
    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }

    /// How many lines the invoice has.
    pub fn line_count(&self) -> usize {
        self.line_count
    }

    /// The sum of net amounts.
    pub fn subtotal(&self) -> Money {
        self.subtotal
    }

    /// The tax.
    pub fn tax(&self) -> Money {
        self.tax
    }

    /// What the customer owes.
    pub fn total(&self) -> Money {
        self.total
    }
}

/// A rendered notification, ready for delivery.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Message {
    /// An email.
    Email {
        /// The address it goes to.
        to: EmailAddress,
        /// The subject line.
        subject: String,
        /// The plain-text body.
        body: String,
    },
    /// A text message.
    Sms {
        /// The number it goes to.
        to: PhoneNumber,
        /// The text, at most 160 characters.
        text: SmsText,
    },
}

/// Identifies a queued message, unique within one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub u64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "msg-{}", self.0)
    }
}

/// Why a notification could not be queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The rendered message broke a limit of its channel (for example, an SMS too long).
    #[error("cannot render notice for invoice {invoice_id}: {source}")]
    Render {
        /// The invoice the notice was about.
        invoice_id: InvoiceId,
        /// What was wrong with the rendered text.
        source: ParseError,
    },
    /// The provider does not deliver on this recipient's channel.
    #[error("channel {channel} is not supported by this notifier")]
    UnsupportedChannel {
        /// The channel's name (`email`, `sms`).
        channel: &'static str,
    },
    /// The outbox refused the message.
    #[error("outbox rejected message: {message}")]
    Outbox {
        /// What went wrong, for logs.
        message: String,
    },
}

/// A notification provider, version 1.
///
/// One required method, [`notify_invoice`](Self::notify_invoice); the others have defaults.
pub trait Notifier {
    /// Renders `notice` for `recipient`'s channel and queues it for delivery.
    fn notify_invoice(
        &self,
        notice: &InvoiceNotice,
        recipient: &Recipient,
    ) -> Result<MessageId, NotifyError>;

    /// Notifies several recipients, stopping at the first error.
    fn notify_all(
        &self,
        notice: &InvoiceNotice,
        recipients: &[Recipient],
    ) -> Result<Vec<MessageId>, NotifyError> {
        recipients
            .iter()
            .map(|recipient| self.notify_invoice(notice, recipient))
            .collect()
    }
}

macro_rules! forward_notifier {
    ($($wrapper:ty),*) => {$(
        impl<T: Notifier + ?Sized> Notifier for $wrapper {
            fn notify_invoice(
                &self,
                notice: &InvoiceNotice,
                recipient: &Recipient,
            ) -> Result<MessageId, NotifyError> {
                (**self).notify_invoice(notice, recipient)
            }

            fn notify_all(
                &self,
                notice: &InvoiceNotice,
                recipients: &[Recipient],
            ) -> Result<Vec<MessageId>, NotifyError> {
                (**self).notify_all(notice, recipients)
            }
        }
    )*};
}

forward_notifier!(&T, Box<T>, Arc<T>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    #[test]
    fn email_addresses_need_one_at_with_text_on_both_sides() {
        assert_eq!(
            EmailAddress::parse("ana@example.com").unwrap().as_str(),
            "ana@example.com"
        );
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@",
            "a@b@c",
            "ana @example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            EmailAddress::parse("").unwrap_err().to_string(),
            "invalid email address: empty"
        );
        assert!(EmailAddress::parse(&format!("a@{}", "b".repeat(253))).is_err());
    }

    #[test]
    fn phone_numbers_are_e164() {
        assert!(PhoneNumber::parse("+4915112345678").is_ok());
        assert_eq!(
            PhoneNumber::parse("015112345678").unwrap_err(),
            ParseError::InvalidChar {
                what: "phone number",
                ch: '0',
                at: 0
            }
        );
        assert_eq!(
            PhoneNumber::parse("+49 151").unwrap_err(),
            ParseError::InvalidChar {
                what: "phone number",
                ch: ' ',
                at: 3
            }
        );
        assert_eq!(
            PhoneNumber::parse("+1234").unwrap_err().to_string(),
            "invalid phone number: 4 characters, at least 8 required"
        );
        assert!(PhoneNumber::parse("+1234567890123456").is_err());
    }

    #[test]
    fn sms_texts_hold_at_most_160_characters() {
        assert!(SmsText::parse(&"é".repeat(160)).is_ok());
        assert_eq!(
            SmsText::parse(&"a".repeat(161)).unwrap_err(),
            ParseError::TooLong {
                what: "sms text",
                len: 161,
                max: 160
            }
        );
        assert!(SmsText::parse("").is_err());
    }

    fn notice() -> InvoiceNotice {
        let eur = |minor| Money::from_minor(minor, Currency::EUR);
        InvoiceNotice::new(
            InvoiceId::parse("inv-1").unwrap(),
            CustomerId::parse("c-1").unwrap(),
            2,
            eur(1000),
            eur(190),
            eur(1190),
        )
    }

    /// Counts messages; refuses SMS, to exercise the error path of the provided method.
    struct EmailOnly(std::sync::atomic::AtomicU64);

    impl Notifier for EmailOnly {
        fn notify_invoice(
            &self,
            _notice: &InvoiceNotice,
            recipient: &Recipient,
        ) -> Result<MessageId, NotifyError> {
            match recipient {
                Recipient::Email(_) => Ok(MessageId(
                    self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                )),
                Recipient::Sms(_) => Err(NotifyError::UnsupportedChannel { channel: "sms" }),
            }
        }
    }

    #[test]
    fn notify_all_queues_each_recipient_and_stops_at_the_first_error() {
        let email = Recipient::Email(EmailAddress::parse("a@b.c").unwrap());
        let sms = Recipient::Sms(PhoneNumber::parse("+4915112345678").unwrap());
        let notifier = EmailOnly(Default::default());
        let ids = notifier
            .notify_all(&notice(), &[email.clone(), email.clone()])
            .unwrap();
        assert_eq!(ids, [MessageId(0), MessageId(1)]);
        let shared: Arc<dyn Notifier> = Arc::new(notifier);
        let err = shared
            .notify_all(&notice(), &[email.clone(), sms, email])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "channel sms is not supported by this notifier"
        );
    }

    #[test]
    fn messages_serialize_tagged_by_channel() {
        let message = Message::Sms {
            to: PhoneNumber::parse("+4915112345678").unwrap(),
            text: SmsText::parse("Invoice inv-1: 11.90 EUR").unwrap(),
        };
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(
            json,
            r#"{"channel":"sms","to":"+4915112345678","text":"Invoice inv-1: 11.90 EUR"}"#
        );
        assert_eq!(serde_json::from_str::<Message>(&json).unwrap(), message);
        let too_long = json.replace("Invoice inv-1: 11.90 EUR", &"x".repeat(161));
        assert!(serde_json::from_str::<Message>(&too_long).is_err());
    }
}
