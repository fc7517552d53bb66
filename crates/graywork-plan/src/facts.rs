//! Facts about the workspace's tree that `cargo metadata` does not carry, collected before
//! planning so that planning itself reads nothing: which contract modules exist, which
//! declared schema migrations are written, and which features cannot build as they are.

use std::collections::{BTreeMap, BTreeSet};

use graywork_workspace::{Workspace, files_under};

/// What the planner knows about the tree beyond the metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeFacts {
    /// For each contract some member defines: the majors whose module file exists in the
    /// defining crate (`src/NAME/vN.rs` or `src/NAME/vN/mod.rs`), or `None` when the defining
    /// crate's files are not on disk (metadata saved elsewhere says nothing about them).
    pub contract_modules: BTreeMap<String, Option<BTreeSet<u64>>>,
    /// `(member index, migration name)` for each declared migration that some file under the
    /// member's `src/` names: the tree's evidence that the migration is written.
    pub written_migrations: BTreeSet<(usize, String)>,
    /// For the dependency of a `--dep` goal: each member whose public API names its items
    /// (member index -> where). Reading a public API is the contract checker's job, so the
    /// caller fills this (`cargo-graywork` does, with `graywork-contracts`); empty means no
    /// member is known to.
    pub exposures: BTreeMap<usize, Vec<Exposure>>,
    /// What the plan must warn about from reading the tree (a public API that could not be
    /// read, say).
    pub warnings: Vec<String>,
    /// Per member, the features its source refuses to build without a `--cfg` flag (a
    /// `compile_error!` under `#[cfg(all(feature = "x", not(some_cfg)))]`): `--all-features`
    /// cannot pass for it, so gates name the features it builds with instead.
    pub guarded_features: BTreeMap<usize, Vec<GuardedFeature>>,
}

/// A feature that a `compile_error!` refuses without a `--cfg` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardedFeature {
    /// The feature.
    pub feature: String,
    /// The `--cfg` it needs (`tokio_unstable`).
    pub cfg: String,
    /// Where the `compile_error!` is, `file:line` relative to the workspace root.
    pub location: String,
}

/// A public item of a member that names a dependency's items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposure {
    /// The item's public path in the member (`Frame`, `Codec::decode`); empty when the
    /// member's public API could not be read, which counts as exposing (moving it with its
    /// dependents is always safe) and `text` says why.
    pub item: String,
    /// The file, relative to the workspace root.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
    /// What names the dependency (`bytes::Bytes`, `pub use bytes::Buf`).
    pub text: String,
}

