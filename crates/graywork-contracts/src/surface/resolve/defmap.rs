//! The crate's name map, computed once to a fixed point: every module's items and child
//! modules first, then its `use` declarations resolved until nothing changes.
//!
//! Each (module, namespace, name) is bound at most once by an item or a named import; a glob
//! adds the names its source module binds, pushed forward as that module gains names, and never
//! over an explicit binding. Two globs bringing one name with different targets are recorded as
//! ambiguous (the first stays). Cycles of globs end by construction: a binding is only ever
//! added or replaced by a more explicit or more visible one, so every query afterwards reads a
//! finished table and needs no depth limit.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::data::{ModuleData, RawDef, RawKind, Target, UseEntry, Vis};

/// Rust's two namespaces an item can be named in (macros are read apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Ns {
    /// Modules, types and traits.
    Type,
    /// Functions, consts and statics.
    Value,
}

/// Where a binding comes from, which decides what may replace it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// An item or child module defined in the module.
    Item,
    /// A named `use`.
    Named,
    /// A glob `use` of the module with this id.
    Glob(usize),
}

/// One name bound in one module.
#[derive(Debug, Clone)]
pub(super) struct Binding {
    pub(super) target: Target,
    pub(super) vis: Vis,
    /// Doc-hidden: the item, its module or the `use` that brings it is `#[doc(hidden)]`.
    pub(super) hidden: bool,
    origin: Origin,
    /// The `use` that first bound the name (its module's path and its index in that module's
    /// `uses`), for names bound by imports.
    pub(super) import: Option<(usize, usize)>,
}

/// A `use` declaration still to resolve: its module and its index in that module's `uses`.
#[derive(Debug, Clone, Copy)]
struct Pending {
    module: usize,
    entry: usize,
}

/// Every module's bindings once imports reached their fixed point.
#[derive(Debug, Default)]
pub(super) struct DefMap {
    ids: HashMap<Arc<[String]>, usize>,
    paths: Vec<Arc<[String]>>,
    parents: Vec<Option<usize>>,
    scopes: Vec<BTreeMap<(String, Ns), Binding>>,
    /// Glob imports of each module: (importing module, the import's visibility, hidden).
    glob_importers: Vec<Vec<(usize, Vis, bool)>>,
    /// `use` declarations that name nothing in this crate: (module path, index in its `uses`).
    pub(super) unresolved: Vec<(Vec<String>, usize)>,
    /// Names two globs bring into one module with different targets: (module path, name).
    pub(super) ambiguous: Vec<(Vec<String>, String)>,
}

impl DefMap {
    /// Builds the map of `krate`'s modules, definitions and `use` declarations.
    pub(super) fn build(
        modules: &BTreeMap<Vec<String>, ModuleData>,
        defs: &BTreeMap<Vec<String>, RawDef>,
    ) -> DefMap {
        let mut map = DefMap::default();
        for path in modules.keys() {
            let id = map.paths.len();
            let path: Arc<[String]> = path.as_slice().into();
            map.ids.insert(path.clone(), id);
            map.paths.push(path);
        }
        let count = map.paths.len();
        map.parents = map
            .paths
            .iter()
            .map(|path| {
                path.split_last()
                    .and_then(|(_, parent)| map.ids.get(parent).copied())
            })
            .collect();
        map.scopes = vec![BTreeMap::new(); count];
        map.glob_importers = vec![Vec::new(); count];

        // Items and child modules first: they are known before any import is read.
        let mut pending = Vec::new();
        for (id, data) in modules.values().enumerate() {
            map.bind_items(defs, id, data);
            pending.extend((0..data.uses.len()).map(|entry| Pending { module: id, entry }));
        }

        // Then imports, round after round, until a round resolves nothing new. Each import
        // resolves once; names reached through globs are pushed forward as they appear.
        let modules: Vec<&ModuleData> = modules.values().collect();
        let mut queue = Vec::new();
        loop {
            let before = pending.len();
            pending.retain(|import: &Pending| {
                let entry = &modules[import.module].uses[import.entry];
                !map.resolve_import(*import, entry, &mut queue)
            });
            map.propagate(&mut queue);
            if pending.len() != before {
                continue;
            }
            // Nothing more resolves here: a named import that starts at a name no module binds
            // names another crate's item. Binding it may let others resolve through it.
            let before = pending.len();
            pending.retain(|import: &Pending| {
                let entry = &modules[import.module].uses[import.entry];
                !map.bind_external(*import, entry, &mut queue)
            });
            map.propagate(&mut queue);
            if pending.len() == before {
                break;
            }
        }
        map.unresolved = pending
            .into_iter()
            .map(|import| (map.paths[import.module].to_vec(), import.entry))
            .collect();
        map
    }

