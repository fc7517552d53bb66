//! A checked crate's `Cargo.toml`: its name, version and Cargo features, and the cfg
//! environment (`--features`, `--all-features`, `--cfg`) its sources are read under.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;
use semver::Version;

use crate::surface::{CfgEnv, FeatureDef, Location};
use graywork_workspace::features::closure;

/// Which build of the crate is checked, as `cargo` flags would choose it. By default, the
/// crate's default features.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// `--features`: features to enable besides the default ones.
    pub features: Vec<String>,
    /// `--all-features`.
    pub all_features: bool,
    /// `--cfg`: cfg flags (`NAME` or `KEY="VALUE"`) that hold.
    pub cfgs: Vec<String>,
}

/// What the checker reads from a crate's `Cargo.toml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrateManifest {
    /// `package.name`.
    pub name: Option<String>,
    /// `package.version`, when written literally.
    pub version: Option<Version>,
    /// `[features]` plus the implicit feature of every optional dependency that no `dep:`
    /// entry names: feature -> what it enables.
    pub features: BTreeMap<String, Vec<String>>,
    /// Each feature's line in the manifest.
    pub lines: BTreeMap<String, usize>,
    /// The line of `package.version` (1 when it is not written in `[package]`).
    pub version_line: usize,
}

impl CrateManifest {
    /// Reads `dir/Cargo.toml`; `None` when there is none.
    pub fn read(dir: &Path) -> anyhow::Result<Option<CrateManifest>> {
        let path = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        CrateManifest::parse(&text)
            .with_context(|| format!("invalid {}", path.display()))
            .map(Some)
    }

    /// Parses a manifest's text.
    pub fn parse(text: &str) -> anyhow::Result<CrateManifest> {
        let table: toml::Table = text.parse()?;
        let package = table.get("package").and_then(toml::Value::as_table);
        let name = package
            .and_then(|p| p.get("name"))
            .and_then(toml::Value::as_str)
            .map(str::to_string);
        let version = match package.and_then(|p| p.get("version")) {
            Some(toml::Value::String(text)) => Some(
                Version::parse(text)
                    .with_context(|| format!("invalid package.version \"{text}\""))?,
            ),
            _ => None,
        };
        let mut features: BTreeMap<String, Vec<String>> = BTreeMap::new();
        if let Some(table) = table.get("features").and_then(toml::Value::as_table) {
            for (feature, enables) in table {
                let enables = enables
                    .as_array()
                    .with_context(|| format!("features.{feature}: expected an array"))?
                    .iter()
                    .filter_map(toml::Value::as_str)
                    .map(str::to_string)
                    .collect();
                features.insert(feature.clone(), enables);
            }
        }
        let named_with_dep: BTreeSet<String> = features
            .values()
            .flatten()
            .filter_map(|entry| entry.strip_prefix("dep:"))
            .map(str::to_string)
            .collect();
        for dependency in optional_dependencies(&table) {
            if !named_with_dep.contains(&dependency) && !features.contains_key(&dependency) {
                features.insert(dependency.clone(), vec![format!("dep:{dependency}")]);
            }
        }
        let lines = features
            .keys()
            .map(|feature| (feature.clone(), line_of(text, feature)))
            .collect();
        Ok(CrateManifest {
            name,
            version,
            features,
            lines,
            version_line: package_key_line(text, "version"),
        })
    }

    /// The features a build with `options` turns on.
    pub fn enabled(&self, options: &BuildOptions) -> BTreeSet<String> {
        if options.all_features {
            return self.features.keys().cloned().collect();
        }
        closure(
            &self.features,
            std::iter::once("default").chain(options.features.iter().map(String::as_str)),
        )
    }

    /// Every feature but `default`, as surface: what it enables and whether it is default.
    pub fn feature_defs(&self) -> BTreeMap<String, FeatureDef> {
        let defaults = closure(&self.features, ["default"]);
        self.features
            .iter()
            .filter(|(name, _)| name.as_str() != "default")
            .map(|(name, enables)| {
                (
                    name.clone(),
                    FeatureDef {
                        // `lines` has an entry for every feature (built from the same keys);
                        // line 1 is the fallback all the same.
                        loc: Location::new(
                            "Cargo.toml",
                            self.lines.get(name).copied().unwrap_or(1),
                        ),
                        enables: enables.iter().cloned().collect(),
                        default: defaults.contains(name),
                    },
                )
            })
            .collect()
    }
}

