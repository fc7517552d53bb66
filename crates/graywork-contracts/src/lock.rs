//! The contract lock file: the contract surface as recorded at the last accepted change.
//!
//! It is TOML, written by `check-contracts --bless`: a short header (`format`, `crate`), the
//! `VERSION` of every contract module, then one table per public item with one key per fact,
//! all sorted, so a change to the surface is a small, reviewable diff. Locations are not
//! stored (moving code must not change the lock); when a finding points into the baseline,
//! it points at the item's table in the lock file.

use std::collections::HashMap;

use anyhow::{Context, anyhow, bail};

use super::surface::{Loc, Surface};

/// The lock file format written by this version.
pub const FORMAT: i64 = 1;

/// Renders the lock file for `crate_name`'s contract surface.
pub fn render(crate_name: &str, surface: &Surface) -> anyhow::Result<String> {
    let body = toml::to_string(surface).context("cannot serialise the contract surface")?;
    Ok(format!(
        "# The public surface of contract crate `{crate_name}` and each contract module's VERSION.\n\
         # Written by `cargo xtask check-contracts --bless`; `cargo xtask check-contracts` compares\n\
         # the sources with it. Review changes to this file like changes to the contracts.\n\
         format = {FORMAT}\n\
         crate = {}\n\n{body}",
        toml::Value::String(crate_name.to_string())
    ))
}

/// Parses a lock file; `display_path` names it in errors and in baseline locations.
pub fn parse(text: &str, display_path: &str) -> anyhow::Result<(String, Surface)> {
    let mut table: toml::Table = text
        .parse()
        .map_err(|err: toml::de::Error| anyhow!("{display_path}: invalid lock file: {err}"))?;
    match table.remove("format") {
        Some(toml::Value::Integer(FORMAT)) => {}
        Some(other) => {
            bail!("{display_path}: unsupported lock file format {other} (expected {FORMAT})")
        }
        None => bail!("{display_path}: lock file has no `format` key"),
    }
    let crate_name = match table.remove("crate") {
        Some(toml::Value::String(name)) => name,
        _ => bail!("{display_path}: lock file has no `crate` string"),
    };
    let mut surface: Surface = toml::Value::Table(table)
        .try_into()
        .map_err(|err: toml::de::Error| anyhow!("{display_path}: invalid lock file: {err}"))?;
    locate(&mut surface, text, display_path);
    Ok((crate_name, surface))
}

/// Points every item and member of a lock-file surface at its table header in the lock file.
fn locate(surface: &mut Surface, text: &str, file: &str) {
    let headers: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.starts_with('['))
        .map(|(index, line)| (index + 1, line))
        .collect();
    let mut cache: HashMap<String, usize> = HashMap::new();
    let mut find = |prefix: String| -> Loc {
        let line = *cache.entry(prefix.clone()).or_insert_with(|| {
            headers
                .iter()
                .find(|(_, header)| header.starts_with(&prefix))
                .map_or(1, |(line, _)| *line)
        });
        Loc {
            file: file.to_string(),
            line,
        }
    };
    // TOML writes a key bare when it can, else quoted.
    let key = |name: &str| {
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            name.to_string()
        } else {
            toml::Value::String(name.to_string()).to_string()
        }
    };
    for (path, def) in &mut surface.traits {
        let base = format!("[traits.{}", key(path));
        def.loc = find(base.clone());
        for (name, method) in &mut def.methods {
            method.loc = find(format!("{base}.methods.{}]", key(name)));
        }
        for (name, assoc) in &mut def.types {
            assoc.loc = find(format!("{base}.types.{}]", key(name)));
        }
        for (name, assoc) in &mut def.consts {
            assoc.loc = find(format!("{base}.consts.{}]", key(name)));
        }
    }
    for (path, def) in &mut surface.structs {
        let base = format!("[structs.{}", key(path));
        def.loc = find(base.clone());
        for (name, field) in &mut def.fields {
            field.loc = find(format!("{base}.fields.{}]", key(name)));
        }
    }
    for (path, def) in &mut surface.enums {
        let base = format!("[enums.{}", key(path));
        def.loc = find(base.clone());
        for (name, variant) in &mut def.variants {
            variant.loc = find(format!("{base}.variants.{}]", key(name)));
            for field in variant.fields.values_mut() {
                field.loc = variant.loc.clone();
            }
        }
    }
    for (path, def) in &mut surface.functions {
        def.loc = find(format!("[functions.{}]", key(path)));
    }
    for (path, def) in &mut surface.consts {
        def.loc = find(format!("[consts.{}]", key(path)));
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::surface::{MemoryTree, extract};

    fn sample() -> Surface {
        let tree = MemoryTree {
            files: [(
                PathBuf::from("src/lib.rs"),
                r#"
                pub mod billing { pub mod v1 {
                    pub const VERSION: &str = "1.2.0";
                    pub trait Service: Send { type Out: Clone; const MAX: u32 = 3;
                        fn charge(&self, amount: u64) -> Result<u64, String>;
                        fn note(&mut self) {} }
                    #[non_exhaustive] pub struct Invoice { pub id: u64, pub lines: Vec<(String, u64)> }
                    pub struct Pair(pub u8, pub u8);
                    pub enum Kind { A, B(u8), C { x: i32 } }
                    pub fn total<T: Into<u64>>(items: &[T]) -> u64 { 0 }
                    pub trait Marker {}
                    pub struct Empty {}
                } }"#
                    .to_string(),
            )]
            .into_iter()
            .collect(),
        };
        extract(&tree, Path::new("src/lib.rs")).unwrap()
    }

    #[test]
    fn lock_round_trips_and_is_deterministic() {
        let surface = sample();
        let text = render("shared", &surface).unwrap();
        assert_eq!(text, render("shared", &sample()).unwrap());
        let (name, parsed) = parse(&text, "contracts.lock").unwrap();
        assert_eq!(name, "shared");
        assert!(crate::diff::diff(&parsed, &surface).is_empty());
        assert!(crate::diff::diff(&surface, &parsed).is_empty());
        assert_eq!(parsed.versions, surface.versions);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn lock_locations_point_at_tables() {
        let text = render("shared", &sample()).unwrap();
        let (_, parsed) = parse(&text, "contracts.lock").unwrap();
        let method = &parsed.traits["billing::v1::Service"].methods["charge"];
        let line = text.lines().nth(method.loc.line - 1).unwrap();
        assert!(line.contains("methods.charge"), "{line}");
        let field = &parsed.structs["billing::v1::Pair"].fields["1"];
        let line = text.lines().nth(field.loc.line - 1).unwrap();
        assert!(line.contains("fields.1]"), "{line}");
    }

    #[test]
    fn lock_errors_name_the_file() {
        let err = parse("format = 9\ncrate = \"x\"\n", "a.lock")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a.lock: unsupported lock file format 9"),
            "{err}"
        );
        let err = parse("crate = \"x\"\n", "a.lock").unwrap_err().to_string();
        assert!(err.contains("no `format`"), "{err}");
        let err = parse("format = 1\n", "a.lock").unwrap_err().to_string();
        assert!(err.contains("no `crate`"), "{err}");
        let err = parse(
            "format = 1\ncrate = \"x\"\n[traits.\"A\"]\nbogus = 1\n",
            "a.lock",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("a.lock: invalid lock file"), "{err}");
        let err = parse("format = [", "a.lock").unwrap_err().to_string();
        assert!(err.starts_with("a.lock: invalid lock file"), "{err}");
    }
}
