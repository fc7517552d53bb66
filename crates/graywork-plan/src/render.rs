//! Rendering plans, explanations and graphs as text, JSON, markdown, mermaid and dot.

use std::fmt::Write as _;

use serde::Serialize;

use super::graph::DepGraph;
use super::planner::{Change, Plan, Stage};
use graywork_workspace::known_names_hint;
use graywork_workspace::{DepKind, Workspace};

/// The schema of `upgrade-plan --explain CRATE --format json`.
pub const EXPLAIN_SCHEMA: &str = "graywork.explain/v1";

/// The schema of `graph --format json`.
pub const GRAPH_SCHEMA: &str = "graywork.graph/v1";

/// Output formats of `upgrade-plan`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum PlanFormat {
    /// A readable table, then each stage in detail.
    #[default]
    Text,
    /// The versioned JSON document (`schema`, `goal`, `warnings`, `stages`).
    Json,
    /// A markdown document, for a pull request or an issue.
    Markdown,
    /// A mermaid flowchart of the stages.
    Mermaid,
    /// A graphviz digraph of the stages.
    Dot,
}

/// Output formats of `graph`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum GraphFormat {
    /// One line per dependency.
    #[default]
    Text,
    /// The versioned JSON document (`schema`, `members`, `edges`, `contract_edges`, `cycles`).
    Json,
    /// A graphviz digraph.
    Dot,
    /// A mermaid flowchart.
    Mermaid,
}

/// Renders a plan.
pub fn render_plan(plan: &Plan, format: PlanFormat) -> String {
    match format {
        PlanFormat::Text => plan_text(plan),
        PlanFormat::Json => json(plan),
        PlanFormat::Markdown => plan_markdown(plan),
        PlanFormat::Mermaid => plan_mermaid(plan),
        PlanFormat::Dot => plan_dot(plan),
    }
}

fn json(value: &impl Serialize) -> String {
    // Serializing plain structs of strings, numbers and vectors to a string cannot fail.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn plan_text(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "upgrade plan: {} ({})",
        plan.goal.summary, plan.goal.target
    );
    if let Some(impact) = &plan.impact {
        let _ = writeln!(out, "{}", crate::impact::summary_text(impact));
    }
    if !plan.warnings.is_empty() {
        out.push_str("\nwarnings:\n");
        for warning in &plan.warnings {
            let _ = writeln!(out, "  - {warning}");
        }
    }
    if plan.stages.is_empty() {
        out.push_str("\nnothing to do: no crate is affected\n");
        return out;
    }
    let rows: Vec<[String; 4]> = plan
        .stages
        .iter()
        .map(|stage| {
            [
                stage.index.to_string(),
                stage.status.as_str().to_owned(),
                stage.name.clone(),
                short_list(&stage.crates),
            ]
        })
        .collect();
    let headers = ["stage", "status", "name", "crates"];
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    out.push('\n');
    let line = |cells: [&str; 4]| {
        let mut text = String::new();
        for (position, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if position + 1 == cells.len() {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<width$}  ");
            }
        }
        text.trim_end().to_owned()
    };
    let _ = writeln!(out, "{}", line(headers));
    for row in &rows {
        let _ = writeln!(out, "{}", line([&row[0], &row[1], &row[2], &row[3]]));
    }
    for stage in &plan.stages {
        stage_text(&mut out, stage);
    }
    out
}

/// How many names a summary line shows before "and N more".
const SHOWN_NAMES: usize = 8;

/// `a, b, c and 12 more`: a list that fits a summary line.
fn short_list(names: &[String]) -> String {
    if names.len() > SHOWN_NAMES {
        format!(
            "{} and {} more",
            names[..SHOWN_NAMES].join(", "),
            names.len() - SHOWN_NAMES
        )
    } else {
        names.join(", ")
    }
}

/// Like [`short_list`], each name in backticks, for markdown.
fn md_code_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    short_list(&quoted)
}

/// Who a change belongs to: its crate, `(workspace)` for an edit of a shared declaration or
/// the toolchain pin, `(outside crates)` for anything else.
fn owner(change: &Change) -> &str {
    match &change.crate_name {
        Some(name) => name,
        None if change.is_edit() => "(workspace)",
        None => "(outside crates)",
    }
}

/// ` [Cargo.toml:12 workspace.dependencies.serde]` for a manifest edit, empty otherwise.
fn edit_place(change: &Change) -> String {
    let (Some(file), Some(path)) = (&change.file, &change.toml_path) else {
        return String::new();
    };
    match change.line {
        Some(line) => format!(" [{file}:{line} {path}]"),
        None => format!(" [{file} {path}]"),
    }
}

