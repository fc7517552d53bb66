//! The impact of a dependency's new version on a crate that uses it, before anything is
//! compiled: the dependency's breaking changes (the check-contracts diff of its two versions'
//! sources), matched to the crate's uses of what changed, each `certain` (a resolved path to a
//! changed item) or `likely` (matched by name only).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diff::Finding;
use crate::lint::{Bump, Family, Lint};
use crate::manifest::BuildOptions;
use crate::surface::{Crate, DiskTree, UseKind, UseSite};

/// How sure a predicted break is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Certainty {
    /// Matched by name only: a method call whose receiver's type is not known, or a name that
    /// may come from a glob import.
    Likely,
    /// A path that resolves to the changed item.
    Certain,
}

impl std::fmt::Display for Certainty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Certainty::Likely => "likely",
            Certainty::Certain => "certain",
        })
    }
}

/// A line of the crate that uses something the new version changes incompatibly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedUse {
    /// The file, relative to the workspace root.
    pub file: String,
    /// The line.
    pub line: usize,
    /// What the crate uses there, as written.
    pub used: String,
    /// The dependency's item that changed (`Bytes::slice`).
    pub item: String,
    /// The lint that names the change.
    pub lint: Lint,
    /// The change in words.
    pub change: String,
    /// How sure the prediction is.
    pub certainty: Certainty,
}

/// The changes between two source trees of a dependency that can break its users: surface
/// findings that need a major bump, read for the build `options` selects.
pub fn breaking_changes(
    old_dir: &Path,
    new_dir: &Path,
    options: &BuildOptions,
) -> anyhow::Result<Vec<Finding>> {
    let report = crate::compare_dirs_with(old_dir, new_dir, options)?;
    Ok(report
        .findings
        .into_iter()
        .filter(|f| f.lint.family() == Family::Surface && f.bump == Bump::Major)
        .collect())
}

/// The uses, in the crate at `crate_dir` (read from the workspace `root`, so files are named
/// relative to it), of what `changes` break, for the dependency its code knows as one of
/// `extern_names`. One entry per line and changed item, the surest match kept.
pub fn affected_uses(
    root: &Path,
    crate_dir: &Path,
    extern_names: &[String],
    changes: &[Finding],
) -> anyhow::Result<Vec<AffectedUse>> {
    let (root_file, env) = crate::crate_entry(root, crate_dir, &BuildOptions::default())?;
    let tree = DiskTree {
        root: root.to_path_buf(),
    };
    let krate = Crate::load_with(&tree, &root_file, &env)?;
    Ok(affected_uses_in(root, &krate, &[(extern_names, changes)])
        .pop()
        .unwrap_or_default())
}

/// [`affected_uses`] for several dependencies of a crate already read with
/// [`crate::read_member`] from the workspace `root`, one result per entry of `dependencies`
/// (the names its code knows the dependency by, and what breaks in it): each of its files is
/// parsed once for all of them.
pub fn affected_uses_in(
    root: &Path,
    krate: &Crate,
    dependencies: &[(&[String], &[Finding])],
) -> Vec<Vec<AffectedUse>> {
    let tree = DiskTree {
        root: root.to_path_buf(),
    };
    let names: Vec<&[String]> = dependencies.iter().map(|(names, _)| *names).collect();
    // A use that can break is written with a name reaching the dependency or with a name of
    // the changed item's path: a file with none of them is not parsed.
    let mut wanted: HashSet<String> = krate.names_reaching(&names).into_iter().collect();
    for (_, changes) in dependencies {
        for change in *changes {
            for path in std::iter::once(&change.path).chain(&change.also_at) {
                wanted.extend(path.split("::").map(str::to_owned));
            }
        }
    }
    let mentions_one = |text: &str| {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| wanted.contains(word))
    };
    krate
        .uses_of_each_where(&tree, &names, &mentions_one)
        .iter()
        .zip(dependencies)
        .map(|(sites, (_, changes))| match_uses(sites, changes))
        .collect()
}

