//! The data the walk records and name resolution reads: each module's names and `use`
//! declarations, each item before visibility is decided, and what a name resolves to.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::super::model::{ConstDef, EnumDef, FnSig, Location, StructDef, TraitDef};

/// Who can name a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Vis {
    /// The module that binds it and its descendants.
    Private,
    /// The whole crate (`pub(crate)`, `pub(super)`, `pub(in …)`).
    Crate,
    /// Everyone.
    Public,
}

/// One module's names.
#[derive(Debug, Default)]
pub(super) struct ModuleData {
    /// Child modules: name -> (visibility as declared, doc-hidden).
    pub(super) children: BTreeMap<String, (Vis, bool)>,
    /// Items defined here: name -> full path (as segments).
    pub(super) defs: BTreeMap<String, Vec<String>>,
    /// `use` declarations, flattened.
    pub(super) uses: Vec<UseEntry>,
    /// Where the module is declared, and its cfg with its parents'.
    pub(super) decl: Option<(Location, Option<String>)>,
    /// The file the module's items are written in, when it is a file of its own (not an
    /// inline `mod x { … }`).
    pub(super) own_file: Option<String>,
    /// The files `include!("…")` brings into the module, in the order read.
    pub(super) included: Vec<String>,
}

#[derive(Debug, Clone)]
pub(super) struct UseEntry {
    /// `None` for a glob.
    pub(super) name: Option<String>,
    pub(super) target: Vec<String>,
    pub(super) vis: Vis,
    pub(super) hidden: bool,
    /// Where the `use` is written.
    pub(super) loc: Location,
}

/// An item defined in the crate, before visibility is decided.
#[derive(Debug)]
pub(super) struct RawDef {
    pub(super) module: Vec<String>,
    pub(super) vis: Vis,
    pub(super) hidden: bool,
    pub(super) kind: RawKind,
    /// Raw supertrait paths of a trait, resolved after the walk to decide sealed-ness.
    pub(super) supertraits: Vec<(Vec<String>, String)>,
    /// The string value of a `&str` const (for `VERSION`).
    pub(super) str_value: Option<String>,
}

#[derive(Debug)]
pub(super) enum RawKind {
    Trait(TraitDef),
    Struct(StructDef),
    Enum(EnumDef),
    Function(FnSig),
    Const(ConstDef),
    Union(StructDef),
    /// `type Name = Target;`, with the target as text: not recorded in the surface, but what
    /// it names counts as named wherever the alias is used.
    TypeAlias(String, Location),
}

/// What a name resolves to. Paths are shared, not copied: one name reaches many modules
/// through glob chains, and each binding of it holds the same path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Target {
    Def(Arc<[String]>),
    Module(Arc<[String]>),
    /// Another crate's item, by its path from that crate's name (`bytes::Bytes`).
    External(Arc<[String]>),
}
