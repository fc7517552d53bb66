//! The planner: turns a goal and a workspace's dependency graph into stages, each with its
//! crates, changes, test gate, rollback point, status and gray rollout steps.

use std::collections::{BTreeMap, BTreeSet};

use semver::Version;
use serde::{Deserialize, Serialize};

mod contract;
mod dep;

pub use dep::staged_members;
pub use graywork_workspace::schema::{
    Change, ChangeKind, EditOp, Gate, Phase, RolloutStep, Stage, Status,
};

use super::facts::TreeFacts;
use super::goal::Goal;
use super::graph::{DepGraph, Layering, Ordering};
use graywork_workspace::{
    Declared, DepKind, MajorMigrations, Member, RolloutDecl, Site, Workspace, known_names_hint,
};

/// The version of the JSON plan format. A change that removes or renames a field bumps it.
pub const PLAN_SCHEMA: &str = "graywork.upgrade-plan/v3";

/// A staged upgrade plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// The JSON format version, [`PLAN_SCHEMA`].
    pub schema: String,
    /// What the plan moves the workspace to.
    pub goal: GoalSummary,
    /// Things the reader must know: cycles, dependencies taken to be members, odd goals.
    pub warnings: Vec<String>,
    /// The stages, in the order they run.
    pub stages: Vec<Stage>,
    /// Why each crate sits where it does, for `--explain`.
    #[serde(skip)]
    pub placements: BTreeMap<String, Vec<Placement>>,
    /// For a dependency's new major: how many lines of the members use what it breaks, in
    /// all (each stage lists its own as code changes). `None` when not computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<ImpactSummary>,
}

/// The prediction of the lines a dependency's new major breaks, for the whole plan (filled
/// in by `impact::attach`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactSummary {
    /// The dependency.
    pub dependency: String,
    /// The versions compared: what the lockfile resolves today, and the target.
    pub from: Vec<String>,
    /// The target version.
    pub to: String,
    /// Affected lines in all members.
    pub lines: usize,
    /// Of those, how many are certain.
    pub certain: usize,
    /// Affected lines per member (members that use the dependency, with 0 when none).
    pub members: BTreeMap<String, usize>,
    /// What could not be predicted, and why (sources not in cargo's cache, say).
    pub notes: Vec<String>,
}

impl Plan {
    /// Limits the plan to the members in `packages` (all when empty) minus those in
    /// `exclude`: stages without any of them go, and so do other members' changes. Stage
    /// numbers stay as planned, and edits of shared declarations stay, since they move the
    /// members shown.
    pub fn limit_to(&mut self, packages: &[String], exclude: &[String]) {
        let shown = |name: &str| {
            (packages.is_empty() || packages.iter().any(|p| p == name))
                && !exclude.iter().any(|e| e == name)
        };
        self.stages.retain_mut(|stage| {
            stage.crates.retain(|name| shown(name));
            stage
                .changes
                .retain(|change| change.crate_name.as_deref().is_none_or(shown));
            !stage.crates.is_empty()
        });
        let mut scope = Vec::new();
        if !packages.is_empty() {
            scope.push(format!("only {}", packages.join(", ")));
        }
        if !exclude.is_empty() {
            scope.push(format!("without {}", exclude.join(", ")));
        }
        self.warnings
            .push(format!("the plan is limited to {}", scope.join(", ")));
    }
}

/// The goal as the output reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GoalSummary {
    /// `contract`, `crate`, `dep`, `toolchain` or `edition`.
    pub kind: String,
    /// The target as given, for example `billing@2`.
    pub target: String,
    /// One sentence, for example `move the consumers of contract billing to v2`.
    pub summary: String,
}

/// How a semver-incompatible target moves a shared `[workspace.dependencies]` entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Strategy {
    /// One stage: the entry and every member using it move at once.
    #[default]
    Lockstep,
    /// A renamed second entry beside the old one, members moving to it in dependency order,
    /// and a last stage that sets the old entry to the new version and renames members' keys
    /// back. For a member's breaking bump: its dependents keep the last published version
    /// through a renamed entry and move back to the member one layer at a time.
    SideBySide,
    /// For `--edition`: members that inherit `[workspace.package] edition` declare their own,
    /// in stages (dependents first); the last stage sets the workspace value and has them
    /// inherit it again.
    Staged,
}

impl Strategy {
    /// The name `--strategy` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Lockstep => "lockstep",
            Strategy::SideBySide => "side-by-side",
            Strategy::Staged => "staged",
        }
    }
}

/// How to plan, beside the goal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Record why this crate sits where it does (`--explain`).
    pub explain: Option<String>,
    /// Plan a goal below the current state instead of refusing it.
    pub allow_downgrade: bool,
    /// How a shared entry moves to a semver-incompatible target.
    pub strategy: Strategy,
    /// The command that checks contracts (`cargo graywork check-contracts`), added to the
    /// gates of contract plans; none when `None`.
    pub contract_check: Option<String>,
}

/// Why a crate sits in a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// The stage's 1-based index.
    pub stage: usize,
    /// Why the crate takes part in this step of the goal.
    pub reason: String,
    /// The dependency chain that puts it in this stage rather than an earlier one: each link
    /// is `(dependent, dependency, kinds, dependency's stage or None when it does not change)`.
    pub chain: Vec<ChainLink>,
    /// Whether the crate only joins the stage's test gate (through a dev-dependency).
    pub gate_only: bool,
}

/// One link of a placement chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainLink {
    /// The crate that depends.
    pub dependent: String,
    /// The crate it depends on.
    pub dependency: String,
    /// The dependency kinds, for example `normal+dev`.
    pub kinds: String,
    /// The dependency's stage, or `None` when it does not change in this step.
    pub dependency_stage: Option<usize>,
}

/// Plans `goal` over `workspace`. Unknown names and impossible goals are errors that list the
/// known names and suggest the closest.
///
/// This reads the tree's facts first ([`TreeFacts::collect`]); [`plan`] is the pure core.
/// Which members expose a dependency's types is not among those facts (reading public APIs
/// is the contract checker's): callers that want that tie fill [`TreeFacts::exposures`]
/// and call [`plan`], as `cargo graywork` does.
pub fn build_plan(workspace: &Workspace, goal: &Goal) -> anyhow::Result<Plan> {
    crate::plan_reading_guards(
        workspace,
        &mut TreeFacts::collect(workspace),
        goal,
        &PlanOptions::default(),
    )
}

/// Plans `goal` over `workspace` and the tree's `facts`, reading nothing else, and records in
/// [`Plan::placements`] why `explain` (a member's name) sits where it does. Only that crate's
/// placement is recorded: a dependency chain per crate would cost time proportional to crates
/// times depth.
pub fn plan(
    workspace: &Workspace,
    facts: &TreeFacts,
    goal: &Goal,
    options: &PlanOptions,
) -> anyhow::Result<Plan> {
    let explain = match options.explain.as_deref() {
        None => None,
        Some(name) => Some(workspace.member_index(name).ok_or_else(|| {
            anyhow::anyhow!(
                "--explain {name}: unknown crate `{name}` ({})",
                known_names_hint(name, workspace.members.iter().map(|m| m.name.as_str()))
            )
        })?),
    };
    let strategy_fits = match options.strategy {
        Strategy::Lockstep => true,
        Strategy::SideBySide => matches!(goal, Goal::Dep { .. } | Goal::Crate { .. }),
        Strategy::Staged => matches!(goal, Goal::Edition { .. }),
    };
    if !strategy_fits {
        anyhow::bail!(
            "--strategy {}: it applies to {}, not to --{} goals",
            options.strategy.as_str(),
            match options.strategy {
                Strategy::SideBySide => "--dep and --crate",
                _ => "--edition",
            },
            goal.kind()
        );
    }
    let graph = DepGraph::build(workspace);
    let ordering = graph.ordering();
    let mut builder = Builder {
        workspace,
        facts,
        options,
        graph: &graph,
        ordering,
        stages: Vec::new(),
        warnings: Vec::new(),
        placements: BTreeMap::new(),
        explain,
        chain_anchor: None,
        members_by_name: {
            let mut members: Vec<usize> = (0..workspace.members.len()).collect();
            members.sort_unstable_by(|&a, &b| {
                workspace.members[a].name.cmp(&workspace.members[b].name)
            });
            members
        },
        stage_members: Vec::new(),
        stage_cargo: Vec::new(),
    };
    builder.warnings.extend(workspace.notices.iter().cloned());
    builder.warnings.extend(facts.warnings.iter().cloned());
    builder.warn_by_name_edges();
    match goal {
        Goal::Contract { name, major } => builder.contract(name, *major)?,
        Goal::Crate { name, version } => builder.krate(name, version)?,
        Goal::Dep { name, version } => builder.dep(name, version)?,
        Goal::Toolchain { text, version } => builder.toolchain(text, version.as_ref())?,
        Goal::Edition { edition } => builder.edition(*edition)?,
    }
    builder.finish();
    Ok(Plan {
        schema: PLAN_SCHEMA.to_owned(),
        goal: GoalSummary {
            kind: goal.kind().to_owned(),
            target: goal.target(),
            summary: goal.to_string(),
        },
        warnings: unique_in_order(builder.warnings),
        stages: builder.stages,
        placements: builder.placements,
        impact: None,
    })
}

