//! Token rendering: syn tokens as compact, deterministic text, so types compare as strings
//! whatever the source's whitespace and comments.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// Renders tokens as compact, deterministic text (`Result<Invoice, Error>`, `&'a mut self`),
/// independent of the source's whitespace and comments.
pub fn tidy(tokens: TokenStream) -> String {
    let mut out = String::new();
    let mut gap = Gap::None;
    render(tokens, &mut out, &mut gap);
    out
}

/// A type as the surface records it: [`tidy`] text with lifetime names erased (`&'a T` is
/// `&T`, `Foo<'h>` is `Foo<'_>`), since which name a lifetime has, or whether it is elided,
/// is not API; `'static` stays. Paths are written without the root prefixes that only spell
/// them differently ([`drop_root_prefixes`]).
pub(crate) fn type_text(tokens: TokenStream) -> String {
    drop_root_prefixes(&erase_lifetimes(&tidy(tokens)))
}

/// Drops `crate::`, `$crate::` and a leading `::` where a path starts: `crate::nl_item`,
/// `::nl_item` (the crate root in edition 2015) and `nl_item` name one type when a crate moves
/// between spellings, and `::std::fmt::Error` is `std::fmt::Error`. A `::` after a name or a
/// `>` (`<T as Tr>::Out`) continues a path and stays.
pub(crate) fn drop_root_prefixes(text: &str) -> String {
    if !text.contains("::") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        // `tidy` writes `&mut ::x` as `&mut::x`: a keyword before the colons starts a path.
        let word_start = out
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |at| at + 1);
        let after_keyword = matches!(&out[word_start..], "mut" | "dyn" | "impl" | "const");
        if after_keyword && let Some(after) = rest.strip_prefix("::") {
            out.push(' ');
            rest = after;
            continue;
        }
        let at_path_start = out
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '>' || c == ':' || c == '$'));
        if at_path_start
            && let Some(after) = rest
                .strip_prefix("$crate::")
                .or_else(|| rest.strip_prefix("crate::"))
                .or_else(|| rest.strip_prefix("::"))
        {
            rest = after;
            continue;
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// Replaces every named lifetime but `'static` by `'_`, and drops `'_ ` after `&`.
pub(crate) fn erase_lifetimes(text: &str) -> String {
    if !text.contains('\'') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            out.push(c);
            continue;
        }
        let mut name = String::new();
        while let Some(&next) = chars.peek() {
            if next.is_alphanumeric() || next == '_' {
                name.push(next);
                chars.next();
            } else {
                break;
            }
        }
        if name == "static" || name.is_empty() {
            out.push('\'');
            out.push_str(&name);
        } else if out.ends_with('&') {
            // `&'a T` is `&T`: skip the space after the lifetime too.
            if chars.peek() == Some(&' ') {
                chars.next();
            }
        } else {
            out.push_str("'_");
        }
    }
    out
}

/// What the previous token asks of the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gap {
    /// Nothing (start, after an opening delimiter or a prefix operator).
    None,
    /// A space if the next token is a word.
    Word,
    /// Always a space.
    Always,
}

fn push(out: &mut String, gap: Gap, is_word: bool, text: &str) {
    if gap == Gap::Always || (gap == Gap::Word && is_word) {
        out.push(' ');
    }
    out.push_str(text);
}

