//! The pure core of `outdated`: from the declarations, the lock file and the index entries
//! already read, each declaration's locked version, the newest version its requirement
//! admits (the newest that builds with the workspace's Rust version, when cargo's resolver
//! honours `rust-version`) and the newest overall. Nothing here reads a file or a clock.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use graywork_workspace::{DepKind, Location};
use semver::{Op, Version, VersionReq};
use serde::Serialize;

use crate::config::{IndexLocation, RegistrySource};
use crate::declarations::{Declaration, Use};
use crate::index::{CrateVersions, Published};
use crate::rust_version::{RustVersionPolicy, compatible_with};

/// The JSON format version of [`Report`].
pub const REPORT_SCHEMA: &str = "graywork.outdated/v1";

/// Which members, kinds and versions to look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only declarations some of these members use (all members when empty).
    pub packages: Vec<String>,
    /// Leave out declarations only these members use.
    pub exclude: Vec<String>,
    /// Only these dependency kinds (all when empty).
    pub kinds: Vec<DepKind>,
    /// Count pre-release versions as updates (they are always counted for a requirement
    /// that itself names a pre-release).
    pub pre: bool,
    /// Count yanked versions as updates.
    pub yanked: bool,
}

impl Selection {
    /// Whether a use of a declaration is selected.
    pub fn selects(&self, usage: &Use) -> bool {
        (self.packages.is_empty() || self.packages.contains(&usage.member))
            && !self.exclude.contains(&usage.member)
            && (self.kinds.is_empty() || self.kinds.contains(&usage.kind))
    }
}

/// What was read from one registry.
#[derive(Debug, Clone)]
pub struct RegistryFacts {
    /// Where its index is.
    pub source: RegistrySource,
    /// Whether cargo refreshed its cache in this run (`false` offline or for a local
    /// registry).
    pub refreshed: bool,
    /// Why cargo could not refresh the cache, when it tried and failed: the entries were read
    /// from the cache as it was.
    pub refresh_failed: Option<String>,
    /// The entries read, by crate name.
    pub crates: BTreeMap<String, CrateVersions>,
}

/// Everything `outdated` collected before computing: the selected registry declarations with
/// their locked versions, and the index entries.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The selected declarations locked to registry versions, in member order.
    pub entries: Vec<Entry>,
    /// Declarations left out (locked from git or a path, or not locked at all).
    pub skipped: Vec<Skipped>,
    /// By registry name (`crates-io` or an alternate registry's).
    pub registries: BTreeMap<String, RegistryFacts>,
    /// The Rust version cargo's resolver prefers versions for, when the workspace asks it to.
    pub rust_version: Option<RustVersionPolicy>,
}

/// A declaration locked to registry versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The declaration.
    pub declaration: Declaration,
    /// Its registry, as the lock file and the cargo config name it.
    pub registry: String,
    /// The versions its users are locked to, sorted, without repeats (usually one).
    pub locked: Vec<Version>,
}

/// The report: one row per declaration.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`REPORT_SCHEMA`].
    pub schema: &'static str,
    /// The registries read, and how fresh their index is.
    pub registries: Vec<RegistryReport>,
    /// The Rust version the compatible column prefers versions for, when cargo's resolver
    /// honours `rust-version` in this workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rust_version: Option<RustVersionPolicy>,
    /// One entry per declaration, sorted by name then place.
    pub dependencies: Vec<Dependency>,
    /// Declarations or uses left out, with the reason.
    pub skipped: Vec<Skipped>,
}

/// One registry and the age of what was read from it.
#[derive(Debug, Clone, Serialize)]
pub struct RegistryReport {
    /// `crates-io` or the alternate registry's name.
    pub registry: String,
    /// The source that replaces it, if any.
    pub replaced_by: Option<String>,
    /// Where the index is.
    pub index: IndexLocation,
    /// Whether `cargo update --dry-run` refreshed the cache in this run.
    pub refreshed: bool,
    /// Why the refresh failed, when it did (the rows then come from the cache as it was).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_failed: Option<String>,
    /// The oldest cached entry read (sparse and git indexes only).
    pub oldest_entry: Option<EntryAge>,
}

/// How old a cached index entry is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryAge {
    /// The crate.
    #[serde(rename = "crate")]
    pub krate: String,
    /// When cargo wrote it, RFC 3339 UTC.
    pub fetched_at: String,
    /// Seconds between then and the run.
    pub age_seconds: u64,
}

