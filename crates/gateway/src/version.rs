//! What this build is: crate version, rustc, git revision, features and the contract versions it serves.

use serde::Serialize;

/// The gateway crate's version.
pub(crate) const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// `rustc --version` of the compiler that built this binary, captured by `build.rs`.
pub(crate) const RUSTC_VERSION: &str = env!("GATEWAY_RUSTC_VERSION");

/// The git revision this binary was built from, or `unknown` when built outside a checkout.
pub(crate) const GIT_REVISION: &str = env!("GATEWAY_GIT_REVISION");

/// The billing majors compiled into this build, lowest first, spelled as gray rules spell them.
pub const BILLING_VERSIONS: &[&str] = &[
    #[cfg(feature = "v1")]
    "v1",
    #[cfg(feature = "v2")]
    "v2",
];

/// Every cargo feature this build was compiled with (each one the crate declares), so a drill
/// build (`faults`) never passes for a production one.
pub const FEATURES: &[&str] = &[
    #[cfg(feature = "v1")]
    "v1",
    #[cfg(feature = "v2")]
    "v2",
    #[cfg(feature = "faults")]
    "faults",
];

/// The answer of `GET /debug/version`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct VersionReport {
    /// The gateway crate's version.
    pub version: &'static str,
    /// The compiler that built this binary.
    pub rustc: &'static str,
    /// The git revision, or `unknown`.
    pub git_revision: &'static str,
    /// The enabled cargo features.
    pub features: Vec<&'static str>,
    /// Contract name and major to the full contract version this build serves or consumes.
    pub contracts: Vec<ContractVersion>,
}

/// One contract major this build serves, with its full version from `shared`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ContractVersion {
    /// The contract's name: `auth`, `billing` or `notification`.
    pub contract: &'static str,
    /// The major, `v1`, `v2`, ...
    pub major: &'static str,
    /// The full version stated in the contract's source.
    pub version: &'static str,
}

/// This build's version report.
pub(crate) fn report() -> VersionReport {
    VersionReport {
        version: CRATE_VERSION,
        rustc: RUSTC_VERSION,
        git_revision: GIT_REVISION,
        features: FEATURES.to_vec(),
        contracts: contract_versions(),
    }
}

/// The comma-separated feature list used as the `features` label of `build_info`.
pub(crate) fn features_label() -> String {
    FEATURES.join(",")
}

/// The contract versions this build serves, read from `shared`'s `VERSION` constants.
pub(crate) fn contract_versions() -> Vec<ContractVersion> {
    vec![
        ContractVersion {
            contract: "auth",
            major: "v1",
            version: shared::auth::v1::VERSION,
        },
        #[cfg(feature = "v1")]
        ContractVersion {
            contract: "billing",
            major: "v1",
            version: shared::billing::v1::VERSION,
        },
        #[cfg(feature = "v2")]
        ContractVersion {
            contract: "billing",
            major: "v2",
            version: shared::billing::v2::VERSION,
        },
        ContractVersion {
            contract: "notification",
            major: "v1",
            version: shared::notification::v1::VERSION,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_list_every_feature_compiled_in() {
        for version in BILLING_VERSIONS {
            assert!(FEATURES.contains(version), "{version}");
        }
        assert_eq!(FEATURES.contains(&"faults"), cfg!(feature = "faults"));
        // Every feature the manifest declares (but `default`) is listed here when compiled.
        let manifest = include_str!("../Cargo.toml");
        let declared: Vec<&str> = manifest
            .split("[features]")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once('=').map(|(name, _)| name.trim()))
            .filter(|name| !name.is_empty() && !name.starts_with('#') && *name != "default")
            .collect();
        assert_eq!(declared, ["v1", "v2", "faults"]);
        assert_eq!(
            BILLING_VERSIONS.contains(&"v1"),
            cfg!(feature = "v1"),
            "v1 listed iff compiled"
        );
        assert_eq!(BILLING_VERSIONS.contains(&"v2"), cfg!(feature = "v2"));
    }

    #[test]
    fn build_time_values_are_present() {
        assert!(RUSTC_VERSION.starts_with("rustc ") || RUSTC_VERSION == "unknown");
        assert!(!GIT_REVISION.is_empty());
        assert_eq!(CRATE_VERSION, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn report_names_every_contract_served() {
        let report = report();
        let has = |contract: &str, major: &str, version: &str| {
            report
                .contracts
                .iter()
                .any(|c| c.contract == contract && c.major == major && c.version == version)
        };
        assert!(has("auth", "v1", shared::auth::v1::VERSION));
        assert!(has("notification", "v1", shared::notification::v1::VERSION));
        assert_eq!(
            has("billing", "v1", shared::billing::v1::VERSION),
            cfg!(feature = "v1")
        );
        assert_eq!(
            has("billing", "v2", shared::billing::v2::VERSION),
            cfg!(feature = "v2")
        );
    }
}
