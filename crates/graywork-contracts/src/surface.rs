//! Surface extraction: parse a crate's sources with syn and record its public API as
//! normalised token strings (traits, structs, enums, functions and consts).
//!
//! The crate is walked from its root file through `mod` declarations (files on disk or inline,
//! with `#[path]`), and the public surface is what can be named from outside: `pub` items in
//! `pub` modules, plus everything reached through `pub use` re-exports (single names, renames,
//! groups and globs). `#[doc(hidden)]` and private items are left out; hidden paths are kept
//! apart so the diff can say "now doc-hidden" instead of "missing".

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, anyhow};
use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use serde::{Deserialize, Serialize};

/// Where an item is written: a path relative to the crate (or the lock file) and a 1-based line.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    /// The file, with `/` separators.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The public surface of a crate (or of its contract modules), keyed by item path.
///
/// Paths are written from the crate root without the crate name (`billing::v1::Invoice`).
/// Serialised as TOML, this is the body of the contract lock file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Surface {
    /// Module path -> the value of its `pub const VERSION: &str`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub versions: BTreeMap<String, String>,
    /// Public traits.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub traits: BTreeMap<String, TraitDef>,
    /// Public structs.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub structs: BTreeMap<String, StructDef>,
    /// Public enums.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub enums: BTreeMap<String, EnumDef>,
    /// Public free functions.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub functions: BTreeMap<String, FnSig>,
    /// Public module-level consts and statics.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub consts: BTreeMap<String, ConstDef>,
    /// Paths of `#[doc(hidden)]` items and members (`Trait::method`, `Struct::field`) that would
    /// otherwise be surface. Only known for source trees, never stored.
    #[serde(skip)]
    pub hidden: BTreeSet<String>,
}

/// A public trait.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraitDef {
    /// Where it is declared.
    #[serde(skip)]
    pub loc: Loc,
    /// Its `#[cfg]` (and its modules'), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cfg: Option<String>,
    /// `unsafe trait`.
    #[serde(rename = "unsafe", skip_serializing_if = "is_false")]
    pub is_unsafe: bool,
    /// Has a supertrait that cannot be named outside the crate, so only the crate implements it.
    #[serde(skip_serializing_if = "is_false")]
    pub sealed: bool,
    /// Generic parameters and where-clause, normalised.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub generics: String,
    /// Nameable supertraits as written.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub supertraits: BTreeSet<String>,
    /// Methods by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub methods: BTreeMap<String, FnSig>,
    /// Associated types by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub types: BTreeMap<String, AssocType>,
    /// Associated consts by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub consts: BTreeMap<String, AssocConst>,
}

/// A function or trait method signature. Parameter names are not surface; default bodies
/// count only as "has a default".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FnSig {
    /// Where it is declared.
    #[serde(skip)]
    pub loc: Loc,
    /// Its `#[cfg]`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cfg: Option<String>,
    /// `unsafe fn`.
    #[serde(rename = "unsafe", skip_serializing_if = "is_false")]
    pub is_unsafe: bool,
    /// `async fn`.
    #[serde(rename = "async", skip_serializing_if = "is_false")]
    pub is_async: bool,
    /// `const fn`.
    #[serde(rename = "const", skip_serializing_if = "is_false")]
    pub is_const: bool,
    /// Generic parameters and where-clause, normalised.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub generics: String,
    /// The receiver (`&self`, `&mut self`, `self`, `self: Box<Self>`), if a method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// Parameter types, in order, without names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<String>,
    /// The return type; empty for `()`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub output: String,
    /// A trait method with a default body.
    #[serde(skip_serializing_if = "is_false")]
    pub default: bool,
}

/// A trait's associated type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssocType {
    /// Where it is declared.
    #[serde(skip)]
    pub loc: Loc,
    /// Generic parameters, bounds and where-clause, normalised.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bounds: String,
    /// Has a default.
    #[serde(skip_serializing_if = "is_false")]
    pub default: bool,
}

/// A trait's associated const.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssocConst {
    /// Where it is declared.
    #[serde(skip)]
    pub loc: Loc,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Has a default value.
    #[serde(skip_serializing_if = "is_false")]
    pub default: bool,
}

/// The shape of a struct or enum variant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// `{ a: T }`.
    #[default]
    Named,
    /// `(T)`.
    Tuple,
    /// No fields.
    Unit,
}

