//! Where each dependency requirement is declared: in a member's manifest or once in the root
//! `[workspace.dependencies]`, with file, line and TOML path, and which members use it.
//!
//! `cargo metadata` reports every member's effective requirement but not where it is written,
//! and an edit must go where it is written: a shared `[workspace.dependencies]` entry moves
//! every member that inherits it. [`read_declarations`] is the one function that reads this
//! from the manifests (with `toml_edit` spans), so it can later give way to the workspace
//! model's own declaration table without touching the rest of the crate.

use std::path::Path;

use graywork_workspace::{DepKind, Location, Workspace, relative_display};
use serde::Serialize;
use toml_edit::{Item, TableLike};

use crate::error::OutdatedError;

/// One place a requirement is written, and every member it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declaration {
    /// The package's name in its registry (`package = …` when renamed, else the key).
    pub package: String,
    /// The key as written (the name the code uses).
    pub key: String,
    /// The requirement as written, for example `1.0` or `^0.4.20`; `None` when the entry has
    /// no `version` (a path or git dependency without one).
    pub requirement: Option<String>,
    /// Where the dependency comes from.
    pub source: DeclaredSource,
    /// The file (relative to the workspace root) and the line of the requirement.
    #[serde(serialize_with = "serialize_location")]
    pub location: Location,
    /// The TOML path of the entry, for example `workspace.dependencies.serde` or
    /// `target.'cfg(unix)'.dev-dependencies.libc`.
    pub toml_path: String,
    /// Whether the root `[workspace.dependencies]` declares it (else a member's manifest).
    pub shared: bool,
    /// The members that use this declaration, in manifest order.
    pub users: Vec<Use>,
}

/// Where a declared dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "registry")]
pub enum DeclaredSource {
    /// A registry: `None` for crates.io, else the name given with `registry = "…"`.
    Registry(Option<String>),
    /// A `path` dependency (external or not, it is not the registry's to update).
    Path,
    /// A `git` dependency.
    Git,
}

/// One member's use of a declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Use {
    /// The member's package name.
    pub member: String,
    /// Normal, build or dev.
    #[serde(serialize_with = "serialize_kind")]
    pub kind: DepKind,
    /// The `cfg(…)` or triple of a `[target.….dependencies]` table.
    pub target: Option<String>,
    /// Where the member writes its entry (`serde.workspace = true` for an inherited one).
    #[serde(serialize_with = "serialize_location")]
    pub location: Location,
}

/// A location as `{"file": …, "line": …}`.
pub(crate) fn serialize_location<S: serde::Serializer>(
    location: &Location,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct as _;
    let mut fields = serializer.serialize_struct("Location", 2)?;
    fields.serialize_field("file", &location.file)?;
    fields.serialize_field("line", &location.line)?;
    fields.end()
}

fn serialize_kind<S: serde::Serializer>(kind: &DepKind, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(kind.as_str())
}

/// Reads every member's dependency entries and the root `[workspace.dependencies]` they
/// inherit from. Shared declarations no member uses are left out.
///
/// Errors name the manifest and line: unreadable or malformed TOML, and an inherited entry
/// the root does not declare.
pub fn read_declarations(workspace: &Workspace) -> Result<Vec<Declaration>, OutdatedError> {
    let root_manifest = workspace.root.join("Cargo.toml");
    let mut shared = match read_manifest(root_manifest.as_std_path())? {
        Some(text) => {
            let parsed = Parsed::new(&text, root_manifest.as_std_path())?;
            parsed.workspace_dependencies(&relative_display(&workspace.root, &root_manifest))
        }
        None => Vec::new(),
    };
    let mut own = Vec::new();
    for member in &workspace.members {
        let path = member.manifest_path.as_std_path();
        let text = read_manifest(path)?.ok_or_else(|| OutdatedError::Read {
            path: path.to_path_buf(),
            source: std::io::ErrorKind::NotFound.into(),
        })?;
        let file = relative_display(&workspace.root, &member.manifest_path);
        let parsed = Parsed::new(&text, path)?;
        for entry in parsed.member_entries(&file) {
            let usage = Use {
                member: member.name.clone(),
                kind: entry.kind,
                target: entry.target.clone(),
                location: entry.declaration.location.clone(),
            };
            if entry.inherits {
                let declaration = shared
                    .iter_mut()
                    .find(|declaration| declaration.key == entry.declaration.key)
                    .ok_or_else(|| OutdatedError::MissingWorkspaceDependency {
                        file: file.clone(),
                        line: entry.declaration.location.line,
                        key: entry.declaration.key.clone(),
                    })?;
                declaration.users.push(usage);
            } else {
                let mut declaration = entry.declaration;
                declaration.users.push(usage);
                own.push(declaration);
            }
        }
    }
    shared.retain(|declaration| !declaration.users.is_empty());
    shared.extend(own);
    Ok(shared)
}

