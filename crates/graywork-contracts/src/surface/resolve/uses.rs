//! Where a crate uses another crate's items, function bodies included: every path that
//! resolves into it (types, expressions, patterns, imports, trait impls, struct literals),
//! exhaustive `match`es on its enums, and method calls in modules that import from it. Paths
//! are resolved with the crate's finished name map, through the crate's type aliases; `use`
//! declarations inside function bodies add to it for their block.

use std::collections::{BTreeMap, BTreeSet};

use syn::visit::Visit;

use super::{Crate, RawKind, Target};
use crate::surface::model::Location;
use crate::surface::source::SourceTree;

/// One place where the crate uses another crate's item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UseSite {
    /// Where it is written.
    pub loc: Location,
    /// The item's path in the other crate, without the crate's name (`Bytes::slice`); for a
    /// method call or a name that may come from a glob, just the name.
    pub path: Vec<String>,
    /// How it is used.
    pub kind: UseKind,
    /// The use as written.
    pub text: String,
    /// When the path's first name is bound by a `use` of the other crate's item (at module
    /// level or in a block), that item's path: the compiler reports a broken import at the
    /// `use` and stays silent where its name is used.
    pub through: Option<Vec<String>>,
    /// For a method call: the other crate's items the call site can name (its module's and its
    /// blocks' imports), `*` when the module globs the crate. A trait's method is callable
    /// only where the trait is in scope.
    pub in_scope: Vec<Vec<String>>,
    /// For a method call whose receiver is a local variable or parameter of the other crate's
    /// type: that type's path, and whether an annotation (`x: wire::Buffer`) says so rather
    /// than a constructor call (`let x = wire::Buffer::new()`).
    pub receiver: Option<(Vec<String>, bool)>,
}

/// How a crate uses another crate's item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum UseKind {
    /// A path that resolves to the item (a type, a call, a pattern, an import).
    Path,
    /// `impl Trait for T` of the other crate's trait.
    TraitImpl,
    /// A struct literal of the other crate's struct (or struct-like variant).
    StructLiteral,
    /// A `match` whose arms name the enum's variants and that has no catch-all arm.
    ExhaustiveMatch,
    /// A method call whose receiver's type is not known: matched by name only.
    MethodCall,
    /// A name no `use` binds, in a module that imports the other crate with a glob: it may be
    /// the other crate's item of that name.
    GlobName,
}