impl Shape {
    /// The word used in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Shape::Named => "struct-like",
            Shape::Tuple => "tuple",
            Shape::Unit => "unit",
        }
    }
}

/// A public field (of a struct or an enum variant).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldDef {
    /// Where it is declared.
    #[serde(skip)]
    pub loc: Loc,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: String,
}

/// A public struct.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StructDef {
    /// Where it is declared.
    #[serde(skip)]
    pub loc: Loc,
    /// Its `#[cfg]` (and its modules'), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cfg: Option<String>,
    /// `#[non_exhaustive]`.
    #[serde(skip_serializing_if = "is_false")]
    pub non_exhaustive: bool,
    /// Named, tuple or unit.
    pub shape: Shape,
    /// Generic parameters and where-clause, normalised.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub generics: String,
    /// Has fields that are not public (or are doc-hidden), so it cannot be built outside.
    #[serde(skip_serializing_if = "is_false")]
    pub private_fields: bool,
    /// Public fields by name (`0`, `1`, … for tuple structs).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, FieldDef>,
}

/// A public enum.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnumDef {
    /// Where it is declared.
    #[serde(skip)]
    pub loc: Loc,
    /// Its `#[cfg]` (and its modules'), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cfg: Option<String>,
    /// `#[non_exhaustive]`.
    #[serde(skip_serializing_if = "is_false")]
    pub non_exhaustive: bool,
    /// Generic parameters and where-clause, normalised.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub generics: String,
    /// Variants by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, VariantDef>,
}

/// An enum variant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VariantDef {
    /// Where it is declared.
    #[serde(skip)]
    pub loc: Loc,
    /// `#[non_exhaustive]` on the variant.
    #[serde(skip_serializing_if = "is_false")]
    pub non_exhaustive: bool,
    /// Named, tuple or unit.
    pub shape: Shape,
    /// Fields by name (`0`, `1`, … for tuple variants).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, FieldDef>,
}

/// A public module-level const or static.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConstDef {
    /// Where it is declared.
    #[serde(skip)]
    pub loc: Loc,
    /// Its `#[cfg]` (and its modules'), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cfg: Option<String>,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: String,
}

fn is_false(value: &bool) -> bool {
    !*value
}

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

/// Extracts the public surface of the crate whose root file is `root_file` (relative to the tree,
/// usually `src/lib.rs`).
///
/// Errors name the file and line of a parse error, or the `mod` whose file is missing.
pub fn extract(tree: &dyn SourceTree, root_file: &Path) -> anyhow::Result<Surface> {
    let mut walker = Walker {
        tree,
        modules: BTreeMap::new(),
        defs: BTreeMap::new(),
        open_files: vec![lexical_key(root_file)],
    };
    let text = tree
        .read(root_file)
        .ok_or_else(|| anyhow!("cannot read crate root `{}`", root_file.display()))?;
    let file = parse_file(&text, root_file)?;
    let child_dir = root_file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    walker.walk_module(
        Vec::new(),
        ModuleCtx {
            public: true,
            hidden: false,
            cfg: Vec::new(),
            file: slash_path(root_file),
            child_dir,
        },
        &file.items,
    )?;
    Ok(walker.finish())
}

