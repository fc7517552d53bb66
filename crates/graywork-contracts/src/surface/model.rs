//! The surface model: what a crate's public API is made of, as plain data.
//!
//! Every type is a normalised token string, so two surfaces compare with `==`. Locations are
//! kept for messages only; they are not part of what is compared.

use std::collections::{BTreeMap, BTreeSet};

pub use graywork_workspace::Location;

/// The public surface of a crate (or of its contract modules), keyed by item path.
///
/// Paths are written from the crate root without the crate name (`billing::v1::Invoice`).
/// The lock file records it through its own types ([`crate::lock`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Surface {
    /// Module path -> the value of its `pub const VERSION: &str`.
    pub versions: BTreeMap<String, String>,
    /// Public traits.
    pub traits: BTreeMap<String, TraitDef>,
    /// Public structs.
    pub structs: BTreeMap<String, StructDef>,
    /// Public enums.
    pub enums: BTreeMap<String, EnumDef>,
    /// Public free functions.
    pub functions: BTreeMap<String, FnSig>,
    /// Public module-level consts and statics.
    pub consts: BTreeMap<String, ConstDef>,
    /// Paths of `#[doc(hidden)]` items and members (`Trait::method`, `Struct::field`) that would
    /// otherwise be surface. Only known for source trees; the lock file does not record them.
    pub hidden: BTreeSet<String>,
}

/// A public trait.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraitDef {
    /// Where it is declared.
    pub loc: Location,
    /// Its `#[cfg]` (and its modules'), if any.
    pub cfg: Option<String>,
    /// `unsafe trait`.
    pub is_unsafe: bool,
    /// Has a supertrait that cannot be named outside the crate, so only the crate implements it.
    pub sealed: bool,
    /// Generic parameters and where-clause, normalised.
    pub generics: String,
    /// Nameable supertraits as written.
    pub supertraits: BTreeSet<String>,
    /// Methods by name.
    pub methods: BTreeMap<String, FnSig>,
    /// Associated types by name.
    pub types: BTreeMap<String, AssocType>,
    /// Associated consts by name.
    pub consts: BTreeMap<String, AssocConst>,
}

/// A function or trait method signature. Parameter names are not surface; default bodies
/// count only as "has a default".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FnSig {
    /// Where it is declared.
    pub loc: Location,
    /// Its `#[cfg]`, if any.
    pub cfg: Option<String>,
    /// `unsafe fn`.
    pub is_unsafe: bool,
    /// `async fn`.
    pub is_async: bool,
    /// `const fn`.
    pub is_const: bool,
    /// Generic parameters and where-clause, normalised.
    pub generics: String,
    /// The receiver (`&self`, `&mut self`, `self`, `self: Box<Self>`), if a method.
    pub receiver: Option<String>,
    /// Parameter types, in order, without names.
    pub params: Vec<String>,
    /// The return type; empty for `()`.
    pub output: String,
    /// A trait method with a default body.
    pub default: bool,
}

/// A trait's associated type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssocType {
    /// Where it is declared.
    pub loc: Location,
    /// Generic parameters, bounds and where-clause, normalised.
    pub bounds: String,
    /// Has a default.
    pub default: bool,
}

/// A trait's associated const.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssocConst {
    /// Where it is declared.
    pub loc: Location,
    /// Its type.
    pub ty: String,
    /// Has a default value.
    pub default: bool,
}

/// The shape of a struct or enum variant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Shape {
    /// `{ a: T }`.
    #[default]
    Named,
    /// `(T)`.
    Tuple,
    /// No fields.
    Unit,
}

impl Shape {
    /// The word used in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Shape::Named => "struct-like",
            Shape::Tuple => "tuple",
            Shape::Unit => "unit",
        }
    }
}

/// A public field (of a struct or an enum variant).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldDef {
    /// Where it is declared.
    pub loc: Location,
    /// Its type.
    pub ty: String,
}

/// A public struct.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StructDef {
    /// Where it is declared.
    pub loc: Location,
    /// Its `#[cfg]` (and its modules'), if any.
    pub cfg: Option<String>,
    /// `#[non_exhaustive]`.
    pub non_exhaustive: bool,
    /// Named, tuple or unit.
    pub shape: Shape,
    /// Generic parameters and where-clause, normalised.
    pub generics: String,
    /// Has fields that are not public (or are doc-hidden), so it cannot be built outside.
    pub private_fields: bool,
    /// Public fields by name (`0`, `1`, … for tuple structs).
    pub fields: BTreeMap<String, FieldDef>,
}

/// A public enum.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnumDef {
    /// Where it is declared.
    pub loc: Location,
    /// Its `#[cfg]` (and its modules'), if any.
    pub cfg: Option<String>,
    /// `#[non_exhaustive]`.
    pub non_exhaustive: bool,
    /// Generic parameters and where-clause, normalised.
    pub generics: String,
    /// Variants by name.
    pub variants: BTreeMap<String, VariantDef>,
}

/// An enum variant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VariantDef {
    /// Where it is declared.
    pub loc: Location,
    /// `#[non_exhaustive]` on the variant.
    pub non_exhaustive: bool,
    /// Named, tuple or unit.
    pub shape: Shape,
    /// Fields by name (`0`, `1`, … for tuple variants).
    pub fields: BTreeMap<String, FieldDef>,
}

/// A public module-level const or static.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConstDef {
    /// Where it is declared.
    pub loc: Location,
    /// Its `#[cfg]` (and its modules'), if any.
    pub cfg: Option<String>,
    /// Its type.
    pub ty: String,
}
