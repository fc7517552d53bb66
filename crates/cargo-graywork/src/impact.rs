//! The impact of a `--dep` goal's new major, for the plan: which version each member's
//! lockfile resolves today, both versions' sources as cargo fetches them, their breaking
//! changes (diffed once per pair), and each member's uses of what breaks. The prediction is
//! `graywork-contracts`' job; this joins it to the workspace and hands it to the planner.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use graywork_contracts::{
    AffectedUse, BuildOptions, Certainty, Finding, Lint, affected_uses_in, breaking_changes,
    cached_published, fetch_published,
};
use graywork_plan::impact::{ImpactDetail, ImpactFacts, ImpactSummary, ImpactedLine, MemberImpact};
use graywork_workspace::{DepKind, Workspace};

use crate::cache::{Cache, digest};
use crate::member_reads::MemberReads;
use semver::Version;

/// The impact facts of moving `name` to `target`, or `None` when no member uses it or the
/// target is semver-compatible with what every member resolves (no breaking change expected).
/// With `offline`, sources come only from cargo's cache, and what is missing is noted. Members
/// are read through `member_reads`, which the plan's public-API reading shares.
pub(crate) fn impact_facts(
    workspace: &Workspace,
    name: &str,
    target: &Version,
    offline: bool,
    member_reads: &MemberReads,
) -> Option<ImpactFacts> {
    impact_facts_each(
        workspace,
        &[(name.to_owned(), target.clone())],
        offline,
        member_reads,
    )
    .pop()
    .flatten()
}

/// [`impact_facts`] of several updates (`outdated --plan`'s majors), one entry per update:
/// the dependencies' versions are compared on every core, then each member is read once for
/// all the updates it uses, through `member_reads` (which the plans' public-API reading shares).
pub(crate) fn impact_facts_each(
    workspace: &Workspace,
    updates: &[(String, Version)],
    offline: bool,
    member_reads: &MemberReads,
) -> Vec<Option<ImpactFacts>> {
    let lockfile = graywork_outdated::lockfile::Lockfile::read(
        &workspace.root.as_std_path().join("Cargo.lock"),
    )
    .ok();
    let prepared: Vec<Option<DepImpact>> =
        crate::parallel::map_on_all_cores(updates, |(name, target)| {
            DepImpact::prepare(
                workspace,
                lockfile.as_ref(),
                name,
                target,
                offline,
                member_reads.cache(),
            )
        });
    let results = {
        let reads: Vec<Read<'_>> = prepared
            .iter()
            .flatten()
            .flat_map(|impact| impact.reads())
            .collect();
        read_all(workspace, &reads, member_reads)
    };
    let mut results = results.into_iter();
    prepared
        .into_iter()
        .map(|impact| {
            impact.map(|impact| {
                let mine: Vec<_> = results.by_ref().take(impact.reads.len()).collect();
                impact.finish(workspace, mine)
            })
        })
        .collect()
}

/// One `--dep` update's impact before any member is read: who uses the dependency, at which
/// version, and what breaks between each of those versions and the target.
struct DepImpact {
    facts: ImpactFacts,
    summary: ImpactSummary,
    /// The breaking changes, once per version the members resolve today.
    changes_from: BTreeMap<Version, Result<Changes, String>>,
    /// The members to read: index, the names their code knows the dependency by, and the
    /// version they resolve.
    reads: Vec<(usize, Vec<String>, Version)>,
}

