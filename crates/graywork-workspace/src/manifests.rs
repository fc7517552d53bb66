//! Reading where each member's settings are declared: its version, edition, `rust-version` and
//! every dependency requirement, in its own manifest or inherited from the root's
//! `[workspace.package]` / `[workspace.dependencies]`, with file, line and TOML path; the root's
//! `[patch]` entries; and the toolchain pin (through `pin.rs`). The data is in
//! `declarations.rs`.
//!
//! `cargo metadata` reports each member's effective settings but not where they come from. The
//! planner needs the place: an inherited version is one edit of the root manifest that moves
//! every member sharing it. The manifests are read with `toml_edit`, whose spans give lines.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cargo_metadata::camino::{Utf8Path, Utf8PathBuf};
use toml_edit::{Item, TableLike};

use crate::declarations::{
    Declarations, Declared, MemberDeclarations, PatchEntry, Site, ToolchainPin,
};
use crate::model::{DepKind, Member};
use crate::paths::relative_display;
use crate::pin::read_toolchain_pin;

/// A manifest that cannot be read or does not say what cargo's metadata implies.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file cannot be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("cannot parse {file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The parser's message.
        message: String,
    },
}

impl Declarations {
    /// What the metadata alone says: every setting declared in the member's own manifest,
    /// without lines, no patches and no toolchain pin.
    pub fn from_metadata(root: &Utf8Path, members: &[Member]) -> Declarations {
        let members = members
            .iter()
            .map(|member| {
                let file = relative_display(root, &member.manifest_path);
                let own = |keys: &[&str], value: String| Declared {
                    site: Site {
                        file: file.clone(),
                        line: None,
                        keys: keys.iter().map(|key| (*key).to_owned()).collect(),
                    },
                    value,
                    inherited: false,
                    via: None,
                    comments: Vec::new(),
                };
                MemberDeclarations {
                    version: own(&["package", "version"], member.version.to_string()),
                    edition: own(&["package", "edition"], member.edition.clone()),
                    rust_version: member
                        .rust_version
                        .as_ref()
                        .map(|version| own(&["package", "rust-version"], version.to_string())),
                    dependencies: member
                        .dependencies
                        .iter()
                        .map(|dependency| {
                            let keys = dependency_keys(
                                dependency.target.as_deref(),
                                table_name(dependency.kind),
                                dependency.local_name(),
                            );
                            Declared {
                                site: Site {
                                    file: file.clone(),
                                    line: None,
                                    keys,
                                },
                                value: dependency.req.to_string(),
                                inherited: false,
                                via: None,
                                comments: Vec::new(),
                            }
                        })
                        .collect(),
                    package_line: None,
                    inherited_package_keys: Vec::new(),
                    unpublished: false,
                    metadata_msrv: None,
                }
            })
            .collect();
        Declarations {
            members,
            patches: Vec::new(),
            toolchain: None,
            toolchain_error: None,
            toolchain_pin: ToolchainPin::default(),
            workspace_dependencies: Default::default(),
            workspace_package: Default::default(),
            resolver: None,
            from_disk: false,
        }
    }

    /// Reads the root manifest, `rust-toolchain.toml` and every member's manifest.
    pub fn read(root: &Utf8Path, members: &[Member]) -> Result<Declarations, ManifestError> {
        Declarations::read_with(root, members, &mut ReadAhead::default())
    }

