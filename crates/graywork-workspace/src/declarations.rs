//! Where each member's settings are declared, as data: the sites (file, line, TOML path) of
//! versions, editions, `rust-version`s and dependency requirements, the root's `[patch]`
//! entries and the toolchain pin. `manifests.rs` and `pin.rs` read them from disk.

use std::collections::BTreeMap;
use std::fmt;

use cargo_metadata::camino::{Utf8Path, Utf8PathBuf};

/// A place in a manifest: the file (relative to the workspace root, `/` separators), the line
/// when known, and the TOML path of the key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Site {
    /// The file, relative to the workspace root.
    pub file: String,
    /// The 1-based line of the key; `None` when the file was not read (saved metadata of a
    /// tree that is not on disk).
    pub line: Option<usize>,
    /// The keys from the document's root to the value, for example
    /// `["workspace", "dependencies", "serde"]`.
    pub keys: Vec<String>,
}

impl Site {
    /// The TOML path as a dotted string, quoting keys that are not bare
    /// (`target.'cfg(unix)'.dependencies.libc`).
    pub fn toml_path(&self) -> String {
        let parts: Vec<String> = self
            .keys
            .iter()
            .map(|key| {
                let bare = !key.is_empty()
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if bare {
                    key.clone()
                } else {
                    format!("'{key}'")
                }
            })
            .collect();
        parts.join(".")
    }
}

/// A setting and where it is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// Where the value is written.
    pub site: Site,
    /// The value as written (a version, an edition, a requirement such as `1.0` or `*`).
    pub value: String,
    /// Whether the member inherits it from the root (`x.workspace = true`).
    pub inherited: bool,
    /// For an inherited setting or dependency, where the member writes `x.workspace = true`
    /// (or `x = { workspace = true }`).
    pub via: Option<Site>,
    /// The comments beside the value, as written (`# MSRV:1`): the one after it on its line,
    /// then the comment line right above it; empty when the file was not read.
    pub comments: Vec<String>,
}

/// Where one member's settings are declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDeclarations {
    /// `package.version` (cargo's default `0.0.0` when absent).
    pub version: Declared,
    /// `package.edition` (cargo's default `2015` when absent).
    pub edition: Declared,
    /// `package.rust-version`, when declared.
    pub rust_version: Option<Declared>,
    /// Each dependency's requirement, parallel to
    /// [`Member::dependencies`](crate::Member::dependencies).
    pub dependencies: Vec<Declared>,
    /// The line of the manifest's `[package]` header (1 when it has none); `None` when the
    /// file was not read.
    pub package_line: Option<usize>,
    /// The `[package]` keys the member inherits from `[workspace.package]`
    /// (`x.workspace = true`), in manifest order.
    pub inherited_package_keys: Vec<String>,
    /// Whether the manifest itself writes `publish = false` (or `publish = []`).
    pub unpublished: bool,
    /// `package.metadata.msrv`, when the manifest writes it as a string.
    pub metadata_msrv: Option<String>,
}

/// One entry of the root manifest's `[patch.REGISTRY]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchEntry {
    /// The registry or source it patches (`crates-io`, or a URL).
    pub registry: String,
    /// The patched package's name.
    pub name: String,
    /// The directory it redirects to, for a path patch.
    pub path: Option<Utf8PathBuf>,
    /// Where the entry is written.
    pub site: Site,
}

