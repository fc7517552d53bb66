//! Diff and lints: compare an old and a new [`Surface`] and name every change with a stable
//! lint and the semver bump it needs.
//!
//! One module per kind of item: [`traits`], [`signature`] (functions and methods), [`types`]
//! (structs, enums and unions), [`generics`] and [`features`]; this module walks the two
//! surfaces' item maps and hands each pair to them.

mod features;
mod finding;
mod generics;
mod signature;
mod traits;
mod types;

use std::collections::{BTreeMap, BTreeSet};

pub(crate) use crate::lint::Bump;
use crate::lint::{Level, Lint};
use crate::surface::{
    ConstDef, EnumDef, FnSig, Location, MacroDef, MacroKind, ModuleDef, StructDef, Surface,
    TraitDef,
};

pub use finding::{Finding, Severity};
use finding::{Findings, changed};

use features::diff_features;
use signature::diff_function;
use traits::diff_trait;
use types::{diff_enum, diff_struct, diff_union};

/// Compares two surfaces. Findings are sorted by path, then lint.
pub fn diff(old: &Surface, new: &Surface) -> Vec<Finding> {
    // A struct that became a union (or the other way) is one finding, not a removal and an
    // addition.
    let mut kind_changed = BTreeSet::new();
    let mut kind_changed_findings = Vec::new();
    for (path, new_def, from, to) in old
        .structs
        .keys()
        .filter_map(|p| new.unions.get(p).map(|n| (p, n, "struct", "union")))
        .chain(
            old.unions
                .keys()
                .filter_map(|p| new.structs.get(p).map(|n| (p, n, "union", "struct"))),
        )
    {
        kind_changed.insert(path.clone());
        let mut finding = Findings::finding(
            Lint::UnionChangedKind,
            path,
            &new_def.loc,
            new_def.cfg.as_ref(),
            format!(
                "`{path}` changed from a {from} to a {to}: literals, patterns and field access break"
            ),
        );
        finding.group = String::new();
        kind_changed_findings.push(finding);
    }
    let mut out = Findings {
        list: kind_changed_findings,
        hidden: &new.hidden,
        old_hidden: &old.hidden,
        skip: &kind_changed,
        unexported_macros: &new.unexported_macros,
        macro_generated: &new.macro_generated,
        macro_mentions: &new.macro_mentions,
        external_reexports: &new.external_reexports,
        new_modules: &new.modules,
    };
    compare_maps(&old.traits, &new.traits, &mut out, Kind::Trait, diff_trait);
    compare_maps(
        &old.structs,
        &new.structs,
        &mut out,
        Kind::Struct,
        diff_struct,
    );
    compare_maps(&old.unions, &new.unions, &mut out, Kind::Union, diff_union);
    compare_maps(&old.macros, &new.macros, &mut out, Kind::Macro, diff_macro);
    compare_maps(
        &old.modules,
        &new.modules,
        &mut out,
        Kind::Module,
        |_, _, _, _| {},
    );
    diff_features(&old.features, &new.features, &mut out);
    compare_maps(&old.enums, &new.enums, &mut out, Kind::Enum, diff_enum);
    compare_maps(
        &old.functions,
        &new.functions,
        &mut out,
        Kind::Function,
        diff_function,
    );
    compare_maps(&old.consts, &new.consts, &mut out, Kind::Const, diff_const);
    let mut list = merge_paths(out.list);
    list.sort_by(|a, b| {
        (&a.path, a.lint.name(), &a.message).cmp(&(&b.path, b.lint.name(), &b.message))
    });
    list
}