fn render(tokens: TokenStream, out: &mut String, gap: &mut Gap) {
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                push(out, *gap, false, open);
                *gap = Gap::None;
                render(group.stream(), out, gap);
                out.push_str(close);
                *gap = Gap::Word;
            }
            TokenTree::Ident(ident) => {
                let mut word = ident.to_string();
                // `core::` and `alloc::` paths are the same items as the `std::` re-exports, and
                // a leading `::` changes nothing for them: write them all as `std::`.
                if matches!(word.as_str(), "core" | "alloc" | "std")
                    && matches!(tokens.peek(), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
                {
                    let before_colons = out.strip_suffix("::");
                    let path_start = match before_colons {
                        Some(prefix) => !prefix
                            .chars()
                            .next_back()
                            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '>'),
                        None => true,
                    };
                    if path_start {
                        if let Some(prefix) = before_colons {
                            out.truncate(prefix.len());
                        }
                        word = "std".to_string();
                    }
                }
                push(out, *gap, true, &word);
                *gap = Gap::Word;
            }
            TokenTree::Literal(literal) => {
                push(out, *gap, true, &literal.to_string());
                *gap = Gap::Word;
            }
            TokenTree::Punct(first) => {
                let mut op = String::from(first.as_char());
                let mut spacing = first.spacing();
                while spacing == Spacing::Joint
                    && let Some(TokenTree::Punct(next)) = tokens.peek()
                {
                    op.push(next.as_char());
                    spacing = next.spacing();
                    tokens.next();
                }
                match op.as_str() {
                    "," | ";" | ":" => {
                        out.push_str(&op);
                        *gap = Gap::Always;
                    }
                    "->" | "=>" | "=" | "+" => {
                        if !out.is_empty() && !out.ends_with(' ') {
                            out.push(' ');
                        }
                        out.push_str(&op);
                        *gap = Gap::Always;
                    }
                    "'" => {
                        push(out, *gap, true, &op);
                        *gap = Gap::None;
                    }
                    _ => {
                        push(out, *gap, false, &op);
                        *gap = Gap::None;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn root_prefixes_are_dropped_where_a_path_starts() {
        use super::drop_root_prefixes as drop;
        assert_eq!(drop("crate::nl_item"), "nl_item");
        assert_eq!(drop("::nl_item"), "nl_item");
        assert_eq!(drop("$crate::Foo"), "Foo");
        assert_eq!(drop("Vec<crate::a::B>"), "Vec<a::B>");
        assert_eq!(drop("&::std::fmt::Error"), "&std::fmt::Error");
        assert_eq!(drop("<T as crate::Tr>::Out"), "<T as Tr>::Out");
        assert_eq!(drop("fn(u8) -> ::x::Y"), "fn(u8) -> x::Y");
        assert_eq!(drop("a::crate_x::B"), "a::crate_x::B");
        assert_eq!(drop("my_crate::T"), "my_crate::T");
        assert_eq!(drop("&mut::bytes::BytesMut"), "&mut bytes::BytesMut");
        assert_eq!(drop("&mut crate::X"), "&mut X");
    }

    use quote::ToTokens;

    use super::*;

    #[test]
    fn tidy_is_compact_and_stable() {
        let ty: syn::Type =
            syn::parse_str("Result < Vec<&'a  mut u8> , dyn Fn(u32) -> u64 + Send >").unwrap();
        assert_eq!(
            tidy(ty.to_token_stream()),
            "Result<Vec<&'a mut u8>, dyn Fn(u32) -> u64 + Send>"
        );
        let ty: syn::Type = syn::parse_str("<T as Iterator>::Item").unwrap();
        assert_eq!(tidy(ty.to_token_stream()), "<T as Iterator>::Item");
    }

    #[test]
    fn lifetime_names_are_erased() {
        for (written, expected) in [
            ("&'h [u8]", "&[u8]"),
            ("Memchr<'h>", "Memchr<'_>"),
            ("&'a mut Foo<'a, T>", "&mut Foo<'_, T>"),
            ("&'static str", "&'static str"),
        ] {
            let ty: syn::Type = syn::parse_str(written).unwrap();
            assert_eq!(type_text(ty.to_token_stream()), expected, "{written}");
        }
    }

    #[test]
    fn core_and_alloc_paths_are_written_as_std() {
        for (written, expected) in [
            ("core::fmt::Debug", "std::fmt::Debug"),
            ("::core::fmt::Debug", "std::fmt::Debug"),
            ("alloc::vec::Vec<u8>", "std::vec::Vec<u8>"),
            ("Box<dyn std::error::Error>", "Box<dyn std::error::Error>"),
            ("my::core::Thing", "my::core::Thing"),
            (
                "<T as core::ops::Add>::Output",
                "<T as std::ops::Add>::Output",
            ),
        ] {
            let ty: syn::Type = syn::parse_str(written).unwrap();
            assert_eq!(tidy(ty.to_token_stream()), expected, "{written}");
        }
    }
}