/// What a layered group of stages needs to describe one stage.
struct LayerStage<'m> {
    members: &'m [usize],
    layer: usize,
    layer_count: usize,
}

impl LayerStage<'_> {
    /// `label (n/count)`: a stage title with the layer's place among all layers.
    fn title(&self, label: &str) -> String {
        format!("{label} ({}/{})", self.layer + 1, self.layer_count)
    }
}

struct Builder<'a> {
    workspace: &'a Workspace,
    facts: &'a TreeFacts,
    options: &'a PlanOptions,
    graph: &'a DepGraph,
    /// The order members move in: the graph's, or with ties while a strategy moves some
    /// members together.
    ordering: Ordering,
    stages: Vec<Stage>,
    warnings: Vec<String>,
    placements: BTreeMap<String, Vec<Placement>>,
    /// The one member whose placements are recorded, if any.
    explain: Option<usize>,
    /// The crates of an earlier stage that a layering's chains end at, and that stage.
    chain_anchor: Option<(Vec<usize>, usize)>,
    /// Every member, sorted by name.
    members_by_name: Vec<usize>,
    /// Each stage's crates as member indices, parallel to `stages`.
    stage_members: Vec<Vec<usize>>,
    /// How each stage's gate runs cargo (`cargo`, or `cargo +TOOLCHAIN`), parallel to
    /// `stages`.
    stage_cargo: Vec<String>,
}

