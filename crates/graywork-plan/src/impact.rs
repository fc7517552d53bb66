//! The lines a dependency's new major breaks, listed in the plan: each stage gets, for each
//! of its members that uses the dependency, one code change per affected line (`file:line`,
//! what the member uses, what changed, the lint, certain or likely), or "no code change
//! expected"; the plan gets the totals. Predicting the lines is the contract checker's job:
//! the caller fills [`MemberImpact`]s into the tree facts, so planning still reads nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::planner::{Change, ChangeKind, Plan};

/// What a member must change for the dependency's new version, predicted from sources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberImpact {
    /// The affected lines, in file and line order.
    pub lines: Vec<ImpactedLine>,
}

/// One line of a member that uses what the new version breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImpactedLine {
    /// The file, relative to the workspace root.
    pub file: String,
    /// The line.
    pub line: usize,
    /// What the member uses there, as written.
    pub used: String,
    /// What changed about it.
    pub detail: ImpactDetail,
}

/// A predicted break, as a plan's change carries it (the shared plan schema's).
pub use graywork_workspace::schema::ImpactDetail;

/// The prediction for the whole plan, which the plan carries.
pub use crate::planner::ImpactSummary;

/// The impact facts the caller computed for a `--dep` goal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImpactFacts {
    /// Per member index: its affected lines.
    pub members: BTreeMap<usize, MemberImpact>,
    /// The summary's header: dependency, versions and notes (counts are filled here).
    pub summary: ImpactSummary,
}

/// Adds the predicted code changes to each stage that moves a member the facts cover, and
/// the totals to the plan. `names` maps member indices to package names.
pub fn attach(plan: &mut Plan, facts: &ImpactFacts, names: &dyn Fn(usize) -> String) {
    let mut summary = facts.summary.clone();
    let by_name: BTreeMap<String, &MemberImpact> = facts
        .members
        .iter()
        .map(|(&index, impact)| (names(index), impact))
        .collect();
    for (name, impact) in &by_name {
        summary.members.insert(name.clone(), impact.lines.len());
        summary.lines += impact.lines.len();
        summary.certain += impact
            .lines
            .iter()
            .filter(|line| line.detail.certainty == "certain")
            .count();
    }
    // Each member's lines go to the first stage that moves it.
    let mut listed = std::collections::BTreeSet::new();
    for stage in &mut plan.stages {
        let mut added = Vec::new();
        for krate in &stage.crates {
            let Some(impact) = by_name.get(krate) else {
                continue;
            };
            if !listed.insert(krate.clone()) {
                continue;
            }
            if impact.lines.is_empty() {
                added.push(Change::code(
                    Some(krate.clone()),
                    format!(
                        "no code change expected: nothing {krate} uses is broken by {} {} (the gate still runs)",
                        summary.dependency, summary.to
                    ),
                    false,
                ));
                continue;
            }
            for line in &impact.lines {
                added.push(Change {
                    crate_name: Some(krate.clone()),
                    kind: ChangeKind::Code,
                    file: Some(line.file.clone()),
                    line: Some(line.line),
                    change: format!(
                        "{}:{} uses `{}`: {} [{}, {}]",
                        line.file,
                        line.line,
                        line.used,
                        line.detail.change,
                        line.detail.lint,
                        line.detail.certainty
                    ),
                    impact: Some(line.detail.clone()),
                    ..Change::default()
                });
            }
        }
        stage.changes.extend(added);
    }
    plan.impact = Some(summary);
}

/// `--explain-impact MEMBER`: the member's affected lines in full, or why there are none.
pub fn explain(plan: &Plan, member: &str) -> String {
    let mut out = String::new();
    let Some(summary) = &plan.impact else {
        return "no impact was computed for this plan: impact is predicted for a dependency's new major (`--dep NAME@VERSION`)\n".to_string();
    };
    let _ = writeln!(
        out,
        "impact of {} {} on {member}",
        summary.dependency, summary.to
    );
    let lines: Vec<&Change> = plan
        .stages
        .iter()
        .flat_map(|stage| &stage.changes)
        .filter(|change| change.impact.is_some() && change.crate_name.as_deref() == Some(member))
        .collect();
    match summary.members.get(member) {
        None => {
            let _ = writeln!(out, "  {member} does not use {}", summary.dependency);
        }
        Some(0) => {
            let _ = writeln!(out, "  no code change expected");
        }
        Some(count) => {
            let _ = writeln!(out, "  {count} line(s):");
            for change in lines {
                let _ = writeln!(out, "    {}", change.change);
            }
        }
    }
    for note in &summary.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    out
}

/// The header line of the impact for text output.
pub fn summary_text(summary: &ImpactSummary) -> String {
    if summary.members.is_empty() {
        let mut text = format!(
            "impact of {} {}: not predicted",
            summary.dependency, summary.to
        );
        for note in &summary.notes {
            let _ = write!(text, "\n  note: {note}");
        }
        return text;
    }
    let affected = summary.members.values().filter(|&&count| count > 0).count();
    let mut text = format!(
        "impact of {} {} (from {}): {} line(s) in {} of {} member(s) that use it ({} certain, {} likely)",
        summary.dependency,
        summary.to,
        if summary.from.is_empty() {
            "unknown".to_string()
        } else {
            summary.from.join(", ")
        },
        summary.lines,
        affected,
        summary.members.len(),
        summary.certain,
        summary.lines - summary.certain
    );
    for note in &summary.notes {
        let _ = write!(text, "\n  note: {note}");
    }
    text
}
