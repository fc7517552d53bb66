//! Name resolution: walk a crate's module tree from its root file (`mod` files, inline
//! modules, `#[path]`), record each module's definitions, `use` declarations and impls, and
//! decide what is reachable by a public path (`pub` items in `pub` modules, `pub use`
//! re-exports with renames, groups and globs).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::cfg::{CfgEnv, expand_cfg_attrs};
use super::expand::{MAX_EXPANSION_DEPTH, MacroRules, expand_cfg_if, has_pub, item_attrs_mut};
use super::extract::{
    HIDDEN_MARK, STD_TRAITS, cfg_predicates, const_def, extract_enum, extract_sig, extract_struct,
    extract_trait, extract_union, has_attr, is_deprecated, is_hidden, is_pub, join_cfg, list_metas,
    loc_of, member_name, path_attr,
};
use super::model::{
    ConstDef, FnSig, Location, MacroDef, MacroKind, ModuleDef, Surface, TraitDef, TypeFacts,
    Unread, UnreadKind,
};
use super::render::type_text;
use super::source::{SourceTree, lexical_key, parse_file, slash_path};
use quote::ToTokens;

mod data;
mod defmap;
mod mentions;
mod uses;

use data::{ModuleData, RawDef, RawKind, Target, UseEntry, Vis};
use defmap::DefMap;
pub use mentions::Mention;
pub(crate) use uses::{UseKind, UseSite};

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
    /// Written inline (`mod x { … }`), where a `#[path]` is relative to `child_dir` rather
    /// than to the file's directory.
    inline: bool,
}

/// A public path that leads to another crate's item (`pub use bytes::Bytes`), or a public
/// glob of another crate's names (`pub use bytes::*`, whose path ends in `*`).
#[derive(Debug, Clone)]
struct ExternalPath {
    /// The public path in this crate.
    path: String,
    /// Where the `use` that brings it is written.
    loc: Location,
    /// The item's path from the other crate's name.
    target: Vec<String>,
    /// A glob: the names it brings cannot be listed.
    glob: bool,
}

/// What public paths lead to, before the items are recorded.
struct Reach {
    /// Public path -> the definition it names.
    reached: BTreeMap<String, Vec<String>>,
    /// Public paths of doc-hidden items.
    hidden: BTreeSet<String>,
    /// Public modules.
    modules: BTreeMap<String, ModuleDef>,
    /// Public paths to other crates' items.
    external: Vec<ExternalPath>,
}

/// A crate's module tree after the walk: every module's names, every item defined in it
/// (public or not) and every `impl` block, ready for name resolution.
#[derive(Debug, Default)]
pub struct Crate {
    modules: BTreeMap<Vec<String>, ModuleData>,
    defs: BTreeMap<Vec<String>, RawDef>,
    impls: Vec<ImplBlock>,
    macros: Vec<RawMacro>,
    /// Names item-position macro invocations appear to declare.
    macro_generated: BTreeSet<String>,
    /// Every identifier in item-position macro invocations.
    macro_mentions: BTreeSet<String>,
    /// The names every module binds, resolved once after the walk.
    map: DefMap,
    /// What the walk could not read: macros it could not expand, files it could not parse.
    unread: Vec<Unread>,
    /// The cfg the crate was read under.
    cfg_env: CfgEnv,
}

/// A macro as written: `macro_rules!` (exported or not) or a proc macro.
#[derive(Debug, Clone)]
struct RawMacro {
    name: String,
    exported: bool,
    hidden: bool,
    def: MacroDef,
}

/// An `impl` block as written, before its paths are resolved.
#[derive(Debug, Clone)]
struct ImplBlock {
    /// The module it is written in.
    module: Vec<String>,
    /// Every cfg that gates it: its modules' (and their files' `#![cfg]`) and its own.
    cfgs: Vec<String>,
    /// The path of the implemented trait as written, for `impl Trait for Type`.
    trait_path: Option<Vec<String>>,
    /// The path of the implementing type as written, without generic arguments.
    self_path: Option<Vec<String>>,
    /// Public inherent methods (names marked when doc-hidden).
    methods: Vec<(String, FnSig)>,
    /// Public inherent associated consts (names marked when doc-hidden).
    consts: Vec<(String, ConstDef)>,
    /// The implemented trait as written, generic arguments included (`From<bytes::Bytes>`).
    trait_text: Option<String>,
    /// The impl's own generics and where-clause (`<B: bytes::Buf>`), normalised.
    generics: String,
    /// The implementing type as written, generic arguments included.
    self_text: String,
    /// Where the `impl` is written.
    loc: Location,
}

/// A trait `impl` found in the crate, with the trait path made absolute where the crate's
/// `use` declarations say what its first segment is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraitImpl {
    /// The trait's path (`shared::billing::v1::BillingService`), or as written when its first
    /// segment is not imported by a `use`.
    pub trait_path: Vec<String>,
    /// Every cfg that gates the impl: its modules' (and their files' `#![cfg]`) and its own.
    pub cfgs: Vec<String>,
}

struct Walker<'a> {
    tree: &'a dyn SourceTree,
    cfg_env: &'a CfgEnv,
    krate: Crate,
    /// The files of the module being walked and of its enclosing modules, so a `#[path]` that
    /// leads back into one of them is reported instead of recursing without end.
    open_files: Vec<PathBuf>,
    /// The crate's `macro_rules!` seen so far in walk order, which is the order their textual
    /// scope follows.
    macro_rules: BTreeMap<String, MacroRules>,
    /// How many expansions enclose the items being walked.
    expansion_depth: usize,
}

impl Crate {
    /// Walks the crate whose root file is `root_file` (relative to the tree, usually
    /// `src/lib.rs`).
    ///
    /// Errors name the file and line of a parse error, or the `mod` whose file is missing.
    pub fn load(tree: &dyn SourceTree, root_file: &Path) -> anyhow::Result<Crate> {
        Crate::load_with(tree, root_file, &CfgEnv::default())
    }

