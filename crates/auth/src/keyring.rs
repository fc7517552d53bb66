//! Signing keys and the keyring that issues and verifies tokens with them.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Claims, KeyId, Scope, Subject, VerifyError, token};

/// HMAC-SHA256, keyed.
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// One HMAC-SHA256 key and the id tokens use to name it.
///
/// Its `Debug` output shows the key id only, never the secret.
#[derive(Clone)]
pub struct SigningKey {
    key_id: KeyId,
    /// The MAC state already keyed with the secret; cloning it skips re-deriving the inner and
    /// outer pads on every token. The raw secret is not kept.
    mac: HmacSha256,
}

impl SigningKey {
    /// The shortest secret accepted, in bytes: the HMAC-SHA256 output size, as RFC 7518 §3.2
    /// requires for HS256.
    pub const MIN_SECRET_LEN: usize = 32;

    /// Makes a key from a secret of at least [`MIN_SECRET_LEN`](Self::MIN_SECRET_LEN) bytes.
    pub fn new(key_id: KeyId, secret: &[u8]) -> Result<Self, KeyringError> {
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(KeyringError::SecretTooShort {
                key_id,
                len: secret.len(),
                min: Self::MIN_SECRET_LEN,
            });
        }
        // HMAC accepts keys of any length, so this cannot fail; map the error anyway rather
        // than panic.
        let mac = HmacSha256::new_from_slice(secret).map_err(|_| KeyringError::SecretTooShort {
            key_id: key_id.clone(),
            len: secret.len(),
            min: Self::MIN_SECRET_LEN,
        })?;
        Ok(Self { key_id, mac })
    }

    /// The id tokens signed with this key carry.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// A fresh MAC keyed with this key's secret.
    pub(crate) fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.key_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Why a key or keyring could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// The secret is shorter than HS256 allows.
    #[error("auth key {key_id}: secret is {len} bytes, at least {min} required")]
    SecretTooShort {
        /// The key whose secret is too short.
        key_id: KeyId,
        /// The secret's length in bytes.
        len: usize,
        /// The shortest secret accepted, in bytes.
        min: usize,
    },
    /// Two keys in one keyring share an id, so tokens could not say which one signed them.
    #[error("auth keyring: key id {key_id} appears more than once")]
    DuplicateKeyId {
        /// The repeated key id.
        key_id: KeyId,
    },
}

/// The keys a service signs and verifies tokens with: one active key that signs, and older keys
/// that only verify.
///
/// Its `Debug` output shows key ids only, never secrets.
#[derive(Debug, Clone)]
pub struct Keyring {
    /// The active key first, then the verify-only keys. Keyrings hold a handful of keys, so a
    /// linear search by id is fastest.
    keys: Vec<SigningKey>,
}

impl Keyring {
    /// Makes a keyring that signs with `active` and also accepts tokens signed with any of
    /// `verify_only`. Key ids must be distinct.
    pub fn new(
        active: SigningKey,
        verify_only: impl IntoIterator<Item = SigningKey>,
    ) -> Result<Self, KeyringError> {
        let mut keys = vec![active];
        for key in verify_only {
            if keys.iter().any(|k| k.key_id == key.key_id) {
                return Err(KeyringError::DuplicateKeyId { key_id: key.key_id });
            }
            keys.push(key);
        }
        Ok(Self { keys })
    }

    /// Makes `new_active` the signing key; the previous active key keeps verifying.
    pub fn rotate(self, new_active: SigningKey) -> Result<Self, KeyringError> {
        Self::new(new_active, self.keys)
    }

    /// The id of the key new tokens are signed with.
    pub fn active_key_id(&self) -> &KeyId {
        &self.active().key_id
    }

