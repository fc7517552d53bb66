//! Which index a registry's versions come from, as cargo decides it: `.cargo/config.toml`
//! files from the working directory up, then `$CARGO_HOME/config.toml`; `[registries]` for
//! alternate registries; `[source]` replacement (`replace-with` chains) to a registry or a
//! local registry. Sources that have no index (`directory`, `git`) are refused with a message
//! that names the source and the file declaring it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::OutdatedError;

/// The crates.io sparse index URL, as cargo writes it.
pub const CRATES_IO_SPARSE: &str = "sparse+https://index.crates.io/";
/// The crates.io git index URL.
pub const CRATES_IO_GIT: &str = "https://github.com/rust-lang/crates.io-index";

/// The cargo configuration files that apply, closest first.
#[derive(Debug, Clone, Default)]
pub struct CargoConfig {
    files: Vec<ConfigFile>,
    /// Environment variables cargo reads for registries, captured at discovery.
    env: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
struct ConfigFile {
    path: PathBuf,
    table: toml::Table,
}

/// Where a registry's index is read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrySource {
    /// The registry as dependencies name it: `crates-io` or an alternate registry's name.
    pub registry: String,
    /// The source that replaces it (`[source.NAME] replace-with`), and the file saying so.
    pub replaced_by: Option<Replacement>,
    /// The index.
    pub index: IndexLocation,
}

/// A `[source]` replacement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replacement {
    /// The replacing source's name.
    pub source: String,
    /// The config file that defines it.
    pub config: PathBuf,
}

/// An index on the network (read through cargo's cache) or on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum IndexLocation {
    /// A sparse HTTP index (`sparse+https://…`), read from cargo's cache.
    Sparse {
        /// The index URL.
        url: String,
    },
    /// A git index, read from cargo's cache of it.
    Git {
        /// The index URL.
        url: String,
    },
    /// A `local-registry` directory: an `index/` beside the `.crate` files, always current.
    LocalRegistry {
        /// The directory.
        path: PathBuf,
    },
}

impl IndexLocation {
    /// Whether cargo keeps a cache of this index that can go stale (sparse and git do).
    pub fn is_cached(&self) -> bool {
        !matches!(self, IndexLocation::LocalRegistry { .. })
    }
}

impl std::fmt::Display for RegistrySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.registry)?;
        if let Some(replacement) = &self.replaced_by {
            write!(f, " (replaced by `{}`)", replacement.source)?;
        }
        match &self.index {
            IndexLocation::Sparse { url } => write!(f, ": sparse index {url}"),
            IndexLocation::Git { url } => write!(f, ": git index {url}"),
            IndexLocation::LocalRegistry { path } => {
                write!(f, ": local registry {}", path.display())
            }
        }
    }
}

