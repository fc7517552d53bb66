//! Text tables and JSON for the report and the plans.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::config::IndexLocation;
use crate::plan::OutdatedPlan;
use crate::report::{Dependency, RegistryReport, Report, Update, age_text};

/// How `outdated` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum OutdatedFormat {
    /// A table for people.
    #[default]
    Text,
    /// JSON with a versioned `schema`.
    Json,
}

/// Renders the report.
pub fn render_report(report: &Report, format: OutdatedFormat) -> String {
    match format {
        OutdatedFormat::Json => json(report),
        OutdatedFormat::Text => report_text(report),
    }
}

/// Renders the plans (with the registries' freshness first in text).
pub fn render_plan(report: &Report, plan: &OutdatedPlan, format: OutdatedFormat) -> String {
    match format {
        OutdatedFormat::Json => json(plan),
        OutdatedFormat::Text => {
            let mut out = registries_text(&report.registries);
            out.push('\n');
            out.push_str(&plan_text(plan));
            out
        }
    }
}

fn json(value: &impl serde::Serialize) -> String {
    // The report and plan types serialize only strings, numbers, booleans and lists, which
    // serde_json cannot fail on.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn report_text(report: &Report) -> String {
    let mut out = registries_text(&report.registries);
    if let Some(policy) = &report.rust_version {
        let _ = writeln!(
            out,
            "compatible versions build with Rust {}: {}, as {} asks",
            policy.version, policy.version_from, policy.enabled_by
        );
    }
    out.push('\n');
    if report.dependencies.is_empty() {
        out.push_str("no registry dependencies\n");
    } else {
        let header = [
            "DEPENDENCY",
            "REQUIREMENT",
            "LOCKED",
            "COMPATIBLE",
            "LATEST",
            "UPDATE",
            "DECLARED",
            "USED BY",
        ];
        let rows: Vec<[String; 8]> = report.dependencies.iter().map(row).collect();
        out.push_str(&table(&header, &rows));
    }
    for skipped in &report.skipped {
        let _ = writeln!(
            out,
            "skipped {} ({}): {}",
            skipped.name, skipped.location, skipped.reason
        );
    }
    out.push('\n');
    out.push_str(&summary(&report.dependencies));
    out
}

