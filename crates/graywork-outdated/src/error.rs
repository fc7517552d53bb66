//! The one error type of `outdated`: every variant names the file, registry or crate that
//! could not be read, so a user can act on the message alone.

use std::path::PathBuf;

/// Why `outdated` could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutdatedError {
    /// The workspace has no `Cargo.lock`, so there are no locked versions to compare.
    #[error(
        "no Cargo.lock at {}: `outdated` compares the locked versions; run `cargo generate-lockfile` first",
        path.display()
    )]
    NoLockfile {
        /// Where the lock file was looked for.
        path: PathBuf,
    },
    /// A file could not be read from disk.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A TOML file (lock file, cargo config) is malformed or has a value of the wrong shape.
    #[error("{}: {message}", path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the key or line.
        message: String,
    },
    /// A registry or source in the cargo configuration cannot be used.
    #[error("{message}")]
    Source {
        /// What is wrong and what to do about it, naming the source and the config file.
        message: String,
    },
    /// The index has no entry for a crate: offline and never fetched, or not in the registry.
    #[error("{message}")]
    NotInIndex {
        /// The crate, the registry, the path looked at, and what to do.
        message: String,
    },
    /// An index entry could not be parsed.
    #[error("malformed index entry for `{krate}` in {}{}: {message}", path.display(), version_line(*line))]
    MalformedIndexEntry {
        /// The crate.
        krate: String,
        /// The entry's file (a cache entry or a local registry's index file).
        path: PathBuf,
        /// The 1-based version record that failed, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// `cargo update --dry-run`, which refreshes cargo's index cache, failed.
    #[error(
        "could not refresh the registry index with `cargo update --dry-run` in {}: {stderr}\n(pass --offline to answer from cargo's local index cache)",
        root.display()
    )]
    Refresh {
        /// The workspace root.
        root: PathBuf,
        /// What cargo said.
        stderr: String,
    },
    /// A member named in `--package` or `--exclude` is not in the workspace.
    #[error("{flag} {name}: unknown member `{name}` ({hint})")]
    UnknownMember {
        /// `--package` or `--exclude`.
        flag: &'static str,
        /// The name given.
        name: String,
        /// The known members, and the closest one.
        hint: String,
    },
}

fn version_line(line: Option<usize>) -> String {
    line.map(|line| format!(" (version record {line})"))
        .unwrap_or_default()
}
