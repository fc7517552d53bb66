//! Reading the gateway's config: the load options the command line's config arguments give,
//! one load that names the directory when it fails, and the gateway's own sections checked out
//! of a snapshot. Every subcommand that reads config starts here.

use anyhow::Context as _;

use crate::cli::ConfigArgs;
use crate::routing::BILLING_DIMENSION;
use crate::settings::Settings;
use crate::version::BILLING_VERSIONS;

/// The load options for `args`: the process environment, `--env` over `ENV`, and the billing
/// versions this build has as the only routable ones.
pub(crate) fn load_options(args: &ConfigArgs) -> gray::LoadOptions {
    // Fragments are what a reload changes; the gateway's own sections are read at start, so
    // they may not hide in gray/ (`[faults]` is read per request, so drills may use it).
    let mut options = gray::LoadOptions::from_process_env(&args.config_dir)
        .with_routes(BILLING_DIMENSION, BILLING_VERSIONS)
        .with_fragment_sections(&["gray", "faults"]);
    if let Some(env) = &args.env {
        options = options.with_env(env);
    }
    options
}

/// Loads the config once, naming the directory on failure.
pub(crate) fn load(options: &gray::LoadOptions) -> anyhow::Result<gray::Snapshot> {
    gray::load(options)
        .with_context(|| format!("cannot load config from {}", options.dir.display()))
}

/// Reads the gateway's sections from a snapshot.
pub(crate) fn settings(snapshot: &gray::Snapshot) -> anyhow::Result<Settings> {
    crate::settings::check_sections(snapshot).context("invalid gateway settings")?;
    let settings = snapshot
        .deserialize::<Settings>()
        .context("invalid gateway settings")?;
    crate::settings::check_values(&settings)
        .map_err(|message| anyhow::anyhow!("invalid gateway settings: {message}"))?;
    Ok(settings)
}