/// One finding per change: an item reachable by several public paths changes once. Findings
/// that differ only in the path (same lint, location, and message with the path taken out)
/// become the one at the shortest path, listing the others in `also_at`.
fn merge_paths(list: Vec<Finding>) -> Vec<Finding> {
    let key = |finding: &Finding| {
        let mut message = finding.message.replace(&finding.path, "\u{0}");
        if let Some((parent, _)) = finding.path.rsplit_once("::") {
            message = message.replace(parent, "\u{1}");
        }
        (
            finding.lint.name(),
            finding.loc.file.clone(),
            finding.loc.line,
            message,
        )
    };
    let mut groups: BTreeMap<_, Vec<Finding>> = BTreeMap::new();
    for finding in list {
        groups.entry(key(&finding)).or_default().push(finding);
    }
    groups
        .into_values()
        .map(|mut alike| {
            alike.sort_by(|a, b| {
                (a.path.matches("::").count(), &a.path)
                    .cmp(&(b.path.matches("::").count(), &b.path))
            });
            let mut first = alike.remove(0);
            first.also_at = alike.into_iter().map(|f| f.path).collect();
            first
        })
        .collect()
}

/// What every top-level item kind shares.
trait Item {
    fn loc(&self) -> &Location;
    fn cfg(&self) -> Option<&String>;
    /// The lint for this item's removal, when it depends on the item (macros).
    fn missing_lint(&self, default: Lint, _out: &Findings<'_>) -> Lint {
        default
    }
}

macro_rules! impl_item {
    ($($ty:ty),*) => {$(
        impl Item for $ty {
            fn loc(&self) -> &Location { &self.loc }
            fn cfg(&self) -> Option<&String> { self.cfg.as_ref() }
        }
    )*};
}

impl Item for MacroDef {
    fn loc(&self) -> &Location {
        &self.loc
    }
    fn cfg(&self) -> Option<&String> {
        self.cfg.as_ref()
    }
    fn missing_lint(&self, _default: Lint, _out: &Findings<'_>) -> Lint {
        match self.kind {
            MacroKind::Declarative => Lint::DeclarativeMacroMissing,
            MacroKind::FunctionLike => Lint::FunctionLikeProcMacroMissing,
            MacroKind::Attribute => Lint::AttributeProcMacroMissing,
            MacroKind::Derive => Lint::DeriveProcMacroMissing,
        }
    }
}
impl_item!(TraitDef, StructDef, EnumDef, FnSig, ConstDef, ModuleDef);

#[derive(Debug, Clone, Copy)]
enum Kind {
    Trait,
    Struct,
    Enum,
    Function,
    Const,
    Union,
    Macro,
    Module,
}

impl Kind {
    fn lints(self) -> (Lint, Lint, Lint) {
        match self {
            Kind::Trait => (
                Lint::TraitMissing,
                Lint::TraitNowDocHidden,
                Lint::TraitAdded,
            ),
            Kind::Struct => (
                Lint::StructMissing,
                Lint::StructNowDocHidden,
                Lint::StructAdded,
            ),
            Kind::Enum => (Lint::EnumMissing, Lint::EnumNowDocHidden, Lint::EnumAdded),
            Kind::Function => (
                Lint::FunctionMissing,
                Lint::FunctionNowDocHidden,
                Lint::FunctionAdded,
            ),
            Kind::Const => (
                Lint::PubModuleLevelConstMissing,
                Lint::PubModuleLevelConstNowDocHidden,
                Lint::PubModuleLevelConstAdded,
            ),
            Kind::Union => (
                Lint::UnionMissing,
                Lint::UnionNowDocHidden,
                Lint::UnionAdded,
            ),
            Kind::Macro => (
                Lint::DeclarativeMacroMissing,
                Lint::MacroNowDocHidden,
                Lint::MacroAdded,
            ),
            Kind::Module => (
                Lint::ModuleMissing,
                Lint::ModuleMissing,
                Lint::ModuleMissing,
            ),
        }
    }

    fn word(self) -> &'static str {
        match self {
            Kind::Trait => "trait",
            Kind::Struct => "struct",
            Kind::Enum => "enum",
            Kind::Function => "function",
            Kind::Const => "const",
            Kind::Union => "union",
            Kind::Macro => "macro",
            Kind::Module => "module",
        }
    }
}

