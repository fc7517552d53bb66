//! Members' sources read once and shared: by the plans' public-API reading and the impact
//! prediction, and across every update `outdated --plan` plans. What each question about a
//! member answered is kept in the [`Cache`] with the digest of every file its reading looked
//! at, so a later run whose files are unchanged answers without parsing.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use graywork_contracts::Crate;
use graywork_workspace::Workspace;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::cache::{Cache, digest};

/// A member's crate as read, or why it could not be read.
type MemberRead = Result<Crate, String>;

/// Every file a reading looked for, in order.
type Looked = Vec<LookedFile>;

/// A file a reading looked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LookedFile {
    /// Relative to the workspace root.
    path: String,
    /// The SHA-256 of its text; `None`: it did not exist.
    digest: Option<String>,
    /// Its size and modification time (nanoseconds since the epoch) when they vouch for the
    /// text: a file whose size and time are still these is not read again. A file modified
    /// within two seconds of the reading has none, since it may have changed after it was read.
    stamp: Option<(u64, u128)>,
}

impl LookedFile {
    /// Whether the file still has the text it had, or is still absent.
    fn unchanged(&self, root: &Path) -> bool {
        let path = root.join(&self.path);
        let Some(digest) = &self.digest else {
            return std::fs::symlink_metadata(&path).is_err();
        };
        if let Some(stamp) = self.stamp
            && stamp_of(&path) == Some(stamp)
        {
            return true;
        }
        std::fs::read(&path).is_ok_and(|bytes| crate::cache::digest(&bytes) == *digest)
    }
}

/// A file's size and modification time, if it was modified more than two seconds ago.
fn stamp_of(path: &Path) -> Option<(u64, u128)> {
    let metadata = std::fs::metadata(path).ok()?;
    let modified = metadata.modified().ok()?;
    let age = std::time::SystemTime::now().duration_since(modified).ok()?;
    (age > std::time::Duration::from_secs(2)).then(|| {
        let since_epoch = modified
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        (metadata.len(), since_epoch.as_nanos())
    })
}

/// Whether two readings looked at the same files and found the same texts.
fn same_files(a: &Looked, b: &Looked) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(a, b)| a.path == b.path && a.digest == b.digest)
}

/// Members' sources read once for several questions: member index -> what is known of it.
#[derive(Default)]
pub(crate) struct MemberReads {
    cache: Cache,
    slots: Mutex<BTreeMap<usize, Arc<Slot>>>,
}

/// One member.
#[derive(Default)]
struct Slot {
    /// The entry an earlier run kept, when every file it looked at is unchanged.
    kept: OnceLock<Option<MemberEntry>>,
    /// The member as read in this run, with the files its reading looked at.
    read: OnceLock<(MemberRead, Looked)>,
    /// What this run answered that was not kept.
    fresh: Mutex<BTreeMap<String, serde_json::Value>>,
}

/// A member's entry in the cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MemberEntry {
    looked: Looked,
    /// Each question's answer (a `Result<T, String>`), by the question's key.
    answers: BTreeMap<String, serde_json::Value>,
}

impl MemberReads {
    /// Reads that keep their answers in `cache`.
    pub(crate) fn new(cache: Cache) -> MemberReads {
        MemberReads {
            cache,
            slots: Mutex::default(),
        }
    }

    /// Where the answers are kept.
    pub(crate) fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The answer of the member at `position` to the question `key`: kept from an earlier
    /// run, or `compute` of the member as read (once per run), or why it cannot be read.
    pub(crate) fn answer<T: Serialize + DeserializeOwned>(
        &self,
        workspace: &Workspace,
        position: usize,
        key: &str,
        compute: impl FnOnce(&Crate) -> T,
    ) -> Result<T, String> {
        self.answers(workspace, position, &[key.to_owned()], |krate, _| {
            vec![compute(krate)]
        })
        .pop()
        .unwrap_or_else(|| Err("no answer".to_owned()))
    }

    /// [`MemberReads::answer`] to several questions at once: `compute` is given the member as
    /// read and the positions in `keys` of the questions no earlier run answered, and returns
    /// their answers in that order.
    pub(crate) fn answers<T: Serialize + DeserializeOwned>(
        &self,
        workspace: &Workspace,
        position: usize,
        keys: &[String],
        compute: impl FnOnce(&Crate, &[usize]) -> Vec<T>,
    ) -> Vec<Result<T, String>> {
        let slot = self.slot(position);
        let kept = slot
            .kept
            .get_or_init(|| self.kept_entry(workspace, position));
        let mut answers: Vec<Option<Result<T, String>>> = keys
            .iter()
            .map(|key| {
                let value = kept.as_ref()?.answers.get(key)?;
                Result::<T, String>::deserialize(value).ok()
            })
            .collect();
        let missing: Vec<usize> = (0..keys.len())
            .filter(|&index| answers[index].is_none())
            .collect();
        if missing.is_empty() {
            return answers.into_iter().flatten().collect();
        }
        let (read, _) = slot.read.get_or_init(|| self.read(workspace, position));
        let computed: Vec<Result<T, String>> = match read {
            Ok(krate) => compute(krate, &missing).into_iter().map(Ok).collect(),
            Err(error) => missing.iter().map(|_| Err(error.clone())).collect(),
        };
        let mut fresh = lock(&slot.fresh);
        for (&index, answer) in missing.iter().zip(computed) {
            if self.cache.is_on()
                && let Ok(value) = serde_json::to_value(&answer)
            {
                fresh.insert(keys[index].clone(), value);
            }
            answers[index] = Some(answer);
        }
        answers
            .into_iter()
            .map(|answer| answer.unwrap_or_else(|| Err("no answer".to_owned())))
            .collect()
    }