impl<'a> Builder<'a> {
    fn member(&self, index: usize) -> &'a Member {
        &self.workspace.members[index]
    }

    fn name(&self, index: usize) -> &'a str {
        &self.workspace.members[index].name
    }

    fn find_member(&self, name: &str, flag: &str, target: &str) -> anyhow::Result<usize> {
        self.workspace.member_index(name).ok_or_else(|| {
            anyhow::anyhow!(
                "{flag} {target}: unknown crate `{name}` ({})",
                known_names_hint(name, self.workspace.members.iter().map(|m| m.name.as_str()))
            )
        })
    }

    /// One warning per `[patch]` entry that turns registry dependencies into member edges
    /// (or, for metadata whose tree is not on disk, per member reached by name alone).
    fn warn_by_name_edges(&mut self) {
        let mut reached: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
        for (from, member) in self.workspace.members.iter().enumerate() {
            for dependency in &member.dependencies {
                if let Some(to) = dependency.member
                    && dependency.matched_by_name
                    && to != from
                {
                    reached.entry(to).or_default().insert(&member.name);
                }
            }
        }
        for (to, users) in reached {
            let member = self.member(to);
            let users: Vec<&str> = users.into_iter().collect();
            let patch = self
                .workspace
                .declarations
                .patch_to(&member.name, member.manifest_dir());
            self.warnings.push(match patch {
                Some(patch) => format!(
                    "[patch.{}] {} ({}) redirects the registry dependency of {} to the member `{}`; pass --resolve to have cargo confirm it",
                    patch.registry,
                    patch.name,
                    site_label(&patch.site),
                    users.join(", "),
                    member.name
                ),
                None => format!(
                    "{} depend on `{}` from a registry; without the root manifest's [patch] or a full resolve it is taken to be the workspace member of that name; pass --resolve to check",
                    users.join(", "),
                    member.name
                ),
            });
        }
    }

    /// Ends the plan. Each stage's gate tests every member whose build inputs its edits
    /// change: its crates, every member that depends on them through normal or build edges,
    /// directly or not, and every member that dev-depends on one of those, whatever stage they
    /// move in (one `cargo test` line for all of them), then each crate's feature sets and
    /// the stage's workspace-wide checks. A toolchain stage's gate already covers everyone.
    /// The last stage builds the whole workspace.
    fn finish(&mut self) {
        let count = self.workspace.members.len();
        // Members in name order, once: each stage's lists come out sorted by walking it.
        let by_name = self.members_by_name.clone();
        let mut in_stage = vec![false; count];
        // `closure[m] == mark` and `dev[m] == mark` mark members for the stage at hand, so no
        // per-stage clearing or allocation is needed.
        let mut closure = vec![0usize; count];
        let mut dev = vec![0usize; count];
        let mut stack = Vec::new();
        for position in 0..self.stages.len() {
            let stage = &self.stages[position];
            if stage.phase == Phase::Toolchain || self.stage_members[position].is_empty() {
                continue;
            }
            let mark = position + 1;
            let crates = self.stage_members[position].clone();
            for &member in &crates {
                in_stage[member] = true;
                closure[member] = mark;
                stack.push(member);
            }
            let mut reached = crates.clone();
            while let Some(member) = stack.pop() {
                for (dependent, edge) in self.graph.dependents(member) {
                    if edge.orders() && closure[dependent] != mark {
                        closure[dependent] = mark;
                        reached.push(dependent);
                        stack.push(dependent);
                    }
                }
            }
            for &member in &reached {
                for (dependent, edge) in self.graph.dependents(member) {
                    if edge.kinds.contains(&DepKind::Dev) && closure[dependent] != mark {
                        dev[dependent] = mark;
                    }
                }
            }
            let dependents: Vec<usize> = by_name
                .iter()
                .copied()
                .filter(|&m| closure[m] == mark && !in_stage[m])
                .collect();
            let dev_dependents: Vec<usize> = by_name
                .iter()
                .copied()
                .filter(|&m| dev[m] == mark)
                .collect();
            let tested: Vec<usize> = by_name
                .iter()
                .copied()
                .filter(|&m| closure[m] == mark || dev[m] == mark)
                .collect();
            for &member in &crates {
                in_stage[member] = false;
            }
            let index = self.stages[position].index;
            if let Some(explain) = self.explain {
                if dependents.contains(&explain) {
                    self.place(
                        explain,
                        index,
                        "it depends on the stage's crates through normal or build dependencies, so its build changes".to_owned(),
                        Vec::new(),
                        true,
                    );
                } else if dev_dependents.contains(&explain) {
                    let mut via: Vec<&str> = self
                        .graph
                        .dependencies(explain)
                        .filter(|(to, edge)| {
                            edge.kinds.contains(&DepKind::Dev) && closure[*to] == mark
                        })
                        .map(|(to, _)| self.name(to))
                        .collect();
                    via.sort_unstable();
                    let reason =
                        format!("it dev-depends on {}, whose build changes", via.join(", "));
                    self.place(explain, index, reason, Vec::new(), true);
                }
            }
            let packages = self.packages_arg(&tested);
            let names = |members: &[usize]| -> Vec<String> {
                members
                    .iter()
                    .map(|&m| self.workspace.members[m].name.clone())
                    .collect()
            };
            let dependents = names(&dependents);
            let dev_dependents = names(&dev_dependents);
            let line = format!("{} test {packages}", self.stage_cargo[position]);
            let stage = &mut self.stages[position];
            stage.gates.insert(0, gate(&line));
            stage.dependents = dependents;
            stage.dev_dependents = dev_dependents;
        }
        self.name_inheritors();
        self.warn_guarded_features();
        let cargo = self
            .stage_cargo
            .last()
            .cloned()
            .unwrap_or_else(|| "cargo".to_owned());
        if let Some(last) = self.stages.last_mut() {
            last.gates
                .push(gate(&format!("{cargo} build --workspace --all-targets")));
        }
    }

    /// Each edit of a shared declaration (a `[workspace.package]` setting or a
    /// `[workspace.dependencies]` entry) names the members that inherit it.
    fn name_inheritors(&mut self) {
        let mut inheritors: BTreeMap<(&str, &[String]), BTreeSet<&str>> = BTreeMap::new();
        for (position, declared) in self.workspace.declarations.members.iter().enumerate() {
            let settings = [Some(&declared.version), Some(&declared.edition)]
                .into_iter()
                .chain([declared.rust_version.as_ref()])
                .flatten()
                .chain(&declared.dependencies);
            for setting in settings.filter(|setting| setting.inherited) {
                inheritors
                    .entry((setting.site.file.as_str(), setting.site.keys.as_slice()))
                    .or_default()
                    .insert(self.name(position));
            }
        }
        for stage in &mut self.stages {
            for change in stage
                .changes
                .iter_mut()
                .filter(|change| change.crate_name.is_none())
            {
                let Some(file) = change.file.as_deref() else {
                    continue;
                };
                if let Some(members) = inheritors.get(&(file, change.keys.as_slice())) {
                    change.inherited_by = members.iter().map(|name| (*name).to_owned()).collect();
                }
            }
        }
    }

    /// One warning per member of a stage whose gates name its features instead of
    /// `--all-features`, saying what they leave out and why.
    fn warn_guarded_features(&mut self) {
        let mut in_stages: BTreeSet<usize> = BTreeSet::new();
        for members in &self.stage_members {
            in_stages.extend(members);
        }
        for member in in_stages {
            let Some((_, refusals)) = self.facts.guarded_features.get(&member) else {
                continue;
            };
            let reasons: Vec<String> = refusals.iter().map(ToString::to_string).collect();
            self.warnings.push(format!(
                "{}: its gates name the features it builds with instead of --all-features: {}",
                self.name(member),
                reasons.join("; ")
            ));
        }
    }

    /// The package arguments that select exactly `members` (sorted by name): `-p a -p b …`,
    /// or `--workspace` (with `--exclude` for the rest) when that is shorter.
    fn packages_arg(&self, members: &[usize]) -> String {
        let count = self.workspace.members.len();
        if members.len() == count {
            return "--workspace".to_owned();
        }
        let mut chosen = vec![false; count];
        for &member in members {
            chosen[member] = true;
        }
        let listed_len: usize = members.iter().map(|&m| self.name(m).len() + 4).sum();
        let excluded_len: usize = (0..count)
            .filter(|&m| !chosen[m])
            .map(|m| self.name(m).len() + 11)
            .sum::<usize>()
            + "--workspace".len();
        let mut out = String::new();
        if excluded_len < listed_len {
            out.push_str("--workspace");
            for &member in self.members_by_name.iter().filter(|&&m| !chosen[m]) {
                out.push_str(" --exclude ");
                out.push_str(self.name(member));
            }
        } else {
            for (position, &member) in members.iter().enumerate() {
                if position > 0 {
                    out.push(' ');
                }
                out.push_str("-p ");
                out.push_str(self.name(member));
            }
        }
        out
    }

    fn warn_cycles(&mut self, affected: &[bool]) {
        for cycle in self.ordering.cycles() {
            if !cycle.iter().any(|&member| affected[member]) {
                continue;
            }
            let mut names: Vec<&str> = cycle.iter().map(|&m| self.name(m)).collect();
            names.sort_unstable();
            self.warnings.push(format!(
                "cycle of normal/build dependencies among {}: they form one stage and must change together",
                names.join(", ")
            ));
        }
    }

    /// Adds one stage per layer of `affected`, describing each through `describe`, and
    /// records each member's placement with `reason`.
    fn add_layered(
        &mut self,
        affected: &[bool],
        reason: &dyn Fn(usize) -> String,
        describe: &mut dyn FnMut(&Builder<'a>, LayerStage<'_>) -> StageDraft,
    ) {
        self.warn_cycles(affected);
        self.add_layers(affected, reason, describe);
    }

    /// [`Builder::add_layered`] without the cycle warnings, for an ordering with ties.
    fn add_layers(
        &mut self,
        affected: &[bool],
        reason: &dyn Fn(usize) -> String,
        describe: &mut dyn FnMut(&Builder<'a>, LayerStage<'_>) -> StageDraft,
    ) {
        let layering = self.ordering.layer(affected);
        self.add_layering(&layering, reason, describe);
    }

    /// Adds one stage per layer of `layering`, as [`Builder::add_layers`] does.
    fn add_layering(
        &mut self,
        layering: &Layering,
        reason: &dyn Fn(usize) -> String,
        describe: &mut dyn FnMut(&Builder<'a>, LayerStage<'_>) -> StageDraft,
    ) {
        let first_index = self.stages.len() + 1;
        let layer_count = layering.layers.len();
        for (layer, members) in layering.layers.iter().enumerate() {
            let mut members = members.clone();
            members.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
            let draft = describe(
                self,
                LayerStage {
                    members: &members,
                    layer,
                    layer_count,
                },
            );
            let index = self.stages.len() + 1;
            if let Some(member) = self.explain.filter(|member| members.contains(member)) {
                let chain = if layering.dependents_first {
                    Vec::new()
                } else {
                    self.chain(layering, member, first_index)
                };
                self.place(member, index, reason(member), chain, false);
            }
            self.push_stage(draft, &members);
        }
    }

    fn chain(&self, layering: &Layering, member: usize, first_index: usize) -> Vec<ChainLink> {
        let components = layering.chain(&self.ordering, member);
        let mut links = Vec::new();
        let mut targets = Vec::new();
        let mut current = member;
        for pair in components.windows(2) {
            let next_component = pair[1];
            // Pick the member of the next component that `current` (or, inside a cycle, any
            // member of its component) depends on through an ordering edge.
            let from_members = &self.ordering.components[pair[0]];
            let found = std::iter::once(current)
                .chain(from_members.iter().copied())
                .find_map(|from| {
                    self.graph
                        .dependencies(from)
                        .find(|(to, edge)| {
                            edge.orders() && self.ordering.component_of[*to] == next_component
                        })
                        .map(|(to, edge)| (from, to, edge.kinds_label()))
                });
            let Some((from, to, kinds)) = found else {
                break;
            };
            let dependency_stage = layering
                .is_affected_component(next_component)
                .then(|| first_index + layering.depth_of(&self.ordering, to) - 1);
            links.push(ChainLink {
                dependent: self.name(from).to_owned(),
                dependency: self.name(to).to_owned(),
                kinds,
                dependency_stage,
            });
            targets.push(to);
            current = to;
        }
        // A layering that follows an earlier stage (the dependents of a bump) ends its chains
        // at the crate of that stage they depend on: a link that reaches one gets its stage,
        // and a chain that stops short of one gets the link to it.
        if let Some((anchors, stage)) = &self.chain_anchor
            && let Some(position) = targets.iter().position(|to| anchors.contains(to))
        {
            links.truncate(position + 1);
            links[position].dependency_stage = Some(*stage);
            return links;
        }
        if let Some((anchors, stage)) = &self.chain_anchor
            && let Some((to, edge)) = self
                .graph
                .dependencies(current)
                .find(|(to, edge)| edge.orders() && anchors.contains(to))
        {
            links.push(ChainLink {
                dependent: self.name(current).to_owned(),
                dependency: self.name(to).to_owned(),
                kinds: edge.kinds_label(),
                dependency_stage: Some(*stage),
            });
        }
        links
    }

    fn place(
        &mut self,
        member: usize,
        stage: usize,
        reason: String,
        chain: Vec<ChainLink>,
        gate_only: bool,
    ) {
        if self.explain != Some(member) {
            return;
        }
        self.placements
            .entry(self.name(member).to_owned())
            .or_default()
            .push(Placement {
                stage,
                reason,
                chain,
                gate_only,
            });
    }

    /// Adds a stage; its status comes from its changes. Its dependents and dev-dependents
    /// join its gate when the plan is finished.
    fn push_stage(&mut self, draft: StageDraft, members: &[usize]) {
        let index = self.stages.len() + 1;
        let mut gates = draft.gates;
        gates.extend(draft.extra_gates);
        let all_done = draft.changes.iter().all(|change| change.done);
        let any_done = draft.changes.iter().any(|change| change.done);
        let status = if all_done && draft.rollout.is_empty() {
            Status::Done
        } else if any_done {
            Status::InProgress
        } else {
            Status::Pending
        };
        self.stages.push(Stage {
            index,
            name: draft.name,
            phase: draft.phase,
            crates: members.iter().map(|&m| self.name(m).to_owned()).collect(),
            changes: draft.changes,
            dev_dependents: Vec::new(),
            dependents: Vec::new(),
            gates: gates.iter().map(|line| gate(line)).collect(),
            rollback: draft.rollback,
            status,
            rollout: draft.rollout,
        });
        self.stage_members.push(members.to_vec());
        self.stage_cargo.push(draft.cargo);
    }

    /// The `cargo test` lines for a member beyond its default features (which the stage's
    /// grouped test line covers): each extra feature set that matters, and all features when
    /// that differs from the default.
    fn feature_gates(&self, cargo: &str, member: usize, extra_sets: &[Vec<String>]) -> Vec<String> {
        let member_ref = self.member(member);
        let name = &member_ref.name;
        let mut gates = Vec::new();
        for set in extra_sets {
            if set.is_empty() {
                continue;
            }
            gates.push(format!(
                "{cargo} test -p {name} --no-default-features --features {}",
                set.join(",")
            ));
        }
        if graywork_workspace::features::all_features_differ(&member_ref.features)
            && let Some(all) = self.all_features(member)
        {
            gates.push(format!("{cargo} test -p {name} {all}"));
        }
        gates
    }

    /// The flags that turn on all of a member's features a build can take: `--all-features`,
    /// or, when its source refuses some ([`TreeFacts::guarded_features`]), `--features` with
    /// the ones it builds with; `None` when that is no more than its defaults.
    fn all_features(&self, member: usize) -> Option<String> {
        let Some((features, _)) = self.facts.guarded_features.get(&member) else {
            return Some("--all-features".to_owned());
        };
        let table = &self.member(member).features;
        let set = graywork_workspace::features::FeatureSet {
            no_default_features: false,
            all_features: false,
            features: features.clone(),
        };
        (set.enabled(table)
            != graywork_workspace::features::FeatureSet::default_features().enabled(table))
        .then(|| format!("--features {}", features.join(",")))
    }

    /// `cargo clippy` lines for `members` with all their features: one line for those
    /// `--all-features` builds, one per member that needs its features named.
    fn clippy_gates(&self, cargo: &str, members: &[usize]) -> Vec<String> {
        let (plain, guarded): (Vec<usize>, Vec<usize>) = members
            .iter()
            .partition(|m| !self.facts.guarded_features.contains_key(m));
        let mut gates = Vec::new();
        if !plain.is_empty() {
            let packages =
                if plain.len() == members.len() && members.len() == self.workspace.members.len() {
                    "--workspace".to_owned()
                } else if guarded.len() + plain.len() == self.workspace.members.len() {
                    let mut excluded: Vec<&str> = guarded.iter().map(|&m| self.name(m)).collect();
                    excluded.sort_unstable();
                    format!("--workspace --exclude {}", excluded.join(" --exclude "))
                } else {
                    self.packages_arg(&plain)
                };
            gates.push(format!(
                "{cargo} clippy {packages} --all-targets --all-features -- -D warnings"
            ));
        }
        for &member in &guarded {
            let features = self.all_features(member).unwrap_or_default();
            gates.push(
                format!(
                    "{cargo} clippy -p {} --all-targets {features} -- -D warnings",
                    self.name(member)
                )
                .replace("  ", " "),
            );
        }
        gates
    }

    fn prior_stage_rollback(&self) -> String {
        match self.stages.len() {
            0 => "the tree before the plan".to_owned(),
            done => format!("the tree after stage {done}"),
        }
    }

    // ----- goals -----

    /// The manifest edit of a declared setting: from its current value to `to`.
    fn edit(
        kind: ChangeKind,
        owner: Option<String>,
        declared: &Declared,
        to: &str,
        change: String,
        done: bool,
    ) -> Change {
        Change {
            crate_name: owner,
            kind,
            file: Some(declared.site.file.clone()),
            line: declared.site.line,
            toml_path: Some(declared.site.toml_path()),
            from: Some(declared.value.clone()),
            to: Some(to.to_owned()),
            change,
            done,
            keys: declared.site.keys.clone(),
            op: Some(EditOp::Set),
            ..Change::default()
        }
    }

    /// `a, b and 3 more`: the members a shared declaration moves, for one-line edits.
    fn member_list(&self, members: &[usize]) -> String {
        let mut names: Vec<&str> = members.iter().map(|&m| self.name(m)).collect();
        names.sort_unstable();
        const SHOWN: usize = 6;
        if names.len() > SHOWN {
            let more = names.len() - SHOWN;
            names.truncate(SHOWN);
            format!("{} and {more} more", names.join(", "))
        } else {
            names.join(", ")
        }
    }

    fn krate(&mut self, name: &str, version: &Version) -> anyhow::Result<()> {
        let target = format!("{name}@{version}");
        let bumped = self.find_member(name, "--crate", &target)?;
        let current = self.member(bumped).version.clone();
        if *version < current {
            let message = format!(
                "{target} is older than the current {name} {current}: this plan is a downgrade"
            );
            if !self.options.allow_downgrade {
                anyhow::bail!("--crate {message} (pass --allow-downgrade to plan it anyway)");
            }
            self.warnings.push(message);
        }
        let declarations = &self.workspace.declarations;
        let declared = declarations.members[bumped].version.clone();
        // Members that inherit one version move in lockstep: the one edit bumps them all.
        let lockstep: Vec<usize> = if declared.inherited {
            (0..self.workspace.members.len())
                .filter(|&m| declarations.members[m].version.site == declared.site)
                .collect()
        } else {
            vec![bumped]
        };
        if lockstep.len() > 1 {
            self.warnings.push(format!(
                "{name} inherits its version from [workspace.package] ({}): the workspace versions in lockstep, so the bump moves {} members: {}",
                site_label(&declared.site),
                lockstep.len(),
                self.member_list(&lockstep)
            ));
        }
        let is_bumped = {
            let mut set = vec![false; self.workspace.members.len()];
            for &m in &lockstep {
                set[m] = true;
            }
            set
        };
        let version_text = version.to_string();
        let mut changes = vec![Self::edit(
            ChangeKind::Version,
            Some(name.to_owned()),
            &declared,
            &version_text,
            if lockstep.len() > 1 {
                format!(
                    "set the workspace version to {version} (was {current}); it moves {}",
                    self.member_list(&lockstep)
                )
            } else {
                format!("set `version = \"{version}\"` (was {current})")
            },
            current == *version,
        )];
        // Every requirement on a bumped member that rejects the new version changes in the
        // same commit, where it is declared: cargo cannot load the workspace otherwise.
        let mut requirement_sites: BTreeMap<Site, (Declared, Vec<usize>, String)> = BTreeMap::new();
        for (dependent, member) in self.workspace.members.iter().enumerate() {
            for (position, dependency) in member.dependencies.iter().enumerate() {
                let Some(target_member) = dependency.member else {
                    continue;
                };
                if !is_bumped[target_member] || dependency.req.matches(version) {
                    continue;
                }
                let declared = &declarations.members[dependent].dependencies[position];
                requirement_sites
                    .entry(declared.site.clone())
                    .or_insert_with(|| {
                        (
                            declared.clone(),
                            Vec::new(),
                            self.name(target_member).to_owned(),
                        )
                    })
                    .1
                    .push(dependent);
            }
        }
        let mut requirement_users: Vec<usize> = Vec::new();
        for (declared, mut users, dependency) in requirement_sites.into_values() {
            users.sort_unstable();
            users.dedup();
            requirement_users.extend(&users);
            let owner = (!declared.inherited).then(|| self.name(users[0]).to_owned());
            let change = if declared.inherited {
                format!(
                    "requirement on {dependency} `{}` -> `{version}`, shared by {}; cargo needs it in the same commit as the bump",
                    declared.value,
                    self.member_list(&users)
                )
            } else {
                format!(
                    "requirement on {dependency} `{}` -> `{version}`; cargo needs it in the same commit as the bump",
                    declared.value
                )
            };
            changes.push(Self::edit(
                ChangeKind::Requirement,
                owner,
                &declared,
                &version_text,
                change,
                false,
            ));
        }
        // A breaking bump (a new major, or a new minor below 1.0) moves every member that
        // depends on a bumped one directly (any kind: its tests use it too) into the same
        // stage: none of them builds against the new version without its own change, and
        // cargo resolves their path dependencies to it as soon as the version moves. Members
        // further up only rebuild: they are in the gate. A compatible bump changes no code.
        let breaking = compatibility_class(&current) != compatibility_class(version);
        // A side-by-side bump is under way while its renamed entry is there (the version has
        // moved by then, so the bump no longer reads as breaking).
        let prev_key = format!("{name}-prev");
        let under_way = declarations.workspace_dependencies.contains_key(&prev_key)
            || self.workspace.members.iter().any(|member| {
                member
                    .dependencies
                    .iter()
                    .any(|d| d.name == name && d.local_name() == prev_key)
            });
        if (breaking || under_way) && self.options.strategy == Strategy::SideBySide {
            return self.krate_side_by_side(name, version, &current, &lockstep, changes);
        }
        let mut adapting: Vec<usize> = Vec::new();
        if breaking {
            for (dependent, member) in self.workspace.members.iter().enumerate() {
                if is_bumped[dependent] {
                    continue;
                }
                if member
                    .dependencies
                    .iter()
                    .any(|dependency| dependency.member.is_some_and(|to| is_bumped[to]))
                {
                    adapting.push(dependent);
                }
            }
        }
        // Members whose requirement on a bumped member the stage edits change with it.
        for &user in &requirement_users {
            if !is_bumped[user] && !adapting.contains(&user) {
                adapting.push(user);
            }
        }
        adapting.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        let bump_done = changes.iter().all(|change| change.done);
        if breaking {
            for &member in &adapting {
                let direct = self
                    .member(member)
                    .dependencies
                    .iter()
                    .any(|dependency| dependency.member.is_some_and(|to| is_bumped[to]));
                if direct {
                    changes.push(Change::code(
                        Some(self.name(member).to_owned()),
                        format!(
                            "adapt to {name} {version} (a breaking bump): fix what no longer compiles, in the same commit"
                        ),
                        bump_done,
                    ));
                }
            }
        }
        for &member in &lockstep {
            self.place(
                member,
                self.stages.len() + 1,
                if member == bumped {
                    format!("it is the crate being bumped to {version}")
                } else {
                    format!("it shares {name}'s version declaration, so it moves in lockstep")
                },
                Vec::new(),
                false,
            );
        }
        for &member in &adapting {
            let reason = if breaking {
                format!(
                    "it depends on {name} directly, and {current} -> {version} is a breaking bump: it cannot build against the new version without its own change, so it moves with the bump"
                )
            } else {
                format!("its requirement on {name} rejects {version}, so it changes with the bump")
            };
            self.place(member, self.stages.len() + 1, reason, Vec::new(), false);
        }
        let mut members = lockstep.clone();
        members.extend(&adapting);
        members.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        let mut gates = Vec::new();
        for &member in &members {
            gates.extend(self.feature_gates("cargo", member, &[]));
        }
        let rollback_point = self.prior_stage_rollback();
        let how = if breaking && !adapting.is_empty() {
            " with its direct dependents"
        } else {
            ""
        };
        self.push_stage(
            StageDraft {
                name: format!("bump {name} to {version}{how}"),
                phase: Phase::Bump,
                changes,
                gates,
                extra_gates: Vec::new(),
                cargo: "cargo".to_owned(),
                rollback: format!("revert this stage's commit; rollback point: {rollback_point}"),
                rollout: Vec::new(),
            },
            &members,
        );
        Ok(())
    }

    /// `--crate X@V --strategy side-by-side` for a breaking bump: X moves alone, while its
    /// dependents keep the last published version of X from outside the workspace through a
    /// renamed entry (`x-prev = { package = "x", version = "0.2.3" }`); then they move back to
    /// the member one layer at a time, in dependency order, and a last stage removes the
    /// renamed entry. `changes` are the bump's own edits.
    fn krate_side_by_side(
        &mut self,
        name: &str,
        version: &Version,
        current: &Version,
        lockstep: &[usize],
        mut changes: Vec<Change>,
    ) -> anyhow::Result<()> {
        let target = format!("{name}@{version}");
        let workspace = self.workspace;
        let declarations = &workspace.declarations;
        let prev_key = format!("{name}-prev");
        let snake = |key: &str| key.replace('-', "_");
        let is_bumped = |m: usize| lockstep.contains(&m);
        // The version kept: the renamed entry's, once it is there; before, the newest one
        // available in the series the member leaves.
        let written = declarations
            .workspace_dependencies
            .get(&prev_key)
            .and_then(|(requirement, _)| semver::VersionReq::parse(requirement).ok())
            .and_then(|requirement| requirement_floor(&requirement))
            .map(|version| (version, format!("the `{prev_key}` entry")));
        let series = if current < version {
            compatibility_class(current)
        } else {
            (u64::MAX, u64::MAX, u64::MAX)
        };
        let kept = written.or_else(|| {
            self.facts
                .available
                .get(name)
                .into_iter()
                .flatten()
                .filter(|(available, _)| {
                    available < version
                        && compatibility_class(available) != compatibility_class(version)
                        && (series.0 == u64::MAX || compatibility_class(available) == series)
                })
                .max()
                .cloned()
        });
        let Some((prev, source)) = kept else {
            anyhow::bail!(
                "--crate {target} --strategy side-by-side: no published {name} {} is where cargo finds it offline (its registry cache, or a [patch] entry outside the member), so its dependents cannot keep the old version from the registry; use --strategy lockstep (its direct dependents move with it), or fetch it first",
                current
            );
        };
        // The dependents that keep the old version: every member that depends on X, through the
        // member or (once stage 1 is in) through the renamed entry.
        let mut uses: Vec<(usize, Site)> = Vec::new();
        for (member, declared) in workspace.members.iter().enumerate() {
            if is_bumped(member) {
                continue;
            }
            for (position, dependency) in declared.dependencies.iter().enumerate() {
                let on_member = dependency.member.is_some_and(is_bumped) && dependency.name == name;
                let on_prev = dependency.member.is_none()
                    && dependency.name == name
                    && dependency.local_name() == prev_key;
                if !on_member && !on_prev {
                    continue;
                }
                let site = &declarations.members[member].dependencies[position];
                let Some(via) = site.via.clone().filter(|_| site.inherited) else {
                    anyhow::bail!(
                        "--crate {target} --strategy side-by-side: `{}` declares its own dependency on {name} ({}); side by side needs every dependent to inherit {name} from [workspace.dependencies]: declare it there, or use --strategy lockstep",
                        declared.name,
                        site_label(&site.site)
                    );
                };
                uses.push((member, via));
            }
        }
        let bumped_done = *current == *version;
        let local = |m: usize| -> Vec<&str> {
            workspace.members[m]
                .dependencies
                .iter()
                .filter(|dependency| dependency.name == name)
                .map(|dependency| dependency.local_name())
                .collect()
        };
        let prev_entry = declarations.workspace_dependencies.contains_key(&prev_key);
        let finished = bumped_done
            && !prev_entry
            && uses
                .iter()
                .all(|&(m, _)| !local(m).contains(&prev_key.as_str()));
        let root_file = "Cargo.toml".to_owned();
        let entry_keys = |key: &str| {
            vec![
                "workspace".to_owned(),
                "dependencies".to_owned(),
                key.to_owned(),
            ]
        };
        // Stage 1: the bump, the renamed entry, and each dependent onto it.
        changes.push(Change {
            impact: None,
            crate_name: None,
            kind: ChangeKind::Requirement,
            op: Some(EditOp::AddEntry),
            file: Some(root_file.clone()),
            line: declarations
                .workspace_dependencies
                .get(name)
                .map(|(_, line)| *line),
            toml_path: Some(format!("workspace.dependencies.{prev_key}")),
            from: None,
            to: Some(prev.to_string()),
            change: format!(
                "add `{prev_key} = {{ package = \"{name}\", version = \"{prev}\" }}` beside `{name}` (its other keys but `path`): {name} {prev} from outside the workspace ({source}), for the dependents that have not moved yet"
            ),
            done: prev_entry || bumped_done,
            keys: entry_keys(&prev_key),
            copy_of: Some(name.to_owned()),
            inherited_by: Vec::new(),
        });
        let mut dependents: Vec<usize> = uses.iter().map(|&(m, _)| m).collect();
        dependents.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        dependents.dedup();
        for (member, via) in &uses {
            let keys = local(*member);
            // The version moves in this stage too: once it has, the stage is in the tree.
            let done = keys.contains(&prev_key.as_str()) || bumped_done;
            let mut from_keys = via.keys.clone();
            if let Some(last) = from_keys.last_mut() {
                *last = name.to_owned();
            }
            let from_site = Site {
                keys: from_keys.clone(),
                ..via.clone()
            };
            changes.push(Change {
                impact: None,
                crate_name: Some(self.name(*member).to_owned()),
                kind: ChangeKind::Requirement,
                op: Some(EditOp::RenameKey),
                file: Some(via.file.clone()),
                line: via.line,
                toml_path: Some(from_site.toml_path()),
                from: Some(name.to_owned()),
                to: Some(prev_key.clone()),
                change: format!(
                    "keep {name} {prev}: rename the key `{name}` to `{prev_key}`, and put `extern crate {} as {};` at the crate root so its code keeps saying `{}::`",
                    snake(&prev_key),
                    snake(name),
                    snake(name)
                ),
                done,
                keys: from_keys,
                copy_of: None,
                inherited_by: Vec::new(),
            });
        }
        for &member in lockstep {
            self.place(
                member,
                self.stages.len() + 1,
                format!("it is bumped to {version}; side by side, its dependents keep {name} {prev} until they move"),
                Vec::new(),
                false,
            );
        }
        let mut members = lockstep.to_vec();
        members.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        let mut gates = Vec::new();
        for &member in &members {
            gates.extend(self.feature_gates("cargo", member, &[]));
        }
        let rollback_point = self.prior_stage_rollback();
        self.push_stage(
            StageDraft {
                name: format!(
                    "bump {name} to {version}, its dependents keeping {prev} side by side"
                ),
                phase: Phase::Bump,
                changes,
                gates,
                extra_gates: Vec::new(),
                cargo: "cargo".to_owned(),
                rollback: format!("revert this stage's commit; rollback point: {rollback_point}"),
                rollout: Vec::new(),
            },
            &members,
        );

        // Then each dependent moves to the member, in dependency order.
        let mut affected = vec![false; workspace.members.len()];
        for &member in &dependents {
            affected[member] = true;
        }
        let reason = |_: usize| {
            format!(
                "it depends on {name}: side by side, each dependent moves from {name} {prev} to the member in dependency order"
            )
        };
        let uses_ref = &uses;
        let prev_key_ref = &prev_key;
        self.add_layered(&affected, &reason, &mut |builder, layer| {
            let mut changes = Vec::new();
            for &member in layer.members {
                let keys = local(member);
                let done = bumped_done && !keys.contains(&prev_key_ref.as_str());
                for (_, via) in uses_ref.iter().filter(|(m, _)| *m == member) {
                    let mut prev_keys = via.keys.clone();
                    if let Some(last) = prev_keys.last_mut() {
                        last.clone_from(prev_key_ref);
                    }
                    let prev_site = Site {
                        keys: prev_keys.clone(),
                        ..via.clone()
                    };
                    changes.push(Change {
                        impact: None,
                        crate_name: Some(builder.name(member).to_owned()),
                        kind: ChangeKind::Requirement,
                        op: Some(EditOp::RenameKey),
                        file: Some(via.file.clone()),
                        line: via.line,
                        toml_path: Some(prev_site.toml_path()),
                        from: Some(prev_key_ref.clone()),
                        to: Some(name.to_owned()),
                        change: format!("move to {name} {version}: rename the key `{prev_key_ref}` back to `{name}`"),
                        done,
                        keys: prev_keys,
                        copy_of: None,
                        inherited_by: Vec::new(),
                    });
                }
                changes.push(Change::code(
                    Some(builder.name(member).to_owned()),
                    format!(
                        "adapt to {name} {version}: drop `extern crate {} as {};` and fix what no longer compiles",
                        snake(prev_key_ref),
                        snake(name)
                    ),
                    done,
                ));
            }
            let mut gates = Vec::new();
            for &member in layer.members {
                gates.extend(builder.feature_gates("cargo", member, &[]));
            }
            let rollback_point = builder.prior_stage_rollback();
            StageDraft {
                name: layer.title(&format!("side by side: move to {name} {version}")),
                phase: Phase::Migrate,
                changes,
                gates,
                extra_gates: Vec::new(),
                cargo: "cargo".to_owned(),
                rollback: format!(
                    "revert this stage's commit: {name} {prev} is still there; rollback point: {rollback_point}"
                ),
                rollout: Vec::new(),
            }
        });

        // Last: the renamed entry goes.
        let rollback_point = self.prior_stage_rollback();
        self.push_stage(
            StageDraft {
                name: format!("side by side: retire {name} {prev}"),
                phase: Phase::Retire,
                changes: vec![Change {
                    impact: None,
                    crate_name: None,
                    kind: ChangeKind::Requirement,
                    op: Some(EditOp::RemoveEntry),
                    file: Some(root_file),
                    line: declarations
                        .workspace_dependencies
                        .get(&prev_key)
                        .map(|(_, line)| *line),
                    toml_path: Some(format!("workspace.dependencies.{prev_key}")),
                    from: declarations
                        .workspace_dependencies
                        .get(&prev_key)
                        .map(|(requirement, _)| requirement.clone()),
                    to: None,
                    change: format!("remove the `{prev_key}` entry: no member uses it any more"),
                    done: finished,
                    keys: entry_keys(&prev_key),
                    copy_of: None,
                    inherited_by: Vec::new(),
                }],
                gates: vec!["cargo check --workspace --all-targets".to_owned()],
                extra_gates: Vec::new(),
                cargo: "cargo".to_owned(),
                rollback: format!("revert this stage's commit; rollback point: {rollback_point}"),
                rollout: Vec::new(),
            },
            &[],
        );
        Ok(())
    }

    fn toolchain(&mut self, text: &str, version: Option<&Version>) -> anyhow::Result<()> {
        let cargo = format!("cargo +{text}");
        if let Some(error) = &self.workspace.declarations.toolchain_error {
            anyhow::bail!("--toolchain {text}: the current pin is unknown: {error}");
        }
        let pin = self.workspace.declarations.toolchain.clone();
        let current = pin
            .as_ref()
            .and_then(|pin| crate::goal::parse_partial_version(&pin.value));
        // Versions compare as versions and dated nightlies by date; a release and a nightly
        // are not ordered.
        let older = match (version, &current) {
            (Some(version), Some(current)) => version < current,
            (None, None) => pin.as_ref().is_some_and(|pin| {
                crate::goal::nightly_date(text) < crate::goal::nightly_date(&pin.value)
            }),
            _ => false,
        };
        if older {
            let message = format!(
                "{text} is older than the pinned {}: this plan is a downgrade",
                pin.as_ref().map_or("", |pin| pin.value.as_str())
            );
            if !self.options.allow_downgrade {
                anyhow::bail!("--toolchain {message} (pass --allow-downgrade to plan it anyway)");
            }
            self.warnings.push(format!("toolchain {message}"));
        }
        let members: Vec<usize> = {
            let mut all: Vec<usize> = (0..self.workspace.members.len()).collect();
            all.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
            all
        };
        for (position, member) in self.workspace.members.iter().enumerate() {
            if let Some(rust_version) = &member.rust_version
                && version.is_some_and(|version| rust_version > version)
            {
                let declared = &self.workspace.declarations.members[position].rust_version;
                self.warnings.push(format!(
                    "{} declares rust-version {rust_version}{}, above toolchain {text}",
                    member.name,
                    declared
                        .as_ref()
                        .map_or_else(String::new, |d| format!(" ({})", site_label(&d.site)))
                ));
            }
        }
        let done = (version.is_some() && current.as_ref() == version)
            || pin.as_ref().is_some_and(|pin| pin.value == text);
        let change = match &pin {
            Some(pin) => Self::edit(
                ChangeKind::Toolchain,
                None,
                pin,
                text,
                format!(
                    "pin `channel = \"{text}\"` (was {}); fix what `{cargo} clippy` and `{cargo} test` report",
                    pin.value
                ),
                done,
            ),
            None => Change {
                crate_name: None,
                kind: ChangeKind::Toolchain,
                file: Some("rust-toolchain.toml".to_owned()),
                line: None,
                toml_path: Some("toolchain.channel".to_owned()),
                from: None,
                to: Some(text.to_owned()),
                change: format!(
                    "pin `channel = \"{text}\"` in a new rust-toolchain.toml; fix what `{cargo} clippy` and `{cargo} test` report"
                ),
                done: false,
                keys: vec!["toolchain".to_owned(), "channel".to_owned()],
                op: Some(EditOp::Set),
                ..Change::default()
            },
        };
        for &member in &members {
            self.place(
                member,
                self.stages.len() + 1,
                "the toolchain pin is one workspace-wide edit: every member moves with it"
                    .to_owned(),
                Vec::new(),
                false,
            );
        }
        let rollback_point = self.prior_stage_rollback();
        self.push_stage(
            StageDraft {
                name: format!("toolchain {text}"),
                phase: Phase::Toolchain,
                changes: vec![change],
                gates: {
                    let mut gates = self.clippy_gates(&cargo, &members);
                    gates.push(format!("{cargo} test --workspace"));
                    gates
                },
                extra_gates: Vec::new(),
                cargo: cargo.clone(),
                rollback: format!(
                    "revert this stage's commit: the pin returns to the old toolchain; rollback point: {rollback_point}"
                ),
                rollout: Vec::new(),
            },
            &members,
        );
        Ok(())
    }

    fn edition(&mut self, edition: u16) -> anyhow::Result<()> {
        let staged = match self.options.strategy {
            Strategy::Lockstep => false,
            Strategy::Staged => true,
            Strategy::SideBySide => anyhow::bail!(
                "--edition {edition}: --strategy side-by-side moves dependency entries; an edition moves with --strategy lockstep (the default) or staged"
            ),
        };
        let workspace = self.workspace;
        let declarations = &workspace.declarations;
        let count = workspace.members.len();
        let edition_of = |m: usize| -> u16 { workspace.members[m].edition.parse().unwrap_or(0) };
        let newer: Vec<usize> = (0..count).filter(|&m| edition_of(m) > edition).collect();
        if !newer.is_empty() {
            let message = format!(
                "{edition} is older than the edition of {}: this plan is a downgrade",
                self.member_list(&newer)
            );
            if !self.options.allow_downgrade {
                anyhow::bail!("--edition {message} (pass --allow-downgrade to plan it anyway)");
            }
            self.warnings.push(format!("edition {message}"));
        }
        let target = edition.to_string();
        let minimum = edition_minimum_rust(edition);
        let minimum_text = minimum
            .as_ref()
            .map(|minimum| format!("{}.{}", minimum.major, minimum.minor));
        let below_minimum = |declared: &Declared| {
            minimum.as_ref().is_some_and(|minimum| {
                crate::goal::parse_partial_version(&declared.value)
                    .is_some_and(|version| version < *minimum)
            })
        };
        let inherits_edition: Vec<usize> = (0..count)
            .filter(|&m| declarations.members[m].edition.inherited)
            .collect();
        // The shared `rust-version`, when it is below the edition's first release.
        let shared_rust_version: Option<Declared> = declarations
            .workspace_package
            .get("rust-version")
            .filter(|declared| below_minimum(declared))
            .cloned();
        // Whether members inheriting the shared `rust-version` move with it: it is at most
        // the edition's first release (so they do not stop moving once it has risen).
        let rust_version_moves = declarations
            .workspace_package
            .get("rust-version")
            .is_some_and(|declared| {
                minimum.as_ref().is_some_and(|minimum| {
                    crate::goal::parse_partial_version(&declared.value)
                        .is_some_and(|version| version <= *minimum)
                })
            });
        let inherits_rust_version: Vec<usize> = (0..count)
            .filter(|&m| {
                declarations.members[m]
                    .rust_version
                    .as_ref()
                    .is_some_and(|declared| declared.inherited)
            })
            .collect();
        // In lockstep, every member a shared declaration moves is one group: the inherited
        // edition and, when it must rise, the inherited rust-version.
        let mut group: Vec<usize> = Vec::new();
        if !staged {
            group.extend(&inherits_edition);
            if rust_version_moves {
                group.extend(&inherits_rust_version);
            }
            group.sort_unstable();
            group.dedup();
        }
        let ties: Vec<(usize, usize)> = group.iter().skip(1).map(|&m| (group[0], m)).collect();
        let affected = vec![true; count];
        // True cycles only: the group is no cycle.
        self.warn_cycles(&affected);
        let layering = self
            .graph
            .ordering_with_ties(&ties)
            .layer_dependents_first(&affected);
        // The workspace edition: in lockstep, the edit that moves its inheritors; staged, the
        // value the last stage sets.
        let shared_edition = declarations.workspace_package.get("edition").cloned();
        let reason = |member: usize| {
            if group.contains(&member) {
                "it inherits a [workspace.package] setting the edition moves (one edit moves every member sharing it); dependents move first, so no member's MSRV is ever below a dependency's".to_owned()
            } else {
                "every member moves to the new edition, dependents first, so no member's MSRV is ever below a dependency's".to_owned()
            }
        };
        let in_group = |member: &usize| group.contains(member);
        self.add_layering(&layering, &reason, &mut |builder, layer| {
            let mut changes = Vec::new();
            if layer.members.iter().any(in_group) {
                if let Some(declared) = shared_edition.as_ref().filter(|_| !inherits_edition.is_empty()) {
                    let mut moved = inherits_edition.clone();
                    moved.sort_unstable_by(|&a, &b| builder.name(a).cmp(builder.name(b)));
                    let done = declared.value == target;
                    changes.push(Self::edit(
                        ChangeKind::Edition,
                        None,
                        declared,
                        &target,
                        format!(
                            "set the workspace edition to {edition} (was {}); it moves {}",
                            declared.value,
                            builder.member_list(&moved)
                        ),
                        done,
                    ));
                    let fix: Vec<String> =
                        moved.iter().map(|&m| format!("-p {}", builder.name(m))).collect();
                    changes.push(Change::code(
                        None,
                        format!("run `cargo fix --edition {}` before the edit", fix.join(" ")),
                        done,
                    ));
                }
                if let (Some(declared), Some(minimum_text)) = (&shared_rust_version, &minimum_text) {
                    changes.push(Self::edit(
                        ChangeKind::RustVersion,
                        None,
                        declared,
                        minimum_text,
                        format!(
                            "raise the workspace `rust-version` {} -> {minimum_text}: edition {edition} needs Rust {minimum_text}; it moves {}",
                            declared.value,
                            builder.member_list(&inherits_rust_version)
                        ),
                        false,
                    ));
                }
            }
            for &member in layer.members {
                let member_ref = builder.member(member);
                let declared = &builder.workspace.declarations.members[member];
                let name = &member_ref.name;
                let done = member_ref.edition == target;
                if !declared.edition.inherited {
                    changes.push(Self::edit(
                        ChangeKind::Edition,
                        Some(name.clone()),
                        &declared.edition,
                        &target,
                        format!(
                            "run `cargo fix --edition -p {name}`, then set `edition = \"{edition}\"` (was {})",
                            member_ref.edition
                        ),
                        done,
                    ));
                } else if staged {
                    changes.extend(Self::override_edit(
                        ChangeKind::Edition,
                        name,
                        &declared.edition,
                        &target,
                        format!(
                            "run `cargo fix --edition -p {name}`, then declare `edition = \"{edition}\"` in its manifest instead of inheriting {} (the last stage inherits again)",
                            member_ref.edition
                        ),
                        done,
                    ));
                }
                let (Some(rust_version), Some(minimum_text)) = (&declared.rust_version, &minimum_text)
                else {
                    continue;
                };
                if !rust_version.inherited && below_minimum(rust_version) {
                    changes.push(Self::edit(
                        ChangeKind::RustVersion,
                        Some(name.clone()),
                        rust_version,
                        minimum_text,
                        format!(
                            "raise `rust-version` {} -> {minimum_text}: edition {edition} needs Rust {minimum_text}",
                            rust_version.value
                        ),
                        false,
                    ));
                } else if rust_version.inherited && staged && below_minimum(rust_version) {
                    changes.extend(Self::override_edit(
                        ChangeKind::RustVersion,
                        name,
                        rust_version,
                        minimum_text,
                        format!(
                            "declare `rust-version = \"{minimum_text}\"` instead of inheriting {}: edition {edition} needs Rust {minimum_text} (the last stage inherits again)",
                            rust_version.value
                        ),
                        false,
                    ));
                }
            }
            let mut gates = builder.clippy_gates("cargo", layer.members);
            for &member in layer.members {
                gates.extend(builder.feature_gates("cargo", member, &[]));
            }
            let rollback_point = builder.prior_stage_rollback();
            StageDraft {
                name: layer.title(&format!("edition {edition}")),
                phase: Phase::Edition,
                changes,
                gates,
                extra_gates: Vec::new(),
                cargo: "cargo".to_owned(),
                rollback: format!(
                    "revert this stage's commit (editions are per crate, so earlier stages stay); rollback point: {rollback_point}"
                ),
                rollout: Vec::new(),
            }
        });
        if staged && shared_edition.is_some() {
            self.edition_inherit_again(edition, shared_edition, shared_rust_version);
        }
        Ok(())
    }

    /// The last stage of a staged edition: the workspace value moves, and every member, now on
    /// the new edition, inherits it again (the stages' overrides, and members that declared
    /// their own); likewise the `rust-version` of every member that inherited it or whose own
    /// one rose to the edition's first release.
    fn edition_inherit_again(
        &mut self,
        edition: u16,
        shared_edition: Option<Declared>,
        shared_rust_version: Option<Declared>,
    ) {
        let workspace = self.workspace;
        let declarations = &workspace.declarations;
        let target = edition.to_string();
        let minimum_text = edition_minimum_rust(edition)
            .map(|minimum| format!("{}.{}", minimum.major, minimum.minor));
        let mut changes = Vec::new();
        let mut members: Vec<usize> = (0..workspace.members.len()).collect();
        members.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        if let Some(declared) = &shared_edition {
            changes.push(Self::edit(
                ChangeKind::Edition,
                None,
                declared,
                &target,
                format!(
                    "set the workspace edition to {edition} (was {})",
                    declared.value
                ),
                declared.value == target,
            ));
            for &member in &members {
                changes.extend(Self::inherit_edit(
                    ChangeKind::Edition,
                    self.name(member),
                    &declarations.members[member].edition,
                    &target,
                    declared.value == target,
                    format!("inherit the workspace edition {edition} again"),
                ));
            }
        }
        if let (Some(declared), Some(minimum_text)) = (&shared_rust_version, &minimum_text) {
            changes.push(Self::edit(
                ChangeKind::RustVersion,
                None,
                declared,
                minimum_text,
                format!(
                    "raise the workspace `rust-version` {} -> {minimum_text}",
                    declared.value
                ),
                false,
            ));
        }
        // Once the stages ran, the workspace `rust-version` is the edition's first release when
        // it had to rise, and every member whose own one then equals it inherits it again.
        let workspace_rust_version =
            declarations
                .workspace_package
                .get("rust-version")
                .and_then(|declared| {
                    let value = match (&shared_rust_version, &minimum_text) {
                        (Some(_), Some(minimum_text)) => minimum_text.clone(),
                        _ => declared.value.clone(),
                    };
                    crate::goal::parse_partial_version(&value).map(|version| (value, version))
                });
        if let Some((value, version)) = workspace_rust_version {
            let minimum = minimum_text
                .as_deref()
                .and_then(crate::goal::parse_partial_version);
            for &member in &members {
                let Some(declared) = &declarations.members[member].rust_version else {
                    continue;
                };
                let own_after =
                    crate::goal::parse_partial_version(&declared.value).map(|own| match &minimum {
                        Some(minimum) if own < *minimum => minimum.clone(),
                        _ => own,
                    });
                if declared.inherited || own_after.as_ref() == Some(&version) {
                    let settled = declarations
                        .workspace_package
                        .get("rust-version")
                        .is_some_and(|shared| shared.value == value);
                    changes.extend(Self::inherit_edit(
                        ChangeKind::RustVersion,
                        self.name(member),
                        declared,
                        &value,
                        settled,
                        format!("inherit the workspace `rust-version` {value} again"),
                    ));
                }
            }
        }
        for &member in &members {
            self.place(
                member,
                self.stages.len() + 1,
                "the last stage of a staged edition: every member inherits the workspace value again".to_owned(),
                Vec::new(),
                false,
            );
        }
        let rollback_point = self.prior_stage_rollback();
        self.push_stage(
            StageDraft {
                name: format!("edition {edition}: inherit the workspace value again"),
                phase: Phase::Edition,
                changes,
                gates: Vec::new(),
                extra_gates: Vec::new(),
                cargo: "cargo".to_owned(),
                rollback: format!(
                    "revert this stage's commit: every member still declares the edition itself; rollback point: {rollback_point}"
                ),
                rollout: Vec::new(),
            },
            &members,
        );
    }

    /// The edit that has a member declare `to` itself instead of inheriting `declared` (a
    /// `[workspace.package]` setting); none when the metadata says nothing of where the member
    /// writes it.
    fn override_edit(
        kind: ChangeKind,
        member: &str,
        declared: &Declared,
        to: &str,
        change: String,
        done: bool,
    ) -> Option<Change> {
        let via = declared.via.as_ref()?;
        Some(Change {
            crate_name: Some(member.to_owned()),
            kind,
            file: Some(via.file.clone()),
            line: via.line,
            toml_path: Some(via.toml_path()),
            from: Some(declared.value.clone()),
            to: Some(to.to_owned()),
            change,
            done,
            keys: via.keys.clone(),
            op: Some(EditOp::Override),
            ..Change::default()
        })
    }

    /// The edit that has a member inherit a `[workspace.package]` setting (whose new value is
    /// `value`) instead of declaring it; done when it inherits and the workspace value is
    /// `value` already (`settled`).
    fn inherit_edit(
        kind: ChangeKind,
        member: &str,
        declared: &Declared,
        value: &str,
        settled: bool,
        change: String,
    ) -> Option<Change> {
        let (site, done) = match &declared.via {
            Some(via) => (via, settled),
            None => (&declared.site, false),
        };
        Some(Change {
            crate_name: Some(member.to_owned()),
            kind,
            file: Some(site.file.clone()),
            line: site.line,
            toml_path: Some(site.toml_path()),
            from: Some(value.to_owned()),
            to: Some("workspace".to_owned()),
            change,
            done,
            keys: site.keys.clone(),
            op: Some(EditOp::Inherit),
            ..Change::default()
        })
    }
}

