//! The `auth` contract, major 1: [`Keyring`] as a [`TokenVerifier`].

use shared::auth::v1::TokenVerifier;

use crate::{Claims, Keyring, VerifyError};

impl TokenVerifier for Keyring {
    fn verify(&self, token: &str, now: u64) -> Result<Claims, VerifyError> {
        Keyring::verify(self, token, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyId, Scope, SigningKey, Subject};

    #[test]
    fn keyring_serves_the_contract_with_scope_checks() {
        let key = SigningKey::new(KeyId::parse("k1").unwrap(), &[3; 32]).unwrap();
        let ring = Keyring::new(key, []).unwrap();
        let read = Scope::parse("invoices:read").unwrap();
        let write = Scope::parse("invoices:write").unwrap();
        let token = ring.issue(&Subject::parse("alice").unwrap(), [&read], 10);

        let verifier: &dyn TokenVerifier = &ring;
        assert_eq!(
            verifier
                .require_scope(&token, 0, &read)
                .unwrap()
                .key_id
                .as_str(),
            "k1"
        );
        assert_eq!(
            verifier.require_scope(&token, 0, &write),
            Err(VerifyError::MissingScope { scope: write })
        );
        assert!(matches!(
            verifier.require_scope(&token, 10, &read),
            Err(VerifyError::Expired { .. })
        ));
    }
}
