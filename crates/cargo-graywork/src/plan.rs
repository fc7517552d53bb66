//! `graph` and `upgrade-plan`: their arguments and how they run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use graywork_plan::{
    ApplyOptions, Exposure, Goal, GraphFormat, PlanFormat, PlanOptions, Status, Strategy,
    TreeFacts, apply_saved_stage, apply_stage, read_saved_plan, render_explain, render_graph,
    render_plan, render_report,
};
use graywork_workspace::{CargoOptions, DepKind, ResolveMode, Source, Workspace};

use crate::member_reads::MemberReads;

/// Where the workspace comes from: shared by `graph` and `upgrade-plan`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InputArgs {
    /// The target workspace's Cargo.toml or its directory (default: the current directory's
    /// workspace).
    #[arg(long, value_name = "PATH", conflicts_with = "metadata_file", value_parser = crate::args::manifest_path)]
    pub manifest_path: Option<PathBuf>,
    /// A saved `cargo metadata --format-version 1` JSON file, instead of running cargo.
    #[arg(long, value_name = "FILE")]
    pub metadata_file: Option<PathBuf>,
    /// Run the full `cargo metadata` resolve instead of `--no-deps` (slower; exact about
    /// registry dependencies that share a member's name).
    #[arg(long, conflicts_with = "metadata_file")]
    pub resolve: bool,
    /// Pass `--offline` to cargo.
    #[arg(long, conflicts_with = "metadata_file")]
    pub offline: bool,
}

impl InputArgs {
    /// The metadata source these arguments name.
    pub fn source(&self) -> Source {
        match &self.metadata_file {
            Some(file) => Source::MetadataFile(file.clone()),
            None => Source::Cargo(CargoOptions {
                manifest_path: self.manifest_path.clone(),
                resolve: if self.resolve {
                    ResolveMode::Full
                } else {
                    ResolveMode::NoDeps
                },
                offline: self.offline,
            }),
        }
    }
}

/// Dependency kinds as `--kinds` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// `[dependencies]`.
    Normal,
    /// `[build-dependencies]`.
    Build,
    /// `[dev-dependencies]`.
    Dev,
}

impl From<KindArg> for DepKind {
    fn from(kind: KindArg) -> DepKind {
        match kind {
            KindArg::Normal => DepKind::Normal,
            KindArg::Build => DepKind::Build,
            KindArg::Dev => DepKind::Dev,
        }
    }
}

/// Arguments of `graph`.
#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// Where the workspace comes from.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,
    /// Dependency kinds to show.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [KindArg::Normal, KindArg::Build, KindArg::Dev])]
    pub kinds: Vec<KindArg>,
}

/// The goal of `upgrade-plan`: exactly one.
#[derive(Debug, Clone, Default, clap::Args)]
#[group(multiple = false)]
pub struct GoalArgs {
    /// Move a contract's consumers to a new major: NAME@MAJOR, for example billing@2.
    #[arg(long, value_name = "NAME@MAJOR")]
    pub contract: Option<String>,
    /// Bump a workspace member and everything depending on it: NAME@VERSION.
    #[arg(long = "crate", value_name = "NAME@VERSION")]
    pub krate: Option<String>,
    /// Upgrade an external dependency across the members that use it: NAME@VERSION.
    #[arg(long, value_name = "NAME@VERSION")]
    pub dep: Option<String>,
    /// Move the workspace to a toolchain, for example 1.96: one workspace-wide stage (the pin).
    #[arg(long, value_name = "VERSION")]
    pub toolchain: Option<String>,
    /// Move every member to an edition, for example 2024: dependents first, so no member's
    /// MSRV is ever below a dependency's.
    #[arg(long, value_name = "EDITION")]
    pub edition: Option<String>,
}

impl GoalArgs {
    /// Parses the one goal given.
    pub fn goal(&self) -> anyhow::Result<Goal> {
        if let Some(text) = &self.contract {
            Goal::contract(text)
        } else if let Some(text) = &self.krate {
            Goal::krate(text)
        } else if let Some(text) = &self.dep {
            Goal::dep(text)
        } else if let Some(text) = &self.toolchain {
            Goal::toolchain(text)
        } else if let Some(text) = &self.edition {
            Goal::edition(text)
        } else {
            anyhow::bail!(
                "no goal given: pass one of --contract, --crate, --dep, --toolchain, --edition"
            )
        }
    }
}

