//! Identifiers and short texts: invoice and customer ids, idempotency keys, line descriptions.

use serde::{Deserialize, Serialize};

use super::ParseError;

/// Checks the length and characters of a text value: empty, then too long, then the first
/// character `allowed` refuses.
pub(crate) fn check(
    what: &'static str,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
) -> Result<(), ParseError> {
    if value.is_empty() {
        return Err(ParseError::Empty { what });
    }
    if value.len() > max {
        return Err(ParseError::TooLong {
            what,
            len: value.len(),
            max,
        });
    }
    match value.char_indices().find(|&(_, ch)| !allowed(ch)) {
        Some((at, ch)) => Err(ParseError::InvalidChar { what, ch, at }),
        None => Ok(()),
    }
}

/// Letters, digits and `._-:` only, so ids are safe in URLs, logs and file names.
fn is_id_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-' | ':')
}

/// Identifies an invoice: 1 to 64 ASCII letters, digits or one of `._-:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InvoiceId(String);

impl InvoiceId {
    /// The longest invoice id accepted, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Parses an invoice id.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        check("invoice id", value, Self::MAX_LEN, is_id_char)?;
        Ok(Self(value.to_owned()))
    }
}

/// Identifies a customer: 1 to 64 ASCII letters, digits or one of `._-:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerId(String);

impl CustomerId {
    /// The longest customer id accepted, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Parses a customer id.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        check("customer id", value, Self::MAX_LEN, is_id_char)?;
        Ok(Self(value.to_owned()))
    }
}

/// A client-chosen key that makes a create request safe to retry: the same key names the same
/// invoice. 1 to 255 printable ASCII characters, no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The longest idempotency key accepted, in bytes.
    pub const MAX_LEN: usize = 255;

    /// Parses an idempotency key.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        check("idempotency key", value, Self::MAX_LEN, |ch| {
            ch.is_ascii_graphic()
        })?;
        Ok(Self(value.to_owned()))
    }

    /// A key built inside this crate from already-checked parts (the bridge's `v1:{invoice id}`).
    pub(crate) fn derived(value: String) -> Self {
        debug_assert!(
            Self::parse(&value).is_ok(),
            "derived key {value:?} must parse"
        );
        Self(value)
    }
}

/// What a line item is for, as printed on the invoice: 1 to 200 bytes, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

impl Description {
    /// The longest description accepted, in bytes.
    pub const MAX_LEN: usize = 200;

    /// Parses a description; surrounding whitespace is trimmed first.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let value = value.trim();
        check("description", value, Self::MAX_LEN, |ch| !ch.is_control())?;
        Ok(Self(value.to_owned()))
    }
}

text_newtype_impls!(ParseError; [FromStr, AsRef]; InvoiceId, CustomerId, IdempotencyKey, Description);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_letters_digits_and_separators() {
        assert_eq!(
            InvoiceId::parse("inv-2026.11:7").unwrap().as_str(),
            "inv-2026.11:7"
        );
        assert_eq!(CustomerId::parse("cust_42").unwrap().to_string(), "cust_42");
    }

    #[test]
    fn empty_ids_are_rejected_naming_the_kind() {
        let err = InvoiceId::parse("").unwrap_err();
        assert_eq!(err, ParseError::Empty { what: "invoice id" });
        assert_eq!(err.to_string(), "invalid invoice id: empty");
    }

    #[test]
    fn overlong_ids_are_rejected() {
        let long = "a".repeat(65);
        assert_eq!(
            CustomerId::parse(&long).unwrap_err(),
            ParseError::TooLong {
                what: "customer id",
                len: 65,
                max: 64
            }
        );
    }

    #[test]
    fn ids_reject_spaces_and_slashes() {
        assert_eq!(
            InvoiceId::parse("inv 1").unwrap_err(),
            ParseError::InvalidChar {
                what: "invoice id",
                ch: ' ',
                at: 3
            }
        );
        assert!(CustomerId::parse("a/b").is_err());
    }

    #[test]
    fn idempotency_keys_allow_punctuation_but_not_spaces() {
        assert!(IdempotencyKey::parse("req#1/retry=2").is_ok());
        assert!(matches!(
            IdempotencyKey::parse("a b"),
            Err(ParseError::InvalidChar {
                what: "idempotency key",
                ..
            })
        ));
    }

    #[test]
    fn descriptions_are_trimmed_and_reject_control_characters() {
        assert_eq!(Description::parse("  Widget ").unwrap().as_str(), "Widget");
        assert_eq!(
            Description::parse("   ").unwrap_err(),
            ParseError::Empty {
                what: "description"
            }
        );
        assert!(Description::parse("a\nb").is_err());
    }

    #[test]
    fn ids_deserialize_through_the_parser() {
        let id: InvoiceId = serde_json::from_str("\"inv-1\"").unwrap();
        assert_eq!(id.as_str(), "inv-1");
        let err = serde_json::from_str::<InvoiceId>("\"\"").unwrap_err();
        assert!(
            err.to_string().contains("invalid invoice id: empty"),
            "{err}"
        );
    }
}