    fn bind_items(&mut self, defs: &BTreeMap<Vec<String>, RawDef>, id: usize, data: &ModuleData) {
        let path = &self.paths[id];
        let mut bindings = Vec::new();
        for (name, (vis, hidden)) in &data.children {
            let mut child = path.to_vec();
            child.push(name.clone());
            bindings.push((
                (name.clone(), Ns::Type),
                Target::Module(child.into()),
                *vis,
                *hidden,
            ));
        }
        for (name, def_path) in &data.defs {
            let Some(def) = defs.get(def_path) else {
                continue;
            };
            let ns = match def.kind {
                RawKind::Function(_) | RawKind::Const(_) => Ns::Value,
                _ => Ns::Type,
            };
            bindings.push((
                (name.clone(), ns),
                Target::Def(def_path.as_slice().into()),
                def.vis,
                def.hidden,
            ));
        }
        for (key, target, vis, hidden) in bindings {
            // An item always wins over a child module of the same name in one namespace
            // (the compiler refuses both; keep the first).
            self.scopes[id].entry(key).or_insert(Binding {
                target,
                vis,
                hidden,
                origin: Origin::Item,
                import: None,
            });
        }
    }

    /// Binds a named `use` whose path starts at another crate to that crate's item, in both
    /// namespaces (which one it is cannot be known here). Returns whether it did.
    fn bind_external(
        &mut self,
        import: Pending,
        entry: &UseEntry,
        queue: &mut Vec<(usize, (String, Ns))>,
    ) -> bool {
        let (Some(name), Some(first)) = (&entry.name, entry.target.first()) else {
            return false;
        };
        if matches!(first.as_str(), "crate" | "self" | "super" | "$crate")
            || self.scopes[import.module].contains_key(&(first.clone(), Ns::Type))
        {
            return false;
        }
        self.bind_external_item(import, entry, name, entry.target.as_slice().into(), queue);
        true
    }

    /// Binds `name` in the importing module to another crate's item at `path`, in both
    /// namespaces: which one it is cannot be known from this crate.
    fn bind_external_item(
        &mut self,
        import: Pending,
        entry: &UseEntry,
        name: &str,
        path: Arc<[String]>,
        queue: &mut Vec<(usize, (String, Ns))>,
    ) {
        for ns in [Ns::Type, Ns::Value] {
            let bound = Binding {
                target: Target::External(path.clone()),
                vis: entry.vis,
                hidden: entry.hidden,
                origin: Origin::Named,
                import: Some((import.module, import.entry)),
            };
            self.add(import.module, (name.to_owned(), ns), bound, queue);
        }
    }

    /// Tries one `use`: binds what it names and returns whether it is done.
    fn resolve_import(
        &mut self,
        import: Pending,
        entry: &UseEntry,
        queue: &mut Vec<(usize, (String, Ns))>,
    ) -> bool {
        let module = import.module;
        let vis = entry.vis;
        match &entry.name {
            None => {
                let Some(target) = self.resolve_in(module, &entry.target) else {
                    return false;
                };
                let source_path = match target {
                    Target::Module(path) => path,
                    // Another crate's names cannot be listed: the glob stays unresolved.
                    Target::External(_) => return false,
                    // `use Enum::*` brings variants, which are not recorded.
                    Target::Def(_) => return true,
                };
                let Some(&source) = self.ids.get(&source_path) else {
                    return true;
                };
                self.glob_importers[source].push((module, vis, entry.hidden));
                let names: Vec<((String, Ns), Binding)> = self.scopes[source]
                    .iter()
                    .map(|(key, binding)| (key.clone(), binding.clone()))
                    .collect();
                for (key, binding) in names {
                    if let Some(glob) =
                        self.glob_binding(source, &binding, module, vis, entry.hidden)
                    {
                        self.add(module, key, glob, queue);
                    }
                }
                true
            }
            Some(name) => {
                let Some((last, prefix)) = entry.target.split_last() else {
                    return true;
                };
                // `use foo;` and `use foo as bar;` name a crate, never a local item.
                if prefix.is_empty() {
                    return false;
                }
                let parent = match self.resolve_in(module, prefix) {
                    Some(Target::Module(parent)) => parent,
                    Some(Target::External(path)) => {
                        let mut path = path.to_vec();
                        path.push(last.clone());
                        self.bind_external_item(import, entry, name, path.into(), queue);
                        return true;
                    }
                    _ => return false,
                };
                let Some(&parent) = self.ids.get(&parent) else {
                    return false;
                };
                let found: Vec<(Ns, Binding)> = [Ns::Type, Ns::Value]
                    .into_iter()
                    .filter_map(|ns| {
                        let binding = self.scopes[parent].get(&(last.clone(), ns))?;
                        Some((ns, binding.clone()))
                    })
                    .collect();
                if found.is_empty() {
                    return false;
                }
                for (ns, binding) in found {
                    // Each namespace is imported only where the importer can see the binding,
                    // and re-exported no wider than the binding itself is visible: `pub use`
                    // of a private module and a public function of one name re-exports only
                    // the function.
                    if binding.vis == Vis::Private && !self.is_within(module, parent) {
                        continue;
                    }
                    let bound = Binding {
                        target: binding.target,
                        vis: vis.min(binding.vis),
                        hidden: entry.hidden || binding.hidden,
                        origin: Origin::Named,
                        import: Some((import.module, import.entry)),
                    };
                    self.add(module, (name.clone(), ns), bound, queue);
                }
                true
            }
        }
    }

