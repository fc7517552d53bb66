//! Reading a crate's published versions from a registry index the way cargo stores it, with
//! `tame-index`: cargo's cache of a sparse or git index under `$CARGO_HOME/registry/index`,
//! or a local registry's `index/` directory. Nothing here touches the network; keeping the
//! cache fresh is cargo's job (see [`crate::refresh`]).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use semver::Version;
use tame_index::index::{ComboIndexCache, FileLock, GitIndex, LocalRegistry, SparseIndex};
use tame_index::{IndexLocation as TameLocation, IndexPath, IndexUrl, KrateName};

use crate::config::{IndexLocation, RegistrySource};
use crate::error::OutdatedError;

/// One published version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The version.
    pub version: Version,
    /// Whether it is yanked.
    pub yanked: bool,
    /// The `rust-version` it declares (a partial version such as `1.70` padded with zeros),
    /// which cargo's Rust-version-aware resolver compares with the workspace's.
    pub rust_version: Option<Version>,
}

/// A crate's index entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateVersions {
    /// Every published version, in the order the index lists them.
    pub versions: Vec<Published>,
    /// When cargo last wrote the cached entry (`None` for a local registry, always current).
    pub fetched: Option<SystemTime>,
}

/// An open index: one registry's cache or local registry.
pub struct IndexReader {
    source: RegistrySource,
    backend: ComboIndexCache,
    offline: bool,
}

impl IndexReader {
    /// Opens `source`'s index under `cargo_home`. `offline` only changes what a missing
    /// entry's error says.
    pub fn open(
        source: RegistrySource,
        cargo_home: &Path,
        offline: bool,
    ) -> Result<IndexReader, OutdatedError> {
        let tame_error = |error: tame_index::Error| OutdatedError::Source {
            message: format!(
                "cannot open the index of registry {source}: {}",
                describe(&error)
            ),
        };
        let location = |url: &str| -> Result<TameLocation<'static>, OutdatedError> {
            Ok(TameLocation {
                url: IndexUrl::NonCratesIo(url.to_owned().into()),
                root: IndexPath::Exact(cache_dir(url, cargo_home).map_err(tame_error)?),
                cargo_version: None,
            })
        };
        let backend = match &source.index {
            IndexLocation::Sparse { url } => {
                ComboIndexCache::Sparse(SparseIndex::new(location(url)?).map_err(tame_error)?)
            }
            IndexLocation::Git { url } => {
                ComboIndexCache::Git(GitIndex::new(location(url)?).map_err(tame_error)?)
            }
            IndexLocation::LocalRegistry { path } => ComboIndexCache::LocalRegistry(
                LocalRegistry::open(utf8(path), false).map_err(tame_error)?,
            ),
        };
        Ok(IndexReader {
            source,
            backend,
            offline,
        })
    }

    /// The registry this reader reads.
    pub fn source(&self) -> &RegistrySource {
        &self.source
    }

    /// Where `name`'s entry is (or would be) on disk.
    pub fn entry_path(&self, name: &str) -> PathBuf {
        let Ok(krate) = KrateName::cargo(name) else {
            return PathBuf::from(name);
        };
        self.backend.cache_path(krate).into()
    }

    /// `name`'s published versions. A missing entry is an error that says why it may be
    /// missing (offline and never fetched, or not in the registry).
    pub fn read(&self, name: &str) -> Result<CrateVersions, OutdatedError> {
        let path = self.entry_path(name);
        let malformed = |line: Option<usize>, message: String| OutdatedError::MalformedIndexEntry {
            krate: name.to_owned(),
            path: path.clone(),
            line,
            message,
        };
        let krate = KrateName::cargo(name).map_err(|error| {
            malformed(None, format!("invalid crate name: {}", describe(&error)))
        })?;
        // Reading happens after any `cargo update` this process started has finished; a
        // concurrent cargo rewriting an entry shows up as a malformed entry, not a crash.
        let lock = FileLock::unlocked();
        let entry = self
            .backend
            .cached_krate(krate, &lock)
            .map_err(|error| malformed(None, describe(&error)))?;
        let Some(entry) = entry else {
            return Err(self.missing(name, &path));
        };
        let records = entry
            .iter()
            .map_err(|error| malformed(None, describe(&error)))?;
        let mut versions = Vec::new();
        for (position, record) in records.enumerate() {
            let rust_version = declared_rust_version(record.raw().1);
            let (version, yanked) = record
                .yanked()
                .map_err(|error| malformed(Some(position + 1), describe(&error)))?;
            versions.push(Published {
                version,
                yanked,
                rust_version,
            });
        }
        if versions.is_empty() {
            return Err(malformed(None, "the entry lists no versions".to_owned()));
        }
        let fetched = if self.source.index.is_cached() {
            std::fs::metadata(&path)
                .and_then(|metadata| metadata.modified())
                .ok()
        } else {
            None
        };
        Ok(CrateVersions { versions, fetched })
    }

    fn missing(&self, name: &str, path: &Path) -> OutdatedError {
        let registry = &self.source;
        let message = if !registry.index.is_cached() {
            format!(
                "crate `{name}` is not in registry {registry} (no index file {})",
                path.display()
            )
        } else if self.offline {
            format!(
                "registry {registry} is not reachable offline: cargo's cache has no entry for `{name}` ({}); \
                 run without --offline so cargo can fetch it",
                path.display()
            )
        } else {
            format!(
                "crate `{name}` is not in registry {registry}: cargo's cache has no entry for it ({}) \
                 after refreshing the index",
                path.display()
            )
        };
        OutdatedError::NotInIndex { message }
    }
}