impl Crate {
    /// The names by which code of this crate can reach items of the crates known as one of
    /// `extern_names`, beside those names themselves: every name a module binds to such an
    /// item (an import, a rename, a re-export, a glob's names). A path the use walk resolves
    /// into one of those crates, in any file, is written with one of these names (its first,
    /// or the one a chain of the crate's own modules ends in); a method call or a name a glob
    /// may bring matches by the changed item's own name.
    pub(crate) fn names_reaching(&self, extern_names: &[&[String]]) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = extern_names.iter().copied().flatten().cloned().collect();
        for module in self.modules.keys() {
            for (name, binding) in self.map.bindings(module) {
                if extern_names
                    .iter()
                    .any(|names| self.dependency_item(&binding.target, names).is_some())
                {
                    names.insert(name.to_owned());
                }
            }
        }
        names
    }

    /// Every place the crate uses items of the crates its code knows by the names in each
    /// entry of `dependencies`, one list per entry, in file and line order, read from `tree`
    /// (the same tree the crate was loaded from): each file is read and parsed once for all of
    /// them, and only when `wanted` accepts its text. Files that cannot be read again are
    /// skipped; the walk already reported them.
    pub(crate) fn uses_of_each_where(
        &self,
        tree: &dyn SourceTree,
        dependencies: &[&[String]],
        wanted: &dyn Fn(&str) -> bool,
    ) -> Vec<Vec<UseSite>> {
        let mut each: Vec<Vec<UseSite>> = vec![Vec::new(); dependencies.len()];
        // A module's own file, and the files `include!` brings into it.
        let files = self.modules.iter().flat_map(|(module, data)| {
            data.own_file
                .iter()
                .chain(&data.included)
                .map(move |file| (module, file))
        });
        for (module, file) in files {
            let Some(text) = tree.read(std::path::Path::new(file)) else {
                continue;
            };
            if !wanted(&text) {
                continue;
            }
            let Ok(parsed) = syn::parse_file(&text) else {
                continue;
            };
            for (extern_names, sites) in dependencies.iter().zip(&mut each) {
                let mut visitor = UseVisitor {
                    krate: self,
                    extern_names,
                    file,
                    module: module.clone(),
                    locals: Vec::new(),
                    imports_dependency: Vec::new(),
                    module_items: Vec::new(),
                    variables: Vec::new(),
                    sites,
                };
                visitor.enter_module();
                visitor.visit_file(&parsed);
            }
        }
        for sites in &mut each {
            sites.sort_by(|a, b| {
                (&a.loc.file, a.loc.line, &a.path, a.kind).cmp(&(
                    &b.loc.file,
                    b.loc.line,
                    &b.path,
                    b.kind,
                ))
            });
            sites.dedup();
        }
        each
    }

    /// What a path written in `module` names in another crate known as one of
    /// `extern_names`: its path there without the crate's name.
    fn external_path(
        &self,
        module: &[String],
        segments: &[String],
        extern_names: &[String],
    ) -> Option<Vec<String>> {
        self.external_path_within(module, segments, extern_names, ALIAS_STEPS)
    }

    /// [`Crate::external_path`], following at most `steps` of the crate's type aliases: a
    /// path through an alias of the other crate's type (`Packet::new`, `Packet { .. }` after
    /// `type Packet = wire::Frame`) names that type, as the compiler reads it.
    fn external_path_within(
        &self,
        module: &[String],
        segments: &[String],
        extern_names: &[String],
        steps: usize,
    ) -> Option<Vec<String>> {
        match self.resolve(module, segments) {
            Some(Target::Def(def)) => self.alias_external(&def, extern_names, steps),
            Some(target) => self.dependency_item(&target, extern_names),
            None => {
                // An associated item or variant through an alias: `Packet::new`.
                let through_alias = (1..segments.len()).rev().find_map(|len| {
                    let Some(Target::Def(def)) = self.resolve(module, &segments[..len]) else {
                        return None;
                    };
                    let mut path = self.alias_external(&def, extern_names, steps)?;
                    path.extend(segments[len..].iter().cloned());
                    Some(path)
                });
                if through_alias.is_some() {
                    return through_alias;
                }
                // An absolute path from the crate's name (`bytes::Bytes`), which no local name
                // shadows since it resolved to nothing here.
                let (first, rest) = segments.split_first()?;
                extern_names.contains(first).then(|| rest.to_vec())
            }
        }
    }

    /// The other crate's type the crate's type alias at `def` stands for, without its generic
    /// arguments (`type Packets = wire::Queue<Frame>` stands for `Queue`): its target is
    /// resolved in the alias's own module, through at most `steps` aliases.
    fn alias_external(
        &self,
        def: &[String],
        extern_names: &[String],
        steps: usize,
    ) -> Option<Vec<String>> {
        let steps = steps.checked_sub(1)?;
        let raw = self.defs.get(def)?;
        let RawKind::TypeAlias(target, _) = &raw.kind else {
            return None;
        };
        let syn::Type::Path(ty) = syn::parse_str::<syn::Type>(target).ok()? else {
            return None;
        };
        if ty.qself.is_some() {
            return None;
        }
        let segments: Vec<String> = ty
            .path
            .segments
            .iter()
            .map(|segment| super::name_of(&segment.ident))
            .collect();
        if ty.path.leading_colon.is_some() {
            let (first, rest) = segments.split_first()?;
            return extern_names.contains(first).then(|| rest.to_vec());
        }
        self.external_path_within(&raw.module, &segments, extern_names, steps)
    }

    /// Whether `module` binds a glob of one of `extern_names` (`use bytes::*`), whose names
    /// cannot be listed.
    fn globs_dependency(&self, module: &[String], extern_names: &[String]) -> bool {
        self.modules.get(module).is_some_and(|data| {
            data.uses.iter().any(|entry| {
                entry.name.is_none()
                    && entry
                        .target
                        .first()
                        .is_some_and(|first| extern_names.contains(first))
            })
        })
    }

    /// Whether `module` binds any name to an item of one of `extern_names`.
    fn binds_dependency(&self, module: &[String], extern_names: &[String]) -> bool {
        self.map.bindings(module).iter().any(|(_, binding)| {
            self.dependency_item(&binding.target, extern_names)
                .is_some()
        })
    }

    /// The item of one of `extern_names` a name bound to `target` stands for, by its path
    /// there without the crate's name: an import of it, or a type alias of its type.
    fn dependency_item(&self, target: &Target, extern_names: &[String]) -> Option<Vec<String>> {
        match target {
            Target::External(path) => {
                let (first, rest) = path.split_first()?;
                extern_names.contains(first).then(|| rest.to_vec())
            }
            Target::Def(def) => self.alias_external(def, extern_names, ALIAS_STEPS),
            Target::Module(_) => None,
        }
    }
}

