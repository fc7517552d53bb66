//! `check-contracts`: semver compatibility of versioned trait contracts and their wiring.
//!
//! The pipeline: the surface reader parses a crate's sources with syn into a normalised public
//! [`Surface`]; [`diff`] compares two surfaces and names each change with a [`Lint`], which
//! carries the [`Bump`] it needs; the version discipline checks each contract module's
//! `VERSION` against those bumps; the wiring check compares consumers' ranges with providers'
//! features; [`Report`] prints text, JSON or GitHub workflow commands. The baseline
//! ([`Baseline`]) is the lock file, a git revision, another source tree or a published version.
//!
//! ```no_run
//! use graywork_contracts::{CheckOptions, check};
//!
//! let outcome = check(&CheckOptions::default())?;
//! print!("{}", outcome.report.to_text());
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! [`affected_uses`] predicts the lines of a crate that a dependency's new version breaks.
#![warn(unreachable_pub)]

use std::path::PathBuf;

use semver::Version;

use graywork_workspace::Runner;

mod contract_crate;
mod diff;
mod directories;
mod early;
mod impact;
mod lint;
mod lock;
mod manifest;
mod read;
mod registry;
mod report;
mod semver_trick;
mod surface;
mod version;
mod wiring;

pub use diff::{Finding, Severity, diff, required_bump};
pub use directories::{compare_dirs, compare_dirs_with};
pub use impact::{AffectedUse, Certainty, affected_uses, affected_uses_in, breaking_changes};
pub use lint::{Bump, Family, Level, Lint};
pub use lock::{parse as parse_lock, render as render_lock};
pub use manifest::{BuildOptions, CrateManifest};
pub use read::{public_api_mentions, read_crate, read_member, read_member_telling};
pub use registry::{cached_published, fetch_published};
pub use report::{Report, UnreadPart};
// `tidy` is the normaliser the surface's type strings come from, for callers that look a
// type they hold up in a `Surface`.
pub use surface::{Crate, Location, Mention, Surface, Unread, UnreadKind, extract_dir, tidy};
pub use version::contract_surface;

pub(crate) use read::{crate_entry, read_crate_alone};

use contract_crate::Against;

/// The lock file's name, in the contract crate's directory.
pub const LOCK_FILE_NAME: &str = "contracts.lock";

/// Output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// Grouped by contract and severity.
    #[default]
    Text,
    /// `{"required_bump": ..., "findings": [...]}`.
    Json,
    /// GitHub Actions workflow commands (`::error file=...,line=...::message`), so findings
    /// show on the pull request's diff.
    Github,
}

/// What `check-contracts` compares and how.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The workspace's `Cargo.toml` (default: the current directory's workspace), for the
    /// baselines that check the workspace's contract crate.
    pub manifest_path: Option<PathBuf>,
    /// What to compare with.
    pub baseline: Baseline,
    /// The command that runs the tool, for the fixes messages suggest.
    pub runner: Runner,
    /// Which build of the crate is checked (features and cfg flags).
    pub build: BuildOptions,
    /// Fail when part of either tree could not be read (macros not expanded, glob
    /// re-exports of other crates, files that do not parse).
    pub deny_unread: bool,
}

/// What a check compares with.
#[derive(Debug, Clone)]
pub enum Baseline {
    /// The workspace's contract crate against its lock file.
    Lock(LockOptions),
    /// The workspace's contract crate against its sources at a git revision.
    GitRevision(String),
    /// Two source trees of any crate.
    Directories {
        /// The baseline crate directory.
        old: PathBuf,
        /// The crate directory checked.
        new: PathBuf,
    },
    /// A crate directory against a version of the crate published on the registry, fetched
    /// as cargo fetches a dependency.
    Published {
        /// The crate directory checked.
        crate_dir: PathBuf,
        /// The published version to compare with.
        version: Version,
    },
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline::Lock(LockOptions::default())
    }
}

/// How the lock file is read and written.
#[derive(Debug, Clone, Default)]
pub struct LockOptions {
    /// The lock file (default: contracts.lock in the contract crate's directory).
    pub lock_file: Option<PathBuf>,
    /// Whether the run records the surface.
    pub update: LockUpdate,
}

/// Whether a lock-file check records the current contract surface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LockUpdate {
    /// Compare with the lock file only.
    #[default]
    Check,
    /// Record the surface when the check passes (a missing lock file is a first record).
    Bless,
    /// Record the surface even when the check fails, or the lock file cannot be read.
    BlessAnyway,
}

impl LockUpdate {
    /// Whether the run records the surface.
    pub fn blesses(self) -> bool {
        self != LockUpdate::Check
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The findings.
    pub report: Report,
    /// Set when `--bless` wrote the lock file: what it wrote.
    pub blessed: Option<String>,
}

/// Runs the check without printing.
pub fn check(args: &CheckOptions) -> anyhow::Result<Outcome> {
    let mut outcome = check_without_coverage_policy(args)?;
    if args.deny_unread && !outcome.report.unread.is_empty() {
        outcome.report.deny_unread = true;
        outcome.report.ok = false;
    }
    Ok(outcome)
}

fn check_without_coverage_policy(args: &CheckOptions) -> anyhow::Result<Outcome> {
    let report = match &args.baseline {
        Baseline::Published { crate_dir, version } => {
            directories::compare_with_published(crate_dir, version, &args.build)?
        }
        Baseline::Directories { old, new } => compare_dirs_with(old, new, &args.build)?,
        Baseline::Lock(lock) => return contract_crate::check(args, Against::Lock(lock)),
        Baseline::GitRevision(revision) => {
            return contract_crate::check(args, Against::GitRevision(revision));
        }
    };
    Ok(Outcome {
        report,
        blessed: None,
    })
}
