//! Structs, enums and unions: shape, fields, variants, layout, derives, trait impls and
//! inherent items.

use std::collections::{BTreeMap, BTreeSet};

use super::finding::{At, Findings, changed, decidable};
use super::generics::{GenericsLints, diff_generics};
use super::signature::{Callable, SigLints, diff_sig};
use crate::lint::Lint;
use crate::surface::{EnumDef, FieldDef, Location, Shape, StructDef, TypeFacts, VariantDef};

pub(super) fn diff_struct(path: &str, old: &StructDef, new: &StructDef, out: &mut Findings<'_>) {
    let cfg = new.cfg.as_ref();
    let loc = &new.loc;
    if old.shape != new.shape {
        out.push(
            Lint::StructChangedKind,
            path,
            loc,
            cfg,
            format!(
                "struct `{path}` changed from {} to {}",
                old.shape.describe(),
                new.shape.describe()
            ),
        ); // Every field changes with the kind; listing them would only repeat this finding.
        return;
    }
    let at = At { path, loc, cfg };
    diff_generics(
        &GenericsLints::STRUCT,
        at,
        &old.generics,
        &new.generics,
        out,
    );
    diff_facts(TypeKind::Struct, at, &old.facts, &new.facts, out);
    if !old.non_exhaustive && new.non_exhaustive {
        out.push(Lint::StructMarkedNonExhaustive, path, loc, cfg, format!("struct `{path}` became #[non_exhaustive]: literals and exhaustive patterns outside the crate break"));
    }
    if old.non_exhaustive && !new.non_exhaustive {
        out.push(
            Lint::StructNoLongerNonExhaustive,
            path,
            loc,
            cfg,
            format!("struct `{path}` is no longer #[non_exhaustive]"),
        );
    }
    let constructible = !old.non_exhaustive && !old.private_fields;
    for (name, old_field) in &old.fields {
        let member = format!("{path}::{name}");
        match new.fields.get(name) {
            None if out.hidden.contains(&member) => out.push(Lint::StructPubFieldNowDocHidden, &member, loc, cfg, format!("field `{name}` of `{path}` is now #[doc(hidden)]: users who name it break")),
            None => out.push(Lint::StructPubFieldMissing, &member, loc, cfg, format!("public field `{name}` of `{path}` removed, renamed or made private: users who name it break")),
            Some(new_field) if new_field.ty != old_field.ty && decidable(&old_field.ty, &new_field.ty) => out.push(Lint::StructPubFieldTypeChanged, &member, &new_field.loc, cfg, format!("type of field `{name}` of `{path}` changed: {}", changed(&old_field.ty, &new_field.ty))),
            Some(new_field) if !old_field.deprecated && new_field.deprecated => out.push(Lint::StructFieldMarkedDeprecated, &member, &new_field.loc, cfg, format!("field `{name}` of `{path}` is now #[deprecated]")),
            Some(_) => {}
        }
    }
    for (name, new_field) in &new.fields {
        if old.fields.contains_key(name) {
            continue;
        }
        let member = format!("{path}::{name}");
        if constructible && old.shape == new.shape {
            out.push(Lint::ConstructibleStructAddsField, &member, &new_field.loc, cfg, format!("field `{name}` added to `{path}`, which users can build with a literal: those literals break"));
        } else {
            out.push(
                Lint::StructPubFieldAdded,
                &member,
                &new_field.loc,
                cfg,
                format!("public field `{name}` added to `{path}`"),
            );
        }
    }
    // A struct that users could build gaining a private field breaks their literals too.
    let field_went_private = old.fields.keys().any(|name| !new.fields.contains_key(name));
    if constructible
        && new.private_fields
        && !new.non_exhaustive
        && old.shape == new.shape
        && !field_went_private
    {
        out.push(
            Lint::ConstructibleStructAddsField,
            path,
            loc,
            cfg,
            format!("struct `{path}` gained a private field: literals outside the crate break"),
        );
    }
}