/// Parses one file, turning a lexer or syn error into `file:line:column: message`.
///
/// Function bodies are emptied before syn sees them: they are not surface (only whether a
/// trait method has a default is), and skipping them more than halves the parse time.
/// Spans are kept, so lines stay right.
pub(super) fn parse_file(text: &str, path: &Path) -> anyhow::Result<syn::File> {
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
/// an empty block carrying the same span.
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
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

pub(super) fn slash_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// `path` without `.` components and `name/..` pairs, so two spellings of one file compare equal.
fn lexical_key(path: &Path) -> PathBuf {
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

/// Context of the module being walked.
#[derive(Debug, Clone)]
struct ModuleCtx {
    /// Reachable by path from outside the crate.
    public: bool,
    hidden: bool,
    cfg: Vec<String>,
    /// The file this module's items are written in.
    file: String,
    /// The directory where `mod x;` inside this module looks for `x.rs` / `x/mod.rs`.
    child_dir: PathBuf,
}

/// One module's names.
#[derive(Debug, Default)]
struct ModuleData {
    /// Child modules: name -> (declared `pub`, doc-hidden).
    children: BTreeMap<String, (bool, bool)>,
    /// Items defined here: name -> full path (as segments).
    defs: BTreeMap<String, Vec<String>>,
    /// `use` declarations, flattened.
    uses: Vec<UseEntry>,
}

#[derive(Debug, Clone)]
struct UseEntry {
    /// `None` for a glob.
    name: Option<String>,
    target: Vec<String>,
    public: bool,
    hidden: bool,
}

/// An item defined in the crate, before visibility is decided.
#[derive(Debug)]
struct RawDef {
    module: Vec<String>,
    public: bool,
    hidden: bool,
    kind: RawKind,
    /// Raw supertrait paths of a trait, resolved after the walk to decide sealed-ness.
    supertraits: Vec<(Vec<String>, String)>,
    /// The string value of a `&str` const (for `VERSION`).
    str_value: Option<String>,
}

#[derive(Debug)]
enum RawKind {
    Trait(TraitDef),
    Struct(StructDef),
    Enum(EnumDef),
    Function(FnSig),
    Const(ConstDef),
}

/// What a name resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Def(Vec<String>),
    Module(Vec<String>),
}

struct Walker<'a> {
    tree: &'a dyn SourceTree,
    modules: BTreeMap<Vec<String>, ModuleData>,
    defs: BTreeMap<Vec<String>, RawDef>,
    /// The files of the module being walked and of its enclosing modules, so a `#[path]` that
    /// leads back into one of them is reported instead of recursing without end.
    open_files: Vec<PathBuf>,
}

/// How deep re-export chains and module aliases are followed; guards against cycles.
const MAX_DEPTH: usize = 32;

