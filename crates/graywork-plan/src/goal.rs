//! Upgrade goals: what `upgrade-plan` plans for, parsed from `NAME@VERSION`-style arguments.

use std::fmt;

use semver::Version;

/// What an upgrade plan moves the workspace to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goal {
    /// Move a contract's consumers to a new major (`--contract billing@2`).
    Contract {
        /// The contract name.
        name: String,
        /// The major to move to.
        major: u64,
    },
    /// Bump a workspace member (`--crate shared@0.4.0`).
    Crate {
        /// The member's package name.
        name: String,
        /// The new version.
        version: Version,
    },
    /// Upgrade an external dependency across the members that use it (`--dep serde@2`).
    Dep {
        /// The dependency's package name.
        name: String,
        /// The new version (missing minor and patch read as 0).
        version: Version,
    },
    /// Move every member to a toolchain (`--toolchain 1.96`, `--toolchain nightly-2026-08-18`).
    Toolchain {
        /// The toolchain as given, for `cargo +VERSION`.
        text: String,
        /// The toolchain as a version; `None` for a dated nightly.
        version: Option<Version>,
    },
    /// Move every member to an edition (`--edition 2024`).
    Edition {
        /// The edition year.
        edition: u16,
    },
}

/// The editions cargo knows.
pub const EDITIONS: [u16; 4] = [2015, 2018, 2021, 2024];

impl Goal {
    /// Parses `--contract NAME@MAJOR` (`billing@2` or `billing@v2`).
    pub fn contract(text: &str) -> anyhow::Result<Goal> {
        let (name, major_text) = split_at_sign("--contract", text, "NAME@MAJOR")?;
        let digits = major_text.strip_prefix('v').unwrap_or(major_text);
        let major: u64 = digits.parse().map_err(|_| {
            anyhow::anyhow!(
                "--contract {text}: `{major_text}` is not a major version (expected a number such as `2`)"
            )
        })?;
        if major == 0 {
            anyhow::bail!("--contract {text}: contract majors start at 1");
        }
        Ok(Goal::Contract {
            name: name.to_owned(),
            major,
        })
    }

    /// Parses `--crate NAME@VERSION`; the version must be full semver (`0.4.0`).
    pub fn krate(text: &str) -> anyhow::Result<Goal> {
        let (name, version_text) = split_at_sign("--crate", text, "NAME@VERSION")?;
        let version = Version::parse(version_text).map_err(|error| {
            anyhow::anyhow!(
                "--crate {text}: `{version_text}` is not a semver version ({error}); write it in full, for example `{name}@0.4.0`"
            )
        })?;
        Ok(Goal::Crate {
            name: name.to_owned(),
            version,
        })
    }

    /// Parses `--dep NAME@VERSION`; `2` and `2.1` read as `2.0.0` and `2.1.0`.
    pub fn dep(text: &str) -> anyhow::Result<Goal> {
        let (name, version_text) = split_at_sign("--dep", text, "NAME@VERSION")?;
        let version = parse_partial_version(version_text).ok_or_else(|| {
            anyhow::anyhow!("--dep {text}: `{version_text}` is not a semver version")
        })?;
        Ok(Goal::Dep {
            name: name.to_owned(),
            version,
        })
    }

    /// Parses `--toolchain VERSION` (`1.96` or `1.96.0`) or a dated nightly
    /// (`nightly-2026-08-18`).
    pub fn toolchain(text: &str) -> anyhow::Result<Goal> {
        if nightly_date(text).is_some() {
            return Ok(Goal::Toolchain {
                text: text.to_owned(),
                version: None,
            });
        }
        let version = parse_partial_version(text).ok_or_else(|| {
            anyhow::anyhow!(
                "--toolchain {text}: `{text}` is not a toolchain (expected, for example, `1.96`, `1.96.0` or `nightly-2026-08-18`)"
            )
        })?;
        Ok(Goal::Toolchain {
            text: text.to_owned(),
            version: Some(version),
        })
    }

    /// Parses `--edition EDITION`.
    pub fn edition(text: &str) -> anyhow::Result<Goal> {
        let known = EDITIONS.map(|e| e.to_string()).join(", ");
        let edition: u16 = text
            .parse()
            .ok()
            .filter(|e| EDITIONS.contains(e))
            .ok_or_else(|| {
                anyhow::anyhow!("--edition {text}: unknown edition (known editions: {known})")
            })?;
        Ok(Goal::Edition { edition })
    }