/// A stage before dev-dependents and status are added.
struct StageDraft {
    name: String,
    phase: Phase,
    changes: Vec<Change>,
    gates: Vec<String>,
    /// Gates that run after the dev-dependents' tests (workspace-wide checks).
    extra_gates: Vec<String>,
    /// `cargo` or `cargo +TOOLCHAIN`, for the dev-dependents' test lines.
    cargo: String,
    rollback: String,
    rollout: Vec<RolloutStep>,
}

/// A gate command the planner wrote as a command line (`cargo [+TOOLCHAIN] …`). A contract
/// check a library caller names without `cargo` is kept word for word after it.
fn gate(line: &str) -> Gate {
    Gate::parse(line).unwrap_or_else(|| Gate {
        toolchain: None,
        args: line.split_whitespace().map(str::to_owned).collect(),
    })
}

/// One rollout step, as the consumer declares its rollout.
fn rollout_step(decl: &RolloutDecl, contract: &str, major: u64, percent: u8) -> RolloutStep {
    let fragment = RolloutDecl::fill(&decl.fragment, contract, major);
    let rule = RolloutDecl::fill(&decl.rule, contract, major);
    RolloutStep {
        percent,
        apply: format!("set `percent = {percent}` in rule `{rule}` of {fragment}, then reload"),
        fragment,
        rule,
        watch: decl
            .watch
            .iter()
            .map(|watch| {
                format!(
                    "{}: {}",
                    RolloutDecl::fill(&watch.query, contract, major),
                    RolloutDecl::fill(&watch.bar, contract, major)
                )
            })
            .collect(),
    }
}