    /// Like [`Crate::load`], leaving out every item and module whose cfg surely does not hold in
    /// `cfg_env`.
    pub fn load_with(
        tree: &dyn SourceTree,
        root_file: &Path,
        cfg_env: &CfgEnv,
    ) -> anyhow::Result<Crate> {
        let text = tree
            .read(root_file)
            .ok_or_else(|| anyhow!("cannot read crate root `{}`", root_file.display()))?;
        let mut file = parse_file(&text, root_file)?;
        if text.contains("cfg_attr") {
            expand_cfg_attrs(&mut file, cfg_env);
        }
        let child_dir = root_file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut walker = Walker {
            tree,
            cfg_env,
            krate: Crate::default(),
            open_files: vec![lexical_key(root_file)],
            macro_rules: BTreeMap::new(),
            expansion_depth: 0,
        };
        walker.walk_module(
            Vec::new(),
            ModuleCtx {
                public: true,
                hidden: false,
                cfg: cfg_predicates(&file.attrs),
                file: slash_path(root_file),
                child_dir,
                inline: false,
            },
            &file.items,
        )?;
        let mut krate = walker.krate;
        krate.map = DefMap::build(&krate.modules, &krate.defs);
        krate.cfg_env = cfg_env.clone();
        Ok(krate)
    }

    /// Every `impl Trait for Type` in the crate, in the order written.
    pub fn trait_impls(&self) -> Vec<TraitImpl> {
        self.impls
            .iter()
            .filter_map(|block| {
                let written = block.trait_path.as_ref()?;
                Some(TraitImpl {
                    trait_path: self.absolute_path(&block.module, written),
                    cfgs: block.cfgs.clone(),
                })
            })
            .collect()
    }

    /// A path written in `module` with its first segment replaced by what the module's `use`
    /// declarations import under that name, and `crate`, `self` and `super` made absolute.
    /// Names the module does not import stay as written.
    fn absolute_path(&self, module: &[String], written: &[String]) -> Vec<String> {
        let Some(first) = written.first() else {
            return Vec::new();
        };
        let imported = self.modules.get(module).and_then(|data| {
            data.uses
                .iter()
                .find(|entry| entry.name.as_deref() == Some(first.as_str()))
        });
        let Some(entry) = imported else {
            return written.to_vec();
        };
        let mut absolute = match entry.target.first().map(String::as_str) {
            Some("crate") => entry.target[1..].to_vec(),
            Some("self") => [module, &entry.target[1..]].concat(),
            Some("super") => {
                let mut base = module.to_vec();
                let mut rest = entry.target.as_slice();
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                [base.as_slice(), rest].concat()
            }
            _ => entry.target.clone(),
        };
        absolute.extend(written[1..].iter().cloned());
        absolute
    }
}

