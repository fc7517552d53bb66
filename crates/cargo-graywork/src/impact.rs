//! The impact of a `--dep` goal's new major, for the plan: which version each member's
//! lockfile resolves today, both versions' sources as cargo fetches them, their breaking
//! changes (diffed once per pair), and each member's uses of what breaks. The prediction is
//! `graywork-contracts`' job; this joins it to the workspace and hands it to the planner.

use std::collections::BTreeMap;
use std::path::PathBuf;

use graywork_contracts::{
    BuildOptions, Finding, affected_uses, breaking_changes, cached_published, fetch_published,
};
use graywork_plan::impact::{ImpactDetail, ImpactFacts, ImpactSummary, ImpactedLine, MemberImpact};
use graywork_workspace::{DepKind, Workspace};
use semver::Version;

/// The impact facts of moving `name` to `target`, or `None` when no member uses it or the
/// target is semver-compatible with what every member resolves (no breaking change expected).
/// With `offline`, sources come only from cargo's cache, and what is missing is noted.
pub fn impact_facts(
    workspace: &Workspace,
    name: &str,
    target: &Version,
    offline: bool,
) -> Option<ImpactFacts> {
    let lockfile = graywork_outdated::lockfile::Lockfile::read(
        &workspace.root.as_std_path().join("Cargo.lock"),
    )
    .ok();
    let mut summary = ImpactSummary {
        dependency: name.to_owned(),
        to: target.to_string(),
        ..ImpactSummary::default()
    };
    // Members that use it, with the names their code knows it by and the version they resolve.
    let mut users: Vec<(usize, Vec<String>, Option<Version>)> = Vec::new();
    for (index, member) in workspace.members.iter().enumerate() {
        let uses: Vec<_> = member
            .dependencies
            .iter()
            .filter(|d| d.name == name && d.kind != DepKind::Dev)
            .collect();
        if uses.is_empty() || !member.manifest_path.is_file() {
            continue;
        }
        let mut in_code: Vec<String> = uses
            .iter()
            .map(|d| d.local_name().replace('-', "_"))
            .collect();
        in_code.sort();
        in_code.dedup();
        let locked = lockfile.as_ref().and_then(|lock| {
            match lock.locked(&member.name, name, Some(&uses[0].req)) {
                graywork_outdated::lockfile::Locked::Registry { version, .. } => Some(version),
                _ => None,
            }
        });
        users.push((index, in_code, locked));
    }
    let breaking = |from: &Version| !compatible(from, target);
    if users.is_empty()
        || users
            .iter()
            .all(|(_, _, locked)| locked.as_ref().is_some_and(|v| !breaking(v)))
    {
        return None;
    }
    let source = |version: &Version| -> Result<PathBuf, String> {
        if offline {
            cached_published(name, version).ok_or_else(|| {
                format!("{name} {version} is not in cargo's registry cache (--offline)")
            })
        } else {
            fetch_published(name, version).map_err(|err| format!("{err:#}"))
        }
    };
    let new_dir = match source(target) {
        Ok(dir) => dir,
        Err(why) => {
            summary.notes.push(format!("no lines predicted: {why}"));
            return Some(ImpactFacts {
                members: BTreeMap::new(),
                summary,
            });
        }
    };
    // The breaking changes, once per version the members resolve today.
    let mut changes_from: BTreeMap<Version, Result<Vec<_>, String>> = BTreeMap::new();
    let mut facts = ImpactFacts::default();
    let mut reads = Vec::new();
    for (index, in_code, locked) in users {
        let member = &workspace.members[index];
        let Some(from) = locked else {
            summary.notes.push(format!(
                "{}: Cargo.lock does not say which {name} it resolves, so its lines are not predicted",
                member.name
            ));
            continue;
        };
        if !breaking(&from) {
            facts.members.insert(index, MemberImpact::default());
            continue;
        }
        let changes = changes_from.entry(from.clone()).or_insert_with(|| {
            let old_dir = source(&from)?;
            breaking_changes(&old_dir, &new_dir, &BuildOptions::default())
                .map_err(|err| format!("cannot compare {name} {from} with {target}: {err:#}"))
        });
        match changes {
            Ok(_) => reads.push((index, in_code, from)),
            Err(why) => summary.notes.push(format!("{}: {why}", member.name)),
        }
    }
    let jobs: Vec<(usize, Vec<String>, &[Finding])> = reads
        .into_iter()
        .map(|(index, in_code, from)| {
            let changes = match changes_from.get(&from) {
                Some(Ok(changes)) => changes.as_slice(),
                _ => &[],
            };
            (index, in_code, changes)
        })
        .collect();
    read_members(workspace, &jobs, &mut facts, &mut summary);
    summary.from = changes_from.keys().map(Version::to_string).collect();
    facts.summary = summary;
    Some(facts)
}