/// The `rust_version` of one index record, read from its JSON without deserializing the
/// rest (a crate's entry holds every version's dependencies and features). The key is the
/// registry's `"rust_version": "1.70"` (with or without blanks around the colon); a feature
/// of that name is followed by a list, never a string, so it is passed over. A value that is
/// not a version is ignored, as cargo treats a record without one.
fn declared_rust_version(json: &[u8]) -> Option<Version> {
    const KEY: &[u8] = b"\"rust_version\"";
    let mut end = json.len();
    while let Some(at) = json[..end]
        .windows(KEY.len())
        .rposition(|window| window == KEY)
    {
        end = at;
        // A string in a list (`["rust_version"]`) is no key; a key's value may be a list.
        let Some(value) = json[at + KEY.len()..]
            .trim_ascii_start()
            .strip_prefix(b":")
            .and_then(|value| value.trim_ascii_start().strip_prefix(b"\""))
        else {
            continue;
        };
        let len = value.iter().position(|&byte| byte == b'"')?;
        return partial_version(std::str::from_utf8(&value[..len]).ok()?);
    }
    None
}

/// A `rust-version` (`1.70`, `1.70.1`, or `1`) as a full version, missing parts zero.
pub fn partial_version(text: &str) -> Option<Version> {
    let mut parts = text.trim().split('.');
    let mut next = || -> Option<Option<u64>> {
        match parts.next() {
            None => Some(None),
            Some(part) => part.parse().ok().map(Some),
        }
    };
    let major = next()??;
    let minor = next()?.unwrap_or(0);
    let patch = next()?.unwrap_or(0);
    if parts.next().is_some() {
        return None;
    }
    Some(Version::new(major, minor, patch))
}

/// The directory under `$CARGO_HOME/registry/index` where cargo caches the index at `url`.
///
/// Cargo 1.85 changed the hash in that directory's name. Asking cargo for its version costs a
/// process start (about as long as `cargo metadata` itself), so the directory is found
/// instead: the one cargo 1.85 and later name when it exists, else the one older cargo names
/// when that exists, else the newer name (whose missing entries are then reported).
fn cache_dir(url: &str, cargo_home: &Path) -> Result<tame_index::PathBuf, tame_index::Error> {
    let named_by = |version: Version| {
        TameLocation {
            url: IndexUrl::NonCratesIo(url.to_owned().into()),
            root: IndexPath::UserSpecified(utf8(cargo_home)),
            cargo_version: Some(version),
        }
        .into_parts()
        .map(|(path, _)| path)
    };
    let current = named_by(Version::new(1, 85, 0))?;
    if current.exists() {
        return Ok(current);
    }
    let legacy = named_by(Version::new(1, 84, 0))?;
    Ok(if legacy.exists() { legacy } else { current })
}

fn utf8(path: &Path) -> tame_index::PathBuf {
    tame_index::PathBuf::from_path_buf(path.to_path_buf())
        .unwrap_or_else(|lossy| tame_index::PathBuf::from(lossy.to_string_lossy().into_owned()))
}

/// A `tame-index` error with its causes, on one line.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_s_rust_version_is_read_from_its_json() {
        let record = br#"{"name":"clap","vers":"4.5.0","deps":[],"cksum":"x","features":{"rust_version":[]},"yanked":false,"rust_version":"1.74"}"#;
        assert_eq!(declared_rust_version(record), Some(Version::new(1, 74, 0)));
        let without = br#"{"name":"clap","vers":"2.0.0","deps":[],"cksum":"x","features":{"rust_version":["dep:x"]},"yanked":false}"#;
        assert_eq!(declared_rust_version(without), None);
        let spaced = br#"{"name": "clap", "vers": "4.6.10", "features": {"rust_version": []}, "yanked": false, "rust_version": "1.85"}"#;
        assert_eq!(declared_rust_version(spaced), Some(Version::new(1, 85, 0)));
        let listed = br#"{"name":"x","vers":"1.0.0","rust_version":"1.70","features":{"a":["rust_version"]}}"#;
        assert_eq!(declared_rust_version(listed), Some(Version::new(1, 70, 0)));
        let malformed = br#"{"name":"x","vers":"1.0.0","yanked":false,"rust_version":"1.x"}"#;
        assert_eq!(declared_rust_version(malformed), None);
        assert_eq!(partial_version("1"), Some(Version::new(1, 0, 0)));
        assert_eq!(partial_version("1.70.1"), Some(Version::new(1, 70, 1)));
        assert_eq!(partial_version("1.70.1.2"), None);
        assert_eq!(partial_version(""), None);
    }

    #[test]
    fn the_cache_directory_is_the_one_cargo_made() {
        let home = tempfile::tempdir().unwrap();
        let url = "sparse+https://index.crates.io/";
        let current = cache_dir(url, home.path()).unwrap();
        // The directory cargo 1.85+ uses for crates.io, the one every cargo home has.
        assert!(
            current
                .as_str()
                .ends_with("registry/index/index.crates.io-1949cf8c6b5b557f"),
            "{current}"
        );
        let legacy = TameLocation {
            url: IndexUrl::NonCratesIo(url.into()),
            root: IndexPath::UserSpecified(utf8(home.path())),
            cargo_version: Some(Version::new(1, 84, 0)),
        }
        .into_parts()
        .unwrap()
        .0;
        assert_ne!(legacy, current);
        std::fs::create_dir_all(&legacy).unwrap();
        assert_eq!(
            cache_dir(url, home.path()).unwrap(),
            legacy,
            "only an older cargo's cache exists"
        );
        std::fs::create_dir_all(&current).unwrap();
        assert_eq!(
            cache_dir(url, home.path()).unwrap(),
            current,
            "the newer name wins"
        );
    }
}
