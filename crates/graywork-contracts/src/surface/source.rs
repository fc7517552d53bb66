//! Where a crate's source files come from (a directory on disk, or files in memory such as a
//! git revision), and parsing one file with errors that name its file and line.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::anyhow;
use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// Where source files come from: a directory on disk or an in-memory tree (a git revision).
pub trait SourceTree {
    /// The text of a file relative to the crate directory, or `None` if it does not exist.
    fn read(&self, relative: &Path) -> Option<String>;
}

/// A crate directory on disk.
#[derive(Debug, Clone)]
pub(crate) struct DiskTree {
    /// The crate directory (the one holding `Cargo.toml` and `src/`).
    pub root: PathBuf,
}

impl SourceTree for DiskTree {
    fn read(&self, relative: &Path) -> Option<String> {
        std::fs::read_to_string(self.root.join(relative)).ok()
    }
}

/// Another tree, telling a callback of every file looked up in it and what was found.
pub(crate) struct Told<'a> {
    /// Where the files come from.
    pub tree: DiskTree,
    /// Told the path and the text (`None`: no such file) of each lookup.
    pub looked: &'a dyn Fn(&Path, Option<&str>),
}

impl SourceTree for Told<'_> {
    fn read(&self, relative: &Path) -> Option<String> {
        let text = self.tree.read(relative);
        (self.looked)(relative, text.as_deref());
        text
    }
}

/// An in-memory tree: relative path -> file text.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemoryTree {
    /// The files.
    pub files: BTreeMap<PathBuf, String>,
}

impl SourceTree for MemoryTree {
    fn read(&self, relative: &Path) -> Option<String> {
        self.files.get(relative).cloned()
    }
}

/// Parses one file, turning a lexer or syn error into `file:line:column: message`.
///
/// Function bodies are emptied before syn sees them: they are not surface (only whether a
/// trait method has a default is), and skipping them more than halves the parse time.
/// Spans are kept, so lines stay right.
pub(crate) fn parse_file(text: &str, path: &Path) -> anyhow::Result<syn::File> {
    let located = |line: usize, column: usize, message: String| {
        anyhow!(
            "{}:{line}:{}: parse error: {message}",
            slash_path(path),
            column + 1
        )
    };
    // A shebang line is not Rust; blank it out so line numbers stay right.
    let text = match text.strip_prefix("#!") {
        Some(rest) if !rest.trim_start().starts_with('[') => {
            let end = text.find('\n').unwrap_or(text.len());
            format!("{}{}", " ".repeat(end), &text[end..])
        }
        _ => text.to_string(),
    };
    let tokens: TokenStream = text.parse().map_err(|err: proc_macro2::LexError| {
        let start = err.span().start();
        located(start.line, start.column, err.to_string())
    })?;
    syn::parse2(strip_fn_bodies(tokens)).map_err(|err| {
        let start = err.span().start();
        located(start.line, start.column, err.to_string())
    })
}

