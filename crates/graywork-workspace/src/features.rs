//! Cargo feature resolution, in one place: what a `[features]` entry means, which of a crate's
//! features a build turns on, the feature sets `test-matrix` tests and `ci` lints, and which
//! features every member has when the whole workspace builds with default features.
//!
//! Entries follow Cargo's rules: `name` turns on a feature of the same crate; `dep:x` turns on
//! the optional dependency `x` without a feature of that name; `x/f` turns on dependency `x`
//! (and its implicit feature `x` when `x` is optional and never named with `dep:`) and its
//! feature `f`; the weak `x?/f` turns on `f` only when `x` is on for another reason.
//!
//! For a crate the sets are, in this order: its default features, `--no-default-features`,
//! each feature alone (`--no-default-features --features F`), `--all-features`, and, when the
//! crate has at most [`POWERSET_LIMIT`] features, every other subset of its features. Two sets
//! that turn on the same features of the crate (after following what each feature enables) are
//! the same build, so only the first one is kept: a crate without features has one set.
//!
//! Every entry of the `[features]` table except `default` counts as a feature, including one
//! that only activates an optional dependency (`serde = ["dep:serde"]`): code commonly gates on
//! such a feature, so building with it alone is worth a run like any other.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::{DepKind, Workspace};

/// One entry of a `[features]` list, as Cargo reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureEntry<'a> {
    /// `name`: a feature of the same crate.
    Feature(&'a str),
    /// `dep:name`: an optional dependency, without a feature of that name.
    Dependency(&'a str),
    /// `dep/feature` or the weak `dep?/feature`.
    DependencyFeature {
        /// The dependency's name as the crate uses it.
        dependency: &'a str,
        /// The dependency's feature.
        feature: &'a str,
        /// `dep?/feature`: only when the dependency is on for another reason.
        weak: bool,
    },
}

impl<'a> FeatureEntry<'a> {
    /// Reads one entry.
    pub fn parse(entry: &'a str) -> FeatureEntry<'a> {
        if let Some(dependency) = entry.strip_prefix("dep:") {
            return FeatureEntry::Dependency(dependency);
        }
        match entry.split_once('/') {
            Some((dependency, feature)) => match dependency.strip_suffix('?') {
                Some(dependency) => FeatureEntry::DependencyFeature {
                    dependency,
                    feature,
                    weak: true,
                },
                None => FeatureEntry::DependencyFeature {
                    dependency,
                    feature,
                    weak: false,
                },
            },
            None => FeatureEntry::Feature(entry),
        }
    }
}

/// The closure of `roots` over a `[features]` table: every feature of the crate they turn on,
/// `default` included when it is a root. Names the table lacks are ignored.
pub fn closure<'a>(
    table: &'a BTreeMap<String, Vec<String>>,
    roots: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<String> {
    let mut roots: Vec<&str> = roots.into_iter().collect();
    let mut enabled = BTreeSet::new();
    while let Some(name) = roots.pop() {
        let Some(enables) = table.get(name) else {
            continue;
        };
        if !enabled.insert(name.to_owned()) {
            continue;
        }
        for entry in enables {
            match FeatureEntry::parse(entry) {
                FeatureEntry::Feature(feature) => roots.push(feature),
                // `x/f` also turns on `x`, which is a feature of this crate when `x` is an
                // optional dependency without a `dep:` entry anywhere (the table has it then).
                FeatureEntry::DependencyFeature {
                    dependency,
                    weak: false,
                    ..
                } => roots.push(dependency),
                FeatureEntry::Dependency(_)
                | FeatureEntry::DependencyFeature { weak: true, .. } => {}
            }
        }
    }
    enabled
}

/// A crate with at most this many features gets its full feature powerset tested.
pub const POWERSET_LIMIT: usize = 4;

/// One way to build a crate: the cargo flags that select its features.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeatureSet {
    /// Pass `--no-default-features`.
    pub no_default_features: bool,
    /// Pass `--all-features`.
    pub all_features: bool,
    /// Pass `--features` with these, sorted.
    pub features: Vec<String>,
}

impl FeatureSet {
    /// The crate's default features: no flags at all.
    pub fn default_features() -> FeatureSet {
        FeatureSet {
            no_default_features: false,
            all_features: false,
            features: Vec::new(),
        }
    }

    /// `--no-default-features` plus exactly `features`.
    pub fn only<I, S>(features: I) -> FeatureSet
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut features: Vec<String> = features.into_iter().map(Into::into).collect();
        features.sort();
        FeatureSet {
            no_default_features: true,
            all_features: false,
            features,
        }
    }

    /// `--all-features`.
    pub fn all() -> FeatureSet {
        FeatureSet {
            no_default_features: false,
            all_features: true,
            features: Vec::new(),
        }
    }

    /// The cargo flags that select this set, for example `["--no-default-features",
    /// "--features", "v1,v2"]`; empty for the default features.
    pub fn cargo_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if self.all_features {
            args.push("--all-features".to_owned());
        }
        if self.no_default_features {
            args.push("--no-default-features".to_owned());
        }
        if !self.features.is_empty() {
            args.push("--features".to_owned());
            args.push(self.features.join(","));
        }
        args
    }

    /// A short name for tables and JSON: `default`, or the cargo flags.
    pub fn label(&self) -> String {
        let args = self.cargo_args();
        if args.is_empty() {
            "default".to_owned()
        } else {
            args.join(" ")
        }
    }

    /// The crate's own features this set turns on, following what each feature enables.
    pub fn enabled(&self, table: &BTreeMap<String, Vec<String>>) -> BTreeSet<String> {
        let mut roots: Vec<&str> = Vec::new();
        if self.all_features {
            roots.extend(table.keys().map(String::as_str));
        } else {
            if !self.no_default_features && table.contains_key("default") {
                roots.push("default");
            }
            roots.extend(self.features.iter().map(String::as_str));
        }
        let mut enabled = closure(table, roots);
        enabled.remove("default");
        enabled
    }
}

