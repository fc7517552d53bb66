//! The token wire format: encoding claims into a compact signed token and back.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac as _;
use serde::{Deserialize, Serialize};

use crate::key::{KeyLookup, SigningKey};
use crate::{Claims, KeyId, Malformed, Scope, Segment, Subject, VerifyError};

/// The only signing algorithm issued or accepted. Refusing every other value (notably `none`)
/// closes the algorithm-confusion attacks JWT libraries are known for.
const ALGORITHM: &str = "HS256";

#[derive(Serialize)]
struct HeaderOut<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a KeyId,
}

#[derive(Deserialize)]
struct HeaderIn {
    alg: String,
    kid: KeyId,
}

#[derive(Serialize)]
struct PayloadOut<'a> {
    sub: &'a Subject,
    #[serde(skip_serializing_if = "String::is_empty")]
    scope: String,
    exp: u64,
}

#[derive(Deserialize)]
struct PayloadIn {
    sub: Subject,
    #[serde(default)]
    scope: String,
    exp: u64,
    /// Not before: the first moment the token is valid (RFC 7519 §4.1.5). Optional.
    #[serde(default)]
    nbf: Option<u64>,
}

/// Encodes and signs a token with `key`.
pub(crate) fn issue<'a>(
    key: &SigningKey,
    subject: &Subject,
    scopes: impl IntoIterator<Item = &'a Scope>,
    expires_at: u64,
) -> String {
    let scopes: BTreeSet<&Scope> = scopes.into_iter().collect();
    let scope = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let header = HeaderOut {
        alg: ALGORITHM,
        typ: "JWT",
        kid: key.key_id(),
    };
    let payload = PayloadOut {
        sub: subject,
        scope,
        exp: expires_at,
    };
    let mut token = String::new();
    token.push_str(&URL_SAFE_NO_PAD.encode(to_json(&header)));
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(to_json(&payload)));
    append_signature(key, token)
}

/// Appends `.base64url(mac)` over the text so far.
pub(crate) fn append_signature(key: &SigningKey, mut signed_part: String) -> String {
    let mut mac = key.mac();
    mac.update(signed_part.as_bytes());
    let tag = mac.finalize().into_bytes();
    signed_part.push('.');
    signed_part.push_str(&URL_SAFE_NO_PAD.encode(tag));
    signed_part
}

/// Serializes one of the structs above.
fn to_json(value: &impl Serialize) -> Vec<u8> {
    // Invariant: these structs hold only strings and integers, and serializing them into
    // memory cannot fail.
    serde_json::to_vec(value).expect("token header and payload always serialize")
}

/// Checks a token against the keys `keys` finds by id; the crate docs list the checks in order.
pub(crate) fn verify(
    keys: &(impl KeyLookup + ?Sized),
    token: &str,
    now: u64,
) -> Result<Claims, VerifyError> {
    let mut segments = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(Malformed::SegmentCount {
            found: token.split('.').count(),
        }
        .into());
    };

    let header: HeaderIn = from_json(Segment::Header, &decode(Segment::Header, header_b64)?)?;
    if header.alg != ALGORITHM {
        return Err(Malformed::UnsupportedAlgorithm { alg: header.alg }.into());
    }
    let key = keys
        .key(&header.kid)
        .ok_or(VerifyError::UnknownKey { key_id: header.kid })?;

    // Decoding is done before the MAC check so that a token whose text cannot be canonical
    // base64url is reported as malformed; nothing decoded is interpreted until the MAC passes.
    let payload_json = decode(Segment::Payload, payload_b64)?;
    let signature = decode(Segment::Signature, signature_b64)?;

    let signed_part = &token[..header_b64.len() + 1 + payload_b64.len()];
    let mut mac = key.mac();
    mac.update(signed_part.as_bytes());
    // `verify_slice` compares in constant time (via `subtle`), and rejects wrong lengths.
    mac.verify_slice(&signature)
        .map_err(|_| VerifyError::BadSignature)?;

    let payload: PayloadIn = from_json(Segment::Payload, &payload_json)?;
    let scopes = parse_scopes(&payload.scope)?;
    if now >= payload.exp {
        return Err(VerifyError::Expired {
            expires_at: payload.exp,
            now,
        });
    }
    // The contract has no "not yet valid" variant (adding one is a major change of auth v1), so
    // a token used before its `nbf` is refused as a payload the verifier cannot accept; like
    // every failure but a missing scope, it means not authenticated (401).
    if let Some(not_before) = payload.nbf
        && now < not_before
    {
        return Err(Malformed::Json {
            segment: Segment::Payload,
            detail: format!("claim `nbf`: token not valid before {not_before}, now is {now}"),
        }
        .into());
    }
    Ok(Claims::new(
        payload.sub,
        scopes,
        payload.exp,
        key.key_id().clone(),
    ))
}