/// One declaration of a registry dependency and what the index offers for it.
#[derive(Debug, Clone, Serialize)]
pub struct Dependency {
    /// The package name.
    pub name: String,
    /// Its registry.
    pub registry: String,
    /// The requirement as written (`*` when the entry has none).
    pub requirement: String,
    /// Where it is written.
    pub declared: Declared,
    /// The members that use it, with kind and target.
    pub users: Vec<Use>,
    /// The versions the lock file holds for its users (usually one), with yanked marks.
    pub locked: Vec<LockedVersion>,
    /// The newest version the requirement admits, as cargo resolves it: when it honours
    /// `rust-version`, the newest that builds with the workspace's Rust version, unless none
    /// does.
    pub compatible: Option<Version>,
    /// A newer version the requirement admits but the workspace's Rust version cannot build,
    /// which cargo's resolver passes over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_newer_rust: Option<NeedsNewerRust>,
    /// The newest version overall.
    pub latest: Option<Version>,
    /// The requirement raised to `compatible`, when `compatible` is newer than the lock and
    /// above the requirement's lower bound (what the compatible-updates plan writes).
    pub raise_to: Option<String>,
    /// Why the requirement cannot be raised automatically, when it cannot.
    pub not_raised: Option<String>,
    /// Which updates exist.
    pub update: Update,
}

/// A version that needs a newer Rust than the workspace's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeedsNewerRust {
    /// The version.
    pub version: Version,
    /// The `rust-version` it declares.
    pub rust_version: Version,
}

/// Where a requirement is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declared {
    /// The file, relative to the workspace root.
    pub file: String,
    /// The line of the entry's key.
    pub line: usize,
    /// The TOML path of the entry.
    pub toml_path: String,
    /// The same path as keys from the document's root, for edits.
    #[serde(skip)]
    pub keys: Vec<String>,
    /// Whether it is a shared `[workspace.dependencies]` entry.
    pub shared: bool,
}

/// A locked version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockedVersion {
    /// The version.
    pub version: Version,
    /// Whether the index marks it yanked.
    pub yanked: bool,
}

/// Which updates a declaration has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Update {
    /// Nothing newer than what is locked and required.
    None,
    /// A newer version than the locked one that the requirement admits.
    Compatible,
    /// A newer version the requirement, as written, does not admit.
    Incompatible,
    /// Both.
    Both,
}

impl Update {
    /// The name the outputs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Update::None => "-",
            Update::Compatible => "compatible",
            Update::Incompatible => "incompatible",
            Update::Both => "both",
        }
    }

    /// Whether a semver-incompatible version exists.
    pub fn incompatible(self) -> bool {
        matches!(self, Update::Incompatible | Update::Both)
    }
}

/// A declaration or use left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The package.
    pub name: String,
    /// Where it is written.
    #[serde(serialize_with = "crate::declarations::serialize_location")]
    pub location: Location,
    /// Why.
    pub reason: String,
}

/// Computes the report at time `now` (for the age of cached entries).
pub fn report(facts: &Facts, selection: &Selection, now: SystemTime) -> Report {
    let mut dependencies: Vec<Dependency> = facts
        .entries
        .iter()
        .map(|entry| {
            let versions = facts
                .registries
                .get(&entry.registry)
                .and_then(|registry| registry.crates.get(&entry.declaration.package));
            dependency(entry, versions, selection, facts.rust_version.as_ref())
        })
        .collect();
    dependencies.sort_by(|a, b| {
        (&a.name, &a.declared.file, a.declared.line).cmp(&(
            &b.name,
            &b.declared.file,
            b.declared.line,
        ))
    });
    let registries = facts
        .registries
        .values()
        .map(|registry| RegistryReport {
            registry: registry.source.registry.clone(),
            replaced_by: registry
                .source
                .replaced_by
                .as_ref()
                .map(|replacement| replacement.source.clone()),
            index: registry.source.index.clone(),
            refreshed: registry.refreshed,
            refresh_failed: registry.refresh_failed.clone(),
            // After a refresh the entries are as current as the registry; their file times
            // only say when their content last changed.
            oldest_entry: if registry.refreshed {
                None
            } else {
                oldest_entry(&registry.crates, now)
            },
        })
        .collect();
    Report {
        schema: REPORT_SCHEMA,
        registries,
        rust_version: facts.rust_version.clone(),
        dependencies,
        skipped: facts.skipped.clone(),
    }
}