impl fmt::Display for FeatureSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Every feature set worth building for a crate with this `[features]` table, deduplicated.
pub fn feature_sets(table: &BTreeMap<String, Vec<String>>) -> Vec<FeatureSet> {
    let names: Vec<&str> = table
        .keys()
        .map(String::as_str)
        .filter(|name| *name != "default")
        .collect();
    let mut candidates = vec![
        FeatureSet::default_features(),
        FeatureSet::only(Vec::<String>::new()),
    ];
    candidates.extend(names.iter().map(|name| FeatureSet::only([*name])));
    candidates.push(FeatureSet::all());
    if names.len() <= POWERSET_LIMIT {
        let mut subsets: Vec<Vec<&str>> = (0..1_usize << names.len())
            .map(|mask| {
                names
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| mask & (1 << bit) != 0)
                    .map(|(_, name)| *name)
                    .collect()
            })
            .collect();
        subsets.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        candidates.extend(subsets.into_iter().map(FeatureSet::only));
    }
    let mut seen = BTreeSet::new();
    candidates
        .into_iter()
        .filter(|set| seen.insert(set.enabled(table)))
        .collect()
}

/// Whether `--all-features` turns on a feature of the crate that its default features do not.
pub fn all_features_differ(table: &BTreeMap<String, Vec<String>>) -> bool {
    FeatureSet::all().enabled(table) != FeatureSet::default_features().enabled(table)
}

/// Each member's enabled features (with `default` when its defaults are on) when the whole
/// workspace builds with default features: a member's own `default`, plus what other members'
/// normal and build dependencies on it turn on (their `features = [...]`, their default
/// features, and `dep/feature` entries of their enabled features), to a fixed point. A weak
/// `dep?/feature` counts only when the dependency is on: a required one always is, an optional
/// one when an enabled feature turns it on.
pub fn workspace_default_features(workspace: &Workspace) -> Vec<BTreeSet<String>> {
    let count = workspace.members.len();
    let mut enabled: Vec<BTreeSet<String>> = workspace
        .members
        .iter()
        .map(|member| closure(&member.features, ["default"]))
        .collect();
    loop {
        let mut next = enabled.clone();
        for (index, member) in workspace.members.iter().enumerate() {
            let active = |name: &str| {
                member.dependencies.iter().any(|d| {
                    d.local_name() == name
                        && d.kind != DepKind::Dev
                        && (!d.optional || optional_dependency_on(member, &enabled[index], name))
                })
            };
            let mut roots: Vec<(usize, String)> = Vec::new();
            for dependency in &member.dependencies {
                let Some(target) = dependency.member else {
                    continue;
                };
                if dependency.kind == DepKind::Dev || target >= count {
                    continue;
                }
                if dependency.optional
                    && !optional_dependency_on(member, &enabled[index], dependency.local_name())
                {
                    continue;
                }
                if dependency.uses_default_features {
                    roots.push((target, "default".to_owned()));
                }
                roots.extend(dependency.features.iter().map(|f| (target, f.clone())));
            }
            for feature in &enabled[index] {
                for entry in member.features.get(feature).into_iter().flatten() {
                    if let FeatureEntry::DependencyFeature {
                        dependency,
                        feature,
                        weak,
                    } = FeatureEntry::parse(entry)
                        && (!weak || active(dependency))
                        && let Some(target) = member
                            .dependencies
                            .iter()
                            .find(|d| d.local_name() == dependency && d.kind != DepKind::Dev)
                            .and_then(|d| d.member)
                        && target < count
                    {
                        roots.push((target, feature.to_owned()));
                    }
                }
            }
            for (target, feature) in roots {
                let table = &workspace.members[target].features;
                if table.contains_key(&feature) {
                    next[target].extend(closure(table, [feature.as_str()]));
                } else if feature == "default" {
                    // A crate without a `default` entry still builds "with defaults".
                    next[target].insert(feature);
                }
            }
        }
        if next == enabled {
            return enabled;
        }
        enabled = next;
    }
}