/// How many type aliases in a row a path is followed through (`type A = B; type B = wire::C;`).
const ALIAS_STEPS: usize = 4;

struct UseVisitor<'a> {
    krate: &'a Crate,
    extern_names: &'a [String],
    file: &'a str,
    module: Vec<String>,
    /// `use` declarations inside blocks, innermost last: name -> path in the other crate.
    locals: Vec<BTreeMap<String, Vec<String>>>,
    /// For each module entered (innermost last): whether it imports from the other crate.
    imports_dependency: Vec<bool>,
    /// For each module entered (innermost last): the other crate's items it binds.
    module_items: Vec<Vec<Vec<String>>>,
    /// Local variables and parameters whose type is the other crate's, innermost scope last:
    /// name -> (type path, known from an annotation).
    variables: Vec<BTreeMap<String, (Vec<String>, bool)>>,
    sites: &'a mut Vec<UseSite>,
}

impl UseVisitor<'_> {
    fn enter_module(&mut self) {
        let globs = self.krate.globs_dependency(&self.module, self.extern_names);
        let imports = self.krate.binds_dependency(&self.module, self.extern_names) || globs;
        self.imports_dependency.push(imports);
        let mut items: Vec<Vec<String>> = self
            .krate
            .map
            .bindings(&self.module)
            .into_iter()
            .filter_map(|(_, binding)| {
                self.krate
                    .dependency_item(&binding.target, self.extern_names)
            })
            .collect();
        if globs {
            items.push(vec!["*".to_string()]);
        }
        items.sort();
        items.dedup();
        self.module_items.push(items);
    }

    fn push(&mut self, line: usize, path: Vec<String>, kind: UseKind, text: String) {
        self.push_through(line, path, kind, text, None);
    }

    fn push_through(
        &mut self,
        line: usize,
        path: Vec<String>,
        kind: UseKind,
        text: String,
        through: Option<Vec<String>>,
    ) {
        self.sites.push(UseSite {
            loc: Location {
                file: self.file.to_string(),
                line,
            },
            path,
            kind,
            text,
            through,
            in_scope: Vec::new(),
            receiver: None,
        });
    }

    /// The other crate's item a written path's first name is imported as, if a `use` binds it
    /// (or a type alias of the crate stands for).
    fn imported_first(&self, path: &syn::Path) -> Option<Vec<String>> {
        if path.leading_colon.is_some() {
            return None;
        }
        let first = super::name_of(&path.segments.first()?.ident);
        if let Some(base) = self.local(&first) {
            return Some(base.clone());
        }
        if self.extern_names.contains(&first) {
            return None;
        }
        // Through a type alias of the other crate's type too: the compiler reports a type that
        // is gone at the alias, and stays silent where the alias is used.
        let target = self.krate.resolve(&self.module, &[first])?;
        self.krate.dependency_item(&target, self.extern_names)
    }

    /// The other crate's path a written path names, looking at block-local imports first.
    fn resolve(&self, path: &syn::Path) -> Option<Vec<String>> {
        let segments: Vec<String> = path
            .segments
            .iter()
            .map(|s| super::name_of(&s.ident))
            .collect();
        if path.leading_colon.is_none()
            && let Some(full) = self.through_local(&segments)
        {
            return Some(full);
        }
        self.krate
            .external_path(&self.module, &segments, self.extern_names)
    }

    /// Records a path that names the other crate's item, with `kind`; a single name that no
    /// `use` binds in a module that globs the other crate counts as a glob name.
    fn record_path(&mut self, path: &syn::Path, kind: UseKind) -> Option<Vec<String>> {
        let line = path.segments.first()?.ident.span().start().line;
        let text = super::super::render::tidy(quote::ToTokens::to_token_stream(path));
        if let Some(resolved) = self.resolve(path) {
            let through = self.imported_first(path);
            self.push_through(line, resolved.clone(), kind, text, through);
            return Some(resolved);
        }
        let first = super::name_of(&path.segments.first()?.ident);
        let bound = self
            .krate
            .resolve(&self.module, std::slice::from_ref(&first))
            .is_some()
            || self.local(&first).is_some();
        if !bound
            && first.starts_with(|c: char| c.is_ascii_uppercase())
            && self.krate.globs_dependency(&self.module, self.extern_names)
        {
            let segments = path
                .segments
                .iter()
                .map(|s| super::name_of(&s.ident))
                .collect();
            self.push(line, segments, UseKind::GlobName, text);
        }
        None
    }

    /// The other crate's type a written type names, through references and parentheses.
    fn type_path(&self, ty: &syn::Type) -> Option<Vec<String>> {
        match ty {
            syn::Type::Reference(reference) => self.type_path(&reference.elem),
            syn::Type::Paren(paren) => self.type_path(&paren.elem),
            syn::Type::Path(path) if path.qself.is_none() => self.resolve(&path.path),
            _ => None,
        }
    }

    /// Records a variable's type when it is the other crate's.
    fn bind_variable(&mut self, pat: &syn::Pat, ty: Option<&syn::Type>, init: Option<&syn::Expr>) {
        let (pat, ty) = match (pat, ty) {
            (syn::Pat::Type(typed), _) => (&*typed.pat, Some(&*typed.ty)),
            (pat, ty) => (pat, ty),
        };
        let syn::Pat::Ident(ident) = pat else {
            return;
        };
        let name = super::name_of(&ident.ident);
        let known = match ty {
            Some(ty) => self.type_path(ty).map(|path| (path, true)),
            // `let x = wire::Buffer::new()`: a constructor of the type gives the type.
            None => init
                .and_then(|init| self.constructed_type(init))
                .map(|path| (path, false)),
        };
        if let (Some(known), Some(scope)) = (known, self.variables.last_mut()) {
            scope.insert(name, known);
        }
    }

    /// The type a constructor-like call (`Type::new(..)`, `Type::with_capacity(..)`,
    /// `Type::from(..)`, `Type::default()`) of the other crate's type builds.
    fn constructed_type(&self, expr: &syn::Expr) -> Option<Vec<String>> {
        let syn::Expr::Call(call) = expr else {
            return None;
        };
        let syn::Expr::Path(func) = &*call.func else {
            return None;
        };
        let mut path = self.resolve(&func.path)?;
        let function = path.pop()?;
        let constructor = function.starts_with("new")
            || function.starts_with("with_")
            || function.starts_with("from")
            || function == "default";
        let is_type = path
            .last()
            .is_some_and(|owner| owner.starts_with(|c: char| c.is_ascii_uppercase()));
        (constructor && is_type).then_some(path)
    }

    /// The type of a method call's receiver, when it is a variable of the other crate's type.
    fn receiver_type(&self, receiver: &syn::Expr) -> Option<(Vec<String>, bool)> {
        match receiver {
            syn::Expr::Reference(reference) => self.receiver_type(&reference.expr),
            syn::Expr::Paren(paren) => self.receiver_type(&paren.expr),
            syn::Expr::Unary(syn::ExprUnary {
                op: syn::UnOp::Deref(_),
                expr,
                ..
            }) => self.receiver_type(expr),
            syn::Expr::Path(path) if path.qself.is_none() => {
                let name = super::name_of(&path.path.get_ident()?.clone());
                self.variables
                    .iter()
                    .rev()
                    .find_map(|scope| scope.get(&name).cloned())
            }
            _ => None,
        }
    }

    /// The other crate's item a block-level `use` bound `name` to, innermost block first.
    fn local(&self, name: &str) -> Option<&Vec<String>> {
        self.locals.iter().rev().find_map(|scope| scope.get(name))
    }

    /// `segments` resolved through a block-level `use` of their first name, if one binds it.
    fn through_local(&self, segments: &[String]) -> Option<Vec<String>> {
        let (first, rest) = segments.split_first()?;
        let mut full = self.local(first)?.clone();
        full.extend(rest.iter().cloned());
        Some(full)
    }

    /// Binds the names a block-level `use` brings from the other crate.
    fn bind_local_use(&mut self, item: &syn::ItemUse) {
        let mut entries = Vec::new();
        super::flatten_use(&item.tree, Vec::new(), &mut entries);
        for (name, target) in entries {
            let Some(name) = name else { continue };
            let resolved = self.through_local(&target).or_else(|| {
                self.krate
                    .external_path(&self.module, &target, self.extern_names)
            });
            if let Some(path) = resolved {
                let line = item.use_token.span.start().line;
                self.push(
                    line,
                    path.clone(),
                    UseKind::Path,
                    format!("use {}", target.join("::")),
                );
                if let Some(scope) = self.locals.last_mut() {
                    scope.insert(name, path);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for UseVisitor<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        // What the build leaves out (`#[cfg(test)] mod tests`, other platforms) is not used.
        let cfgs = super::super::extract::cfg_predicates(super::item_attrs(item));
        if self.krate.cfg_env.all_hold(&cfgs) == Some(false) {
            return;
        }
        syn::visit::visit_item(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        let cfgs = super::super::extract::cfg_predicates(&item.attrs);
        if self.krate.cfg_env.all_hold(&cfgs) == Some(false) {
            return;
        }
        self.with_parameters(&item.sig, |visitor| {
            syn::visit::visit_impl_item_fn(visitor, item)
        });
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        // A module in its own file is read on its own; an inline one is read here, as itself.
        let Some((_, items)) = &item.content else {
            return;
        };
        self.module.push(super::name_of(&item.ident));
        self.enter_module();
        let locals = std::mem::take(&mut self.locals);
        for item in items {
            self.visit_item(item);
        }
        self.locals = locals;
        self.imports_dependency.pop();
        self.module_items.pop();
        self.module.pop();
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if self.locals.is_empty() {
            // A module-level `use`: the name map already binds it; record what it imports.
            let mut entries = Vec::new();
            super::flatten_use(&item.tree, Vec::new(), &mut entries);
            for (_, target) in entries {
                if let Some(path) =
                    self.krate
                        .external_path(&self.module, &target, self.extern_names)
                {
                    let line = item.use_token.span.start().line;
                    self.push(
                        line,
                        path,
                        UseKind::Path,
                        format!("use {}", target.join("::")),
                    );
                }
            }
        } else {
            self.bind_local_use(item);
        }
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.with_parameters(&item.sig, |visitor| {
            syn::visit::visit_item_fn(visitor, item)
        });
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        let init = local.init.as_ref().map(|init| &*init.expr);
        self.bind_variable(&local.pat, None, init);
        syn::visit::visit_local(self, local);
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        self.variables.push(BTreeMap::new());
        self.locals.push(BTreeMap::new());
        // Items (and so `use`s) in a block are visible in all of it.
        for stmt in &block.stmts {
            if let syn::Stmt::Item(syn::Item::Use(item)) = stmt {
                self.bind_local_use(item);
            }
        }
        for stmt in &block.stmts {
            if !matches!(stmt, syn::Stmt::Item(syn::Item::Use(_))) {
                self.visit_stmt(stmt);
            }
        }
        self.locals.pop();
        self.variables.pop();
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.record_path(path, UseKind::Path);
        syn::visit::visit_path(self, path);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if let Some((_, path, _)) = &item.trait_ {
            self.record_path(path, UseKind::TraitImpl);
        }
        syn::visit::visit_item_impl(self, item);
    }

    fn visit_expr_struct(&mut self, expr: &'ast syn::ExprStruct) {
        // `..base` fills what the literal does not name, so new fields do not break it.
        if expr.rest.is_none() {
            self.record_path(&expr.path, UseKind::StructLiteral);
        }
        syn::visit::visit_expr_struct(self, expr);
    }

    fn visit_expr_match(&mut self, expr: &'ast syn::ExprMatch) {
        let catch_all = expr.arms.iter().any(|arm| {
            matches!(
                &arm.pat,
                syn::Pat::Wild(_) | syn::Pat::Ident(syn::PatIdent { subpat: None, .. })
            ) && arm.guard.is_none()
        });
        if !catch_all {
            // The enum is what the arms' variant paths lead to, less the variant.
            let mut enums = Vec::new();
            for arm in &expr.arms {
                collect_pattern_paths(&arm.pat, &mut enums);
            }
            // The compiler reports a non-exhaustive match at its scrutinee: the `match` line.
            let line = expr.match_token.span.start().line;
            for path in enums {
                if let Some(mut resolved) = self.resolve(&path)
                    && resolved.len() >= 2
                {
                    resolved.pop();
                    let text = super::super::render::tidy(quote::ToTokens::to_token_stream(&path));
                    let through = self.imported_first(&path);
                    self.push_through(line, resolved, UseKind::ExhaustiveMatch, text, through);
                    break;
                }
            }
        }
        syn::visit::visit_expr_match(self, expr);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if self.imports_dependency.last().copied().unwrap_or(false) {
            let line = call.method.span().start().line;
            let name = super::name_of(&call.method);
            let mut in_scope = self.module_items.last().cloned().unwrap_or_default();
            in_scope.extend(self.locals.iter().flat_map(|scope| scope.values().cloned()));
            self.push(
                line,
                vec![name.clone()],
                UseKind::MethodCall,
                format!(".{name}()"),
            );
            let receiver = self.receiver_type(&call.receiver);
            if let Some(site) = self.sites.last_mut() {
                site.in_scope = in_scope;
                site.receiver = receiver;
            }
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.record_path(&mac.path, UseKind::Path);
        // Macro arguments are often expressions: read them as such when they parse.
        if let Ok(args) = mac.parse_body_with(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
        ) {
            for arg in &args {
                self.visit_expr(arg);
            }
        }
    }
}

impl UseVisitor<'_> {
    /// Visits a function with its typed parameters bound as variables.
    fn with_parameters(&mut self, sig: &syn::Signature, visit: impl FnOnce(&mut Self)) {
        self.variables.push(BTreeMap::new());
        for input in &sig.inputs {
            if let syn::FnArg::Typed(typed) = input {
                self.bind_variable(&typed.pat, Some(&typed.ty), None);
            }
        }
        visit(self);
        self.variables.pop();
    }
}

/// The paths of variant patterns in `pat` (`E::A`, `E::B { .. }`, `E::C(_)`), at any depth of
/// `|` alternatives.
fn collect_pattern_paths(pat: &syn::Pat, out: &mut Vec<syn::Path>) {
    match pat {
        syn::Pat::Path(p) => out.push(p.path.clone()),
        syn::Pat::Struct(p) => out.push(p.path.clone()),
        syn::Pat::TupleStruct(p) => out.push(p.path.clone()),
        syn::Pat::Or(or) => {
            for case in &or.cases {
                collect_pattern_paths(case, out);
            }
        }
        syn::Pat::Reference(r) => collect_pattern_paths(&r.pat, out),
        syn::Pat::Paren(p) => collect_pattern_paths(&p.pat, out),
        _ => {}
    }
}