/// Replaces the body of every `fn` (free, inherent, trait or nested in modules and impls) with
/// an empty block carrying the same span, and drops doc text (`/// ...`, `#[doc = "..."]`),
/// which is not surface either and is often the bulk of a file. `#[doc(hidden)]` stays.
fn strip_fn_bodies(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut after_fn = false;
    // Whether the parameter list of the `fn` being read is still ahead, and how deep in its
    // generics (`<F: Fn(u8)>`) the reading is: the list is the first `(…)` outside them.
    let mut params_ahead = false;
    let mut generics_depth = 0usize;
    let mut previous_dash = false;
    for token in tokens {
        if params_ahead && let TokenTree::Punct(punct) = &token {
            match punct.as_char() {
                '<' => generics_depth += 1,
                '>' if !previous_dash => generics_depth = generics_depth.saturating_sub(1),
                _ => {}
            }
        }
        previous_dash = matches!(&token, TokenTree::Punct(p) if p.as_char() == '-');
        match token {
            TokenTree::Ident(ident) => {
                if ident == "fn" {
                    after_fn = true;
                    params_ahead = true;
                    generics_depth = 0;
                }
                out.push(TokenTree::Ident(ident));
            }
            TokenTree::Group(group)
                if params_ahead
                    && generics_depth == 0
                    && group.delimiter() == Delimiter::Parenthesis =>
            {
                params_ahead = false;
                let mut named = proc_macro2::Group::new(
                    Delimiter::Parenthesis,
                    name_anonymous_params(group.stream()),
                );
                named.set_span(group.span());
                out.push(TokenTree::Group(named));
            }
            TokenTree::Punct(punct) => {
                if punct.as_char() == ';' {
                    after_fn = false;
                }
                out.push(TokenTree::Punct(punct));
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                let stream = if after_fn {
                    TokenStream::new()
                } else {
                    strip_fn_bodies(group.stream())
                };
                after_fn = false;
                let mut replaced = proc_macro2::Group::new(Delimiter::Brace, stream);
                replaced.set_span(group.span());
                out.push(TokenTree::Group(replaced));
            }
            TokenTree::Group(group)
                if group.delimiter() == Delimiter::Bracket && is_doc_text(&group) =>
            {
                // Drop the attribute's `#` (and the `!` of an inner one) with it.
                if matches!(out.last(), Some(TokenTree::Punct(p)) if p.as_char() == '!') {
                    out.pop();
                }
                if matches!(out.last(), Some(TokenTree::Punct(p)) if p.as_char() == '#') {
                    out.pop();
                } else {
                    out.push(TokenTree::Group(group));
                }
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// A parameter list with each parameter that has no name (`fn reseed(&mut self, Seed);`, as
/// Rust 2015 trait methods may write it) given `_`, so syn reads it; named ones, receivers and
/// fn-pointer parameter lists stay as they are.
fn name_anonymous_params(params: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = params.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let name_if_anonymous = |param: &[TokenTree], out: &mut Vec<TokenTree>| {
        // A lone `:` outside generics names the parameter (`::` is a path separator).
        let named = outside_generics(param).any(|(index, p)| {
            p.as_char() == ':'
                && p.spacing() == Spacing::Alone
                && !(index > 0
                    && matches!(&param[index - 1], TokenTree::Punct(c) if c.as_char() == ':'))
        });
        // `self` is a receiver; `$x` is a macro_rules! fragment, which names itself.
        let receiver = param.iter().any(|t| {
            matches!(t, TokenTree::Ident(i) if i == "self")
                || matches!(t, TokenTree::Punct(p) if p.as_char() == '$')
        });
        if !named && !receiver && !param.is_empty() {
            let span = param[0].span();
            out.push(TokenTree::Ident(proc_macro2::Ident::new("_", span)));
            let mut colon = proc_macro2::Punct::new(':', Spacing::Alone);
            colon.set_span(span);
            out.push(TokenTree::Punct(colon));
        }
        out.extend(param.iter().cloned());
    };
    let mut start = 0;
    let commas: Vec<usize> = outside_generics(&tokens)
        .filter(|(_, p)| p.as_char() == ',')
        .map(|(index, _)| index)
        .collect();
    for comma in commas {
        name_if_anonymous(&tokens[start..comma], &mut out);
        out.push(tokens[comma].clone());
        start = comma + 1;
    }
    name_if_anonymous(&tokens[start..], &mut out);
    out.into_iter().collect()
}

/// The punctuation of `tokens` outside `<…>` generics (the `>` of `->` closes nothing), with
/// each one's index.
fn outside_generics(tokens: &[TokenTree]) -> impl Iterator<Item = (usize, &proc_macro2::Punct)> {
    let mut depth = 0usize;
    tokens.iter().enumerate().filter_map(move |(index, token)| {
        let TokenTree::Punct(punct) = token else {
            return None;
        };
        let after_dash =
            index > 0 && matches!(&tokens[index - 1], TokenTree::Punct(d) if d.as_char() == '-');
        match punct.as_char() {
            '<' => depth += 1,
            '>' if !after_dash => depth = depth.saturating_sub(1),
            _ if depth == 0 => return Some((index, punct)),
            _ => {}
        }
        None
    })
}

/// `[doc = ...]`: the inside of a doc-text attribute.
fn is_doc_text(group: &proc_macro2::Group) -> bool {
    let mut tokens = group.stream().into_iter();
    matches!(tokens.next(), Some(TokenTree::Ident(ident)) if ident == "doc")
        && matches!(tokens.next(), Some(TokenTree::Punct(p)) if p.as_char() == '=')
}

pub(crate) fn slash_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// `path` without `.` components and `name/..` pairs, so two spellings of one file compare equal.
pub(super) fn lexical_key(path: &Path) -> PathBuf {
    let mut key = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(key.components().next_back(), Some(Component::Normal(_))) =>
            {
                key.pop();
            }
            other => key.push(other),
        }
    }
    key
}

/// The crate root file of a tree: `src/lib.rs`, else `src/main.rs`.
pub(crate) fn crate_root(tree: &dyn SourceTree) -> Option<PathBuf> {
    ["src/lib.rs", "src/main.rs"]
        .into_iter()
        .map(PathBuf::from)
        .find(|candidate| tree.read(candidate).is_some())
}
