//! Signed bearer tokens: issue and verify, with expiry, scopes and key rotation.
//!
//! A [`Keyring`] holds one *active* HMAC-SHA256 key, which signs new tokens, and any number of
//! older keys, which still verify the tokens they signed until those expire. Every token names
//! the key that signed it (`kid`), so keys can be rotated without logging anyone out:
//! [`Keyring::rotate`] makes a new key active and keeps the old one for verification.
//!
//! ```
//! use auth::{Keyring, KeyId, Scope, SigningKey, Subject, VerifyError};
//!
//! let key = SigningKey::new(KeyId::parse("2026-01")?, &[7; 32])?;
//! let keyring = Keyring::new(key, [])?;
//! let read = Scope::parse("invoices:read")?;
//! let token = keyring.issue(&Subject::parse("alice")?, [&read], 1_000);
//!
//! let claims = keyring.verify(&token, 999)?;
//! assert_eq!(claims.subject.as_str(), "alice");
//! assert!(claims.has_scope(&read));
//! assert!(matches!(keyring.verify(&token, 1_000), Err(VerifyError::Expired { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Token format
//!
//! A token is the compact layout of an HS256 JSON Web Token:
//! `base64url(header) "." base64url(payload) "." base64url(mac)`, unpadded, where the header is
//! `{"alg":"HS256","typ":"JWT","kid":KEY_ID}`, the payload is
//! `{"sub":SUBJECT,"scope":"SCOPE SCOPE …","exp":UNIX_SECONDS}` and the MAC is HMAC-SHA256 over
//! the ASCII text `base64url(header) "." base64url(payload)`.
//!
//! Verification checks, in this order, and stops at the first failure:
//! the three segments, the header (which must name `HS256` and a `kid`), that the keyring knows
//! the `kid`, that every segment is canonical base64url, the MAC (compared in constant time),
//! the payload's JSON, and finally expiry: a token is expired when `now >= exp`. Nothing in the
//! payload is trusted before its MAC checks out. The caller passes `now` in Unix seconds, so
//! there is no hidden clock.
//!
//! # Errors
//!
//! [`VerifyError`] (from the `auth` contract in `shared`) tells failures apart:
//! [`VerifyError::Malformed`] for shape problems, [`VerifyError::UnknownKey`],
//! [`VerifyError::BadSignature`] for altered or forged tokens, [`VerifyError::Expired`], and
//! [`VerifyError::MissingScope`] when a valid token lacks a scope (the one failure that means
//! "forbidden" rather than "not authenticated").
//!
//! # Features
//!
//! | Feature | Default | What it enables |
//! |---------|---------|-----------------|
//! | `v1`    | yes     | `impl shared::auth::v1::TokenVerifier for Keyring` (contract `auth` major 1) |
//!
//! Without any feature the crate still issues and verifies tokens through [`Keyring`]'s own
//! methods; the feature only adds the contract implementation.
#![warn(unreachable_pub)]

mod key;
mod keyring;
mod token;

pub use key::{KeyringError, SigningKey};
pub use keyring::Keyring;
pub use shared::auth::v1::{
    Claims, KeyId, Malformed, ParseError, Scope, Segment, Subject, VerifyError,
};

#[cfg(feature = "v1")]
mod contract;
