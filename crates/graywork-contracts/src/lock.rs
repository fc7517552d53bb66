//! The contract lock file: the contract surface as recorded at the last accepted change.
//!
//! It is TOML, written by `check-contracts --bless`: a short header (`format`, `crate`), the
//! `VERSION` of every contract module, then one table per public item with one key per fact,
//! all sorted, so a change to the surface is a small, reviewable diff. Locations are not
//! stored (moving code must not change the lock); when a finding points into the baseline,
//! it points at the item's table in the lock file.
//!
//! The file has its own serialisable types (`LockedSurface` and its tables), so the
//! surface model can change shape without changing the file, and the file's format is written
//! down in one place.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::surface::{
    AssocConst, AssocType, ConstDef, EnumDef, FieldDef, FnSig, Location, MacroDef, MacroKind,
    ModuleDef, Shape, StructDef, Surface, TraitDef, TypeFacts, VariantDef,
};

/// The lock file format written by this version.
pub(crate) const FORMAT: i64 = 2;

/// Renders the lock file for `crate_name`'s contract surface.
pub fn render(crate_name: &str, surface: &Surface) -> anyhow::Result<String> {
    let body = toml::to_string(&LockedSurface::from(surface))
        .context("cannot serialise the contract surface")?;
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
            bail!(
                "{display_path}: unsupported lock file format {other} (expected {FORMAT}); \
                 re-record it with `check-contracts --bless --force`"
            )
        }
        None => bail!("{display_path}: lock file has no `format` key"),
    }
    let crate_name = match table.remove("crate") {
        Some(toml::Value::String(name)) => name,
        _ => bail!("{display_path}: lock file has no `crate` string"),
    };
    let locked: LockedSurface = toml::Value::Table(table)
        .try_into()
        .map_err(|err: toml::de::Error| anyhow!("{display_path}: invalid lock file: {err}"))?;
    let mut surface = Surface::from(locked);
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
    let mut find = |prefix: String| -> Location {
        let line = *cache.entry(prefix.clone()).or_insert_with(|| {
            headers
                .iter()
                .find(|(_, header)| header.starts_with(&prefix))
                .map_or(1, |(line, _)| *line)
        });
        Location {
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
    for (table, map) in [
        ("structs", &mut surface.structs),
        ("unions", &mut surface.unions),
    ] {
        for (path, def) in map {
            let base = format!("[{table}.{}", key(path));
            def.loc = find(base.clone());
            for (name, field) in &mut def.fields {
                field.loc = find(format!("{base}.fields.{}]", key(name)));
            }
            locate_facts(&mut def.facts, &base, &mut find, &key);
        }
    }
    for (path, def) in &mut surface.macros {
        def.loc = find(format!("[macros.{}]", key(path)));
    }
    for (path, def) in &mut surface.modules {
        def.loc = find(format!("[modules.{}]", key(path)));
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
        locate_facts(&mut def.facts, &base, &mut find, &key);
    }
    for (path, def) in &mut surface.functions {
        def.loc = find(format!("[functions.{}]", key(path)));
    }
    for (path, def) in &mut surface.consts {
        def.loc = find(format!("[consts.{}]", key(path)));
    }
}

/// Points a type's inherent methods and consts at their tables.
fn locate_facts(
    facts: &mut TypeFacts,
    base: &str,
    find: &mut impl FnMut(String) -> Location,
    key: &impl Fn(&str) -> String,
) {
    for (name, method) in &mut facts.methods {
        method.loc = find(format!("{base}.facts.methods.{}]", key(name)));
    }
    for (name, def) in &mut facts.consts {
        def.loc = find(format!("{base}.facts.consts.{}]", key(name)));
    }
}

/// The body of the lock file: a [`Surface`] without locations or doc-hidden paths.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedSurface {
    /// Module path -> the value of its `pub const VERSION: &str`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    versions: BTreeMap<String, String>,
    /// Public traits.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    traits: BTreeMap<String, LockedTrait>,
    /// Public structs.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    structs: BTreeMap<String, LockedStruct>,
    /// Public enums.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    enums: BTreeMap<String, LockedEnum>,
    /// Public free functions.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    functions: BTreeMap<String, LockedFnSig>,
    /// Public module-level consts and statics.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    consts: BTreeMap<String, LockedConst>,
    /// Public unions.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    unions: BTreeMap<String, LockedStruct>,
    /// Exported macros.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    macros: BTreeMap<String, LockedMacro>,
    /// Public modules.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    modules: BTreeMap<String, LockedModule>,
}

