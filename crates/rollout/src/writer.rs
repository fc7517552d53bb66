//! Where the driven rule lives: the [`ConfigWriter`] trait and its file backend.
//!
//! A writer reads the rule's `percent` with the fragment's revision, and writes a new percent only
//! if the fragment is still at the revision it read (compare-and-swap), so a backend with real
//! compare-and-swap (etcd) fits the same controller. [`FileWriter`] edits a file with
//! [`crate::fragment::set_rule_percent`] and replaces it atomically (temp file, fsync, rename);
//! [`crate::etcd_writer::EtcdWriter`] keeps the fragment in an etcd key.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::fragment::{self, FragmentError};

/// A fragment's version as its backend knows it: a content digest for files, a revision in etcd.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Revision(pub String);

/// The driven rule as the fragment holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// The rule's `percent`.
    pub percent: u8,
    /// The fragment's revision.
    pub revision: Revision,
}

/// Why a fragment could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Reading or replacing the file failed.
    #[error("{location}: {source}")]
    Io {
        /// The fragment's location.
        location: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The fragment does not hold the rule as a percentage rule, or is not valid TOML.
    #[error("{location}: {source}")]
    Fragment {
        /// The fragment's location.
        location: String,
        /// What is wrong with it.
        source: FragmentError,
    },
    /// The fragment's store (etcd) failed or does not hold it.
    #[error("{location}: {message}")]
    Store {
        /// The fragment's location.
        location: String,
        /// What failed, naming the endpoint.
        message: String,
    },
    /// Someone else changed the fragment since it was read.
    #[error(
        "{location} changed since it was read (revision {found}, expected {expected}); someone else is editing it"
    )]
    Conflict {
        /// The fragment's location.
        location: String,
        /// The revision read.
        expected: String,
        /// The revision found.
        found: String,
    },
}

/// Reads and writes the driven rule's `percent`. The next backend (etcd) implements the same
/// trait with a compare-and-swap on the key's revision.
pub trait ConfigWriter: Send + Sync {
    /// Where the fragment lives, for messages and events: a path or a key.
    fn location(&self) -> String;

    /// The rule's percent and the fragment's revision.
    fn read(&self) -> Result<Fragment, WriteError>;

    /// Sets the rule's percent, if the fragment is still at `expected`; returns the new revision
    /// (`expected` itself when the percent was already `percent`, since nothing is written).
    fn write_percent(&self, percent: u8, expected: &Revision) -> Result<Revision, WriteError>;
}

/// What [`set_percent`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The percent before.
    pub from: u8,
    /// The percent after.
    pub to: u8,
    /// The fragment's revision after.
    pub revision: Revision,
    /// Whether anything was written (false when the percent already was `to`).
    pub changed: bool,
}

/// Reads the rule and sets its percent to `percent` with compare-and-swap on what was read.
pub fn set_percent(writer: &dyn ConfigWriter, percent: u8) -> Result<Written, WriteError> {
    let current = writer.read()?;
    if current.percent == percent {
        return Ok(Written {
            from: percent,
            to: percent,
            revision: current.revision,
            changed: false,
        });
    }
    let revision = writer.write_percent(percent, &current.revision)?;
    Ok(Written {
        from: current.percent,
        to: percent,
        revision,
        changed: true,
    })
}

/// A fragment file shared by every instance (one config directory, or a synchronised copy).
#[derive(Debug, Clone)]
pub struct FileWriter {
    path: PathBuf,
    rule: String,
}

impl FileWriter {
    /// A writer for rule `rule` in the file at `path`.
    pub fn new(path: &Path, rule: &str) -> FileWriter {
        FileWriter {
            path: path.to_owned(),
            rule: rule.to_owned(),
        }
    }

    fn io(&self, source: std::io::Error) -> WriteError {
        WriteError::Io {
            location: self.location(),
            source,
        }
    }