    /// [`Declarations::read`], taking the manifests `ahead` holds instead of reading them again.
    pub(crate) fn read_with(
        root: &Utf8Path,
        members: &[Member],
        ahead: &mut ReadAhead,
    ) -> Result<Declarations, ManifestError> {
        let mut read = |path: &Utf8Path| match ahead.take(root, path) {
            Some(manifest) => Ok(manifest),
            None => Manifest::read(root, path),
        };
        let root_manifest = read(&root.join("Cargo.toml"))?;
        let mut declarations = Declarations::from_metadata(root, members);
        declarations.from_disk = true;
        declarations.patches = root_manifest.patches(root);
        if let Some((item, _)) = root_manifest.lookup(&["workspace", "dependencies"])
            && let Some(table) = item.as_table_like()
        {
            declarations.workspace_dependencies = table
                .iter()
                .map(|(key, entry)| {
                    let line = root_manifest
                        .lookup(&["workspace", "dependencies", key])
                        .map_or(1, |(_, line)| line);
                    (key.to_owned(), (requirement_of(entry), line))
                })
                .collect();
        }
        for field in ["version", "edition", "rust-version"] {
            let keys = ["workspace", "package", field];
            if let Some((item, line)) = root_manifest.lookup(&keys)
                && let Some(value) = item.as_str()
            {
                declarations.workspace_package.insert(
                    field.to_owned(),
                    Declared {
                        site: root_manifest.site(&keys, line),
                        value: value.to_owned(),
                        inherited: true,
                        via: None,
                        comments: root_manifest.comments_at(line),
                    },
                );
            }
        }
        declarations.resolver = root_manifest.resolver();
        declarations.toolchain_pin = read_toolchain_pin(root.as_std_path());
        match &declarations.toolchain_pin {
            ToolchainPin::Pinned(channel) => declarations.toolchain = Some(channel.clone()),
            ToolchainPin::Unpinned(_) => {}
            ToolchainPin::Unreadable(error) => {
                declarations.toolchain_error = Some(error.to_string());
            }
        }
        for (member, declared) in members.iter().zip(&mut declarations.members) {
            let manifest = if member.manifest_path == root.join("Cargo.toml") {
                None
            } else {
                Some(read(&member.manifest_path)?)
            };
            let manifest = manifest.as_ref().unwrap_or(&root_manifest);
            let package = ["package"];
            for (field, slot) in [
                ("version", &mut declared.version),
                ("edition", &mut declared.edition),
            ] {
                if let Some(found) = manifest.setting(&root_manifest, &package, field) {
                    *slot = found;
                } else {
                    // Cargo's default applies; an edit adds the key where the member would.
                    slot.site.line = Some(manifest.line_of_table(&package));
                }
            }
            if let Some(found) = manifest.setting(&root_manifest, &package, "rust-version") {
                declared.rust_version = Some(found);
            }
            manifest.read_package_facts(declared);
            for (dependency, slot) in member.dependencies.iter().zip(&mut declared.dependencies) {
                // Cargo still reads the old `dev_dependencies` spelling.
                let tables = [
                    table_name(dependency.kind),
                    &table_name(dependency.kind).replace('-', "_"),
                ];
                for table in tables {
                    let keys = dependency_keys(
                        dependency.target.as_deref(),
                        table,
                        dependency.local_name(),
                    );
                    if let Some(found) = manifest.dependency(&root_manifest, &keys) {
                        *slot = found;
                        break;
                    }
                }
            }
        }
        Ok(declarations)
    }
}

