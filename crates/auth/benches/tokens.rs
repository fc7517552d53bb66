//! Benchmarks for issuing and verifying tokens.

use std::hint::black_box;

use auth::{KeyId, Keyring, Scope, SigningKey, Subject};
use criterion::{Criterion, criterion_group, criterion_main};

fn tokens(c: &mut Criterion) {
    let key = |id: &str, byte: u8| SigningKey::new(KeyId::parse(id).unwrap(), &[byte; 32]).unwrap();
    let ring = Keyring::new(key("k3", 3), [key("k2", 2), key("k1", 1)]).unwrap();
    let subject = Subject::parse("alice@example.com").unwrap();
    let scopes = [
        Scope::parse("invoices:read").unwrap(),
        Scope::parse("invoices:write").unwrap(),
    ];
    let token = ring.issue(&subject, &scopes, 2_000_000_000);

    c.bench_function("issue", |b| {
        b.iter(|| ring.issue(black_box(&subject), &scopes, 2_000_000_000))
    });
    c.bench_function("verify", |b| {
        b.iter(|| ring.verify(black_box(&token), 1_700_000_000))
    });
    let mut forged = token.clone();
    // Both replacement characters leave the unused low bits clear, so the result is still
    // canonical base64url and verification reaches the MAC comparison.
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'E' } else { 'A' });
    assert_eq!(
        ring.verify(&forged, 1_700_000_000),
        Err(auth::VerifyError::BadSignature)
    );
    c.bench_function("verify_bad_signature", |b| {
        b.iter(|| ring.verify(black_box(&forged), 1_700_000_000))
    });
}

criterion_group!(benches, tokens);
criterion_main!(benches);
