//! The gray fragments under a key prefix: fetching them, holding the last set for gray's loads,
//! and the local last-good copy a start falls back on while etcd is unreachable.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::client::{EtcdClient, EtcdError, KeyValue, RangeResult};

/// The fragments under a prefix at one revision of the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FragmentSet {
    /// The store's revision when they were read.
    pub revision: i64,
    /// The fragments, in key order, each named `etcd:<key>@<mod_revision>`.
    pub fragments: Vec<gray::Fragment>,
}

/// Reads every `*.toml` key under `prefix` (in key order) as a gray fragment named
/// `etcd:<key>@<mod_revision>`. Other keys under the prefix are ignored, as `gray/` ignores files
/// not ending in `.toml`. Fragments holding more than `max_bytes` together are refused
/// ([`EtcdError::OverBudget`], or [`EtcdError::AnswerTooLarge`] when etcd's answer alone is
/// past what they could take); pass the config's `gray::Limits::max_total_bytes`.
pub fn fetch_fragments(
    client: &EtcdClient,
    prefix: &str,
    max_bytes: u64,
) -> Result<FragmentSet, EtcdError> {
    let answer_limit = range_answer_limit(max_bytes);
    fragments_from_range(
        client.range_prefix_within(prefix, answer_limit)?,
        prefix,
        max_bytes,
    )
}

/// The most bytes a range answer may take for fragments of `max_bytes` in all: values travel
/// as base64 (4 bytes for 3), and keys and JSON framing add a little.
pub(crate) fn range_answer_limit(max_bytes: u64) -> u64 {
    const FRAMING: u64 = 256 * 1024;
    (max_bytes / 3 + 1)
        .saturating_mul(4)
        .saturating_add(FRAMING)
}

/// The `*.toml` keys of a range as fragments named `etcd:<key>@<mod_revision>`, refused as a set
/// ([`EtcdError::OverBudget`], naming the largest keys) when their values hold more than
/// `max_bytes` together. They are counted before any is turned into a fragment.
pub(crate) fn fragments_from_range(
    range: RangeResult,
    prefix: &str,
    max_bytes: u64,
) -> Result<FragmentSet, EtcdError> {
    let is_fragment = |kv: &KeyValue| kv.key.ends_with(".toml");
    let total: u64 = range
        .kvs
        .iter()
        .filter(|kv| is_fragment(kv))
        .map(|kv| kv.value.len() as u64)
        .sum();
    if total > max_bytes {
        let mut sizes: Vec<(&str, usize)> = range
            .kvs
            .iter()
            .filter(|kv| is_fragment(kv))
            .map(|kv| (kv.key.as_str(), kv.value.len()))
            .collect();
        sizes.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
        let largest = sizes
            .iter()
            .take(3)
            .map(|(key, bytes)| format!("{key} {bytes} bytes"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(EtcdError::OverBudget {
            prefix: prefix.to_owned(),
            total,
            max: max_bytes,
            largest,
        });
    }
    let mut fragments = Vec::new();
    for kv in range.kvs {
        if !is_fragment(&kv) {
            continue;
        }
        let text = String::from_utf8(kv.value).map_err(|_| EtcdError::NotText {
            key: kv.key.clone(),
            mod_revision: kv.mod_revision,
        })?;
        fragments.push(gray::Fragment {
            name: format!("etcd:{}@{}", kv.key, kv.mod_revision),
            text,
        });
    }
    Ok(FragmentSet {
        revision: range.revision,
        fragments,
    })
}

/// The fragment set every gray load merges: replaced whole by whoever follows etcd, read by
/// every load (`gray::FragmentSource`).
#[derive(Debug, Default)]
pub struct HeldFragments {
    held: Mutex<Arc<FragmentSet>>,
}

impl HeldFragments {
    /// Holding `set`.
    pub fn new(set: FragmentSet) -> HeldFragments {
        HeldFragments {
            held: Mutex::new(Arc::new(set)),
        }
    }

    /// The set held now.
    pub fn get(&self) -> Arc<FragmentSet> {
        Arc::clone(&self.held.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Holds `set` from now on.
    pub fn set(&self, set: FragmentSet) {
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(set);
    }
}

impl gray::FragmentSource for HeldFragments {
    fn fragments(&self) -> Vec<gray::Fragment> {
        self.get().fragments.clone()
    }
}

/// Why the local last-good copy could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum LastGoodError {
    /// Reading, writing or renaming the file failed.
    #[error("last-good etcd copy {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a saved fragment set.
    #[error("last-good etcd copy {path} is not a saved fragment set: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: serde_json::Error,
    },
}

/// Writes `set` to `path` atomically (a temp file beside it, fsync, rename), so a crash leaves
/// the old copy or the new one, never half of one. The directory is created when missing.
pub fn save_last_good(path: &Path, set: &FragmentSet) -> Result<(), LastGoodError> {
    let io = |source| LastGoodError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let text = serde_json::to_vec_pretty(set).map_err(|source| LastGoodError::Format {
        path: path.to_owned(),
        source,
    })?;
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".tmp{}", std::process::id()));
    let temp = PathBuf::from(temp);
    let mut file = std::fs::File::create(&temp).map_err(io)?;
    file.write_all(&text).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&temp, path).map_err(io)?;
    Ok(())
}

/// Reads the copy [`save_last_good`] wrote; `Ok(None)` when there is none.
pub fn load_last_good(path: &Path) -> Result<Option<FragmentSet>, LastGoodError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(LastGoodError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|source| LastGoodError::Format {
            path: path.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_good_round_trips_and_a_missing_copy_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/last-good.json");
        assert_eq!(load_last_good(&path).unwrap(), None);
        let set = FragmentSet {
            revision: 12,
            fragments: vec![gray::Fragment {
                name: "etcd:/g/gray/a.toml@11".to_owned(),
                text: "[gray]\n".to_owned(),
            }],
        };
        save_last_good(&path, &set).unwrap();
        assert_eq!(load_last_good(&path).unwrap(), Some(set));
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn a_damaged_copy_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("last-good.json");
        std::fs::write(&path, "{").unwrap();
        let error = load_last_good(&path).unwrap_err().to_string();
        assert!(error.contains("last-good.json"), "{error}");
    }
}