fn decode(segment: Segment, text: &str) -> Result<Vec<u8>, Malformed> {
    // The engine rejects padding and non-zero trailing bits, so each token has exactly one
    // spelling and a changed character can never decode to the same bytes.
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| Malformed::Base64 { segment })
}

fn from_json<T: for<'de> Deserialize<'de>>(segment: Segment, bytes: &[u8]) -> Result<T, Malformed> {
    serde_json::from_slice(bytes).map_err(|err| Malformed::Json {
        segment,
        detail: err.to_string(),
    })
}

/// Parses the space-separated `scope` claim; the empty string grants nothing.
fn parse_scopes(text: &str) -> Result<BTreeSet<Scope>, Malformed> {
    if text.is_empty() {
        return Ok(BTreeSet::new());
    }
    text.split(' ')
        .map(|s| {
            Scope::parse(s).map_err(|err| Malformed::Json {
                segment: Segment::Payload,
                detail: format!("claim `scope`: {err}"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    // The tests sign and verify through the public keyring, as callers do.
    use crate::Keyring;

    const NOW: u64 = 1_000;

    fn key(id: &str) -> SigningKey {
        SigningKey::new(KeyId::parse(id).unwrap(), &[42; 32]).unwrap()
    }

    fn ring() -> Keyring {
        Keyring::new(key("k1"), [key("k0")]).unwrap()
    }

    fn scope(s: &str) -> Scope {
        Scope::parse(s).unwrap()
    }

    fn good_token() -> String {
        ring().issue(
            &Subject::parse("alice").unwrap(),
            &[scope("invoices:read"), scope("admin")],
            NOW + 60,
        )
    }

    /// Signs arbitrary header and payload JSON with `key`, to reach the checks after the MAC.
    fn signed(key_id: &str, header: &str, payload: &str) -> String {
        let text = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        append_signature(&key(key_id), text)
    }

    fn segments(token: &str) -> Vec<String> {
        token.split('.').map(str::to_owned).collect()
    }

    fn malformed(result: Result<Claims, VerifyError>) -> Malformed {
        match result {
            Err(VerifyError::Malformed(m)) => m,
            other => panic!("expected a malformed-token error, got {other:?}"),
        }
    }

    #[test]
    fn issued_token_has_the_documented_layout() {
        let token = good_token();
        let parts = segments(&token);
        assert_eq!(parts.len(), 3);
        let header = URL_SAFE_NO_PAD.decode(&parts[0]).unwrap();
        let payload = URL_SAFE_NO_PAD.decode(&parts[1]).unwrap();
        assert_eq!(
            String::from_utf8(header).unwrap(),
            r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#
        );
        assert_eq!(
            String::from_utf8(payload).unwrap(),
            r#"{"sub":"alice","scope":"admin invoices:read","exp":1060}"#
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&parts[2]).unwrap().len(), 32);
    }

    #[test]
    fn matches_an_independent_hmac_sha256_computation() {
        // The MAC must be plain HMAC-SHA256 over `header.payload`, so that any HS256 JWT
        // library can check our tokens. RFC 4231 test case 2 pins the primitive itself.
        let mut mac = crate::key::HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let tag = mac.finalize().into_bytes();
        assert_eq!(
            tag.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );

        let token = good_token();
        let (signed_part, signature) = token.rsplit_once('.').unwrap();
        let mut mac = crate::key::HmacSha256::new_from_slice(&[42; 32]).unwrap();
        mac.update(signed_part.as_bytes());
        assert_eq!(
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
            signature
        );
    }

    #[test]
    fn good_token_verifies_and_repeated_scopes_collapse() {
        let claims = ring().verify(&good_token(), NOW).unwrap();
        assert_eq!(claims.subject.as_str(), "alice");
        assert_eq!(claims.expires_at, NOW + 60);
        assert_eq!(claims.key_id.as_str(), "k1");
        assert_eq!(
            claims.scopes,
            BTreeSet::from([scope("admin"), scope("invoices:read")])
        );

        let read = scope("invoices:read");
        let token = ring().issue(&Subject::parse("bob").unwrap(), [&read, &read], NOW + 1);
        assert_eq!(
            ring().verify(&token, NOW).unwrap().scopes,
            BTreeSet::from([read])
        );
    }

    #[test]
    fn token_without_scopes_verifies_with_none() {
        let token = ring().issue(&Subject::parse("svc").unwrap(), [], NOW + 1);
        let payload = URL_SAFE_NO_PAD.decode(&segments(&token)[1]).unwrap();
        assert_eq!(payload, br#"{"sub":"svc","exp":1001}"#);
        assert!(ring().verify(&token, NOW).unwrap().scopes.is_empty());
    }

    #[test]
    fn expiry_is_exclusive() {
        let token = good_token();
        assert!(ring().verify(&token, NOW + 59).is_ok());
        assert_eq!(
            ring().verify(&token, NOW + 60),
            Err(VerifyError::Expired {
                expires_at: NOW + 60,
                now: NOW + 60
            })
        );
        assert!(matches!(
            ring().verify(&token, u64::MAX),
            Err(VerifyError::Expired { .. })
        ));
    }

    #[test]
    fn tampered_payload_is_a_bad_signature() {
        let mut parts = segments(&good_token());
        let forged = r#"{"sub":"mallory","scope":"admin invoices:read","exp":1060}"#;
        parts[1] = URL_SAFE_NO_PAD.encode(forged);
        assert_eq!(
            ring().verify(&parts.join("."), NOW),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn tampered_signature_is_a_bad_signature() {
        let mut parts = segments(&good_token());
        let mut mac = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
        mac[0] ^= 1;
        parts[2] = URL_SAFE_NO_PAD.encode(&mac);
        assert_eq!(
            ring().verify(&parts.join("."), NOW),
            Err(VerifyError::BadSignature)
        );
        // A truncated MAC must not be compared as a prefix.
        parts[2] = URL_SAFE_NO_PAD.encode(&mac[..16]);
        assert_eq!(
            ring().verify(&parts.join("."), NOW),
            Err(VerifyError::BadSignature)
        );
        parts[2] = String::new();
        assert_eq!(
            ring().verify(&parts.join("."), NOW),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn tampered_header_is_a_bad_signature() {
        let mut parts = segments(&good_token());
        parts[0] = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","kid":"k0"}"#);
        assert_eq!(
            ring().verify(&parts.join("."), NOW),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn wrong_segment_count_is_malformed() {
        let token = good_token();
        let parts = segments(&token);
        for (text, found) in [
            (String::new(), 1),
            ("abc".to_owned(), 1),
            (parts[..2].join("."), 2),
            (format!("{token}."), 4),
            (format!("{token}.{}", parts[2]), 4),
        ] {
            assert_eq!(
                malformed(ring().verify(&text, NOW)),
                Malformed::SegmentCount { found },
                "{text}"
            );
        }
    }

    #[test]
    fn bad_base64_is_malformed_and_names_the_segment() {
        let parts = segments(&good_token());
        let cases = [
            (0, "eyJ!bGciOiJIUzI1NiJ9", Segment::Header),
            (1, "not base64!", Segment::Payload),
            // Standard-alphabet characters and padding are not base64url.
            (1, &format!("{}==", parts[1]), Segment::Payload),
            (
                2,
                &parts[2].replace(|_: char| true, "+"),
                Segment::Signature,
            ),
        ];
        for (index, replacement, segment) in cases {
            let mut tampered = parts.clone();
            tampered[index] = replacement.to_owned();
            assert_eq!(
                malformed(ring().verify(&tampered.join("."), NOW)),
                Malformed::Base64 { segment },
                "{replacement}"
            );
        }
    }

    #[test]
    fn non_canonical_trailing_bits_are_malformed() {
        // 32 bytes take 43 characters whose last one carries 2 unused bits; setting them must
        // not give a second spelling of the same signature.
        let mut parts = segments(&good_token());
        let last = parts[2].pop().unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let index = alphabet.find(last).unwrap();
        assert_eq!(index % 4, 0, "canonical encodings leave the low bits clear");
        parts[2].push(alphabet.as_bytes()[index + 1] as char);
        assert_eq!(
            malformed(ring().verify(&parts.join("."), NOW)),
            Malformed::Base64 {
                segment: Segment::Signature
            }
        );
    }

    #[test]
    fn bad_header_json_is_malformed() {
        for header in [
            "not json",
            r#"{"alg":"HS256"}"#,
            r#"{"alg":"HS256","kid":"bad:kid"}"#,
            r#"{"alg":"HS256","kid":7}"#,
        ] {
            let token = signed("k1", header, r#"{"sub":"a","exp":2000}"#);
            assert!(
                matches!(
                    malformed(ring().verify(&token, NOW)),
                    Malformed::Json {
                        segment: Segment::Header,
                        ..
                    }
                ),
                "{header}"
            );
        }
    }

    #[test]
    fn other_algorithms_are_refused() {
        for alg in ["none", "HS512", "RS256", "hs256"] {
            let header = format!(r#"{{"alg":"{alg}","kid":"k1"}}"#);
            let token = signed("k1", &header, r#"{"sub":"a","exp":2000}"#);
            assert_eq!(
                malformed(ring().verify(&token, NOW)),
                Malformed::UnsupportedAlgorithm {
                    alg: alg.to_owned()
                }
            );
        }
    }

    #[test]
    fn unknown_key_id_is_reported_before_the_signature() {
        let token = signed("nope", r#"{"alg":"HS256","kid":"nope"}"#, "{}");
        assert_eq!(
            ring().verify(&token, NOW),
            Err(VerifyError::UnknownKey {
                key_id: KeyId::parse("nope").unwrap()
            })
        );
    }

    #[test]
    fn tokens_are_refused_before_their_nbf() {
        let payload = format!(
            r#"{{"sub":"alice","scope":"","exp":{},"nbf":{}}}"#,
            NOW + 100,
            NOW + 10
        );
        let token = signed("k1", r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#, &payload);
        let error = ring().verify(&token, NOW).unwrap_err();
        assert!(error.to_string().contains("not valid before"), "{error}");
        assert!(ring().verify(&token, NOW + 10).is_ok());
    }

    #[test]
    fn verify_only_keys_still_verify() {
        let token = signed(
            "k0",
            r#"{"alg":"HS256","kid":"k0"}"#,
            r#"{"sub":"a","exp":2000}"#,
        );
        assert_eq!(ring().verify(&token, NOW).unwrap().key_id.as_str(), "k0");
    }

    #[test]
    fn bad_payload_json_is_malformed_only_once_signed() {
        let header = r#"{"alg":"HS256","kid":"k1"}"#;
        for (payload, detail) in [
            ("not json", "expected ident at line 1 column 2"),
            (r#"{"sub":"a"}"#, "missing field `exp` at line 1 column 11"),
            (
                r#"{"sub":"","exp":2000}"#,
                "invalid subject: empty at line 1 column 9",
            ),
            (
                r#"{"sub":"a","exp":-1}"#,
                "invalid value: integer `-1`, expected u64 at line 1 column 19",
            ),
            (
                r#"{"sub":"a","exp":1,"exp":2}"#,
                "duplicate field `exp` at line 1 column 24",
            ),
            (
                r#"{"sub":"a","scope":"x  y","exp":2000}"#,
                "claim `scope`: invalid scope: empty",
            ),
            (
                r#"{"sub":"a","scope":"x,y","exp":2000}"#,
                "claim `scope`: invalid scope: character ',' at byte 1 is not allowed",
            ),
        ] {
            let token = signed("k1", header, payload);
            assert_eq!(
                malformed(ring().verify(&token, NOW)),
                Malformed::Json {
                    segment: Segment::Payload,
                    detail: detail.to_owned()
                },
                "{payload}"
            );
            // The same payload without a valid MAC is never parsed.
            let mut parts = segments(&token);
            parts[2] = good_token().rsplit_once('.').unwrap().1.to_owned();
            assert_eq!(
                ring().verify(&parts.join("."), NOW),
                Err(VerifyError::BadSignature)
            );
        }
    }

    #[test]
    fn extra_claims_are_ignored() {
        let token = signed(
            "k1",
            r#"{"alg":"HS256","typ":"JWT","kid":"k1","x":1}"#,
            r#"{"sub":"a","iat":5,"exp":2000,"scope":"admin"}"#,
        );
        let claims = ring().verify(&token, NOW).unwrap();
        assert_eq!(claims.scopes, BTreeSet::from([scope("admin")]));
    }
}