/// Matches use sites to changes: the rule set [`affected_uses`] applies.
pub(crate) fn match_uses(sites: &[UseSite], changes: &[Finding]) -> Vec<AffectedUse> {
    // Every public path of every change: its own and the others it is reached by.
    let mut by_path: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for change in changes {
        for path in std::iter::once(&change.path).chain(&change.also_at) {
            by_path.entry(path.as_str()).or_default().push(change);
        }
    }
    // An import of an item that is gone is reported at the `use`; the compiler says nothing
    // where the imported name is used, so neither does the prediction.
    let gone = |path: &[String]| {
        (1..=path.len()).any(|len| {
            by_path
                .get(path[..len].join("::").as_str())
                .into_iter()
                .flatten()
                .any(|change| change.lint.name().ends_with("_missing"))
        })
    };
    let mut found: BTreeMap<(String, usize, String), AffectedUse> = BTreeMap::new();
    for site in sites {
        if site
            .through
            .as_deref()
            .is_some_and(|imported| gone(imported) && !site.text.starts_with("use "))
        {
            continue;
        }
        for (change, certainty) in matches_of(site, &by_path, changes) {
            let entry = AffectedUse {
                file: site.loc.file.clone(),
                line: site.loc.line,
                used: site.text.clone(),
                item: change.path.clone(),
                lint: change.lint,
                change: change.message.clone(),
                certainty,
            };
            let key = (entry.file.clone(), entry.line, entry.item.clone());
            match found.get(&key) {
                Some(existing) if existing.certainty >= certainty => {}
                _ => {
                    found.insert(key, entry);
                }
            }
        }
    }
    found.into_values().collect()
}

/// The changes one use site runs into, each with how sure the match is.
fn matches_of<'f>(
    site: &UseSite,
    by_path: &BTreeMap<&str, Vec<&'f Finding>>,
    changes: &'f [Finding],
) -> Vec<(&'f Finding, Certainty)> {
    let path = site.path.join("::");
    let mut out = Vec::new();
    match site.kind {
        UseKind::Path | UseKind::TraitImpl | UseKind::StructLiteral | UseKind::ExhaustiveMatch => {
            // The item itself changed: a removed type, a changed function, a moved item.
            let import = site.text.starts_with("use ");
            for change in by_path.get(path.as_str()).into_iter().flatten() {
                // A `use` breaks only when what it names is gone.
                if import && !change.lint.name().ends_with("_missing") {
                    continue;
                }
                if applies_to_use(change.lint, site.kind) {
                    out.push((*change, sure_unless_bounds(change.lint)));
                }
            }
            // Something the use names through it is gone: `Old::new` when `Old` was removed.
            for (prefix, _) in site.path.iter().enumerate().skip(1).map(|(i, _)| (i, ())) {
                let parent = site.path[..prefix].join("::");
                for change in by_path.get(parent.as_str()).into_iter().flatten() {
                    if change.lint.name().ends_with("_missing") {
                        out.push((*change, Certainty::Certain));
                    }
                }
            }
            // A member of what the use names changed in a way that breaks this kind of use:
            // a trait impl meets new required items, a literal meets new fields, an
            // exhaustive match meets new variants.
            for change in changes {
                let Some((owner, _)) = change.path.rsplit_once("::") else {
                    continue;
                };
                let owners = std::iter::once(owner).chain(
                    change
                        .also_at
                        .iter()
                        .filter_map(|p| p.rsplit_once("::").map(|(o, _)| o)),
                );
                if owners.into_iter().any(|o| o == path)
                    && breaks_member_use(change.lint, site.kind)
                {
                    out.push((change, Certainty::Certain));
                }
            }
        }
        UseKind::MethodCall => {
            let Some(name) = site.path.last() else {
                return out;
            };
            let globbed = site.in_scope.iter().any(|path| path == &["*"]);
            for change in changes {
                let Some((_, member)) = change.path.rsplit_once("::") else {
                    continue;
                };
                if member != name || !is_method_change(change.lint) {
                    continue;
                }
                // A trait's method is callable only where the trait is in scope; a type's,
                // matched by name alone, only where the type is named too, so the common names
                // (`collect`, `max`, `contains`) of std's own methods do not count.
                let owners: Vec<&str> = std::iter::once(&change.path)
                    .chain(&change.also_at)
                    .filter_map(|path| path.rsplit_once("::").map(|(owner, _)| owner))
                    .collect();
                // The receiver's type, when a parameter or a variable says it, decides for a
                // type's own methods; a trait's are decided by the trait being in scope.
                let trait_method = change.lint.name().starts_with("trait_method_");
                if let Some((receiver, annotated)) =
                    site.receiver.as_ref().filter(|_| !trait_method)
                {
                    if owners.contains(&receiver.join("::").as_str()) {
                        let certainty = if *annotated {
                            sure_unless_bounds(change.lint)
                        } else {
                            Certainty::Likely
                        };
                        out.push((change, certainty));
                    }
                    continue;
                }
                let named = site
                    .in_scope
                    .iter()
                    .any(|path| owners.contains(&path.join("::").as_str()));
                if named || globbed {
                    out.push((change, Certainty::Likely));
                }
            }
        }
        UseKind::GlobName => {
            for change in changes {
                if change.path == path || change.path.ends_with(&format!("::{path}")) {
                    out.push((change, Certainty::Likely));
                }
            }
        }
    }
    out
}