fn stage_text(out: &mut String, stage: &Stage) {
    let _ = writeln!(
        out,
        "\nstage {}: {} [{}]",
        stage.index,
        stage.name,
        stage.status.as_str()
    );
    if stage.crates.is_empty() {
        out.push_str("  crates: none yet (no member's build changes)\n");
    } else {
        let _ = writeln!(out, "  crates: {}", stage.crates.join(", "));
    }
    out.push_str("  changes:\n");
    for change in &stage.changes {
        let mark = if change.done { "x" } else { " " };
        let _ = writeln!(
            out,
            "    [{mark}] {}: {}{}",
            owner(change),
            change.change,
            edit_place(change)
        );
    }
    if !stage.dev_dependents.is_empty() {
        let _ = writeln!(
            out,
            "  dev-dependents in the gate: {}",
            stage.dev_dependents.join(", ")
        );
    }
    if !stage.dependents.is_empty() {
        let _ = writeln!(
            out,
            "  dependents in the gate: {}",
            short_list(&stage.dependents)
        );
    }
    out.push_str("  gate:\n");
    for gate in &stage.gates {
        let _ = writeln!(out, "    {gate}");
    }
    if !stage.rollout.is_empty() {
        out.push_str("  rollout:\n");
        let shared_watch = shared_watch(stage);
        for step in &stage.rollout {
            let _ = writeln!(out, "    {:>3}%: {}", step.percent, step.apply);
            if shared_watch.is_none() {
                for watch in &step.watch {
                    let _ = writeln!(out, "          watch {watch}");
                }
            }
        }
        if let Some(watch) = shared_watch {
            out.push_str("    before each next step, watch:\n");
            for line in watch {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    let _ = writeln!(out, "  rollback: {}", stage.rollback);
}

/// The watch list when every rollout step has the same one (printed once, not per step).
fn shared_watch(stage: &Stage) -> Option<&[String]> {
    let first = stage.rollout.first()?;
    stage
        .rollout
        .iter()
        .all(|step| step.watch == first.watch)
        .then_some(first.watch.as_slice())
}

fn plan_markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Upgrade plan: {}\n", plan.goal.summary);
    let _ = writeln!(
        out,
        "Goal: `{}` `{}` (schema `{}`).\n",
        plan.goal.kind, plan.goal.target, plan.schema
    );
    if let Some(impact) = &plan.impact {
        let _ = writeln!(out, "{}\n", md_escape(&crate::impact::summary_text(impact)));
    }
    if !plan.warnings.is_empty() {
        out.push_str("Warnings:\n\n");
        for warning in &plan.warnings {
            let _ = writeln!(out, "- {}", md_escape(warning));
        }
        out.push('\n');
    }
    out.push_str("| Stage | Status | Name | Crates |\n|---|---|---|---|\n");
    for stage in &plan.stages {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            stage.index,
            stage.status.as_str(),
            md_escape(&stage.name),
            md_code_list(&stage.crates)
        );
    }
    for stage in &plan.stages {
        let _ = writeln!(
            out,
            "\n## Stage {}: {} ({})\n",
            stage.index,
            md_escape(&stage.name),
            stage.status.as_str()
        );
        out.push_str("Changes:\n\n");
        for change in &stage.changes {
            let mark = if change.done { "x" } else { " " };
            let owner = match &change.crate_name {
                Some(name) => format!("`{name}`"),
                None if change.is_edit() => "workspace".to_owned(),
                None => "outside crates".to_owned(),
            };
            let _ = writeln!(
                out,
                "- [{mark}] {owner}: {}{}",
                md_escape(&change.change),
                md_escape(&edit_place(change))
            );
        }
        if !stage.dev_dependents.is_empty() {
            let crates: Vec<String> = stage
                .dev_dependents
                .iter()
                .map(|c| format!("`{c}`"))
                .collect();
            let _ = writeln!(out, "\nDev-dependents in the gate: {}.", crates.join(", "));
        }
        if !stage.dependents.is_empty() {
            let _ = writeln!(
                out,
                "\nDependents in the gate: {}.",
                md_code_list(&stage.dependents)
            );
        }
        out.push_str("\nGate:\n\n```sh\n");
        for gate in &stage.gates {
            let _ = writeln!(out, "{gate}");
        }
        out.push_str("```\n");
        if !stage.rollout.is_empty() {
            out.push_str("\nRollout:\n\n| Step | Apply | Watch |\n|---|---|---|\n");
            for step in &stage.rollout {
                let watch: Vec<String> = step
                    .watch
                    .iter()
                    .map(|w| format!("`{}`", w.replace('|', "\\|")))
                    .collect();
                let _ = writeln!(
                    out,
                    "| {}% | {} | {} |",
                    step.percent,
                    md_escape(&step.apply),
                    watch.join("<br>")
                );
            }
        }
        let _ = writeln!(out, "\nRollback: {}", md_escape(&stage.rollback));
    }
    out
}

fn md_escape(text: &str) -> String {
    text.replace('|', "\\|")
}

fn plan_mermaid(plan: &Plan) -> String {
    let mut out = String::from("flowchart TD\n");
    for stage in &plan.stages {
        let label = format!(
            "{}. {}<br/>{}<br/>{}",
            stage.index,
            stage.name,
            stage.crates.join(", "),
            stage.status.as_str()
        );
        let _ = writeln!(out, "    s{}[\"{}\"]", stage.index, mermaid_escape(&label));
    }
    for pair in plan.stages.windows(2) {
        let _ = writeln!(out, "    s{} --> s{}", pair[0].index, pair[1].index);
    }
    for stage in &plan.stages {
        if stage.status.as_str() == "done" {
            let _ = writeln!(out, "    class s{} done", stage.index);
        }
    }
    out.push_str("    classDef done fill:#d4edda,stroke:#28a745\n");
    out
}

fn mermaid_escape(text: &str) -> String {
    text.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
        .replace("#lt;br/#gt;", "<br/>")
}

fn plan_dot(plan: &Plan) -> String {
    let mut out = String::from("digraph plan {\n    rankdir=TB;\n    node [shape=box];\n");
    for stage in &plan.stages {
        let label = format!(
            "{}. {}\n{}\n{}",
            stage.index,
            stage.name,
            stage.crates.join(", "),
            stage.status.as_str()
        );
        let style = if stage.status.as_str() == "done" {
            ", style=filled, fillcolor=\"#d4edda\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    s{} [label=\"{}\"{style}];",
            stage.index,
            dot_escape(&label)
        );
    }
    for pair in plan.stages.windows(2) {
        let _ = writeln!(out, "    s{} -> s{};", pair[0].index, pair[1].index);
    }
    out.push_str("}\n");
    out
}

fn dot_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `--explain CRATE --format json`: the crate's placements, each with its stage's name; an
/// empty list when the crate is in no stage.
fn explain_json(plan: &Plan, krate: &str) -> String {
    #[derive(Serialize)]
    struct ExplainJson<'a> {
        schema: &'static str,
        #[serde(rename = "crate")]
        krate: &'a str,
        goal: &'a str,
        target: &'a str,
        placements: Vec<PlacementJson<'a>>,
    }
    #[derive(Serialize)]
    struct PlacementJson<'a> {
        stage_name: &'a str,
        #[serde(flatten)]
        placement: &'a crate::planner::Placement,
    }
    let placements = plan
        .placements
        .get(krate)
        .into_iter()
        .flatten()
        .map(|placement| PlacementJson {
            stage_name: plan
                .stages
                .get(placement.stage - 1)
                .map_or("", |stage| stage.name.as_str()),
            placement,
        })
        .collect();
    json(&ExplainJson {
        schema: EXPLAIN_SCHEMA,
        krate,
        goal: &plan.goal.summary,
        target: &plan.goal.target,
        placements,
    })
}