/// Arguments of `upgrade-plan`.
#[derive(Debug, clap::Args)]
pub struct UpgradePlanArgs {
    /// What to plan for.
    #[command(flatten)]
    pub goal: GoalArgs,
    /// Where the workspace comes from.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Instead of the plan, print why CRATE sits in its stage (the dependency chain); honours
    /// `--format json`.
    #[arg(long, value_name = "CRATE", conflicts_with = "apply")]
    pub explain: Option<String>,
    /// Make stage N's manifest edits in place (toml_edit keeps formatting and comments) and
    /// print what changed; code changes are listed, never made.
    #[arg(long, value_name = "N")]
    pub apply: Option<usize>,
    /// With --apply: take the plan saved in FILE (--save) instead of planning again, so stage
    /// N is the stage that was read; refuses when the tree drifted from what it expects.
    #[arg(long, value_name = "FILE", requires = "apply")]
    pub plan: Option<PathBuf>,
    /// Also write the whole plan, as JSON, to FILE, for `--apply N --plan FILE` later.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["plan", "explain"])]
    pub save: Option<PathBuf>,
    /// With --apply: print the edits as a unified diff instead of writing them.
    #[arg(long, requires = "apply")]
    pub dry_run: bool,
    /// With --apply: apply even though an earlier stage is not done.
    #[arg(long, requires = "apply")]
    pub force: bool,
    /// Plan a goal below what the workspace has today instead of refusing it.
    #[arg(long)]
    pub allow_downgrade: bool,
    /// How shared declarations move: for --dep, a [workspace.dependencies] entry to a
    /// semver-incompatible version (lockstep or side-by-side); for --crate, a breaking bump
    /// (lockstep with its dependents, or side-by-side: they keep the last published version
    /// and move one by one); for --edition, an inherited
    /// [workspace.package] edition (lockstep, or staged: members declare their own in stages,
    /// the last stage inherits again).
    #[arg(long, value_enum, default_value_t = Strategy::Lockstep)]
    pub strategy: Strategy,
    /// Instead of the plan, print every line of MEMBER that a `--dep` goal's new major is
    /// predicted to break (the plan lists them per stage too).
    #[arg(long, value_name = "MEMBER", conflicts_with_all = ["apply", "explain"])]
    pub explain_impact: Option<String>,
    /// Do not predict the lines a `--dep` goal's new major breaks (no sources are fetched).
    #[arg(long, conflicts_with = "explain_impact")]
    pub no_impact: bool,
    /// Leave out the stages that are already done.
    #[arg(long, conflicts_with = "apply")]
    pub hide_done: bool,
    /// Show only the stages and changes of these members (repeatable; not with --apply, which
    /// applies a stage whole so the plan's invariant holds).
    #[arg(
        short = 'p',
        long = "package",
        value_name = "CRATE",
        conflicts_with = "apply"
    )]
    pub packages: Vec<String>,
    /// Leave out these members' changes, and stages left with nothing (repeatable; not with
    /// --apply).
    #[arg(long, value_name = "CRATE", conflicts_with = "apply")]
    pub exclude: Vec<String>,
}

