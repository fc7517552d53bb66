//! Item extraction: turn one syn item (a trait, struct, enum, function, const or static)
//! into its surface record, with normalised types, its cfg and its location.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenTree;
use quote::ToTokens;
use syn::punctuated::Punctuated;

use super::model::{
    AssocConst, AssocType, ConstDef, EnumDef, FieldDef, FnSig, Location, Shape, StructDef,
    TraitDef, TypeFacts, VariantDef,
};
use super::render::{tidy, type_text};

/// Marker prefix for members hidden during extraction; removed when the surface is built.
pub(super) const HIDDEN_MARK: &str = "#hidden#";

pub(super) fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

/// `#[doc(hidden)]`.
pub(super) fn is_doc_hidden(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("doc")
            && matches!(&attr.meta, syn::Meta::List(list)
                if list.tokens.clone().into_iter().any(|t| matches!(t, TokenTree::Ident(i) if i == "hidden")))
    })
}

/// Not public API: `#[doc(hidden)]` and not `#[deprecated]` (a deprecated item stays public
/// API even when hidden, as cargo-semver-checks rules it).
pub(super) fn is_hidden(attrs: &[syn::Attribute]) -> bool {
    is_doc_hidden(attrs) && !is_deprecated(attrs)
}

pub(super) fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|attr| attr.path().is_ident(name))
}

/// `#[deprecated]`, with or without a note.
pub(super) fn is_deprecated(attrs: &[syn::Attribute]) -> bool {
    has_attr(attrs, "deprecated")
}

/// `#[must_use]`, with or without a message.
pub(super) fn is_must_use(attrs: &[syn::Attribute]) -> bool {
    has_attr(attrs, "must_use")
}

/// The standard traits whose impls (derived or by hand) are surface.
pub(super) const STD_TRAITS: &[&str] = &[
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "Eq",
    "Hash",
    "Ord",
    "PartialEq",
    "PartialOrd",
];

/// The metas inside every `#[NAME(...)]` on an item.
pub(super) fn list_metas(attrs: &[syn::Attribute], name: &str) -> Vec<syn::Meta> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident(name))
        .filter_map(|attr| {
            attr.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
        .collect()
}

/// `#[repr(...)]` hints, normalised: `C`, `transparent`, `u8`, `packed`, `packed(2)`, `align(8)`.
pub(super) fn repr_of(attrs: &[syn::Attribute]) -> BTreeSet<String> {
    list_metas(attrs, "repr")
        .iter()
        .map(|meta| tidy(meta.to_token_stream()))
        .collect()
}

/// The standard traits named in `#[derive(...)]` (by their last path segment).
pub(super) fn std_derives(attrs: &[syn::Attribute]) -> BTreeSet<String> {
    list_metas(attrs, "derive")
        .iter()
        .filter_map(|meta| meta.path().segments.last())
        .map(|segment| segment.ident.to_string())
        .filter(|name| STD_TRAITS.contains(&name.as_str()))
        .collect()
}

/// The symbol a function or static is exported under: `#[no_mangle]` (its own name) or
/// `#[export_name = "..."]`, also inside edition 2024's `#[unsafe(...)]`.
pub(super) fn export_name(attrs: &[syn::Attribute], ident: &syn::Ident) -> Option<String> {
    let from_meta = |meta: &syn::Meta| match meta {
        syn::Meta::Path(path) if path.is_ident("no_mangle") => Some(ident.to_string()),
        syn::Meta::NameValue(nv) if nv.path.is_ident("export_name") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) => Some(lit.value()),
            _ => None,
        },
        _ => None,
    };
    // Only the few attributes that can say it are looked at; doc comments are never cloned.
    attrs.iter().find_map(|attr| {
        if attr.path().is_ident("unsafe") {
            list_metas(std::slice::from_ref(attr), "unsafe")
                .iter()
                .find_map(from_meta)
        } else {
            from_meta(&attr.meta)
        }
    })
}

/// The features of every `#[target_feature(enable = "a,b")]`.
pub(super) fn target_features(attrs: &[syn::Attribute]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for meta in list_metas(attrs, "target_feature") {
        if let syn::Meta::NameValue(nv) = meta
            && nv.path.is_ident("enable")
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) = &nv.value
        {
            out.extend(
                lit.value()
                    .split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_string),
            );
        }
    }
    out
}

