//! `--baseline-version`: a published version of a crate as the baseline, taken from cargo's own
//! registry cache when it is there, else fetched by cargo itself the way it fetches a dependency.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, anyhow, bail};
use semver::Version;

/// The directory of `name` `version`'s sources, unpacked by cargo under its registry cache.
///
/// Looks in `$CARGO_HOME/registry/src/*/NAME-VERSION` first; otherwise asks cargo to resolve a
/// throwaway package that depends on `NAME = "=VERSION"` (`cargo metadata`, offline first),
/// which downloads and unpacks it there. Errors name the crate and version and say why.
pub fn fetch_published(name: &str, version: &Version) -> anyhow::Result<PathBuf> {
    let cargo_home = cargo_home()?;
    if let Some(found) = find_unpacked(&cargo_home, name, version) {
        return Ok(found);
    }
    let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
    write_scratch_package(scratch.path(), name, version)?;
    let mut errors = Vec::new();
    for offline in [true, false] {
        match cargo_metadata(scratch.path(), offline) {
            Ok(json) => match manifest_dir_in(&json, name, version) {
                Some(dir) => return Ok(dir),
                None => errors.push(format!(
                    "cargo resolved the dependency but listed no package `{name}` {version}"
                )),
            },
            Err(err) => errors.push(err.to_string()),
        }
    }
    bail!(
        "cannot fetch `{name}` {version} from the registry: {}",
        errors.last().map_or("cargo failed", String::as_str)
    )
}

/// The directory of `name` `version`'s sources when cargo's registry cache already holds
/// them; nothing is fetched.
pub fn cached_published(name: &str, version: &Version) -> Option<PathBuf> {
    find_unpacked(&cargo_home().ok()?, name, version)
}

/// Cargo's home, or an error saying why it cannot be found.
fn cargo_home() -> anyhow::Result<PathBuf> {
    graywork_workspace::cargo_home()
        .ok_or_else(|| anyhow!("cannot find cargo's home: neither CARGO_HOME nor HOME is set"))
}

/// `registry/src/<index>/NAME-VERSION` with a `Cargo.toml`, in any registry index. Build
/// metadata does not tell versions apart (semver gives `1.2.2` and `1.2.2+spec-1.1.0` one
/// precedence, and cargo's `=1.2.2` takes either): without it in `version`, a directory with
/// it is found too (`toml-1.2.2+spec-1.1.0`).
fn find_unpacked(cargo_home: &Path, name: &str, version: &Version) -> Option<PathBuf> {
    let indexes = std::fs::read_dir(cargo_home.join("registry").join("src")).ok()?;
    let mut candidates: Vec<(bool, PathBuf)> = Vec::new();
    for index in indexes.flatten() {
        let exact = index.path().join(format!("{name}-{version}"));
        if exact.join("Cargo.toml").is_file() {
            candidates.push((false, exact));
            continue;
        }
        if !version.build.is_empty() {
            continue;
        }
        let prefix = format!("{name}-{version}+");
        let Ok(entries) = std::fs::read_dir(index.path()) else {
            continue;
        };
        candidates.extend(
            entries
                .flatten()
                .filter(|entry| entry.file_name().to_string_lossy().starts_with(&prefix))
                .map(|entry| (true, entry.path()))
                .filter(|(_, dir)| dir.join("Cargo.toml").is_file()),
        );
    }
    // The exact name first, then by name.
    candidates.sort();
    candidates.into_iter().next().map(|(_, dir)| dir)
}

fn write_scratch_package(dir: &Path, name: &str, version: &Version) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(dir.join("src").join("lib.rs"), "")?;
    // Its own `[workspace]`, so no enclosing workspace claims it.
    let manifest = format!(
        "[package]\nname = \"graywork-baseline-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n[dependencies]\n{name} = \"={version}\"\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest)
        .with_context(|| format!("cannot write {}", dir.display()))
}