/// Whether two `[target.…]` keys name the same platform the way cargo reads them: the same
/// triple, or `cfg(…)` expressions that parse to the same expression, whatever their spacing
/// (`cfg(all(unix,not(windows)))` is `cfg(all(unix, not(windows)))`, which is how
/// `cargo metadata` prints it).
pub fn same_target(a: &str, b: &str) -> bool {
    use cargo_metadata::cargo_platform::Platform;
    if a == b {
        return true;
    }
    match (a.parse::<Platform>(), b.parse::<Platform>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The features the dependency entry at `site` writes in its `features` array
/// (`x = { version = "1", features = ["std"] }`, or beside `workspace = true`), read from the
/// manifest under `root`; empty when it writes none or the manifest cannot be read.
pub fn features_written_at(root: &Utf8Path, site: &Site) -> Vec<String> {
    let Ok(manifest) = Manifest::read(root, &root.join(&site.file)) else {
        return Vec::new();
    };
    manifest
        .lookup(&site.keys)
        .and_then(|(item, _)| item.as_table_like()?.get("features")?.as_array())
        .map(|features| {
            features
                .iter()
                .filter_map(|feature| feature.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The table a dependency kind is declared in.
fn table_name(kind: DepKind) -> &'static str {
    match kind {
        DepKind::Normal => "dependencies",
        DepKind::Build => "build-dependencies",
        DepKind::Dev => "dev-dependencies",
    }
}

/// The keys of a dependency entry: `[dependencies]`, `[dev-dependencies]`, ... or under
/// `[target.'cfg(...)'.…]`, then the name the member uses.
fn dependency_keys(target: Option<&str>, table: &str, name: &str) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(target) = target {
        keys.push("target".to_owned());
        keys.push(target.to_owned());
    }
    keys.push(table.to_owned());
    keys.push(name.to_owned());
    keys
}

/// One parsed manifest and its file name relative to the workspace root.
struct Manifest {
    file: String,
    text: String,
    document: toml_edit::Document<String>,
}

/// Manifests read ahead, while `cargo metadata` runs, by canonical path. Only clean reads are
/// kept: a manifest that failed is read again, so its error is reported as usual.
#[derive(Default)]
pub(crate) struct ReadAhead {
    by_path: HashMap<PathBuf, Manifest>,
}

impl ReadAhead {
    /// Reads the root manifest and those of the guessed member `dirs` under `root`.
    pub(crate) fn read(root: &Path, dirs: &[PathBuf]) -> ReadAhead {
        let Some(utf8_root) = Utf8Path::from_path(root) else {
            return ReadAhead::default();
        };
        let by_path = std::iter::once(root)
            .chain(dirs.iter().map(PathBuf::as_path))
            .filter_map(|dir| {
                let path = Utf8Path::from_path(dir)?.join("Cargo.toml");
                let manifest = Manifest::read(utf8_root, &path).ok()?;
                Some((path.as_std_path().canonicalize().ok()?, manifest))
            })
            .collect();
        ReadAhead { by_path }
    }

    /// The manifest at `path`, if it was read ahead, named relative to `root`.
    fn take(&mut self, root: &Utf8Path, path: &Utf8Path) -> Option<Manifest> {
        if self.by_path.is_empty() {
            return None;
        }
        let mut manifest = self
            .by_path
            .remove(&path.as_std_path().canonicalize().ok()?)?;
        manifest.file = relative_display(root, path);
        Some(manifest)
    }
}

impl Manifest {
    fn read(root: &Utf8Path, path: &Utf8Path) -> Result<Manifest, ManifestError> {
        let file = relative_display(root, path);
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            file: file.clone(),
            source,
        })?;
        let document =
            toml_edit::Document::parse(text.clone()).map_err(|error| ManifestError::Parse {
                file: file.clone(),
                message: error.message().to_owned(),
            })?;
        Ok(Manifest {
            file,
            text,
            document,
        })
    }

    fn line_at(&self, offset: usize) -> usize {
        self.text.as_bytes()[..offset.min(self.text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// The item at `keys` and the line of its last key.
    fn lookup(&self, keys: &[impl AsRef<str>]) -> Option<(&Item, usize)> {
        let mut table: &dyn TableLike = self.document.as_table();
        let mut found = None;
        for (position, key) in keys.iter().enumerate() {
            let (key, item) = table.get_key_value(key.as_ref())?;
            let offset = key
                .span()
                .or_else(|| item.span())
                .map_or(0, |span| span.start);
            found = Some((item, self.line_at(offset)));
            if position + 1 < keys.len() {
                table = item.as_table_like()?;
            }
        }
        found
    }

    /// The line of a table header (or 1), where a missing key would be added.
    fn line_of_table(&self, keys: &[&str]) -> usize {
        match self.lookup(keys) {
            Some((Item::Table(table), line)) => {
                table.span().map_or(line, |span| self.line_at(span.start))
            }
            Some((_, line)) => line,
            None => 1,
        }
    }

    fn site(&self, keys: &[impl AsRef<str>], line: usize) -> Site {
        Site {
            file: self.file.clone(),
            line: Some(line),
            keys: keys.iter().map(|key| key.as_ref().to_owned()).collect(),
        }
    }

    /// The comments beside the value on 1-based `line`: the one after it on that line, then
    /// the comment line right above it.
    /// The `resolver` a root manifest writes: `[workspace]`'s, else `[package]`'s.
    fn resolver(&self) -> Option<Declared> {
        [["workspace", "resolver"], ["package", "resolver"]]
            .iter()
            .find_map(|keys| {
                let (item, line) = self.lookup(keys)?;
                Some(Declared {
                    site: self.site(keys, line),
                    value: item.as_str()?.to_owned(),
                    inherited: false,
                    via: None,
                    comments: self.comments_at(line),
                })
            })
    }

    fn comments_at(&self, line: usize) -> Vec<String> {
        comments_at(&self.text, line)
    }

    /// What `[package]` says beyond its settings: where its header is, the keys it inherits,
    /// `publish = false` and `package.metadata.msrv`.
    fn read_package_facts(&self, declared: &mut MemberDeclarations) {
        declared.package_line = Some(
            self.text
                .lines()
                .position(|line| line.trim() == "[package]")
                .map_or(1, |index| index + 1),
        );
        let Some(package) = self
            .document
            .as_table()
            .get("package")
            .and_then(Item::as_table_like)
        else {
            return;
        };
        declared.inherited_package_keys = package
            .iter()
            .filter(|(_, item)| inherits(item))
            .map(|(key, _)| key.to_owned())
            .collect();
        declared.unpublished = package.get("publish").is_some_and(|publish| {
            publish.as_bool() == Some(false) || publish.as_array().is_some_and(|a| a.is_empty())
        });
        declared.metadata_msrv = package
            .get("metadata")
            .and_then(Item::as_table_like)
            .and_then(|metadata| metadata.get("msrv"))
            .and_then(Item::as_str)
            .map(str::to_owned);
    }

    /// `package.FIELD`: a literal here, or `FIELD.workspace = true` and the root's
    /// `[workspace.package] FIELD`.
    fn setting(&self, root: &Manifest, table: &[&str], field: &str) -> Option<Declared> {
        let keys: Vec<&str> = table.iter().copied().chain([field]).collect();
        let (item, line) = self.lookup(&keys)?;
        if let Some(value) = item.as_str() {
            return Some(Declared {
                site: self.site(&keys, line),
                value: value.to_owned(),
                inherited: false,
                via: None,
                comments: self.comments_at(line),
            });
        }
        if inherits(item) {
            let root_keys = ["workspace", "package", field];
            let (root_item, root_line) = root.lookup(&root_keys)?;
            return Some(Declared {
                site: root.site(&root_keys, root_line),
                value: root_item.as_str()?.to_owned(),
                inherited: true,
                via: Some(self.site(&keys, line)),
                comments: root.comments_at(root_line),
            });
        }
        None
    }

    /// The keys of a dependency entry as this manifest spells them: a `[target.…]` key is
    /// matched the way cargo reads it ([`same_target`]), since `cargo metadata` prints its own
    /// spelling.
    fn spelled(&self, keys: &[String]) -> Option<Vec<String>> {
        if keys.first().map(String::as_str) != Some("target") || keys.len() < 2 {
            return Some(keys.to_vec());
        }
        let targets = self.document.as_table().get("target")?.as_table_like()?;
        let (spelling, _) = targets
            .iter()
            .find(|(written, _)| *written == keys[1])
            .or_else(|| {
                targets
                    .iter()
                    .find(|(written, _)| same_target(written, &keys[1]))
            })?;
        let mut spelled = keys.to_vec();
        spelled[1] = spelling.to_owned();
        Some(spelled)
    }

    /// A dependency entry: its requirement here, or the root's
    /// `[workspace.dependencies]` entry it inherits.
    fn dependency(&self, root: &Manifest, keys: &[String]) -> Option<Declared> {
        let keys = &self.spelled(keys)?;
        let (item, line) = self.lookup(keys)?;
        if inherits(item) {
            let name = keys.last()?;
            let root_keys = ["workspace", "dependencies", name.as_str()];
            let (root_item, root_line) = root.lookup(&root_keys)?;
            return Some(Declared {
                site: root.site(&root_keys, root_line),
                value: requirement_of(root_item),
                inherited: true,
                via: Some(self.site(keys, line)),
                comments: root.comments_at(root_line),
            });
        }
        Some(Declared {
            site: self.site(keys, line),
            value: requirement_of(item),
            inherited: false,
            via: None,
            comments: self.comments_at(line),
        })
    }

    fn patches(&self, root: &Utf8Path) -> Vec<PatchEntry> {
        let mut patches = Vec::new();
        let Some((Item::Table(registries), _)) = self.lookup(&["patch"]) else {
            return patches;
        };
        for (registry, entries) in registries.iter() {
            let Some(entries) = entries.as_table_like() else {
                continue;
            };
            for (name, entry) in entries.iter() {
                let keys = ["patch", registry, name];
                let line = self.lookup(&keys).map_or(1, |(_, line)| line);
                let path = entry
                    .as_table_like()
                    .and_then(|entry| entry.get("path"))
                    .and_then(Item::as_str)
                    .map(|path| normalize(&root.join(path)));
                patches.push(PatchEntry {
                    registry: registry.to_owned(),
                    name: name.to_owned(),
                    path,
                    site: self.site(&keys, line),
                });
            }
        }
        patches
    }
}

/// Whether an entry is `{ workspace = true }` (or `x.workspace = true`).
fn inherits(item: &Item) -> bool {
    item.as_table_like()
        .and_then(|table| table.get("workspace"))
        .and_then(Item::as_bool)
        .unwrap_or(false)
}

/// A dependency entry's requirement as written: the string, its `version` key, or `*`.
fn requirement_of(item: &Item) -> String {
    if let Some(text) = item.as_str() {
        return text.to_owned();
    }
    item.as_table_like()
        .and_then(|table| table.get("version"))
        .and_then(Item::as_str)
        .unwrap_or("*")
        .to_owned()
}

/// The comments beside a value on 1-based `line` of `text`: the one after it on that line
/// (`rust-version = "1.97"  # MSRV:1`), then the comment line right above it.
fn comments_at(text: &str, line: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(index) = line.checked_sub(1) else {
        return Vec::new();
    };
    let on_line = lines.get(index).and_then(|line| trailing_comment(line));
    let above = index
        .checked_sub(1)
        .and_then(|index| lines.get(index))
        .map(|line| line.trim())
        .filter(|line| line.starts_with('#'));
    [on_line, above]
        .into_iter()
        .flatten()
        .map(|comment| comment.trim().to_owned())
        .collect()
}

/// The `# …` comment at the end of a TOML line, outside any quoted string.
fn trailing_comment(line: &str) -> Option<&str> {
    let mut quote = None;
    for (index, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(open), _) if c == open => quote = None,
            (None, '#') => return Some(&line[index..]),
            _ => {}
        }
    }
    None
}

/// `a/./b/../c` as `a/c`, without touching the disk.
fn normalize(path: &Utf8Path) -> Utf8PathBuf {
    let mut out = Utf8PathBuf::new();
    for component in path.components() {
        match component {
            cargo_metadata::camino::Utf8Component::CurDir => {}
            cargo_metadata::camino::Utf8Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_features_an_entry_writes_are_read_where_it_is_written() {
        let root = tempfile::tempdir().unwrap();
        let root_path = Utf8Path::from_path(root.path()).unwrap();
        std::fs::create_dir_all(root.path().join("a")).unwrap();
        std::fs::write(
            root.path().join("a/Cargo.toml"),
            "[package]\nname = \"a\"\n\n[dependencies]\ninline = { version = \"1\", features = [\"std\", \"derive\"] }\ninherited = { workspace = true, features = [\"extra\"] }\nplain = \"1\"\n\n[dependencies.table]\nversion = \"1\"\nfeatures = [\"alloc\"]\n",
        )
        .unwrap();
        let at = |file: &str, name: &str| {
            let site = Site {
                file: file.to_owned(),
                line: Some(1),
                keys: vec!["dependencies".to_owned(), name.to_owned()],
            };
            features_written_at(root_path, &site)
        };
        assert_eq!(at("a/Cargo.toml", "inline"), ["std", "derive"]);
        assert_eq!(at("a/Cargo.toml", "inherited"), ["extra"]);
        assert_eq!(at("a/Cargo.toml", "table"), ["alloc"]);
        assert!(at("a/Cargo.toml", "plain").is_empty());
        assert!(at("a/Cargo.toml", "absent").is_empty());
        // A manifest that cannot be read asks for nothing.
        assert!(at("b/Cargo.toml", "inline").is_empty());
    }

    #[test]
    fn target_keys_match_the_way_cargo_reads_them() {
        assert!(same_target(
            "cfg(all(unix,not(target_os=\"macos\")))",
            "cfg(all(unix, not(target_os = \"macos\")))"
        ));
        assert!(same_target(
            "x86_64-unknown-linux-gnu",
            "x86_64-unknown-linux-gnu"
        ));
        assert!(!same_target("cfg(unix)", "cfg(windows)"));
        let text = "[package]\nname = \"a\"\n\n[target.'cfg(all(unix,not(windows)))'.dependencies]\nlibc = { version = \"0.2\", default-features = false }\n";
        let member = Manifest {
            file: "a/Cargo.toml".to_owned(),
            text: text.to_owned(),
            document: toml_edit::Document::parse(text.to_owned()).unwrap(),
        };
        let keys = dependency_keys(Some("cfg(all(unix, not(windows)))"), "dependencies", "libc");
        let libc = member.dependency(&member, &keys).unwrap();
        assert_eq!(
            (
                libc.site.keys[1].as_str(),
                libc.site.line,
                libc.value.as_str()
            ),
            ("cfg(all(unix,not(windows)))", Some(5), "0.2")
        );
    }

    #[test]
    fn comments_beside_a_value() {
        let text = "[package]\nrust-version = \"1.97\"  # MSRV:1\n# kept for old users\nrust-version = '1.70'\nname = \"a#b\"\n";
        assert_eq!(comments_at(text, 2), ["# MSRV:1"]);
        assert_eq!(comments_at(text, 4), ["# kept for old users"]);
        assert!(comments_at(text, 5).is_empty(), "a # inside a string");
        assert!(comments_at(text, 1).is_empty());
        assert!(comments_at(text, 0).is_empty());
    }

    #[test]
    fn paths_normalize_without_the_disk() {
        assert_eq!(
            normalize(Utf8Path::new("/w/./crates/../engine")),
            Utf8PathBuf::from("/w/engine")
        );
    }

    #[test]
    fn the_resolver_is_the_workspace_s_else_the_package_s() {
        let manifest = |text: &str| Manifest {
            file: "Cargo.toml".to_owned(),
            text: text.to_owned(),
            document: toml_edit::Document::parse(text.to_owned()).unwrap(),
        };
        let resolver = |text: &str| manifest(text).resolver().map(|declared| declared.value);
        let both = "[workspace]\nresolver = \"3\"\n\n[package]\nname = \"a\"\nresolver = \"2\"\n";
        assert_eq!(resolver(both).as_deref(), Some("3"));
        let declared = manifest(both).resolver().unwrap();
        assert_eq!(
            (declared.site.toml_path(), declared.site.line),
            ("workspace.resolver".to_owned(), Some(2))
        );
        let package = "[package]\nname = \"a\"\nresolver = \"2\"\nedition = \"2024\"\n";
        assert_eq!(resolver(package).as_deref(), Some("2"));
        assert_eq!(
            resolver("[package]\nname = \"a\"\nedition = \"2024\"\n"),
            None
        );
        assert_eq!(resolver("[workspace]\nmembers = [\"a\"]\n"), None);
    }

    #[test]
    fn lookups_give_the_line_of_the_key_and_follow_inheritance() {
        let manifest = |file: &str, text: &str| Manifest {
            file: file.to_owned(),
            text: text.to_owned(),
            document: toml_edit::Document::parse(text.to_owned()).unwrap(),
        };
        let root = manifest(
            "Cargo.toml",
            "[workspace.package]\nversion = \"1.0.0\"\n\n[workspace.dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\n",
        );
        let text = "[package]\nname = \"a\"\nversion.workspace = true\n\n[dependencies]\nserde.workspace = true\nlog = \"0.4\"\n";
        let member = manifest("a/Cargo.toml", text);
        let version = member.setting(&root, &["package"], "version").unwrap();
        assert_eq!(
            (
                version.site.toml_path(),
                version.site.line,
                version.value.as_str(),
                version.inherited
            ),
            (
                "workspace.package.version".to_owned(),
                Some(2),
                "1.0.0",
                true
            )
        );
        let keys = dependency_keys(None, "dependencies", "serde");
        let serde = member.dependency(&root, &keys).unwrap();
        assert_eq!(
            (
                serde.site.file.as_str(),
                serde.site.line,
                serde.value.as_str(),
                serde.inherited
            ),
            ("Cargo.toml", Some(5), "1", true)
        );
        let keys = dependency_keys(None, "dependencies", "log");
        let log = member.dependency(&root, &keys).unwrap();
        assert_eq!(
            (log.site.line, log.value.as_str(), log.inherited),
            (Some(7), "0.4", false)
        );
        assert!(member.setting(&root, &["package"], "edition").is_none());
    }
}
