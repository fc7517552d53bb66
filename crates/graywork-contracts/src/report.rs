//! Output: text grouped by contract and severity, or JSON with `required_bump` and `findings`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::diff::{Bump, Finding, Severity, required_bump};
use super::surface::{Unread, UnreadKind};

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
    /// What the reader could not read in either tree: the findings cannot speak for it.
    pub unread: Vec<UnreadPart>,
    /// Whether unread parts fail the check (`--deny-unread`).
    #[serde(skip)]
    pub deny_unread: bool,
    /// Where locations are relative to, from the repository root, for `--format github`
    /// (`crates/foo` when checking `--crate-dir crates/foo`); empty for the workspace root.
    #[serde(skip)]
    pub location_base: String,
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
            unread: Vec::new(),
            deny_unread: false,
            location_base: String::new(),
        }
    }

    /// Adds what the reader could not read in the checked tree and in the baseline; with
    /// `deny`, any of it fails the check.
    pub fn add_unread(&mut self, checked: &[Unread], baseline: &[Unread], deny: bool) {
        for (side, parts) in [("crate", checked), ("baseline", baseline)] {
            self.unread.extend(parts.iter().map(|part| UnreadPart {
                side,
                file: part.loc.file.clone(),
                line: part.loc.line,
                kind: part.kind,
                detail: part.detail.clone(),
            }));
        }
        self.deny_unread = deny;
        if deny && !self.unread.is_empty() {
            self.ok = false;
        }
    }

    /// `ok`, or `ok, incomplete: N part(s) not read`, or `FAILED`.
    fn verdict(&self) -> String {
        let unread = self.unread.len();
        match (self.ok, unread) {
            (true, 0) => "ok".to_string(),
            (true, n) => format!("ok, incomplete: {n} part(s) not read"),
            (false, n) if n > 0 && self.deny_unread => {
                format!("FAILED: {n} part(s) not read (--deny-unread)")
            }
            (false, _) => "FAILED".to_string(),
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

    /// Renders the report as GitHub Actions workflow commands, one per finding: errors as
    /// `::error`, warnings as `::warning`, allowed changes as `::notice`, then a summary line.
    pub fn to_github(&self) -> String {
        let mut out = String::new();
        for finding in &self.findings {
            let command = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            let file = self.github_file(&finding.loc.file);
            let bump = if finding.bump == Bump::None {
                String::new()
            } else {
                format!(", needs {}", finding.bump)
            };
            let _ = writeln!(
                out,
                "::{command} file={},line={},title={}::{}",
                escape_property(&file),
                finding.loc.line,
                escape_property(&format!("{}{bump}", finding.lint)),
                escape_data(&format!("{}: {}", finding.path, finding.message))
            );
        }
        for part in &self.unread {
            let _ = writeln!(
                out,
                "::warning file={},line={},title=not read ({})::{}",
                escape_property(&self.github_file(&part.file)),
                part.line,
                escape_property(part.kind.name()),
                escape_data(&part.detail)
            );
        }
        let verdict = self.verdict();
        let _ = writeln!(
            out,
            "check-contracts: {verdict}: {} error(s), {} finding(s), required bump: {}",
            self.errors(),
            self.findings.len(),
            self.required_bump
        );
        out
    }

    /// A location's file as the repository root spells it.
    fn github_file(&self, file: &str) -> String {
        if self.location_base.is_empty() {
            file.to_string()
        } else {
            format!("{}/{file}", self.location_base.trim_end_matches('/'))
        }
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
            for severity in [Severity::Error, Severity::Warning, Severity::Note] {
                let of_severity: Vec<&&Finding> =
                    findings.iter().filter(|f| f.severity == severity).collect();
                if of_severity.is_empty() {
                    continue;
                }
                let title = match severity {
                    Severity::Error => "errors",
                    Severity::Warning => "warnings",
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
                    if !finding.also_at.is_empty() {
                        let _ = writeln!(out, "      also at: {}", finding.also_at.join(", "));
                    }
                    if let Some(cfg) = &finding.cfg {
                        let _ = writeln!(out, "      only with #[cfg({cfg})]");
                    }
                }
            }
        }
        if self.findings.is_empty() {
            let _ = writeln!(out, "\nno changes");
        }
        if !self.unread.is_empty() {
            let _ = writeln!(
                out,
                "\nnot read ({}): the check cannot see what these parts hold",
                self.unread.len()
            );
            for part in &self.unread {
                let side = if part.side == "baseline" {
                    "baseline "
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "  {side}{}:{}: {}: {}",
                    part.file,
                    part.line,
                    part.kind.name(),
                    part.detail
                );
            }
        }
        if self.lock_up_to_date == Some(false) && self.ok {
            let _ = writeln!(
                out,
                "\nnote: the lock file does not record the current surface; run `cargo xtask check-contracts --bless`"
            );
        }
        let verdict = self.verdict();
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

/// A part of a tree the reader could not read.
#[derive(Debug, Clone, Serialize)]
pub struct UnreadPart {
    /// `crate` (the tree checked) or `baseline`.
    pub side: &'static str,
    /// The file it is written in.
    pub file: String,
    /// Its line.
    pub line: usize,
    /// What kind of part it is.
    pub kind: UnreadKind,
    /// What it is, in words.
    pub detail: String,
}

/// Escapes a workflow command's message (`%`, CR and LF).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::Lint;
    use crate::surface::Location;

    #[test]
    fn github_commands_escape_and_prefix_the_file() {
        let finding = Finding {
            also_at: Vec::new(),
            group: "crate".to_string(),
            severity: Severity::Error,
            lint: Lint::FunctionMissing,
            bump: Bump::Major,
            path: "f".to_string(),
            loc: Location::new("src/lib.rs", 3),
            message: "100% gone,\nreally".to_string(),
            cfg: None,
        };
        let mut report = Report::new("x".to_string(), vec![finding], None);
        report.location_base = "crates/demo/".to_string();
        insta::assert_snapshot!(report.to_github(), @r"
        ::error file=crates/demo/src/lib.rs,line=3,title=function_missing%2C needs major::f: 100%25 gone,%0Areally
        check-contracts: FAILED: 1 error(s), 1 finding(s), required bump: major
        ");
    }
}