/// An exported macro.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedMacro {
    #[serde(skip_serializing_if = "Option::is_none")]
    cfg: Option<String>,
    /// `macro_rules`, `proc_macro`, `proc_macro_attribute` or `proc_macro_derive`.
    kind: String,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    helpers: BTreeSet<String>,
    #[serde(skip_serializing_if = "is_false")]
    deprecated: bool,
}

/// A public module.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedModule {
    #[serde(skip_serializing_if = "Option::is_none")]
    cfg: Option<String>,
}

/// A public trait.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedTrait {
    /// Its `#[cfg]` (and its modules'), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    cfg: Option<String>,
    /// `unsafe trait`.
    #[serde(rename = "unsafe", skip_serializing_if = "is_false")]
    is_unsafe: bool,
    /// Has a supertrait that cannot be named outside the crate, so only the crate implements it.
    #[serde(skip_serializing_if = "is_false")]
    sealed: bool,
    /// Generic parameters and where-clause, normalised.
    #[serde(skip_serializing_if = "String::is_empty")]
    generics: String,
    /// Nameable supertraits as written.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    supertraits: BTreeSet<String>,
    /// Methods by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    methods: BTreeMap<String, LockedFnSig>,
    /// Associated types by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    types: BTreeMap<String, LockedAssocType>,
    /// Associated consts by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    consts: BTreeMap<String, LockedAssocConst>,
    #[serde(skip_serializing_if = "is_false")]
    deprecated: bool,
    #[serde(skip_serializing_if = "is_false")]
    must_use: bool,
}

/// A function or trait method signature. Parameter names are not surface; default bodies
/// count only as "has a default".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedFnSig {
    /// Its `#[cfg]`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    cfg: Option<String>,
    /// `unsafe fn`.
    #[serde(rename = "unsafe", skip_serializing_if = "is_false")]
    is_unsafe: bool,
    /// `async fn`.
    #[serde(rename = "async", skip_serializing_if = "is_false")]
    is_async: bool,
    /// `const fn`.
    #[serde(rename = "const", skip_serializing_if = "is_false")]
    is_const: bool,
    /// Generic parameters and where-clause, normalised.
    #[serde(skip_serializing_if = "String::is_empty")]
    generics: String,
    /// The receiver (`&self`, `&mut self`, `self`, `self: Box<Self>`), if a method.
    #[serde(skip_serializing_if = "Option::is_none")]
    receiver: Option<String>,
    /// Parameter types, in order, without names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    params: Vec<String>,
    /// The return type; empty for `()`.
    #[serde(skip_serializing_if = "String::is_empty")]
    output: String,
    /// A trait method with a default body.
    #[serde(skip_serializing_if = "is_false")]
    default: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    abi: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    export_name: Option<String>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    target_features: BTreeSet<String>,
    #[serde(skip_serializing_if = "is_false")]
    deprecated: bool,
    #[serde(skip_serializing_if = "is_false")]
    must_use: bool,
}

/// A trait's associated type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedAssocType {
    /// Generic parameters, bounds and where-clause, normalised.
    #[serde(skip_serializing_if = "String::is_empty")]
    bounds: String,
    /// Has a default.
    #[serde(skip_serializing_if = "is_false")]
    default: bool,
}

/// A trait's associated const.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedAssocConst {
    /// Its type.
    #[serde(rename = "type")]
    ty: String,
    /// Has a default value.
    #[serde(skip_serializing_if = "is_false")]
    default: bool,
}

/// The shape of a struct or enum variant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum LockedShape {
    /// `{ a: T }`.
    #[default]
    Named,
    /// `(T)`.
    Tuple,
    /// No fields.
    Unit,
}

/// A public field (of a struct or an enum variant).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedField {
    /// Its type.
    #[serde(rename = "type")]
    ty: String,
    #[serde(skip_serializing_if = "is_false")]
    deprecated: bool,
}

/// Layout, derives, impls and inherent items of a struct, enum or union.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedFacts {
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    repr: BTreeSet<String>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    derives: BTreeSet<String>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    std_impls: BTreeSet<String>,
    #[serde(skip_serializing_if = "is_false")]
    deprecated: bool,
    #[serde(skip_serializing_if = "is_false")]
    must_use: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    order: Vec<String>,
    /// Inherent methods and associated functions by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    methods: BTreeMap<String, LockedFnSig>,
    /// Inherent associated consts by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    consts: BTreeMap<String, LockedConst>,
}

