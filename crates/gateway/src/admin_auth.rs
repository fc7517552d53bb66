//! The admin token: read once from an environment variable, checked in constant time.

use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::extract::bearer_token;

/// The token admin endpoints require. Its `Debug` output never shows the value.
#[derive(Clone)]
pub struct AdminToken(Option<Vec<u8>>);

impl AdminToken {
    /// A token that `check` accepts. An empty value is treated as no token at all, so a blank
    /// environment variable cannot open the admin endpoints.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        if value.is_empty() {
            Self(None)
        } else {
            Self(Some(value.into_bytes()))
        }
    }

    /// No token configured: every admin request is refused with 401.
    pub fn disabled() -> Self {
        Self(None)
    }

    /// The token from environment variable `name`, or [`disabled`](Self::disabled) when it is
    /// unset, empty or not UTF-8.
    pub fn from_env(name: &str) -> Self {
        std::env::var(name)
            .map(Self::new)
            .unwrap_or_else(|_| Self::disabled())
    }

    /// Whether a token is configured.
    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    /// Succeeds when `headers` carry `Authorization: Bearer TOKEN` with this token.
    ///
    /// The comparison takes the same time wherever the first differing byte is; only the length
    /// of the expected token can be learnt from timing, which does not help guess it.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(expected) = &self.0 else {
            return Err(ApiError::Unauthorized {
                message: "admin endpoints are disabled: no admin token is configured".to_owned(),
            });
        };
        let presented = bearer_token(headers)?;
        if bool::from(presented.as_bytes().ct_eq(expected)) {
            Ok(())
        } else {
            Err(ApiError::Unauthorized {
                message: "invalid admin token".to_owned(),
            })
        }
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = if self.0.is_some() {
            "<redacted>"
        } else {
            "<disabled>"
        };
        f.debug_tuple("AdminToken").field(&shown).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, header};

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = auth {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn message(result: Result<(), ApiError>) -> String {
        match result {
            Err(ApiError::Unauthorized { message }) => message,
            other => panic!("expected 401, got {other:?}"),
        }
    }

    #[test]
    fn the_right_token_passes() {
        let token = AdminToken::new("s3cret");
        assert!(token.check(&headers(Some("Bearer s3cret"))).is_ok());
        assert!(token.check(&headers(Some("bearer s3cret"))).is_ok());
    }

    #[test]
    fn wrong_missing_and_malformed_tokens_are_refused() {
        let token = AdminToken::new("s3cret");
        assert_eq!(message(token.check(&headers(None))), "missing bearer token");
        assert_eq!(
            message(token.check(&headers(Some("Bearer s3cre")))),
            "invalid admin token"
        );
        assert_eq!(
            message(token.check(&headers(Some("Bearer s3cretX")))),
            "invalid admin token"
        );
        assert_eq!(
            message(token.check(&headers(Some("Basic czNjcmV0")))),
            "authorization header must be `Bearer TOKEN`"
        );
        assert_eq!(
            message(token.check(&headers(Some("Bearer ")))),
            "authorization header must be `Bearer TOKEN`"
        );
    }

    #[test]
    fn without_a_configured_token_everything_is_refused() {
        for token in [AdminToken::disabled(), AdminToken::new("")] {
            assert!(!token.is_enabled());
            assert!(
                message(token.check(&headers(Some("Bearer anything"))))
                    .contains("no admin token is configured")
            );
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        assert_eq!(
            format!("{:?}", AdminToken::new("s3cret")),
            "AdminToken(\"<redacted>\")"
        );
    }
}
