//! cfg evaluation: which `#[cfg(...)]` predicates hold for the build being checked, the way
//! rustdoc sees the crate (`doc` on, `test` off), with the features and `--cfg` flags given.
//!
//! Evaluation is three-valued: a predicate on something not known (a feature of a crate whose
//! `Cargo.toml` was not read, a target property) is neither true nor false, and the item stays
//! in the surface, reported with its cfg.

use std::collections::BTreeSet;

use syn::visit_mut::VisitMut;

/// What is known about the build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CfgEnv {
    /// The enabled features; `None` when they are not known (no `Cargo.toml`).
    pub features: Option<BTreeSet<String>>,
    /// `--cfg NAME` flags.
    pub names: BTreeSet<String>,
    /// `--cfg KEY="VALUE"` flags.
    pub key_values: BTreeSet<(String, String)>,
}

impl CfgEnv {
    /// Adds a `--cfg` flag: `NAME` or `KEY="VALUE"` (quotes optional).
    pub fn add_flag(&mut self, flag: &str) {
        match flag.split_once('=') {
            Some((key, value)) => {
                let value = value.trim().trim_matches('"');
                self.key_values
                    .insert((key.trim().to_string(), value.to_string()));
            }
            None => {
                self.names.insert(flag.trim().to_string());
            }
        }
    }

    /// Whether every predicate holds: `Some(false)` when one surely does not.
    pub fn all_hold<'a>(&self, predicates: impl IntoIterator<Item = &'a String>) -> Option<bool> {
        let mut result = Some(true);
        for predicate in predicates {
            match self.eval_text(predicate) {
                Some(false) => return Some(false),
                None => result = None,
                Some(true) => {}
            }
        }
        result
    }

    /// Evaluates one predicate as written inside `#[cfg(...)]`.
    pub fn eval_text(&self, predicate: &str) -> Option<bool> {
        let meta: syn::Meta = syn::parse_str(predicate).ok()?;
        self.eval(&meta)
    }

    fn eval(&self, meta: &syn::Meta) -> Option<bool> {
        match meta {
            syn::Meta::Path(path) => {
                let name = path.get_ident()?.to_string();
                match name.as_str() {
                    "doc" => Some(true),
                    "test" => Some(false),
                    _ if self.names.contains(&name) => Some(true),
                    _ => None,
                }
            }
            syn::Meta::NameValue(nv) => {
                let key = nv.path.get_ident()?.to_string();
                let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(value),
                    ..
                }) = &nv.value
                else {
                    return None;
                };
                let value = value.value();
                if key == "feature"
                    && let Some(features) = &self.features
                {
                    return Some(features.contains(&value));
                }
                self.key_values.contains(&(key, value)).then_some(true)
            }
            syn::Meta::List(list) => {
                let inner = list
                    .parse_args_with(
                        syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                    )
                    .ok()?;
                let values: Vec<Option<bool>> = inner.iter().map(|m| self.eval(m)).collect();
                match list.path.get_ident()?.to_string().as_str() {
                    "all" => {
                        if values.contains(&Some(false)) {
                            Some(false)
                        } else if values.iter().all(|v| *v == Some(true)) {
                            Some(true)
                        } else {
                            None
                        }
                    }
                    "any" => {
                        if values.contains(&Some(true)) {
                            Some(true)
                        } else if values.iter().all(|v| *v == Some(false)) {
                            Some(false)
                        } else {
                            None
                        }
                    }
                    "not" => match values.as_slice() {
                        [one] => one.map(|v| !v),
                        _ => None,
                    },
                    _ => None,
                }
            }
        }
    }
}

/// Replaces every `#[cfg_attr(PREDICATE, ATTR, ...)]` in a file by its attributes when the
/// predicate may hold, and drops it when it surely does not. A predicate on something unknown
/// (a cfg a build script sets, such as `not(no_non_exhaustive)`) counts as holding: that is
/// the build of a current toolchain, and guessing "off" would invent changes.
pub(super) fn expand_cfg_attrs(file: &mut syn::File, env: &CfgEnv) {
    let mut expander = Expander { env };
    expander.visit_file_mut(file);
}

struct Expander<'a> {
    env: &'a CfgEnv,
}

impl Expander<'_> {
    fn expand(&self, attrs: &mut Vec<syn::Attribute>) {
        // Nested `cfg_attr`s come out as attributes of their own and are expanded in turn.
        while attrs.iter().any(|attr| attr.path().is_ident("cfg_attr")) {
            let mut out = Vec::with_capacity(attrs.len());
            for attr in attrs.drain(..) {
                if !attr.path().is_ident("cfg_attr") {
                    out.push(attr);
                    continue;
                }
                let Ok(parts) = attr.parse_args_with(
                    syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                ) else {
                    continue;
                };
                let mut parts = parts.into_iter();
                let Some(predicate) = parts.next() else {
                    continue;
                };
                if self.env.eval(&predicate) == Some(false) {
                    continue;
                }
                for meta in parts {
                    out.push(syn::Attribute {
                        pound_token: attr.pound_token,
                        style: attr.style,
                        bracket_token: attr.bracket_token,
                        meta,
                    });
                }
            }
            *attrs = out;
        }
    }
}