impl Walker<'_> {
    fn walk_module(
        &mut self,
        path: Vec<String>,
        ctx: ModuleCtx,
        items: &[syn::Item],
    ) -> anyhow::Result<()> {
        let data = self.krate.modules.entry(path.clone()).or_default();
        if !ctx.inline {
            data.own_file = Some(ctx.file.clone());
        }
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
        // An item whose cfg surely does not hold is not in the build at all.
        let item_cfgs = cfg_predicates(item_attrs(item));
        if self.cfg_env.all_hold(&item_cfgs) == Some(false) {
            return Ok(());
        }
        let file = &ctx.file;
        let mut supertraits = Vec::new();
        let mut str_value = None;
        let (ident, vis, attrs, kind) = match item {
            syn::Item::Mod(item_mod) => return self.walk_mod(module, ctx, item_mod),
            syn::Item::Use(item_use) => {
                let vis = vis_of(&item_use.vis);
                let hidden = is_hidden(&item_use.attrs);
                let mut entries = Vec::new();
                flatten_use(&item_use.tree, Vec::new(), &mut entries);
                let loc = Location {
                    file: file.clone(),
                    line: item_use.use_token.span.start().line,
                };
                let data = self.krate.modules.entry(module.to_vec()).or_default();
                for (name, target) in entries {
                    data.uses.push(UseEntry {
                        name,
                        target,
                        vis,
                        hidden,
                        loc: loc.clone(),
                    });
                }
                return Ok(());
            }
            syn::Item::Trait(item_trait) => {
                let (def, supers) = extract_trait(item_trait, file, &ctx.cfg);
                supertraits = supers.into_iter().collect();
                let kind = RawKind::Trait(def);
                (&item_trait.ident, &item_trait.vis, &item_trait.attrs, kind)
            }
            syn::Item::Struct(item_struct) => {
                let kind = RawKind::Struct(extract_struct(item_struct, file, &ctx.cfg));
                (
                    &item_struct.ident,
                    &item_struct.vis,
                    &item_struct.attrs,
                    kind,
                )
            }
            syn::Item::Union(item_union) => {
                let kind = RawKind::Union(extract_union(item_union, file, &ctx.cfg));
                (&item_union.ident, &item_union.vis, &item_union.attrs, kind)
            }
            syn::Item::Enum(item_enum) => {
                let kind = RawKind::Enum(extract_enum(item_enum, file, &ctx.cfg));
                (&item_enum.ident, &item_enum.vis, &item_enum.attrs, kind)
            }
            syn::Item::Fn(item_fn) => {
                if let Some(raw) = proc_macro(item_fn, file, &ctx.cfg) {
                    self.krate.macros.push(raw);
                    return Ok(());
                }
                let mut sig = extract_sig(&item_fn.sig, &item_fn.attrs, file);
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
                    &ctx.cfg,
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
                let mut def = const_def(
                    file,
                    &ctx.cfg,
                    &item_static.ident,
                    &item_static.attrs,
                    &item_static.ty,
                );
                def.static_kind = Some(static_kind(false, &item_static.mutability));
                (
                    &item_static.ident,
                    &item_static.vis,
                    &item_static.attrs,
                    RawKind::Const(def),
                )
            }
            syn::Item::ForeignMod(foreign) => {
                self.walk_foreign(module, ctx, foreign);
                return Ok(());
            }
            syn::Item::Macro(item_macro) => {
                if is_include(&item_macro.mac.path) && !self.macro_rules.contains_key("include") {
                    return self.walk_include(module, ctx, item_macro);
                }
                if !item_macro.mac.path.is_ident("macro_rules") {
                    if let Some(items) = self.expand(item_macro) {
                        self.expansion_depth += 1;
                        let walked = items
                            .iter()
                            .try_for_each(|item| self.walk_item(module, ctx, item));
                        self.expansion_depth -= 1;
                        return walked;
                    }
                    let mut declared = BTreeSet::new();
                    declared_names(item_macro.mac.tokens.clone(), &mut declared);
                    let last = item_macro
                        .mac
                        .path
                        .segments
                        .last()
                        .map(|s| name_of(&s.ident));
                    // A crate macro whose rules write items declares them from its input,
                    // whatever that input spells.
                    let local = last.as_ref().and_then(|name| self.macro_rules.get(name));
                    let local_declaring = local.is_some_and(MacroRules::writes_items);
                    if local_declaring && declared.is_empty() {
                        mentioned_names(item_macro.mac.tokens.clone(), &mut declared);
                    }
                    // Only `pub` items can change the surface: an invocation with no `pub`
                    // in it, of a macro whose rules write none, declares private items only.
                    let may_be_public = has_pub(item_macro.mac.tokens.clone())
                        || local.is_some_and(MacroRules::writes_pub);
                    if !declared.is_empty() && may_be_public {
                        let name = item_macro
                            .mac
                            .path
                            .segments
                            .iter()
                            .map(|s| name_of(&s.ident))
                            .collect::<Vec<_>>()
                            .join("::");
                        self.krate.unread.push(Unread {
                            loc: Location {
                                file: file.clone(),
                                line: item_macro.mac.bang_token.span.start().line,
                            },
                            kind: UnreadKind::Macro,
                            detail: format!(
                                "`{name}!` may declare {}",
                                declared
                                    .iter()
                                    .map(|n| format!("`{n}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        });
                    }
                    self.krate.macro_generated.extend(declared);
                    mentioned_names(
                        item_macro.mac.tokens.clone(),
                        &mut self.krate.macro_mentions,
                    );
                    return Ok(());
                }
                // What a local `macro_rules!` declares is what its invocations may generate.
                declared_names(
                    item_macro.mac.tokens.clone(),
                    &mut self.krate.macro_generated,
                );
                if let Some(name) = &item_macro.ident {
                    self.macro_rules.insert(
                        name_of(name),
                        MacroRules::parse(item_macro.mac.tokens.clone()),
                    );
                    self.krate.macros.push(RawMacro {
                        name: name.to_string(),
                        exported: has_attr(&item_macro.attrs, "macro_export"),
                        hidden: is_hidden(&item_macro.attrs),
                        def: MacroDef {
                            loc: loc_of(file, name),
                            cfg: join_cfg(&ctx.cfg, &item_macro.attrs),
                            kind: MacroKind::Declarative,
                            helpers: Default::default(),
                            deprecated: is_deprecated(&item_macro.attrs),
                        },
                    });
                }
                return Ok(());
            }
            syn::Item::Impl(item_impl) => {
                self.walk_impl(module, ctx, item_impl);
                return Ok(());
            }
            syn::Item::Type(item_type) => {
                let kind = RawKind::TypeAlias(
                    type_text(item_type.ty.to_token_stream()),
                    loc_of(file, &item_type.ident),
                );
                (&item_type.ident, &item_type.vis, &item_type.attrs, kind)
            }
            syn::Item::ExternCrate(extern_crate) => {
                // `extern crate foo as bar;` names the crate `bar` here, like a `use`.
                let name = extern_crate
                    .rename
                    .as_ref()
                    .map_or(&extern_crate.ident, |(_, rename)| rename);
                if extern_crate.ident != "self" {
                    let data = self.krate.modules.entry(module.to_vec()).or_default();
                    data.uses.push(UseEntry {
                        name: Some(name_of(name)),
                        target: vec![name_of(&extern_crate.ident)],
                        vis: vis_of(&extern_crate.vis),
                        hidden: is_hidden(&extern_crate.attrs),
                        loc: loc_of(file, name),
                    });
                }
                return Ok(());
            }
            // The rest is not part of the recorded surface.
            _ => return Ok(()),
        };
        self.define(module, ident, vis, attrs, ctx, kind, supertraits, str_value);
        Ok(())
    }

    /// The items an item-position macro invocation expands to, when it is `cfg_if!` or a
    /// crate-local `macro_rules!` of a shape that can be expanded; the invocation's own cfgs
    /// go on each item.
    fn expand(&self, item_macro: &syn::ItemMacro) -> Option<Vec<syn::Item>> {
        if self.expansion_depth >= MAX_EXPANSION_DEPTH {
            return None;
        }
        let path = &item_macro.mac.path;
        let last = name_of(&path.segments.last()?.ident);
        let tokens = &item_macro.mac.tokens;
        let mut items = if last == "cfg_if" {
            expand_cfg_if(tokens)?
        } else {
            let local = path.segments.len() == 1
                || (path.segments.len() == 2
                    && matches!(name_of(&path.segments[0].ident).as_str(), "crate" | "self"));
            if !local {
                return None;
            }
            self.macro_rules.get(&last)?.expand(tokens)?
        };
        let cfgs: Vec<&syn::Attribute> = item_macro
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("cfg"))
            .collect();
        for item in &mut items {
            if let Some(attrs) = item_attrs_mut(item) {
                attrs.splice(0..0, cfgs.iter().map(|attr| (*attr).clone()));
            }
        }
        Some(items)
    }

    /// Records an item defined in `module`.
    #[allow(clippy::too_many_arguments)]
    fn define(
        &mut self,
        module: &[String],
        ident: &syn::Ident,
        vis: &syn::Visibility,
        attrs: &[syn::Attribute],
        ctx: &ModuleCtx,
        kind: RawKind,
        supertraits: Vec<(Vec<String>, String)>,
        str_value: Option<String>,
    ) {
        let name = name_of(ident);
        let mut path = module.to_vec();
        path.push(name.clone());
        self.krate
            .modules
            .entry(module.to_vec())
            .or_default()
            .defs
            .insert(name, path.clone());
        self.krate.defs.insert(
            path,
            RawDef {
                module: module.to_vec(),
                vis: vis_of(vis),
                hidden: ctx.hidden || is_hidden(attrs),
                kind,
                supertraits,
                str_value,
            },
        );
    }

    /// Functions and statics declared in an `extern` block: calling or reading them is
    /// `unsafe` unless they are declared `safe`.
    fn walk_foreign(&mut self, module: &[String], ctx: &ModuleCtx, foreign: &syn::ItemForeignMod) {
        let abi = foreign
            .abi
            .name
            .as_ref()
            .map_or_else(|| "C".to_string(), syn::LitStr::value);
        for item in &foreign.items {
            // syn keeps `safe fn` and `safe static` as tokens; read them without `safe`.
            let (item, safe) = match item {
                syn::ForeignItem::Verbatim(tokens) => {
                    let without: proc_macro2::TokenStream = tokens
                        .clone()
                        .into_iter()
                        .filter(|t| !matches!(t, proc_macro2::TokenTree::Ident(i) if i == "safe"))
                        .collect();
                    match syn::parse2::<syn::ForeignItem>(without) {
                        Ok(parsed) => (parsed, true),
                        Err(_) => continue,
                    }
                }
                other => (other.clone(), false),
            };
            let item_cfgs = match &item {
                syn::ForeignItem::Fn(f) => cfg_predicates(&f.attrs),
                syn::ForeignItem::Static(s) => cfg_predicates(&s.attrs),
                _ => continue,
            };
            if self.cfg_env.all_hold(&item_cfgs) == Some(false) {
                continue;
            }
            match &item {
                syn::ForeignItem::Fn(f) => {
                    let mut sig = extract_sig(&f.sig, &f.attrs, &ctx.file);
                    sig.cfg = join_cfg(&ctx.cfg, &f.attrs);
                    sig.abi = Some(abi.clone());
                    sig.is_unsafe = !safe;
                    // An imported function is linked by its own name.
                    sig.export_name = None;
                    let kind = RawKind::Function(sig);
                    self.define(
                        module,
                        &f.sig.ident,
                        &f.vis,
                        &f.attrs,
                        ctx,
                        kind,
                        Vec::new(),
                        None,
                    );
                }
                syn::ForeignItem::Static(st) => {
                    let mut def = const_def(&ctx.file, &ctx.cfg, &st.ident, &st.attrs, &st.ty);
                    def.static_kind = Some(static_kind(!safe, &st.mutability));
                    let kind = RawKind::Const(def);
                    self.define(
                        module,
                        &st.ident,
                        &st.vis,
                        &st.attrs,
                        ctx,
                        kind,
                        Vec::new(),
                        None,
                    );
                }
                _ => {}
            }
        }
    }

    /// Records an impl block: its trait (if any), its type and its public inherent items.
    fn walk_impl(&mut self, module: &[String], ctx: &ModuleCtx, item_impl: &syn::ItemImpl) {
        let mut cfgs = ctx.cfg.clone();
        cfgs.extend(cfg_predicates(&item_impl.attrs));
        let trait_path = item_impl
            .trait_
            .as_ref()
            .map(|(_, path, _)| path.segments.iter().map(|s| name_of(&s.ident)).collect());
        let self_path = match &*item_impl.self_ty {
            syn::Type::Path(type_path) if type_path.qself.is_none() => Some(
                type_path
                    .path
                    .segments
                    .iter()
                    .map(|s| name_of(&s.ident))
                    .collect(),
            ),
            _ => None,
        };
        let mut methods = Vec::new();
        let mut consts = Vec::new();
        let self_ty = type_text(item_impl.self_ty.to_token_stream());
        if trait_path.is_none() {
            for impl_item in &item_impl.items {
                match impl_item {
                    syn::ImplItem::Fn(f) if is_pub(&f.vis) => {
                        if self.cfg_env.all_hold(&cfg_predicates(&f.attrs)) == Some(false) {
                            continue;
                        }
                        let mut sig = extract_sig(&f.sig, &f.attrs, &ctx.file);
                        sig.cfg = join_cfg(&cfgs, &f.attrs);
                        // `Self` and the type's own name are one type in an inherent impl.
                        for text in sig.params.iter_mut().chain([&mut sig.output]) {
                            *text = replace_word(text, "Self", &self_ty);
                        }
                        methods.push((member_name(&f.sig.ident, &f.attrs), sig));
                    }
                    syn::ImplItem::Const(c) if is_pub(&c.vis) => {
                        if self.cfg_env.all_hold(&cfg_predicates(&c.attrs)) == Some(false) {
                            continue;
                        }
                        let def = const_def(&ctx.file, &cfgs, &c.ident, &c.attrs, &c.ty);
                        consts.push((member_name(&c.ident, &c.attrs), def));
                    }
                    syn::ImplItem::Macro(m) => {
                        declared_names(m.mac.tokens.clone(), &mut self.krate.macro_generated);
                    }
                    _ => {}
                }
            }
        }
        let trait_text = item_impl
            .trait_
            .as_ref()
            .map(|(_, path, _)| type_text(path.to_token_stream()));
        self.krate.impls.push(ImplBlock {
            module: module.to_vec(),
            cfgs,
            trait_path,
            self_path,
            methods,
            consts,
            trait_text,
            generics: super::extract::generics_string(&item_impl.generics),
            self_text: self_ty.clone(),
            loc: Location {
                file: ctx.file.clone(),
                line: item_impl.impl_token.span.start().line,
            },
        });
    }

    /// `include!("file")` in item position: the file's items, read as if written where the
    /// macro is, with locations in the included file; a `mod x;` in it is looked for beside
    /// that file, as the compiler does. A file the build names (`include!(concat!(env!(…)))`),
    /// a file that is not there or does not parse, and a file including itself are reported
    /// unread.
    fn walk_include(
        &mut self,
        module: &[String],
        ctx: &ModuleCtx,
        item_macro: &syn::ItemMacro,
    ) -> anyhow::Result<()> {
        let at = Location {
            file: ctx.file.clone(),
            line: item_macro.mac.bang_token.span.start().line,
        };
        let mut unread = |kind: UnreadKind, detail: String| {
            self.krate.unread.push(Unread {
                loc: at.clone(),
                kind,
                detail,
            });
        };
        let Ok(literal) = item_macro.mac.parse_body::<syn::LitStr>() else {
            unread(
                UnreadKind::Macro,
                format!(
                    "`include!({})` names a file only the build knows: the items in it are not read",
                    item_macro
                        .mac
                        .tokens
                        .to_string()
                        .replace(" ! (", "!(")
                        .replace(" , ", ", ")
                ),
            );
            return Ok(());
        };
        let written = literal.value();
        let file_path = lexical_key(
            &Path::new(&ctx.file)
                .parent()
                .unwrap_or(Path::new(""))
                .join(&written),
        );
        if self.open_files.contains(&file_path) {
            unread(
                UnreadKind::Macro,
                format!("`include!(\"{written}\")` includes a file that encloses it"),
            );
            return Ok(());
        }
        let Some(text) = self.tree.read(&file_path) else {
            unread(
                UnreadKind::Macro,
                format!(
                    "`include!(\"{written}\")`: `{}` is not there, so the items in it are not read",
                    slash_path(&file_path)
                ),
            );
            return Ok(());
        };
        let mut parsed = match parse_file(&text, &file_path) {
            Ok(parsed) => parsed,
            Err(err) => {
                unread(
                    UnreadKind::Unparsed,
                    format!("`include!(\"{written}\")` cannot be parsed: {err:#}"),
                );
                return Ok(());
            }
        };
        if text.contains("cfg_attr") {
            expand_cfg_attrs(&mut parsed, self.cfg_env);
        }
        let file = slash_path(&file_path);
        self.krate
            .modules
            .entry(module.to_vec())
            .or_default()
            .included
            .push(file.clone());
        let included = ModuleCtx {
            public: ctx.public,
            hidden: ctx.hidden,
            cfg: ctx.cfg.clone(),
            file,
            child_dir: file_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            inline: false,
        };
        self.open_files.push(file_path);
        let walked = parsed
            .items
            .iter()
            .try_for_each(|item| self.walk_item(module, &included, item));
        self.open_files.pop();
        walked
    }

    fn walk_mod(
        &mut self,
        module: &[String],
        ctx: &ModuleCtx,
        item_mod: &syn::ItemMod,
    ) -> anyhow::Result<()> {
        let name = name_of(&item_mod.ident);
        let public = is_pub(&item_mod.vis);
        let hidden = is_hidden(&item_mod.attrs);
        self.krate
            .modules
            .entry(module.to_vec())
            .or_default()
            .children
            .insert(name.clone(), (vis_of(&item_mod.vis), hidden));
        let mut path = module.to_vec();
        path.push(name.clone());
        let mut cfg = ctx.cfg.clone();
        cfg.extend(cfg_predicates(&item_mod.attrs));
        self.krate.modules.entry(path.clone()).or_default().decl = Some((
            loc_of(&ctx.file, &item_mod.ident),
            join_cfg(&ctx.cfg, &item_mod.attrs),
        ));
        let child_public = ctx.public && public;
        let child_hidden = ctx.hidden || hidden;
        if let Some((_, items)) = &item_mod.content {
            let child = ModuleCtx {
                public: child_public,
                hidden: child_hidden,
                cfg,
                file: ctx.file.clone(),
                child_dir: ctx.child_dir.join(&name),
                inline: true,
            };
            return self.walk_module(path, child, items);
        }
        let candidates = match path_attr(&item_mod.attrs) {
            Some(explicit) => {
                // Inside an inline module the path is relative to the directory that module
                // would have; elsewhere, to the directory of the file the `mod` is written in.
                let base = if ctx.inline {
                    ctx.child_dir.as_path()
                } else {
                    Path::new(&ctx.file).parent().unwrap_or(Path::new(""))
                };
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
        let mut parsed = match parse_file(&text, file_path) {
            Ok(parsed) => parsed,
            Err(err) => {
                // The rest of the crate is still read; what this file holds is reported unread.
                self.krate.unread.push(Unread {
                    loc: loc_of(&ctx.file, &item_mod.ident),
                    kind: UnreadKind::Unparsed,
                    detail: format!("module `{name}` cannot be parsed: {err:#}"),
                });
                return Ok(());
            }
        };
        if text.contains("cfg_attr") {
            expand_cfg_attrs(&mut parsed, self.cfg_env);
        }
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
        // A module file's own `#![cfg]` gates everything in it, like a cfg on its `mod`.
        let file_cfgs = cfg_predicates(&parsed.attrs);
        if self.cfg_env.all_hold(&file_cfgs) == Some(false) {
            return Ok(());
        }
        cfg.extend(file_cfgs);
        let child = ModuleCtx {
            public: child_public,
            hidden: child_hidden,
            cfg,
            file: file.clone(),
            child_dir,
            inline: false,
        };
        self.open_files.push(key);
        let walked = self.walk_module(path, child, &parsed.items);
        self.open_files.pop();
        walked
    }
}

/// Whether a macro path is the standard `include!` (`include`, `std::include`,
/// `core::include`).
fn is_include(path: &syn::Path) -> bool {
    let names: Vec<String> = path.segments.iter().map(|s| name_of(&s.ident)).collect();
    match names.as_slice() {
        [name] => name == "include",
        [root, name] => name == "include" && matches!(root.as_str(), "std" | "core"),
        _ => false,
    }
}

impl Crate {
    /// Resolves a path written in `from` to a definition or a module of this crate.
    fn resolve(&self, from: &[String], segments: &[String]) -> Option<Target> {
        self.map.resolve(from, segments)
    }

    /// Every public path and what it leads to: definitions, modules, doc-hidden paths and
    /// `pub use` of other crates' items.
    ///
    /// Modules are visited breadth first, each once, at its shortest public path (names in
    /// order break ties); another public path to a visited module is recorded as a module but
    /// not entered again, so a module that re-exports its ancestors ends.
    fn reach(&self) -> Reach {
        let mut reached: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut hidden_paths = BTreeSet::new();
        let mut modules = BTreeMap::new();
        let mut external = Vec::new();
        let unresolved: BTreeSet<(&[String], usize)> = self
            .map
            .unresolved
            .iter()
            .map(|(module, index)| (module.as_slice(), *index))
            .collect();
        let mut visited: BTreeSet<Vec<String>> = BTreeSet::from([Vec::new()]);
        let mut queue = std::collections::VecDeque::from([(Vec::<String>::new(), Vec::new())]);
        while let Some((module, prefix)) = queue.pop_front() {
            // `pub use other::*`: the names it brings are not known here.
            if let Some(data) = self.modules.get(&module) {
                for (index, entry) in data.uses.iter().enumerate() {
                    if entry.name.is_none()
                        && entry.vis == Vis::Public
                        && !entry.hidden
                        && unresolved.contains(&(&module[..], index))
                    {
                        let mut public_path = prefix.clone();
                        public_path.push("*".to_string());
                        external.push(ExternalPath {
                            path: public_path.join("::"),
                            loc: entry.loc.clone(),
                            target: entry.target.clone(),
                            glob: true,
                        });
                    }
                }
            }
            let mut seen_here = BTreeSet::new();
            for (name, binding) in self.map.exports(&module) {
                let mut surface_path = prefix.clone();
                surface_path.push(name.to_string());
                let joined = surface_path.join("::");
                let hidden = binding.hidden
                    || matches!(&binding.target, Target::Def(path) if self.defs.get(&path[..]).is_some_and(|d| d.hidden));
                if hidden {
                    hidden_paths.insert(joined);
                    continue;
                }
                // A name bound in both namespaces is one path.
                if !seen_here.insert((name, &binding.target)) {
                    continue;
                }
                match &binding.target {
                    Target::Def(def_path) => {
                        reached.insert(joined, def_path.to_vec());
                    }
                    Target::External(target) => {
                        let loc = self
                            .map
                            .import_of(binding)
                            .and_then(|(module, index)| self.modules.get(module)?.uses.get(index))
                            .map(|entry| entry.loc.clone())
                            .unwrap_or_default();
                        external.push(ExternalPath {
                            path: joined,
                            loc,
                            target: target.to_vec(),
                            glob: false,
                        });
                    }
                    Target::Module(module_path) => {
                        let (loc, cfg) = self
                            .modules
                            .get(&module_path[..])
                            .and_then(|data| data.decl.clone())
                            .unwrap_or_default();
                        modules.insert(joined, ModuleDef { loc, cfg });
                        if visited.insert(module_path.to_vec()) {
                            queue.push_back((module_path.to_vec(), surface_path));
                        }
                    }
                }
            }
        }
        Reach {
            reached,
            hidden: hidden_paths,
            modules,
            external,
        }
    }

    /// The public surface: every definition reachable by a public path.
    pub fn surface(&self) -> Surface {
        let Reach {
            reached,
            hidden,
            modules,
            external,
        } = self.reach();
        let public_defs: BTreeSet<&[String]> = reached.values().map(Vec::as_slice).collect();
        let impl_facts = self.impl_facts();
        let mut unread = self.unread.clone();
        for glob in external.iter().filter(|external| external.glob) {
            unread.push(Unread {
                loc: glob.loc.clone(),
                kind: UnreadKind::ExternalGlob,
                detail: format!(
                    "`pub use {}::*` re-exports names of another crate, which cannot be listed",
                    glob.target.join("::")
                ),
            });
        }
        let mut surface = Surface {
            hidden,
            modules,
            macro_generated: self.macro_generated.clone(),
            macro_mentions: self.macro_mentions.clone(),
            external_targets: external
                .iter()
                .map(|external| (external.path.clone(), external.target.clone()))
                .collect(),
            external_reexports: external.into_iter().map(|external| external.path).collect(),
            unread,
            ..Surface::default()
        };
        for raw in &self.macros {
            if !raw.exported {
                surface.unexported_macros.insert(raw.name.clone());
                continue;
            }
            if raw.hidden {
                surface.hidden.insert(raw.name.clone());
            } else {
                surface.macros.insert(raw.name.clone(), raw.def.clone());
            }
        }
        for (path, def_path) in &reached {
            let Some(def) = self.defs.get(def_path) else {
                continue;
            };
            match &def.kind {
                RawKind::Trait(trait_def) => {
                    let mut trait_def = trait_def.clone();
                    for (segments, written) in &def.supertraits {
                        let private = matches!(
                            self.resolve(&def.module, segments),
                            Some(Target::Def(target)) if !public_defs.contains(&target[..])
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
                RawKind::Struct(struct_def) | RawKind::Union(struct_def) => {
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
                    add_impl_facts(
                        &mut struct_def.facts,
                        impl_facts.get(def_path),
                        path,
                        &mut surface.hidden,
                    );
                    if matches!(def.kind, RawKind::Union(_)) {
                        surface.unions.insert(path.clone(), struct_def);
                    } else {
                        surface.structs.insert(path.clone(), struct_def);
                    }
                }
                RawKind::Enum(enum_def) => {
                    let mut enum_def = enum_def.clone();
                    add_impl_facts(
                        &mut enum_def.facts,
                        impl_facts.get(def_path),
                        path,
                        &mut surface.hidden,
                    );
                    surface.enums.insert(path.clone(), enum_def);
                }
                RawKind::Function(sig) => {
                    surface.functions.insert(path.clone(), sig.clone());
                }
                RawKind::TypeAlias(..) => {}
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

/// What impl blocks add to one type: inherent methods and consts, and standard traits.
#[derive(Debug, Default)]
struct ImplFacts {
    methods: BTreeMap<String, FnSig>,
    consts: BTreeMap<String, ConstDef>,
    std_impls: BTreeSet<String>,
}

impl Crate {
    /// Every impl block's items and standard traits, by the definition path of its type.
    fn impl_facts(&self) -> BTreeMap<Vec<String>, ImplFacts> {
        let mut out: BTreeMap<Vec<String>, ImplFacts> = BTreeMap::new();
        for block in &self.impls {
            let Some(self_path) = &block.self_path else {
                continue;
            };
            let Some(Target::Def(def_path)) = self.resolve(&block.module, self_path) else {
                continue;
            };
            let facts = out.entry(def_path.to_vec()).or_default();
            match &block.trait_path {
                Some(written) => {
                    if let Some(name) = self.std_trait(&block.module, written) {
                        facts.std_impls.insert(name);
                    }
                }
                None => {
                    facts.methods.extend(block.methods.iter().cloned());
                    facts.consts.extend(block.consts.iter().cloned());
                }
            }
        }
        out
    }

    /// The name of the standard trait a written trait path names, if it names one: a bare
    /// name that is no item of the crate, or a path through `std`, `core` or `alloc`.
    fn std_trait(&self, module: &[String], written: &[String]) -> Option<String> {
        let name = written.last()?;
        if !STD_TRAITS.contains(&name.as_str()) {
            return None;
        }
        let absolute = self.absolute_path(module, written);
        let through_std = absolute
            .first()
            .is_some_and(|first| matches!(first.as_str(), "std" | "core" | "alloc"));
        let bare_and_not_ours = absolute.len() == 1 && self.resolve(module, written).is_none();
        (through_std || bare_and_not_ours).then(|| name.clone())
    }
}

/// Adds a type's impl facts to its record; doc-hidden members go to `hidden` as `Type::member`.
fn add_impl_facts(
    facts: &mut TypeFacts,
    from_impls: Option<&ImplFacts>,
    path: &str,
    hidden: &mut BTreeSet<String>,
) {
    let Some(from_impls) = from_impls else {
        return;
    };
    facts.std_impls = from_impls.std_impls.clone();
    for (name, sig) in &from_impls.methods {
        match name.strip_prefix(HIDDEN_MARK) {
            Some(bare) => {
                hidden.insert(format!("{path}::{bare}"));
            }
            None => {
                facts.methods.insert(name.clone(), sig.clone());
            }
        }
    }
    for (name, def) in &from_impls.consts {
        match name.strip_prefix(HIDDEN_MARK) {
            Some(bare) => {
                hidden.insert(format!("{path}::{bare}"));
            }
            None => {
                facts.consts.insert(name.clone(), def.clone());
            }
        }
    }
}

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

/// `text` with every whole-word `word` replaced by `with`.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        let boundary = !before.is_some_and(is_word) && !after.is_some_and(is_word);
        out.push_str(&rest[..at]);
        out.push_str(if boundary { with } else { word });
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Every identifier in a macro invocation's tokens, at any depth.
fn mentioned_names(tokens: proc_macro2::TokenStream, out: &mut BTreeSet<String>) {
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Group(group) => mentioned_names(group.stream(), out),
            proc_macro2::TokenTree::Ident(ident) => {
                out.insert(ident.to_string());
            }
            _ => {}
        }
    }
}

/// The names a macro invocation's tokens appear to declare: the identifier after `struct`,
/// `enum`, `union`, `trait`, `fn`, `const`, `static`, `type`, `mod` or `macro_rules!`, and
/// every name a `use` inside it imports (it may be a `pub use`), at any depth.
fn declared_names(tokens: proc_macro2::TokenStream, out: &mut BTreeSet<String>) {
    let mut previous: Option<String> = None;
    let mut in_use = false;
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Group(group) => {
                if in_use {
                    mentioned_names(group.stream(), out);
                } else {
                    declared_names(group.stream(), out);
                }
                previous = None;
            }
            proc_macro2::TokenTree::Ident(ident) => {
                let word = ident.to_string();
                if in_use
                    || previous.as_deref().is_some_and(|p| {
                        matches!(
                            p,
                            "struct"
                                | "enum"
                                | "union"
                                | "trait"
                                | "fn"
                                | "const"
                                | "static"
                                | "type"
                                | "mod"
                                | "macro_rules!"
                        )
                    })
                {
                    out.insert(word.clone());
                }
                if word == "use" {
                    in_use = true;
                }
                previous = Some(word);
            }
            proc_macro2::TokenTree::Punct(punct) if punct.as_char() == '!' => {
                previous = previous.map(|p| format!("{p}!"));
            }
            proc_macro2::TokenTree::Punct(punct) if punct.as_char() == ';' => {
                in_use = false;
                previous = None;
            }
            _ => previous = None,
        }
    }
}

/// The attributes of any item (empty for the kinds that have none syn exposes).
fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::ExternCrate(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::ForeignMod(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::TraitAlias(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// The name an identifier declares or uses: `r#type` is `type`.
fn name_of(ident: &syn::Ident) -> String {
    syn::ext::IdentExt::unraw(ident).to_string()
}

/// Who can name an item or a `use` declared with `vis`.
fn vis_of(vis: &syn::Visibility) -> Vis {
    match vis {
        syn::Visibility::Public(_) => Vis::Public,
        syn::Visibility::Restricted(_) => Vis::Crate,
        syn::Visibility::Inherited => Vis::Private,
    }
}

/// `static`, `static mut`, `unsafe static` or `unsafe static mut`.
fn static_kind(is_unsafe: bool, mutability: &syn::StaticMutability) -> String {
    let unsafety = if is_unsafe { "unsafe " } else { "" };
    match mutability {
        syn::StaticMutability::Mut(_) => format!("{unsafety}static mut"),
        _ => format!("{unsafety}static"),
    }
}

/// A `#[proc_macro]`, `#[proc_macro_attribute]` or `#[proc_macro_derive(Name, attributes(..))]`
/// function, as the macro it exports.
fn proc_macro(item: &syn::ItemFn, file: &str, outer_cfg: &[String]) -> Option<RawMacro> {
    let attrs = &item.attrs;
    let (kind, name, helpers) = if has_attr(attrs, "proc_macro") {
        (
            MacroKind::FunctionLike,
            item.sig.ident.to_string(),
            Default::default(),
        )
    } else if has_attr(attrs, "proc_macro_attribute") {
        (
            MacroKind::Attribute,
            item.sig.ident.to_string(),
            Default::default(),
        )
    } else if has_attr(attrs, "proc_macro_derive") {
        let metas = list_metas(attrs, "proc_macro_derive");
        let name = metas.first()?.path().get_ident()?.to_string();
        let helpers = list_metas(attrs, "proc_macro_derive")
            .iter()
            .filter_map(|meta| match meta {
                syn::Meta::List(list) if list.path.is_ident("attributes") => list
                    .parse_args_with(
                        syn::punctuated::Punctuated::<syn::Ident, syn::Token![,]>::parse_terminated,
                    )
                    .ok(),
                _ => None,
            })
            .flatten()
            .map(|ident| ident.to_string())
            .collect();
        (MacroKind::Derive, name, helpers)
    } else {
        return None;
    };
    Some(RawMacro {
        name,
        exported: is_pub(&item.vis),
        hidden: is_hidden(attrs),
        def: MacroDef {
            loc: loc_of(file, &item.sig.ident),
            cfg: join_cfg(outer_cfg, attrs),
            kind,
            helpers,
            deprecated: is_deprecated(attrs),
        },
    })
}

pub(crate) fn flatten_use(
    tree: &syn::UseTree,
    prefix: Vec<String>,
    out: &mut Vec<(Option<String>, Vec<String>)>,
) {
    match tree {
        syn::UseTree::Path(path) => {
            let mut prefix = prefix;
            prefix.push(name_of(&path.ident));
            flatten_use(&path.tree, prefix, out);
        }
        syn::UseTree::Name(name) => {
            let ident = name_of(&name.ident);
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
            let alias = name_of(&rename.rename);
            if alias == "_" {
                return;
            }
            let ident = name_of(&rename.ident);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface::MemoryTree;

    fn load(files: &[(&str, &str)]) -> Crate {
        let tree = MemoryTree {
            files: files
                .iter()
                .map(|(path, text)| (PathBuf::from(path), text.to_string()))
                .collect(),
        };
        Crate::load(&tree, Path::new("src/lib.rs")).expect("fixture parses")
    }

    #[test]
    fn trait_impls_carry_the_cfgs_of_their_own_module_chain() {
        // Two modules named `imp` with different cfgs: each impl gets only its own chain.
        let krate = load(&[
            (
                "src/lib.rs",
                "#[cfg(feature = \"v1\")] mod one; #[cfg(feature = \"v2\")] mod two;",
            ),
            ("src/one.rs", "mod imp;"),
            (
                "src/one/imp.rs",
                "use shared::billing::v1; impl v1::Billing for X {}",
            ),
            ("src/two.rs", "#[cfg(unix)] mod imp;"),
            (
                "src/two/imp.rs",
                "#![cfg(not(test))]\nuse shared::billing::v2::Billing as B; impl B for X {}",
            ),
        ]);
        let impls = krate.trait_impls();
        assert_eq!(
            impls,
            [
                TraitImpl {
                    trait_path: ["shared", "billing", "v1", "Billing"]
                        .map(String::from)
                        .to_vec(),
                    cfgs: vec!["feature = \"v1\"".to_string()],
                },
                TraitImpl {
                    trait_path: ["shared", "billing", "v2", "Billing"]
                        .map(String::from)
                        .to_vec(),
                    cfgs: ["feature = \"v2\"", "unix", "not(test)"]
                        .map(String::from)
                        .to_vec(),
                },
            ]
        );
    }

    #[test]
    fn impl_paths_through_crate_self_and_super_become_absolute() {
        let krate = load(&[(
            "src/lib.rs",
            "pub mod api { pub trait T {} } mod a { use crate::api; impl api::T for X {} \
             mod b { use super::super::api::T as U; impl U for X {} } }",
        )]);
        let paths: Vec<Vec<String>> = krate
            .trait_impls()
            .into_iter()
            .map(|imp| imp.trait_path)
            .collect();
        assert_eq!(
            paths,
            [
                vec!["api".to_string(), "T".to_string()],
                vec!["api".to_string(), "T".to_string()],
            ]
        );
    }
}
