//! The admin and metrics tokens: read once from environment variables, at least 32 bytes,
//! checked in constant time; and the throttle on failed attempts per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

    /// The shortest token accepted from the environment, in bytes: guessing 32 random bytes is
    /// hopeless even without the throttle.
    pub const MIN_LEN: usize = 32;

    /// The token from environment variable `name`: [`disabled`](Self::disabled) when it is
    /// unset or empty; surrounding whitespace (a trailing newline from a secrets file) is
    /// trimmed with a warning; shorter than [`MIN_LEN`](Self::MIN_LEN) bytes or not UTF-8 is an
    /// error naming the variable.
    pub fn from_env(name: &str) -> Result<Self, String> {
        match std::env::var(name) {
            Err(std::env::VarError::NotPresent) => Ok(Self::disabled()),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(format!("environment variable {name} is not valid UTF-8"))
            }
            Ok(value) => Self::checked(name, &value),
        }
    }

    /// Checks `value`, read from variable `name`, as [`from_env`](Self::from_env) does.
    pub fn checked(name: &str, value: &str) -> Result<Self, String> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Ok(Self::disabled());
        }
        if trimmed.len() != value.len() {
            tracing::warn!(
                var = name,
                "the token has surrounding whitespace; it is trimmed, send it without"
            );
        }
        if trimmed.len() < Self::MIN_LEN {
            return Err(format!(
                "environment variable {name} holds a {}-byte token; at least {} bytes are required",
                trimmed.len(),
                Self::MIN_LEN
            ));
        }
        Ok(Self::new(trimmed))
    }

    /// Whether `headers` carry this token as a bearer token (never true when disabled).
    pub(crate) fn matches(&self, headers: &HeaderMap) -> bool {
        match (&self.0, bearer_token(headers)) {
            (Some(expected), Ok(presented)) => bool::from(presented.as_bytes().ct_eq(expected)),
            _ => false,
        }
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

/// Failed attempts a client address may make before it is throttled.
const FREE_FAILURES: u32 = 10;
/// The longest a throttled address waits.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Addresses remembered at most; quiet ones are forgotten first.
const MAX_TRACKED: usize = 10_000;

/// Throttles failed token checks per client address: after [`FREE_FAILURES`] failures in a row
/// an address waits 1 s, then 2 s, 4 s, … up to a minute before it may try again; a success
/// clears its record. While it waits every request answers 429 with `Retry-After`, without
/// looking at the token.
#[derive(Debug, Default)]
pub(crate) struct AuthThrottle {
    clients: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

impl AuthThrottle {
    /// `Some(seconds to wait)` when `client` is throttled now.
    pub(crate) fn wait(&self, client: IpAddr, now: Instant) -> Option<u64> {
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        let until = clients.get(&client)?.blocked_until?;
        (until > now).then(|| until.duration_since(now).as_secs().max(1))
    }

    /// Records a failed attempt by `client`.
    pub(crate) fn failed(&self, client: IpAddr, now: Instant) {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if clients.len() >= MAX_TRACKED && !clients.contains_key(&client) {
            // Forget addresses quiet for longer than the longest wait, then the oldest.
            clients.retain(|_, f| now.duration_since(f.last) < MAX_BACKOFF);
            if clients.len() >= MAX_TRACKED
                && let Some(oldest) = clients.iter().min_by_key(|(_, f)| f.last).map(|(a, _)| *a)
            {
                clients.remove(&oldest);
            }
        }
        let entry = clients.entry(client).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: None,
        });
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        if entry.count >= FREE_FAILURES {
            let doublings = (entry.count - FREE_FAILURES).min(6);
            let backoff = Duration::from_secs(1 << doublings).min(MAX_BACKOFF);
            entry.blocked_until = Some(now + backoff);
        }
    }

    /// Clears `client`'s record after a success.
    pub(crate) fn succeeded(&self, client: IpAddr) {
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&client);
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
    fn tokens_from_the_environment_are_long_and_trimmed() {
        let long = "k".repeat(AdminToken::MIN_LEN);
        let token = AdminToken::checked("T", &format!("{long}\n")).unwrap();
        assert!(
            token
                .check(&headers(Some(&format!("Bearer {long}"))))
                .is_ok()
        );
        let error = AdminToken::checked("T", "short").unwrap_err();
        assert!(error.contains("environment variable T"), "{error}");
        assert!(error.contains("at least 32 bytes"), "{error}");
        assert!(!AdminToken::checked("T", "  ").unwrap().is_enabled());
    }

    #[test]
    fn failed_attempts_are_throttled_with_a_growing_wait() {
        let throttle = AuthThrottle::default();
        let client: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let start = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            throttle.failed(client, start);
            assert_eq!(throttle.wait(client, start), None);
        }
        throttle.failed(client, start);
        assert_eq!(throttle.wait(client, start), Some(1));
        assert_eq!(throttle.wait(other, start), None, "per address");
        throttle.failed(client, start);
        assert_eq!(throttle.wait(client, start), Some(2));
        assert_eq!(throttle.wait(client, start + Duration::from_secs(3)), None);
        throttle.succeeded(client);
        assert_eq!(throttle.wait(client, start), None);
    }

    #[test]
    fn debug_never_shows_the_token() {
        assert_eq!(
            format!("{:?}", AdminToken::new("s3cret")),
            "AdminToken(\"<redacted>\")"
        );
    }
}
