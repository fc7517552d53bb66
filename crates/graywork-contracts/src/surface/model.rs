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
    /// Public unions.
    pub unions: BTreeMap<String, StructDef>,
    /// Exported macros: `#[macro_export] macro_rules!` (at the crate root) and proc macros.
    pub macros: BTreeMap<String, MacroDef>,
    /// Public modules, by path.
    pub modules: BTreeMap<String, ModuleDef>,
    /// The crate's Cargo features, when its `Cargo.toml` was read (never from the lock file).
    pub features: BTreeMap<String, FeatureDef>,
    /// `macro_rules!` macros defined without `#[macro_export]` (never from the lock file).
    pub unexported_macros: BTreeSet<String>,
    /// Names that item-position macro invocations appear to declare (`struct NAME`,
    /// `fn NAME`, `macro_rules! NAME`, ...): items the checker cannot see, so their absence
    /// is not reported as a removal (never from the lock file).
    pub macro_generated: BTreeSet<String>,
    /// Every identifier in item-position macro invocations: a macro may implement a trait for
    /// a type it names (`fmt_impl!(Debug, Bytes)`), which the checker cannot see (never from
    /// the lock file).
    pub macro_mentions: BTreeSet<String>,
    /// Public paths re-exported from other crates (`pub use other::Name` as `Name`,
    /// `pub use other::*` as `*` in its module): what they name is not known here, so an item
    /// missing at such a path is not reported as removed (never from the lock file).
    pub external_reexports: BTreeSet<String>,
    /// What each of `external_reexports` names: the other crate's path, from the name the code
    /// knows it by (`rand4::Rng`); `*` paths map to the glob's module (never from the lock
    /// file).
    pub external_targets: BTreeMap<String, Vec<String>>,
    /// What the reader could not read, so the comparison cannot see what it holds (never from
    /// the lock file).
    pub unread: Vec<Unread>,
    /// Paths of `#[doc(hidden)]` items and members (`Trait::method`, `Struct::field`) that would
    /// otherwise be surface. Only known for source trees; the lock file does not record them.
    pub hidden: BTreeSet<String>,
}

/// A part of a crate the reader could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    /// Where it is written.
    pub loc: Location,
    /// What kind of part it is.
    pub kind: UnreadKind,
    /// What it is, in words (the macro and the names it may declare, the glob, the error).
    pub detail: String,
}

/// The kinds of part the reader cannot read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnreadKind {
    /// An item-position macro invocation that was not expanded and may declare items.
    Macro,
    /// A `pub use other::*` of another crate: the names it brings cannot be listed.
    ExternalGlob,
    /// A module file that could not be parsed.
    Unparsed,
}

impl UnreadKind {
    /// The kind as the report spells it.
    pub fn name(self) -> &'static str {
        match self {
            UnreadKind::Macro => "macro",
            UnreadKind::ExternalGlob => "external glob",
            UnreadKind::Unparsed => "unparsed file",
        }
    }
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
    /// `#[deprecated]`.
    pub deprecated: bool,
    /// `#[must_use]`.
    pub must_use: bool,
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
    /// The ABI of an `extern` function (`C`, `C-unwind`, `system`); `None` for Rust's own.
    pub abi: Option<String>,
    /// The symbol it is exported under (`#[no_mangle]` or `#[export_name]`).
    pub export_name: Option<String>,
    /// `#[target_feature(enable = "...")]` features it requires.
    pub target_features: BTreeSet<String>,
    /// `#[deprecated]`.
    pub deprecated: bool,
    /// `#[must_use]`.
    pub must_use: bool,
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
    /// `#[deprecated]`.
    pub deprecated: bool,
}

/// What structs, enums and unions share: layout, derives, trait impls and inherent items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeFacts {
    /// `#[repr(...)]` hints, normalised (`C`, `transparent`, `u8`, `packed(2)`, `align(8)`).
    pub repr: BTreeSet<String>,
    /// Standard traits it derives (`Clone`, `Debug`, ...).
    pub derives: BTreeSet<String>,
    /// Standard traits it implements by hand (`impl Clone for T`).
    pub std_impls: BTreeSet<String>,
    /// `#[deprecated]`.
    pub deprecated: bool,
    /// `#[must_use]`.
    pub must_use: bool,
    /// Public inherent methods and associated functions by name.
    pub methods: BTreeMap<String, FnSig>,
    /// Public inherent associated consts by name.
    pub consts: BTreeMap<String, ConstDef>,
    /// Field names (structs, unions) or variant names (enums) in declaration order, public or
    /// not, where order is observable (a derived `PartialOrd`, or a `repr`).
    pub order: Vec<String>,
}

impl TypeFacts {
    /// Whether it implements a standard trait, derived or by hand.
    pub fn implements(&self, name: &str) -> bool {
        self.derives.contains(name) || self.std_impls.contains(name)
    }
}

/// A public struct (or union).
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
    /// Layout, derives, impls and inherent items.
    pub facts: TypeFacts,
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
    /// Layout, derives, impls and inherent items.
    pub facts: TypeFacts,
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
    /// Its discriminant (explicit, or counted from the previous one), when it can be read.
    pub discriminant: Option<String>,
    /// `#[deprecated]`.
    pub deprecated: bool,
    /// `#[doc(hidden)]`: still matchable and constructible, but not documented API.
    pub hidden: bool,
    /// The names of its `#[doc(hidden)]` fields (still part of every pattern and literal).
    pub hidden_fields: BTreeSet<String>,
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
    /// `None` for a `const`; `static`, `static mut` or `unsafe static` (in an `extern` block).
    pub static_kind: Option<String>,
    /// `#[deprecated]`.
    pub deprecated: bool,
}

/// What kind of macro.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum MacroKind {
    /// `#[macro_export] macro_rules!`.
    #[default]
    Declarative,
    /// `#[proc_macro]`.
    FunctionLike,
    /// `#[proc_macro_attribute]`.
    Attribute,
    /// `#[proc_macro_derive]`.
    Derive,
}

impl MacroKind {
    /// The word used in messages and in the lock file.
    pub fn describe(self) -> &'static str {
        match self {
            MacroKind::Declarative => "macro_rules",
            MacroKind::FunctionLike => "proc_macro",
            MacroKind::Attribute => "proc_macro_attribute",
            MacroKind::Derive => "proc_macro_derive",
        }
    }
}

/// An exported macro.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MacroDef {
    /// Where it is declared.
    pub loc: Location,
    /// Its `#[cfg]` (and its modules'), if any.
    pub cfg: Option<String>,
    /// Which kind.
    pub kind: MacroKind,
    /// A derive macro's helper attributes.
    pub helpers: BTreeSet<String>,
    /// `#[deprecated]`.
    pub deprecated: bool,
}

/// A public module.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModuleDef {
    /// Where it is declared.
    pub loc: Location,
    /// Its `#[cfg]` (and its parents'), if any.
    pub cfg: Option<String>,
}

/// A Cargo feature, read from `Cargo.toml` (an optional dependency's implicit feature too).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureDef {
    /// Where it is declared.
    pub loc: Location,
    /// The entries it enables, as written (`other`, `dep:x`, `x/f`).
    pub enables: BTreeSet<String>,
    /// Whether the default features turn it on.
    pub default: bool,
}