    /// The binding a glob import of `source` into `importer` gives `binding`, if the importer
    /// can see it.
    fn glob_binding(
        &self,
        source: usize,
        binding: &Binding,
        importer: usize,
        import_vis: Vis,
        import_hidden: bool,
    ) -> Option<Binding> {
        let visible = match binding.vis {
            Vis::Public | Vis::Crate => true,
            Vis::Private => self.is_within(importer, source),
        };
        visible.then(|| Binding {
            target: binding.target.clone(),
            vis: import_vis.min(binding.vis),
            hidden: import_hidden || binding.hidden,
            origin: Origin::Glob(source),
            import: binding.import,
        })
    }

    /// Whether `module` is `ancestor` or inside it.
    fn is_within(&self, mut module: usize, ancestor: usize) -> bool {
        loop {
            if module == ancestor {
                return true;
            }
            match self.parents[module] {
                Some(parent) => module = parent,
                None => return false,
            }
        }
    }

    /// Binds `key` in `module` unless a more explicit binding holds it; queues the change.
    fn add(
        &mut self,
        module: usize,
        key: (String, Ns),
        binding: Binding,
        queue: &mut Vec<(usize, (String, Ns))>,
    ) {
        let scope = &mut self.scopes[module];
        let changed = match scope.get_mut(&key) {
            None => {
                scope.insert(key.clone(), binding);
                true
            }
            Some(existing) => match (existing.origin, binding.origin) {
                // An explicit name shadows what a glob brought.
                (Origin::Glob(_), Origin::Item | Origin::Named) => {
                    *existing = binding;
                    true
                }
                (Origin::Glob(old), Origin::Glob(new)) => {
                    if existing.target == binding.target {
                        let more_visible = binding.vis > existing.vis;
                        let less_hidden = existing.hidden && !binding.hidden;
                        if more_visible || less_hidden {
                            existing.vis = existing.vis.max(binding.vis);
                            existing.hidden &= binding.hidden;
                            true
                        } else {
                            false
                        }
                    } else if old == new {
                        // The source module's own binding changed: follow it.
                        *existing = binding;
                        true
                    } else {
                        self.ambiguous
                            .push((self.paths[module].to_vec(), key.0.clone()));
                        false
                    }
                }
                _ => false,
            },
        };
        if changed {
            queue.push((module, key));
        }
    }

    /// Pushes queued bindings to the modules that glob-import their module, until none is left.
    fn propagate(&mut self, queue: &mut Vec<(usize, (String, Ns))>) {
        while let Some((module, key)) = queue.pop() {
            let Some(binding) = self.scopes[module].get(&key).cloned() else {
                continue;
            };
            for index in 0..self.glob_importers[module].len() {
                let (importer, vis, hidden) = self.glob_importers[module][index];
                if let Some(glob) = self.glob_binding(module, &binding, importer, vis, hidden) {
                    self.add(importer, key.clone(), glob, queue);
                }
            }
        }
    }