/// Layout and attribute facts of a struct, enum or union (impls are added after the walk).
pub(super) fn type_facts(attrs: &[syn::Attribute], order: Vec<String>) -> TypeFacts {
    let repr = repr_of(attrs);
    let derives = std_derives(attrs);
    // Order is recorded only where it is observable, so private renames stay out of the lock.
    let observable = derives.contains("PartialOrd") || !repr.is_empty();
    TypeFacts {
        repr,
        derives,
        deprecated: is_deprecated(attrs),
        must_use: is_must_use(attrs),
        order: if observable { order } else { Vec::new() },
        ..TypeFacts::default()
    }
}

/// The predicates of every `#[cfg(...)]` on an item, normalised.
pub(crate) fn cfg_predicates(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::List(list) => Some(tidy(list.tokens.clone())),
            _ => None,
        })
        .collect()
}

/// The enclosing modules' cfg plus the item's own, as one predicate.
pub(super) fn join_cfg(outer: &[String], attrs: &[syn::Attribute]) -> Option<String> {
    let mut all: Vec<String> = outer.to_vec();
    for predicate in cfg_predicates(attrs) {
        // A cfg written on the item and on its module (or added by a macro) is said once.
        if !all.contains(&predicate) {
            all.push(predicate);
        }
    }
    match all.len() {
        0 => None,
        1 => all.pop(),
        _ => Some(format!("all({})", all.join(", "))),
    }
}

/// `#[path = "..."]` on a module declaration.
pub(super) fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| match &attr.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) => Some(lit.value()),
            _ => None,
        },
        _ => None,
    })
}

/// The recorded shape of a `const` or `static` item.
pub(super) fn const_def(
    file: &str,
    outer_cfg: &[String],
    ident: &syn::Ident,
    attrs: &[syn::Attribute],
    ty: &syn::Type,
) -> ConstDef {
    ConstDef {
        loc: loc_of(file, ident),
        cfg: join_cfg(outer_cfg, attrs),
        ty: type_text(ty.to_token_stream()),
        static_kind: None,
        deprecated: is_deprecated(attrs),
    }
}

pub(super) fn loc_of(file: &str, ident: &syn::Ident) -> Location {
    Location {
        file: file.to_string(),
        line: ident.span().start().line,
    }
}

pub(super) fn extract_trait(
    item: &syn::ItemTrait,
    file: &str,
    outer_cfg: &[String],
) -> (TraitDef, Vec<(Vec<String>, String)>) {
    // `trait T where Self: Base` is `trait T: Base`: move `Self` bounds to the supertraits.
    let mut generics = item.generics.clone();
    let mut bounds: Vec<syn::TypeParamBound> = item.supertraits.iter().cloned().collect();
    if let Some(where_clause) = &mut generics.where_clause {
        let predicates = std::mem::take(&mut where_clause.predicates);
        for predicate in predicates {
            match predicate {
                syn::WherePredicate::Type(typed)
                    if typed.lifetimes.is_none()
                        && matches!(&typed.bounded_ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("Self")) =>
                {
                    bounds.extend(typed.bounds);
                }
                other => where_clause.predicates.push(other),
            }
        }
    }
    let mut def = TraitDef {
        loc: loc_of(file, &item.ident),
        cfg: join_cfg(outer_cfg, &item.attrs),
        is_unsafe: item.unsafety.is_some(),
        generics: generics_string(&generics),
        deprecated: is_deprecated(&item.attrs),
        must_use: is_must_use(&item.attrs),
        ..TraitDef::default()
    };
    let mut supertraits = Vec::new();
    for bound in &bounds {
        let written = tidy(bound.to_token_stream());
        match bound {
            syn::TypeParamBound::Trait(trait_bound) => {
                let segments = trait_bound
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                supertraits.push((segments, written));
            }
            _ => {
                def.supertraits.insert(written);
            }
        }
    }
    for member in &item.items {
        match member {
            syn::TraitItem::Fn(method) => {
                let mut sig = extract_sig(&method.sig, &method.attrs, file);
                sig.default = method.default.is_some();
                sig.cfg = join_cfg(&[], &method.attrs);
                let name = member_name(&method.sig.ident, &method.attrs);
                def.methods.insert(name, sig);
            }
            syn::TraitItem::Type(assoc) => {
                let mut bounds = generics_string(&assoc.generics);
                if !assoc.bounds.is_empty() {
                    let joined = type_text(assoc.bounds.to_token_stream());
                    bounds = if bounds.is_empty() {
                        format!(": {joined}")
                    } else {
                        format!("{bounds}: {joined}")
                    };
                }
                let name = member_name(&assoc.ident, &assoc.attrs);
                def.types.insert(
                    name,
                    AssocType {
                        loc: loc_of(file, &assoc.ident),
                        bounds,
                        default: assoc.default.is_some(),
                    },
                );
            }
            syn::TraitItem::Const(assoc) => {
                let name = member_name(&assoc.ident, &assoc.attrs);
                def.consts.insert(
                    name,
                    AssocConst {
                        loc: loc_of(file, &assoc.ident),
                        ty: type_text(assoc.ty.to_token_stream()),
                        default: assoc.default.is_some(),
                    },
                );
            }
            _ => {}
        }
    }
    (def, supertraits)
}

