//! The "semver trick": a release that depends on another version of its own crate and
//! re-exports its items (`rand` 0.3.23 is `pub use rand4::Rng; …` over `rand` 0.4), so its
//! API is that version's. The re-exported paths are filled with the other version's items,
//! read from cargo's registry cache, so the comparison sees the API users get.

use std::path::{Path, PathBuf};

use crate::manifest::BuildOptions;
use crate::surface::{Surface, UnreadKind};

/// How many versions deep a chain of releases re-exporting one another is followed.
const MAX_CHAIN: usize = 3;

/// Fills the paths `surface` re-exports from another version of its own crate `name` with that
/// version's items, when the crate in `dir` depends on one and cargo's cache holds it.
pub(crate) fn fill_from_own_dependency(
    surface: &mut Surface,
    dir: &Path,
    name: &str,
    options: &BuildOptions,
    depth: usize,
) {
    if depth >= MAX_CHAIN {
        return;
    }
    let Some((in_code, requirement)) = own_dependency(dir, name) else {
        return;
    };
    let reexports: Vec<(String, Vec<String>)> = surface
        .external_targets
        .iter()
        .filter(|(_, target)| target.first() == Some(&in_code))
        .map(|(path, target)| (path.clone(), target[1..].to_vec()))
        .collect();
    if reexports.is_empty() {
        return;
    }
    let Some(other_dir) = cached_version(name, &requirement) else {
        return;
    };
    let Ok((mut other, _)) = crate::read_crate_alone(&other_dir, options) else {
        return;
    };
    fill_from_own_dependency(&mut other, &other_dir, name, options, depth + 1);
    for (public, target) in reexports {
        let (to_prefix, from_prefix) = match public.strip_suffix('*') {
            // `pub use other::*`, or `pub use other::module::*`.
            Some(prefix) => (prefix.to_string(), join_prefix(&target)),
            None => (format!("{public}::"), format!("{}::", target.join("::"))),
        };
        let named_item = public
            .strip_suffix('*')
            .is_none()
            .then(|| target.join("::"));
        graft(
            surface,
            &other,
            named_item.as_deref(),
            &public,
            &from_prefix,
            &to_prefix,
        );
        surface.external_reexports.remove(&public);
        surface.external_targets.remove(&public);
    }
    // The globs are read now: they are no longer unread.
    let still_external: Vec<Vec<String>> = surface.external_targets.values().cloned().collect();
    surface.unread.retain(|part| {
        part.kind != UnreadKind::ExternalGlob
            || still_external.iter().any(|target| {
                part.detail
                    .contains(&format!("`pub use {}::*`", target.join("::")))
            })
    });
}

/// `a::b::` for a path, empty for the crate root.
fn join_prefix(path: &[String]) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{}::", path.join("::"))
    }
}

/// Copies `from`'s item at `item` (to `public`) and every item under `from_prefix` (to the same
/// place under `to_prefix`) into `into`.
fn graft(
    into: &mut Surface,
    from: &Surface,
    item: Option<&str>,
    public: &str,
    from_prefix: &str,
    to_prefix: &str,
) {
    let rename = |path: &str| -> Option<String> {
        if Some(path) == item {
            return Some(public.to_string());
        }
        path.strip_prefix(from_prefix)
            .map(|rest| format!("{to_prefix}{rest}"))
    };
    macro_rules! copy {
        ($($field:ident),*) => {$(
            for (path, def) in &from.$field {
                if let Some(to) = rename(path) {
                    into.$field.entry(to).or_insert_with(|| def.clone());
                }
            }
        )*};
    }
    copy!(
        traits, structs, enums, functions, consts, unions, modules, versions
    );
    for path in &from.hidden {
        if let Some(to) = rename(path) {
            into.hidden.insert(to);
        }
    }
}

/// The dependency of the crate in `dir` on another version of its own package `name`: the
/// name its code knows it by and the version requirement.
fn own_dependency(dir: &Path, name: &str) -> Option<(String, String)> {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let table: toml::Table = text.parse().ok()?;
    let dependencies = table.get("dependencies")?.as_table()?;
    dependencies.iter().find_map(|(key, spec)| {
        let (package, requirement) = match spec {
            toml::Value::String(requirement) => (key.as_str(), requirement.clone()),
            toml::Value::Table(table) => (
                table
                    .get("package")
                    .and_then(toml::Value::as_str)
                    .unwrap_or(key),
                table.get("version")?.as_str()?.to_string(),
            ),
            _ => return None,
        };
        (package == name).then(|| (key.replace('-', "_"), requirement))
    })
}

/// The newest version of `name` matching `requirement` unpacked in cargo's registry cache.
fn cached_version(name: &str, requirement: &str) -> Option<PathBuf> {
    let requirement = semver::VersionReq::parse(requirement).ok()?;
    let home = graywork_workspace::cargo_home()?;
    let prefix = format!("{name}-");
    let mut found: Vec<(semver::Version, PathBuf)> = std::fs::read_dir(home.join("registry/src"))
        .ok()?
        .flatten()
        .filter_map(|index| std::fs::read_dir(index.path()).ok())
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let file_name = entry.file_name();
            let version = file_name.to_str()?.strip_prefix(&prefix)?;
            let version = semver::Version::parse(version).ok()?;
            requirement
                .matches(&version)
                .then(|| (version, entry.path()))
        })
        .filter(|(_, path)| path.join("Cargo.toml").is_file())
        .collect();
    found.sort();
    found.pop().map(|(_, path)| path)
}