/// Runs `graph`.
pub(crate) fn run_graph(args: GraphArgs) -> anyhow::Result<ExitCode> {
    let workspace = Workspace::load(&args.input.source())?;
    for notice in &workspace.notices {
        eprintln!("note: {notice}");
    }
    let kinds: Vec<DepKind> = args.kinds.iter().copied().map(DepKind::from).collect();
    crate::output::print(&render_graph(&workspace, &kinds, args.format))?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `upgrade-plan`.
pub(crate) fn run_upgrade_plan(
    args: UpgradePlanArgs,
    context: crate::Context,
) -> anyhow::Result<ExitCode> {
    if let Some(file) = &args.plan {
        return apply_saved(&args, file);
    }
    // The goal is parsed before cargo runs, so a malformed goal fails fast.
    let goal = args.goal.goal()?;
    let workspace = Workspace::load(&args.input.source())?;
    // Members are read once, for the public-API ties and the predicted lines alike, and what
    // they answer is kept for the next run.
    let reads = MemberReads::new(crate::cache::Cache::for_workspace(&workspace));
    let mut facts = tree_facts_with(&workspace, &goal, args.strategy, &reads);
    let options = PlanOptions {
        explain: args.explain.clone(),
        allow_downgrade: args.allow_downgrade,
        strategy: args.strategy,
        contract_check: Some(format!("{} check-contracts", context.runner)),
    };
    let mut plan = graywork_plan::plan_reading_guards(&workspace, &mut facts, &goal, &options)?;
    // The lines a dependency's new major breaks, predicted from both versions' sources: for
    // people reading the plan, so not when a stage is only applied.
    let impact = match &goal {
        _ if args.apply.is_some() || args.no_impact => None,
        Goal::Dep { name, version } => {
            crate::impact::impact_facts(&workspace, name, version, args.input.offline, &reads)
        }
        Goal::Crate { name, version } => {
            crate::impact::crate_impact_facts(&workspace, name, version, args.input.offline, &reads)
        }
        _ => None,
    };
    reads.save(&workspace);
    if let Some(impact) = impact {
        graywork_plan::impact::attach(&mut plan, &impact, &|index| {
            workspace.members[index].name.clone()
        });
    }
    if let Some(member) = &args.explain_impact {
        if workspace.member(member).is_none() {
            anyhow::bail!(
                "unknown crate `{member}` in --explain-impact ({})",
                graywork_workspace::known_names_hint(member, workspace.member_names())
            );
        }
        crate::output::print(&graywork_plan::impact::explain(&plan, member))?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(file) = &args.save {
        std::fs::write(file, render_plan(&plan, PlanFormat::Json))
            .with_context(|| format!("cannot write the plan to {}", file.display()))?;
    }
    if let Some(stage) = args.apply {
        let apply = ApplyOptions {
            force: args.force,
            dry_run: args.dry_run,
        };
        let report = apply_stage(workspace.root.as_std_path(), &plan, stage, apply)
            .with_context(|| format!("cannot apply stage {stage} of the plan to {goal}"))?;
        crate::output::print(&render_report(&report, args.dry_run))?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(krate) = &args.explain {
        crate::output::print(&render_explain(&plan, &workspace, krate, args.format)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    for name in args.packages.iter().chain(&args.exclude) {
        if workspace.member(name).is_none() {
            anyhow::bail!(
                "unknown crate `{name}` in -p/--exclude ({})",
                graywork_workspace::known_names_hint(name, workspace.member_names())
            );
        }
    }
    if !args.packages.is_empty() || !args.exclude.is_empty() {
        plan.limit_to(&args.packages, &args.exclude);
    }
    if args.hide_done {
        plan.stages.retain(|stage| stage.status != Status::Done);
    }
    crate::output::print(&render_plan(&plan, args.format))?;
    Ok(ExitCode::SUCCESS)
}

/// `--apply N --plan FILE`: stage N of the saved plan, on the workspace the input names. A goal
/// given beside it must be the saved plan's.
fn apply_saved(args: &UpgradePlanArgs, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the saved plan {}", file.display()))?;
    let plan = read_saved_plan(&text, &file.display().to_string())?;
    let given = [
        &args.goal.contract,
        &args.goal.krate,
        &args.goal.dep,
        &args.goal.toolchain,
        &args.goal.edition,
    ]
    .into_iter()
    .any(Option::is_some);
    if given {
        let goal = args.goal.goal()?;
        if goal.target() != plan.goal.target || goal.kind() != plan.goal.kind {
            anyhow::bail!(
                "--plan {}: it is the plan to {} ({}), not to {goal}",
                file.display(),
                plan.goal.summary,
                plan.goal.target
            );
        }
    }
    let workspace = Workspace::load(&args.input.source())?;
    let stage = args.apply.unwrap_or_default();
    let apply = ApplyOptions {
        force: args.force,
        dry_run: args.dry_run,
    };
    let report = apply_saved_stage(workspace.root.as_std_path(), &plan, stage, apply)
        .with_context(|| {
            format!(
                "cannot apply stage {stage} of the saved plan to {} ({})",
                plan.goal.summary,
                file.display()
            )
        })?;
    crate::output::print(&render_report(&report, args.dry_run))?;
    Ok(ExitCode::SUCCESS)
}

/// What the planner needs from the tree for `goal`: [`TreeFacts::collect`]; for a member bumped
/// side by side, the versions of it published where cargo finds them offline; and for a
/// `--dep` goal that members move to in more than one stage (side by side, or a new major
/// for requirements of their own), which users of the dependency name its types in their
/// public API (read as `check-contracts` reads a crate, with its default features). A member
/// whose source cannot be read is taken to expose the dependency, with a warning.
pub fn tree_facts(workspace: &Workspace, goal: &Goal, strategy: Strategy) -> TreeFacts {
    tree_facts_with(workspace, goal, strategy, &MemberReads::default())
}

/// [`tree_facts`], reading members through `reads`.
pub(crate) fn tree_facts_with(
    workspace: &Workspace,
    goal: &Goal,
    strategy: Strategy,
    reads: &MemberReads,
) -> TreeFacts {
    let mut facts = TreeFacts::collect(workspace);
    if let Goal::Crate { name, .. } = goal
        && strategy == Strategy::SideBySide
    {
        let available = graywork_plan::facts::available_versions(workspace, name);
        facts.available.insert(name.clone(), available);
    }
    let Goal::Dep { name, version } = goal else {
        return facts;
    };
    // The members to read, with every name their code knows the package by.
    let mut jobs: Vec<(usize, Vec<String>)> = Vec::new();
    for position in graywork_plan::staged_members(workspace, name, version, strategy) {
        let member = &workspace.members[position];
        // Saved metadata of a tree that is not here: nothing to read.
        if !member.manifest_path.is_file() {
            continue;
        }
        // Every name the member's code knows the package by (a renamed second entry too),
        // and the package's own name: while a side-by-side move is under way the code may
        // still say `bytes::` for a key already renamed, and the plan must keep its shape.
        let mut in_code: Vec<String> = member
            .dependencies
            .iter()
            .filter(|d| d.name == *name && d.kind != DepKind::Dev)
            .map(|d| d.local_name().replace('-', "_"))
            .collect();
        if in_code.is_empty() {
            continue;
        }
        in_code.push(name.replace('-', "_"));
        in_code.sort();
        in_code.dedup();
        jobs.push((position, in_code));
    }
    // Members are read on every core: parsing is the bulk of a plan on a large workspace,
    // and each member is read alone.
    let read = |(position, in_code): &(usize, Vec<String>)| {
        let key = format!("mentions of {}", in_code.join(" "));
        reads.answer(workspace, *position, &key, |krate| {
            in_code
                .iter()
                .flat_map(|name| krate.mentions_of(name))
                .collect::<Vec<_>>()
        })
    };
    let results = crate::parallel::map_on_all_cores(&jobs, read);
    for ((position, _), result) in jobs.iter().zip(results) {
        let member = &workspace.members[*position];
        // A source this reader cannot parse does not stop the plan: the member counts as
        // exposing the dependency (moving it with its dependents is always buildable).
        let exposures: Vec<Exposure> = match result {
            Ok(mentions) => mentions
                .into_iter()
                .map(|mention| Exposure {
                    item: mention.item,
                    file: mention.loc.file,
                    line: mention.loc.line,
                    text: mention.text,
                })
                .collect(),
            Err(error) => {
                facts.warnings.push(format!(
                        "cannot read the public API of `{}` ({error}); it is taken to name `{name}` types, so it moves with its dependents that use `{name}`",
                        member.name
                    ));
                vec![Exposure {
                    file: workspace.relative_manifest(member),
                    line: 1,
                    text: error,
                    ..Exposure::default()
                }]
            }
        };
        if !exposures.is_empty() {
            facts.exposures.insert(*position, exposures);
        }
    }
    facts
}
