//! Request-scoped checks as axum extractors: a bearer token with a scope, a billing version this
//! build contains, the version gray routing chose, and a JSON body whose objects repeat no key.
//! Each rejects with the documented JSON error, so handlers state what they need in their
//! signature instead of calling checks.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use auth::{Keyring, Scope, VerifyError};
use axum::Json;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::clock::unix_now;
use crate::error::ApiError;
use crate::routing::BillingVersion;
use crate::scope::ApiScope;

/// The token of an `Authorization: Bearer TOKEN` header, or 401. The scheme is matched
/// case-insensitively (RFC 9110 §11.1), surrounding whitespace is ignored.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized {
            message: "missing bearer token".to_owned(),
        })?;
    let text = value.to_str().map_err(|_| ApiError::Unauthorized {
        message: "authorization header is not valid text".to_owned(),
    })?;
    let token = text
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized {
            message: "authorization header must be `Bearer TOKEN`".to_owned(),
        })?;
    Ok(token)
}

/// A scope an endpoint requires, as a type, so handlers name it in their signature.
pub(crate) trait RequiredScope {
    /// The scope.
    const SCOPE: ApiScope;
}

/// `invoices:read`.
#[derive(Debug)]
pub(crate) struct ReadInvoices;

impl RequiredScope for ReadInvoices {
    const SCOPE: ApiScope = ApiScope::ReadInvoices;
}

/// `invoices:write`.
#[derive(Debug)]
pub(crate) struct WriteInvoices;

impl RequiredScope for WriteInvoices {
    const SCOPE: ApiScope = ApiScope::WriteInvoices;
}

/// What checking a bearer token needs: the keys it is verified with and the longest time it may
/// have left before it expires (`auth.max_ttl_seconds`). The part of the app's state that
/// [`Authorized`] takes, through [`FromRef`]; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct TokenCheck {
    /// The keys API bearer tokens are verified with.
    pub(crate) keyring: Arc<Keyring>,
    /// `auth.max_ttl_seconds`.
    pub(crate) max_ttl_seconds: u64,
}

/// A request whose bearer token verifies and grants scope `S`: 401 without a valid token, 403
/// with a valid token that lacks the scope.
#[derive(Debug)]
pub(crate) struct Authorized<S>(PhantomData<S>);

impl<S, St> FromRequestParts<St> for Authorized<S>
where
    S: RequiredScope,
    St: Send + Sync,
    TokenCheck: FromRef<St>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, ApiError> {
        authorize(&TokenCheck::from_ref(state), &parts.headers, S::SCOPE)?;
        Ok(Self(PhantomData))
    }
}

/// Checks the request's bearer token and that it grants `scope`.
fn authorize(check: &TokenCheck, headers: &HeaderMap, scope: ApiScope) -> Result<(), ApiError> {
    let token = bearer_token(headers)?;
    let now = unix_now();
    let claims = check
        .keyring
        .verify(token, now)
        .map_err(|error| ApiError::Unauthorized {
            message: format!("invalid bearer token: {error}"),
        })?;
    let max_ttl = check.max_ttl_seconds;
    if claims.expires_at.saturating_sub(now) > max_ttl {
        return Err(ApiError::Unauthorized {
            message: format!(
                "invalid bearer token: it expires more than auth.max_ttl_seconds ({max_ttl} s) from now"
            ),
        });
    }
    let scope = Scope::parse(scope.as_str()).map_err(ApiError::internal)?;
    claims.require_scope(&scope).map_err(|error| match error {
        VerifyError::MissingScope { scope } => ApiError::Forbidden {
            message: format!("token lacks scope {scope}"),
        },
        other => ApiError::Unauthorized {
            message: format!("invalid bearer token: {other}"),
        },
    })
}

/// A billing version as a type, for [`Built`].
pub(crate) trait VersionMarker {
    /// The version.
    const VERSION: BillingVersion;
}

/// Billing v1.
#[derive(Debug)]
pub(crate) struct V1;

impl VersionMarker for V1 {
    const VERSION: BillingVersion = BillingVersion::V1;
}

