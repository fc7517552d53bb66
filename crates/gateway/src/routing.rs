//! Adapts HTTP requests to gray decisions, and the billing versions a request can be served by.

use std::fmt;

use axum::http::HeaderMap;
use gray::{Decision, HeaderLookup, Reason, RequestView, Snapshot};
use serde::Serialize;

use crate::error::ApiError;
use crate::metrics::{DecisionLabels, Metrics};
use crate::version::BILLING_VERSIONS;

/// The routed dimension's name in gray rules (`route = { billing = "v2" }`).
pub const BILLING_DIMENSION: &str = "billing";

/// A billing contract major. Both exist in every build; [`BillingVersion::is_built`] says
/// whether this build can serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BillingVersion {
    /// Billing contract v1.
    V1,
    /// Billing contract v2.
    V2,
}

impl BillingVersion {
    /// `v1` or `v2`, as gray rules and headers spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }

    /// Parses `v1` or `v2`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "v1" => Some(Self::V1),
            "v2" => Some(Self::V2),
            _ => None,
        }
    }

    /// Whether this build contains this version (cargo feature `v1` / `v2`).
    pub fn is_built(self) -> bool {
        BILLING_VERSIONS.contains(&self.as_str())
    }

    /// Succeeds when this build contains the version, and refuses the request otherwise.
    pub fn require_built(self) -> Result<Self, ApiError> {
        if self.is_built() {
            Ok(self)
        } else {
            Err(ApiError::VersionNotBuilt {
                version: self.as_str().to_owned(),
            })
        }
    }

    /// The version used when gray cannot decide: the oldest version this build has (v2 in a
    /// build with neither, where every billing request is then refused as not built).
    pub fn fallback() -> Self {
        if Self::V1.is_built() {
            Self::V1
        } else {
            Self::V2
        }
    }
}

impl fmt::Display for BillingVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets gray read request headers from an `http::HeaderMap` (case-insensitive by construction).
pub struct Headers<'a>(pub &'a HeaderMap);

impl HeaderLookup for Headers<'_> {
    fn header(&self, lowercase_name: &str) -> Option<&str> {
        self.0.get(lowercase_name).and_then(|v| v.to_str().ok())
    }
}

/// A gray decision for one request, reduced to what the gateway acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routed {
    /// The version that serves the request.
    pub version: BillingVersion,
    /// Why.
    pub reason: Reason,
}

/// Decides which billing version serves a request that names none, logs the decision with its
/// rule, route and reason, and counts it.
///
/// A decision gray cannot make (reason `ERROR`) or a route this build lacks falls back to
/// [`BillingVersion::fallback`]; the load-time check of routes makes the second case rare.
pub fn route_request(
    snapshot: &Snapshot,
    metrics: &Metrics,
    path: &str,
    headers: &HeaderMap,
) -> Routed {
    let lookup = Headers(headers);
    let decision = snapshot.decide(
        BILLING_DIMENSION,
        &RequestView {
            path,
            headers: &lookup,
        },
    );
    let version = chosen_version(&decision);
    let rule = decision.rule.unwrap_or("default");
    if decision.reason == Reason::Error {
        tracing::warn!(
            target: "gray",
            rule,
            route = version.as_str(),
            reason = decision.reason.as_str(),
            detail = decision.detail.unwrap_or(""),
            path,
            generation = snapshot.generation(),
            "gray decision failed; using the fallback version"
        );
    } else {
        tracing::info!(
            target: "gray",
            rule,
            route = version.as_str(),
            reason = decision.reason.as_str(),
            bucket = decision.bucket,
            detail = decision.detail,
            path,
            generation = snapshot.generation(),
            "gray decision"
        );
    }
    metrics
        .gray_decisions
        .get_or_create(&DecisionLabels {
            rule: rule.to_owned(),
            reason: decision.reason.as_str().to_owned(),
            variant: version.as_str().to_owned(),
        })
        .inc();
    Routed {
        version,
        reason: decision.reason,
    }
}

/// The version a decision names, or the fallback when it names none this build has.
fn chosen_version(decision: &Decision<'_>) -> BillingVersion {
    decision
        .route
        .and_then(BillingVersion::parse)
        .filter(|version| version.is_built())
        .unwrap_or_else(BillingVersion::fallback)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn decision(route: Option<&'static str>, reason: Reason) -> Decision<'static> {
        Decision {
            route,
            rule: None,
            reason,
            bucket: None,
            detail: None,
        }
    }

    #[test]
    fn versions_round_trip_through_text() {
        for version in [BillingVersion::V1, BillingVersion::V2] {
            assert_eq!(BillingVersion::parse(version.as_str()), Some(version));
            assert_eq!(version.to_string(), version.as_str());
        }
        assert_eq!(BillingVersion::parse("v3"), None);
        assert_eq!(BillingVersion::parse("V1"), None);
    }

    #[test]
    fn only_built_versions_are_served() {
        assert_eq!(BillingVersion::V1.is_built(), cfg!(feature = "v1"));
        assert_eq!(BillingVersion::V2.is_built(), cfg!(feature = "v2"));
        assert_eq!(
            BillingVersion::fallback().is_built(),
            !BILLING_VERSIONS.is_empty()
        );
        if !cfg!(feature = "v2") {
            assert!(matches!(
                BillingVersion::V2.require_built(),
                Err(ApiError::VersionNotBuilt { .. })
            ));
        }
    }

    #[test]
    fn failed_or_unknown_routes_fall_back() {
        assert_eq!(
            chosen_version(&decision(None, Reason::Error)),
            BillingVersion::fallback()
        );
        assert_eq!(
            chosen_version(&decision(Some("v9"), Reason::TargetingMatch)),
            BillingVersion::fallback()
        );
        let v2 = chosen_version(&decision(Some("v2"), Reason::TargetingMatch));
        if cfg!(feature = "v2") {
            assert_eq!(v2, BillingVersion::V2);
        } else {
            assert_eq!(v2, BillingVersion::fallback());
        }
    }

    #[test]
    fn header_lookup_is_case_insensitive() {
        let mut map = HeaderMap::new();
        map.insert("X-Canary", HeaderValue::from_static("v2"));
        let headers = Headers(&map);
        assert_eq!(headers.header("x-canary"), Some("v2"));
        assert_eq!(headers.header("x-user-id"), None);
    }
}