impl Walker<'_> {
    fn walk_module(
        &mut self,
        path: Vec<String>,
        ctx: ModuleCtx,
        items: &[syn::Item],
    ) -> anyhow::Result<()> {
        self.modules.entry(path.clone()).or_default();
        for item in items {
            self.walk_item(&path, &ctx, item)?;
        }
        Ok(())
    }

    fn walk_item(
        &mut self,
        module: &[String],
        ctx: &ModuleCtx,
        item: &syn::Item,
    ) -> anyhow::Result<()> {
        let file = &ctx.file;
        let mut supertraits = Vec::new();
        let mut str_value = None;
        let (ident, vis, attrs, kind) = match item {
            syn::Item::Mod(item_mod) => return self.walk_mod(module, ctx, item_mod),
            syn::Item::Use(item_use) => {
                let public = is_pub(&item_use.vis);
                let hidden = is_doc_hidden(&item_use.attrs);
                let mut entries = Vec::new();
                flatten_use(&item_use.tree, Vec::new(), &mut entries);
                let data = self.modules.entry(module.to_vec()).or_default();
                for (name, target) in entries {
                    data.uses.push(UseEntry {
                        name,
                        target,
                        public,
                        hidden,
                    });
                }
                return Ok(());
            }
            syn::Item::Trait(item_trait) => {
                let (def, supers) = extract_trait(item_trait, file, ctx);
                supertraits = supers.into_iter().collect();
                let kind = RawKind::Trait(def);
                (&item_trait.ident, &item_trait.vis, &item_trait.attrs, kind)
            }
            syn::Item::Struct(item_struct) => {
                let kind = RawKind::Struct(extract_struct(item_struct, file, ctx));
                (
                    &item_struct.ident,
                    &item_struct.vis,
                    &item_struct.attrs,
                    kind,
                )
            }
            syn::Item::Enum(item_enum) => {
                let kind = RawKind::Enum(extract_enum(item_enum, file, ctx));
                (&item_enum.ident, &item_enum.vis, &item_enum.attrs, kind)
            }
            syn::Item::Fn(item_fn) => {
                let mut sig = extract_sig(&item_fn.sig, file);
                sig.cfg = join_cfg(&ctx.cfg, &item_fn.attrs);
                let kind = RawKind::Function(sig);
                (&item_fn.sig.ident, &item_fn.vis, &item_fn.attrs, kind)
            }
            syn::Item::Const(item_const) => {
                str_value = match &*item_const.expr {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(lit),
                        ..
                    }) => Some(lit.value()),
                    _ => None,
                };
                let def = const_def(
                    file,
                    ctx,
                    &item_const.ident,
                    &item_const.attrs,
                    &item_const.ty,
                );
                (
                    &item_const.ident,
                    &item_const.vis,
                    &item_const.attrs,
                    RawKind::Const(def),
                )
            }
            syn::Item::Static(item_static) => {
                let def = const_def(
                    file,
                    ctx,
                    &item_static.ident,
                    &item_static.attrs,
                    &item_static.ty,
                );
                (
                    &item_static.ident,
                    &item_static.vis,
                    &item_static.attrs,
                    RawKind::Const(def),
                )
            }
            // Impls, macros, type aliases and the rest are not part of the recorded surface.
            _ => return Ok(()),
        };
        let name = ident.to_string();
        let mut path = module.to_vec();
        path.push(name.clone());
        self.modules
            .entry(module.to_vec())
            .or_default()
            .defs
            .insert(name, path.clone());
        self.defs.insert(
            path,
            RawDef {
                module: module.to_vec(),
                public: is_pub(vis),
                hidden: ctx.hidden || is_doc_hidden(attrs),
                kind,
                supertraits,
                str_value,
            },
        );
        Ok(())
    }

    fn walk_mod(
        &mut self,
        module: &[String],
        ctx: &ModuleCtx,
        item_mod: &syn::ItemMod,
    ) -> anyhow::Result<()> {
        let name = item_mod.ident.to_string();
        let public = is_pub(&item_mod.vis);
        let hidden = is_doc_hidden(&item_mod.attrs);
        self.modules
            .entry(module.to_vec())
            .or_default()
            .children
            .insert(name.clone(), (public, hidden));
        let mut path = module.to_vec();
        path.push(name.clone());
        let mut cfg = ctx.cfg.clone();
        cfg.extend(cfg_predicates(&item_mod.attrs));
        let child_public = ctx.public && public;
        let child_hidden = ctx.hidden || hidden;
        if let Some((_, items)) = &item_mod.content {
            let child = ModuleCtx {
                public: child_public,
                hidden: child_hidden,
                cfg,
                file: ctx.file.clone(),
                child_dir: ctx.child_dir.join(&name),
            };
            return self.walk_module(path, child, items);
        }
        let candidates = match path_attr(&item_mod.attrs) {
            Some(explicit) => {
                let base = Path::new(&ctx.file).parent().unwrap_or(Path::new(""));
                vec![base.join(explicit)]
            }
            None => vec![
                ctx.child_dir.join(format!("{name}.rs")),
                ctx.child_dir.join(&name).join("mod.rs"),
            ],
        };
        let found = candidates
            .iter()
            .find_map(|candidate| self.tree.read(candidate).map(|text| (candidate, text)));
        let Some((file_path, text)) = found else {
            let line = item_mod.ident.span().start().line;
            return Err(anyhow!(
                "{}:{line}: module `{name}` has no file (looked for {})",
                ctx.file,
                candidates
                    .iter()
                    .map(|c| format!("`{}`", slash_path(c)))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ));
        };
        let file = slash_path(file_path);
        let key = lexical_key(file_path);
        if self.open_files.contains(&key) {
            let line = item_mod.ident.span().start().line;
            return Err(anyhow!(
                "{}:{line}: module `{name}` is read from `{file}`, which encloses it: the module tree would never end",
                ctx.file
            ));
        }
        let parsed = parse_file(&text, file_path)?;
        let is_mod_rs = file_path.file_name().is_some_and(|f| f == "mod.rs")
            || path_attr(&item_mod.attrs).is_some();
        let child_dir = if is_mod_rs {
            file_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        } else {
            file_path.with_extension("")
        };
        let child = ModuleCtx {
            public: child_public,
            hidden: child_hidden,
            cfg,
            file: file.clone(),
            child_dir,
        };
        self.open_files.push(key);
        let walked = self.walk_module(path, child, &parsed.items);
        self.open_files.pop();
        walked
    }

    /// Resolves a path written in `from` to a definition or a module of this crate.
    fn resolve(&self, from: &[String], segments: &[String], depth: usize) -> Option<Target> {
        if depth > MAX_DEPTH || segments.is_empty() {
            return None;
        }
        let mut current: Vec<String> = from.to_vec();
        let mut rest = segments;
        match segments[0].as_str() {
            "crate" => {
                current.clear();
                rest = &segments[1..];
            }
            "self" => rest = &segments[1..],
            "super" => {
                while rest.first().is_some_and(|s| s == "super") {
                    current.pop()?;
                    rest = &rest[1..];
                }
            }
            _ => {}
        }
        let mut target = Target::Module(current);
        for (index, segment) in rest.iter().enumerate() {
            let Target::Module(module) = &target else {
                return None;
            };
            let last = index + 1 == rest.len();
            target = self.lookup(module, segment, last, depth)?;
        }
        Some(target)
    }

    /// Looks one name up in a module: child modules, definitions, then `use` declarations.
    fn lookup(&self, module: &[String], name: &str, last: bool, depth: usize) -> Option<Target> {
        let data = self.modules.get(module)?;
        if data.children.contains_key(name) {
            let mut path = module.to_vec();
            path.push(name.to_string());
            return Some(Target::Module(path));
        }
        if let Some(path) = data.defs.get(name)
            && last
        {
            return Some(Target::Def(path.clone()));
        }
        for entry in &data.uses {
            if entry.name.as_deref() == Some(name) {
                return self.resolve(module, &entry.target, depth + 1);
            }
        }
        for entry in data.uses.iter().filter(|e| e.name.is_none()) {
            if let Some(Target::Module(glob)) = self.resolve(module, &entry.target, depth + 1)
                && let Some(found) = self.lookup(&glob, name, last, depth + 1)
            {
                return Some(found);
            }
        }
        None
    }

    /// The names a module exports: name -> (target, doc-hidden).
    fn exports(&self, module: &[String], depth: usize) -> BTreeMap<String, (Target, bool)> {
        let mut out = BTreeMap::new();
        let Some(data) = self.modules.get(module) else {
            return out;
        };
        if depth > MAX_DEPTH {
            return out;
        }
        // Globs first, so explicit names override them.
        for entry in data.uses.iter().filter(|e| e.public && e.name.is_none()) {
            if let Some(Target::Module(glob)) = self.resolve(module, &entry.target, depth + 1) {
                for (name, (target, hidden)) in self.exports(&glob, depth + 1) {
                    out.insert(name, (target, hidden || entry.hidden));
                }
            }
        }
        for (name, (public, hidden)) in &data.children {
            if *public {
                let mut path = module.to_vec();
                path.push(name.clone());
                out.insert(name.clone(), (Target::Module(path), *hidden));
            }
        }
        for (name, path) in &data.defs {
            if let Some(def) = self.defs.get(path)
                && def.public
            {
                out.insert(name.clone(), (Target::Def(path.clone()), def.hidden));
            }
        }
        for entry in data.uses.iter().filter(|e| e.public) {
            let Some(name) = &entry.name else { continue };
            if let Some(target) = self.resolve(module, &entry.target, depth + 1) {
                let hidden = entry.hidden
                    || matches!(&target, Target::Def(path) if self.defs.get(path).is_some_and(|d| d.hidden));
                out.insert(name.clone(), (target, hidden));
            }
        }
        out
    }

    /// Builds the surface: every definition reachable by a public path.
    fn finish(self) -> Surface {
        let mut reached: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut hidden_paths = BTreeSet::new();
        let mut stack = vec![(Vec::<String>::new(), Vec::<String>::new(), 0usize)];
        while let Some((module, prefix, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                continue;
            }
            for (name, (target, hidden)) in self.exports(&module, 0) {
                let mut surface_path = prefix.clone();
                surface_path.push(name);
                if hidden {
                    hidden_paths.insert(surface_path.join("::"));
                    continue;
                }
                match target {
                    Target::Def(def_path) => {
                        reached.insert(surface_path.join("::"), def_path);
                    }
                    Target::Module(module_path) => {
                        stack.push((module_path, surface_path, depth + 1));
                    }
                }
            }
        }
        let public_defs: BTreeSet<&Vec<String>> = reached.values().collect();
        let mut surface = Surface {
            hidden: hidden_paths,
            ..Surface::default()
        };
        for (path, def_path) in &reached {
            let Some(def) = self.defs.get(def_path) else {
                continue;
            };
            match &def.kind {
                RawKind::Trait(trait_def) => {
                    let mut trait_def = trait_def.clone();
                    for (segments, written) in &def.supertraits {
                        let private = matches!(
                            self.resolve(&def.module, segments, 0),
                            Some(Target::Def(target)) if !public_defs.contains(&target)
                        );
                        if private {
                            trait_def.sealed = true;
                        } else {
                            trait_def.supertraits.insert(written.clone());
                        }
                    }
                    for member in &trait_def.hidden_members() {
                        surface.hidden.insert(format!("{path}::{member}"));
                    }
                    trait_def.strip_hidden();
                    surface.traits.insert(path.clone(), trait_def);
                }
                RawKind::Struct(struct_def) => {
                    let mut struct_def = struct_def.clone();
                    let marked: Vec<String> = struct_def
                        .fields
                        .keys()
                        .filter(|name| name.starts_with(HIDDEN_MARK))
                        .cloned()
                        .collect();
                    for key in marked {
                        struct_def.fields.remove(&key);
                        let field = key.trim_start_matches(HIDDEN_MARK);
                        surface.hidden.insert(format!("{path}::{field}"));
                        struct_def.private_fields = true;
                    }
                    surface.structs.insert(path.clone(), struct_def);
                }
                RawKind::Enum(enum_def) => {
                    surface.enums.insert(path.clone(), enum_def.clone());
                }
                RawKind::Function(sig) => {
                    surface.functions.insert(path.clone(), sig.clone());
                }
                RawKind::Const(const_def) => {
                    if let (Some(value), Some(last)) = (&def.str_value, def_path.last())
                        && last == "VERSION"
                    {
                        let module = path.rsplit_once("::").map_or("", |(m, _)| m);
                        surface.versions.insert(module.to_string(), value.clone());
                    }
                    surface.consts.insert(path.clone(), const_def.clone());
                }
            }
        }
        surface
    }
}

