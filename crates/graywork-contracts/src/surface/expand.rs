//! Expansion of the macros that wrap items: a crate-local `macro_rules!` whose rules take items
//! (`$($item:item)*`, `$item:item`, `$($t:tt)*`) and write them back with added attributes
//! (`cfg_rt! { pub mod runtime; }`), and `cfg_if!`. Their items are then read like any other,
//! with the cfgs the expansion gave them. A rule of any other shape is not expanded; the
//! walker reports the invocation as unread.

use std::collections::BTreeMap;

use proc_macro2::{Delimiter, Group, Ident, TokenStream, TokenTree};
use quote::ToTokens;

/// A crate-local `macro_rules!`: the rules whose shape can be expanded, in order.
#[derive(Debug, Clone, Default)]
pub(super) struct MacroRules {
    rules: Vec<Rule>,
    /// Some rule writes an item keyword (`struct`, `fn`, `mod`, …), whatever its shape.
    writes_items: bool,
    /// Some rule writes a plain `pub`.
    writes_pub: bool,
}

#[derive(Debug, Clone)]
struct Rule {
    matcher: Matcher,
    transcriber: TokenStream,
}

/// The matcher shapes expanded: the whole input bound to one variable.
#[derive(Debug, Clone)]
enum Matcher {
    /// `()`: no input.
    Empty,
    /// `$($name:item)*` (or `+`): any number of items.
    Items(String),
    /// `$name:item`: exactly one item.
    Item(String),
    /// `$($name:tt)*`: any tokens, one tree at a time.
    Trees(String),
}

/// What a matched variable holds.
enum Bound {
    One(TokenStream),
    Many(Vec<TokenStream>),
}

/// How deep expansions may nest before the walker gives up on one (a macro that expands to an
/// invocation of itself would otherwise never end).
pub(super) const MAX_EXPANSION_DEPTH: usize = 32;

impl MacroRules {
    /// Reads the body of `macro_rules! name { … }`: `(matcher) => { transcriber };` rules.
    pub(super) fn parse(body: TokenStream) -> MacroRules {
        let writes_items = has_item_keyword(body.clone());
        let writes_pub = has_pub(body.clone());
        let mut rules = Vec::new();
        let mut tokens = body.into_iter().peekable();
        while let Some(token) = tokens.next() {
            let TokenTree::Group(matcher) = token else {
                continue;
            };
            // `=>`
            let arrow = [tokens.next(), tokens.next()];
            if !matches!(&arrow, [Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))]
                if a.as_char() == '=' && b.as_char() == '>')
            {
                break;
            }
            let Some(TokenTree::Group(transcriber)) = tokens.next() else {
                break;
            };
            if let Some(matcher) = Matcher::read(matcher.stream()) {
                rules.push(Rule {
                    matcher,
                    transcriber: transcriber.stream(),
                });
            }
            if matches!(tokens.peek(), Some(TokenTree::Punct(p)) if p.as_char() == ';') {
                tokens.next();
            }
        }
        MacroRules {
            rules,
            writes_items,
            writes_pub,
        }
    }

    /// Whether the macro's rules write a plain `pub` themselves.
    pub(super) fn writes_pub(&self) -> bool {
        self.writes_pub
    }

    /// Whether the macro may declare items, expandable or not.
    pub(super) fn writes_items(&self) -> bool {
        self.writes_items
    }

    /// The items an invocation with `input` expands to, by the first rule that takes it.
    pub(super) fn expand(&self, input: &TokenStream) -> Option<Vec<syn::Item>> {
        self.rules.iter().find_map(|rule| {
            let mut bound = BTreeMap::new();
            match &rule.matcher {
                Matcher::Empty => {
                    if !input.is_empty() {
                        return None;
                    }
                }
                Matcher::Items(name) => {
                    let file: syn::File = syn::parse2(input.clone()).ok()?;
                    let items = file.items.iter().map(ToTokens::to_token_stream).collect();
                    bound.insert(name.clone(), Bound::Many(items));
                }
                Matcher::Item(name) => {
                    let item: syn::Item = syn::parse2(input.clone()).ok()?;
                    bound.insert(name.clone(), Bound::One(item.to_token_stream()));
                }
                Matcher::Trees(name) => {
                    let trees = input.clone().into_iter().map(TokenStream::from).collect();
                    bound.insert(name.clone(), Bound::Many(trees));
                }
            }
            let output = transcribe(rule.transcriber.clone(), &bound, None)?;
            let file: syn::File = syn::parse2(output).ok()?;
            Some(file.items)
        })
    }
}