/// Renders `--explain CRATE`: why the crate sits in each stage it appears in.
pub fn render_explain(
    plan: &Plan,
    workspace: &Workspace,
    krate: &str,
    format: PlanFormat,
) -> anyhow::Result<String> {
    if workspace.member_index(krate).is_none() {
        anyhow::bail!(
            "--explain {krate}: unknown crate `{krate}` ({})",
            known_names_hint(krate, workspace.members.iter().map(|m| m.name.as_str()))
        );
    }
    if format == PlanFormat::Json {
        return Ok(explain_json(plan, krate));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{krate} in the plan to {} ({}):",
        plan.goal.summary, plan.goal.target
    );
    let Some(placements) = plan.placements.get(krate) else {
        let _ = writeln!(
            out,
            "  not in any stage: nothing it depends on through normal or build dependencies changes, and it dev-depends on no crate that changes"
        );
        return Ok(out);
    };
    for placement in placements {
        let stage_name = plan
            .stages
            .get(placement.stage - 1)
            .map_or("", |stage| stage.name.as_str());
        if placement.gate_only {
            let _ = writeln!(
                out,
                "  in the test gate of stage {} ({stage_name}): {}",
                placement.stage, placement.reason
            );
            continue;
        }
        let _ = writeln!(
            out,
            "  stage {} ({stage_name}): {}",
            placement.stage, placement.reason
        );
        if placement.chain.is_empty() {
            continue;
        }
        out.push_str("    placed after its deepest dependency that changes in an earlier stage:\n");
        let mut previous: Option<&str> = None;
        for link in &placement.chain {
            if let Some(previous) = previous
                && previous != link.dependent
            {
                let _ = writeln!(
                    out,
                    "      {previous} and {} are in one cycle",
                    link.dependent
                );
            }
            previous = Some(&link.dependency);
            let stage = link
                .dependency_stage
                .map_or_else(|| "does not change".to_owned(), |s| format!("stage {s}"));
            let _ = writeln!(
                out,
                "      {} -> {} ({}; {stage})",
                link.dependent, link.dependency, link.kinds
            );
        }
    }
    Ok(out)
}