/// Drops repeated warnings (a cycle seen by several steps of a goal), keeping first order.
fn unique_in_order(warnings: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    warnings
        .into_iter()
        .filter(|warning| seen.insert(warning.clone()))
        .collect()
}

/// Whether a requirement already meets a `--dep` goal: it admits `version`'s semver-compatible
/// series and asks for at least `version` (`serde@2` is met by `2.0.1`, `bytes@1.9` is not
/// met by `1.5`). A requirement without a lower bound (`*`) meets it when it admits it.
pub fn requirement_meets(req: &semver::VersionReq, version: &Version) -> bool {
    match requirement_floor(req) {
        Some(floor) => {
            floor >= *version && compatibility_class(&floor) == compatibility_class(version)
        }
        None => req.matches(version),
    }
}

/// Whether moving `req` to `version` stays within one semver-compatible series (same major,
/// or same minor below 1.0): then cargo can unify the old and new users.
pub fn semver_compatible(req: &semver::VersionReq, version: &Version) -> bool {
    requirement_floor(req)
        .is_none_or(|floor| compatibility_class(&floor) == compatibility_class(version))
}

/// The part of a version that semver compatibility keeps fixed: the major, or below 1.0 the
/// minor (and below 0.1 the patch).
fn compatibility_class(version: &Version) -> (u64, u64, u64) {
    match (version.major, version.minor) {
        (0, 0) => (0, 0, version.patch),
        (0, minor) => (0, minor, 0),
        (major, _) => (major, 0, 0),
    }
}