/// Billing v2.
#[derive(Debug)]
pub(crate) struct V2;

impl VersionMarker for V2 {
    const VERSION: BillingVersion = BillingVersion::V2;
}

/// Succeeds when this build contains billing version `V`, and refuses the request with 404
/// `version_not_built` otherwise.
#[derive(Debug)]
pub(crate) struct Built<V>(PhantomData<V>);

impl<V: VersionMarker, S: Send + Sync> FromRequestParts<S> for Built<V> {
    type Rejection = ApiError;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        V::VERSION.require_built()?;
        Ok(Self(PhantomData))
    }
}

/// The billing version gray routing chose for a request that names none; the routing layer
/// (`gray::http::RouteLayer`) decided once, before the handler.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoutedVersion(pub(crate) BillingVersion);

impl<S: Send + Sync> FromRequestParts<S> for RoutedVersion {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let routed = parts
            .extensions
            .get::<gray::http::Routed>()
            .ok_or_else(|| ApiError::internal("routed endpoint without the gray routing layer"))?;
        // The layer's policy only yields built versions, so this parse cannot fail.
        BillingVersion::parse(&routed.route)
            .map(Self)
            .ok_or_else(|| ApiError::internal(format!("gray routed to {}", routed.route)))
    }
}

/// A JSON request body, read by axum's `Json` (a JSON content type, the body limit, 400 for
/// malformed JSON, 415 without the content type) with one rule more: no object may repeat a
/// key, at any depth, compared after unescaping (`"a"` and `"\u0061"` are the same key). A
/// repeated key is 422 naming the key and the object that holds it, since a parser that keeps
/// the last value and one that keeps the first would read two different requests from it.
#[derive(Debug)]
pub(crate) struct JsonBody(pub(crate) Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(UniqueKeys(value)) = Json::<UniqueKeys>::from_request(request, state).await?;
        Ok(Self(value))
    }
}

/// A [`Value`] whose objects repeat no key; deserializing one with a repeated key fails.
struct UniqueKeys(Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor).map(Self)
    }
}

/// Builds a [`Value`] as serde_json's own visitor does, refusing a key an object already has.
struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        UniqueKeys::deserialize(deserializer).map(|UniqueKeys(value)| value)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let UniqueKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = auth {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn unique(text: &str) -> Result<Value, serde_json::Error> {
        serde_json::from_str::<UniqueKeys>(text).map(|UniqueKeys(value)| value)
    }

    #[test]
    fn bodies_without_repeated_keys_read_as_serde_json_reads_them() {
        let text = r#"{"a": [1, -2, 3.5, 1.5e300, 18446744073709551615, -9223372036854775808, null, true, "x\u00e9"],
                       "b": {"c": {}, "d": [], "e": [{"f": "g"}, {"f": "h"}]}, "\u0061b": 0}"#;
        assert_eq!(
            unique(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }

    #[test]
    fn a_repeated_key_is_an_error_naming_it_at_any_depth() {
        for (text, key) in [
            (r#"{"a": 1, "a": 1}"#, "a"),
            (r#"{"a": 1, "\u0061": 2}"#, "a"),
            (r#"[{"x": {"y": [{"z": 1, "z": 2}]}}]"#, "z"),
        ] {
            let error = unique(text).unwrap_err();
            assert!(error.is_data(), "{text}: {error}");
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("duplicate key `{key}`")),
                "{text}: {error}"
            );
        }
        // The same key in sibling objects is no repetition.
        assert!(unique(r#"[{"a": 1}, {"a": 2}]"#).is_ok());
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for value in ["Bearer t0k", "bearer t0k", "BEARER t0k", "bEaReR  t0k "] {
            assert_eq!(bearer_token(&headers(Some(value))).unwrap(), "t0k");
        }
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_refused() {
        for value in ["Basic czNjcmV0", "Bearer ", "Bearer", "Bearertoken", "t0k"] {
            assert!(
                matches!(
                    bearer_token(&headers(Some(value))),
                    Err(ApiError::Unauthorized { .. })
                ),
                "{value}"
            );
        }
    }
}