#[derive(Serialize)]
struct GraphJson<'a> {
    schema: &'static str,
    members: Vec<GraphMember<'a>>,
    edges: Vec<GraphEdge<'a>>,
    contract_edges: Vec<ContractEdge>,
    cycles: Vec<Vec<&'a str>>,
}

#[derive(Serialize)]
struct GraphMember<'a> {
    name: &'a str,
    version: String,
    manifest: String,
}

#[derive(Serialize)]
struct GraphEdge<'a> {
    from: &'a str,
    to: &'a str,
    kinds: Vec<&'static str>,
    renames: Vec<&'a str>,
    targets: Vec<&'a str>,
    by_name: bool,
}

/// A consumer-to-provider edge of one contract.
#[derive(Debug, Clone, Serialize)]
pub struct ContractEdge {
    /// The crate that requires the contract.
    pub consumer: String,
    /// A crate that provides it.
    pub provider: String,
    /// The contract.
    pub contract: String,
    /// The consumer's ranges.
    pub requires: Vec<String>,
    /// Whether the consumer picks the major per request (gray).
    pub gray: bool,
}

/// Every consumer-to-provider contract edge, sorted.
pub fn contract_edges(workspace: &Workspace) -> Vec<ContractEdge> {
    let mut edges = Vec::new();
    for consumer in &workspace.members {
        for (contract, ranges) in &consumer.contracts.requires {
            for provider in &workspace.members {
                if provider.name != consumer.name
                    && provider.contracts.provides.contains_key(contract)
                {
                    edges.push(ContractEdge {
                        consumer: consumer.name.clone(),
                        provider: provider.name.clone(),
                        contract: contract.clone(),
                        requires: ranges.iter().map(ToString::to_string).collect(),
                        gray: consumer.contracts.gray.contains(contract),
                    });
                }
            }
        }
    }
    edges.sort_by(|a, b| {
        (&a.consumer, &a.provider, &a.contract).cmp(&(&b.consumer, &b.provider, &b.contract))
    });
    edges
}