/// The cfg environment of a build: its features when the manifest is known, and the flags.
pub(crate) fn cfg_env(manifest: Option<&CrateManifest>, options: &BuildOptions) -> CfgEnv {
    let mut env = CfgEnv {
        features: manifest.map(|m| m.enabled(options)),
        ..CfgEnv::default()
    };
    for flag in &options.cfgs {
        env.add_flag(flag);
    }
    env
}

/// Names of optional dependencies, in every dependency table (target-specific ones too).
fn optional_dependencies(table: &toml::Table) -> Vec<String> {
    let mut tables: Vec<&toml::Table> = Vec::new();
    if let Some(deps) = table.get("dependencies").and_then(toml::Value::as_table) {
        tables.push(deps);
    }
    if let Some(targets) = table.get("target").and_then(toml::Value::as_table) {
        for target in targets.values().filter_map(toml::Value::as_table) {
            if let Some(deps) = target.get("dependencies").and_then(toml::Value::as_table) {
                tables.push(deps);
            }
        }
    }
    tables
        .into_iter()
        .flat_map(|deps| deps.iter())
        .filter(|(_, spec)| {
            spec.get("optional")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false)
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// The 1-based line of `key = ` inside the `[package]` table (1 when it is not there).
fn package_key_line(text: &str, key: &str) -> usize {
    let mut in_package = false;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.starts_with('[') {
            in_package = line.trim_end() == "[package]";
            continue;
        }
        if in_package
            && line
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return index + 1;
        }
    }
    1
}

/// The 1-based line where `key = ` is first written (1 when it cannot be found).
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            let rest = line
                .strip_prefix(key)
                .or_else(|| line.strip_prefix(&format!("\"{key}\"")));
            let key_line = rest.is_some_and(|rest| rest.trim_start().starts_with('='));
            // An optional dependency written as its own table: `[dependencies.NAME]`.
            let table_line =
                line.starts_with('[') && line.trim_end().ends_with(&format!(".{key}]"));
            key_line || table_line
        })
        .map_or(1, |index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_line_is_the_package_tables() {
        let text =
            "[dependencies.x]\nversion = \"1\"\n\n[package]\nname = \"a\"\nversion = \"0.1.0\"\n";
        assert_eq!(CrateManifest::parse(text).unwrap().version_line, 6);
        assert_eq!(CrateManifest::parse(MANIFEST).unwrap().version_line, 3);
    }

    const MANIFEST: &str = r#"[package]
name = "demo"
version = "1.2.0"

[features]
default = ["std"]
std = ["alloc"]
alloc = []
serde = ["dep:serde"]

[dependencies]
serde = { version = "1", optional = true }
log = { version = "0.4", optional = true }
"#;

    #[test]
    fn reads_features_and_implicit_optional_dependency_features() {
        let manifest = CrateManifest::parse(MANIFEST).unwrap();
        assert_eq!(manifest.name.as_deref(), Some("demo"));
        assert_eq!(manifest.version, Some(Version::new(1, 2, 0)));
        let names: Vec<&str> = manifest.features.keys().map(String::as_str).collect();
        assert_eq!(names, ["alloc", "default", "log", "serde", "std"]);
        let defs = manifest.feature_defs();
        assert!(defs["std"].default && defs["alloc"].default && !defs["serde"].default);
        assert_eq!(defs["std"].loc.line, 7);
        let tabled = CrateManifest::parse(
            "[package]\nname = \"t\"\n\n[dependencies.log]\nversion = \"0.4\"\noptional = true\n",
        )
        .unwrap();
        assert_eq!(tabled.feature_defs()["log"].loc.line, 4);
    }

    #[test]
    fn enabled_features_follow_the_flags() {
        let manifest = CrateManifest::parse(MANIFEST).unwrap();
        let default = manifest.enabled(&BuildOptions::default());
        assert_eq!(
            default.into_iter().collect::<Vec<_>>(),
            ["alloc", "default", "std"]
        );
        let with_serde = manifest.enabled(&BuildOptions {
            features: vec!["serde".to_string()],
            ..BuildOptions::default()
        });
        assert!(with_serde.contains("serde") && with_serde.contains("std"));
        let all = manifest.enabled(&BuildOptions {
            all_features: true,
            ..BuildOptions::default()
        });
        assert_eq!(all.len(), 5);
    }

    #[test]
    fn bad_version_is_an_error() {
        let err = CrateManifest::parse("[package]\nversion = \"1.x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid package.version \"1.x\""), "{err}");
    }
}