impl LockedFacts {
    fn is_empty(&self) -> bool {
        *self == LockedFacts::default()
    }
}

/// A public struct.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedStruct {
    /// Its `#[cfg]` (and its modules'), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    cfg: Option<String>,
    /// `#[non_exhaustive]`.
    #[serde(skip_serializing_if = "is_false")]
    non_exhaustive: bool,
    /// Named, tuple or unit.
    shape: LockedShape,
    /// Generic parameters and where-clause, normalised.
    #[serde(skip_serializing_if = "String::is_empty")]
    generics: String,
    /// Has fields that are not public (or are doc-hidden), so it cannot be built outside.
    #[serde(skip_serializing_if = "is_false")]
    private_fields: bool,
    /// Public fields by name (`0`, `1`, … for tuple structs).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    fields: BTreeMap<String, LockedField>,
    #[serde(skip_serializing_if = "LockedFacts::is_empty")]
    facts: LockedFacts,
}

/// A public enum.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedEnum {
    /// Its `#[cfg]` (and its modules'), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    cfg: Option<String>,
    /// `#[non_exhaustive]`.
    #[serde(skip_serializing_if = "is_false")]
    non_exhaustive: bool,
    /// Generic parameters and where-clause, normalised.
    #[serde(skip_serializing_if = "String::is_empty")]
    generics: String,
    /// Variants by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    variants: BTreeMap<String, LockedVariant>,
    #[serde(skip_serializing_if = "LockedFacts::is_empty")]
    facts: LockedFacts,
}

/// An enum variant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedVariant {
    /// `#[non_exhaustive]` on the variant.
    #[serde(skip_serializing_if = "is_false")]
    non_exhaustive: bool,
    /// Named, tuple or unit.
    shape: LockedShape,
    /// Fields by name (`0`, `1`, … for tuple variants).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    fields: BTreeMap<String, LockedField>,
    #[serde(skip_serializing_if = "Option::is_none")]
    discriminant: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    deprecated: bool,
}

/// A public module-level const or static.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LockedConst {
    /// Its `#[cfg]` (and its modules'), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    cfg: Option<String>,
    /// Its type.
    #[serde(rename = "type")]
    ty: String,
    /// `static`, `static mut`, ... for a static.
    #[serde(rename = "static", skip_serializing_if = "Option::is_none")]
    static_kind: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    deprecated: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Converts every value of a map.
fn map_values<A, B>(map: &BTreeMap<String, A>, each: impl Fn(&A) -> B) -> BTreeMap<String, B> {
    map.iter()
        .map(|(key, value)| (key.clone(), each(value)))
        .collect()
}

/// Converts every value of a map, taking it.
fn into_values<A, B>(map: BTreeMap<String, A>, each: impl Fn(A) -> B) -> BTreeMap<String, B> {
    map.into_iter()
        .map(|(key, value)| (key, each(value)))
        .collect()
}

impl From<&Surface> for LockedSurface {
    fn from(surface: &Surface) -> LockedSurface {
        LockedSurface {
            versions: surface.versions.clone(),
            traits: map_values(&surface.traits, |def| LockedTrait::from(def)),
            structs: map_values(&surface.structs, |def| LockedStruct::from(def)),
            enums: map_values(&surface.enums, |def| LockedEnum::from(def)),
            functions: map_values(&surface.functions, |def| LockedFnSig::from(def)),
            consts: map_values(&surface.consts, |def| LockedConst::from(def)),
            unions: map_values(&surface.unions, |def| LockedStruct::from(def)),
            macros: map_values(&surface.macros, |m| LockedMacro {
                cfg: m.cfg.clone(),
                kind: m.kind.describe().to_string(),
                helpers: m.helpers.clone(),
                deprecated: m.deprecated,
            }),
            modules: map_values(&surface.modules, |m| LockedModule { cfg: m.cfg.clone() }),
        }
    }
}

