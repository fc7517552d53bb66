//! Cargo features: removed, no longer default, enabling less, or added.

use std::collections::{BTreeMap, BTreeSet};

use super::finding::Findings;
use crate::lint::Lint;
use crate::surface::FeatureDef;

/// The features `root` turns on, transitively (itself included), with `dep:x` read as `x`.
fn feature_closure(features: &BTreeMap<String, FeatureDef>, root: &str) -> BTreeSet<String> {
    let table: BTreeMap<String, Vec<String>> = features
        .iter()
        .map(|(name, def)| {
            let entries = def
                .enables
                .iter()
                .map(|entry| entry.strip_prefix("dep:").unwrap_or(entry).to_string())
                .collect();
            (name.clone(), entries)
        })
        .collect();
    graywork_workspace::features::closure(&table, [root])
}

/// Cargo features: removed, no longer default, enabling less; additions are minor.
pub(super) fn diff_features(
    old: &BTreeMap<String, FeatureDef>,
    new: &BTreeMap<String, FeatureDef>,
    out: &mut Findings<'_>,
) {
    for (name, old_feature) in old {
        // A feature named with a leading underscore is private by convention: no user is
        // meant to enable it, so removing or changing it breaks no one.
        if name.starts_with('_') {
            continue;
        }
        let path = format!("feature `{name}`");
        let Some(new_feature) = new.get(name) else {
            out.push(
                Lint::FeatureMissing,
                &path,
                &old_feature.loc,
                None,
                format!("feature `{name}` was removed: crates that enable it no longer build"),
            );
            continue;
        };
        if old_feature.default && !new_feature.default {
            out.push(
                Lint::FeatureNotEnabledByDefault,
                &path,
                &new_feature.loc,
                None,
                format!(
                    "feature `{name}` is no longer enabled by default: crates relying on it break"
                ),
            );
        }
        // What a feature turns on, transitively, among the crate's features; `dep:x` and `x`
        // name the same optional dependency, and `x/f` entries are its own choices.
        let lost: Vec<String> = feature_closure(old, name)
            .difference(&feature_closure(new, name))
            // A feature that is gone altogether is reported once, as missing.
            .filter(|entry| old.contains_key(*entry) && new.contains_key(*entry) && *entry != name)
            .filter(|entry| !entry.starts_with('_'))
            .cloned()
            .collect();
        for entry in lost {
            out.push(
                Lint::FeatureNoLongerEnablesFeature,
                &path,
                &new_feature.loc,
                None,
                format!("feature `{name}` no longer enables `{entry}`: crates relying on it break"),
            );
        }
    }
    for (name, new_feature) in new {
        if !old.contains_key(name) {
            out.push(
                Lint::FeatureAdded,
                &format!("feature `{name}`"),
                &new_feature.loc,
                None,
                format!("feature `{name}` added"),
            );
        }
    }
}