/// A member's key: its name, marked when doc-hidden so the walker can set it apart.
pub(super) fn member_name(ident: &syn::Ident, attrs: &[syn::Attribute]) -> String {
    if is_hidden(attrs) {
        format!("{HIDDEN_MARK}{ident}")
    } else {
        ident.to_string()
    }
}

pub(super) fn extract_fields(
    fields: &syn::Fields,
    file: &str,
    only_pub: bool,
) -> (Shape, BTreeMap<String, FieldDef>, bool) {
    let mut out = BTreeMap::new();
    let mut private = false;
    let shape = match fields {
        syn::Fields::Named(_) => Shape::Named,
        syn::Fields::Unnamed(_) => Shape::Tuple,
        syn::Fields::Unit => Shape::Unit,
    };
    for (index, field) in fields.iter().enumerate() {
        if only_pub && !is_pub(&field.vis) {
            private = true;
            continue;
        }
        let (name, line) = match &field.ident {
            Some(ident) => (ident.to_string(), ident.span().start().line),
            None => (index.to_string(), field_line(field)),
        };
        let name = if is_hidden(&field.attrs) {
            format!("{HIDDEN_MARK}{name}")
        } else {
            name
        };
        out.insert(
            name,
            FieldDef {
                loc: Location {
                    file: file.to_string(),
                    line,
                },
                ty: type_text(field.ty.to_token_stream()),
                deprecated: is_deprecated(&field.attrs),
            },
        );
    }
    (shape, out, private)
}

fn field_line(field: &syn::Field) -> usize {
    field
        .ty
        .to_token_stream()
        .into_iter()
        .next()
        .map_or(0, |t| t.span().start().line)
}

pub(super) fn extract_struct(
    item: &syn::ItemStruct,
    file: &str,
    outer_cfg: &[String],
) -> StructDef {
    let (shape, fields, private_fields) = extract_fields(&item.fields, file, true);
    StructDef {
        loc: loc_of(file, &item.ident),
        cfg: join_cfg(outer_cfg, &item.attrs),
        non_exhaustive: has_attr(&item.attrs, "non_exhaustive"),
        shape,
        generics: generics_string(&item.generics),
        private_fields,
        fields,
        facts: type_facts(&item.attrs, field_order(&item.fields)),
    }
}

/// A union: recorded like a struct with named fields.
pub(super) fn extract_union(item: &syn::ItemUnion, file: &str, outer_cfg: &[String]) -> StructDef {
    let fields = syn::Fields::Named(item.fields.clone());
    let (shape, fields_map, private_fields) = extract_fields(&fields, file, true);
    StructDef {
        loc: loc_of(file, &item.ident),
        cfg: join_cfg(outer_cfg, &item.attrs),
        non_exhaustive: has_attr(&item.attrs, "non_exhaustive"),
        shape,
        generics: generics_string(&item.generics),
        private_fields,
        fields: fields_map,
        facts: type_facts(&item.attrs, field_order(&fields)),
    }
}

/// Every field's name (`0`, `1`, ... for tuple fields), in order.
fn field_order(fields: &syn::Fields) -> Vec<String> {
    fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            field
                .ident
                .as_ref()
                .map_or_else(|| index.to_string(), ToString::to_string)
        })
        .collect()
}

/// An integer literal discriminant, negative ones included.
fn literal_discriminant(expr: &syn::Expr) -> Option<i128> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        }) => int.base10_parse().ok(),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => literal_discriminant(expr).map(|v| -v),
        syn::Expr::Group(group) => literal_discriminant(&group.expr),
        syn::Expr::Paren(paren) => literal_discriminant(&paren.expr),
        _ => None,
    }
}