impl DepImpact {
    fn prepare(
        workspace: &Workspace,
        lockfile: Option<&graywork_outdated::lockfile::Lockfile>,
        name: &str,
        target: &Version,
        offline: bool,
        cache: &Cache,
    ) -> Option<DepImpact> {
        let mut summary = ImpactSummary {
            dependency: name.to_owned(),
            to: target.to_string(),
            ..ImpactSummary::default()
        };
        // Members that use it, with the names their code knows it by and the version they
        // resolve.
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
            let locked = lockfile.and_then(|lock| {
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
        // Both versions are read as cargo builds them here: with the features every user asks
        // for, unified, beside the default ones.
        let features: BTreeSet<String> = users
            .iter()
            .flat_map(|(index, _, _)| &workspace.members[*index].dependencies)
            .filter(|d| d.name == name && d.kind != DepKind::Dev)
            .flat_map(|d| d.features.iter().cloned())
            .collect();
        let build = BuildOptions {
            features: features.into_iter().collect(),
            ..BuildOptions::default()
        };
        let source = |version: &Version| -> Result<PathBuf, String> {
            if offline {
                cached_published(name, version).ok_or_else(|| {
                    format!("{name} {version} is not in cargo's registry cache (--offline)")
                })
            } else {
                fetch_published(name, version).map_err(|err| format!("{err:#}"))
            }
        };
        let mut impact = DepImpact {
            facts: ImpactFacts::default(),
            summary: ImpactSummary::default(),
            changes_from: BTreeMap::new(),
            reads: Vec::new(),
        };
        let new_dir = match source(target) {
            Ok(dir) => dir,
            Err(why) => {
                summary.notes.push(format!("no lines predicted: {why}"));
                impact.summary = summary;
                return Some(impact);
            }
        };
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
                impact.facts.members.insert(index, MemberImpact::default());
                continue;
            }
            let changes = impact.changes_from.entry(from.clone()).or_insert_with(|| {
                let old_dir = source(&from)?;
                // Registry sources never change, so their comparison is kept.
                let key = format!(
                    "{name} {from} {} {target} {} features {}",
                    old_dir.display(),
                    new_dir.display(),
                    build.features.join(",")
                );
                let list = match cache.get::<Result<Vec<Finding>, String>>("pair", &key) {
                    Some(kept) => kept,
                    None => {
                        let compared =
                            breaking_changes(&old_dir, &new_dir, &build).map_err(|err| {
                                format!("cannot compare {name} {from} with {target}: {err:#}")
                            });
                        cache.put("pair", &key, &compared);
                        compared
                    }
                };
                list.map(Changes::new)
            });
            match changes {
                Ok(_) => impact.reads.push((index, in_code, from)),
                Err(why) => summary.notes.push(format!("{}: {why}", member.name)),
            }
        }
        impact.summary = summary;
        Some(impact)
    }

    fn reads(&self) -> impl Iterator<Item = Read<'_>> {
        self.reads.iter().map(|(member, in_code, from)| Read {
            member: *member,
            in_code,
            changes: match self.changes_from.get(from) {
                Some(Ok(changes)) => changes,
                _ => &NO_CHANGES,
            },
        })
    }

    /// The facts, given each of [`DepImpact::reads`]' results in order.
    fn finish(
        mut self,
        workspace: &Workspace,
        results: Vec<Result<Vec<AffectedUse>, String>>,
    ) -> ImpactFacts {
        for ((member, _, from), result) in self.reads.iter().zip(results) {
            record(
                workspace,
                *member,
                result,
                &mut self.facts,
                &mut self.summary,
            );
            // The manifest lines cargo refuses first: features the new version no longer has.
            if let (Some(impact), Some(Ok(changes))) = (
                self.facts.members.get_mut(member),
                self.changes_from.get(from),
            ) {
                let name = &self.summary.dependency;
                impact
                    .lines
                    .splice(0..0, feature_lines(workspace, *member, name, &changes.list));
            }
        }
        self.summary.from = self.changes_from.keys().map(Version::to_string).collect();
        self.facts.summary = self.summary;
        self.facts
    }
}

/// The impact facts of a path member `name`'s breaking bump to `target`: its working tree
/// against its current version as published (cargo's cache; fetched unless `offline`), matched
/// to each dependent's uses. `None` when the bump is compatible or nothing depends on it.
pub(crate) fn crate_impact_facts(
    workspace: &Workspace,
    name: &str,
    target: &Version,
    offline: bool,
    member_reads: &MemberReads,
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
    match changes.map(Changes::new) {
        Ok(changes) => {
            let reads: Vec<Read<'_>> = jobs
                .iter()
                .map(|(member, in_code)| Read {
                    member: *member,
                    in_code,
                    changes: &changes,
                })
                .collect();
            for (read, result) in reads
                .iter()
                .zip(read_all(workspace, &reads, member_reads))
            {
                record(workspace, read.member, result, &mut facts, &mut summary);
            }
        }
        Err(why) => summary.notes.push(format!(
            "no lines predicted: the last release of {name} is what its tree is compared with, and {why}"
        )),
    }
    facts.summary = summary;
    Some(facts)
}

/// One member's uses of one dependency, to match against what breaks in it.
struct Read<'a> {
    member: usize,
    /// The names the member's code knows the dependency by.
    in_code: &'a [String],
    changes: &'a Changes,
}

/// A dependency's breaking changes between two versions, with the digest that keys a
/// member's answer about them.
struct Changes {
    list: Vec<Finding>,
    digest: String,
}

impl Changes {
    fn new(list: Vec<Finding>) -> Changes {
        let digest = digest(&serde_json::to_vec(&list).unwrap_or_default());
        Changes { list, digest }
    }
}

/// What a member whose dependency's versions cannot be compared is matched against.
static NO_CHANGES: std::sync::LazyLock<Changes> =
    std::sync::LazyLock::new(|| Changes::new(Vec::new()));

