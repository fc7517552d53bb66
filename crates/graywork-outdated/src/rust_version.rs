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
    let manifest = workspace.root.as_std_path().join("Cargo.toml");
    Ok((resolver(&manifest)?.as_deref() == Some("3"))
        .then(|| format!("`resolver = \"3\"` in {}", manifest.display())))
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

/// The resolver the root manifest selects: `[workspace] resolver`, else `[package] resolver`,
/// else the one the root package's edition implies (a virtual workspace without one uses 1).
fn resolver(manifest: &Path) -> Result<Option<String>, OutdatedError> {
    let text = std::fs::read_to_string(manifest).map_err(|source| OutdatedError::Read {
        path: manifest.into(),
        source,
    })?;
    let table: toml::Table =
        text.parse()
            .map_err(|error: toml::de::Error| OutdatedError::Toml {
                path: manifest.into(),
                message: error.to_string().trim().to_owned(),
            })?;
    let string = |keys: &[&str]| -> Option<String> {
        let (first, rest) = keys.split_first()?;
        let mut value = table.get(*first)?;
        for key in rest {
            value = value.get(key)?;
        }
        value.as_str().map(str::to_owned)
    };
    if let Some(resolver) =
        string(&["workspace", "resolver"]).or_else(|| string(&["package", "resolver"]))
    {
        return Ok(Some(resolver));
    }
    if table.get("package").is_none() {
        return Ok(None);
    }
    // `edition.workspace = true` inherits `[workspace.package] edition`.
    let edition = string(&["package", "edition"])
        .or_else(|| string(&["workspace", "package", "edition"]))
        .unwrap_or_else(|| "2015".to_owned());
    Ok(Some(
        match edition.as_str() {
            "2015" | "2018" => "1",
            "2021" => "2",
            _ => "3",
        }
        .to_owned(),
    ))
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

    fn resolver_of(manifest: &str) -> Option<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        std::fs::write(&path, manifest).unwrap();
        resolver(&path).unwrap()
    }

    #[test]
    fn the_resolver_is_the_workspace_s_then_the_package_s_then_the_edition_s() {
        assert_eq!(
            resolver_of(
                "[workspace]\nresolver = \"3\"\n[package]\nname = \"a\"\nresolver = \"2\"\n"
            )
            .as_deref(),
            Some("3")
        );
        assert_eq!(
            resolver_of("[package]\nname = \"a\"\nresolver = \"2\"\nedition = \"2024\"\n")
                .as_deref(),
            Some("2")
        );
        assert_eq!(
            resolver_of("[package]\nname = \"a\"\nedition = \"2024\"\n").as_deref(),
            Some("3")
        );
        assert_eq!(
            resolver_of(
                "[workspace.package]\nedition = \"2024\"\n[package]\nname = \"a\"\nedition.workspace = true\n"
            )
            .as_deref(),
            Some("3")
        );
        assert_eq!(
            resolver_of("[package]\nname = \"a\"\nedition = \"2021\"\n").as_deref(),
            Some("2")
        );
        assert_eq!(
            resolver_of("[package]\nname = \"a\"\n").as_deref(),
            Some("1")
        );
        // A virtual workspace does not take its members' editions.
        assert_eq!(resolver_of("[workspace]\nmembers = [\"a\"]\n"), None);
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