pub(super) fn extract_enum(item: &syn::ItemEnum, file: &str, outer_cfg: &[String]) -> EnumDef {
    let mut variants = BTreeMap::new();
    // The discriminant of each variant: explicit, or one more than the previous one. When an
    // explicit one is not a literal, the following ones are written relative to it.
    let mut base: (Option<String>, i128) = (None, 0);
    let mut next = 0i128;
    for variant in &item.variants {
        let discriminant = match &variant.discriminant {
            Some((_, expr)) => match literal_discriminant(expr) {
                Some(value) => {
                    base = (None, value);
                    next = value;
                    value.to_string()
                }
                None => {
                    base = (Some(tidy(expr.to_token_stream())), 0);
                    next = 0;
                    base.0.clone().unwrap_or_default()
                }
            },
            None => match &base.0 {
                Some(expr) => format!("({expr}) + {}", next - base.1),
                None => next.to_string(),
            },
        };
        next += 1;
        let (shape, marked, _) = extract_fields(&variant.fields, file, false);
        let mut fields = BTreeMap::new();
        let mut hidden_fields = BTreeSet::new();
        for (name, field) in marked {
            let bare = name.trim_start_matches(HIDDEN_MARK).to_string();
            if bare.len() != name.len() {
                hidden_fields.insert(bare.clone());
            }
            fields.insert(bare, field);
        }
        variants.insert(
            variant.ident.to_string(),
            VariantDef {
                loc: loc_of(file, &variant.ident),
                non_exhaustive: has_attr(&variant.attrs, "non_exhaustive"),
                shape,
                fields,
                discriminant: Some(discriminant),
                deprecated: is_deprecated(&variant.attrs),
                hidden: is_hidden(&variant.attrs),
                hidden_fields,
            },
        );
    }
    // Discriminants are observable only through a repr or `as` casts of a field-less enum;
    // elsewhere they are not recorded, so the lock file stays free of noise.
    let fieldless = item
        .variants
        .iter()
        .all(|v| matches!(v.fields, syn::Fields::Unit));
    // Without a repr, the implicit discriminants of a field-less enum are not taken as API
    // (reordering its variants is not a break) unless the enum writes one explicitly.
    let explicit = item.variants.iter().any(|v| v.discriminant.is_some());
    if repr_of(&item.attrs).is_empty() && !(fieldless && explicit) {
        for variant in variants.values_mut() {
            variant.discriminant = None;
        }
    }
    let order = item.variants.iter().map(|v| v.ident.to_string()).collect();
    EnumDef {
        loc: loc_of(file, &item.ident),
        cfg: join_cfg(outer_cfg, &item.attrs),
        non_exhaustive: has_attr(&item.attrs, "non_exhaustive"),
        generics: generics_string(&item.generics),
        variants,
        facts: type_facts(&item.attrs, order),
    }
}

/// Normalises a signature: names of parameters are dropped, `-> ()` is the same as no arrow,
/// `mut self` is the same as `self`, and `async fn f() -> T` is `fn f() -> impl Future<Output =
/// T>` (`is_async` only says which way it was written).
pub(super) fn extract_sig(sig: &syn::Signature, attrs: &[syn::Attribute], file: &str) -> FnSig {
    let mut receiver = None;
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(recv) => {
                receiver = Some(if recv.colon_token.is_some() {
                    format!("self: {}", type_text(recv.ty.to_token_stream()))
                } else if let Some((_, lifetime)) = &recv.reference {
                    // Only `'static` is kept: other lifetime names are not API.
                    let lifetime = lifetime
                        .as_ref()
                        .filter(|l| l.ident == "static")
                        .map(|l| format!("{l} "))
                        .unwrap_or_default();
                    let mutability = if recv.mutability.is_some() {
                        "mut "
                    } else {
                        ""
                    };
                    format!("&{lifetime}{mutability}self")
                } else {
                    "self".to_string()
                });
            }
            syn::FnArg::Typed(typed) => params.push(type_text(typed.ty.to_token_stream())),
        }
    }
    let output = match &sig.output {
        syn::ReturnType::Default => String::new(),
        syn::ReturnType::Type(_, ty) => {
            let ty = type_text(ty.to_token_stream());
            if ty == "()" { String::new() } else { ty }
        }
    };
    let output = if sig.asyncness.is_some() {
        let inner = if output.is_empty() { "()" } else { &output };
        format!("impl Future<Output = {inner}>")
    } else {
        // `impl std::future::Future<...>` and `impl Future<...>` name the same trait.
        let output = match output
            .strip_prefix("impl std::future::Future<")
            .or_else(|| output.strip_prefix("impl core::future::Future<"))
        {
            Some(rest) => format!("impl Future<{rest}"),
            None => output,
        };
        future_without_implied_bounds(output)
    };
    let abi = sig.abi.as_ref().map(|abi| {
        abi.name
            .as_ref()
            .map_or_else(|| "C".to_string(), syn::LitStr::value)
    });
    // `extern "Rust"` is the default ABI spelled out.
    let abi = abi.filter(|name| name != "Rust");
    FnSig {
        loc: loc_of(file, &sig.ident),
        cfg: None,
        is_unsafe: sig.unsafety.is_some(),
        is_async: sig.asyncness.is_some(),
        is_const: sig.constness.is_some(),
        generics: fn_generics_string(&sig.generics),
        receiver,
        params,
        output,
        default: false,
        abi,
        export_name: export_name(attrs, &sig.ident),
        target_features: target_features(attrs),
        deprecated: is_deprecated(attrs),
        must_use: is_must_use(attrs),
    }
}