impl TreeFacts {
    /// Reads the facts for `workspace` from disk: the defining crates' contract module
    /// directories and the sources of the members that declare migrations.
    pub fn collect(workspace: &Workspace) -> TreeFacts {
        let mut facts = TreeFacts::default();
        for (contract, definer) in workspace.defined_contracts() {
            let member = &workspace.members[definer];
            let modules = member.manifest_path.is_file().then(|| {
                let dir = member.manifest_dir().join("src").join(contract);
                let mut majors = BTreeSet::new();
                for entry in std::fs::read_dir(dir.as_std_path())
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    let path = entry.path();
                    let major = match name.strip_suffix(".rs") {
                        Some(stem) if path.is_file() => graywork_workspace::parse_major(stem),
                        None if path.join("mod.rs").is_file() => {
                            graywork_workspace::parse_major(&name)
                        }
                        _ => None,
                    };
                    majors.extend(major);
                }
                majors
            });
            facts.contract_modules.insert(contract.to_owned(), modules);
        }
        for (position, member) in workspace.members.iter().enumerate() {
            if member.migrations.is_empty() {
                continue;
            }
            let names: BTreeSet<&str> = member
                .migrations
                .contracts
                .values()
                .flat_map(BTreeMap::values)
                .flat_map(|steps| steps.expand.iter().chain(&steps.contract))
                .map(String::as_str)
                .collect();
            let sources: Vec<String> = files_under(member.manifest_dir().join("src").as_std_path())
                .iter()
                .filter_map(|path| std::fs::read_to_string(path).ok())
                .collect();
            for name in names {
                if sources.iter().any(|text| text.contains(name)) {
                    facts.written_migrations.insert((position, name.to_owned()));
                }
            }
        }
        for (position, member) in workspace.members.iter().enumerate() {
            if !graywork_workspace::features::all_features_differ(&member.features) {
                continue;
            }
            let mut guarded = Vec::new();
            for path in files_under(member.manifest_dir().join("src").as_std_path()) {
                if path.extension().is_none_or(|ext| ext != "rs") {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let file = path
                    .strip_prefix(workspace.root.as_std_path())
                    .map(|relative| relative.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_else(|_| path.display().to_string());
                for (feature, cfg, line) in compile_error_guards(&text) {
                    if member.features.contains_key(&feature) {
                        guarded.push(GuardedFeature {
                            feature,
                            cfg,
                            location: format!("{file}:{line}"),
                        });
                    }
                }
            }
            if !guarded.is_empty() {
                facts.guarded_features.insert(position, guarded);
            }
        }
        facts
    }

    /// Whether the module of `contract` v`major` exists; `None` when the tree is not visible.
    pub fn module_exists(&self, contract: &str, major: u64) -> Option<bool> {
        self.contract_modules
            .get(contract)?
            .as_ref()
            .map(|majors| majors.contains(&major))
    }

    /// Whether member `member`'s sources name migration `name`.
    pub fn migration_written(&self, member: usize, name: &str) -> bool {
        self.written_migrations.contains(&(member, name.to_owned()))
    }
}

/// Each `compile_error!` in `text` that stands right under a `#[cfg(…)]` naming features and
/// `not(CFG)` flags: `(feature, CFG, line)` for each feature named there. A simple reading of
/// the source (no macro expansion), enough for the usual
/// `#[cfg(all(not(tokio_unstable), feature = "taskdump"))] compile_error!(…);`.
pub fn compile_error_guards(text: &str) -> Vec<(String, String, usize)> {
    let mut guards = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("compile_error!") {
        let at = from + found;
        from = at + "compile_error!".len();
        let before = text[..at].trim_end();
        if !before.ends_with(")]") {
            continue;
        }
        let Some(start) = before.rfind("#[cfg(") else {
            continue;
        };
        let attribute = &before[start + "#[cfg".len()..before.len() - 1];
        // The attribute must be one balanced group that ends right before the macro.
        if !balanced(attribute) {
            continue;
        }
        let features = quoted_after(attribute, "feature");
        let cfgs = negated_flags(attribute);
        let line = text[..at].matches('\n').count() + 1;
        for feature in &features {
            for cfg in &cfgs {
                guards.push((feature.clone(), cfg.clone(), line));
            }
        }
    }
    guards
}

/// Whether `text` is one parenthesised group, balanced.
fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    for (position, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && position + 1 != text.len() {
                    return false;
                }
            }
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0 && text.starts_with('(')
}

/// The string values of `key = "…"` in a cfg expression.
fn quoted_after(text: &str, key: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut rest = text;
    while let Some(found) = rest.find(key) {
        let after = rest[found + key.len()..].trim_start();
        rest = &rest[found + key.len()..];
        let Some(after) = after.strip_prefix('=') else {
            continue;
        };
        let after = after.trim_start();
        if let Some(quoted) = after.strip_prefix('"')
            && let Some(end) = quoted.find('"')
        {
            values.push(quoted[..end].to_owned());
        }
    }
    values
}

/// The flags a cfg expression requires absent: each `not(NAME)` with a bare name.
fn negated_flags(text: &str) -> Vec<String> {
    let mut flags = Vec::new();
    let mut rest = text;
    while let Some(found) = rest.find("not(") {
        rest = &rest[found + "not(".len()..];
        let Some(end) = rest.find(')') else {
            break;
        };
        let name = rest[..end].trim();
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            flags.push(name.to_owned());
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_features_a_compile_error_refuses_without_a_cfg() {
        let text = "//! crate\n#[cfg(all(\n    not(tokio_unstable),\n    feature = \"taskdump\"\n))]\ncompile_error!(\"needs --cfg tokio_unstable\");\n\n#[cfg(not(feature = \"std\"))]\ncompile_error!(\"std only\");\nfn f() { compile_error!(\"x\") }\n";
        assert_eq!(
            compile_error_guards(text),
            [("taskdump".to_owned(), "tokio_unstable".to_owned(), 6)]
        );
    }
}
