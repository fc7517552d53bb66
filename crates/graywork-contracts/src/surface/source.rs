//! Where a crate's source files come from (a directory on disk, or files in memory such as a
//! git revision), and parsing one file with errors that name its file and line.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::anyhow;
use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Where source files come from: a directory on disk or an in-memory tree (a git revision).
pub trait SourceTree {
    /// The text of a file relative to the crate directory, or `None` if it does not exist.
    fn read(&self, relative: &Path) -> Option<String>;
}

/// A crate directory on disk.
#[derive(Debug, Clone)]
pub struct DiskTree {
    /// The crate directory (the one holding `Cargo.toml` and `src/`).
    pub root: PathBuf,
}

impl SourceTree for DiskTree {
    fn read(&self, relative: &Path) -> Option<String> {
        std::fs::read_to_string(self.root.join(relative)).ok()
    }
}

/// An in-memory tree: relative path -> file text.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
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
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => {
                if ident == "fn" {
                    after_fn = true;
                }
                out.push(TokenTree::Ident(ident));
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

/// `[doc = ...]`: the inside of a doc-text attribute.
fn is_doc_text(group: &proc_macro2::Group) -> bool {
    let mut tokens = group.stream().into_iter();
    matches!(tokens.next(), Some(TokenTree::Ident(ident)) if ident == "doc")
        && matches!(tokens.next(), Some(TokenTree::Punct(p)) if p.as_char() == '=')
}

pub fn slash_path(path: &Path) -> String {
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
pub fn crate_root(tree: &dyn SourceTree) -> Option<PathBuf> {
    ["src/lib.rs", "src/main.rs"]
        .into_iter()
        .map(PathBuf::from)
        .find(|candidate| tree.read(candidate).is_some())
}
