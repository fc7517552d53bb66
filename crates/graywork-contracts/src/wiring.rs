//! Wiring: every consumer's required range is met by some provider under default features, and
//! every feature named as providing a contract gates an `impl` of that contract's trait.
//!
//! The metadata itself (known keys, contract names, ranges, features that exist) is validated
//! by [`crate::workspace`] when the workspace loads; this module checks what needs the
//! contract crate's sources and the providers' sources.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use semver::Version;

use super::diff::{Bump, Finding, Severity};
use super::surface::{Loc, cfg_predicates, flatten_use};
use graywork_workspace::{Member, Workspace};

/// Every wiring lint: name and what it means.
pub const LINTS: &[(&str, &str)] = &[
    (
        "contract_requirement_unmet",
        "no provider, under the workspace's default features, offers a version in a consumer's required range",
    ),
    (
        "contract_provided_major_missing",
        "a crate provides a contract major that the contract crate does not define",
    ),
    (
        "contract_provider_feature_gates_no_impl",
        "the feature named as providing a contract major does not gate an `impl` of its trait",
    ),
];

/// What the wiring check needs to know about the contract crate as it stands.
#[derive(Debug, Clone, Default)]
pub struct Contracts {
    /// `(contract, major)` -> its current `VERSION`.
    pub versions: BTreeMap<(String, u64), Version>,
    /// `(contract, major)` -> the names of its public traits.
    pub traits: BTreeMap<(String, u64), BTreeSet<String>>,
}