fn compare_maps<T: Item>(
    old: &BTreeMap<String, T>,
    new: &BTreeMap<String, T>,
    out: &mut Findings<'_>,
    kind: Kind,
    each: fn(&str, &T, &T, &mut Findings<'_>),
) {
    let (missing, now_hidden, added) = kind.lints();
    let word = kind.word();
    for (path, old_item) in old {
        if out.skip.contains(path) {
            continue;
        }
        match new.get(path) {
            Some(new_item) => each(path, old_item, new_item, out),
            // A module made doc-hidden is reported through its items.
            None if matches!(kind, Kind::Module) && is_hidden(out.hidden, path) => {}
            None if is_hidden(out.hidden, path) => out.push(
                now_hidden,
                path,
                old_item.loc(),
                old_item.cfg(),
                format!("{word} `{path}` is now #[doc(hidden)]: users who name it break"),
            ),
            // Another crate's item may now stand at this path.
            None if reexported_from_elsewhere(out.external_reexports, path) => {}
            // The new crate may declare it (or the module it is in) through a macro the
            // checker does not expand.
            None if out.maybe_macro_generated(path) => {}
            None => {
                let mut lint = old_item.missing_lint(missing, out);
                if lint == Lint::DeclarativeMacroMissing && out.unexported_macros.contains(path) {
                    lint = Lint::MacroNoLongerExported;
                }
                let why = if lint == Lint::MacroNoLongerExported {
                    "is no longer exported (`#[macro_export]` removed)"
                } else {
                    "removed or renamed"
                };
                out.push(
                    lint,
                    path,
                    old_item.loc(),
                    old_item.cfg(),
                    format!("{word} `{path}` {why}: users who name it break"),
                );
            }
        }
    }
    if matches!(kind, Kind::Module) {
        return;
    }
    for (path, new_item) in new {
        // An item that only left `#[doc(hidden)]` was public API already.
        if !old.contains_key(path) && !out.skip.contains(path) && !is_hidden(out.old_hidden, path) {
            out.push(
                added,
                path,
                new_item.loc(),
                new_item.cfg(),
                format!("{word} `{path}` added"),
            );
        }
    }
}

/// Whether `path` (or, for a module, anything under it) may be an item another crate provides
/// through a `pub use` of the new crate: the path itself, or a glob in its module.
fn reexported_from_elsewhere(external: &BTreeSet<String>, path: &str) -> bool {
    if external.is_empty() {
        return false;
    }
    let module = path.rsplit_once("::").map_or("", |(m, _)| m);
    let glob = if module.is_empty() {
        "*".to_string()
    } else {
        format!("{module}::*")
    };
    let inside = format!("{path}::");
    // A module re-exported from elsewhere (`pub use other::de;`) covers everything under it.
    let mut ancestors = path.match_indices("::").map(|(at, _)| &path[..at]);
    external.contains(path)
        || external.contains(&glob)
        || external.iter().any(|e| e.starts_with(&inside))
        || ancestors.any(|ancestor| external.contains(ancestor))
}

/// Whether a path, or one of the modules it is in, is doc-hidden in the new surface.
fn is_hidden(hidden: &BTreeSet<String>, path: &str) -> bool {
    let mut prefix = path;
    loop {
        if hidden.contains(prefix) {
            return true;
        }
        match prefix.rsplit_once("::") {
            Some((parent, _)) => prefix = parent,
            None => return false,
        }
    }
}

fn diff_const(path: &str, old: &ConstDef, new: &ConstDef, out: &mut Findings<'_>) {
    let (cfg, loc) = (new.cfg.as_ref(), &new.loc);
    if let (Some(old_kind), Some(new_kind)) = (&old.static_kind, &new.static_kind) {
        let is_mut = |kind: &str| kind.ends_with(" mut");
        let is_unsafe = |kind: &str| kind.starts_with("unsafe ");
        if is_mut(old_kind) && !is_mut(new_kind) {
            out.push(
                Lint::PubStaticMutNowImmutable,
                path,
                loc,
                cfg,
                format!("`{path}` is no longer `static mut`: code writing to it breaks"),
            );
        }
        if !is_mut(old_kind) && is_mut(new_kind) {
            out.push(
                Lint::PubStaticNowMutable,
                path,
                loc,
                cfg,
                format!("`{path}` became `static mut`: every use now needs `unsafe`"),
            );
        }
        if !is_unsafe(old_kind) && is_unsafe(new_kind) {
            out.push(
                Lint::StaticBecameUnsafe,
                path,
                loc,
                cfg,
                format!("`{path}` became unsafe to use: every use now needs `unsafe`"),
            );
        }
    }
    if old.ty != new.ty {
        out.push(
            Lint::PubModuleLevelConstTypeChanged,
            path,
            &new.loc,
            new.cfg.as_ref(),
            format!("type of `{path}` changed: {}", changed(&old.ty, &new.ty)),
        );
    }
}

fn diff_macro(path: &str, old: &MacroDef, new: &MacroDef, out: &mut Findings<'_>) {
    let cfg = new.cfg.as_ref();
    for helper in old.helpers.difference(&new.helpers) {
        out.push(Lint::DeriveHelperAttrRemoved, path, &new.loc, cfg, format!("derive macro `{path}` no longer accepts helper attribute `#[{helper}]`: code using it breaks"));
    }
    if !old.deprecated && new.deprecated {
        out.push(
            Lint::MacroMarkedDeprecated,
            path,
            &new.loc,
            cfg,
            format!("macro `{path}` is now #[deprecated]"),
        );
    }
}

/// The largest bump of a set of findings (`None` when there are none). Findings of `warn`-level
/// lints (deprecations) only warn, so they require nothing.
pub fn required_bump<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Bump {
    findings
        .into_iter()
        .filter(|f| f.lint.level() == Level::Deny)
        .map(|f| f.bump)
        .max()
        .unwrap_or(Bump::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_in_a_hidden_module_are_now_hidden_not_missing() {
        let hidden = BTreeSet::from(["detail".to_string()]);
        assert!(is_hidden(&hidden, "detail::Inner"));
        assert!(is_hidden(&hidden, "detail"));
        assert!(!is_hidden(&hidden, "details::Inner"));
    }

    #[test]
    fn required_bump_is_the_largest() {
        assert_eq!(required_bump([]), Bump::None);
    }
}

#[cfg(test)]
mod properties {
    //! Property tests: a random crate compared with itself is silent, and removing any one of
    //! its public items is reported with at least that item's removal bump.

    use std::path::{Path, PathBuf};

    use proptest::prelude::*;

    use super::*;
    use crate::surface::{MemoryTree, extract};

    /// One public item of a generated crate.
    #[derive(Debug, Clone)]
    enum Item {
        Function {
            params: Vec<&'static str>,
            output: &'static str,
        },
        Struct {
            fields: Vec<&'static str>,
            derives: bool,
        },
        Enum {
            variants: usize,
            repr: bool,
        },
        Trait {
            methods: usize,
        },
        Const {
            ty: &'static str,
        },
        Union {
            fields: usize,
        },
        Macro,
        Method {
            params: Vec<&'static str>,
        },
    }

    const TYPES: &[&str] = &["u8", "u64", "String", "Vec<u8>", "Option<bool>", "&str"];

    fn ty() -> impl Strategy<Value = &'static str> {
        prop::sample::select(TYPES)
    }

    fn item() -> impl Strategy<Value = Item> {
        prop_oneof![
            (prop::collection::vec(ty(), 0..3), ty())
                .prop_map(|(params, output)| Item::Function { params, output }),
            (prop::collection::vec(ty(), 0..3), any::<bool>())
                .prop_map(|(fields, derives)| Item::Struct { fields, derives }),
            (1usize..4, any::<bool>()).prop_map(|(variants, repr)| Item::Enum { variants, repr }),
            (0usize..3).prop_map(|methods| Item::Trait { methods }),
            ty().prop_map(|ty| Item::Const { ty }),
            (1usize..3).prop_map(|fields| Item::Union { fields }),
            Just(Item::Macro),
            prop::collection::vec(ty(), 0..3).prop_map(|params| Item::Method { params }),
        ]
    }

    /// Rust source for the items, each named after its index; `skip` leaves one out.
    fn source(items: &[Item], skip: Option<usize>) -> String {
        let mut out = String::new();
        for (index, item) in items.iter().enumerate() {
            if Some(index) == skip {
                continue;
            }
            let text = match item {
                Item::Function { params, output } => {
                    let params: Vec<String> = params
                        .iter()
                        .enumerate()
                        .map(|(i, t)| format!("p{i}: {t}"))
                        .collect();
                    format!(
                        "pub fn f{index}({}) -> {output} {{ todo!() }}\n",
                        params.join(", ")
                    )
                }
                Item::Struct { fields, derives } => {
                    let derive = if *derives {
                        "#[derive(Debug, Clone)]\n"
                    } else {
                        ""
                    };
                    let fields: Vec<String> = fields
                        .iter()
                        .enumerate()
                        .map(|(i, t)| format!("pub a{i}: {}", t.replace('&', "&'static ")))
                        .collect();
                    format!("{derive}pub struct S{index} {{ {} }}\n", fields.join(", "))
                }
                Item::Enum { variants, repr } => {
                    let repr = if *repr { "#[repr(u8)]\n" } else { "" };
                    let variants: Vec<String> = (0..*variants).map(|v| format!("V{v}")).collect();
                    format!("{repr}pub enum E{index} {{ {} }}\n", variants.join(", "))
                }
                Item::Trait { methods } => {
                    let methods: String = (0..*methods)
                        .map(|m| format!("fn m{m}(&self) -> u8; "))
                        .collect();
                    format!("pub trait T{index} {{ {methods}}}\n")
                }
                Item::Const { ty } => {
                    format!(
                        "pub const C{index}: {} = todo!();\n",
                        ty.replace('&', "&'static ")
                    )
                }
                Item::Union { fields } => {
                    let fields: Vec<String> =
                        (0..*fields).map(|f| format!("pub u{f}: u32")).collect();
                    format!("pub union U{index} {{ {} }}\n", fields.join(", "))
                }
                Item::Macro => {
                    format!("#[macro_export]\nmacro_rules! mac{index} {{ () => {{}}; }}\n")
                }
                Item::Method { params } => {
                    let params: Vec<String> = params
                        .iter()
                        .enumerate()
                        .map(|(i, t)| format!("p{i}: {t}"))
                        .collect();
                    format!(
                        "pub struct M{index};\nimpl M{index} {{ pub fn go(&self, {}) {{}} }}\n",
                        params.join(", ")
                    )
                }
            };
            out.push_str(&text);
        }
        out
    }

    fn surface(text: String) -> Surface {
        let tree = MemoryTree {
            files: [(PathBuf::from("src/lib.rs"), text)].into_iter().collect(),
        };
        extract(&tree, Path::new("src/lib.rs")).expect("generated source parses")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn a_surface_compared_with_itself_is_silent(items in prop::collection::vec(item(), 1..12)) {
            let surface = surface(source(&items, None));
            prop_assert!(diff(&surface, &surface).is_empty());
        }

        #[test]
        fn removing_any_public_item_needs_at_least_its_removal_bump(
            items in prop::collection::vec(item(), 1..12),
            pick in any::<prop::sample::Index>(),
        ) {
            let removed = pick.index(items.len());
            let old = surface(source(&items, None));
            let new = surface(source(&items, Some(removed)));
            let findings = diff(&old, &new);
            let expected = match &items[removed] {
                Item::Function { .. } => Lint::FunctionMissing,
                Item::Struct { .. } | Item::Method { .. } => Lint::StructMissing,
                Item::Enum { .. } => Lint::EnumMissing,
                Item::Trait { .. } => Lint::TraitMissing,
                Item::Const { .. } => Lint::PubModuleLevelConstMissing,
                Item::Union { .. } => Lint::UnionMissing,
                Item::Macro => Lint::DeclarativeMacroMissing,
            };
            prop_assert!(
                findings.iter().any(|f| f.lint == expected && f.bump >= expected.bump()),
                "removing item {removed} ({:?}) gave {findings:#?}", items[removed]
            );
            prop_assert!(required_bump(&findings) >= expected.bump());
        }
    }
}