    /// Issues a token for `subject` granting `scopes` until `expires_at` (Unix seconds,
    /// exclusive), signed with the active key. Repeated scopes are written once.
    pub fn issue<'a>(
        &self,
        subject: &Subject,
        scopes: impl IntoIterator<Item = &'a Scope>,
        expires_at: u64,
    ) -> String {
        token::issue(self.active(), subject, scopes, expires_at)
    }

    /// Verifies `token` at time `now` (Unix seconds) and returns its claims.
    ///
    /// See the crate docs for the order of checks and what each failure means.
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, VerifyError> {
        token::verify(self, token, now)
    }

    /// The key with id `key_id`, active or not.
    pub(crate) fn key(&self, key_id: &KeyId) -> Option<&SigningKey> {
        self.keys.iter().find(|k| &k.key_id == key_id)
    }

    fn active(&self) -> &SigningKey {
        // `new` always puts the active key first, and no method removes keys.
        &self.keys[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, byte: u8) -> SigningKey {
        SigningKey::new(KeyId::parse(id).unwrap(), &[byte; 32]).unwrap()
    }

    fn subject() -> Subject {
        Subject::parse("alice").unwrap()
    }

    #[test]
    fn short_secrets_are_rejected() {
        let err = SigningKey::new(KeyId::parse("k1").unwrap(), &[1; 31]).unwrap_err();
        assert_eq!(
            err,
            KeyringError::SecretTooShort {
                key_id: KeyId::parse("k1").unwrap(),
                len: 31,
                min: 32
            }
        );
        assert_eq!(
            err.to_string(),
            "auth key k1: secret is 31 bytes, at least 32 required"
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = b"super-secret-value-that-is-32-by";
        let k1 = SigningKey::new(KeyId::parse("k1").unwrap(), secret).unwrap();
        let ring = Keyring::new(k1.clone(), [key("k0", 9)]).unwrap();
        for shown in [format!("{k1:?}"), format!("{ring:?}"), format!("{ring:#?}")] {
            assert!(shown.contains("k1"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
            assert!(!shown.contains("super-secret"), "{shown}");
            // The raw bytes must not leak either, in any common rendering.
            assert!(!shown.contains("115, 117, 112"), "{shown}");
        }
    }

    #[test]
    fn duplicate_key_ids_are_rejected() {
        let err = Keyring::new(key("k1", 1), [key("k0", 2), key("k1", 3)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "auth keyring: key id k1 appears more than once"
        );
        assert!(matches!(
            Keyring::new(key("k1", 1), [key("k0", 2), key("k0", 3)]),
            Err(KeyringError::DuplicateKeyId { .. })
        ));
    }

    #[test]
    fn rotation_signs_with_the_new_key_and_still_verifies_the_old() {
        let old = Keyring::new(key("k1", 1), []).unwrap();
        let old_token = old.issue(&subject(), [], 100);
        let new = old.rotate(key("k2", 2)).unwrap();
        assert_eq!(new.active_key_id().as_str(), "k2");

        let new_token = new.issue(&subject(), [], 100);
        assert_eq!(new.verify(&new_token, 0).unwrap().key_id.as_str(), "k2");
        assert_eq!(new.verify(&old_token, 0).unwrap().key_id.as_str(), "k1");
    }

    #[test]
    fn rotating_to_an_existing_id_is_rejected() {
        let ring = Keyring::new(key("k1", 1), [key("k0", 0)]).unwrap();
        assert!(matches!(
            ring.rotate(key("k0", 5)),
            Err(KeyringError::DuplicateKeyId { .. })
        ));
    }

    #[test]
    fn dropped_keys_no_longer_verify() {
        let ring = Keyring::new(key("k1", 1), []).unwrap();
        let token = ring.issue(&subject(), [], 100);
        let without = Keyring::new(key("k2", 2), []).unwrap();
        assert_eq!(
            without.verify(&token, 0),
            Err(VerifyError::UnknownKey {
                key_id: KeyId::parse("k1").unwrap()
            })
        );
    }

    #[test]
    fn same_id_with_another_secret_is_a_bad_signature() {
        let token = Keyring::new(key("k1", 1), [])
            .unwrap()
            .issue(&subject(), [], 100);
        let other = Keyring::new(key("k1", 2), []).unwrap();
        assert_eq!(other.verify(&token, 0), Err(VerifyError::BadSignature));
    }
}
