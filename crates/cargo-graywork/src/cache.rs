//! What reading sources found, kept between runs in the workspace's build directory
//! (`target/graywork/cache/`): a registry crate pair's breaking changes (cargo never changes a
//! registry crate's sources) and each member's answers, kept with the digest of every file its
//! reading looked at and used only while none of them changed. An entry that cannot be read,
//! parsed or vouched for is a miss; a write that fails is skipped. `GRAYWORK_NO_CACHE=1` turns
//! it off.

use std::path::{Path, PathBuf};

use graywork_workspace::Workspace;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The environment variable that turns the cache off (any value but empty).
pub(crate) const NO_CACHE_ENV: &str = "GRAYWORK_NO_CACHE";

/// Where this build of the tool keeps entries for one workspace; off when `dir` is `None`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cache {
    dir: Option<PathBuf>,
}

/// An entry as stored: its whole key beside the value, so two keys whose file names collide
/// never answer for each other.
#[derive(Serialize)]
struct Storing<'a, T> {
    key: &'a str,
    value: &'a T,
}

#[derive(Deserialize)]
struct Stored<T> {
    key: String,
    value: T,
}

impl Cache {
    /// The cache of `workspace`: under its build directory, in a directory of this build of
    /// the tool (entries of other builds are removed when it is first made). Off when
    /// [`NO_CACHE_ENV`] is set, when the workspace is not on this machine (saved metadata),
    /// or when the running binary cannot be identified.
    pub(crate) fn for_workspace(workspace: &Workspace) -> Cache {
        if std::env::var_os(NO_CACHE_ENV).is_some_and(|value| !value.is_empty())
            || !workspace.root.is_dir()
        {
            return Cache::default();
        }
        let Some(tool) = tool_identity() else {
            return Cache::default();
        };
        Cache::for_build(
            &workspace
                .target_dir
                .as_std_path()
                .join("graywork")
                .join("cache"),
            &tool,
        )
    }

    /// The cache of the build `tool` under `base`; the first time, the entries other builds
    /// left there are removed.
    fn for_build(base: &Path, tool: &str) -> Cache {
        let dir = base.join(tool);
        if !dir.is_dir() {
            remove_other_builds(base);
        }
        Cache { dir: Some(dir) }
    }

    /// A cache in `dir` (for tests).
    #[cfg(test)]
    pub(crate) fn in_dir(dir: &Path) -> Cache {
        Cache {
            dir: Some(dir.to_path_buf()),
        }
    }

    /// Whether entries are kept at all.
    pub(crate) fn is_on(&self) -> bool {
        self.dir.is_some()
    }

    /// The value kept under `kind` and `key`, if there is one and it reads as a `T`.
    pub(crate) fn get<T: DeserializeOwned>(&self, kind: &str, key: &str) -> Option<T> {
        let bytes = std::fs::read(self.path(kind, key)?).ok()?;
        let stored: Stored<T> = serde_json::from_slice(&bytes).ok()?;
        (stored.key == key).then_some(stored.value)
    }

    /// Keeps `value` under `kind` and `key`, replacing what was there; a failure to write
    /// leaves the cache as it was (the file appears whole or not at all).
    pub(crate) fn put<T: Serialize>(&self, kind: &str, key: &str, value: &T) {
        let Some(path) = self.path(kind, key) else {
            return;
        };
        let Ok(bytes) = serde_json::to_vec(&Storing { key, value }) else {
            return;
        };
        // A cache that cannot be written only costs the next run its time.
        let _ = write_whole(&path, &bytes);
    }

    fn path(&self, kind: &str, key: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(
            dir.join(kind)
                .join(format!("{}.json", digest(key.as_bytes()))),
        )
    }
}

/// The SHA-256 of `bytes`, in hex.
pub(crate) fn digest(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// This build of the tool: its version and its binary's size and modification time, so a
/// rebuilt binary never reads what an older one wrote.
fn tool_identity() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let metadata = std::fs::metadata(exe).ok()?;
    let modified = metadata
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let identity = format!(
        "{} {} {}",
        env!("CARGO_PKG_VERSION"),
        metadata.len(),
        modified.as_nanos()
    );
    Some(digest(identity.as_bytes())[..16].to_owned())
}

/// Removes the entries other builds of the tool left in `base`.
fn remove_other_builds(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

/// Writes `bytes` to `path` through a temporary file renamed into place.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_values_by_kind_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::in_dir(dir.path());
        assert_eq!(cache.get::<Vec<u32>>("pair", "a"), None);
        cache.put("pair", "a", &vec![1u32, 2]);
        cache.put("pair", "b", &vec![3u32]);
        cache.put("member", "a", &vec![4u32]);
        assert_eq!(cache.get::<Vec<u32>>("pair", "a"), Some(vec![1, 2]));
        assert_eq!(cache.get::<Vec<u32>>("pair", "b"), Some(vec![3]));
        assert_eq!(cache.get::<Vec<u32>>("member", "a"), Some(vec![4]));
        cache.put("pair", "a", &vec![5u32]);
        assert_eq!(cache.get::<Vec<u32>>("pair", "a"), Some(vec![5]));
    }

    #[test]
    fn a_damaged_or_foreign_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::in_dir(dir.path());
        cache.put("pair", "a", &vec![1u32]);
        let path = cache.path("pair", "a").unwrap();
        // Another type than was stored.
        assert_eq!(cache.get::<String>("pair", "a"), None);
        // Cut short.
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
        assert_eq!(cache.get::<Vec<u32>>("pair", "a"), None);
        // Another key's entry at this key's file.
        std::fs::write(&path, br#"{"key":"b","value":[1]}"#).unwrap();
        assert_eq!(cache.get::<Vec<u32>>("pair", "a"), None);
        // The next write repairs it.
        cache.put("pair", "a", &vec![2u32]);
        assert_eq!(cache.get::<Vec<u32>>("pair", "a"), Some(vec![2]));
    }

    #[test]
    fn an_unwritable_cache_only_misses() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the cache's directory would be.
        let blocked = dir.path().join("cache");
        std::fs::write(&blocked, "").unwrap();
        let cache = Cache::in_dir(&blocked);
        cache.put("pair", "a", &1u32);
        assert_eq!(cache.get::<u32>("pair", "a"), None);
        assert!(!Cache::default().is_on());
        Cache::default().put("pair", "a", &1u32);
        assert_eq!(Cache::default().get::<u32>("pair", "a"), None);
    }

    #[test]
    fn a_new_build_removes_what_other_builds_kept_and_keeps_its_own() {
        let base = tempfile::tempdir().unwrap();
        let old = Cache::for_build(base.path(), "old");
        old.put("pair", "a", &1u32);
        let new = Cache::for_build(base.path(), "new");
        assert!(!base.path().join("old").exists());
        assert_eq!(new.get::<u32>("pair", "a"), None);
        new.put("pair", "a", &2u32);
        // The same build again keeps its entries.
        let again = Cache::for_build(base.path(), "new");
        assert_eq!(again.get::<u32>("pair", "a"), Some(2));
    }

    #[test]
    fn digests_are_sha256() {
        assert_eq!(
            digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