fn row(dependency: &Dependency) -> [String; 8] {
    let version = |version: &Option<semver::Version>| {
        version
            .as_ref()
            .map_or_else(|| "-".to_owned(), ToString::to_string)
    };
    let locked = if dependency.locked.is_empty() {
        "not locked".to_owned()
    } else {
        dependency
            .locked
            .iter()
            .map(|locked| {
                if locked.yanked {
                    format!("{} (yanked)", locked.version)
                } else {
                    locked.version.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut declared = format!("{}:{}", dependency.declared.file, dependency.declared.line);
    if dependency.declared.shared {
        declared.push_str(" (workspace)");
    }
    let users = dependency
        .users
        .iter()
        .map(|usage| match usage.kind {
            graywork_workspace::DepKind::Normal => usage.member.clone(),
            kind => format!("{} ({kind})", usage.member),
        })
        .collect::<Vec<_>>()
        .join(", ");
    [
        dependency.name.clone(),
        dependency.requirement.clone(),
        locked,
        match &dependency.needs_newer_rust {
            None => version(&dependency.compatible),
            Some(newer) => format!(
                "{} ({} needs Rust {})",
                version(&dependency.compatible),
                newer.version,
                newer.rust_version
            ),
        },
        version(&dependency.latest),
        dependency.update.as_str().to_owned(),
        declared,
        users,
    ]
}

fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (position, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if position + 1 == N {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<width$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

fn summary(dependencies: &[Dependency]) -> String {
    let count = |wanted: &[Update]| {
        dependencies
            .iter()
            .filter(|d| wanted.contains(&d.update))
            .count()
    };
    let compatible = count(&[Update::Compatible, Update::Both]);
    let incompatible = count(&[Update::Incompatible, Update::Both]);
    let up_to_date = count(&[Update::None]);
    let mut text = format!(
        "{} declaration{}: {up_to_date} up to date, {compatible} with a semver-compatible update, \
         {incompatible} with a semver-incompatible update",
        dependencies.len(),
        if dependencies.len() == 1 { "" } else { "s" }
    );
    if compatible + incompatible > 0 {
        text.push_str(" (`outdated --plan` plans them)");
    }
    text.push('\n');
    text
}

fn registries_text(registries: &[RegistryReport]) -> String {
    let mut out = String::new();
    for registry in registries {
        let _ = write!(out, "registry {}", registry.registry);
        if let Some(source) = &registry.replaced_by {
            let _ = write!(out, " (replaced by `{source}`)");
        }
        match &registry.index {
            IndexLocation::Sparse { url } => {
                let _ = write!(out, ": sparse index {url}");
            }
            IndexLocation::Git { url } => {
                let _ = write!(out, ": git index {url}");
            }
            IndexLocation::LocalRegistry { path } => {
                let _ = write!(out, ": local registry {}, read directly", path.display());
            }
        }
        if registry.index.is_cached() {
            if registry.refreshed {
                out.push_str(", cache refreshed by `cargo update --dry-run`");
            } else {
                match &registry.refresh_failed {
                    Some(reason) => {
                        let _ = write!(
                            out,
                            ", not refreshed (`cargo update --dry-run` failed: {reason}): from cargo's cache"
                        );
                    }
                    None => out.push_str(", offline: from cargo's cache"),
                }
                if let Some(oldest) = &registry.oldest_entry {
                    let _ = write!(
                        out,
                        ", oldest entry read `{}` fetched {} ({} ago)",
                        oldest.krate,
                        oldest.fetched_at,
                        age_text(oldest.age_seconds)
                    );
                }
            }
        }
        out.push('\n');
    }
    out
}

fn plan_text(plan: &OutdatedPlan) -> String {
    let mut out = String::new();
    out.push_str("Semver-incompatible updates, one staged plan each:\n");
    if plan.incompatible.is_empty() {
        out.push_str("  none\n");
    }
    for update in &plan.incompatible {
        let stages = match update.stages {
            Some(1) => ", 1 stage".to_owned(),
            Some(count) => format!(", {count} stages"),
            None => String::new(),
        };
        let lines = match update.impact_lines {
            Some(count) => format!(", {count} line(s) to change"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  {} {} -> {} ({}{stages}{lines})\n    {}",
            update.name,
            update.from.join(", "),
            update.version,
            update.declared.join(", "),
            update.command
        );
    }
    out.push_str("\nSemver-compatible updates, one stage:\n");
    let Some(stage) = plan.compatible.stages.first() else {
        out.push_str("  none\n");
        for warning in &plan.compatible.warnings {
            let _ = writeln!(out, "  warning: {warning}");
        }
        return out;
    };
    let _ = writeln!(
        out,
        "  stage {}: {} [{}]",
        stage.index,
        stage.name,
        stage.status.as_str()
    );
    let _ = writeln!(out, "    crates: {}", stage.crates.join(", "));
    for change in &stage.changes {
        let _ = write!(
            out,
            "    {}:{} {} `{}` -> `{}`",
            change.file.as_deref().unwrap_or_default(),
            change.line.unwrap_or_default(),
            change.toml_path.as_deref().unwrap_or_default(),
            change.from.as_deref().unwrap_or_default(),
            change.to.as_deref().unwrap_or_default()
        );
        if !change.inherited_by.is_empty() {
            let _ = write!(out, " (inherited by {})", change.inherited_by.join(", "));
        }
        out.push('\n');
    }
    let also: Vec<&String> = stage
        .dependents
        .iter()
        .chain(&stage.dev_dependents)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !also.is_empty() {
        let also: Vec<&str> = also.iter().map(|name| name.as_str()).collect();
        let _ = writeln!(out, "    also tested: {}", also.join(", "));
    }
    out.push_str("    gate:\n");
    for gate in &stage.gates {
        let _ = writeln!(out, "      {gate}");
    }
    let _ = writeln!(out, "    rollback: {}", stage.rollback);
    for warning in &plan.compatible.warnings {
        let _ = writeln!(out, "  warning: {warning}");
    }
    out
}
