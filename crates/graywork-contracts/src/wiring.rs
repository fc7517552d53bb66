//! Wiring: every consumer's required range is met by some provider under default features, and
//! every feature named as providing a contract gates an `impl` of that contract's trait.
//!
//! The metadata itself (known keys, contract names, ranges, features that exist) is validated
//! by `graywork_workspace` when the workspace loads; this module checks what needs the
//! contract crate's sources and the providers' sources.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use semver::Version;

use crate::diff::{Bump, Finding, Severity};
use crate::lint::Lint;
use crate::surface::{Crate, DiskTree, Location, TraitImpl, slash_path};
use graywork_workspace::{Member, Workspace};

/// What the wiring check needs to know about the contract crate as it stands.
#[derive(Debug, Clone, Default)]
pub(crate) struct Contracts {
    /// `(contract, major)` -> its current `VERSION`.
    pub versions: BTreeMap<(String, u64), Version>,
    /// `(contract, major)` -> the names of its public traits.
    pub traits: BTreeMap<(String, u64), BTreeSet<String>>,
}

/// Checks requirements and providers; every finding is an error in group `wiring`.
///
/// Errors are parse errors in a provider's sources (naming file and line).
pub(crate) fn check(
    workspace: &Workspace,
    contracts: &Contracts,
    read_before: &ProviderImpls,
) -> anyhow::Result<Vec<Finding>> {
    let enabled = graywork_workspace::features::workspace_default_features(workspace);
    let mut findings = Vec::new();
    // Each provider's sources are parsed once, however many majors it provides.
    let mut impls_of: BTreeMap<&str, Vec<TraitImpl>> = BTreeMap::new();
    for member in &workspace.members {
        let manifest = workspace.relative_manifest(member);
        for (contract, ranges) in &member.contracts.requires {
            for range in ranges {
                let met = workspace
                    .members
                    .iter()
                    .enumerate()
                    .any(|(index, provider)| {
                        provider
                            .contracts
                            .provides
                            .get(contract)
                            .into_iter()
                            .flatten()
                            .any(|(major, feature)| {
                                enabled[index].contains(feature)
                                    && contracts
                                        .versions
                                        .get(&(contract.clone(), *major))
                                        .is_some_and(|version| range.matches(version))
                            })
                    });
                if !met {
                    let loc = manifest_loc(member, &manifest, "requires");
                    let available = describe_available(workspace, contracts, contract, &enabled);
                    findings.push(error(
                        Lint::ContractRequirementUnmet,
                        &format!("{}::requires::{contract}", member.name),
                        loc,
                        format!(
                            "`{}` requires {contract} {range}, but no provider offers it under default features ({available})",
                            member.name
                        ),
                    ));
                }
            }
        }
        for (contract, majors) in &member.contracts.provides {
            for (major, feature) in majors {
                let key = (contract.clone(), *major);
                let path = format!("{}::provides::{contract}::v{major}", member.name);
                let Some(traits) = contracts.traits.get(&key) else {
                    if !contracts.versions.contains_key(&key) {
                        findings.push(error(
                            Lint::ContractProvidedMajorMissing,
                            &path,
                            manifest_loc(member, &manifest, "provides"),
                            format!(
                                "`{}` provides {contract} v{major}, but the contract crate has no module `{contract}::v{major}`",
                                member.name
                            ),
                        ));
                    }
                    continue;
                };
                if !impls_of.contains_key(member.name.as_str()) {
                    let impls = match read_before.of(member.manifest_dir().as_std_path()) {
                        Some(impls) => impls.to_vec(),
                        None => gated_impls(member, workspace)?,
                    };
                    impls_of.insert(&member.name, impls);
                }
                let impls = &impls_of[member.name.as_str()];
                let found = impls.iter().any(|imp| {
                    implements(imp, traits, *major)
                        && imp.cfgs.iter().any(|cfg| mentions_feature(cfg, feature))
                });
                if !found {
                    findings.push(error(
                        Lint::ContractProviderFeatureGatesNoImpl,
                        &path,
                        manifest_loc(member, &manifest, "provides"),
                        format!(
                            "`{}` names feature `{feature}` as providing {contract} v{major}, but no `impl` of {} is behind `#[cfg(feature = \"{feature}\")]`",
                            member.name,
                            traits
                                .iter()
                                .map(|t| format!("`{contract}::v{major}::{t}`"))
                                .collect::<Vec<_>>()
                                .join(" or ")
                        ),
                    ));
                }
            }
        }
    }
    Ok(findings)
}

fn error(lint: Lint, path: &str, loc: Location, message: String) -> Finding {
    Finding {
        also_at: Vec::new(),
        group: "wiring".to_string(),
        severity: Severity::Error,
        lint,
        bump: Bump::None,
        path: path.to_string(),
        loc,
        message,
        cfg: None,
    }
}

/// What the providers of a contract offer, for the "unmet" message.
fn describe_available(
    workspace: &Workspace,
    contracts: &Contracts,
    contract: &str,
    enabled: &[BTreeSet<String>],
) -> String {
    let mut parts = Vec::new();
    for (index, provider) in workspace.members.iter().enumerate() {
        for (major, feature) in provider
            .contracts
            .provides
            .get(contract)
            .into_iter()
            .flatten()
        {
            let version = contracts
                .versions
                .get(&(contract.to_string(), *major))
                .map_or_else(|| "no readable VERSION".to_string(), ToString::to_string);
            let state = if enabled[index].contains(feature) {
                "on"
            } else {
                "off"
            };
            parts.push(format!(
                "`{}` provides v{major} ({version}) behind feature `{feature}`, which is {state}",
                provider.name
            ));
        }
    }
    if parts.is_empty() {
        "no crate provides it".to_string()
    } else {
        parts.join("; ")
    }
}