/// Whether an enabled feature of `member` turns on its optional dependency `name` (`dep:name`,
/// a non-weak `name/f`, or the implicit feature `name`).
fn optional_dependency_on(member: &crate::Member, enabled: &BTreeSet<String>, name: &str) -> bool {
    enabled.contains(name)
        || enabled.iter().any(|feature| {
            member.features.get(feature).into_iter().flatten().any(|entry| {
                matches!(FeatureEntry::parse(entry),
                    FeatureEntry::Dependency(d) | FeatureEntry::DependencyFeature { dependency: d, weak: false, .. } if d == name)
            })
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `[features]` table: each feature with what it turns on.
    pub(crate) fn table(entries: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        entries
            .iter()
            .map(|(name, enables)| {
                (
                    (*name).to_owned(),
                    enables.iter().map(|e| (*e).to_owned()).collect(),
                )
            })
            .collect()
    }

    fn render(table: &BTreeMap<String, Vec<String>>) -> String {
        feature_sets(table)
            .iter()
            .map(|set| {
                let enabled: Vec<String> = set.enabled(table).into_iter().collect();
                format!("{:<50} -> [{}]\n", set.label(), enabled.join(", "))
            })
            .collect()
    }

    #[test]
    fn no_features_is_one_set() {
        insta::assert_snapshot!(render(&table(&[])));
    }

    #[test]
    fn empty_default_counts_as_no_features() {
        assert_eq!(
            feature_sets(&table(&[("default", &[])])),
            vec![FeatureSet::default_features()]
        );
    }

    #[test]
    fn one_feature_off_by_default() {
        insta::assert_snapshot!(render(&table(&[("serde", &["dep:serde"])])));
    }

    #[test]
    fn one_feature_on_by_default() {
        insta::assert_snapshot!(render(&table(&[("default", &["v1"]), ("v1", &[])])));
    }

    #[test]
    fn three_features_get_the_powerset() {
        insta::assert_snapshot!(render(&table(&[
            ("default", &["v1"]),
            ("v1", &[]),
            ("v2", &[]),
            ("full", &["v1", "v2"]),
        ])));
    }

    #[test]
    fn six_features_skip_the_powerset() {
        insta::assert_snapshot!(render(&table(&[
            ("default", &["std"]),
            ("std", &[]),
            ("alloc", &[]),
            ("json", &["dep:serde_json", "std"]),
            ("yaml", &["serde_yaml/std"]),
            ("serde_yaml", &["dep:serde_yaml"]),
            ("tracing", &["log?/std"]),
        ])));
    }

    #[test]
    fn powerset_limit_is_inclusive() {
        let four = table(&[("a", &[]), ("b", &[]), ("c", &[]), ("d", &[])]);
        // default, and the 16 subsets of four independent features ({} and all included).
        assert_eq!(feature_sets(&four).len(), 16);
        let five = table(&[("a", &[]), ("b", &[]), ("c", &[]), ("d", &[]), ("e", &[])]);
        // {} (default), each alone, all.
        assert_eq!(feature_sets(&five).len(), 7);
    }

    #[test]
    fn cargo_args_and_labels() {
        assert!(FeatureSet::default_features().cargo_args().is_empty());
        assert_eq!(
            FeatureSet::only(["v2", "v1"]).cargo_args(),
            ["--no-default-features", "--features", "v1,v2"]
        );
        assert_eq!(FeatureSet::all().label(), "--all-features");
        assert_eq!(
            FeatureSet::only(Vec::<String>::new()).to_string(),
            "--no-default-features"
        );
    }

    #[test]
    fn enabled_follows_chains_and_ignores_unknown_names() {
        let features = table(&[
            ("default", &["a"]),
            ("a", &["b", "unknown"]),
            ("b", &["c/std"]),
            ("c", &["dep:c"]),
        ]);
        let enabled: Vec<String> = FeatureSet::default_features()
            .enabled(&features)
            .into_iter()
            .collect();
        assert_eq!(enabled, ["a", "b", "c"]);
    }
}
