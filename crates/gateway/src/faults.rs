//! Fault injection into one billing version, for rollout drills and tests only (feature `faults`).
//!
//! Built only with `--features faults`, never by default. With it, `[faults.billing.v1]` and
//! `[faults.billing.v2]` make that version's requests slower (`extra_latency_ms`) and answer a
//! share of them with a 500 (`error_rate`, 0 to 1), so a rollout controller's analysis and
//! rollback can be exercised against a real gateway:
//!
//! ```toml
//! [faults.billing.v2]
//! error_rate = 0.2        # every fifth v2 request answers 500
//! extra_latency_ms = 50   # every v2 request takes 50 ms longer
//! ```
//!
//! Errors are spread evenly rather than drawn at random: after `n` requests of a version,
//! exactly `floor(n × error_rate)` have failed, so a drill gives the same numbers every time.
//! The section is read from the config serving now (cached per snapshot), so `POST
//! /config/reload` starts or ends a drill without a restart. An invalid section is logged once
//! per snapshot and injects nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;

use crate::error::ApiError;
use crate::routing::BillingVersion;

/// `[faults]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct FaultSettings {
    /// `[faults.billing]`.
    pub billing: BillingFaults,
}

/// `[faults.billing]`: faults per billing version.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct BillingFaults {
    /// `[faults.billing.v1]`.
    pub v1: VersionFaults,
    /// `[faults.billing.v2]`.
    pub v2: VersionFaults,
}

/// The faults of one version.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct VersionFaults {
    /// The share of requests answered with a 500, from 0 to 1.
    pub error_rate: f64,
    /// Added to every request of the version, in milliseconds.
    pub extra_latency_ms: u64,
}

impl FaultSettings {
    /// The faults of `version`.
    pub(crate) fn of(&self, version: BillingVersion) -> &VersionFaults {
        match version {
            BillingVersion::V1 => &self.billing.v1,
            BillingVersion::V2 => &self.billing.v2,
        }
    }
}

/// Requests seen per version, for spreading errors evenly.
static SEEN: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// Whether the `n`-th request (0-based) fails at `rate`: the count of failures up to it rises
/// from `floor(n × rate)` to `floor((n + 1) × rate)`.
pub(crate) fn fails(n: u64, rate: f64) -> bool {
    let rate = rate.clamp(0.0, 1.0);
    ((n + 1) as f64 * rate).floor() > (n as f64 * rate).floor()
}

/// The faults configured in `snapshot`: `[faults]` deserialized once per snapshot (by content
/// hash), none when the section is absent or invalid.
pub(crate) fn configured(snapshot: &gray::Snapshot) -> Arc<FaultSettings> {
    static CACHE: Mutex<Option<(String, Arc<FaultSettings>)>> = Mutex::new(None);
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((hash, settings)) = cache.as_ref()
        && hash == snapshot.content_hash()
    {
        return Arc::clone(settings);
    }
    let settings = match snapshot.get::<FaultSettings>("faults") {
        Ok(settings) => settings,
        Err(gray::ConfigError::MissingKey { .. }) => FaultSettings::default(),
        Err(error) => {
            tracing::warn!(%error, "invalid [faults] section; no faults are injected");
            FaultSettings::default()
        }
    };
    let settings = Arc::new(settings);
    *cache = Some((snapshot.content_hash().to_owned(), Arc::clone(&settings)));
    settings
}

/// Applies `version`'s configured faults to one request: waits the extra latency, then answers
/// with an injected 500 if this request is one of the failing share.
pub(crate) async fn inject(config: &gray::Store, version: BillingVersion) -> Result<(), ApiError> {
    let settings = configured(&config.guard());
    let faults = settings.of(version);
    if faults.extra_latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.extra_latency_ms)).await;
    }
    if faults.error_rate > 0.0 {
        let index = match version {
            BillingVersion::V1 => 0,
            BillingVersion::V2 => 1,
        };
        let n = SEEN[index].fetch_add(1, Ordering::Relaxed);
        if fails(n, faults.error_rate) {
            return Err(ApiError::internal(format!(
                "injected fault: billing {version} error_rate {}",
                faults.error_rate
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_spread_evenly_at_the_configured_rate() {
        let failed = (0..1000).filter(|n| fails(*n, 0.2)).count();
        assert_eq!(failed, 200);
        let first_ten: Vec<bool> = (0..10).map(|n| fails(n, 0.2)).collect();
        assert_eq!(first_ten.iter().filter(|f| **f).count(), 2);
        assert!((0..100).all(|n| !fails(n, 0.0)));
        assert!((0..100).all(|n| fails(n, 1.0)));
    }

    #[test]
    fn the_section_parses_per_version_and_rejects_unknown_keys() {
        let settings: FaultSettings =
            toml::from_str("[billing.v2]\nerror_rate = 0.2\nextra_latency_ms = 50\n").unwrap();
        assert_eq!(settings.of(BillingVersion::V2).error_rate, 0.2);
        assert_eq!(settings.of(BillingVersion::V2).extra_latency_ms, 50);
        assert_eq!(settings.of(BillingVersion::V1), &VersionFaults::default());
        let error = toml::from_str::<FaultSettings>("[billing.v2]\nerror_ratio = 0.2\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `error_ratio`"), "{error}");
    }
}
