//! `outdated`: its arguments, and the glue that joins `graywork-outdated`'s report with
//! `graywork-plan`'s stage counts.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use graywork_outdated::{OutdatedFormat, Selection, Settings};
use graywork_plan::{Goal, PlanOptions, Strategy};
use graywork_workspace::{CargoOptions, DepKind, ResolveMode, Source, Workspace};

use crate::plan::KindArg;

/// Arguments of `outdated`.
#[derive(Debug, clap::Args)]
pub struct OutdatedArgs {
    /// The target workspace's Cargo.toml or its directory (default: the current directory's
    /// workspace).
    #[arg(long, value_name = "PATH", value_parser = crate::args::manifest_path)]
    pub manifest_path: Option<PathBuf>,
    /// Answer from cargo's local index cache, without letting cargo refresh it; the output
    /// says how old the cache is.
    #[arg(long)]
    pub offline: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutdatedFormat::Text)]
    pub format: OutdatedFormat,
    /// Only the dependencies these members use (repeatable).
    #[arg(short = 'p', long = "package", value_name = "CRATE")]
    pub packages: Vec<String>,
    /// Leave out the dependencies only these members use (repeatable).
    #[arg(long, value_name = "CRATE")]
    pub exclude: Vec<String>,
    /// Only these dependency kinds (repeatable or comma-separated; default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub kind: Vec<KindArg>,
    /// Count pre-release versions as updates.
    #[arg(long)]
    pub pre: bool,
    /// Count yanked versions as updates.
    #[arg(long)]
    pub yanked: bool,
    /// Print the plans instead of the table: an `upgrade-plan --dep` command (with its stage
    /// count) per update the requirements do not admit, and one stage raising every
    /// requirement that has a compatible update.
    #[arg(long)]
    pub plan: bool,
    /// Make the compatible-updates stage's edits in the manifests (with `toml_edit`, keeping
    /// formatting and comments) instead of printing the plans; `cargo update` then moves the
    /// lock file.
    #[arg(long, requires = "plan")]
    pub apply: bool,
    /// With `--apply`: print the edits as a diff, writing nothing.
    #[arg(long, requires = "apply")]
    pub dry_run: bool,
    /// With `--plan`: do not predict the lines each major breaks (the stage counts stay);
    /// predicting reads both versions of every updated dependency and the members using them.
    #[arg(long, requires = "plan")]
    pub no_impact: bool,
}

/// Runs `outdated`.
pub(crate) fn run(args: OutdatedArgs, context: crate::Context) -> anyhow::Result<ExitCode> {
    let workspace = Workspace::load(&Source::Cargo(CargoOptions {
        manifest_path: args.manifest_path.clone(),
        resolve: ResolveMode::NoDeps,
        offline: args.offline,
    }))?;
    let selection = Selection {
        packages: args.packages,
        exclude: args.exclude,
        kinds: args.kind.into_iter().map(DepKind::from).collect(),
        pre: args.pre,
        yanked: args.yanked,
    };
    let settings = Settings::from_env(args.offline)?;
    let facts = graywork_outdated::collect(&workspace, &settings, &selection)?;
    let report = graywork_outdated::report(&facts, &selection, SystemTime::now());
    if !args.plan {
        crate::output::print(&graywork_outdated::render_report(&report, args.format))?;
        return Ok(ExitCode::SUCCESS);
    }
    let manifest_arg = args
        .manifest_path
        .as_ref()
        .map(|path| format!("--manifest-path {}", path.display()));
    let mut plan =
        graywork_outdated::plan(&report, &workspace, context.runner, manifest_arg.as_deref());
    if args.apply {
        // The compatible stage needs neither stage counts nor predictions.
        return apply_compatible(&workspace, &plan.compatible, args.dry_run);
    }
    // Each member's sources are read once for all the updates, and the updates are planned on
    // every core.
    let reads =
        crate::member_reads::MemberReads::new(crate::cache::Cache::for_workspace(&workspace));
    let stages = crate::parallel::map_on_all_cores(&plan.incompatible, |update| {
        // A goal the planner refuses leaves the count out; the command still says how to ask.
        Goal::dep(&format!("{}@{}", update.name, update.version))
            .and_then(|goal| {
                // The same facts `upgrade-plan --dep` plans with, so the counts agree.
                let facts =
                    crate::plan::tree_facts_with(&workspace, &goal, Strategy::default(), &reads);
                graywork_plan::plan(&workspace, &facts, &goal, &PlanOptions::default())
            })
            .map(|staged| staged.stages.len())
            .ok()
    });
    // The lines each major breaks, when cargo's cache holds both versions (nothing is fetched
    // here: `upgrade-plan --dep` fetches and lists them).
    let updates: Vec<(String, semver::Version)> = plan
        .incompatible
        .iter()
        .filter(|_| !args.no_impact)
        .map(|update| (update.name.clone(), update.version.clone()))
        .collect();
    let mut impacts = crate::impact::impact_facts_each(&workspace, &updates, true, &reads);
    reads.save(&workspace);
    impacts.resize_with(plan.incompatible.len(), || None);
    for ((update, stages), impact) in plan.incompatible.iter_mut().zip(stages).zip(impacts) {
        update.stages = stages;
        update.impact_lines = impact
            .filter(|impact| impact.summary.notes.is_empty())
            .map(|impact| impact.members.values().map(|m| m.lines.len()).sum());
    }
    crate::output::print(&graywork_outdated::render_plan(&report, &plan, args.format))?;
    Ok(ExitCode::SUCCESS)
}

/// `--plan --apply`: the compatible-updates stage through upgrade-plan's own `--apply`, so both
/// edit manifests one way.
fn apply_compatible(
    workspace: &Workspace,
    compatible: &graywork_outdated::plan::CompatiblePlan,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let Some(stage) = compatible.stages.first() else {
        crate::output::print("no compatible updates to apply\n")?;
        return Ok(ExitCode::SUCCESS);
    };
    let report = graywork_plan::apply_changes(
        workspace.root.as_std_path(),
        &stage.changes,
        stage.index,
        dry_run,
    )?;
    crate::output::print(&graywork_plan::render_report(&report, dry_run))?;
    Ok(ExitCode::SUCCESS)
}