fn read_manifest(path: &Path) -> Result<Option<String>, OutdatedError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(OutdatedError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// One dependency entry of a member's manifest.
struct MemberEntry {
    declaration: Declaration,
    kind: DepKind,
    target: Option<String>,
    inherits: bool,
}

/// A parsed manifest with the byte offset of each line start, to turn spans into lines.
struct Parsed {
    document: toml_edit::Document<String>,
    line_starts: Vec<usize>,
}

/// The dependency tables of a manifest, with their kinds; the underscore spellings are
/// cargo's older aliases.
const TABLES: [(&str, DepKind); 5] = [
    ("dependencies", DepKind::Normal),
    ("dev-dependencies", DepKind::Dev),
    ("dev_dependencies", DepKind::Dev),
    ("build-dependencies", DepKind::Build),
    ("build_dependencies", DepKind::Build),
];

impl Parsed {
    fn new(text: &str, path: &Path) -> Result<Parsed, OutdatedError> {
        let document =
            toml_edit::Document::parse(text.to_owned()).map_err(|error| OutdatedError::Toml {
                path: path.to_path_buf(),
                message: error.to_string().trim_end().to_owned(),
            })?;
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(offset, _)| offset + 1))
            .collect();
        Ok(Parsed {
            document,
            line_starts,
        })
    }

    /// The 1-based line of a byte offset.
    fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    fn workspace_dependencies(&self, file: &str) -> Vec<Declaration> {
        let Some(table) = self
            .document
            .get("workspace")
            .and_then(|workspace| workspace.get("dependencies"))
            .and_then(Item::as_table_like)
        else {
            return Vec::new();
        };
        let prefix = ["workspace", "dependencies"];
        table
            .iter()
            .filter_map(|(key, _)| self.entry(table, key, file, &prefix, true))
            .map(|(declaration, _)| declaration)
            .collect()
    }

    fn member_entries(&self, file: &str) -> Vec<MemberEntry> {
        let mut entries = Vec::new();
        let mut push_tables = |root: &dyn TableLike, target: Option<&str>| {
            for (name, kind) in TABLES {
                let Some(table) = root.get(name).and_then(Item::as_table_like) else {
                    continue;
                };
                let mut prefix: Vec<&str> = Vec::new();
                if let Some(target) = target {
                    prefix.extend(["target", target]);
                }
                prefix.push(name);
                for (key, _) in table.iter() {
                    if let Some((declaration, inherits)) =
                        self.entry(table, key, file, &prefix, false)
                    {
                        entries.push(MemberEntry {
                            declaration,
                            kind,
                            target: target.map(str::to_owned),
                            inherits,
                        });
                    }
                }
            }
        };
        push_tables(self.document.as_table(), None);
        if let Some(targets) = self.document.get("target").and_then(Item::as_table_like) {
            for (target, item) in targets.iter() {
                if let Some(table) = item.as_table_like() {
                    push_tables(table, Some(target));
                }
            }
        }
        entries
    }

    /// One entry of a dependency table: the declaration and whether it inherits from the
    /// workspace (`key.workspace = true`).
    fn entry(
        &self,
        table: &dyn TableLike,
        key: &str,
        file: &str,
        prefix: &[&str],
        shared: bool,
    ) -> Option<(Declaration, bool)> {
        let (key_repr, item) = table.get_key_value(key)?;
        let key_line = key_repr.span().map_or(0, |span| self.line(span.start));
        let string = |name: &str| {
            item.as_table_like()
                .and_then(|fields| fields.get(name))
                .and_then(Item::as_str)
        };
        let (requirement, requirement_line) = match item.as_str() {
            Some(text) => (Some(text.to_owned()), item.span()),
            None => {
                let version = item
                    .as_table_like()
                    .and_then(|fields| fields.get("version"));
                (
                    version.and_then(Item::as_str).map(str::to_owned),
                    version.and_then(Item::span),
                )
            }
        };
        let inherits = item
            .as_table_like()
            .and_then(|fields| fields.get("workspace"))
            .and_then(Item::as_bool)
            .unwrap_or(false);
        let source = if string("path").is_some() {
            DeclaredSource::Path
        } else if string("git").is_some() {
            DeclaredSource::Git
        } else {
            DeclaredSource::Registry(string("registry").map(str::to_owned))
        };
        let line = requirement_line.map_or(key_line, |span| self.line(span.start));
        let mut path: Vec<&str> = prefix.to_vec();
        path.push(key);
        Some((
            Declaration {
                package: string("package").unwrap_or(key).to_owned(),
                key: key.to_owned(),
                requirement,
                source,
                location: Location::new(file, line),
                toml_path: toml_path(&path),
                shared,
                users: Vec::new(),
            },
            inherits,
        ))
    }
}