impl CargoConfig {
    /// Finds the configuration cargo would use when started in `cwd`, with `cargo_home` as
    /// `$CARGO_HOME`, reading registry variables through `env`.
    pub fn discover(
        cwd: &Path,
        cargo_home: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<CargoConfig, OutdatedError> {
        let mut files = Vec::new();
        let mut seen = BTreeSet::new();
        let mut candidates = Vec::new();
        for dir in cwd.ancestors() {
            let dot_cargo = dir.join(".cargo");
            candidates.push(dot_cargo.join("config.toml"));
            candidates.push(dot_cargo.join("config"));
        }
        candidates.push(cargo_home.join("config.toml"));
        candidates.push(cargo_home.join("config"));
        for path in candidates {
            // Cargo reads `config` only when `config.toml` is absent in the same directory,
            // and reads `$CARGO_HOME`'s file once even when it is also an ancestor's.
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            if seen.contains(&dir) || !path.is_file() {
                continue;
            }
            seen.insert(dir);
            let text = std::fs::read_to_string(&path).map_err(|source| OutdatedError::Read {
                path: path.clone(),
                source,
            })?;
            let table = text
                .parse::<toml::Table>()
                .map_err(|error| OutdatedError::Toml {
                    path: path.clone(),
                    message: error.to_string().trim().to_owned(),
                })?;
            files.push(ConfigFile { path, table });
        }
        let env = ["CARGO_REGISTRIES_CRATES_IO_PROTOCOL"]
            .into_iter()
            .map(str::to_owned)
            .chain(
                files
                    .iter()
                    .flat_map(|file| registry_names(&file.table))
                    .map(|name| registry_env_var(&name)),
            )
            .filter_map(|name| env(&name).map(|value| (name, value)))
            .collect();
        Ok(CargoConfig { files, env })
    }

    /// A configuration from given files, closest first (for tests and saved setups).
    pub fn from_files(files: Vec<(PathBuf, &str)>) -> Result<CargoConfig, OutdatedError> {
        let files = files
            .into_iter()
            .map(|(path, text)| {
                let table = text
                    .parse::<toml::Table>()
                    .map_err(|error| OutdatedError::Toml {
                        path: path.clone(),
                        message: error.to_string().trim().to_owned(),
                    })?;
                Ok(ConfigFile { path, table })
            })
            .collect::<Result<_, OutdatedError>>()?;
        Ok(CargoConfig {
            files,
            env: Vec::new(),
        })
    }

    fn env(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The value at `keys` in the closest file that sets it, with that file.
    fn get(&self, keys: &[&str]) -> Option<(&toml::Value, &Path)> {
        self.files.iter().find_map(|file| {
            let (first, rest) = keys.split_first()?;
            let mut value = file.table.get(*first)?;
            for key in rest {
                value = value.get(key)?;
            }
            Some((value, file.path.as_path()))
        })
    }

    fn get_str(&self, keys: &[&str]) -> Result<Option<(&str, &Path)>, OutdatedError> {
        match self.get(keys) {
            None => Ok(None),
            Some((toml::Value::String(text), path)) => Ok(Some((text, path))),
            Some((other, path)) => Err(OutdatedError::Toml {
                path: path.to_path_buf(),
                message: format!(
                    "`{}` must be a string, found {}",
                    keys.join("."),
                    other.type_str()
                ),
            }),
        }
    }

    /// `[resolver] incompatible-rust-versions` from the closest file that sets it, with that
    /// file.
    pub fn incompatible_rust_versions(&self) -> Result<Option<(&str, &Path)>, OutdatedError> {
        self.get_str(&["resolver", "incompatible-rust-versions"])
    }

    /// Where `registry`'s index (`None` for crates.io) is read from, after replacement.
    ///
    /// `used_by` names a dependency that uses the registry, for the error when an alternate
    /// registry is not configured.
    pub fn registry_source(
        &self,
        registry: Option<&str>,
        used_by: &str,
    ) -> Result<RegistrySource, OutdatedError> {
        let (name, url) = match registry {
            None | Some("crates-io") => ("crates-io", self.crates_io_url()?),
            Some(name) => (name, self.alternate_registry_url(name, used_by)?),
        };
        let mut current = name.to_owned();
        let mut chain = vec![current.clone()];
        let mut replaced_by = None;
        while let Some((next, config)) = self.get_str(&["source", &current, "replace-with"])? {
            if chain.iter().any(|seen| seen == next) {
                chain.push(next.to_owned());
                return Err(OutdatedError::Source {
                    message: format!(
                        "source replacement in {} loops: {}",
                        config.display(),
                        chain.join(" -> ")
                    ),
                });
            }
            if self.get(&["source", next]).is_none() {
                return Err(OutdatedError::Source {
                    message: format!(
                        "source `{current}` is replaced with `{next}` in {}, but no `[source.{next}]` is defined",
                        config.display()
                    ),
                });
            }
            replaced_by = Some(Replacement {
                source: next.to_owned(),
                config: config.to_path_buf(),
            });
            chain.push(next.to_owned());
            current = next.to_owned();
        }
        let index = match &replaced_by {
            None => index_for_url(&url),
            Some(replacement) => self.replacement_index(name, replacement)?,
        };
        Ok(RegistrySource {
            registry: name.to_owned(),
            replaced_by,
            index,
        })
    }

    /// The name of the registry a lock file source (`registry+URL` or `sparse+URL`) stands
    /// for: `crates-io`, or the alternate registry whose index is that URL. `package` names
    /// the locked package in the error.
    pub fn registry_for_lock_source(
        &self,
        source: &str,
        package: &str,
    ) -> Result<String, OutdatedError> {
        let url = normalize_index_url(source);
        if url == normalize_index_url(CRATES_IO_GIT) || url == normalize_index_url(CRATES_IO_SPARSE)
        {
            return Ok("crates-io".to_owned());
        }
        let mut names: Vec<String> = self
            .files
            .iter()
            .flat_map(|file| registry_names(&file.table))
            .collect();
        names.sort();
        names.dedup();
        for name in names {
            let index = match self.env(&registry_env_var(&name)) {
                Some(index) => Some(index.to_owned()),
                None => self
                    .get_str(&["registries", &name, "index"])?
                    .map(|(index, _)| index.to_owned()),
            };
            if index.is_some_and(|index| normalize_index_url(&index) == url) {
                return Ok(name);
            }
        }
        Err(OutdatedError::Source {
            message: format!(
                "Cargo.lock locks `{package}` from `{source}`, but no `[registries]` entry in {} has that index",
                self.searched()
            ),
        })
    }

    fn crates_io_url(&self) -> Result<String, OutdatedError> {
        let protocol = match self.env("CARGO_REGISTRIES_CRATES_IO_PROTOCOL") {
            Some(protocol) => Some(protocol.to_owned()),
            None => self
                .get_str(&["registries", "crates-io", "protocol"])?
                .map(|(protocol, _)| protocol.to_owned()),
        };
        // Sparse has been cargo's default since 1.70, the oldest cargo this tool supports.
        Ok(match protocol.as_deref() {
            Some("git") => CRATES_IO_GIT.to_owned(),
            _ => CRATES_IO_SPARSE.to_owned(),
        })
    }

    fn alternate_registry_url(&self, name: &str, used_by: &str) -> Result<String, OutdatedError> {
        if let Some(url) = self.env(&registry_env_var(name)) {
            return Ok(url.to_owned());
        }
        match self.get_str(&["registries", name, "index"])? {
            Some((url, _)) => Ok(url.to_owned()),
            None => Err(OutdatedError::Source {
                message: format!(
                    "registry `{name}` (used by {used_by}) is not defined: no `registries.{name}.index` in {}",
                    self.searched()
                ),
            }),
        }
    }

    fn replacement_index(
        &self,
        registry: &str,
        replacement: &Replacement,
    ) -> Result<IndexLocation, OutdatedError> {
        let source = &replacement.source;
        let config = replacement.config.display();
        let refuse = |kind: &str, why: &str| OutdatedError::Source {
            message: format!(
                "registry `{registry}` is replaced by source `{source}` ({config}), a {kind} source: {why}; \
                 `outdated` needs a registry index (a `registry` or `local-registry` source)"
            ),
        };
        if let Some((url, _)) = self.get_str(&["source", source, "registry"])? {
            return Ok(index_for_url(url));
        }
        if let Some((path, defined_in)) = self.get_str(&["source", source, "local-registry"])? {
            return Ok(IndexLocation::LocalRegistry {
                path: config_relative(defined_in, path),
            });
        }
        if self.get(&["source", source, "directory"]).is_some() {
            return Err(refuse(
                "directory",
                "it holds only the vendored versions, so newer ones cannot be known",
            ));
        }
        if self.get(&["source", source, "git"]).is_some() {
            return Err(refuse(
                "git",
                "a git repository has no list of published versions",
            ));
        }
        Err(OutdatedError::Source {
            message: format!(
                "source `{source}` ({config}) sets none of `registry`, `local-registry`, `directory` or `git`"
            ),
        })
    }

    fn searched(&self) -> String {
        if self.files.is_empty() {
            "any cargo config (none found)".to_owned()
        } else {
            self.files
                .iter()
                .map(|file| file.path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// An index URL as compared across the lock file and the config: without `registry+` and
/// without a trailing `/`.
fn normalize_index_url(url: &str) -> &str {
    url.strip_prefix("registry+")
        .unwrap_or(url)
        .trim_end_matches('/')
}

fn index_for_url(url: &str) -> IndexLocation {
    if url.starts_with("sparse+") {
        IndexLocation::Sparse {
            url: url.to_owned(),
        }
    } else {
        IndexLocation::Git {
            url: url.strip_prefix("registry+").unwrap_or(url).to_owned(),
        }
    }
}

/// A path in a config file is relative to the directory holding the `.cargo` directory
/// (for `$CARGO_HOME/config.toml`, the directory holding `$CARGO_HOME`).
fn config_relative(config: &Path, path: &str) -> PathBuf {
    let base = config
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| Path::new(""));
    base.join(path)
}

fn registry_names(table: &toml::Table) -> Vec<String> {
    table
        .get("registries")
        .and_then(toml::Value::as_table)
        .map(|registries| registries.keys().cloned().collect())
        .unwrap_or_default()
}

/// `CARGO_REGISTRIES_<NAME>_INDEX`, as cargo spells it.
fn registry_env_var(name: &str) -> String {
    format!(
        "CARGO_REGISTRIES_{}_INDEX",
        name.to_uppercase().replace('-', "_")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(files: &[(&str, &str)]) -> CargoConfig {
        CargoConfig::from_files(
            files
                .iter()
                .map(|(path, text)| (PathBuf::from(path), *text))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn the_closest_file_says_whether_resolution_honours_rust_version() {
        let files = config(&[
            (
                "/w/.cargo/config.toml",
                "[resolver]\nincompatible-rust-versions = \"allow\"\n",
            ),
            (
                "/home/.cargo/config.toml",
                "[resolver]\nincompatible-rust-versions = \"fallback\"\n",
            ),
        ]);
        let (value, path) = files.incompatible_rust_versions().unwrap().unwrap();
        assert_eq!((value, path), ("allow", Path::new("/w/.cargo/config.toml")));
        assert!(
            config(&[("/w/.cargo/config.toml", "[net]\noffline = true\n")])
                .incompatible_rust_versions()
                .unwrap()
                .is_none()
        );
        let error = config(&[(
            "/w/.cargo/config.toml",
            "[resolver]\nincompatible-rust-versions = 3\n",
        )])
        .incompatible_rust_versions()
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("/w/.cargo/config.toml")
                && error.contains("`resolver.incompatible-rust-versions` must be a string"),
            "{error}"
        );
    }

    #[test]
    fn crates_io_defaults_to_the_sparse_index() {
        let source = CargoConfig::default().registry_source(None, "x").unwrap();
        assert_eq!(
            source.to_string(),
            "crates-io: sparse index sparse+https://index.crates.io/"
        );
        let git = config(&[(
            "/h/config.toml",
            "[registries.crates-io]\nprotocol = \"git\"\n",
        )]);
        assert_eq!(
            git.registry_source(None, "x").unwrap().index,
            IndexLocation::Git {
                url: CRATES_IO_GIT.to_owned()
            }
        );
    }

    #[test]
    fn replacement_chains_are_followed_and_the_closest_file_wins() {
        let config = config(&[
            (
                "/w/.cargo/config.toml",
                "[source.crates-io]\nreplace-with = \"mirror\"\n\
                 [source.mirror]\nreplace-with = \"vendor\"\n\
                 [source.vendor]\nlocal-registry = \"registry\"\n",
            ),
            (
                "/h/config.toml",
                "[source.crates-io]\nreplace-with = \"other\"\n",
            ),
        ]);
        let source = config.registry_source(None, "x").unwrap();
        assert_eq!(
            source.to_string(),
            "crates-io (replaced by `vendor`): local registry /w/registry"
        );
    }

    #[test]
    fn alternate_registries_come_from_registries_tables() {
        let config = config(&[(
            "/w/.cargo/config.toml",
            "[registries.inner]\nindex = \"sparse+https://inner.example/index/\"\n",
        )]);
        assert_eq!(
            config
                .registry_for_lock_source("sparse+https://inner.example/index/", "tool")
                .unwrap(),
            "inner"
        );
        assert_eq!(
            config
                .registry_for_lock_source(
                    "registry+https://github.com/rust-lang/crates.io-index",
                    "x"
                )
                .unwrap(),
            "crates-io"
        );
        assert_eq!(
            config
                .registry_for_lock_source("registry+https://elsewhere.example/index", "tool")
                .unwrap_err()
                .to_string(),
            "Cargo.lock locks `tool` from `registry+https://elsewhere.example/index`, but no \
             `[registries]` entry in /w/.cargo/config.toml has that index"
        );
        let source = config.registry_source(Some("inner"), "x").unwrap();
        assert_eq!(
            source.to_string(),
            "inner: sparse index sparse+https://inner.example/index/"
        );
        let error = config
            .registry_source(Some("outer"), "`tool` in a/Cargo.toml:4")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "registry `outer` (used by `tool` in a/Cargo.toml:4) is not defined: \
             no `registries.outer.index` in /w/.cargo/config.toml"
        );
    }

    #[test]
    fn sources_without_an_index_are_refused_by_name() {
        let vendored = config(&[(
            "/w/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"vendored-sources\"\n\
             [source.vendored-sources]\ndirectory = \"vendor\"\n",
        )]);
        assert_eq!(
            vendored.registry_source(None, "x").unwrap_err().to_string(),
            "registry `crates-io` is replaced by source `vendored-sources` (/w/.cargo/config.toml), \
             a directory source: it holds only the vendored versions, so newer ones cannot be known; \
             `outdated` needs a registry index (a `registry` or `local-registry` source)"
        );
        let missing = config(&[(
            "/w/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"nope\"\n",
        )]);
        assert_eq!(
            missing.registry_source(None, "x").unwrap_err().to_string(),
            "source `crates-io` is replaced with `nope` in /w/.cargo/config.toml, but no `[source.nope]` is defined"
        );
        let looping = config(&[(
            "/w/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"a\"\n[source.a]\nreplace-with = \"crates-io\"\n",
        )]);
        assert_eq!(
            looping.registry_source(None, "x").unwrap_err().to_string(),
            "source replacement in /w/.cargo/config.toml loops: crates-io -> a -> crates-io"
        );
    }
}