pub(super) fn diff_enum(path: &str, old: &EnumDef, new: &EnumDef, out: &mut Findings<'_>) {
    let cfg = new.cfg.as_ref();
    let loc = &new.loc;
    let at = At { path, loc, cfg };
    diff_generics(&GenericsLints::ENUM, at, &old.generics, &new.generics, out);
    diff_facts(TypeKind::Enum, at, &old.facts, &new.facts, out);
    diff_discriminants(path, old, new, cfg, out);
    if !old.non_exhaustive && new.non_exhaustive {
        out.push(
            Lint::EnumMarkedNonExhaustive,
            path,
            loc,
            cfg,
            format!(
                "enum `{path}` became #[non_exhaustive]: exhaustive matches outside the crate break"
            ),
        );
    }
    if old.non_exhaustive && !new.non_exhaustive {
        out.push(
            Lint::EnumNoLongerNonExhaustive,
            path,
            loc,
            cfg,
            format!("enum `{path}` is no longer #[non_exhaustive]"),
        );
    }
    for (name, old_variant) in &old.variants {
        let member = format!("{path}::{name}");
        match new.variants.get(name) {
            Some(new_variant) if new_variant.hidden && !old_variant.hidden => out.push(
                Lint::EnumVariantMissing,
                &member,
                &new_variant.loc,
                cfg,
                format!(
                    "variant `{name}` of `{path}` is now #[doc(hidden)]: users who name it break"
                ),
            ),
            None => out.push(
                Lint::EnumVariantMissing,
                &member,
                loc,
                cfg,
                format!("variant `{name}` of `{path}` removed or renamed: users who name it break"),
            ),
            Some(new_variant) => {
                let variant = Variant {
                    member: &member,
                    name,
                    enum_path: path,
                    loc: &new_variant.loc,
                    cfg,
                };
                diff_variant(&variant, old_variant, new_variant, out)
            }
        }
    }
    for (name, new_variant) in &new.variants {
        // A variant that leaves #[doc(hidden)] was always there to match: nothing is added.
        // One added #[doc(hidden)] still breaks exhaustive matches, so it counts.
        if old.variants.contains_key(name) {
            continue;
        }
        let member = format!("{path}::{name}");
        if new.non_exhaustive {
            out.push(
                Lint::NonExhaustiveEnumVariantAdded,
                &member,
                &new_variant.loc,
                cfg,
                format!("variant `{name}` added to #[non_exhaustive] enum `{path}`"),
            );
        } else {
            out.push(Lint::EnumVariantAdded, &member, &new_variant.loc, cfg, format!("variant `{name}` added to exhaustive enum `{path}`: matches outside the crate break"));
        }
    }
}

/// An enum variant as its findings name it.
#[derive(Debug, Clone, Copy)]
struct Variant<'a> {
    /// Its path (`Enum::Variant`).
    member: &'a str,
    /// Its name.
    name: &'a str,
    /// Its enum's path.
    enum_path: &'a str,
    /// Where it is declared in the new surface.
    loc: &'a Location,
    /// Its enum's `#[cfg]`.
    cfg: Option<&'a String>,
}

/// The lints for a field added to or missing from a variant, which depend on its shape and
/// whether it is `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy)]
struct VariantFieldLints {
    added: Lint,
    missing: Lint,
}

