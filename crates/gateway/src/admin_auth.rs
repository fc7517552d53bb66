//! The admin and metrics tokens: read once from environment variables, at least 32 bytes,
//! checked in constant time; and the throttle on failed attempts, per client and in total.

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

/// Failed attempts one client may make before it waits.
const FREE_FAILURES: u32 = 10;
/// The longest one client waits.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A client without a failure for this long starts afresh. It is longer than [`MAX_BACKOFF`],
/// so a client that waits out every backoff still gets one try a minute, not ten more.
const FORGET_AFTER: Duration = Duration::from_secs(600);
/// Clients remembered at most; those quiet longest are forgotten first.
const MAX_TRACKED: usize = 10_000;
/// Failed attempts all clients together may make at once, before [`TOTAL_PER_SECOND`] applies.
const TOTAL_BURST: f64 = 20.0;
/// Failed attempts all clients together may make per second, in the long run.
const TOTAL_PER_SECOND: f64 = 1.0;

/// Limits failed token checks, per client and in total; successes are never limited.
///
/// A client is an IPv4 address, or an IPv6 /64 (one host usually holds a whole /64, so counting
/// single IPv6 addresses would limit nothing). After [`FREE_FAILURES`] failures a client waits
/// 1 s, then 2 s, 4 s, … up to [`MAX_BACKOFF`] before its next failure counts, and is forgotten
/// after [`FORGET_AFTER`] without one. All clients together share a budget of [`TOTAL_BURST`]
/// failures refilled at [`TOTAL_PER_SECOND`], so rotating source addresses (all of 127.0.0.0/8
/// reaches a local listener) gains nothing. A failure over either limit is refused with 429 and
/// `Retry-After`, and is not counted.
///
/// The caller checks the token first and consults the throttle only when it is wrong, so the
/// right token passes however many failures come from its address or anywhere else: a flood of
/// wrong tokens cannot lock the admin out. The cost is that a throttled guess still learns
/// whether it was right (200 against 429); what makes guessing hopeless is the token's length
/// ([`AdminToken::MIN_LEN`]), and the throttle bounds what a flood costs and logs.
#[derive(Debug)]
pub(crate) struct AuthThrottle {
    state: Mutex<ThrottleState>,
}

impl Default for AuthThrottle {
    fn default() -> Self {
        Self {
            state: Mutex::new(ThrottleState {
                clients: HashMap::new(),
                total: TotalBudget {
                    available: TOTAL_BURST,
                    updated: None,
                },
            }),
        }
    }
}

/// A failed attempt refused without being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Throttled {
    /// Whole seconds until a failure counts again (at least 1).
    pub(crate) retry_after_secs: u64,
    /// Which limit refused it.
    pub(crate) limit: Limit,
}

/// The limit a failed attempt was over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// The client's own failures.
    Client,
    /// All clients' failures together.
    Total,
}

impl Throttled {
    /// The client's message.
    pub(crate) fn message(self) -> &'static str {
        match self.limit {
            Limit::Client => "too many failed authentication attempts from this address",
            Limit::Total => "too many failed authentication attempts; try again later",
        }
    }
}

#[derive(Debug)]
struct ThrottleState {
    clients: HashMap<Client, Failures>,
    total: TotalBudget,
}

/// Who failed: an IPv4 address, or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    V4(std::net::Ipv4Addr),
    V6Prefix(u64),
}

impl Client {
    fn of(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(v4) => Self::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4),
                None => Self::V6Prefix((v6.to_bits() >> 64) as u64),
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

/// A token bucket of failures for all clients together.
#[derive(Debug)]
struct TotalBudget {
    available: f64,
    /// When `available` was last brought up to date; `None` while it is full from the start.
    updated: Option<Instant>,
}

impl TotalBudget {
    /// Takes one failure from the budget at `now`, or says how many seconds until there is one.
    fn take(&mut self, now: Instant) -> Result<(), u64> {
        if let Some(updated) = self.updated {
            let refill = now.saturating_duration_since(updated).as_secs_f64() * TOTAL_PER_SECOND;
            self.available = (self.available + refill).min(TOTAL_BURST);
        }
        self.updated = Some(now);
        if self.available >= 1.0 {
            self.available -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.available) / TOTAL_PER_SECOND;
            // `wait` is positive and small: at most 1 / TOTAL_PER_SECOND seconds.
            Err((wait.ceil() as u64).max(1))
        }
    }
}