    /// Resolves a path written in the module with id `from` against the bindings known now.
    fn resolve_in(&self, from: usize, segments: &[String]) -> Option<Target> {
        let (mut current, rest) = self.start(from, segments)?;
        let Some((last, middle)) = rest.split_last() else {
            return Some(Target::Module(self.paths[current].clone()));
        };
        for (index, segment) in middle.iter().enumerate() {
            match &self.scopes[current]
                .get(&(segment.clone(), Ns::Type))?
                .target
            {
                Target::Module(path) => current = *self.ids.get(path)?,
                Target::Def(_) => return None,
                // A path through another crate's item continues in that crate.
                Target::External(path) => {
                    let mut path = path.to_vec();
                    path.extend(rest[index + 1..].iter().cloned());
                    return Some(Target::External(path.into()));
                }
            }
        }
        let scope = &self.scopes[current];
        scope
            .get(&(last.clone(), Ns::Type))
            .or_else(|| scope.get(&(last.clone(), Ns::Value)))
            .map(|binding| binding.target.clone())
    }

    /// The module a path starts from (`crate`, `self`, `super`, or the one it is written in)
    /// and the segments left to look up.
    fn start<'s>(&self, from: usize, segments: &'s [String]) -> Option<(usize, &'s [String])> {
        let first = segments.first()?;
        Some(match first.as_str() {
            "crate" | "$crate" => (self.ids.get(&[][..]).copied()?, &segments[1..]),
            "self" => (from, &segments[1..]),
            "super" => {
                let mut current = from;
                let mut rest = segments;
                while rest.first().is_some_and(|s| s == "super") {
                    current = self.parents[current]?;
                    rest = &rest[1..];
                }
                (current, rest)
            }
            _ => (from, segments),
        })
    }

    /// Resolves a path written in module `from` to a definition or a module of this crate.
    pub(super) fn resolve(&self, from: &[String], segments: &[String]) -> Option<Target> {
        if segments.is_empty() {
            return None;
        }
        self.resolve_in(*self.ids.get(from)?, segments)
    }

    /// Every name a module binds, whatever its visibility, types before values for a name
    /// bound in both.
    pub(super) fn bindings(&self, module: &[String]) -> Vec<(&str, &Binding)> {
        let Some(&id) = self.ids.get(module) else {
            return Vec::new();
        };
        self.scopes[id]
            .iter()
            .map(|((name, _), binding)| (name.as_str(), binding))
            .collect()
    }

    /// The module path and `uses` index of the import a binding came through, if any.
    pub(super) fn import_of(&self, binding: &Binding) -> Option<(&[String], usize)> {
        binding
            .import
            .map(|(module, entry)| (&self.paths[module][..], entry))
    }

    /// The names a module binds publicly: name -> (target, doc-hidden), types before values
    /// for a name bound in both.
    pub(super) fn exports(&self, module: &[String]) -> Vec<(&str, &Binding)> {
        let Some(&id) = self.ids.get(module) else {
            return Vec::new();
        };
        self.scopes[id]
            .iter()
            .filter(|(_, binding)| binding.vis == Vis::Public)
            .map(|((name, _), binding)| (name.as_str(), binding))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use proptest::prelude::*;

    use super::super::Crate;
    use super::Target;
    use crate::surface::MemoryTree;

    fn load(files: &[(String, String)]) -> Crate {
        let tree = MemoryTree {
            files: files
                .iter()
                .map(|(path, text)| (PathBuf::from(path), text.clone()))
                .collect(),
        };
        Crate::load(&tree, Path::new("src/lib.rs")).expect("fixture parses")
    }

    fn lib(text: &str) -> Crate {
        load(&[("src/lib.rs".to_string(), text.to_string())])
    }

    fn def(path: &[&str]) -> Option<Target> {
        Some(Target::Def(path.iter().map(|s| s.to_string()).collect()))
    }

    fn segments(path: &str) -> Vec<String> {
        path.split("::").map(str::to_string).collect()
    }

    #[test]
    fn mutual_globs_end_and_see_each_others_items() {
        let krate = lib("pub mod a { pub use crate::b::*; pub struct A; } \
             pub mod b { pub use crate::a::*; pub struct B; } pub use a::*;");
        assert_eq!(krate.resolve(&[], &segments("a::B")), def(&["b", "B"]));
        assert_eq!(krate.resolve(&[], &segments("b::A")), def(&["a", "A"]));
        assert_eq!(krate.resolve(&[], &segments("B")), def(&["b", "B"]));
    }

    #[test]
    fn a_module_importing_its_own_glob_and_its_ancestors_ends() {
        // The shape that ran without end: `pub use crate::*` in a child the root globs.
        let krate = load(&[
            (
                "src/lib.rs".to_string(),
                "pub mod m1; pub use m1::*; pub fn rng() -> rand::rngs::ThreadRng { todo!() } \
                 pub fn missing() -> NotDefinedAnywhere { todo!() }"
                    .to_string(),
            ),
            (
                "src/m1.rs".to_string(),
                "pub use crate::*; pub use super::m1::*; pub use self::*;".to_string(),
            ),
        ]);
        assert_eq!(
            krate.resolve(&[], &segments("m1::m1::m1::rng")),
            def(&["rng"])
        );
        let surface = krate.surface();
        assert!(surface.functions.contains_key("rng"));
        assert!(surface.functions.contains_key("m1::rng"));
        assert!(surface.modules.contains_key("m1::m1"));
    }

    #[test]
    fn explicit_names_shadow_globs_and_glob_conflicts_are_recorded() {
        let krate = lib(
            "pub mod a { pub struct X; pub struct Y; } pub mod b { pub struct X; } \
             pub mod c { pub use crate::a::*; pub use crate::b::*; } \
             pub mod d { pub use crate::a::*; pub use crate::b::X; }",
        );
        assert_eq!(krate.resolve(&[], &segments("d::X")), def(&["b", "X"]));
        assert_eq!(krate.resolve(&[], &segments("d::Y")), def(&["a", "Y"]));
        assert_eq!(
            krate.map.ambiguous,
            [(vec!["c".to_string()], "X".to_string())]
        );
    }

    #[test]
    fn private_items_reach_children_through_super_globs_only() {
        let krate = lib(
            "struct Hidden; pub mod child { use super::*; pub fn f() {} } \
             pub mod other { pub use crate::child::*; }",
        );
        assert_eq!(
            krate.resolve(&["child".to_string()], &segments("Hidden")),
            def(&["Hidden"])
        );
        // `child` binds `Hidden` privately: a glob of `child` from elsewhere does not see it.
        assert_eq!(
            krate.resolve(&["other".to_string()], &segments("Hidden")),
            None
        );
        assert!(!krate.surface().structs.contains_key("other::Hidden"));
    }

    #[test]
    fn a_thousand_modules_each_globbing_super_resolve() {
        let mut text = String::new();
        for i in 0..1000 {
            text.push_str(&format!(
                "pub mod m{i} {{ use super::*; pub struct S{i}; }}\n"
            ));
        }
        text.push_str("pub struct Root;");
        let krate = lib(&text);
        assert_eq!(
            krate.resolve(&["m999".to_string()], &segments("Root")),
            def(&["Root"])
        );
        assert_eq!(krate.surface().structs.len(), 1001);
    }

    #[test]
    fn a_re_export_chain_two_hundred_deep_resolves_in_any_order() {
        // Written deepest-last, so each `use` can only resolve after the one below it.
        let mut text = String::from("pub mod m0 { pub struct End; }\n");
        for i in 1..=200 {
            text.push_str(&format!(
                "pub mod m{i} {{ pub use crate::m{}::End; }}\n",
                i - 1
            ));
        }
        let mut reversed: Vec<&str> = text.lines().collect();
        reversed.reverse();
        let krate = lib(&reversed.join("\n"));
        assert_eq!(
            krate.resolve(&[], &segments("m200::End")),
            def(&["m0", "End"])
        );
        assert_eq!(krate.surface().structs.len(), 201);
    }

    #[test]
    fn glob_chains_and_cycles_of_a_hundred_modules_end() {
        let mut text = String::new();
        for i in 0..100 {
            let next = (i + 1) % 100;
            text.push_str(&format!(
                "pub mod g{i} {{ pub use crate::g{next}::*; pub use crate::*; pub struct T{i}; }}\n"
            ));
        }
        let krate = lib(&text);
        assert_eq!(
            krate.resolve(&[], &segments("g0::T99")),
            def(&["g99", "T99"])
        );
        assert_eq!(
            krate.resolve(&[], &segments("g42::g7::T3")),
            def(&["g3", "T3"])
        );
    }

    /// A module tree for the property test: `pub mod`s nested to depth 2, each with one
    /// struct of a crate-unique name, named imports of some struct and globs of some module,
    /// all written from the crate root (`crate::a::b::Name`).
    #[derive(Debug, Clone)]
    struct Tree {
        /// Each module's parent (index into this list; the root is module 0 and has none).
        parents: Vec<usize>,
        /// (importing module, imported module, struct number or None for a glob).
        imports: Vec<(usize, usize, Option<usize>)>,
    }

    fn tree_strategy() -> impl Strategy<Value = Tree> {
        (2usize..8)
            .prop_flat_map(|count| {
                let parents = (1..count)
                    .map(|i| 0..i)
                    .collect::<Vec<_>>()
                    .prop_map(|mut p| {
                        p.insert(0, 0);
                        p
                    });
                let imports = proptest::collection::vec(
                    (0..count, 0..count, proptest::option::of(0..count)),
                    0..12,
                );
                (parents, imports)
            })
            .prop_map(|(parents, imports)| Tree { parents, imports })
    }

    impl Tree {
        fn path(&self, module: usize) -> Vec<String> {
            let mut path = Vec::new();
            let mut current = module;
            while current != 0 {
                path.push(format!("m{current}"));
                current = self.parents[current];
            }
            path.reverse();
            path
        }

        fn source(&self) -> String {
            fn write(tree: &Tree, module: usize, out: &mut String) {
                out.push_str(&format!("pub struct S{module};\n"));
                for (from, to, item) in &tree.imports {
                    if *from != module {
                        continue;
                    }
                    let mut path = vec!["crate".to_string()];
                    path.extend(tree.path(*to));
                    match item {
                        Some(item) => path.push(format!("S{item}")),
                        None => path.push("*".to_string()),
                    }
                    out.push_str(&format!("pub use {};\n", path.join("::")));
                }
                for child in (1..tree.parents.len()).filter(|&c| tree.parents[c] == module) {
                    out.push_str(&format!("pub mod m{child} {{\n"));
                    write(tree, child, out);
                    out.push_str("}\n");
                }
            }
            let mut out = String::new();
            write(self, 0, &mut out);
            out
        }

        /// The public names of every module, by the simplest rule: recompute every scope from
        /// the previous round's scopes until a round changes nothing.
        fn reference(&self) -> BTreeMap<Vec<String>, BTreeMap<String, Target>> {
            let count = self.parents.len();
            let mut scopes: Vec<BTreeMap<String, Target>> = vec![BTreeMap::new(); count];
            loop {
                let mut next: Vec<BTreeMap<String, Target>> = (0..count)
                    .map(|m| {
                        let mut scope = BTreeMap::new();
                        let mut own = self.path(m);
                        own.push(format!("S{m}"));
                        scope.insert(format!("S{m}"), Target::Def(own.into()));
                        for child in (1..count).filter(|&c| self.parents[c] == m) {
                            scope.insert(
                                format!("m{child}"),
                                Target::Module(self.path(child).into()),
                            );
                        }
                        scope
                    })
                    .collect();
                for (from, to, item) in &self.imports {
                    if let Some(item) = item {
                        let name = format!("S{item}");
                        if let Some(target) = scopes[*to].get(&name) {
                            next[*from].entry(name).or_insert_with(|| target.clone());
                        }
                    }
                }
                for (from, to, item) in &self.imports {
                    if item.is_none() {
                        for (name, target) in &scopes[*to] {
                            next[*from]
                                .entry(name.clone())
                                .or_insert_with(|| target.clone());
                        }
                    }
                }
                if next == scopes {
                    break;
                }
                scopes = next;
            }
            (0..count)
                .map(|m| (self.path(m), scopes[m].clone()))
                .collect()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn the_fixed_point_agrees_with_a_simple_reference(tree in tree_strategy()) {
            let krate = lib(&tree.source());
            let reference = tree.reference();
            for (module, expected) in reference {
                let got: BTreeMap<String, Target> = krate
                    .map
                    .exports(&module)
                    .into_iter()
                    .map(|(name, binding)| (name.to_string(), binding.target.clone()))
                    .collect();
                prop_assert_eq!(&got, &expected, "module {:?} of\n{}", module, tree.source());
            }
            // Every public path the surface lists resolves to the struct it names.
            let surface = krate.surface();
            let names: BTreeSet<&String> = surface.structs.keys().collect();
            for name in names {
                let resolved = krate.resolve(&[], &segments(name));
                prop_assert!(matches!(resolved, Some(Target::Def(_))), "{}", name);
            }
        }
    }
}