    fn fragment(&self, source: FragmentError) -> WriteError {
        WriteError::Fragment {
            location: self.location(),
            source,
        }
    }

    fn read_text(&self) -> Result<(String, Revision), WriteError> {
        let text = fs::read_to_string(&self.path).map_err(|e| self.io(e))?;
        let revision = digest(&text);
        Ok((text, revision))
    }

    /// Replaces the file with `text`: a temp file beside it (whose name does not end in `.toml`,
    /// so a watching gateway ignores it) is written, synced and renamed over the fragment, so an
    /// instance reloading at any moment reads either the old or the new file, never half of one.
    fn replace(&self, text: &str) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .map_or_else(|| "fragment".into(), |n| n.to_string_lossy());
        let temp = dir.join(format!(".{name}.rollout-tmp"));
        let mut file = fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        if let Ok(metadata) = fs::metadata(&self.path) {
            file.set_permissions(metadata.permissions())?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, &self.path)?;
        // The rename is durable once the directory entry is.
        fs::File::open(dir)?.sync_all()
    }
}

impl ConfigWriter for FileWriter {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self) -> Result<Fragment, WriteError> {
        let (text, revision) = self.read_text()?;
        let percent = fragment::rule_percent(&text, &self.rule).map_err(|e| self.fragment(e))?;
        Ok(Fragment { percent, revision })
    }

    fn write_percent(&self, percent: u8, expected: &Revision) -> Result<Revision, WriteError> {
        let (text, revision) = self.read_text()?;
        if &revision != expected {
            return Err(WriteError::Conflict {
                location: self.location(),
                expected: expected.0.clone(),
                found: revision.0,
            });
        }
        let changed =
            fragment::set_rule_percent(&text, &self.rule, percent).map_err(|e| self.fragment(e))?;
        if changed == text {
            return Ok(revision);
        }
        self.replace(&changed).map_err(|e| self.io(e))?;
        Ok(digest(&changed))
    }
}

fn digest(text: &str) -> Revision {
    let hash = Sha256::digest(text.as_bytes());
    Revision(hash.iter().take(12).map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# keep me\n[[gray.rules]]\nname = \"r\"\nroute = { billing = \"v2\" }\npercent = 0 # driven\nbucket_by = \"header:U\"\n";

    #[test]
    fn set_percent_rewrites_only_the_number_and_reports_the_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollout.toml");
        fs::write(&path, TEXT).unwrap();
        let writer = FileWriter::new(&path, "r");
        let written = set_percent(&writer, 25).unwrap();
        assert_eq!((written.from, written.to, written.changed), (0, 25, true));
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            TEXT.replace("percent = 0", "percent = 25")
        );
        assert_eq!(writer.read().unwrap().revision, written.revision);
        let again = set_percent(&writer, 25).unwrap();
        assert!(!again.changed);
        assert_eq!(again.revision, written.revision);
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "the temp file is renamed away");
    }

    #[test]
    fn a_fragment_changed_since_it_was_read_is_a_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollout.toml");
        fs::write(&path, TEXT).unwrap();
        let writer = FileWriter::new(&path, "r");
        let read = writer.read().unwrap();
        fs::write(&path, TEXT.replace("percent = 0", "percent = 5")).unwrap();
        let error = writer.write_percent(10, &read.revision).unwrap_err();
        assert!(matches!(error, WriteError::Conflict { .. }), "{error}");
        assert!(
            error
                .to_string()
                .contains("rollout.toml changed since it was read")
        );
        assert_eq!(writer.read().unwrap().percent, 5, "nothing was overwritten");
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.toml");
        let error = FileWriter::new(&path, "r").read().unwrap_err().to_string();
        assert!(error.starts_with(&path.display().to_string()), "{error}");
        fs::write(&path, TEXT).unwrap();
        let error = FileWriter::new(&path, "other")
            .read()
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            format!(
                "{}: no `[[gray.rules]]` entry is named `other`",
                path.display()
            )
        );
    }
}