/// The impact facts of a path member `name`'s breaking bump to `target`: its working tree
/// against its current version as published (cargo's cache; fetched unless `offline`), matched
/// to each dependent's uses. `None` when the bump is compatible or nothing depends on it.
pub fn crate_impact_facts(
    workspace: &Workspace,
    name: &str,
    target: &Version,
    offline: bool,
) -> Option<ImpactFacts> {
    let member = workspace.member(name)?;
    let current = member.version.clone();
    if compatible(&current, target) {
        return None;
    }
    let jobs: Vec<(usize, Vec<String>)> = workspace
        .members
        .iter()
        .enumerate()
        .filter_map(|(index, dependent)| {
            let mut in_code: Vec<String> = dependent
                .dependencies
                .iter()
                .filter(|d| d.name == name && d.kind != DepKind::Dev)
                .map(|d| d.local_name().replace('-', "_"))
                .collect();
            in_code.sort();
            in_code.dedup();
            (!in_code.is_empty() && dependent.manifest_path.is_file()).then_some((index, in_code))
        })
        .collect();
    if jobs.is_empty() {
        return None;
    }
    let mut summary = ImpactSummary {
        dependency: name.to_owned(),
        from: vec![current.to_string()],
        to: target.to_string(),
        ..ImpactSummary::default()
    };
    let mut facts = ImpactFacts::default();
    let published = if offline {
        cached_published(name, &current)
            .ok_or_else(|| format!("{name} {current} is not in cargo's registry cache (--offline)"))
    } else {
        fetch_published(name, &current).map_err(|err| format!("{err:#}"))
    };
    let changes = published.and_then(|old_dir| {
        breaking_changes(
            &old_dir,
            member.manifest_dir().as_std_path(),
            &BuildOptions::default(),
        )
        .map_err(|err| format!("cannot compare {name}'s tree with {current}: {err:#}"))
    });
    match changes {
        Ok(changes) => {
            let jobs: Vec<(usize, Vec<String>, &[Finding])> = jobs
                .into_iter()
                .map(|(index, in_code)| (index, in_code, changes.as_slice()))
                .collect();
            read_members(workspace, &jobs, &mut facts, &mut summary);
        }
        Err(why) => summary.notes.push(format!(
            "no lines predicted: the last release of {name} is what its tree is compared with, and {why}"
        )),
    }
    facts.summary = summary;
    Some(facts)
}

/// Each member's affected lines for its changes, read on every core, into `facts`; members
/// that cannot be read are noted in `summary`.
fn read_members(
    workspace: &Workspace,
    jobs: &[(usize, Vec<String>, &[Finding])],
    facts: &mut ImpactFacts,
    summary: &mut ImpactSummary,
) {
    let read = |(index, in_code, changes): &(usize, Vec<String>, &[Finding])| {
        let member = &workspace.members[*index];
        affected_uses(
            workspace.root.as_std_path(),
            member.manifest_dir().as_std_path(),
            in_code,
            changes,
        )
        .map_err(|err| format!("{err:#}"))
    };
    let results = crate::parallel::map_on_all_cores(jobs, read);
    for ((index, _, _), result) in jobs.iter().zip(results) {
        let member = &workspace.members[*index];
        match result {
            Ok(uses) => {
                let lines = uses
                    .into_iter()
                    .map(|affected| ImpactedLine {
                        file: affected.file,
                        line: affected.line,
                        used: affected.used,
                        detail: ImpactDetail {
                            item: affected.item,
                            lint: affected.lint.to_owned(),
                            change: affected.change,
                            certainty: affected.certainty.to_string(),
                        },
                    })
                    .collect();
                facts.members.insert(*index, MemberImpact { lines });
            }
            Err(err) => summary.notes.push(format!(
                "{}: its sources cannot be read ({err}), so its lines are not predicted",
                member.name
            )),
        }
    }
}

/// Whether cargo treats `to` as a compatible update of `from`: the same leftmost non-zero
/// component.
fn compatible(from: &Version, to: &Version) -> bool {
    match (from.major, to.major) {
        (0, 0) => from.minor == to.minor && (from.minor != 0 || from.patch == to.patch),
        (a, b) => a == b,
    }
}