impl Matcher {
    fn read(matcher: TokenStream) -> Option<Matcher> {
        let tokens: Vec<TokenTree> = matcher.into_iter().collect();
        match tokens.as_slice() {
            [] => Some(Matcher::Empty),
            [
                TokenTree::Punct(dollar),
                TokenTree::Group(inner),
                TokenTree::Punct(op),
            ] if dollar.as_char() == '$'
                && inner.delimiter() == Delimiter::Parenthesis
                && matches!(op.as_char(), '*' | '+') =>
            {
                let (name, fragment) = variable(inner.stream())?;
                match fragment.as_str() {
                    "item" => Some(Matcher::Items(name)),
                    "tt" => Some(Matcher::Trees(name)),
                    _ => None,
                }
            }
            _ => {
                let (name, fragment) = variable(tokens.into_iter().collect())?;
                (fragment == "item").then_some(Matcher::Item(name))
            }
        }
    }
}

/// Whether `tokens` hold a plain `pub` (not `pub(crate)` and the like) at any depth.
pub(super) fn has_pub(tokens: TokenStream) -> bool {
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Ident(word) if word == "pub" => {
                let restricted = matches!(tokens.peek(), Some(TokenTree::Group(g))
                    if g.delimiter() == Delimiter::Parenthesis);
                if !restricted {
                    return true;
                }
            }
            TokenTree::Group(group) if has_pub(group.stream()) => return true,
            _ => {}
        }
    }
    false
}

/// Whether `tokens` hold an item keyword at any depth.
fn has_item_keyword(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(word) => matches!(
            word.to_string().as_str(),
            "struct" | "enum" | "union" | "trait" | "fn" | "const" | "static" | "type" | "mod"
        ),
        TokenTree::Group(group) => has_item_keyword(group.stream()),
        _ => false,
    })
}

/// `$name:fragment` alone: its name and fragment.
fn variable(tokens: TokenStream) -> Option<(String, String)> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    match tokens.as_slice() {
        [
            TokenTree::Punct(dollar),
            TokenTree::Ident(name),
            TokenTree::Punct(colon),
            TokenTree::Ident(fragment),
        ] if dollar.as_char() == '$' && colon.as_char() == ':' => {
            Some((name.to_string(), fragment.to_string()))
        }
        _ => None,
    }
}

/// Writes `template` with the bound variables substituted; `index` is the repetition being
/// written, if any. `None` when the template uses what it cannot write.
fn transcribe(
    template: TokenStream,
    bound: &BTreeMap<String, Bound>,
    index: Option<usize>,
) -> Option<TokenStream> {
    let mut out = TokenStream::new();
    let mut tokens = template.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Punct(dollar) if dollar.as_char() == '$' => match tokens.next()? {
                TokenTree::Ident(name) if name == "crate" => {
                    out.extend([TokenTree::Ident(Ident::new("crate", name.span()))]);
                }
                TokenTree::Ident(name) => match (bound.get(&name.to_string())?, index) {
                    (Bound::One(tokens), _) => out.extend(tokens.clone()),
                    (Bound::Many(all), Some(index)) => out.extend(all.get(index)?.clone()),
                    (Bound::Many(_), None) => return None,
                },
                TokenTree::Group(repeated) if repeated.delimiter() == Delimiter::Parenthesis => {
                    // An optional separator, then `*`, `+` or `?`.
                    let mut separator = None;
                    match tokens.next()? {
                        TokenTree::Punct(p) if matches!(p.as_char(), '*' | '+' | '?') => {}
                        other => {
                            separator = Some(other);
                            match tokens.next()? {
                                TokenTree::Punct(p) if matches!(p.as_char(), '*' | '+') => {}
                                _ => return None,
                            }
                        }
                    }
                    let count = repetitions(repeated.stream(), bound)?;
                    for i in 0..count {
                        if i > 0
                            && let Some(separator) = &separator
                        {
                            out.extend([separator.clone()]);
                        }
                        out.extend(transcribe(repeated.stream(), bound, Some(i))?);
                    }
                }
                _ => return None,
            },
            TokenTree::Group(group) => {
                let inner = transcribe(group.stream(), bound, index)?;
                let mut copy = Group::new(group.delimiter(), inner);
                copy.set_span(group.span());
                out.extend([TokenTree::Group(copy)]);
            }
            other => out.extend([other]),
        }
    }
    Some(out)
}