impl AuthThrottle {
    /// Records a failed attempt by `address` at `now`. `Ok` when it counts (the client gets
    /// its 401); `Err` when the client, or all clients together, are over their limit (429).
    pub(crate) fn fail(&self, address: IpAddr, now: Instant) -> Result<(), Throttled> {
        let client = Client::of(address);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(until) = state.clients.get(&client).and_then(|f| f.blocked_until)
            && until > now
        {
            return Err(Throttled {
                retry_after_secs: until.duration_since(now).as_secs().max(1),
                limit: Limit::Client,
            });
        }
        state
            .total
            .take(now)
            .map_err(|retry_after_secs| Throttled {
                retry_after_secs,
                limit: Limit::Total,
            })?;
        let clients = &mut state.clients;
        if clients.len() >= MAX_TRACKED && !clients.contains_key(&client) {
            clients.retain(|_, f| now.saturating_duration_since(f.last) < FORGET_AFTER);
            if clients.len() >= MAX_TRACKED
                && let Some(oldest) = clients.iter().min_by_key(|(_, f)| f.last).map(|(c, _)| *c)
            {
                clients.remove(&oldest);
            }
        }
        let entry = clients.entry(client).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: None,
        });
        if now.saturating_duration_since(entry.last) >= FORGET_AFTER {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        if entry.count >= FREE_FAILURES {
            let doublings = (entry.count - FREE_FAILURES).min(6);
            let backoff = Duration::from_secs(1 << doublings).min(MAX_BACKOFF);
            entry.blocked_until = Some(now + backoff);
        }
        Ok(())
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

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_waits_longer_after_each_failure_past_the_free_ones() {
        let throttle = AuthThrottle::default();
        let start = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(throttle.fail(ip("127.0.0.1"), start), Ok(()));
        }
        let waits = |at| {
            throttle
                .fail(ip("127.0.0.1"), at)
                .map_err(|t| (t.limit, t.retry_after_secs))
        };
        assert_eq!(waits(start), Err((Limit::Client, 1)));
        assert_eq!(
            waits(start + Duration::from_millis(400)),
            Err((Limit::Client, 1))
        );
        // Refused attempts are not counted: after the wait, the next failure counts and doubles
        // the wait.
        let later = start + Duration::from_secs(1);
        assert_eq!(waits(later), Ok(()));
        assert_eq!(waits(later), Err((Limit::Client, 2)));
        // Another address is another client.
        assert_eq!(throttle.fail(ip("127.0.0.2"), later), Ok(()));
    }

    #[test]
    fn waits_stop_growing_at_a_minute_and_a_quiet_client_is_forgotten() {
        let throttle = AuthThrottle::default();
        let client = ip("10.0.0.1");
        let mut now = Instant::now();
        let mut waits = Vec::new();
        // A client that tries again the moment each wait ends (the total budget refills
        // meanwhile).
        while waits.len() < 9 {
            if let Err(throttled) = throttle.fail(client, now) {
                assert_eq!(throttled.limit, Limit::Client);
                waits.push(throttled.retry_after_secs);
                now += Duration::from_secs(throttled.retry_after_secs);
            }
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        // Quiet for FORGET_AFTER: the free failures again.
        now += FORGET_AFTER;
        for _ in 0..FREE_FAILURES {
            assert_eq!(throttle.fail(client, now), Ok(()));
        }
        assert!(throttle.fail(client, now).is_err());
    }

    #[test]
    fn all_clients_together_share_one_budget_of_failures() {
        let throttle = AuthThrottle::default();
        let start = Instant::now();
        let from = |n: u32| IpAddr::from(std::net::Ipv4Addr::from(0x7f00_0000 + n));
        let burst = TOTAL_BURST as u32;
        for n in 0..burst {
            assert_eq!(throttle.fail(from(n), start), Ok(()), "{n}");
        }
        // Every further address is refused, each a first failure of its own.
        for n in burst..burst + 100 {
            assert_eq!(
                throttle.fail(from(n), start),
                Err(Throttled {
                    retry_after_secs: 1,
                    limit: Limit::Total
                })
            );
        }
        // The budget refills at TOTAL_PER_SECOND.
        let later = start + Duration::from_secs(3);
        for n in 0..3 {
            assert_eq!(throttle.fail(from(1000 + n), later), Ok(()), "{n}");
        }
        assert!(throttle.fail(from(2000), later).is_err());
    }

    #[test]
    fn an_ipv6_64_is_one_client_and_a_mapped_ipv4_is_its_ipv4() {
        let throttle = AuthThrottle::default();
        let now = Instant::now();
        for n in 0..FREE_FAILURES {
            assert_eq!(
                throttle.fail(ip(&format!("2001:db8:1:2::{n:x}")), now),
                Ok(())
            );
        }
        let refused = throttle.fail(ip("2001:db8:1:2:ffff::1"), now).unwrap_err();
        assert_eq!(refused.limit, Limit::Client);
        assert_eq!(throttle.fail(ip("2001:db8:1:3::1"), now), Ok(()));

        let throttle = AuthThrottle::default();
        for _ in 0..FREE_FAILURES {
            assert_eq!(throttle.fail(ip("::ffff:192.0.2.7"), now), Ok(()));
        }
        assert_eq!(
            throttle.fail(ip("192.0.2.7"), now).unwrap_err().limit,
            Limit::Client
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        assert_eq!(
            format!("{:?}", AdminToken::new("s3cret")),
            "AdminToken(\"<redacted>\")"
        );
    }
}
