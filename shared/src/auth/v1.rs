//! Auth contract, major version 1: bearer-token claims, their parts, and the verifier trait.
//!
//! A provider turns a bearer token into [`Claims`] through [`TokenVerifier::verify`]; a consumer
//! then checks scopes with [`TokenVerifier::require_scope`] or [`Claims::require_scope`].
//! [`VerifyError::MissingScope`] means "authenticated but not allowed" (HTTP 403); every other
//! [`VerifyError`] variant means "not authenticated" (HTTP 401).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The full version of this contract; the single source of truth for tools and diagnostics.
pub const VERSION: &str = "1.0.0";

/// Why a [`Scope`], [`Subject`] or [`KeyId`] could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The value was empty.
    #[error("invalid {what}: empty")]
    Empty {
        /// Which kind of value was being parsed (`scope`, `subject`, `key id`).
        what: &'static str,
    },
    /// The value was longer than allowed.
    #[error("invalid {what}: {len} bytes, at most {max} allowed")]
    TooLong {
        /// Which kind of value was being parsed.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The largest allowed length in bytes.
        max: usize,
    },
    /// The value contained a character that is not allowed.
    #[error("invalid {what}: character {ch:?} at byte {at} is not allowed")]
    InvalidChar {
        /// Which kind of value was being parsed.
        what: &'static str,
        /// The offending character.
        ch: char,
        /// Its byte offset in the value.
        at: usize,
    },
}

/// Checks length and characters shared by the three newtypes below.
fn check(
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

/// A permission a token grants, such as `invoices:read`.
///
/// 1 to 128 ASCII letters, digits or one of `:._-`. No whitespace, so a list of scopes can be
/// written space-separated, as OAuth 2.0 does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl Scope {
    /// The longest scope accepted, in bytes.
    pub const MAX_LEN: usize = 128;

    /// Parses a scope, rejecting empty, overlong or oddly spelled values.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        check("scope", value, Self::MAX_LEN, |ch| {
            ch.is_ascii_alphanumeric() || matches!(ch, ':' | '.' | '_' | '-')
        })?;
        Ok(Self(value.to_owned()))
    }
}

/// Who a token was issued to: a user or service name.
///
/// 1 to 256 bytes of any text without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subject(String);

impl Subject {
    /// The longest subject accepted, in bytes.
    pub const MAX_LEN: usize = 256;

    /// Parses a subject, rejecting empty or overlong values and control characters.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        check("subject", value, Self::MAX_LEN, |ch| !ch.is_control())?;
        Ok(Self(value.to_owned()))
    }
}

/// Names the signing key a token was issued with, so keys can be rotated.
///
/// 1 to 64 ASCII letters, digits or one of `._-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    /// The longest key id accepted, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Parses a key id, rejecting empty, overlong or oddly spelled values.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        check("key id", value, Self::MAX_LEN, |ch| {
            ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-')
        })?;
        Ok(Self(value.to_owned()))
    }
}

text_newtype_impls!(ParseError; [FromStr]; Scope, Subject, KeyId);

/// What a verified token says: who it is for, what it allows, until when, and which key signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Claims {
    /// Who the token was issued to.
    pub subject: Subject,
    /// What the token allows.
    pub scopes: BTreeSet<Scope>,
    /// The first moment, in Unix seconds, at which the token is no longer valid.
    pub expires_at: u64,
    /// The key the token was signed with.
    pub key_id: KeyId,
}

impl Claims {
    /// Builds claims from their parts.
    pub fn new(subject: Subject, scopes: BTreeSet<Scope>, expires_at: u64, key_id: KeyId) -> Self {
        Self {
            subject,
            scopes,
            expires_at,
            key_id,
        }
    }

    /// Whether the token grants `scope`.
    pub fn has_scope(&self, scope: &Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// Succeeds when the token grants `scope`, and fails with [`VerifyError::MissingScope`]
    /// otherwise.
    pub fn require_scope(&self, scope: &Scope) -> Result<(), VerifyError> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(VerifyError::MissingScope {
                scope: scope.clone(),
            })
        }
    }
}

/// A part of a compact token `header.payload.signature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Segment {
    /// The first part: algorithm and key id.
    Header,
    /// The second part: the claims.
    Payload,
    /// The third part: the message authentication code.
    Signature,
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Segment::Header => "header",
            Segment::Payload => "payload",
            Segment::Signature => "signature",
        })
    }
}

