//! cfg evaluation: which `#[cfg(...)]` predicates hold for the build being checked, the way
//! rustdoc sees the crate (`doc` on, `test` off), with the features and `--cfg` flags given.
//!
//! Evaluation is three-valued: a predicate on something not known (a feature of a crate whose
//! `Cargo.toml` was not read, a target property) is neither true nor false, and the item stays
//! in the surface, reported with its cfg.

use std::collections::BTreeSet;

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