impl From<LockedSurface> for Surface {
    fn from(locked: LockedSurface) -> Surface {
        Surface {
            versions: locked.versions,
            traits: into_values(locked.traits, TraitDef::from),
            structs: into_values(locked.structs, StructDef::from),
            enums: into_values(locked.enums, EnumDef::from),
            functions: into_values(locked.functions, FnSig::from),
            consts: into_values(locked.consts, ConstDef::from),
            unions: into_values(locked.unions, StructDef::from),
            macros: into_values(locked.macros, |m| MacroDef {
                loc: Location::default(),
                cfg: m.cfg,
                kind: macro_kind(&m.kind),
                helpers: m.helpers,
                deprecated: m.deprecated,
            }),
            modules: into_values(locked.modules, |m| ModuleDef {
                loc: Location::default(),
                cfg: m.cfg,
            }),
            features: BTreeMap::new(),
            unexported_macros: BTreeSet::new(),
            macro_generated: BTreeSet::new(),
            macro_mentions: BTreeSet::new(),
            external_reexports: BTreeSet::new(),
            external_targets: BTreeMap::new(),
            unread: Vec::new(),
            hidden: BTreeSet::new(),
        }
    }
}

impl From<&TraitDef> for LockedTrait {
    fn from(def: &TraitDef) -> LockedTrait {
        LockedTrait {
            cfg: def.cfg.clone(),
            is_unsafe: def.is_unsafe,
            sealed: def.sealed,
            generics: def.generics.clone(),
            supertraits: def.supertraits.clone(),
            methods: map_values(&def.methods, |def| LockedFnSig::from(def)),
            types: map_values(&def.types, |t| LockedAssocType {
                bounds: t.bounds.clone(),
                default: t.default,
            }),
            consts: map_values(&def.consts, |c| LockedAssocConst {
                ty: c.ty.clone(),
                default: c.default,
            }),
            deprecated: def.deprecated,
            must_use: def.must_use,
        }
    }
}

impl From<LockedTrait> for TraitDef {
    fn from(locked: LockedTrait) -> TraitDef {
        TraitDef {
            loc: Location::default(),
            cfg: locked.cfg,
            is_unsafe: locked.is_unsafe,
            sealed: locked.sealed,
            generics: locked.generics,
            supertraits: locked.supertraits,
            methods: into_values(locked.methods, FnSig::from),
            types: into_values(locked.types, |t| AssocType {
                loc: Location::default(),
                bounds: t.bounds,
                default: t.default,
            }),
            consts: into_values(locked.consts, |c| AssocConst {
                loc: Location::default(),
                ty: c.ty,
                default: c.default,
            }),
            deprecated: locked.deprecated,
            must_use: locked.must_use,
        }
    }
}

impl From<&FnSig> for LockedFnSig {
    fn from(sig: &FnSig) -> LockedFnSig {
        LockedFnSig {
            cfg: sig.cfg.clone(),
            is_unsafe: sig.is_unsafe,
            is_async: sig.is_async,
            is_const: sig.is_const,
            generics: sig.generics.clone(),
            receiver: sig.receiver.clone(),
            params: sig.params.clone(),
            output: sig.output.clone(),
            default: sig.default,
            abi: sig.abi.clone(),
            export_name: sig.export_name.clone(),
            target_features: sig.target_features.clone(),
            deprecated: sig.deprecated,
            must_use: sig.must_use,
        }
    }
}

impl From<LockedFnSig> for FnSig {
    fn from(locked: LockedFnSig) -> FnSig {
        FnSig {
            loc: Location::default(),
            cfg: locked.cfg,
            is_unsafe: locked.is_unsafe,
            is_async: locked.is_async,
            is_const: locked.is_const,
            generics: locked.generics,
            receiver: locked.receiver,
            params: locked.params,
            output: locked.output,
            default: locked.default,
            abi: locked.abi,
            export_name: locked.export_name,
            target_features: locked.target_features,
            deprecated: locked.deprecated,
            must_use: locked.must_use,
        }
    }
}

impl From<Shape> for LockedShape {
    fn from(shape: Shape) -> LockedShape {
        match shape {
            Shape::Named => LockedShape::Named,
            Shape::Tuple => LockedShape::Tuple,
            Shape::Unit => LockedShape::Unit,
        }
    }
}

impl From<LockedShape> for Shape {
    fn from(shape: LockedShape) -> Shape {
        match shape {
            LockedShape::Named => Shape::Named,
            LockedShape::Tuple => Shape::Tuple,
            LockedShape::Unit => Shape::Unit,
        }
    }
}

fn locked_field(field: &FieldDef) -> LockedField {
    LockedField {
        ty: field.ty.clone(),
        deprecated: field.deprecated,
    }
}

fn field(locked: LockedField) -> FieldDef {
    FieldDef {
        loc: Location::default(),
        ty: locked.ty,
        deprecated: locked.deprecated,
    }
}