/// A dotted TOML path, quoting the keys that are not bare (`target.'cfg(unix)'.dependencies`).
pub fn toml_path(keys: &[&str]) -> String {
    keys.iter()
        .map(|key| {
            let bare = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if bare {
                (*key).to_owned()
            } else if key.contains('\'') {
                format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
            } else {
                format!("'{key}'")
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Parsed {
        Parsed::new(text, Path::new("Cargo.toml")).unwrap()
    }

    #[test]
    fn member_entries_carry_kind_target_line_and_path() {
        let parsed = parse(
            "[package]\nname = \"a\"\n\n[dependencies]\nserde = { workspace = true }\n\
             log = \"0.4\"\nlocal = { path = \"../local\" }\n\n\
             [dependencies.rand]\npackage = \"rand-core\"\nversion = \"0.6\"\nregistry = \"inner\"\n\n\
             [target.'cfg(unix)'.dev-dependencies]\nlibc = { version = \"0.2\", git = \"https://x\" }\n",
        );
        let entries = parsed.member_entries("a/Cargo.toml");
        let summary: Vec<String> = entries
            .iter()
            .map(|entry| {
                format!(
                    "{} {} {:?} {:?} {} {} {:?} inherits={}",
                    entry.declaration.location,
                    entry.declaration.toml_path,
                    entry.declaration.requirement,
                    entry.declaration.source,
                    entry.declaration.package,
                    entry.kind,
                    entry.target,
                    entry.inherits
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                "a/Cargo.toml:5 dependencies.serde None Registry(None) serde normal None inherits=true",
                "a/Cargo.toml:6 dependencies.log Some(\"0.4\") Registry(None) log normal None inherits=false",
                "a/Cargo.toml:7 dependencies.local None Path local normal None inherits=false",
                "a/Cargo.toml:11 dependencies.rand Some(\"0.6\") Registry(Some(\"inner\")) rand-core normal None inherits=false",
                "a/Cargo.toml:15 target.'cfg(unix)'.dev-dependencies.libc Some(\"0.2\") Git libc dev Some(\"cfg(unix)\") inherits=false",
            ]
        );
    }

    #[test]
    fn workspace_dependencies_are_shared_declarations() {
        let parsed = parse(
            "[workspace]\nmembers = []\n\n[workspace.dependencies]\n# comment\nserde = \"1\"\n\
             tokio = { version = \"1.40\", features = [\"rt\"] }\n",
        );
        let declarations = parsed.workspace_dependencies("Cargo.toml");
        let summary: Vec<String> = declarations
            .iter()
            .map(|d| {
                format!(
                    "{} {} {:?} {}",
                    d.location, d.toml_path, d.requirement, d.shared
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                "Cargo.toml:6 workspace.dependencies.serde Some(\"1\") true",
                "Cargo.toml:7 workspace.dependencies.tokio Some(\"1.40\") true"
            ]
        );
    }

    #[test]
    fn malformed_toml_names_the_file_and_line() {
        let error = Parsed::new("[dependencies\n", Path::new("a/Cargo.toml"))
            .err()
            .unwrap();
        let message = error.to_string();
        assert!(
            message.starts_with("a/Cargo.toml: TOML parse error at line 1"),
            "{message}"
        );
    }

    #[test]
    fn toml_paths_quote_keys_that_are_not_bare() {
        assert_eq!(
            toml_path(&["target", "cfg(unix)", "dependencies", "libc"]),
            "target.'cfg(unix)'.dependencies.libc"
        );
        assert_eq!(toml_path(&["a", "it's"]), "a.\"it's\"");
    }
}