fn diff_variant(variant: &Variant<'_>, old: &VariantDef, new: &VariantDef, out: &mut Findings<'_>) {
    let Variant {
        member,
        name,
        enum_path: path,
        loc,
        cfg,
    } = *variant;
    if !old.non_exhaustive && new.non_exhaustive {
        out.push(Lint::EnumVariantMarkedNonExhaustive, member, loc, cfg, format!("variant `{name}` of `{path}` became #[non_exhaustive]: patterns and constructors outside the crate break"));
    }
    if old.shape != new.shape {
        out.push(
            Lint::EnumVariantChangedKind,
            member,
            loc,
            cfg,
            format!(
                "variant `{name}` of `{path}` changed from {} to {}",
                old.shape.describe(),
                new.shape.describe()
            ),
        );
        return;
    }
    if !old.deprecated && new.deprecated {
        out.push(
            Lint::EnumVariantMarkedDeprecated,
            member,
            loc,
            cfg,
            format!("variant `{name}` of `{path}` is now #[deprecated]"),
        );
    }
    // Outside the crate a #[non_exhaustive] variant can be neither built nor matched without
    // `..`, so a field added to it breaks no one.
    let (added, missing) = match (new.shape, old.non_exhaustive && new.non_exhaustive) {
        (Shape::Tuple, false) => (
            Lint::EnumTupleVariantFieldAdded,
            Lint::EnumTupleVariantFieldMissing,
        ),
        (Shape::Tuple, true) => (
            Lint::EnumNonExhaustiveTupleVariantFieldAdded,
            Lint::EnumTupleVariantFieldMissing,
        ),
        (_, false) => (
            Lint::EnumStructVariantFieldAdded,
            Lint::EnumStructVariantFieldMissing,
        ),
        (_, true) => (
            Lint::EnumNonExhaustiveStructVariantFieldAdded,
            Lint::EnumStructVariantFieldMissing,
        ),
    };
    let lints = VariantFieldLints { added, missing };
    diff_variant_fields(variant, &old.fields, &new.fields, lints, out);
    for field in new.hidden_fields.difference(&old.hidden_fields) {
        if old.fields.contains_key(field) {
            out.push(
                Lint::EnumStructVariantFieldNowDocHidden,
                &format!("{member}::{field}"),
                loc,
                cfg,
                format!("field `{field}` of variant `{name}` of `{path}` is now #[doc(hidden)]: users who name it break"),
            );
        }
    }
}

fn diff_variant_fields(
    variant: &Variant<'_>,
    old: &BTreeMap<String, FieldDef>,
    new: &BTreeMap<String, FieldDef>,
    VariantFieldLints { added, missing }: VariantFieldLints,
    out: &mut Findings<'_>,
) {
    let Variant {
        member,
        name,
        enum_path: path,
        loc,
        cfg,
    } = *variant;
    for (field, old_field) in old {
        let field_path = format!("{member}::{field}");
        match new.get(field) {
            None => out.push(missing, &field_path, loc, cfg, format!("field `{field}` of variant `{name}` of `{path}` removed: users who name it break")),
            Some(new_field) if new_field.ty != old_field.ty => out.push(Lint::EnumVariantFieldTypeChanged, &field_path, &new_field.loc, cfg, format!("type of field `{field}` of variant `{name}` of `{path}` changed: {}", changed(&old_field.ty, &new_field.ty))),
            Some(_) => {}
        }
    }
    for (field, new_field) in new {
        if !old.contains_key(field) {
            let field_path = format!("{member}::{field}");
            out.push(added, &field_path, &new_field.loc, cfg, format!("field `{field}` added to variant `{name}` of `{path}`: patterns and constructors outside the crate break"));
        }
    }
}

/// Which kind of type a [`TypeFacts`] belongs to, for lint names and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeKind {
    Struct,
    Enum,
    Union,
}

impl TypeKind {
    fn word(self) -> &'static str {
        match self {
            TypeKind::Struct => "struct",
            TypeKind::Enum => "enum",
            TypeKind::Union => "union",
        }
    }
}

/// The `align(N)` or `packed(N)` hint of a repr, with its argument (`packed` alone is `1`).
fn repr_arg(repr: &BTreeSet<String>, name: &str) -> Option<String> {
    repr.iter().find_map(|hint| {
        if hint == name {
            Some("1".to_string())
        } else {
            hint.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('('))
                .and_then(|rest| rest.strip_suffix(')'))
                .map(str::to_string)
        }
    })
}

const INT_REPRS: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
];

