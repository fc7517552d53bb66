//! Requirements grouped by where they are declared: a member's own entry, or one root
//! `[workspace.dependencies]` entry shared by every member that inherits it.
//!
//! The places come from the workspace model (`graywork_workspace::Declarations`, read from
//! the manifests with their lines); this module only turns "each member's dependencies and
//! where each is declared" into "each declaration and who uses it", because an edit goes to
//! the declaration and moves all of its users at once.

use std::collections::HashMap;

use graywork_workspace::{DepKind, Location, Workspace};
use serde::Serialize;

/// One place a requirement is written, and every member it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declaration {
    /// The package's name in its registry (`package = …` when renamed, else the key).
    pub package: String,
    /// The name the declaring manifest uses for it (its key).
    pub key: String,
    /// The requirement as written, for example `1.0` or `^0.4.20` (`*` when there is none).
    pub requirement: String,
    /// The file (relative to the workspace root) and the line of the entry's key.
    #[serde(serialize_with = "serialize_location")]
    pub location: Location,
    /// The TOML path of the entry, for example `workspace.dependencies.serde` or
    /// `target.'cfg(unix)'.dev-dependencies.libc`.
    pub toml_path: String,
    /// The same path as keys from the document's root, for edits.
    #[serde(skip)]
    pub keys: Vec<String>,
    /// Whether the root `[workspace.dependencies]` declares it (else a member's manifest).
    pub shared: bool,
    /// The members that use this declaration, in member order.
    pub users: Vec<Use>,
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

/// Every declaration of a dependency that is not a path dependency, with its users: members'
/// own entries in member order, each shared entry once (where its first user lists it).
///
/// Lines are 0 when the workspace was not read from disk (see
/// `graywork_workspace::Declarations::from_disk`); `outdated` refuses such a workspace.
pub fn declarations(workspace: &Workspace) -> Vec<Declaration> {
    let mut declarations: Vec<Declaration> = Vec::new();
    let mut by_site: HashMap<(String, Vec<String>), usize> = HashMap::new();
    for (member, declared) in workspace
        .members
        .iter()
        .zip(&workspace.declarations.members)
    {
        for (dependency, declared) in member.dependencies.iter().zip(&declared.dependencies) {
            if dependency.path.is_some() {
                // The workspace's own crates, or code vendored beside it.
                continue;
            }
            let usage = Use {
                member: member.name.clone(),
                kind: dependency.kind,
                target: dependency.target.clone(),
            };
            let site = &declared.site;
            let key = (site.file.clone(), site.keys.clone());
            if let Some(&position) = by_site.get(&key) {
                declarations[position].users.push(usage);
                continue;
            }
            by_site.insert(key, declarations.len());
            declarations.push(Declaration {
                package: dependency.name.clone(),
                key: site
                    .keys
                    .last()
                    .cloned()
                    .unwrap_or_else(|| dependency.local_name().to_owned()),
                requirement: declared.value.clone(),
                location: Location::new(site.file.clone(), site.line.unwrap_or(0)),
                toml_path: site.toml_path(),
                keys: site.keys.clone(),
                shared: declared.inherited,
                users: vec![usage],
            });
        }
    }
    declarations
}
