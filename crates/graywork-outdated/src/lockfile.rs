//! `Cargo.lock`: which version of each dependency a member is locked to, and whether that
//! version comes from a registry or was redirected elsewhere (a `[patch]` to a path or git).

use std::collections::HashMap;
use std::path::Path;

use semver::{Version, VersionReq};
use serde::Deserialize;

use crate::error::OutdatedError;

/// The packages of a `Cargo.lock`.
#[derive(Debug, Clone, Default)]
pub struct Lockfile {
    packages: Vec<LockedPackage>,
    by_name: HashMap<String, Vec<usize>>,
}

/// One `[[package]]` of the lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    /// Its name.
    pub name: String,
    /// Its exact version.
    pub version: Version,
    /// Its source (`registry+…`, `sparse+…`, `git+…`), `None` for a path package.
    pub source: Option<String>,
    /// Its dependencies as the lock writes them: `name`, `name version` or
    /// `name version (source)`.
    pub dependencies: Vec<String>,
}

/// What a member's dependency is locked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locked {
    /// A version from a registry.
    Registry {
        /// The locked version.
        version: Version,
        /// The registry as the lock file names it (`registry+URL` or `sparse+URL`).
        source: String,
    },
    /// A version from a path or git source, which a registry update does not move.
    Elsewhere {
        /// The locked version.
        version: Version,
        /// The source, `None` for a path.
        source: Option<String>,
    },
    /// The lock file does not list it (it is older than the manifest).
    Missing,
}

#[derive(Deserialize)]
struct RawLockfile {
    #[serde(default)]
    package: Vec<RawPackage>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

impl Lockfile {
    /// Reads the workspace's `Cargo.lock`; a missing file is [`OutdatedError::NoLockfile`].
    pub fn read(path: &Path) -> Result<Lockfile, OutdatedError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                OutdatedError::NoLockfile {
                    path: path.to_path_buf(),
                }
            } else {
                OutdatedError::Read {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        Lockfile::parse(&text, path)
    }

    /// Parses lock file text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Lockfile, OutdatedError> {
        let toml_error = |message: String| OutdatedError::Toml {
            path: path.to_path_buf(),
            message,
        };
        let raw: RawLockfile = toml::from_str(text)
            .map_err(|error| toml_error(error.to_string().trim().to_owned()))?;
        let mut lockfile = Lockfile::default();
        for (position, package) in raw.package.into_iter().enumerate() {
            let version = Version::parse(&package.version).map_err(|error| {
                toml_error(format!(
                    "package `{}` has version `{}`, which is not semver: {error}",
                    package.name, package.version
                ))
            })?;
            lockfile
                .by_name
                .entry(package.name.clone())
                .or_default()
                .push(position);
            lockfile.packages.push(LockedPackage {
                name: package.name,
                version,
                source: package.source,
                dependencies: package.dependencies,
            });
        }
        Ok(lockfile)
    }

    /// What `member`'s dependency on `package` is locked to: among the versions of `package`
    /// the member's entry lists, the highest that `requirement` admits (or the highest, when
    /// none does).
    pub fn locked(&self, member: &str, package: &str, requirement: Option<&VersionReq>) -> Locked {
        let candidates: Vec<&LockedPackage> = self
            .packages_named(member)
            .filter(|entry| entry.source.is_none())
            .flat_map(|entry| entry.dependencies.iter())
            .filter_map(|reference| self.referenced(reference, package))
            .flatten()
            .collect();
        let admitted = candidates
            .iter()
            .filter(|candidate| requirement.is_none_or(|req| req.matches(&candidate.version)))
            .max_by(|a, b| a.version.cmp(&b.version));
        let Some(chosen) =
            admitted.or_else(|| candidates.iter().max_by(|a, b| a.version.cmp(&b.version)))
        else {
            return Locked::Missing;
        };
        match &chosen.source {
            Some(source) if source.starts_with("registry+") || source.starts_with("sparse+") => {
                Locked::Registry {
                    version: chosen.version.clone(),
                    source: source.clone(),
                }
            }
            source => Locked::Elsewhere {
                version: chosen.version.clone(),
                source: source.clone(),
            },
        }
    }

    fn packages_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a LockedPackage> {
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(|&position| &self.packages[position])
    }

    /// The packages a `dependencies` reference names, when it names `package`.
    fn referenced<'a>(
        &'a self,
        reference: &str,
        package: &str,
    ) -> Option<impl Iterator<Item = &'a LockedPackage>> {
        let mut parts = reference.splitn(3, ' ');
        if parts.next()? != package {
            return None;
        }
        let version = parts.next().map(str::to_owned);
        Some(self.packages_named(package).filter(move |entry| {
            version
                .as_deref()
                .is_none_or(|v| entry.version.to_string() == v)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["rand 0.7.3", "rand 0.8.5", "serde", "patched"]

[[package]]
name = "rand"
version = "0.7.3"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "rand"
version = "0.8.5"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "serde"
version = "1.0.200"
source = "sparse+https://index.crates.io/"

[[package]]
name = "patched"
version = "2.0.0"
"#;

    #[test]
    fn picks_the_version_the_requirement_admits() {
        let lock = Lockfile::parse(LOCK, Path::new("Cargo.lock")).unwrap();
        let req = |text: &str| VersionReq::parse(text).unwrap();
        let registry = |version: Version, source: &str| Locked::Registry {
            version,
            source: source.to_owned(),
        };
        let crates_io = "registry+https://github.com/rust-lang/crates.io-index";
        assert_eq!(
            lock.locked("app", "rand", Some(&req("0.7"))),
            registry(Version::new(0, 7, 3), crates_io)
        );
        assert_eq!(
            lock.locked("app", "rand", Some(&req("0.8"))),
            registry(Version::new(0, 8, 5), crates_io)
        );
        assert_eq!(
            lock.locked("app", "serde", Some(&req("1"))),
            registry(Version::new(1, 0, 200), "sparse+https://index.crates.io/")
        );
        assert_eq!(
            lock.locked("app", "patched", Some(&req("2"))),
            Locked::Elsewhere {
                version: Version::new(2, 0, 0),
                source: None
            }
        );
        assert_eq!(lock.locked("app", "log", None), Locked::Missing);
        assert_eq!(lock.locked("other", "serde", None), Locked::Missing);
    }

    #[test]
    fn errors_name_the_file_and_package() {
        let error = Lockfile::parse(
            "[[package]]\nname = \"x\"\nversion = \"one\"\n",
            Path::new("w/Cargo.lock"),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "w/Cargo.lock: package `x` has version `one`, which is not semver: unexpected character 'o' while parsing major version number"
        );
        let missing = Lockfile::read(Path::new("/no/such/dir/Cargo.lock")).unwrap_err();
        assert!(
            matches!(missing, OutdatedError::NoLockfile { .. }),
            "{missing}"
        );
        assert!(
            missing
                .to_string()
                .contains("run `cargo generate-lockfile` first")
        );
    }
}
