//! The billing versions a request can be served by, and the gray routing layer that picks one.

use std::fmt;

use std::sync::Arc;

use gray::http::{RouteLayer, RoutePolicy, Routed};
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

/// Marks a response with the billing version that served it; read by the metrics middleware.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServedBy(pub(crate) BillingVersion);

/// The layer that routes requests naming no version: gray decides once per request (through
/// `gray::http::RouteLayer`, which also logs the decision), falling back to
/// [`BillingVersion::fallback`] when gray cannot decide or names a version this build lacks
/// (the load-time check of routes makes the second case rare); each outcome is counted in
/// `gray_decisions_total`.
pub(crate) fn route_layer(config: Arc<gray::Store>, metrics: Arc<Metrics>) -> RouteLayer {
    RouteLayer::new(config, policy()).with_observer(Arc::new(move |routed: &Routed| {
        metrics
            .gray_decisions
            .get_or_create(&DecisionLabels {
                rule: routed
                    .decision
                    .rule
                    .clone()
                    .unwrap_or_else(|| "default".to_owned()),
                reason: routed.decision.reason.as_str().to_owned(),
                variant: routed.route.clone(),
            })
            .inc();
    }))
}

/// The billing versions this build serves, and the fallback.
fn policy() -> RoutePolicy {
    RoutePolicy::new(
        BILLING_DIMENSION,
        BILLING_VERSIONS,
        BillingVersion::fallback().as_str(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use gray::{Decision, Reason};

    fn decision(route: Option<&'static str>, reason: Reason) -> Decision<'static> {
        Decision {
            route,
            rule: None,
            reason,
            bucket: None,
            detail: None,
        }
    }

    /// The version the routing policy picks for a decision.
    fn chosen_version(decision: &Decision<'_>) -> BillingVersion {
        let policy = policy();
        let (route, _) = policy.choose(decision);
        BillingVersion::parse(route).unwrap()
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
}