fn dependency(
    entry: &Entry,
    versions: Option<&CrateVersions>,
    selection: &Selection,
    rust_version: Option<&RustVersionPolicy>,
) -> Dependency {
    let declaration = &entry.declaration;
    // The manifests were accepted by `cargo metadata`, so a requirement that does not parse
    // here is one the semver crate reads more strictly than cargo; it admits nothing.
    let requirement = VersionReq::parse(&declaration.requirement).ok();
    let locked: Vec<LockedVersion> = entry
        .locked
        .iter()
        .map(|version| LockedVersion {
            version: version.clone(),
            yanked: versions.is_some_and(|published| {
                published
                    .versions
                    .iter()
                    .any(|candidate| &candidate.version == version && candidate.yanked)
            }),
        })
        .collect();
    let wants_pre = selection.pre
        || requirement
            .as_ref()
            .is_some_and(|req| req.comparators.iter().any(|c| !c.pre.is_empty()));
    let candidates: Vec<&Published> = versions
        .map(|published| {
            published
                .versions
                .iter()
                .filter(|entry| selection.yanked || !entry.yanked)
                .filter(|entry| wants_pre || entry.version.pre.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let admitted: Vec<&Published> = requirement
        .as_ref()
        .map(|req| {
            candidates
                .iter()
                .copied()
                .filter(|entry| req.matches(&entry.version))
                .collect()
        })
        .unwrap_or_default();
    let newest_admitted = admitted
        .iter()
        .copied()
        .max_by(|a, b| a.version.cmp(&b.version));
    // Cargo's `fallback`: the newest version that builds with the workspace's Rust version,
    // and the newest overall only when none does.
    let builds = rust_version.and_then(|policy| {
        admitted
            .iter()
            .copied()
            .filter(|entry| compatible_with(policy, entry.rust_version.as_ref()))
            .max_by(|a, b| a.version.cmp(&b.version))
    });
    let chosen = builds.or(newest_admitted);
    let compatible = chosen.map(|entry| entry.version.clone());
    let needs_newer_rust = match (newest_admitted, chosen) {
        (Some(newest), Some(chosen)) if newest.version > chosen.version => newest
            .rust_version
            .clone()
            .map(|rust_version| NeedsNewerRust {
                version: newest.version.clone(),
                rust_version,
            }),
        _ => None,
    };
    let latest = candidates.iter().map(|entry| &entry.version).max().cloned();
    let newest_locked = entry.locked.last();
    // A compatible update is a newer version than the lock holds that the requirement
    // admits; raising a requirement only to meet the lock is not an update.
    let has_compatible = match (&compatible, newest_locked) {
        (Some(compatible), Some(locked)) => compatible > locked,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let (raise_to, not_raised) = match (&requirement, &compatible) {
        (Some(req), Some(compatible)) if has_compatible => {
            raise(&declaration.requirement, req, compatible)
        }
        _ => (None, None),
    };
    let has_incompatible = match (&latest, &requirement) {
        (Some(latest), Some(req)) => {
            !req.matches(latest)
                && compatible
                    .as_ref()
                    .is_none_or(|compatible| latest > compatible)
        }
        _ => false,
    };
    let update = match (has_compatible, has_incompatible) {
        (false, false) => Update::None,
        (true, false) => Update::Compatible,
        (false, true) => Update::Incompatible,
        (true, true) => Update::Both,
    };
    Dependency {
        name: declaration.package.clone(),
        registry: entry.registry.clone(),
        requirement: declaration.requirement.clone(),
        declared: Declared {
            file: declaration.location.file.clone(),
            line: declaration.location.line,
            toml_path: declaration.toml_path.clone(),
            keys: declaration.keys.clone(),
            shared: declaration.shared,
        },
        users: declaration.users.clone(),
        locked,
        compatible,
        needs_newer_rust,
        latest,
        raise_to,
        not_raised,
        update,
    }
}

/// The requirement raised so its lower bound is `compatible`, keeping its operator, or why
/// it cannot be raised. `None, None` when it already starts at `compatible`.
fn raise(text: &str, req: &VersionReq, compatible: &Version) -> (Option<String>, Option<String>) {
    let [comparator] = req.comparators.as_slice() else {
        return (
            None,
            Some(format!("`{text}` has several bounds; raise it by hand")),
        );
    };
    let prefix = match (
        comparator.op,
        graywork_workspace::requirement_operator(text),
    ) {
        (Op::Exact, _) => return (None, Some(format!("`{text}` pins an exact version"))),
        (_, Some(prefix)) => prefix,
        (Op::Wildcard, None) => return (None, Some(format!("`{text}` is a wildcard"))),
        (_, None) => return (None, Some(format!("`{text}` is a range; raise it by hand"))),
    };
    let floor = Version {
        major: comparator.major,
        minor: comparator.minor.unwrap_or(0),
        patch: comparator.patch.unwrap_or(0),
        pre: comparator.pre.clone(),
        build: semver::BuildMetadata::EMPTY,
    };
    if compatible <= &floor {
        return (None, None);
    }
    let mut raised = compatible.clone();
    raised.build = semver::BuildMetadata::EMPTY;
    (Some(format!("{prefix}{raised}")), None)
}

fn oldest_entry(crates: &BTreeMap<String, CrateVersions>, now: SystemTime) -> Option<EntryAge> {
    let (krate, fetched) = crates
        .iter()
        .filter_map(|(name, entry)| entry.fetched.map(|fetched| (name, fetched)))
        .min_by_key(|(_, fetched)| *fetched)?;
    let age = now.duration_since(fetched).unwrap_or(Duration::ZERO);
    Some(EntryAge {
        krate: krate.clone(),
        fetched_at: rfc3339(fetched),
        age_seconds: age.as_secs(),
    })
}

/// A time as RFC 3339 UTC, to the second.
pub fn rfc3339(time: SystemTime) -> String {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// An age in words: `45s`, `12m`, `2h 5m`, `3d 4h`.
pub fn age_text(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        3600..86_400 => format!("{}h {}m", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{}d {}h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_keeps_the_operator_and_skips_what_cannot_move() {
        let check = |text: &str, to: &str| {
            let req = VersionReq::parse(text).unwrap();
            raise(text, &req, &Version::parse(to).unwrap())
        };
        assert_eq!(check("1.0", "1.3.0"), (Some("1.3.0".to_owned()), None));
        assert_eq!(check("^1.0", "1.3.0"), (Some("^1.3.0".to_owned()), None));
        assert_eq!(check("~1.2", "1.2.9"), (Some("~1.2.9".to_owned()), None));
        assert_eq!(check("1.3.0", "1.3.0"), (None, None));
        assert_eq!(
            check("=1.2.0", "1.2.0").1.as_deref(),
            Some("`=1.2.0` pins an exact version")
        );
        assert_eq!(
            check(">=1, <3", "2.0.0").1.as_deref(),
            Some("`>=1, <3` has several bounds; raise it by hand")
        );
        assert_eq!(
            check("1.*", "1.5.0").1.as_deref(),
            Some("`1.*` is a wildcard")
        );
        assert_eq!(
            check(">=1.2", "1.5.0").1.as_deref(),
            Some("`>=1.2` is a range; raise it by hand")
        );
    }

    fn facts(requirement: &str, locked: &str, published: &[(&str, bool)]) -> Facts {
        let declaration = Declaration {
            package: "alpha".to_owned(),
            key: "alpha".to_owned(),
            requirement: requirement.to_owned(),
            location: Location::new("a/Cargo.toml", 7),
            toml_path: "dependencies.alpha".to_owned(),
            keys: vec!["dependencies".to_owned(), "alpha".to_owned()],
            shared: false,
            users: vec![Use {
                member: "a".to_owned(),
                kind: DepKind::Normal,
                target: None,
            }],
        };
        let versions = CrateVersions {
            versions: published
                .iter()
                .map(|(version, yanked)| crate::index::Published {
                    version: Version::parse(version).unwrap(),
                    yanked: *yanked,
                    rust_version: None,
                })
                .collect(),
            fetched: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(100)),
        };
        let source = RegistrySource {
            registry: "crates-io".to_owned(),
            replaced_by: None,
            index: IndexLocation::Sparse {
                url: crate::config::CRATES_IO_SPARSE.to_owned(),
            },
        };
        Facts {
            entries: vec![Entry {
                declaration,
                registry: "crates-io".to_owned(),
                locked: vec![Version::parse(locked).unwrap()],
            }],
            skipped: Vec::new(),
            registries: BTreeMap::from([(
                "crates-io".to_owned(),
                RegistryFacts {
                    refresh_failed: None,
                    source,
                    refreshed: false,
                    crates: BTreeMap::from([("alpha".to_owned(), versions)]),
                },
            )]),
            rust_version: None,
        }
    }

    fn summary(facts: &Facts, selection: &Selection) -> String {
        let report = report(
            facts,
            selection,
            SystemTime::UNIX_EPOCH + Duration::from_secs(160),
        );
        let row = &report.dependencies[0];
        let show = |v: &Option<Version>| v.as_ref().map_or("-".to_owned(), ToString::to_string);
        format!(
            "locked {}{} compatible {} latest {} raise {:?} update {}",
            row.locked[0].version,
            if row.locked[0].yanked {
                " (yanked)"
            } else {
                ""
            },
            show(&row.compatible),
            show(&row.latest),
            row.raise_to,
            row.update.as_str()
        )
    }

    #[test]
    fn a_requirement_naming_a_pre_release_sees_pre_releases() {
        let published = [
            ("1.0.0", false),
            ("2.0.0-rc.1", false),
            ("2.0.0-rc.2", false),
        ];
        let on_pre = facts("2.0.0-rc.1", "2.0.0-rc.1", &published);
        assert_eq!(
            summary(&on_pre, &Selection::default()),
            "locked 2.0.0-rc.1 compatible 2.0.0-rc.2 latest 2.0.0-rc.2 raise Some(\"2.0.0-rc.2\") update compatible"
        );
        let on_release = facts("1", "1.0.0", &published);
        assert_eq!(
            summary(&on_release, &Selection::default()),
            "locked 1.0.0 compatible 1.0.0 latest 1.0.0 raise None update -"
        );
        let pre = Selection {
            pre: true,
            ..Selection::default()
        };
        assert_eq!(
            summary(&on_release, &pre),
            "locked 1.0.0 compatible 1.0.0 latest 2.0.0-rc.2 raise None update incompatible"
        );
    }

    #[test]
    fn the_compatible_version_builds_with_the_workspace_s_rust_unless_none_does() {
        let mut facts = facts(
            "1",
            "1.0.0",
            &[("1.0.0", false), ("1.1.0", false), ("1.2.0", false)],
        );
        let needs = |facts: &mut Facts, version: &str, rust: &str| {
            let crates = &mut facts.registries.get_mut("crates-io").unwrap().crates;
            let entry = crates
                .get_mut("alpha")
                .unwrap()
                .versions
                .iter_mut()
                .find(|entry| entry.version.to_string() == version)
                .unwrap();
            entry.rust_version = Some(Version::parse(rust).unwrap());
        };
        needs(&mut facts, "1.1.0", "1.80.0");
        needs(&mut facts, "1.2.0", "1.90.0");
        // Without the policy, the newest admitted version.
        assert_eq!(
            summary(&facts, &Selection::default()),
            "locked 1.0.0 compatible 1.2.0 latest 1.2.0 raise Some(\"1.2.0\") update compatible"
        );
        facts.rust_version = Some(RustVersionPolicy {
            version: Version::new(1, 85, 0),
            version_from: "core".to_owned(),
            enabled_by: "resolver 3".to_owned(),
        });
        assert_eq!(
            summary(&facts, &Selection::default()),
            "locked 1.0.0 compatible 1.1.0 latest 1.2.0 raise Some(\"1.1.0\") update compatible"
        );
        let row = &report(&facts, &Selection::default(), SystemTime::UNIX_EPOCH).dependencies[0];
        assert_eq!(
            row.needs_newer_rust,
            Some(NeedsNewerRust {
                version: Version::new(1, 2, 0),
                rust_version: Version::new(1, 90, 0)
            })
        );
        // When no admitted version builds with it, cargo falls back to the newest.
        needs(&mut facts, "1.0.0", "1.88.0");
        needs(&mut facts, "1.1.0", "1.88.0");
        assert_eq!(
            summary(&facts, &Selection::default()),
            "locked 1.0.0 compatible 1.2.0 latest 1.2.0 raise Some(\"1.2.0\") update compatible"
        );
    }

    #[test]
    fn a_yanked_lock_is_marked_and_the_cache_age_is_reported() {
        let facts = facts("0.3", "0.3.1", &[("0.3.0", false), ("0.3.1", true)]);
        assert_eq!(
            summary(&facts, &Selection::default()),
            "locked 0.3.1 (yanked) compatible 0.3.0 latest 0.3.0 raise None update -"
        );
        let report = report(
            &facts,
            &Selection::default(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(160),
        );
        assert_eq!(
            report.registries[0].oldest_entry,
            Some(EntryAge {
                krate: "alpha".to_owned(),
                fetched_at: "1970-01-01T00:01:40Z".to_owned(),
                age_seconds: 60
            })
        );
    }

    #[test]
    fn times_print_as_utc_and_ages_in_words() {
        let at = |seconds: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(1_796_211_061)), "2026-12-02T11:31:01Z");
        assert_eq!(age_text(45), "45s");
        assert_eq!(age_text(12 * 60 + 5), "12m");
        assert_eq!(age_text(2 * 3600 + 5 * 60), "2h 5m");
        assert_eq!(age_text(3 * 86_400 + 4 * 3600), "3d 4h");
    }
}