/// Whether some version with this major satisfies `req`. Candidates are the major's first
/// and a very late version, and each version a comparator of the range names.
pub fn req_allows_major(req: &semver::VersionReq, major: u64) -> bool {
    let mut candidates = vec![
        Version::new(major, 0, 0),
        Version::new(major, u64::MAX, u64::MAX),
    ];
    for comparator in &req.comparators {
        if comparator.major == major {
            let minor = comparator.minor.unwrap_or(0);
            let patch = comparator.patch.unwrap_or(0);
            candidates.push(Version::new(major, minor, patch));
            candidates.push(Version::new(major, minor, patch.saturating_add(1)));
            candidates.push(Version::new(major, minor.saturating_add(1), 0));
        }
    }
    candidates.iter().any(|version| req.matches(version))
}

/// `migration `a`` or `migrations `a`, `b``, for rollback text.
fn migration_list(migrations: &[(usize, &str)]) -> String {
    let names: Vec<String> = migrations
        .iter()
        .map(|(_, name)| format!("`{name}`"))
        .collect();
    let noun = if names.len() == 1 {
        "migration"
    } else {
        "migrations"
    };
    format!("{noun} {}", names.join(", "))
}

/// The first Rust release of an edition, below which cargo refuses a `rust-version`.
fn edition_minimum_rust(edition: u16) -> Option<Version> {
    match edition {
        2018 => Some(Version::new(1, 31, 0)),
        2021 => Some(Version::new(1, 56, 0)),
        2024 => Some(Version::new(1, 85, 0)),
        _ => None,
    }
}