macro_rules! expand_in {
    ($($method:ident: $ty:ty),* $(,)?) => {
        impl VisitMut for Expander<'_> {
            $(
                fn $method(&mut self, node: &mut $ty) {
                    self.expand(&mut node.attrs);
                    syn::visit_mut::$method(self, node);
                }
            )*
        }
    };
}

expand_in!(
    visit_file_mut: syn::File,
    visit_item_const_mut: syn::ItemConst,
    visit_item_enum_mut: syn::ItemEnum,
    visit_item_fn_mut: syn::ItemFn,
    visit_item_foreign_mod_mut: syn::ItemForeignMod,
    visit_item_impl_mut: syn::ItemImpl,
    visit_item_macro_mut: syn::ItemMacro,
    visit_item_mod_mut: syn::ItemMod,
    visit_item_static_mut: syn::ItemStatic,
    visit_item_struct_mut: syn::ItemStruct,
    visit_item_trait_mut: syn::ItemTrait,
    visit_item_type_mut: syn::ItemType,
    visit_item_union_mut: syn::ItemUnion,
    visit_item_use_mut: syn::ItemUse,
    visit_field_mut: syn::Field,
    visit_variant_mut: syn::Variant,
    visit_trait_item_fn_mut: syn::TraitItemFn,
    visit_trait_item_const_mut: syn::TraitItemConst,
    visit_trait_item_type_mut: syn::TraitItemType,
    visit_impl_item_fn_mut: syn::ImplItemFn,
    visit_impl_item_const_mut: syn::ImplItemConst,
    visit_foreign_item_fn_mut: syn::ForeignItemFn,
    visit_foreign_item_static_mut: syn::ForeignItemStatic,
);

#[cfg(test)]
mod tests {
    use super::*;

    fn env(features: Option<&[&str]>, flags: &[&str]) -> CfgEnv {
        let mut env = CfgEnv {
            features: features.map(|f| f.iter().map(|s| s.to_string()).collect()),
            ..CfgEnv::default()
        };
        for flag in flags {
            env.add_flag(flag);
        }
        env
    }

    #[test]
    fn cfg_attr_applies_unless_its_predicate_surely_fails() {
        let mut file: syn::File = syn::parse_str(
            "#[cfg_attr(not(no_non_exhaustive), non_exhaustive)] pub enum A { X } \
             #[cfg_attr(test, derive(Debug))] #[cfg_attr(feature = \"serde\", derive(Clone), must_use)] pub struct S { #[cfg_attr(all(), cfg_attr(doc, doc(hidden)))] pub f: u8 }",
        )
        .unwrap();
        expand_cfg_attrs(&mut file, &env(Some(&["serde"]), &[]));
        let names = |attrs: &[syn::Attribute]| -> Vec<String> {
            attrs
                .iter()
                .map(|a| quote::ToTokens::to_token_stream(&a.meta).to_string())
                .collect()
        };
        let syn::Item::Enum(e) = &file.items[0] else {
            unreachable!()
        };
        assert_eq!(names(&e.attrs), ["non_exhaustive"]);
        let syn::Item::Struct(s) = &file.items[1] else {
            unreachable!()
        };
        assert_eq!(names(&s.attrs), ["derive (Clone)", "must_use"]);
        let field = s.fields.iter().next().unwrap();
        assert_eq!(names(&field.attrs), ["doc (hidden)"]);
    }

    #[test]
    fn features_decide_only_when_known() {
        let known = env(Some(&["v1"]), &[]);
        assert_eq!(known.eval_text("feature = \"v1\""), Some(true));
        assert_eq!(known.eval_text("feature = \"v2\""), Some(false));
        let unknown = env(None, &[]);
        assert_eq!(unknown.eval_text("feature = \"v2\""), None);
    }

    #[test]
    fn combinators_are_three_valued() {
        let e = env(Some(&["a"]), &["tokio_unstable", "backend=\"pg\""]);
        assert_eq!(
            e.eval_text("all(feature = \"a\", tokio_unstable)"),
            Some(true)
        );
        assert_eq!(e.eval_text("all(feature = \"a\", unix)"), None);
        assert_eq!(e.eval_text("all(feature = \"b\", unix)"), Some(false));
        assert_eq!(e.eval_text("any(feature = \"b\", unix)"), None);
        assert_eq!(e.eval_text("any(feature = \"b\", doc)"), Some(true));
        assert_eq!(e.eval_text("not(test)"), Some(true));
        assert_eq!(e.eval_text("backend = \"pg\""), Some(true));
        assert_eq!(e.eval_text("backend = \"sqlite\""), None);
        assert_eq!(
            e.all_hold(&["feature = \"a\"".to_string(), "test".to_string()]),
            Some(false)
        );
    }
}
