//! Generics of types, traits and functions: whether they changed, and whether a change only
//! added trailing parameters with defaults.
//!
//! The surface records generics as normalised text (`<T, U = u8> where T: Clone`), which is
//! also what the lock file stores, so equal text is equal generics. The one question that
//! needs their structure, which parameters were added and whether they have defaults, parses
//! the text here into [`syn::Generics`] and compares syn's values.

use syn::parse::{ParseStream, Parser as _};

use super::finding::{At, Findings, changed};
use crate::lint::Lint;

/// The lints and the word for a change of one kind of item's generics.
pub(super) struct GenericsLints {
    /// The item kind in messages (`trait`, `struct`).
    pub(super) word: &'static str,
    /// Any change but trailing defaulted parameters added.
    pub(super) breaking: Lint,
    /// Only trailing parameters with defaults added.
    pub(super) defaulted_param_added: Lint,
}

impl GenericsLints {
    pub(super) const TRAIT: GenericsLints = GenericsLints {
        word: "trait",
        breaking: Lint::TraitGenericsChanged,
        defaulted_param_added: Lint::TraitDefaultedGenericParamAdded,
    };
    pub(super) const STRUCT: GenericsLints = GenericsLints {
        word: "struct",
        breaking: Lint::StructGenericsChanged,
        defaulted_param_added: Lint::TypeDefaultedGenericParamAdded,
    };
    pub(super) const ENUM: GenericsLints = GenericsLints {
        word: "enum",
        breaking: Lint::EnumGenericsChanged,
        defaulted_param_added: Lint::TypeDefaultedGenericParamAdded,
    };
    pub(super) const UNION: GenericsLints = GenericsLints {
        word: "union",
        breaking: Lint::UnionGenericsChanged,
        defaulted_param_added: Lint::TypeDefaultedGenericParamAdded,
    };
}

/// The message for a change of generics of `subject`, or `None` when they are the same.
pub(super) fn generics_change(subject: &str, old: &str, new: &str) -> Option<String> {
    (old != new).then(|| format!("generics of {subject} changed: {}", changed(old, new)))
}

/// Reports a change of a type's or trait's generics at `at`: only trailing parameters with
/// defaults added is minor, anything else breaks.
pub(super) fn diff_generics(
    lints: &GenericsLints,
    at: At<'_>,
    old: &str,
    new: &str,
    out: &mut Findings<'_>,
) {
    let subject = format!("{} `{}`", lints.word, at.path);
    let Some(message) = generics_change(&subject, old, new) else {
        return;
    };
    let only_defaulted_params_added = match (parse_generics(old), parse_generics(new)) {
        (Some(old), Some(new)) => only_defaulted_params_added(&old, &new),
        _ => false,
    };
    let lint = if only_defaulted_params_added {
        lints.defaulted_param_added
    } else {
        lints.breaking
    };
    out.push(lint, at.path, at.loc, at.cfg, message);
}

/// The surface's generics text as syn reads it: the parameters, then the where-clause.
/// `None` when it does not parse.
fn parse_generics(text: &str) -> Option<syn::Generics> {
    let generics_then_where_clause = |input: ParseStream<'_>| {
        let mut generics: syn::Generics = input.parse()?;
        generics.where_clause = input.parse()?;
        Ok(generics)
    };
    generics_then_where_clause.parse_str(text).ok()
}

/// Whether `new` is `old` plus trailing generic parameters that all have defaults, with the
/// same where-clause.
fn only_defaulted_params_added(old: &syn::Generics, new: &syn::Generics) -> bool {
    let (old_params, new_params) = (&old.params, &new.params);
    old.where_clause == new.where_clause
        && new_params.len() > old_params.len()
        && old_params.iter().zip(new_params).all(|(a, b)| a == b)
        && new_params.iter().skip(old_params.len()).all(|p| match p {
            syn::GenericParam::Type(t) => t.default.is_some(),
            syn::GenericParam::Const(c) => c.default.is_some(),
            syn::GenericParam::Lifetime(_) => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_defaulted(old: &str, new: &str) -> bool {
        only_defaulted_params_added(
            &parse_generics(old).expect("old parses"),
            &parse_generics(new).expect("new parses"),
        )
    }

    #[test]
    fn parameters_and_the_where_clause_are_read_apart() {
        let generics = parse_generics("<T, const N: usize = 3> where T: Clone + Send").unwrap();
        assert_eq!(generics.params.len(), 2);
        assert_eq!(generics.where_clause.unwrap().predicates.len(), 1);
        let only_where = parse_generics("where Self: Sized").unwrap();
        assert!(only_where.params.is_empty() && only_where.where_clause.is_some());
        assert!(parse_generics("").unwrap().params.is_empty());
        assert!(parse_generics("<T").is_none());
    }

    #[test]
    fn only_trailing_defaulted_parameters_with_the_same_where_clause_are_minor() {
        assert!(only_defaulted("<T>", "<T, U = u8>"));
        assert!(only_defaulted("", "<const N: usize = 3>"));
        assert!(only_defaulted(
            "<T> where T: Clone",
            "<T, U = u8> where T: Clone"
        ));
        assert!(!only_defaulted(
            "<T> where T: Clone",
            "<T, U = u8> where T: Copy"
        ));
        assert!(!only_defaulted("<T>", "<U = u8, T>"));
        assert!(!only_defaulted("<T>", "<T, U>"));
        assert!(!only_defaulted("<T>", "<T, 'a>"));
        assert!(!only_defaulted("<T>", "<T>"));
    }
}
