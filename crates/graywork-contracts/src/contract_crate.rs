//! The workspace's contract crate checked against its lock file or a git revision, in three
//! steps: collect the facts (the workspace, the contract crate's surface, the lock file), read
//! the baseline while the wiring check runs, then compare and report (recording the lock file
//! when asked to bless it).

mod baseline;
mod facts;

use anyhow::Context;
use semver::Version;

use crate::diff::{self, Finding, Severity};
use crate::lock;
use crate::report::Report;
use crate::surface::{Location, Surface};
use crate::version;
use crate::wiring;
use crate::{CheckOptions, LockOptions, LockUpdate, Outcome};

pub(crate) use facts::Against;
use facts::Facts;

/// Checks the workspace's contract crate against `against`, and its consumers' wiring.
pub(crate) fn check(options: &CheckOptions, against: Against<'_>) -> anyhow::Result<Outcome> {
    let mut facts = facts::collect(options, against)?;
    let early_lock = facts.early_lock.take();
    let contracts_of_wiring = wiring_contracts(&facts.current, &facts.contract_crate.defines);
    // The wiring check reads the providers' sources: it runs while the baseline is read.
    let (baseline, wiring_findings) = std::thread::scope(|scope| {
        let wiring = scope.spawn(|| {
            wiring::check(
                &facts.workspace,
                &contracts_of_wiring,
                &facts.provider_impls,
            )
        });
        let baseline = baseline::read(&facts, against, early_lock, options);
        let wiring = wiring
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (baseline, wiring)
    });
    let baseline = baseline?;
    let mut findings = compare(&facts, baseline.surface.as_ref());
    findings.extend(wiring_findings?);
    let lock_text = lock::render(&facts.contract_crate.name, &facts.current)?;
    let lock_up_to_date = match against {
        Against::Lock(_) => {
            Some(std::fs::read_to_string(&facts.lock_file.path).is_ok_and(|text| text == lock_text))
        }
        Against::GitRevision(_) => None,
    };
    let mut report = Report::new(baseline.subject, findings, lock_up_to_date);
    let baseline_unread = baseline
        .surface
        .as_ref()
        .map_or(&[][..], |old| &old.unread[..]);
    report.add_unread(&facts.unread, baseline_unread, false);
    match against {
        Against::Lock(lock) if lock.update.blesses() => bless(&facts, lock, report, &lock_text),
        _ => Ok(Outcome {
            report,
            blessed: None,
        }),
    }
}

/// The baseline's changes under the contract discipline: each change against the bump its
/// contract module's `VERSION` allows. No baseline, no changes.
fn compare(facts: &Facts, baseline: Option<&Surface>) -> Vec<Finding> {
    let Some(old) = baseline else {
        return Vec::new();
    };
    let lock_loc = Location {
        file: facts.lock_file.display.clone(),
        line: 1,
    };
    let raw = diff::diff(old, &facts.current);
    version::apply_contract_discipline(
        raw,
        old,
        &facts.current,
        &facts.contract_crate.defines,
        &facts.contract_crate.name,
        &lock_loc,
    )
}

/// Records the current surface in the lock file, unless the check fails and `force` is off:
/// then the report stands and the outcome says why nothing was written.
fn bless(
    facts: &Facts,
    lock: &LockOptions,
    mut report: Report,
    lock_text: &str,
) -> anyhow::Result<Outcome> {
    let lock_display = &facts.lock_file.display;
    if !report.ok && lock.update != LockUpdate::BlessAnyway {
        let blessed = Some(format!(
            "refusing to bless {lock_display}: the check fails with {} error(s); fix them, or pass --force to record the surface anyway",
            report.errors()
        ));
        return Ok(Outcome { report, blessed });
    }
    std::fs::write(&facts.lock_file.path, lock_text)
        .with_context(|| format!("cannot write lock file {lock_display}"))?;
    let current = &facts.current;
    let items = current.traits.len()
        + current.structs.len()
        + current.enums.len()
        + current.functions.len()
        + current.consts.len();
    let blessed = Some(format!(
        "blessed {lock_display}: {items} items in {} contract modules",
        current.versions.len()
    ));
    report.lock_up_to_date = Some(true);
    report.ok = true;
    for finding in &mut report.findings {
        finding.severity = Severity::Note;
    }
    Ok(Outcome { report, blessed })
}

/// The contract versions and trait names the wiring check needs.
fn wiring_contracts(current: &Surface, defines: &[String]) -> wiring::Contracts {
    let mut contracts = wiring::Contracts::default();
    for (module, text) in &current.versions {
        if let (Some(key), Ok(parsed)) = (
            version::contract_module(module, defines),
            Version::parse(text),
        ) {
            contracts.versions.insert(key, parsed);
        }
    }
    for path in current.traits.keys() {
        if let Some(key) = version::contract_module(path, defines)
            && let Some((_, name)) = path.rsplit_once("::")
        {
            contracts
                .traits
                .entry(key)
                .or_default()
                .insert(name.to_string());
        }
    }
    contracts
}