    /// The goal's kind, as the JSON output names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Goal::Contract { .. } => "contract",
            Goal::Crate { .. } => "crate",
            Goal::Dep { .. } => "dep",
            Goal::Toolchain { .. } => "toolchain",
            Goal::Edition { .. } => "edition",
        }
    }

    /// The goal's target as written on the command line, for example `billing@2`.
    pub fn target(&self) -> String {
        match self {
            Goal::Contract { name, major } => format!("{name}@{major}"),
            Goal::Crate { name, version } | Goal::Dep { name, version } => {
                format!("{name}@{version}")
            }
            Goal::Toolchain { text, .. } => text.clone(),
            Goal::Edition { edition } => edition.to_string(),
        }
    }
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Goal::Contract { name, major } => {
                write!(f, "move the consumers of contract {name} to v{major}")
            }
            Goal::Crate { name, version } => write!(f, "bump {name} to {version}"),
            Goal::Dep { name, version } => write!(f, "upgrade dependency {name} to {version}"),
            Goal::Toolchain { text, .. } => write!(f, "move every member to toolchain {text}"),
            Goal::Edition { edition } => write!(f, "move every member to edition {edition}"),
        }
    }
}

fn split_at_sign<'a>(flag: &str, text: &'a str, shape: &str) -> anyhow::Result<(&'a str, &'a str)> {
    match text.split_once('@') {
        Some((name, version)) if !name.is_empty() && !version.is_empty() => Ok((name, version)),
        _ => anyhow::bail!("{flag} {text}: expected {shape}"),
    }
}

/// The date of a dated nightly toolchain (`nightly-2026-08-18` gives `2026-08-18`), so two
/// nightlies compare by date as text.
pub fn nightly_date(text: &str) -> Option<&str> {
    let date = text.strip_prefix("nightly-")?;
    let bytes = date.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(position, b)| position == 4 || position == 7 || b.is_ascii_digit());
    shaped.then_some(date)
}

/// Parses `2`, `2.1` or `2.1.3` (and full semver) as a version, padding missing parts with 0.
pub fn parse_partial_version(text: &str) -> Option<Version> {
    if let Ok(version) = Version::parse(text) {
        return Some(version);
    }
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty()
        || parts.len() > 2
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let padded = match parts.len() {
        1 => format!("{text}.0.0"),
        _ => format!("{text}.0"),
    };
    Version::parse(&padded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(result: anyhow::Result<Goal>) -> String {
        format!("{:#}", result.unwrap_err())
    }

    #[test]
    fn parses_goals() {
        assert_eq!(
            Goal::contract("billing@v2").unwrap(),
            Goal::Contract {
                name: "billing".into(),
                major: 2
            }
        );
        assert_eq!(
            Goal::krate("shared@0.4.0").unwrap().target(),
            "shared@0.4.0"
        );
        assert_eq!(Goal::dep("serde@2").unwrap().target(), "serde@2.0.0");
        assert_eq!(
            Goal::toolchain("1.96").unwrap(),
            Goal::Toolchain {
                text: "1.96".into(),
                version: Some(Version::new(1, 96, 0))
            }
        );
        assert_eq!(
            Goal::toolchain("nightly-2026-08-18").unwrap(),
            Goal::Toolchain {
                text: "nightly-2026-08-18".into(),
                version: None
            }
        );
        assert!(Goal::toolchain("nightly-2026-8-18").is_err());
        assert_eq!(Goal::edition("2021").unwrap().kind(), "edition");
    }

    #[test]
    fn rejects_bad_goals() {
        assert_eq!(
            error(Goal::contract("billing")),
            "--contract billing: expected NAME@MAJOR"
        );
        assert_eq!(
            error(Goal::contract("billing@two")),
            "--contract billing@two: `two` is not a major version (expected a number such as `2`)"
        );
        assert_eq!(
            error(Goal::contract("billing@0")),
            "--contract billing@0: contract majors start at 1"
        );
        assert!(
            error(Goal::krate("shared@0.4"))
                .starts_with("--crate shared@0.4: `0.4` is not a semver version")
        );
        assert_eq!(
            error(Goal::dep("serde@x.1")),
            "--dep serde@x.1: `x.1` is not a semver version"
        );
        assert_eq!(error(Goal::dep("@1")), "--dep @1: expected NAME@VERSION");
        assert!(
            error(Goal::toolchain("stable")).starts_with("--toolchain stable: `stable` is not")
        );
        assert_eq!(
            error(Goal::edition("2023")),
            "--edition 2023: unknown edition (known editions: 2015, 2018, 2021, 2024)"
        );
    }

    #[test]
    fn pads_partial_versions() {
        assert_eq!(parse_partial_version("2"), Some(Version::new(2, 0, 0)));
        assert_eq!(parse_partial_version("1.96"), Some(Version::new(1, 96, 0)));
        assert_eq!(
            parse_partial_version("1.2.3-rc.1").unwrap().pre.as_str(),
            "rc.1"
        );
        for bad in ["", "1.", ".1", "a", "1.2.3.4", "1.x"] {
            assert_eq!(parse_partial_version(bad), None, "{bad}");
        }
    }
}