/// How a token failed to have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// The token did not have exactly three dot-separated segments.
    #[error("token has {found} segments, expected 3")]
    SegmentCount {
        /// How many segments were found.
        found: usize,
    },
    /// A segment was not valid unpadded base64url.
    #[error("token {segment} is not valid base64url")]
    Base64 {
        /// The segment that failed to decode.
        segment: Segment,
    },
    /// A segment decoded, but not to the JSON expected there.
    #[error("token {segment} is not valid: {detail}")]
    Json {
        /// The segment that failed to parse.
        segment: Segment,
        /// What was wrong with it.
        detail: String,
    },
    /// The header names a signing algorithm the verifier does not accept.
    #[error("token algorithm {alg:?} is not supported")]
    UnsupportedAlgorithm {
        /// The algorithm the header named.
        alg: String,
    },
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token is not shaped like a token.
    #[error("malformed token: {0}")]
    Malformed(#[from] Malformed),
    /// The token names a key the verifier does not have.
    #[error("token signed with unknown key id {key_id}")]
    UnknownKey {
        /// The key id the token named.
        key_id: KeyId,
    },
    /// The signature does not match the header and payload: the token was altered or forged.
    #[error("token signature does not match")]
    BadSignature,
    /// The token was valid once but has expired.
    #[error("token expired at {expires_at}, now is {now}")]
    Expired {
        /// When the token expired, in Unix seconds.
        expires_at: u64,
        /// The time of the check, in Unix seconds.
        now: u64,
    },
    /// The token is valid but does not grant a scope the caller needs.
    #[error("token lacks required scope {scope}")]
    MissingScope {
        /// The scope that was required.
        scope: Scope,
    },
}

/// Turns bearer tokens into [`Claims`].
///
/// One required method; everything else is provided, so new conveniences can be added without
/// breaking implementors.
pub trait TokenVerifier {
    /// Checks `token`'s shape, key, signature and expiry at time `now` (Unix seconds), and
    /// returns its claims. A token is expired when `now >= expires_at`.
    fn verify(&self, token: &str, now: u64) -> Result<Claims, VerifyError>;

    /// Like [`verify`](Self::verify), and also requires the token to grant `scope`.
    fn require_scope(&self, token: &str, now: u64, scope: &Scope) -> Result<Claims, VerifyError> {
        let claims = self.verify(token, now)?;
        claims.require_scope(scope)?;
        Ok(claims)
    }
}

impl<T: TokenVerifier + ?Sized> TokenVerifier for &T {
    fn verify(&self, token: &str, now: u64) -> Result<Claims, VerifyError> {
        (**self).verify(token, now)
    }

    fn require_scope(&self, token: &str, now: u64, scope: &Scope) -> Result<Claims, VerifyError> {
        (**self).require_scope(token, now, scope)
    }
}

impl<T: TokenVerifier + ?Sized> TokenVerifier for Box<T> {
    fn verify(&self, token: &str, now: u64) -> Result<Claims, VerifyError> {
        (**self).verify(token, now)
    }

    fn require_scope(&self, token: &str, now: u64, scope: &Scope) -> Result<Claims, VerifyError> {
        (**self).require_scope(token, now, scope)
    }
}

impl<T: TokenVerifier + ?Sized> TokenVerifier for Arc<T> {
    fn verify(&self, token: &str, now: u64) -> Result<Claims, VerifyError> {
        (**self).verify(token, now)
    }

