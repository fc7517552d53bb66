//! Item extraction: turn one syn item (a trait, struct, enum, function, const or static)
//! into its surface record, with normalised types, its cfg and its location.

use std::collections::BTreeMap;

use proc_macro2::TokenTree;
use quote::ToTokens;

use super::model::{
    AssocConst, AssocType, ConstDef, EnumDef, FieldDef, FnSig, Location, Shape, StructDef,
    TraitDef, VariantDef,
};
use super::render::tidy;

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

pub(super) fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|attr| attr.path().is_ident(name))
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
    all.extend(cfg_predicates(attrs));
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
        ty: tidy(ty.to_token_stream()),
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
    let mut def = TraitDef {
        loc: loc_of(file, &item.ident),
        cfg: join_cfg(outer_cfg, &item.attrs),
        is_unsafe: item.unsafety.is_some(),
        generics: generics_string(&item.generics),
        ..TraitDef::default()
    };
    let mut supertraits = Vec::new();
    for bound in &item.supertraits {
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
                let mut sig = extract_sig(&method.sig, file);
                sig.default = method.default.is_some();
                sig.cfg = join_cfg(&[], &method.attrs);
                let name = member_name(&method.sig.ident, &method.attrs);
                def.methods.insert(name, sig);
            }
            syn::TraitItem::Type(assoc) => {
                let mut bounds = generics_string(&assoc.generics);
                if !assoc.bounds.is_empty() {
                    let joined = tidy(assoc.bounds.to_token_stream());
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
                        ty: tidy(assoc.ty.to_token_stream()),
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
    if is_doc_hidden(attrs) {
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
        let name = if is_doc_hidden(&field.attrs) {
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
                ty: tidy(field.ty.to_token_stream()),
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
    }
}

pub(super) fn extract_enum(item: &syn::ItemEnum, file: &str, outer_cfg: &[String]) -> EnumDef {
    let mut variants = BTreeMap::new();
    for variant in &item.variants {
        if is_doc_hidden(&variant.attrs) {
            continue;
        }
        let (shape, mut fields, _) = extract_fields(&variant.fields, file, false);
        fields = fields
            .into_iter()
            .map(|(name, field)| (name.trim_start_matches(HIDDEN_MARK).to_string(), field))
            .collect();
        variants.insert(
            variant.ident.to_string(),
            VariantDef {
                loc: loc_of(file, &variant.ident),
                non_exhaustive: has_attr(&variant.attrs, "non_exhaustive"),
                shape,
                fields,
            },
        );
    }
    EnumDef {
        loc: loc_of(file, &item.ident),
        cfg: join_cfg(outer_cfg, &item.attrs),
        non_exhaustive: has_attr(&item.attrs, "non_exhaustive"),
        generics: generics_string(&item.generics),
        variants,
    }
}

/// Normalises a signature: names of parameters are dropped, `-> ()` is the same as no arrow, and
/// `mut self` is the same as `self`.
pub(super) fn extract_sig(sig: &syn::Signature, file: &str) -> FnSig {
    let mut receiver = None;
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(recv) => {
                receiver = Some(if recv.colon_token.is_some() {
                    format!("self: {}", tidy(recv.ty.to_token_stream()))
                } else if let Some((_, lifetime)) = &recv.reference {
                    let lifetime = lifetime
                        .as_ref()
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
            syn::FnArg::Typed(typed) => params.push(tidy(typed.ty.to_token_stream())),
        }
    }
    let output = match &sig.output {
        syn::ReturnType::Default => String::new(),
        syn::ReturnType::Type(_, ty) => {
            let ty = tidy(ty.to_token_stream());
            if ty == "()" { String::new() } else { ty }
        }
    };
    FnSig {
        loc: loc_of(file, &sig.ident),
        cfg: None,
        is_unsafe: sig.unsafety.is_some(),
        is_async: sig.asyncness.is_some(),
        is_const: sig.constness.is_some(),
        generics: generics_string(&sig.generics),
        receiver,
        params,
        output,
        default: false,
    }
}

/// `<T: Clone> where T: Send`, normalised; empty when there are no generics.
pub(super) fn generics_string(generics: &syn::Generics) -> String {
    let mut out = String::new();
    if !generics.params.is_empty() {
        out = format!("<{}>", tidy(generics.params.to_token_stream()));
    }
    if let Some(where_clause) = &generics.where_clause
        && !where_clause.predicates.is_empty()
    {
        let predicates = tidy(where_clause.predicates.to_token_stream());
        let predicates = predicates.trim_end_matches(',');
        if out.is_empty() {
            out = format!("where {predicates}");
        } else {
            out = format!("{out} where {predicates}");
        }
    }
    out
}