/// The line of the first `key` after `[package.metadata.contracts]` in a member's manifest.
fn manifest_loc(member: &Member, manifest: &str, key: &str) -> Location {
    let text = std::fs::read_to_string(&member.manifest_path).unwrap_or_default();
    let mut in_table = false;
    let mut line_no = 1;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_table = trimmed.starts_with("[package.metadata.contracts");
            if in_table && line_no == 1 {
                line_no = index + 1;
            }
        }
        if in_table && trimmed.starts_with(key) {
            line_no = index + 1;
            break;
        }
    }
    Location {
        file: manifest.to_string(),
        line: line_no,
    }
}

/// Whether a trait impl implements one of `traits`, the traits of contract major `major`.
fn implements(imp: &TraitImpl, traits: &BTreeSet<String>, major: u64) -> bool {
    let Some(last) = imp.trait_path.last() else {
        return false;
    };
    if !traits.contains(last) {
        return false;
    }
    let wanted = format!("v{major}");
    let versions: Vec<&String> = imp
        .trait_path
        .iter()
        .filter(|s| graywork_workspace::parse_major(s).is_some())
        .collect();
    // A path that names no major at all is accepted: it is the only trait of that name.
    versions.is_empty() || versions.iter().any(|s| **s == wanted)
}

/// Whether a cfg predicate turns on with `feature = "NAME"` (directly, or inside `all`/`any`).
fn mentions_feature(cfg: &str, feature: &str) -> bool {
    cfg.contains(&format!("feature = \"{feature}\"")) && !cfg.contains("not(")
}

/// Every trait impl of a member, found by walking its module tree from its crate root, each
/// with the cfgs of its modules (their `mod` declarations and files' `#![cfg]`) and its own.
fn gated_impls(member: &Member, workspace: &Workspace) -> anyhow::Result<Vec<TraitImpl>> {
    let root = workspace.root.as_std_path();
    let dir = member.manifest_dir().as_std_path();
    trait_impls_in(root, dir).unwrap_or_else(|| {
        Err(anyhow!(
            "provider `{}` has no src/lib.rs under {}",
            member.name,
            slash_path(dir.strip_prefix(root).unwrap_or(dir))
        ))
    })
}

/// The trait impls of the crate in `dir`, read from the workspace `root` so that parse errors
/// name files relative to it; `None` when the crate has no root file.
fn trait_impls_in(root: &Path, dir: &Path) -> Option<anyhow::Result<Vec<TraitImpl>>> {
    let relative = dir.strip_prefix(root).unwrap_or(dir);
    let tree = DiskTree {
        root: root.to_path_buf(),
    };
    let root_file = ["src/lib.rs", "src/main.rs"]
        .into_iter()
        .map(|file| relative.join(file))
        .find(|file| root.join(file).is_file())?;
    Some(Crate::load(&tree, &root_file).map(|krate| krate.trait_impls()))
}

/// Providers' trait impls read ahead of the check (while `cargo metadata` runs), by canonical
/// directory. Only clean reads are kept: a provider whose read failed is read again by the
/// check, which reports the error with the provider's name.
#[derive(Debug, Default)]
pub(crate) struct ProviderImpls {
    by_dir: BTreeMap<PathBuf, Vec<TraitImpl>>,
}

impl ProviderImpls {
    /// Reads the trait impls of the crates in `dirs`, under the workspace `root`.
    pub(crate) fn read(root: &Path, dirs: &[PathBuf]) -> ProviderImpls {
        let by_dir = dirs
            .iter()
            .filter_map(|dir| {
                let impls = trait_impls_in(root, dir)?.ok()?;
                Some((dir.canonicalize().ok()?, impls))
            })
            .collect();
        ProviderImpls { by_dir }
    }

    /// The impls read for the crate in `dir`, if it was read ahead.
    fn of(&self, dir: &Path) -> Option<&[TraitImpl]> {
        if self.by_dir.is_empty() {
            return None;
        }
        self.by_dir
            .get(&dir.canonicalize().ok()?)
            .map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_mentions() {
        assert!(mentions_feature("feature = \"v1\"", "v1"));
        assert!(mentions_feature("all(feature = \"v1\", unix)", "v1"));
        assert!(!mentions_feature("feature = \"v10\"", "v1"));
        assert!(!mentions_feature("not(feature = \"v1\")", "v1"));
    }

    #[test]
    fn impl_matching_uses_the_major_in_the_path() {
        let traits = BTreeSet::from(["BillingService".to_string()]);
        let site = |path: &[&str]| TraitImpl {
            trait_path: path.iter().map(|s| s.to_string()).collect(),
            cfgs: Vec::new(),
        };
        assert!(implements(
            &site(&["shared", "billing", "v1", "BillingService"]),
            &traits,
            1
        ));
        assert!(!implements(
            &site(&["shared", "billing", "v2", "BillingService"]),
            &traits,
            1
        ));
        assert!(implements(&site(&["BillingService"]), &traits, 2));
        assert!(!implements(&site(&["Other"]), &traits, 1));
    }
}