/// Renders the members' graph, keeping only edges with one of `kinds`.
pub fn render_graph(workspace: &Workspace, kinds: &[DepKind], format: GraphFormat) -> String {
    let graph = DepGraph::build(workspace);
    let mut order: Vec<usize> = (0..workspace.members.len()).collect();
    order.sort_unstable_by(|&a, &b| workspace.members[a].name.cmp(&workspace.members[b].name));
    let name = |m: usize| workspace.members[m].name.as_str();
    let mut edges: Vec<(usize, usize, Vec<DepKind>, &super::graph::DepEdge)> = Vec::new();
    for &from in &order {
        let mut out_edges: Vec<_> = graph
            .dependencies(from)
            .filter_map(|(to, edge)| {
                let shown: Vec<DepKind> = edge
                    .kinds
                    .iter()
                    .copied()
                    .filter(|kind| kinds.contains(kind))
                    .collect();
                (!shown.is_empty()).then_some((from, to, shown, edge))
            })
            .collect();
        out_edges.sort_unstable_by(|a, b| name(a.1).cmp(name(b.1)));
        edges.extend(out_edges);
    }
    let contracts = contract_edges(workspace);
    let ordering = graph.ordering();
    let cycles: Vec<Vec<&str>> = ordering
        .cycles()
        .map(|cycle| {
            let mut names: Vec<&str> = cycle.iter().map(|&m| name(m)).collect();
            names.sort_unstable();
            names
        })
        .collect();
    let label = |kinds: &[DepKind], edge: &super::graph::DepEdge| {
        let mut parts: Vec<String> = vec![
            kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join("+"),
        ];
        for rename in &edge.renames {
            parts.push(format!("as {rename}"));
        }
        for target in &edge.targets {
            parts.push(target.clone());
        }
        if edge.by_name {
            parts.push("by name".to_owned());
        }
        parts.join(", ")
    };
    let mut out = String::new();
    match format {
        GraphFormat::Json => {
            let document = GraphJson {
                schema: GRAPH_SCHEMA,
                members: order
                    .iter()
                    .map(|&m| GraphMember {
                        name: name(m),
                        version: workspace.members[m].version.to_string(),
                        manifest: workspace.relative_manifest(&workspace.members[m]),
                    })
                    .collect(),
                edges: edges
                    .iter()
                    .map(|(from, to, kinds, edge)| GraphEdge {
                        from: name(*from),
                        to: name(*to),
                        kinds: kinds.iter().map(|k| k.as_str()).collect(),
                        renames: edge.renames.iter().map(String::as_str).collect(),
                        targets: edge.targets.iter().map(String::as_str).collect(),
                        by_name: edge.by_name,
                    })
                    .collect(),
                contract_edges: contracts,
                cycles,
            };
            out = json(&document);
        }
        GraphFormat::Text => {
            for &member in &order {
                let _ = writeln!(
                    out,
                    "{} {}",
                    name(member),
                    workspace.members[member].version
                );
                for (from, to, kinds, edge) in &edges {
                    if *from == member {
                        let _ = writeln!(out, "  -> {} ({})", name(*to), label(kinds, edge));
                    }
                }
                for contract in contracts.iter().filter(|c| c.consumer == name(member)) {
                    let gray = if contract.gray { ", gray" } else { "" };
                    let _ = writeln!(
                        out,
                        "  => {} (contract {} {}{gray})",
                        contract.provider,
                        contract.contract,
                        contract.requires.join(", ")
                    );
                }
            }
            for cycle in &cycles {
                let _ = writeln!(
                    out,
                    "cycle of normal/build dependencies: {}",
                    cycle.join(", ")
                );
            }
        }
        GraphFormat::Dot => {
            out.push_str("digraph workspace {\n    rankdir=LR;\n    node [shape=box];\n");
            for &member in &order {
                let _ = writeln!(out, "    \"{}\";", dot_escape(name(member)));
            }
            for (from, to, kinds, edge) in &edges {
                let style = if kinds.iter().all(|k| *k == DepKind::Dev) {
                    ", style=dashed"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "    \"{}\" -> \"{}\" [label=\"{}\"{style}];",
                    dot_escape(name(*from)),
                    dot_escape(name(*to)),
                    dot_escape(&label(kinds, edge))
                );
            }
            for contract in &contracts {
                let _ = writeln!(
                    out,
                    "    \"{}\" -> \"{}\" [label=\"contract {}\", color=blue, fontcolor=blue, style=bold];",
                    dot_escape(&contract.consumer),
                    dot_escape(&contract.provider),
                    dot_escape(&contract.contract)
                );
            }
            out.push_str("}\n");
        }
        GraphFormat::Mermaid => {
            out.push_str("flowchart LR\n");
            for &member in &order {
                let _ = writeln!(out, "    n{member}[\"{}\"]", mermaid_escape(name(member)));
            }
            for (from, to, kinds, edge) in &edges {
                let arrow = if kinds.iter().all(|k| *k == DepKind::Dev) {
                    "-.->"
                } else {
                    "-->"
                };
                let _ = writeln!(
                    out,
                    "    n{from} {arrow}|\"{}\"| n{to}",
                    mermaid_escape(&label(kinds, edge))
                );
            }
            for contract in &contracts {
                let (Some(consumer), Some(provider)) = (
                    workspace.member_index(&contract.consumer),
                    workspace.member_index(&contract.provider),
                ) else {
                    continue;
                };
                let _ = writeln!(
                    out,
                    "    n{consumer} ==>|\"contract {}\"| n{provider}",
                    mermaid_escape(&contract.contract)
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_labels() {
        assert_eq!(
            mermaid_escape("a \"b\" <c><br/>d"),
            "a #quot;b#quot; #lt;c#gt;<br/>d"
        );
        assert_eq!(dot_escape("a \"b\"\nc\\"), "a \\\"b\\\"\\nc\\\\");
        assert_eq!(md_escape("a|b"), "a\\|b");
    }
}
