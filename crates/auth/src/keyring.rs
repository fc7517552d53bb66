//! Signing keys and the keyring that issues and verifies tokens with them.

use crate::key::{KeyLookup, KeyringError, SigningKey};
use crate::{Claims, KeyId, Scope, Subject, VerifyError, token};

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

    fn active(&self) -> &SigningKey {
        // `new` always puts the active key first, and no method removes keys.
        &self.keys[0]
    }
}

impl KeyLookup for Keyring {
    /// The key with id `key_id`, active or not.
    fn key(&self, key_id: &KeyId) -> Option<&SigningKey> {
        self.keys.iter().find(|k| &k.key_id == key_id)
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