/// Layout, derives, std impls, deprecation, `#[must_use]` and inherent items of a type.
fn diff_facts(
    kind: TypeKind,
    at: At<'_>,
    old: &TypeFacts,
    new: &TypeFacts,
    out: &mut Findings<'_>,
) {
    let At { path, loc, cfg } = at;
    let word = kind.word();
    let has = |facts: &TypeFacts, hint: &str| facts.repr.contains(hint);
    // repr(C)
    match (has(old, "C"), has(new, "C")) {
        (true, false) => {
            let lint = if kind == TypeKind::Enum {
                Lint::EnumReprCRemoved
            } else {
                Lint::ReprCRemoved
            };
            out.push(
                lint,
                path,
                loc,
                cfg,
                format!("{word} `{path}` lost #[repr(C)]: code relying on its layout breaks"),
            );
        }
        (false, true) => out.push(
            Lint::ReprCAdded,
            path,
            loc,
            cfg,
            format!("{word} `{path}` gained #[repr(C)]"),
        ),
        _ => {}
    }
    match (has(old, "transparent"), has(new, "transparent")) {
        (true, false) => {
            let lint = if kind == TypeKind::Enum {
                Lint::EnumReprTransparentRemoved
            } else {
                Lint::StructReprTransparentRemoved
            };
            out.push(
                lint,
                path,
                loc,
                cfg,
                format!(
                    "{word} `{path}` lost #[repr(transparent)]: code relying on its layout breaks"
                ),
            );
        }
        (false, true) => out.push(
            Lint::ReprTransparentAdded,
            path,
            loc,
            cfg,
            format!("{word} `{path}` gained #[repr(transparent)]"),
        ),
        _ => {}
    }
    if kind == TypeKind::Enum {
        let int = |facts: &TypeFacts| {
            facts
                .repr
                .iter()
                .find(|h| INT_REPRS.contains(&h.as_str()))
                .cloned()
        };
        match (int(old), int(new)) {
            (Some(a), Some(b)) if a != b => out.push(Lint::EnumReprIntChanged, path, loc, cfg, format!("enum `{path}` changed #[repr({a})] to #[repr({b})]: its size and `as` casts change")),
            (Some(a), None) => out.push(Lint::EnumReprIntRemoved, path, loc, cfg, format!("enum `{path}` lost #[repr({a})]: its size and layout are no longer fixed")),
            (None, Some(b)) => out.push(Lint::EnumReprIntAdded, path, loc, cfg, format!("enum `{path}` gained #[repr({b})]")),
            _ => {}
        }
    }
    for (name, added, removed, changed_lint) in [
        (
            "packed",
            Lint::ReprPackedAdded,
            Lint::ReprPackedRemoved,
            Lint::ReprPackedChanged,
        ),
        (
            "align",
            Lint::ReprAlignAdded,
            Lint::ReprAlignRemoved,
            Lint::ReprAlignChanged,
        ),
    ] {
        match (repr_arg(&old.repr, name), repr_arg(&new.repr, name)) {
            (None, Some(n)) => out.push(added, path, loc, cfg, format!("{word} `{path}` gained #[repr({name}({n}))]: its layout changes")),
            (Some(n), None) => out.push(removed, path, loc, cfg, format!("{word} `{path}` lost #[repr({name}({n}))]: its layout changes")),
            (Some(a), Some(b)) if a != b => out.push(changed_lint, path, loc, cfg, format!("{word} `{path}` changed #[repr({name}({a}))] to #[repr({name}({b}))]: its layout changes")),
            _ => {}
        }
    }
    // Order, where it is observable.
    let reordered = {
        let common: Vec<&String> = old.order.iter().filter(|n| new.order.contains(n)).collect();
        let in_new: Vec<&String> = new.order.iter().filter(|n| old.order.contains(n)).collect();
        !common.is_empty() && common != in_new
    };
    if reordered {
        if kind != TypeKind::Enum && has(old, "C") && has(new, "C") {
            out.push(
                Lint::ReprCPlainStructFieldsReordered,
                path,
                loc,
                cfg,
                format!("fields of #[repr(C)] {word} `{path}` were reordered: its layout changes"),
            );
        } else if old.derives.contains("PartialOrd") && new.derives.contains("PartialOrd") {
            let lint = if kind == TypeKind::Enum {
                Lint::PartialOrdEnumVariantsReordered
            } else {
                Lint::PartialOrdStructFieldsReordered
            };
            let what = if kind == TypeKind::Enum {
                "variants"
            } else {
                "fields"
            };
            out.push(lint, path, loc, cfg, format!("{what} of `{path}` were reordered: its derived `PartialOrd` compares differently"));
        }
    }
    // Standard traits.
    let type_name = path.rsplit("::").next().unwrap_or(path);
    for name in old.derives.iter().chain(&old.std_impls) {
        // A macro invocation that names both the type and the trait may implement it.
        let maybe_by_macro =
            out.macro_mentions.contains(type_name) && out.macro_mentions.contains(name);
        if new.implements(name) || maybe_by_macro {
            continue;
        }
        let lint = if old.derives.contains(name) {
            Lint::DeriveTraitImplRemoved
        } else {
            Lint::StdTraitImplRemoved
        };
        out.push(
            lint,
            path,
            loc,
            cfg,
            format!("{word} `{path}` no longer implements `{name}`: code using it breaks"),
        );
    }
    for name in new.derives.union(&new.std_impls) {
        if !old.implements(name) {
            out.push(
                Lint::StdTraitImplAdded,
                path,
                loc,
                cfg,
                format!("{word} `{path}` now implements `{name}`"),
            );
        }
    }
    if !old.deprecated && new.deprecated {
        out.push(
            Lint::TypeMarkedDeprecated,
            path,
            loc,
            cfg,
            format!("{word} `{path}` is now #[deprecated]"),
        );
    }
    match (old.must_use, new.must_use) {
        (false, true) => {
            let lint = match kind {
                TypeKind::Struct => Lint::StructMustUseAdded,
                TypeKind::Enum => Lint::EnumMustUseAdded,
                TypeKind::Union => Lint::UnionMustUseAdded,
            };
            out.push(
                lint,
                path,
                loc,
                cfg,
                format!("{word} `{path}` is now #[must_use]"),
            );
        }
        (true, false) if kind == TypeKind::Union => out.push(
            Lint::UnionMustUseRemoved,
            path,
            loc,
            cfg,
            format!("union `{path}` is no longer #[must_use]"),
        ),
        _ => {}
    }
    diff_inherent(at, old, new, out);
}