/// `cargo metadata` of the scratch package in `dir`, run in `dir`: rustup picks the toolchain
/// of cargo and of the `rustc` cargo asks from the directory a program runs in, and the
/// directory this one runs in may pin a toolchain that is not installed. Fetching sources
/// needs none in particular.
fn cargo_metadata(dir: &Path, offline: bool) -> anyhow::Result<serde_json::Value> {
    let cargo = graywork_workspace::cargo_program();
    let mut command = Command::new(&cargo);
    command
        .current_dir(dir)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(dir.join("Cargo.toml"));
    if offline {
        command.arg("--offline");
    }
    let output = command
        .output()
        .with_context(|| format!("cannot run {}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // cargo's first `error:` line says what failed; the last lines only say where.
        let reason = stderr
            .lines()
            .find_map(|line| line.trim().strip_prefix("error: "))
            .or_else(|| stderr.lines().rev().find(|line| !line.trim().is_empty()))
            .unwrap_or("cargo metadata failed")
            .trim()
            .to_string();
        bail!("{reason}");
    }
    serde_json::from_slice(&output.stdout).context("cargo metadata printed invalid JSON")
}

/// The directory of package `name` `version` in `cargo metadata` output.
/// (The version compared by precedence: cargo resolves `=1.2.2` to `1.2.2+spec-1.1.0`.)
fn manifest_dir_in(json: &serde_json::Value, name: &str, version: &Version) -> Option<PathBuf> {
    json["packages"].as_array()?.iter().find_map(|package| {
        let listed = package["version"]
            .as_str()
            .and_then(|text| Version::parse(text).ok())?;
        (package["name"].as_str() == Some(name)
            && listed.cmp_precedence(version) == std::cmp::Ordering::Equal)
            .then(|| package["manifest_path"].as_str())
            .flatten()
            .and_then(|path| Path::new(path).parent().map(Path::to_path_buf))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `NAME-VERSION` unpacked in a registry index of the cargo home `home`, as cargo unpacks
    /// it: its directory.
    fn unpacked(home: &Path, name: &str, version: &str) -> PathBuf {
        let dir = home
            .join("registry/src/index.example-0123")
            .join(format!("{name}-{version}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\n"),
        )
        .unwrap();
        dir
    }

    #[test]
    fn finds_an_unpacked_crate_in_any_registry_index() {
        let home = tempfile::tempdir().unwrap();
        let dir = unpacked(home.path(), "demo", "1.2.0");
        let version = Version::new(1, 2, 0);
        assert_eq!(find_unpacked(home.path(), "demo", &version), Some(dir));
        assert_eq!(
            find_unpacked(home.path(), "demo", &Version::new(1, 3, 0)),
            None
        );
        assert_eq!(find_unpacked(home.path(), "other", &version), None);
    }

    #[test]
    fn reads_the_package_directory_from_metadata() {
        let json = serde_json::json!({"packages": [
            {"name": "demo", "version": "1.2.0", "manifest_path": "/reg/demo-1.2.0/Cargo.toml"},
            {"name": "demo", "version": "1.3.0", "manifest_path": "/reg/demo-1.3.0/Cargo.toml"},
        ]});
        assert_eq!(
            manifest_dir_in(&json, "demo", &Version::new(1, 2, 0)),
            Some(PathBuf::from("/reg/demo-1.2.0"))
        );
        assert_eq!(manifest_dir_in(&json, "demo", &Version::new(2, 0, 0)), None);
        // Build metadata does not tell versions apart.
        let json = serde_json::json!({"packages": [
            {"name": "toml", "version": "1.2.2+spec-1.1.0", "manifest_path": "/reg/toml-1.2.2+spec-1.1.0/Cargo.toml"},
        ]});
        assert_eq!(
            manifest_dir_in(&json, "toml", &Version::new(1, 2, 2)),
            Some(PathBuf::from("/reg/toml-1.2.2+spec-1.1.0"))
        );
    }

    #[test]
    fn finds_an_unpacked_crate_whose_version_has_build_metadata() {
        let home = tempfile::tempdir().unwrap();
        let dir = unpacked(home.path(), "toml", "1.2.2+spec-1.1.0");
        let full = Version::parse("1.2.2+spec-1.1.0").unwrap();
        assert_eq!(find_unpacked(home.path(), "toml", &full), Some(dir.clone()));
        assert_eq!(
            find_unpacked(home.path(), "toml", &Version::new(1, 2, 2)),
            Some(dir)
        );
        // Other build metadata is another spelling, not this directory.
        let other = Version::parse("1.2.2+spec-1.0.0").unwrap();
        assert_eq!(find_unpacked(home.path(), "toml", &other), None);
        assert_eq!(
            find_unpacked(home.path(), "toml", &Version::new(1, 2, 3)),
            None
        );
    }
}