/// How sure a use of an item whose `lint` changed is to break: certain, but for a change of
/// generics. Whether a call meets new bounds depends on the types it passes, which only the
/// compiler knows: `T: DeserializeOwned` becoming `T: Deserialize<'de>` breaks no caller,
/// `T: Clone` becoming `T: Copy` breaks some.
fn sure_unless_bounds(lint: Lint) -> Certainty {
    if lint.name().ends_with("_generics_changed") {
        Certainty::Likely
    } else {
        Certainty::Certain
    }
}

/// Whether a change to an item breaks a use that names the item itself.
fn applies_to_use(lint: Lint, kind: UseKind) -> bool {
    match kind {
        // Naming an item breaks when it is gone or its signature changed; an impl breaks on
        // the trait's own changes; a literal or a match on the type's own changes.
        // A trait's own changes meet its implementors and its methods' callers, not a path
        // that names it; an addition breaks no path.
        UseKind::Path => {
            !lint.name().starts_with("trait_")
                && !lint.name().ends_with("_added")
                && !matches!(lint, Lint::ConstructibleStructAddsField)
        }
        UseKind::TraitImpl | UseKind::StructLiteral | UseKind::ExhaustiveMatch => true,
        UseKind::MethodCall | UseKind::GlobName => false,
    }
}

/// Whether a change to a member of an item breaks `kind` of use of the item.
fn breaks_member_use(lint: Lint, kind: UseKind) -> bool {
    let name = lint.name();
    match kind {
        UseKind::TraitImpl => name.starts_with("trait_"),
        UseKind::StructLiteral => matches!(
            lint,
            Lint::ConstructibleStructAddsField
                | Lint::StructPubFieldMissing
                | Lint::StructPubFieldTypeChanged
                | Lint::EnumStructVariantFieldAdded
                | Lint::EnumStructVariantFieldMissing
        ),
        UseKind::ExhaustiveMatch => matches!(lint, Lint::EnumVariantAdded),
        UseKind::Path => false,
        UseKind::MethodCall | UseKind::GlobName => false,
    }
}

/// Whether a lint is about a method (inherent or trait), so a call by that name may meet it.
fn is_method_change(lint: Lint) -> bool {
    let name = lint.name();
    name.starts_with("inherent_method_")
        || name.starts_with("method_")
        || name.starts_with("trait_method_")
        || name == "inherent_associated_pub_const_missing"
}
