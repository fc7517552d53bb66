//! Output: text grouped by contract and severity, or JSON with `required_bump` and `findings`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::diff::{Bump, Finding, Severity, required_bump};

/// Everything one run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What was compared, in words (`crate shared against shared/contracts.lock`).
    pub subject: String,
    /// The largest bump the surface changes need.
    pub required_bump: Bump,
    /// Whether every finding is allowed and every requirement met.
    pub ok: bool,
    /// Whether the lock file already records the current surface (`None` for other baselines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_up_to_date: Option<bool>,
    /// Every finding, grouped, errors first.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Builds a report, sorting findings by group, severity, path and lint.
    pub fn new(
        subject: String,
        mut findings: Vec<Finding>,
        lock_up_to_date: Option<bool>,
    ) -> Report {
        findings.sort_by(|a, b| {
            (&a.group, a.severity, &a.path, a.lint.name(), &a.message).cmp(&(
                &b.group,
                b.severity,
                &b.path,
                b.lint.name(),
                &b.message,
            ))
        });
        let surface_findings = findings.iter().filter(|f| f.group != "wiring");
        Report {
            subject,
            required_bump: required_bump(surface_findings),
            ok: findings.iter().all(|f| f.severity != Severity::Error),
            lock_up_to_date,
            findings,
        }
    }

    /// The number of findings that fail the check.
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    /// Renders the report as JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain strings, numbers and enums into a string cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Renders the report as text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "check-contracts: {}", self.subject);
        let mut groups: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for finding in &self.findings {
            groups.entry(&finding.group).or_default().push(finding);
        }
        for (group, findings) in &groups {
            let _ = writeln!(out, "\n{group}");
            for severity in [Severity::Error, Severity::Note] {
                let of_severity: Vec<&&Finding> =
                    findings.iter().filter(|f| f.severity == severity).collect();
                if of_severity.is_empty() {
                    continue;
                }
                let title = match severity {
                    Severity::Error => "errors",
                    Severity::Note => "allowed",
                };
                let _ = writeln!(out, "  {title}:");
                for finding in of_severity {
                    let bump = if finding.bump == Bump::None {
                        String::new()
                    } else {
                        format!(", needs {}", finding.bump)
                    };
                    let _ = writeln!(
                        out,
                        "    {}: {} [{}{bump}]",
                        finding.loc, finding.path, finding.lint
                    );
                    let _ = writeln!(out, "      {}", finding.message);
                    if let Some(cfg) = &finding.cfg {
                        let _ = writeln!(out, "      only with #[cfg({cfg})]");
                    }
                }
            }
        }
        if self.findings.is_empty() {
            let _ = writeln!(out, "\nno changes");
        }
        if self.lock_up_to_date == Some(false) && self.ok {
            let _ = writeln!(
                out,
                "\nnote: the lock file does not record the current surface; run `cargo xtask check-contracts --bless`"
            );
        }
        let verdict = if self.ok { "ok" } else { "FAILED" };
        let _ = writeln!(
            out,
            "\nresult: {verdict}: {} error(s), {} finding(s), required bump: {}",
            self.errors(),
            self.findings.len(),
            self.required_bump
        );
        out
    }
}
