//! `check-contracts`: its arguments and how it runs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use graywork_contracts::{
    Baseline, BuildOptions, CheckOptions, Format, LockOptions, LockUpdate, check,
};

use crate::{Context, Runner, output};

/// Arguments of `check-contracts`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CheckContractsArgs {
    /// The workspace's `Cargo.toml` (default: the current directory's workspace).
    #[arg(long, value_name = "PATH", value_parser = crate::args::manifest_path)]
    pub manifest_path: Option<PathBuf>,
    /// What to compare with: `lock` (the contract crate's contracts.lock) or a git revision.
    #[arg(
        long,
        value_name = "lock|GIT_REV",
        default_value = "lock",
        conflicts_with = "baseline_dir"
    )]
    pub baseline: String,
    /// The lock file to read or write (default: contracts.lock in the contract crate's directory).
    #[arg(long, value_name = "PATH", conflicts_with = "baseline_dir")]
    pub lock_file: Option<PathBuf>,
    /// Record the current contract surface in the lock file.
    #[arg(long, conflicts_with = "baseline_dir")]
    pub bless: bool,
    /// With `--bless`: record the surface even if the check fails.
    #[arg(long, requires = "bless")]
    pub force: bool,
    /// Compare two source trees of any crate: the old crate directory.
    #[arg(long, value_name = "OLD", requires = "crate_dir")]
    pub baseline_dir: Option<PathBuf>,
    /// Compare two source trees of any crate: the new crate directory (with
    /// `--baseline-version`, the crate to check; default: the current directory).
    #[arg(long, value_name = "NEW")]
    pub crate_dir: Option<PathBuf>,
    /// Compare the crate with this version of it published on the registry, fetched as cargo
    /// fetches a dependency (from cargo's cache when it is there).
    #[arg(
        long,
        value_name = "VERSION",
        conflicts_with_all = ["baseline_dir", "bless", "lock_file"]
    )]
    pub baseline_version: Option<String>,
    /// Features to enable besides the default ones, as for `cargo build --features`; items
    /// behind other features are not in the checked surface.
    #[arg(long, value_name = "FEATURES", value_delimiter = ',')]
    pub features: Vec<String>,
    /// Check with every feature of the crate enabled.
    #[arg(long)]
    pub all_features: bool,
    /// A cfg that holds, `NAME` or `KEY="VALUE"` (repeatable), as for `rustdoc --cfg`.
    #[arg(long = "cfg", value_name = "SPEC")]
    pub cfgs: Vec<String>,
    /// Fail when part of either tree could not be read: item-declaring macros that could not
    /// be expanded, `pub use` globs of other crates, module files that do not parse.
    #[arg(long)]
    pub deny_unread: bool,
    /// Output format (`github`: workflow commands that annotate the pull request).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

impl CheckContractsArgs {
    /// The typed options: which baseline the flags name, checked here in the flags' words.
    fn options(self, runner: Runner) -> anyhow::Result<CheckOptions> {
        let baseline = match (self.baseline_version, self.baseline_dir, self.crate_dir) {
            (Some(text), _, crate_dir) => Baseline::Published {
                crate_dir: crate_dir.unwrap_or_else(|| PathBuf::from(".")),
                version: semver::Version::parse(&text)
                    .with_context(|| format!("invalid --baseline-version `{text}`"))?,
            },
            (None, Some(old), Some(new)) => Baseline::Directories { old, new },
            (None, None, Some(_)) => anyhow::bail!(
                "--crate-dir needs a baseline: --baseline-dir OLD or --baseline-version VERSION"
            ),
            (None, _, None) if self.baseline == "lock" => Baseline::Lock(LockOptions {
                lock_file: self.lock_file,
                update: match (self.bless, self.force) {
                    (false, _) => LockUpdate::Check,
                    (true, false) => LockUpdate::Bless,
                    (true, true) => LockUpdate::BlessAnyway,
                },
            }),
            (None, _, None) => Baseline::GitRevision(self.baseline),
        };
        Ok(CheckOptions {
            manifest_path: self.manifest_path,
            baseline,
            deny_unread: self.deny_unread,
            runner,
            build: BuildOptions {
                features: self.features,
                all_features: self.all_features,
                cfgs: self.cfgs,
            },
        })
    }
}

/// Runs `check-contracts`, printing the report: exit 0 when consistent, 1 when a contract
/// broke or a requirement is unmet; usage, input and parse errors are `Err` (exit 2). With
/// `--quiet`, a passing text report prints nothing.
pub(crate) fn run(args: CheckContractsArgs, context: Context) -> anyhow::Result<ExitCode> {
    let format = args.format;
    let outcome = check(&args.options(context.runner)?)?;
    match format {
        Format::Text if context.quiet && outcome.report.ok => {}
        Format::Text => output::print(&outcome.report.to_text())?,
        Format::Json => output::print(&format!("{}\n", outcome.report.to_json()))?,
        Format::Github => output::print(&outcome.report.to_github())?,
    }
    if let Some(message) = &outcome.blessed {
        output::note(context.quiet && outcome.report.ok, message);
    }
    Ok(if outcome.report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