/// How many times a `$( … )` repetition runs: the length of the repeated variable it uses.
fn repetitions(template: TokenStream, bound: &BTreeMap<String, Bound>) -> Option<usize> {
    let mut previous_dollar = false;
    for token in template {
        let is_dollar = token_punct(&token) == Some('$');
        match token {
            TokenTree::Ident(name) if previous_dollar => {
                if let Some(Bound::Many(all)) = bound.get(&name.to_string()) {
                    return Some(all.len());
                }
            }
            TokenTree::Group(group) => {
                if let Some(count) = repetitions(group.stream(), bound) {
                    return Some(count);
                }
            }
            _ => {}
        }
        previous_dollar = is_dollar;
    }
    None
}

fn token_punct(token: &TokenTree) -> Option<char> {
    match token {
        TokenTree::Punct(p) => Some(p.as_char()),
        _ => None,
    }
}

/// The items of a `cfg_if! { if #[cfg(a)] { … } else if #[cfg(b)] { … } else { … } }`, each
/// with the cfg of its branch: `a`, then `all(not(a), b)`, then `not(any(a, b))`.
pub(super) fn expand_cfg_if(input: &TokenStream) -> Option<Vec<syn::Item>> {
    let mut tokens = input.clone().into_iter();
    let mut earlier: Vec<TokenStream> = Vec::new();
    let mut items = Vec::new();
    loop {
        // `if #[cfg(pred)] { … }` or, after `else`, `{ … }` alone.
        let (predicate, body) = match tokens.next()? {
            TokenTree::Ident(word) if word == "if" => {
                let Some(TokenTree::Punct(hash)) = tokens.next() else {
                    return None;
                };
                if hash.as_char() != '#' {
                    return None;
                }
                let Some(TokenTree::Group(attr)) = tokens.next() else {
                    return None;
                };
                let meta: syn::Meta = syn::parse2(attr.stream()).ok()?;
                let syn::Meta::List(list) = meta else {
                    return None;
                };
                if !list.path.is_ident("cfg") {
                    return None;
                }
                let Some(TokenTree::Group(body)) = tokens.next() else {
                    return None;
                };
                (Some(list.tokens), body)
            }
            TokenTree::Group(body) if body.delimiter() == Delimiter::Brace => (None, body),
            _ => return None,
        };
        let negated: Vec<TokenStream> = earlier.iter().map(|p| quote::quote!(not(#p))).collect();
        let condition = match &predicate {
            Some(p) => {
                let mut all = negated.clone();
                all.push(p.clone());
                quote::quote!(all(#(#all),*))
            }
            None => quote::quote!(all(#(#negated),*)),
        };
        let file: syn::File = syn::parse2(body.stream()).ok()?;
        for mut item in file.items {
            let attr: syn::Attribute = syn::parse_quote!(#[cfg(#condition)]);
            if let Some(attrs) = item_attrs_mut(&mut item) {
                attrs.insert(0, attr);
            }
            items.push(item);
        }
        match predicate {
            Some(p) => earlier.push(p),
            None => return tokens.next().is_none().then_some(items),
        }
        match tokens.next() {
            None => return Some(items),
            Some(TokenTree::Ident(word)) if word == "else" => {}
            Some(_) => return None,
        }
    }
}

/// The attributes of an item, to add a cfg to.
pub(super) fn item_attrs_mut(item: &mut syn::Item) -> Option<&mut Vec<syn::Attribute>> {
    Some(match item {
        syn::Item::Const(i) => &mut i.attrs,
        syn::Item::Enum(i) => &mut i.attrs,
        syn::Item::ExternCrate(i) => &mut i.attrs,
        syn::Item::Fn(i) => &mut i.attrs,
        syn::Item::ForeignMod(i) => &mut i.attrs,
        syn::Item::Impl(i) => &mut i.attrs,
        syn::Item::Macro(i) => &mut i.attrs,
        syn::Item::Mod(i) => &mut i.attrs,
        syn::Item::Static(i) => &mut i.attrs,
        syn::Item::Struct(i) => &mut i.attrs,
        syn::Item::Trait(i) => &mut i.attrs,
        syn::Item::TraitAlias(i) => &mut i.attrs,
        syn::Item::Type(i) => &mut i.attrs,
        syn::Item::Union(i) => &mut i.attrs,
        syn::Item::Use(i) => &mut i.attrs,
        _ => return None,
    })
}