/// `impl Future<Output = T> + Send + '_` as an `async fn` returns it: the lifetime bounds say
/// which inputs the future borrows, which an `async fn` captures anyway, and `Send`/`Sync` are
/// auto traits, which a future leaks either way (auto traits are not checked). Other outputs
/// are returned as they are.
fn future_without_implied_bounds(output: String) -> String {
    if !output.starts_with("impl Future<") {
        return output;
    }
    let mut depth = 0usize;
    let mut bounds = Vec::new();
    let mut start = 0;
    let bytes = output.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        match byte {
            b'<' | b'(' | b'[' => depth += 1,
            b'>' if index > 0 && bytes[index - 1] == b'-' => {}
            b'>' | b')' | b']' => depth = depth.saturating_sub(1),
            b'+' if depth == 0 => {
                bounds.push(output[start..index].trim());
                start = index + 1;
            }
            _ => {}
        }
    }
    bounds.push(output[start..].trim());
    let kept: Vec<&str> = bounds
        .into_iter()
        .enumerate()
        .filter(|(index, bound)| {
            let captured_lifetime = bound.starts_with('\'') && *bound != "'static";
            let auto_trait = matches!(*bound, "Send" | "Sync");
            *index == 0 || !(captured_lifetime || auto_trait)
        })
        .map(|(_, bound)| bound)
        .collect();
    kept.join(" + ")
}

/// `<T> where T: Clone + Send`, normalised; empty when there are no generics.
///
/// Bounds written inline (`<T: Clone>`) and in the where-clause (`where T: Clone`) are one
/// API: every bound on a type is moved to the where-clause, merged and sorted.
pub(super) fn generics_string(generics: &syn::Generics) -> String {
    let mut params = Vec::new();
    let mut bounds: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut other_predicates = Vec::new();
    for param in &generics.params {
        match param {
            syn::GenericParam::Type(t) => {
                let name = t.ident.to_string();
                for bound in &t.bounds {
                    bounds
                        .entry(name.clone())
                        .or_default()
                        .insert(type_text(bound.to_token_stream()));
                }
                params.push(match &t.default {
                    Some(default) => format!("{name} = {}", type_text(default.to_token_stream())),
                    None => name,
                });
            }
            syn::GenericParam::Lifetime(l) => {
                let mut plain = l.clone();
                plain.bounds.clear();
                plain.colon_token = None;
                params.push(type_text(plain.to_token_stream()));
            }
            syn::GenericParam::Const(c) => params.push(type_text(c.to_token_stream())),
        }
    }
    if let Some(where_clause) = &generics.where_clause {
        for predicate in &where_clause.predicates {
            match predicate {
                syn::WherePredicate::Type(typed) if typed.lifetimes.is_none() => {
                    let bounded = type_text(typed.bounded_ty.to_token_stream());
                    let entry = bounds.entry(bounded).or_default();
                    for bound in &typed.bounds {
                        entry.insert(type_text(bound.to_token_stream()));
                    }
                }
                syn::WherePredicate::Lifetime(_) => {}
                other => other_predicates.push(type_text(other.to_token_stream())),
            }
        }
    }
    let mut out = String::new();
    if !params.is_empty() {
        out = format!("<{}>", params.join(", "));
    }
    let mut predicates: Vec<String> = bounds
        .into_iter()
        .filter(|(_, set)| !set.is_empty())
        .map(|(ty, set)| format!("{ty}: {}", set.into_iter().collect::<Vec<_>>().join(" + ")))
        .collect();
    predicates.extend(other_predicates);
    if !predicates.is_empty() {
        let joined = predicates.join(", ");
        out = if out.is_empty() {
            format!("where {joined}")
        } else {
            format!("{out} where {joined}")
        };
    }
    out
}

/// A function's generics without its lifetime parameters: which lifetimes a signature names,
/// or whether it elides them, is not API (callers cannot write them).
fn fn_generics_string(generics: &syn::Generics) -> String {
    let mut without = generics.clone();
    without.params = without
        .params
        .into_iter()
        .filter(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
        .collect();
    generics_string(&without)
}