/// `Cargo.toml:12` (or the file alone when its line is unknown).
fn site_label(site: &Site) -> String {
    match site.line {
        Some(line) => format!("{}:{line}", site.file),
        None => site.file.clone(),
    }
}

/// The lowest version a requirement admits, from its `>=`, `^`, `~`, `=` comparators.
fn requirement_floor(req: &semver::VersionReq) -> Option<Version> {
    req.comparators
        .iter()
        .filter(|c| {
            matches!(
                c.op,
                semver::Op::Caret | semver::Op::Tilde | semver::Op::Exact | semver::Op::GreaterEq
            )
        })
        .map(|c| Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0)))
        .max()
}

fn names_of(builder: &Builder<'_>, members: &[usize]) -> String {
    let names: Vec<&str> = members.iter().map(|&m| builder.name(m)).collect();
    names.join(", ")
}

fn quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("`{item}`")).collect();
    quoted.join(", ")
}

/// The `provider/feature` items a consumer needs for the new major: for each member it
/// depends on that provides the contract at `major`.
fn provider_features_for(
    builder: &Builder<'_>,
    consumer: usize,
    contract: &str,
    major: u64,
) -> Vec<String> {
    let mut items = Vec::new();
    for (dependency, edge) in builder.graph.dependencies(consumer) {
        if !edge.orders() {
            continue;
        }
        let provider = builder.member(dependency);
        if provider.contracts.provides.contains_key(contract) {
            let feature = provider.contracts.provider_feature(contract, major);
            let local = builder
                .member(consumer)
                .dependency_on(&provider.name)
                .map_or(provider.name.as_str(), |dep| dep.local_name());
            items.push(format!("{local}/{feature}"));
        }
    }
    items.sort_unstable();
    items
}

/// The member's own features that turn on one of `provider_features` (for example the
/// gateway's `v2 = ["billing/v2"]`): the feature set that builds the new major alone.
fn own_features_enabling(member: &Member, provider_features: &[String]) -> Vec<String> {
    member
        .features
        .iter()
        .filter(|(name, enables)| {
            name.as_str() != "default"
                && enables.iter().any(|item| {
                    provider_features
                        .iter()
                        .any(|wanted| item == wanted || item.replace("?/", "/") == *wanted)
                })
        })
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_allow_majors() {
        let allows =
            |req: &str, major| req_allows_major(&semver::VersionReq::parse(req).unwrap(), major);
        assert!(allows("^1.2", 1));
        assert!(!allows("^1.2", 2));
        assert!(allows("^2.0", 2));
        assert!(allows(">=1.5, <2", 1));
        assert!(!allows(">=1.5, <2", 2));
        assert!(allows(">1.5", 1));
        assert!(allows(">1.5", 2));
        assert!(allows("~1.3", 1));
        assert!(allows("=2.1.0", 2));
        assert!(!allows("=2.1.0", 1));
        assert!(allows("*", 3));
    }
}
