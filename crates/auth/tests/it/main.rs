//! Integration tests for `auth`: round-trip and tamper properties through the public API.

use std::collections::BTreeSet;

use auth::{Claims, KeyId, Keyring, Scope, SigningKey, Subject, VerifyError};
use proptest::prelude::*;

fn keyring(secret: &[u8]) -> Keyring {
    let active = SigningKey::new(KeyId::parse("active").unwrap(), secret).unwrap();
    let old = SigningKey::new(KeyId::parse("old").unwrap(), &[0xA5; 32]).unwrap();
    Keyring::new(active, [old]).unwrap()
}

fn subject() -> impl Strategy<Value = Subject> {
    "[^\\p{Cc}]{1,40}".prop_map(|s| Subject::parse(&s).unwrap())
}

fn scopes() -> impl Strategy<Value = BTreeSet<Scope>> {
    prop::collection::btree_set(
        "[a-zA-Z0-9:._-]{1,20}".prop_map(|s| Scope::parse(&s).unwrap()),
        0..6,
    )
}

fn secret() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 32..80)
}

proptest! {
    #[test]
    fn issue_then_verify_gives_back_the_claims(
        secret in secret(),
        subject in subject(),
        scopes in scopes(),
        expires_at in 1..u64::MAX,
        age in 1..u64::MAX,
    ) {
        let ring = keyring(&secret);
        let now = expires_at.saturating_sub(age);
        let token = ring.issue(&subject, &scopes, expires_at);
        let expected = Claims::new(subject, scopes, expires_at, KeyId::parse("active").unwrap());
        prop_assert_eq!(ring.verify(&token, now), Ok(expected));
        prop_assert_eq!(
            ring.verify(&token, expires_at),
            Err(VerifyError::Expired { expires_at, now: expires_at })
        );
    }

    #[test]
    fn any_single_byte_change_is_rejected(
        secret in secret(),
        subject in subject(),
        scopes in scopes(),
        position in any::<prop::sample::Index>(),
        replacement in 0x21u8..0x7f,
    ) {
        let ring = keyring(&secret);
        let token = ring.issue(&subject, &scopes, u64::MAX);
        let mut bytes = token.clone().into_bytes();
        let at = position.index(bytes.len());
        prop_assume!(bytes[at] != replacement);
        bytes[at] = replacement;
        let tampered = String::from_utf8(bytes).unwrap();
        let result = ring.verify(&tampered, 0);
        prop_assert!(result.is_err(), "accepted {} (from {})", tampered, token);
    }

    #[test]
    fn another_secret_never_verifies(a in secret(), b in secret(), subject in subject()) {
        prop_assume!(a != b);
        let token = keyring(&a).issue(&subject, [], u64::MAX);
        prop_assert_eq!(keyring(&b).verify(&token, 0), Err(VerifyError::BadSignature));
    }
}

#[test]
fn error_kinds_are_distinct_for_each_failure() {
    let ring = keyring(&[1; 32]);
    let alice = Subject::parse("alice").unwrap();
    let token = ring.issue(&alice, [], 100);
    let other = Keyring::new(
        SigningKey::new(KeyId::parse("elsewhere").unwrap(), &[1; 32]).unwrap(),
        [],
    )
    .unwrap()
    .issue(&alice, [], 100);
    let (signed, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{signed}.{}", "A".repeat(43));

    let kinds: Vec<String> = [
        ring.verify("a.b", 0),
        ring.verify(&other, 0),
        ring.verify(&forged, 0),
        ring.verify(&token, 100),
    ]
    .into_iter()
    .map(|r| r.unwrap_err().to_string())
    .collect();
    assert_eq!(
        kinds,
        [
            "malformed token: token has 2 segments, expected 3",
            "token signed with unknown key id elsewhere",
            "token signature does not match",
            "token expired at 100, now is 100",
        ]
    );
}

#[cfg(feature = "v1")]
#[test]
fn keyring_is_a_contract_token_verifier() {
    use shared::auth::v1::TokenVerifier;
    use std::sync::Arc;

    let verifier: Arc<dyn TokenVerifier + Send + Sync> = Arc::new(keyring(&[2; 32]));
    let admin = Scope::parse("admin").unwrap();
    let token = keyring(&[2; 32]).issue(&Subject::parse("ops").unwrap(), [], 100);
    assert_eq!(
        verifier.require_scope(&token, 0, &admin),
        Err(VerifyError::MissingScope { scope: admin })
    );
}