/// Where every member's settings are declared, the root's patches and the toolchain pin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declarations {
    /// Per member, parallel to [`crate::Workspace::members`].
    pub members: Vec<MemberDeclarations>,
    /// The root manifest's `[patch]` entries.
    pub patches: Vec<PatchEntry>,
    /// `toolchain.channel` in `rust-toolchain.toml` (or in a legacy `rust-toolchain` file),
    /// when the workspace pins one: [`ToolchainPin::Pinned`] of
    /// [`Declarations::toolchain_pin`].
    pub toolchain: Option<Declared>,
    /// Why `rust-toolchain.toml` could not be read, when it could not: loading goes on (the
    /// graph and the contract checks do not need it), and a toolchain plan reports it
    /// ([`ToolchainPin::Unreadable`] of [`Declarations::toolchain_pin`], as text).
    pub toolchain_error: Option<String>,
    /// The toolchain pin as rustup reads it: the channel and where it is written, why there is
    /// none, or why the file cannot be read.
    pub toolchain_pin: ToolchainPin,
    /// The root's `[workspace.dependencies]`: each key, its requirement as written, and its
    /// line.
    pub workspace_dependencies: BTreeMap<String, (String, usize)>,
    /// The root's `[workspace.package]` `version`, `edition` and `rust-version`, where
    /// declared, whether or not a member inherits them.
    pub workspace_package: BTreeMap<String, Declared>,
    /// The root manifest's `resolver`, where written: `[workspace] resolver`, else
    /// `[package] resolver` (cargo reads the second only when the first is absent).
    pub resolver: Option<Declared>,
    /// Whether the manifests were read from disk (otherwise everything is taken from the
    /// metadata, as declared in each member's own manifest, without lines).
    pub from_disk: bool,
}

impl Declarations {
    /// The patch entry that redirects registry dependency `name` to the directory `dir`.
    pub fn patch_to(&self, name: &str, dir: &Utf8Path) -> Option<&PatchEntry> {
        self.patches
            .iter()
            .find(|patch| patch.name == name && patch.path.as_deref() == Some(dir))
    }
}

/// The toolchain a directory pins, why it pins none, or why its pin cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolchainPin {
    /// The channel, as written (`1.95.0`, `nightly-2026-01-01`), and where.
    Pinned(Declared),
    /// No toolchain is pinned.
    Unpinned(Unpinned),
    /// The pin file cannot be read or is not a toolchain file.
    Unreadable(PinError),
}

impl Default for ToolchainPin {
    fn default() -> ToolchainPin {
        ToolchainPin::Unpinned(Unpinned::NoFile)
    }
}

/// Why a directory pins no toolchain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unpinned {
    /// Neither `rust-toolchain.toml` nor `rust-toolchain` exists.
    NoFile,
    /// The file holds nothing.
    Empty {
        /// The file's name.
        file: String,
    },
    /// The file is TOML without a `[toolchain] channel`.
    NoChannel {
        /// The file's name.
        file: String,
    },
}

impl fmt::Display for Unpinned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unpinned::NoFile => f.write_str("no rust-toolchain.toml"),
            Unpinned::Empty { file } => write!(f, "{file} is empty"),
            Unpinned::NoChannel { file } => write!(f, "{file} has no [toolchain] channel"),
        }
    }
}

/// A pin file that cannot be read, or that is not a toolchain file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// The file cannot be read.
    #[error("cannot read {file}: {message}")]
    Read {
        /// The file's name.
        file: String,
        /// Why.
        message: String,
    },
    /// The file is not valid TOML, or `channel` is not a string.
    #[error("malformed {file}{}: {message}", line.map_or(String::new(), |line| format!(" at line {line}")))]
    Malformed {
        /// The file's name.
        file: String,
        /// The 1-based line of the error, when the parser gives one.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

/// Members grouped by the site their setting is declared at, for settings declared once and
/// shared: the site, and the members (indices) that use it.
pub fn shared_sites<'a>(
    declared: impl IntoIterator<Item = (usize, &'a Declared)>,
) -> BTreeMap<Site, Vec<usize>> {
    let mut sites: BTreeMap<Site, Vec<usize>> = BTreeMap::new();
    for (member, declared) in declared {
        sites.entry(declared.site.clone()).or_default().push(member);
    }
    sites
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_paths_quote_keys_that_are_not_bare() {
        let site = Site {
            file: "a/Cargo.toml".to_owned(),
            line: Some(3),
            keys: ["target", "cfg(unix)", "dependencies", "libc"]
                .map(str::to_owned)
                .to_vec(),
        };
        assert_eq!(site.toml_path(), "target.'cfg(unix)'.dependencies.libc");
    }
}