    /// Keeps what this run answered, beside what earlier runs answered while the member's
    /// files are the same.
    pub(crate) fn save(&self, workspace: &Workspace) {
        if !self.cache.is_on() {
            return;
        }
        let slots: Vec<(usize, Arc<Slot>)> = lock(&self.slots)
            .iter()
            .map(|(position, slot)| (*position, slot.clone()))
            .collect();
        for (position, slot) in slots {
            let fresh = std::mem::take(&mut *lock(&slot.fresh));
            if fresh.is_empty() {
                continue;
            }
            let kept = slot.kept.get().cloned().flatten();
            let Some((_, looked)) = slot.read.get() else {
                continue;
            };
            let mut answers = match kept {
                // The files read now are the ones the kept answers came from.
                Some(entry) if same_files(&entry.looked, looked) => entry.answers,
                _ => BTreeMap::new(),
            };
            answers.extend(fresh);
            let entry = MemberEntry {
                looked: looked.clone(),
                answers,
            };
            self.cache
                .put("member", &member_key(workspace, position), &entry);
        }
    }

    fn slot(&self, position: usize) -> Arc<Slot> {
        lock(&self.slots).entry(position).or_default().clone()
    }

    /// The kept entry of the member, if every file it names still has the text it had.
    fn kept_entry(&self, workspace: &Workspace, position: usize) -> Option<MemberEntry> {
        let entry: MemberEntry = self.cache.get("member", &member_key(workspace, position))?;
        let root = workspace.root.as_std_path();
        let unchanged = entry.looked.iter().all(|file| file.unchanged(root));
        unchanged.then_some(entry)
    }

    /// Reads the member, noting every file the reading looks at when answers are kept.
    fn read(&self, workspace: &Workspace, position: usize) -> (MemberRead, Looked) {
        let dir = workspace.members[position].manifest_dir();
        let root = workspace.root.as_std_path();
        let looked = std::cell::RefCell::new(Looked::new());
        let note = |path: &Path, text: Option<&str>| {
            if !self.cache.is_on() {
                return;
            }
            let path_text = path.to_string_lossy().into_owned();
            let digest = text.map(|text| digest(text.as_bytes()));
            let mut looked = looked.borrow_mut();
            if looked
                .iter()
                .any(|file| file.path == path_text && file.digest == digest)
            {
                return;
            }
            // Taken after the text was read: a change made since has a recent time, so
            // it gives no stamp.
            let stamp = digest.as_ref().and_then(|_| stamp_of(&root.join(path)));
            looked.push(LookedFile {
                path: path_text,
                digest,
                stamp,
            });
        };
        let read = graywork_contracts::read_member_telling(
            workspace.root.as_std_path(),
            dir.as_std_path(),
            &note,
        )
        .map_err(|error| format!("{error:#}"));
        (read, looked.into_inner())
    }
}

/// The cache key of a member's entry.
fn member_key(workspace: &Workspace, position: usize) -> String {
    format!("{}", workspace.members[position].manifest_path)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A reader that panicked left whole entries behind, never a half-written one.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn looked(root: &Path, path: &str) -> LookedFile {
        let text = std::fs::read(root.join(path)).ok();
        LookedFile {
            path: path.to_owned(),
            digest: text.as_deref().map(digest),
            stamp: stamp_of(&root.join(path)),
        }
    }

    fn set_age(path: &Path, seconds: u64) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(seconds))
            .unwrap();
    }

    #[test]
    fn a_recently_modified_file_gets_no_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lib.rs");
        std::fs::write(&file, "pub fn f() {}").unwrap();
        assert_eq!(stamp_of(&file), None);
        set_age(&file, 60);
        assert_eq!(stamp_of(&file).map(|(size, _)| size), Some(13));
        assert_eq!(stamp_of(&dir.path().join("gone.rs")), None);
    }

    #[test]
    fn a_file_is_unchanged_while_its_text_is_and_absent_while_it_is_not_there() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("lib.rs"), "pub fn f() {}").unwrap();
        set_age(&root.join("lib.rs"), 60);
        let kept = looked(root, "lib.rs");
        assert!(kept.stamp.is_some());
        assert!(kept.unchanged(root));
        // Touched, same text: the stamp no longer vouches, the digest does.
        set_age(&root.join("lib.rs"), 30);
        assert!(kept.unchanged(root));
        // Edited.
        std::fs::write(root.join("lib.rs"), "pub fn g() {}").unwrap();
        assert!(!kept.unchanged(root));
        std::fs::remove_file(root.join("lib.rs")).unwrap();
        assert!(!kept.unchanged(root));
        // Looked for and not found: unchanged until it appears.
        let absent = looked(root, "main.rs");
        assert_eq!(absent.digest, None);
        assert!(absent.unchanged(root));
        std::fs::write(root.join("main.rs"), "fn main() {}").unwrap();
        assert!(!absent.unchanged(root));
    }

    #[test]
    fn two_readings_are_the_same_when_paths_and_texts_are() {
        let file = |path: &str, digest: Option<&str>, stamp| LookedFile {
            path: path.to_owned(),
            digest: digest.map(str::to_owned),
            stamp,
        };
        let a = vec![
            file("a.rs", Some("1"), Some((1, 1))),
            file("b.rs", None, None),
        ];
        // Stamps do not count.
        let b = vec![file("a.rs", Some("1"), None), file("b.rs", None, None)];
        assert!(same_files(&a, &b));
        assert!(!same_files(&a, &b[..1].to_vec()));
        let c = vec![file("a.rs", Some("2"), None), file("b.rs", None, None)];
        assert!(!same_files(&a, &c));
    }
}