fn locked_facts(facts: &TypeFacts) -> LockedFacts {
    LockedFacts {
        repr: facts.repr.clone(),
        derives: facts.derives.clone(),
        std_impls: facts.std_impls.clone(),
        deprecated: facts.deprecated,
        must_use: facts.must_use,
        order: facts.order.clone(),
        methods: map_values(&facts.methods, |sig| LockedFnSig::from(sig)),
        consts: map_values(&facts.consts, |def| LockedConst::from(def)),
    }
}

fn type_facts(locked: LockedFacts) -> TypeFacts {
    TypeFacts {
        repr: locked.repr,
        derives: locked.derives,
        std_impls: locked.std_impls,
        deprecated: locked.deprecated,
        must_use: locked.must_use,
        order: locked.order,
        methods: into_values(locked.methods, FnSig::from),
        consts: into_values(locked.consts, ConstDef::from),
    }
}

fn macro_kind(word: &str) -> MacroKind {
    [
        MacroKind::FunctionLike,
        MacroKind::Attribute,
        MacroKind::Derive,
    ]
    .into_iter()
    .find(|kind| kind.describe() == word)
    .unwrap_or(MacroKind::Declarative)
}

impl From<&StructDef> for LockedStruct {
    fn from(def: &StructDef) -> LockedStruct {
        LockedStruct {
            cfg: def.cfg.clone(),
            non_exhaustive: def.non_exhaustive,
            shape: def.shape.into(),
            generics: def.generics.clone(),
            private_fields: def.private_fields,
            fields: map_values(&def.fields, locked_field),
            facts: locked_facts(&def.facts),
        }
    }
}

impl From<LockedStruct> for StructDef {
    fn from(locked: LockedStruct) -> StructDef {
        StructDef {
            loc: Location::default(),
            cfg: locked.cfg,
            non_exhaustive: locked.non_exhaustive,
            shape: locked.shape.into(),
            generics: locked.generics,
            private_fields: locked.private_fields,
            fields: into_values(locked.fields, field),
            facts: type_facts(locked.facts),
        }
    }
}

impl From<&EnumDef> for LockedEnum {
    fn from(def: &EnumDef) -> LockedEnum {
        LockedEnum {
            cfg: def.cfg.clone(),
            non_exhaustive: def.non_exhaustive,
            generics: def.generics.clone(),
            variants: map_values(&def.variants, |v| LockedVariant {
                non_exhaustive: v.non_exhaustive,
                shape: v.shape.into(),
                fields: map_values(&v.fields, locked_field),
                discriminant: v.discriminant.clone(),
                deprecated: v.deprecated,
            }),
            facts: locked_facts(&def.facts),
        }
    }
}

impl From<LockedEnum> for EnumDef {
    fn from(locked: LockedEnum) -> EnumDef {
        EnumDef {
            loc: Location::default(),
            cfg: locked.cfg,
            non_exhaustive: locked.non_exhaustive,
            generics: locked.generics,
            variants: into_values(locked.variants, |v| VariantDef {
                loc: Location::default(),
                non_exhaustive: v.non_exhaustive,
                shape: v.shape.into(),
                fields: into_values(v.fields, field),
                discriminant: v.discriminant,
                deprecated: v.deprecated,
                ..VariantDef::default()
            }),
            facts: type_facts(locked.facts),
        }
    }
}

impl From<&ConstDef> for LockedConst {
    fn from(def: &ConstDef) -> LockedConst {
        LockedConst {
            cfg: def.cfg.clone(),
            ty: def.ty.clone(),
            static_kind: def.static_kind.clone(),
            deprecated: def.deprecated,
        }
    }
}

impl From<LockedConst> for ConstDef {
    fn from(locked: LockedConst) -> ConstDef {
        ConstDef {
            loc: Location::default(),
            cfg: locked.cfg,
            ty: locked.ty,
            static_kind: locked.static_kind,
            deprecated: locked.deprecated,
        }
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
        let err = parse(&format!("format = {FORMAT}\n"), "a.lock")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `crate`"), "{err}");
        let err = parse(
            &format!("format = {FORMAT}\ncrate = \"x\"\n[traits.\"A\"]\nbogus = 1\n"),
            "a.lock",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("a.lock: invalid lock file"), "{err}");
        let err = parse("format = [", "a.lock").unwrap_err().to_string();
        assert!(err.starts_with("a.lock: invalid lock file"), "{err}");
    }
}