    fn require_scope(&self, token: &str, now: u64, scope: &Scope) -> Result<Claims, VerifyError> {
        (**self).require_scope(token, now, scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> Scope {
        Scope::parse(s).unwrap()
    }

    fn claims(scopes: &[&str]) -> Claims {
        Claims::new(
            Subject::parse("alice").unwrap(),
            scopes.iter().map(|s| scope(s)).collect(),
            100,
            KeyId::parse("k1").unwrap(),
        )
    }

    /// Accepts tokens equal to "good" and grants `invoices:read` until time 100.
    struct Fixed;

    impl TokenVerifier for Fixed {
        fn verify(&self, token: &str, now: u64) -> Result<Claims, VerifyError> {
            if token != "good" {
                return Err(VerifyError::BadSignature);
            }
            if now >= 100 {
                return Err(VerifyError::Expired {
                    expires_at: 100,
                    now,
                });
            }
            Ok(claims(&["invoices:read"]))
        }
    }

    #[test]
    fn scope_accepts_usual_spellings() {
        for ok in ["invoices:read", "admin", "a.b_c-d:E9", &"x".repeat(128)] {
            assert_eq!(Scope::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn scope_rejects_empty_long_and_odd_characters() {
        assert_eq!(Scope::parse(""), Err(ParseError::Empty { what: "scope" }));
        assert_eq!(
            Scope::parse(&"x".repeat(129)),
            Err(ParseError::TooLong {
                what: "scope",
                len: 129,
                max: 128
            })
        );
        assert_eq!(
            Scope::parse("read write"),
            Err(ParseError::InvalidChar {
                what: "scope",
                ch: ' ',
                at: 4
            })
        );
        assert_eq!(
            Scope::parse("lesé").unwrap_err().to_string(),
            "invalid scope: character 'é' at byte 3 is not allowed"
        );
    }

    #[test]
    fn subject_allows_unicode_but_not_control_characters() {
        assert_eq!(Subject::parse("Zoë Müller").unwrap().as_str(), "Zoë Müller");
        assert_eq!(
            Subject::parse("a\nb"),
            Err(ParseError::InvalidChar {
                what: "subject",
                ch: '\n',
                at: 1
            })
        );
        assert_eq!(
            Subject::parse(""),
            Err(ParseError::Empty { what: "subject" })
        );
        assert!(Subject::parse(&"s".repeat(256)).is_ok());
        assert!(matches!(
            Subject::parse(&"s".repeat(257)),
            Err(ParseError::TooLong { len: 257, .. })
        ));
    }

    #[test]
    fn key_id_rejects_separators_used_by_tokens() {
        assert_eq!(
            KeyId::parse("2026-01.a_b").unwrap().to_string(),
            "2026-01.a_b"
        );
        assert!(matches!(
            KeyId::parse("k:1"),
            Err(ParseError::InvalidChar { ch: ':', .. })
        ));
        assert_eq!(KeyId::parse(""), Err(ParseError::Empty { what: "key id" }));
        assert!(matches!(
            KeyId::parse(&"k".repeat(65)),
            Err(ParseError::TooLong { max: 64, .. })
        ));
    }

    #[test]
    fn newtypes_parse_through_from_str_and_serde() {
        assert_eq!("admin".parse::<Scope>().unwrap(), scope("admin"));
        let parsed: Scope = deserialize_scope("admin").unwrap();
        assert_eq!(parsed, scope("admin"));
        assert!(deserialize_scope("bad scope").is_err());
    }

    /// Deserializes a scope from a plain string, the way any serde format would.
    fn deserialize_scope(value: &str) -> Result<Scope, serde::de::value::Error> {
        use serde::de::IntoDeserializer;
        Scope::deserialize(value.to_owned().into_deserializer())
    }

    #[test]
    fn claims_require_scope_reports_the_missing_scope() {
        let c = claims(&["invoices:read"]);
        assert!(c.has_scope(&scope("invoices:read")));
        assert_eq!(c.require_scope(&scope("invoices:read")), Ok(()));
        assert_eq!(
            c.require_scope(&scope("invoices:write")),
            Err(VerifyError::MissingScope {
                scope: scope("invoices:write")
            })
        );
    }

    #[test]
    fn provided_require_scope_verifies_first() {
        let read = scope("invoices:read");
        let write = scope("invoices:write");
        assert_eq!(
            Fixed.require_scope("good", 5, &read),
            Ok(claims(&["invoices:read"]))
        );
        assert_eq!(
            Fixed.require_scope("good", 5, &write),
            Err(VerifyError::MissingScope { scope: write })
        );
        assert_eq!(
            Fixed.require_scope("bad", 5, &read),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            Fixed.require_scope("good", 100, &read),
            Err(VerifyError::Expired {
                expires_at: 100,
                now: 100
            })
        );
    }

    #[test]
    fn trait_is_usable_through_pointers_and_trait_objects() {
        let read = scope("invoices:read");
        let boxed: Box<dyn TokenVerifier> = Box::new(Fixed);
        let shared: Arc<dyn TokenVerifier + Send + Sync> = Arc::new(Fixed);
        assert!(boxed.require_scope("good", 1, &read).is_ok());
        assert!(shared.require_scope("good", 1, &read).is_ok());
        fn accepts_good(verifier: impl TokenVerifier) -> bool {
            verifier.verify("good", 1).is_ok()
        }
        assert!(accepts_good(&Fixed));
        assert!(accepts_good(Arc::new(Fixed)));
        assert_eq!(shared.verify("bad", 1), Err(VerifyError::BadSignature));
    }

    #[test]
    fn error_messages_name_the_part_that_failed() {
        let messages = [
            VerifyError::from(Malformed::SegmentCount { found: 2 }).to_string(),
            VerifyError::from(Malformed::Base64 {
                segment: Segment::Signature,
            })
            .to_string(),
            VerifyError::UnknownKey {
                key_id: KeyId::parse("old").unwrap(),
            }
            .to_string(),
            VerifyError::Expired {
                expires_at: 10,
                now: 12,
            }
            .to_string(),
        ];
        assert_eq!(
            messages,
            [
                "malformed token: token has 2 segments, expected 3",
                "malformed token: token signature is not valid base64url",
                "token signed with unknown key id old",
                "token expired at 10, now is 12",
            ]
        );
    }
}