/// Marker prefix for members hidden during extraction; removed in [`Walker::finish`].
const HIDDEN_MARK: &str = "#hidden#";

impl TraitDef {
    fn hidden_members(&self) -> Vec<String> {
        let strip = |name: &String| name.strip_prefix(HIDDEN_MARK).map(str::to_string);
        self.methods
            .keys()
            .filter_map(strip)
            .chain(self.types.keys().filter_map(strip))
            .chain(self.consts.keys().filter_map(strip))
            .collect()
    }

    fn strip_hidden(&mut self) {
        self.methods
            .retain(|name, _| !name.starts_with(HIDDEN_MARK));
        self.types.retain(|name, _| !name.starts_with(HIDDEN_MARK));
        self.consts.retain(|name, _| !name.starts_with(HIDDEN_MARK));
    }
}

pub(super) fn flatten_use(
    tree: &syn::UseTree,
    prefix: Vec<String>,
    out: &mut Vec<(Option<String>, Vec<String>)>,
) {
    match tree {
        syn::UseTree::Path(path) => {
            let mut prefix = prefix;
            prefix.push(path.ident.to_string());
            flatten_use(&path.tree, prefix, out);
        }
        syn::UseTree::Name(name) => {
            let ident = name.ident.to_string();
            if ident == "self" {
                if let Some(last) = prefix.last() {
                    out.push((Some(last.clone()), prefix.clone()));
                }
            } else {
                let mut target = prefix;
                target.push(ident.clone());
                out.push((Some(ident), target));
            }
        }
        syn::UseTree::Rename(rename) => {
            let alias = rename.rename.to_string();
            if alias == "_" {
                return;
            }
            let ident = rename.ident.to_string();
            let target = if ident == "self" {
                prefix
            } else {
                let mut target = prefix;
                target.push(ident);
                target
            };
            out.push((Some(alias), target));
        }
        syn::UseTree::Glob(_) => out.push((None, prefix)),
        syn::UseTree::Group(group) => {
            for item in &group.items {
                flatten_use(item, prefix.clone(), out);
            }
        }
    }
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

/// `#[doc(hidden)]`.
fn is_doc_hidden(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("doc")
            && matches!(&attr.meta, syn::Meta::List(list)
                if list.tokens.clone().into_iter().any(|t| matches!(t, TokenTree::Ident(i) if i == "hidden")))
    })
}

fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|attr| attr.path().is_ident(name))
}

/// The predicates of every `#[cfg(...)]` on an item, normalised.
pub(super) fn cfg_predicates(attrs: &[syn::Attribute]) -> Vec<String> {
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
fn join_cfg(outer: &[String], attrs: &[syn::Attribute]) -> Option<String> {
    let mut all: Vec<String> = outer.to_vec();
    all.extend(cfg_predicates(attrs));
    match all.len() {
        0 => None,
        1 => all.pop(),
        _ => Some(format!("all({})", all.join(", "))),
    }
}

/// `#[path = "..."]` on a module declaration.
fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
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
fn const_def(
    file: &str,
    ctx: &ModuleCtx,
    ident: &syn::Ident,
    attrs: &[syn::Attribute],
    ty: &syn::Type,
) -> ConstDef {
    ConstDef {
        loc: loc_of(file, ident),
        cfg: join_cfg(&ctx.cfg, attrs),
        ty: tidy(ty.to_token_stream()),
    }
}

fn loc_of(file: &str, ident: &syn::Ident) -> Loc {
    Loc {
        file: file.to_string(),
        line: ident.span().start().line,
    }
}

fn extract_trait(
    item: &syn::ItemTrait,
    file: &str,
    ctx: &ModuleCtx,
) -> (TraitDef, Vec<(Vec<String>, String)>) {
    let mut def = TraitDef {
        loc: loc_of(file, &item.ident),
        cfg: join_cfg(&ctx.cfg, &item.attrs),
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

/// A member's key: its name, marked when doc-hidden so [`Walker::finish`] can set it apart.
fn member_name(ident: &syn::Ident, attrs: &[syn::Attribute]) -> String {
    if is_doc_hidden(attrs) {
        format!("{HIDDEN_MARK}{ident}")
    } else {
        ident.to_string()
    }
}

fn extract_fields(
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
                loc: Loc {
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

fn extract_struct(item: &syn::ItemStruct, file: &str, ctx: &ModuleCtx) -> StructDef {
    let (shape, fields, private_fields) = extract_fields(&item.fields, file, true);
    StructDef {
        loc: loc_of(file, &item.ident),
        cfg: join_cfg(&ctx.cfg, &item.attrs),
        non_exhaustive: has_attr(&item.attrs, "non_exhaustive"),
        shape,
        generics: generics_string(&item.generics),
        private_fields,
        fields,
    }
}

fn extract_enum(item: &syn::ItemEnum, file: &str, ctx: &ModuleCtx) -> EnumDef {
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
        cfg: join_cfg(&ctx.cfg, &item.attrs),
        non_exhaustive: has_attr(&item.attrs, "non_exhaustive"),
        generics: generics_string(&item.generics),
        variants,
    }
}

/// Normalises a signature: names of parameters are dropped, `-> ()` is the same as no arrow, and
/// `mut self` is the same as `self`.
fn extract_sig(sig: &syn::Signature, file: &str) -> FnSig {
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
fn generics_string(generics: &syn::Generics) -> String {
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

/// Renders tokens as compact, deterministic text (`Result<Invoice, Error>`, `&'a mut self`),
/// independent of the source's whitespace and comments.
pub fn tidy(tokens: TokenStream) -> String {
    let mut out = String::new();
    let mut gap = Gap::None;
    render(tokens, &mut out, &mut gap);
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
                push(out, *gap, true, &ident.to_string());
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

/// Reads and extracts a crate directory on disk, rooted at `src/lib.rs` (or `src/main.rs`).
pub fn extract_dir(dir: &Path) -> anyhow::Result<Surface> {
    let tree = DiskTree {
        root: dir.to_path_buf(),
    };
    let root = crate_root(&tree)
        .with_context(|| format!("crate directory `{}` has no src/lib.rs", dir.display()))?;
    extract(&tree, &root)
}

/// The crate root file of a tree: `src/lib.rs`, else `src/main.rs`.
pub fn crate_root(tree: &dyn SourceTree) -> Option<PathBuf> {
    ["src/lib.rs", "src/main.rs"]
        .into_iter()
        .map(PathBuf::from)
        .find(|candidate| tree.read(candidate).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_of(files: &[(&str, &str)]) -> MemoryTree {
        MemoryTree {
            files: files
                .iter()
                .map(|(path, text)| (PathBuf::from(path), text.to_string()))
                .collect(),
        }
    }

    fn surface_of(files: &[(&str, &str)]) -> Surface {
        extract(&tree_of(files), Path::new("src/lib.rs")).expect("fixture parses")
    }

    /// The error extracting the crate rooted at `src/lib.rs` gives.
    fn error_of(files: &[(&str, &str)]) -> String {
        extract(&tree_of(files), Path::new("src/lib.rs"))
            .unwrap_err()
            .to_string()
    }

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
    fn follows_files_inline_modules_and_reexports() {
        let surface = surface_of(&[
            (
                "src/lib.rs",
                "pub mod billing; mod inner { pub struct Hidden; pub struct Shown; } pub use inner::Shown as Visible;",
            ),
            ("src/billing/mod.rs", "pub mod v1;"),
            (
                "src/billing/v1.rs",
                "pub const VERSION: &str = \"1.2.0\"; pub trait Service { fn go(&self, amount: u64) -> u64; } pub use crate::money::*;",
            ),
            ("src/money.rs", ""),
        ]);
        // `money` is not declared as a module, so the glob resolves to nothing.
        assert!(surface.traits.contains_key("billing::v1::Service"));
        assert!(surface.structs.contains_key("Visible"));
        assert!(!surface.structs.contains_key("inner::Hidden"));
        assert_eq!(
            surface.versions.get("billing::v1").map(String::as_str),
            Some("1.2.0")
        );
        let method = &surface.traits["billing::v1::Service"].methods["go"];
        assert_eq!(method.params, vec!["u64".to_string()]);
        assert_eq!(method.loc.file, "src/billing/v1.rs");
    }

    #[test]
    fn private_supertrait_seals_and_is_not_listed() {
        let surface = surface_of(&[(
            "src/lib.rs",
            "mod private { pub trait Sealed {} } pub trait Api: private::Sealed + Send { fn a(&self); }",
        )]);
        let api = &surface.traits["Api"];
        assert!(api.sealed);
        assert_eq!(
            api.supertraits.iter().cloned().collect::<Vec<_>>(),
            vec!["Send".to_string()]
        );
    }

    #[test]
    fn hidden_members_are_recorded_apart() {
        let surface = surface_of(&[(
            "src/lib.rs",
            "pub trait T { #[doc(hidden)] fn h(&self); fn v(&self); } pub struct S { pub a: u8, #[doc(hidden)] pub b: u8 } #[doc(hidden)] pub fn f() {}",
        )]);
        assert!(surface.traits["T"].methods.contains_key("v"));
        assert!(!surface.traits["T"].methods.contains_key("h"));
        assert!(surface.hidden.contains("T::h"));
        assert!(surface.hidden.contains("S::b"));
        assert!(surface.hidden.contains("f"));
        assert!(surface.structs["S"].private_fields);
    }

    #[test]
    fn cfg_of_module_and_item_is_joined() {
        let surface = surface_of(&[(
            "src/lib.rs",
            "#[cfg(feature = \"v2\")] pub mod v2 { #[cfg(unix)] pub fn f() {} pub struct S; }",
        )]);
        assert_eq!(
            surface.functions["v2::f"].cfg.as_deref(),
            Some("all(feature = \"v2\", unix)")
        );
        assert_eq!(
            surface.structs["v2::S"].cfg.as_deref(),
            Some("feature = \"v2\"")
        );
    }

    #[test]
    fn function_bodies_are_skipped_but_defaults_and_lines_are_kept() {
        let surface = surface_of(&[(
            "src/lib.rs",
            "#!/usr/bin/env run\npub trait T {\n    fn a(&self) -> u8 { let x = 1; x }\n    fn b(&self);\n}\npub fn f() { fn inner() {} }\nmod m { pub fn g() {} }\npub use m::g;\n",
        )]);
        let t = &surface.traits["T"];
        assert!(t.methods["a"].default);
        assert!(!t.methods["b"].default);
        assert_eq!(t.methods["b"].loc.line, 4);
        assert_eq!(surface.functions["g"].loc.line, 7);
        assert!(surface.functions.contains_key("f"));
    }

    #[test]
    fn lexer_error_names_file_and_line() {
        let err = error_of(&[("src/lib.rs", "pub fn f() {\n\n")]);
        assert!(err.starts_with("src/lib.rs:"), "{err}");
        assert!(err.contains("parse error"), "{err}");
    }

    #[test]
    fn parse_error_names_file_and_line() {
        let err = error_of(&[("src/lib.rs", "pub mod a;"), ("src/a.rs", "\npub fn (")]);
        assert!(err.starts_with("src/a.rs:2:"), "{err}");
    }

    #[test]
    fn module_file_that_encloses_itself_is_an_error() {
        let again = "#[path = \"../src/./a.rs\"]\npub mod again;";
        for files in [
            vec![("src/lib.rs", "#[path = \"lib.rs\"]\npub mod a;")],
            // A disk tree reads the second spelling as the same file.
            vec![
                ("src/lib.rs", "pub mod a;"),
                ("src/a.rs", again),
                ("src/../src/./a.rs", again),
            ],
        ] {
            let err = error_of(&files);
            assert!(err.contains("which encloses it"), "{err}");
        }
    }

    #[test]
    fn missing_module_file_is_an_error() {
        let err = error_of(&[("src/lib.rs", "pub mod gone;")]);
        assert!(err.contains("module `gone` has no file"), "{err}");
    }
}