/// Inherent methods and associated consts; `at.cfg` is the type's own.
fn diff_inherent(at: At<'_>, old: &TypeFacts, new: &TypeFacts, out: &mut Findings<'_>) {
    let At {
        path,
        loc,
        cfg: type_cfg,
    } = at;
    for (name, old_method) in &old.methods {
        let member = format!("{path}::{name}");
        let cfg = old_method.cfg.as_ref().or(type_cfg);
        match new.methods.get(name) {
            None if out.macro_generated.contains(name) => {}
            None if out.hidden.contains(&member) => out.push(
                Lint::InherentMethodNowDocHidden,
                &member,
                loc,
                cfg,
                format!("method `{name}` of `{path}` is now #[doc(hidden)]: callers break"),
            ),
            None => out.push(
                Lint::InherentMethodMissing,
                &member,
                loc,
                cfg,
                format!(
                    "method `{name}` of `{path}` removed, renamed or made private: callers break"
                ),
            ),
            Some(new_method) => {
                let cfg = new_method.cfg.as_ref().or(type_cfg);
                let method = Callable {
                    member: &member,
                    name,
                    owner: path,
                    cfg,
                };
                diff_sig(&method, old_method, new_method, &SigLints::INHERENT, out);
            }
        }
    }
    for (name, new_method) in &new.methods {
        let member = format!("{path}::{name}");
        if !old.methods.contains_key(name) && !out.old_hidden.contains(&member) {
            let cfg = new_method.cfg.as_ref().or(type_cfg);
            out.push(
                Lint::InherentMethodAdded,
                &member,
                &new_method.loc,
                cfg,
                format!("method `{name}` added to `{path}`"),
            );
        }
    }
    for (name, old_const) in &old.consts {
        let member = format!("{path}::{name}");
        let cfg = old_const.cfg.as_ref().or(type_cfg);
        match new.consts.get(name) {
            None if out.hidden.contains(&member) => out.push(Lint::InherentAssociatedConstNowDocHidden, &member, loc, cfg, format!("associated const `{name}` of `{path}` is now #[doc(hidden)]: users break")),
            None => out.push(Lint::InherentAssociatedPubConstMissing, &member, loc, cfg, format!("associated const `{name}` of `{path}` removed, renamed or made private: users break")),
            Some(new_const) if new_const.ty != old_const.ty => out.push(Lint::InherentAssociatedConstTypeChanged, &member, &new_const.loc, cfg, format!("type of associated const `{name}` of `{path}` changed: {}", changed(&old_const.ty, &new_const.ty))),
            Some(_) => {}
        }
    }
    for (name, new_const) in &new.consts {
        let member = format!("{path}::{name}");
        if !old.consts.contains_key(name) && !out.old_hidden.contains(&member) {
            let cfg = new_const.cfg.as_ref().or(type_cfg);
            out.push(
                Lint::InherentAssociatedConstAdded,
                &member,
                &new_const.loc,
                cfg,
                format!("associated const `{name}` added to `{path}`"),
            );
        }
    }
}

