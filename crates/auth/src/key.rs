//! One signing key (an HMAC-SHA256 secret with its id), the errors of building keys and keyrings,
//! and [`KeyLookup`], the one thing token verification needs from whoever holds the keys.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::KeyId;

/// HMAC-SHA256, keyed.
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// One HMAC-SHA256 key and the id tokens use to name it.
///
/// Its `Debug` output shows the key id only, never the secret.
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) key_id: KeyId,
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

/// Finds a verification key by the id a token names. [`crate::Keyring`] implements it; token
/// verification depends only on this, so the wire format knows nothing of how keys are kept.
pub(crate) trait KeyLookup {
    /// The key with id `key_id`, if known.
    fn key(&self, key_id: &KeyId) -> Option<&SigningKey>;
}
