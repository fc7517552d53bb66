//! Cargo's Rust-version-aware resolution: whether the workspace asks for it, and the Rust
//! version it prefers dependency versions for.
//!
//! Cargo honours `rust-version` when resolving (`incompatible-rust-versions = "fallback"`)
//! when the environment (`CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS`) or the closest cargo
//! configuration (`[resolver] incompatible-rust-versions`) says so, and otherwise when the
//! workspace uses `resolver = "3"` (written in `[workspace]` or `[package]`, or implied by a
//! root package's edition 2024). The version it prefers is the lowest `rust-version` among the
//! workspace members, else the installed compiler's. Among the versions a requirement admits,
//! it then takes the newest whose `rust-version` is at most that, and the newest overall only
//! when none is.

use std::path::Path;

use graywork_workspace::Workspace;
use semver::Version;
use serde::Serialize;

use crate::config::CargoConfig;
use crate::error::OutdatedError;
use crate::index::partial_version;

/// The environment variable that overrides the configuration.
pub const ENV: &str = "CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS";

/// The Rust version the resolver prefers dependency versions for, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RustVersionPolicy {
    /// The version.
    pub version: Version,
    /// Where the version comes from: the member with the lowest `rust-version`, or the
    /// installed compiler.
    pub version_from: String,
    /// What turned the preference on.
    pub enabled_by: String,
}

/// The policy cargo resolves `workspace` with, or `None` when it ignores `rust-version`.
/// `installed_rustc` is asked only when no member declares a `rust-version`.
pub fn policy(
    workspace: &Workspace,
    config: &CargoConfig,
    env: &dyn Fn(&str) -> Option<String>,
    installed_rustc: &dyn Fn(&Path) -> Option<Version>,
) -> Result<Option<RustVersionPolicy>, OutdatedError> {
    let Some(enabled_by) = enabled_by(workspace, config, env)? else {
        return Ok(None);
    };
    let lowest = workspace
        .members
        .iter()
        .filter_map(|member| Some((member.rust_version.as_ref()?, &member.name)))
        .min();
    let (version, version_from) = match lowest {
        Some((version, member)) => (
            version.clone(),
            format!("the lowest rust-version among the members (`{member}`)"),
        ),
        None => match installed_rustc(workspace.root.as_std_path()) {
            Some(version) => (
                version,
                "the installed rustc (no member declares a rust-version)".to_owned(),
            ),
            // Cargo itself cannot resolve without a compiler; nothing to prefer for.
            None => return Ok(None),
        },
    };
    Ok(Some(RustVersionPolicy {
        version,
        version_from,
        enabled_by,
    }))
}

/// What turns the preference on, or `None` when cargo allows incompatible versions.
fn enabled_by(
    workspace: &Workspace,
    config: &CargoConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, OutdatedError> {
    if let Some(value) = env(ENV) {
        return setting(&value, &format!("`{ENV}`"));
    }
    if let Some((value, path)) = config.incompatible_rust_versions()? {
        let place = format!(
            "`resolver.incompatible-rust-versions` in {}",
            path.display()
        );
        return setting(value, &place);
    }
    let manifest = workspace.root.join("Cargo.toml");
    Ok((resolver(workspace) == "3").then(|| format!("`resolver = \"3\"` in {manifest}")))
}

fn setting(value: &str, place: &str) -> Result<Option<String>, OutdatedError> {
    match value {
        "fallback" => Ok(Some(format!(
            "`incompatible-rust-versions = \"fallback\"` ({place})"
        ))),
        "allow" => Ok(None),
        other => Err(OutdatedError::Source {
            message: format!("{place} is `{other}`; cargo accepts `allow` or `fallback`"),
        }),
    }
}

/// The resolver the workspace uses: the root manifest's `resolver`, else the one the root
/// package's edition implies (read from the workspace model, inheritance resolved); a virtual
/// workspace that writes none uses 1, whatever its members' editions.
fn resolver(workspace: &Workspace) -> String {
    if let Some(declared) = &workspace.declarations.resolver {
        return declared.value.clone();
    }
    let root = workspace.root.join("Cargo.toml");
    let edition = workspace
        .members
        .iter()
        .find(|member| member.manifest_path == root)
        .map(|member| member.edition.as_str());
    implied_resolver(edition).to_owned()
}

/// The resolver a root package's edition implies (`None`: a virtual workspace).
fn implied_resolver(edition: Option<&str>) -> &'static str {
    match edition {
        None | Some("2015" | "2018") => "1",
        Some("2021") => "2",
        Some(_) => "3",
    }
}

/// Whether a version declaring `rust_version` builds with `policy`'s version: a version that
/// declares none is taken as compatible, as cargo takes it.
pub fn compatible_with(policy: &RustVersionPolicy, rust_version: Option<&Version>) -> bool {
    rust_version.is_none_or(|required| required <= &policy.version)
}

/// The installed compiler's version ([`graywork_workspace::rustc_version`]);
/// `1.95.0-nightly` counts as 1.95.0, as cargo compares it.
pub fn installed_rustc(root: &Path) -> Option<Version> {
    let version = graywork_workspace::rustc_version(root)?;
    partial_version(version.split('-').next()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edition_implies_its_resolver_and_a_virtual_workspace_uses_1() {
        assert_eq!(implied_resolver(Some("2024")), "3");
        assert_eq!(implied_resolver(Some("2021")), "2");
        assert_eq!(implied_resolver(Some("2018")), "1");
        assert_eq!(implied_resolver(Some("2015")), "1");
        assert_eq!(implied_resolver(None), "1");
    }

    #[test]
    fn a_setting_is_fallback_or_allow_and_anything_else_is_refused() {
        assert!(setting("fallback", "x").unwrap().is_some());
        assert_eq!(setting("allow", "x").unwrap(), None);
        let error = setting("newest", "`resolver.incompatible-rust-versions` in c.toml")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`resolver.incompatible-rust-versions` in c.toml is `newest`"),
            "{error}"
        );
    }

    #[test]
    fn a_version_without_a_rust_version_builds_with_any() {
        let policy = RustVersionPolicy {
            version: Version::new(1, 85, 0),
            version_from: String::new(),
            enabled_by: String::new(),
        };
        assert!(compatible_with(&policy, None));
        assert!(compatible_with(&policy, Some(&Version::new(1, 85, 0))));
        assert!(!compatible_with(&policy, Some(&Version::new(1, 86, 0))));
    }
}