/// Checks requirements and providers; every finding is an error in group `wiring`.
///
/// Errors are parse errors in a provider's sources (naming file and line).
pub fn check(workspace: &Workspace, contracts: &Contracts) -> anyhow::Result<Vec<Finding>> {
    let enabled = graywork_workspace::features::workspace_default_features(workspace);
    let mut findings = Vec::new();
    // Each provider's sources are parsed once, however many majors it provides.
    let mut impls_of: BTreeMap<&str, Vec<ImplSite>> = BTreeMap::new();
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
                        "contract_requirement_unmet",
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
                            "contract_provided_major_missing",
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
                    impls_of.insert(&member.name, gated_impls(member, workspace)?);
                }
                let impls = &impls_of[member.name.as_str()];
                let found = impls.iter().any(|imp| {
                    imp.implements(traits, *major)
                        && imp.cfgs.iter().any(|cfg| mentions_feature(cfg, feature))
                });
                if !found {
                    findings.push(error(
                        "contract_provider_feature_gates_no_impl",
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

fn error(lint: &'static str, path: &str, loc: Loc, message: String) -> Finding {
    Finding {
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
fn manifest_loc(member: &Member, manifest: &str, key: &str) -> Loc {
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
    Loc {
        file: manifest.to_string(),
        line: line_no,
    }
}

/// An `impl Trait for Type` found in a provider, with every cfg that gates it.
#[derive(Debug, Clone)]
struct ImplSite {
    /// The trait path, with its first segment resolved through the file's `use`s.
    trait_path: Vec<String>,
    cfgs: Vec<String>,
}

impl ImplSite {
    fn implements(&self, traits: &BTreeSet<String>, major: u64) -> bool {
        let Some(last) = self.trait_path.last() else {
            return false;
        };
        if !traits.contains(last) {
            return false;
        }
        let wanted = format!("v{major}");
        let versions: Vec<&String> = self
            .trait_path
            .iter()
            .filter(|s| graywork_workspace::parse_major(s).is_some())
            .collect();
        // A path that names no major at all is accepted: it is the only trait of that name.
        versions.is_empty() || versions.iter().any(|s| **s == wanted)
    }
}

/// Whether a cfg predicate turns on with `feature = "NAME"` (directly, or inside `all`/`any`).
fn mentions_feature(cfg: &str, feature: &str) -> bool {
    cfg.contains(&format!("feature = \"{feature}\"")) && !cfg.contains("not(")
}

/// Every trait impl in a member's `src/`, with the cfgs of the impl, its enclosing inline
/// modules, its file (`#![cfg]`) and the `mod` declarations that lead to its file.
fn gated_impls(member: &Member, workspace: &Workspace) -> anyhow::Result<Vec<ImplSite>> {
    let dir = member.manifest_dir().as_std_path().join("src");
    let mut files = Vec::new();
    collect_rs_files(&dir, &mut files);
    files.sort();
    let mut parsed = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let display = file
            .strip_prefix(workspace.root.as_std_path())
            .unwrap_or(file);
        let syntax = super::surface::parse_file(&text, display)?;
        parsed.push((file.clone(), syntax));
    }
    // Module name -> cfgs on its `mod NAME;` declarations anywhere in the crate.
    let mut mod_cfgs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, syntax) in &parsed {
        collect_mod_cfgs(&syntax.items, &mut mod_cfgs);
    }
    let mut sites = Vec::new();
    for (file, syntax) in &parsed {
        let mut outer = cfg_predicates(&syntax.attrs);
        let relative = file.strip_prefix(&dir).unwrap_or(file);
        for component in relative.with_extension("").components() {
            let name = component.as_os_str().to_string_lossy();
            if let Some(cfgs) = mod_cfgs.get(name.as_ref()) {
                outer.extend(cfgs.iter().cloned());
            }
        }
        let mut uses = Vec::new();
        for item in &syntax.items {
            if let syn::Item::Use(item_use) = item {
                flatten_use(&item_use.tree, Vec::new(), &mut uses);
            }
        }
        collect_impls(&syntax.items, &outer, &uses, &mut sites);
    }
    Ok(sites)
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn collect_mod_cfgs(items: &[syn::Item], out: &mut BTreeMap<String, Vec<String>>) {
    for item in items {
        if let syn::Item::Mod(item_mod) = item {
            if item_mod.content.is_none() {
                out.entry(item_mod.ident.to_string())
                    .or_default()
                    .extend(cfg_predicates(&item_mod.attrs));
            } else if let Some((_, inner)) = &item_mod.content {
                collect_mod_cfgs(inner, out);
            }
        }
    }
}

fn collect_impls(
    items: &[syn::Item],
    outer: &[String],
    uses: &[(Option<String>, Vec<String>)],
    out: &mut Vec<ImplSite>,
) {
    for item in items {
        match item {
            syn::Item::Impl(item_impl) => {
                let Some((_, path, _)) = &item_impl.trait_ else {
                    continue;
                };
                let mut segments: Vec<String> =
                    path.segments.iter().map(|s| s.ident.to_string()).collect();
                if let Some(first) = segments.first().cloned()
                    && let Some((_, target)) = uses
                        .iter()
                        .find(|(name, _)| name.as_deref() == Some(&first))
                {
                    let mut resolved = target.clone();
                    resolved.extend(segments.drain(1..));
                    segments = resolved;
                }
                let mut cfgs = outer.to_vec();
                cfgs.extend(cfg_predicates(&item_impl.attrs));
                out.push(ImplSite {
                    trait_path: segments,
                    cfgs,
                });
            }
            syn::Item::Mod(item_mod) => {
                if let Some((_, inner)) = &item_mod.content {
                    let mut cfgs = outer.to_vec();
                    cfgs.extend(cfg_predicates(&item_mod.attrs));
                    let mut inner_uses = uses.to_vec();
                    for inner_item in inner {
                        if let syn::Item::Use(item_use) = inner_item {
                            flatten_use(&item_use.tree, Vec::new(), &mut inner_uses);
                        }
                    }
                    collect_impls(inner, &cfgs, &inner_uses, out);
                }
            }
            _ => {}
        }
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
        let site = |path: &[&str]| ImplSite {
            trait_path: path.iter().map(|s| s.to_string()).collect(),
            cfgs: Vec::new(),
        };
        assert!(site(&["shared", "billing", "v1", "BillingService"]).implements(&traits, 1));
        assert!(!site(&["shared", "billing", "v2", "BillingService"]).implements(&traits, 1));
        assert!(site(&["BillingService"]).implements(&traits, 2));
        assert!(!site(&["Other"]).implements(&traits, 1));
    }
}