/// Discriminants, where code outside can see them: in an enum with an integer or C repr, or
/// in a field-less enum (through `as` casts).
fn diff_discriminants(
    path: &str,
    old: &EnumDef,
    new: &EnumDef,
    cfg: Option<&String>,
    out: &mut Findings<'_>,
) {
    let has_repr = |e: &EnumDef| {
        e.facts
            .repr
            .iter()
            .any(|h| h == "C" || INT_REPRS.contains(&h.as_str()))
    };
    let fieldless = |e: &EnumDef| e.variants.values().all(|v| v.shape == Shape::Unit);
    let (lint, why) = if has_repr(old) && has_repr(new) {
        (
            Lint::EnumReprVariantDiscriminantChanged,
            "code that reads or transmutes it breaks",
        )
    } else if fieldless(old) && fieldless(new) && !old.non_exhaustive {
        (
            Lint::EnumNoReprVariantDiscriminantChanged,
            "`as` casts give another value",
        )
    } else {
        return;
    };
    for (name, old_variant) in &old.variants {
        if let Some(new_variant) = new.variants.get(name)
            && old_variant.discriminant.is_some()
            && new_variant.discriminant.is_some()
            && old_variant.discriminant != new_variant.discriminant
        {
            let show = |d: &Option<String>| d.clone().unwrap_or_default();
            out.push(
                lint,
                &format!("{path}::{name}"),
                &new_variant.loc,
                cfg,
                format!(
                    "discriminant of variant `{name}` of `{path}` changed: {}; {why}",
                    changed(
                        &show(&old_variant.discriminant),
                        &show(&new_variant.discriminant)
                    )
                ),
            );
        }
    }
}

pub(super) fn diff_union(path: &str, old: &StructDef, new: &StructDef, out: &mut Findings<'_>) {
    let cfg = new.cfg.as_ref();
    let loc = &new.loc;
    let at = At { path, loc, cfg };
    diff_generics(&GenericsLints::UNION, at, &old.generics, &new.generics, out);
    for (name, old_field) in &old.fields {
        let member = format!("{path}::{name}");
        match new.fields.get(name) {
            None if out.hidden.contains(&member) => out.push(Lint::UnionPubFieldNowDocHidden, &member, loc, cfg, format!("field `{name}` of union `{path}` is now #[doc(hidden)]: users who name it break")),
            None => out.push(Lint::UnionFieldMissing, &member, loc, cfg, format!("public field `{name}` of union `{path}` removed, renamed or made private: users who name it break")),
            Some(new_field) if new_field.ty != old_field.ty => out.push(Lint::UnionPubFieldTypeChanged, &member, &new_field.loc, cfg, format!("type of field `{name}` of union `{path}` changed: {}", changed(&old_field.ty, &new_field.ty))),
            Some(_) => {}
        }
    }
    for (name, new_field) in &new.fields {
        if old.fields.contains_key(name) {
            continue;
        }
        let member = format!("{path}::{name}");
        if old.private_fields {
            out.push(
                Lint::UnionFieldAddedWithNonPubFields,
                &member,
                &new_field.loc,
                cfg,
                format!("public field `{name}` added to union `{path}`"),
            );
        } else {
            out.push(Lint::UnionFieldAddedWithAllPubFields, &member, &new_field.loc, cfg, format!("field `{name}` added to union `{path}`, whose fields were all public: its size and layout may change"));
        }
    }
    diff_facts(TypeKind::Union, at, &old.facts, &new.facts, out);
}