/// Each read's affected lines, or why its member cannot be read: every member is loaded once
/// (through `member_reads`) for all the reads that name it, members spread over every core.
/// Nothing breaks where nothing changed: a read with no breaking changes reads no member.
fn read_all(
    workspace: &Workspace,
    reads: &[Read<'_>],
    member_reads: &MemberReads,
) -> Vec<Result<Vec<AffectedUse>, String>> {
    let mut by_member: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (position, read) in reads.iter().enumerate() {
        if !read.changes.list.is_empty() {
            by_member.entry(read.member).or_default().push(position);
        }
    }
    let groups: Vec<(usize, Vec<usize>)> = by_member.into_iter().collect();
    let results = crate::parallel::map_on_all_cores(&groups, |(member, positions)| {
        let keys: Vec<String> = positions
            .iter()
            .map(|&position| {
                let read = &reads[position];
                format!(
                    "uses of {} in {}",
                    read.in_code.join(" "),
                    read.changes.digest
                )
            })
            .collect();
        member_reads.answers(workspace, *member, &keys, |krate, missing| {
            let dependencies: Vec<(&[String], &[Finding])> = missing
                .iter()
                .map(|&index| {
                    let read = &reads[positions[index]];
                    (read.in_code, read.changes.list.as_slice())
                })
                .collect();
            affected_uses_in(workspace.root.as_std_path(), krate, &dependencies)
        })
    });
    let mut out: Vec<Result<Vec<AffectedUse>, String>> =
        reads.iter().map(|_| Ok(Vec::new())).collect();
    for ((_, positions), each) in groups.iter().zip(results) {
        for (&position, uses) in positions.iter().zip(each) {
            out[position] = uses;
        }
    }
    out
}

/// A member's affected lines into `facts`, or a note in `summary` saying why it has none.
fn record(
    workspace: &Workspace,
    index: usize,
    result: Result<Vec<AffectedUse>, String>,
    facts: &mut ImpactFacts,
    summary: &mut ImpactSummary,
) {
    let member = &workspace.members[index];
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
                        lint: affected.lint.name().to_owned(),
                        change: affected.change,
                        certainty: affected.certainty.to_string(),
                    },
                })
                .collect();
            facts.members.insert(index, MemberImpact { lines });
        }
        Err(err) => summary.notes.push(format!(
            "{}: its sources cannot be read ({err}), so its lines are not predicted",
            member.name
        )),
    }
}

/// The lines of `member`'s manifests that ask for a feature of `name` the new version no
/// longer has: its own entry, or the root's `[workspace.dependencies]` entry it inherits (each
/// where its `features` array is written). Cargo refuses them before anything is compiled.
fn feature_lines(
    workspace: &Workspace,
    member: usize,
    name: &str,
    changes: &[Finding],
) -> Vec<ImpactedLine> {
    let missing: BTreeMap<&str, &Finding> = changes
        .iter()
        .filter(|finding| finding.lint == Lint::FeatureMissing)
        .filter_map(|finding| {
            let feature = finding.path.strip_prefix("feature `")?.strip_suffix('`')?;
            Some((feature, finding))
        })
        .collect();
    let Some(declared) = workspace.declarations.members.get(member) else {
        return Vec::new();
    };
    if missing.is_empty() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    for (dependency, declared) in workspace.members[member]
        .dependencies
        .iter()
        .zip(&declared.dependencies)
    {
        if dependency.name != name || dependency.kind == DepKind::Dev {
            continue;
        }
        for site in declared.via.iter().chain([&declared.site]) {
            let Some(line) = site.line else {
                continue;
            };
            for feature in graywork_workspace::features_written_at(&workspace.root, site) {
                let Some(finding) = missing.get(feature.as_str()) else {
                    continue;
                };
                lines.push(ImpactedLine {
                    file: site.file.clone(),
                    line,
                    used: format!("features = [\"{feature}\"]"),
                    detail: ImpactDetail {
                        item: finding.path.clone(),
                        lint: finding.lint.name().to_owned(),
                        change: finding.message.clone(),
                        certainty: Certainty::Certain.to_string(),
                    },
                });
            }
        }
    }
    lines.sort_by(|a, b| (&a.file, a.line, &a.used).cmp(&(&b.file, b.line, &b.used)));
    lines.dedup();
    lines
}

/// Whether cargo treats `to` as a compatible update of `from`: the same leftmost non-zero
/// component.
fn compatible(from: &Version, to: &Version) -> bool {
    match (from.major, to.major) {
        (0, 0) => from.minor == to.minor && (from.minor != 0 || from.patch == to.patch),
        (a, b) => a == b,
    }
}
