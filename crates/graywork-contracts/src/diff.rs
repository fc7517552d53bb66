//! Diff and lints: compare an old and a new [`Surface`] and name every change with a stable
//! lint and the semver bump it needs.

use std::collections::{BTreeMap, BTreeSet};

use quote::ToTokens;
use serde::Serialize;

pub use crate::lint::Bump;
use crate::lint::{Level, Lint};
use crate::surface::{
    AssocConst, AssocType, ConstDef, EnumDef, FeatureDef, FieldDef, FnSig, Location, MacroDef,
    MacroKind, ModuleDef, StructDef, Surface, TraitDef, TypeFacts, VariantDef, tidy,
};

/// Whether a finding fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Breaks a contract, or is not covered by the version bump, or a requirement is unmet.
    Error,
    /// Not covered by the version bump, from a lint whose level is `warn`: reported, never
    /// failing.
    Warning,
    /// Allowed: covered by the version bump.
    Note,
}

impl Severity {
    /// The lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One change between two surfaces (or one wiring or version problem).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The contract module (`billing::v1`), `wiring`, or the crate name it belongs to.
    pub group: String,
    /// Whether it fails the check.
    pub severity: Severity,
    /// The stable lint name.
    pub lint: Lint,
    /// The bump the change needs.
    pub bump: Bump,
    /// The item (or member) path.
    pub path: String,
    /// Where: the new source if the item still exists, else the baseline.
    #[serde(rename = "location", serialize_with = "serialize_loc")]
    pub loc: Location,
    /// The change in plain words.
    pub message: String,
    /// The item's `#[cfg]`, if it is gated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cfg: Option<String>,
    /// The item's other public paths that the same change reaches, when it has several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_at: Vec<String>,
}

fn serialize_loc<S: serde::Serializer>(loc: &Location, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&loc.to_string())
}

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

struct Findings<'a> {
    list: Vec<Finding>,
    /// Doc-hidden paths of the new surface.
    hidden: &'a BTreeSet<String>,
    /// Doc-hidden paths of the old surface: an item leaving `#[doc(hidden)]` is not "added".
    old_hidden: &'a BTreeSet<String>,
    /// Paths whose item changed kind, reported once already.
    skip: &'a BTreeSet<String>,
    /// `macro_rules!` macros of the new crate that are not exported.
    unexported_macros: &'a BTreeSet<String>,
    /// Names the new crate's macro invocations appear to declare.
    macro_generated: &'a BTreeSet<String>,
    /// Identifiers in the new crate's item-position macro invocations.
    macro_mentions: &'a BTreeSet<String>,
    /// Paths the new crate re-exports from other crates.
    external_reexports: &'a BTreeSet<String>,
    /// The new crate's public modules.
    new_modules: &'a BTreeMap<String, ModuleDef>,
}

impl Finding {
    /// The severity of a finding its version bump does not cover: an error, or a warning for
    /// a `warn`-level lint.
    pub fn uncovered(&self) -> Severity {
        match self.lint.level() {
            Level::Deny => Severity::Error,
            Level::Warn => Severity::Warning,
        }
    }
}

impl Findings<'_> {
    /// Whether an item missing at `path` may be generated by a macro of the new crate: its
    /// name, or the name of a module on its path that is gone, is one a macro declares.
    fn maybe_macro_generated(&self, path: &str) -> bool {
        let segments: Vec<&str> = path.split("::").collect();
        segments.iter().enumerate().any(|(index, name)| {
            let is_item = index + 1 == segments.len();
            self.macro_generated.contains(*name)
                && (is_item
                    || !self
                        .new_modules
                        .contains_key(&segments[..=index].join("::")))
        })
    }

    fn finding(
        lint: Lint,
        path: &str,
        loc: &Location,
        cfg: Option<&String>,
        message: String,
    ) -> Finding {
        Finding {
            also_at: Vec::new(),
            group: String::new(),
            severity: Severity::Note,
            lint,
            bump: lint.bump(),
            path: path.to_string(),
            loc: loc.clone(),
            message,
            cfg: cfg.cloned(),
        }
    }

    fn push(
        &mut self,
        lint: Lint,
        path: &str,
        loc: &Location,
        cfg: Option<&String>,
        message: String,
    ) {
        self.list
            .push(Findings::finding(lint, path, loc, cfg, message));
    }
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

/// The message for a change of generics of `subject`, or `None` when they are the same.
fn generics_change(subject: &str, old: &str, new: &str) -> Option<String> {
    (old != new).then(|| format!("generics of {subject} changed: {}", changed(old, new)))
}

/// Reports a change of a type's or trait's generics: only trailing parameters with defaults
/// added is minor (`defaulted`), anything else breaks (`breaking`).
#[allow(clippy::too_many_arguments)]
fn diff_generics(
    subject: &str,
    path: &str,
    old: &str,
    new: &str,
    (breaking, defaulted): (Lint, Lint),
    loc: &Location,
    cfg: Option<&String>,
    out: &mut Findings<'_>,
) {
    let Some(message) = generics_change(subject, old, new) else {
        return;
    };
    let lint = if only_defaulted_params_added(old, new) {
        defaulted
    } else {
        breaking
    };
    out.push(lint, path, loc, cfg, message);
}

/// Whether `new` is `old` plus trailing generic parameters that all have defaults, with the
/// same where-clause.
fn only_defaulted_params_added(old: &str, new: &str) -> bool {
    fn split(generics: &str) -> Option<(Vec<syn::GenericParam>, String)> {
        let (params, where_clause) = match generics.find(" where ") {
            Some(at) => (&generics[..at], generics[at..].trim().to_string()),
            None if generics.starts_with("where ") => ("", generics.to_string()),
            None => (generics, String::new()),
        };
        let parsed: syn::Generics = if params.is_empty() {
            syn::Generics::default()
        } else {
            syn::parse_str(params).ok()?
        };
        Some((parsed.params.into_iter().collect(), where_clause))
    }
    let (Some((old_params, old_where)), Some((new_params, new_where))) = (split(old), split(new))
    else {
        return false;
    };
    let render = |p: &syn::GenericParam| tidy(p.to_token_stream());
    old_where == new_where
        && new_params.len() > old_params.len()
        && old_params
            .iter()
            .zip(&new_params)
            .all(|(a, b)| render(a) == render(b))
        && new_params[old_params.len()..].iter().all(|p| match p {
            syn::GenericParam::Type(t) => t.default.is_some(),
            syn::GenericParam::Const(c) => c.default.is_some(),
            syn::GenericParam::Lifetime(_) => false,
        })
}

/// Whether two type strings can be told apart from source: a macro call in a type
/// (`impl_backtrace!()`) stands for a type the checker cannot see, so it decides nothing.
fn decidable(old: &str, new: &str) -> bool {
    let has_macro = |ty: &str| ty.contains("!(") || ty.contains("![") || ty.contains("!{");
    !has_macro(old) && !has_macro(new)
}

fn changed(old: &str, new: &str) -> String {
    let show = |s: &str| {
        if s.is_empty() {
            "(none)".to_string()
        } else {
            format!("`{s}`")
        }
    };
    format!("{} -> {}", show(old), show(new))
}

fn diff_trait(path: &str, old: &TraitDef, new: &TraitDef, out: &mut Findings<'_>) {
    let cfg = new.cfg.as_ref();
    let loc = &new.loc;
    let implementable = !new.sealed;
    if !old.is_unsafe && new.is_unsafe {
        out.push(
            Lint::TraitUnsafeAdded,
            path,
            loc,
            cfg,
            format!("trait `{path}` became `unsafe trait`: implementations break"),
        );
    }
    if old.is_unsafe && !new.is_unsafe {
        out.push(
            Lint::TraitUnsafeRemoved,
            path,
            loc,
            cfg,
            format!("trait `{path}` is no longer `unsafe trait`: `unsafe impl`s break"),
        );
    }
    diff_generics(
        &format!("trait `{path}`"),
        path,
        &old.generics,
        &new.generics,
        (
            Lint::TraitGenericsChanged,
            Lint::TraitDefaultedGenericParamAdded,
        ),
        loc,
        cfg,
        out,
    );
    if !old.deprecated && new.deprecated {
        out.push(
            Lint::TraitMarkedDeprecated,
            path,
            loc,
            cfg,
            format!("trait `{path}` is now #[deprecated]"),
        );
    }
    if !old.must_use && new.must_use {
        out.push(
            Lint::TraitMustUseAdded,
            path,
            loc,
            cfg,
            format!("trait `{path}` is now #[must_use]"),
        );
    }
    if !old.sealed && new.sealed {
        out.push(
            Lint::TraitNewlySealed,
            path,
            loc,
            cfg,
            format!("trait `{path}` became sealed: implementations outside the crate break"),
        );
    }
    if old.sealed && !new.sealed {
        out.push(
            Lint::TraitNoLongerSealed,
            path,
            loc,
            cfg,
            format!("trait `{path}` is no longer sealed and can be implemented outside the crate"),
        );
    }
    // When a sealed trait is unsealed by making its sealing supertrait public, that supertrait
    // shows up as "added"; it was required all along.
    let unsealed = old.sealed && !new.sealed;
    for added in new.supertraits.difference(&old.supertraits) {
        if implementable && !unsealed {
            out.push(Lint::TraitAddedSupertrait, path, loc, cfg, format!("supertrait `{added}` added to `{path}`: implementors that do not implement it break"));
        }
    }
    for removed in old.supertraits.difference(&new.supertraits) {
        out.push(
            Lint::TraitRemovedSupertrait,
            path,
            loc,
            cfg,
            format!("supertrait `{removed}` removed from `{path}`: users relying on it break"),
        );
    }
    for (name, old_method) in &old.methods {
        let member = format!("{path}::{name}");
        let Some(new_method) = new.methods.get(name) else {
            let (lint, why) = if out.hidden.contains(&member) {
                (Lint::TraitMethodNowDocHidden, "is now #[doc(hidden)]")
            } else {
                (Lint::TraitMethodMissing, "removed or renamed")
            };
            out.push(
                lint,
                &member,
                loc,
                cfg,
                format!("method `{name}` of `{path}` {why}: callers and implementors break"),
            );
            continue;
        };
        if old_method.default && !new_method.default && implementable {
            out.push(Lint::TraitDefaultImplRemoved, &member, &new_method.loc, cfg, format!("method `{name}` of `{path}` lost its default body: implementors that relied on it break"));
        }
        diff_sig(
            &member,
            name,
            path,
            old_method,
            new_method,
            out,
            SigLints::METHOD,
            cfg,
        );
    }
    for (name, new_method) in &new.methods {
        if old.methods.contains_key(name) {
            continue;
        }
        let member = format!("{path}::{name}");
        // Only this crate implements a sealed trait, so additions to it break no one; they are
        // not findings (the lock file still records them at the next bless).
        if new.sealed {
            continue;
        }
        if new_method.default {
            out.push(
                Lint::TraitProvidedMethodAdded,
                &member,
                &new_method.loc,
                cfg,
                format!("method `{name}` added to `{path}` with a default body"),
            );
        } else {
            out.push(
                Lint::TraitMethodAdded,
                &member,
                &new_method.loc,
                cfg,
                format!("method `{name}` added to `{path}` without a default: implementors break"),
            );
        }
    }
    diff_assoc_items(&ASSOC_TYPE_LINTS, path, &old.types, &new.types, new, out);
    diff_assoc_items(&ASSOC_CONST_LINTS, path, &old.consts, &new.consts, new, out);
}

/// The lint names and wording for one kind of associated item: a type or a const.
struct AssocLints {
    noun: &'static str,
    removed: Lint,
    default_removed: Lint,
    shape_label: &'static str,
    shape_changed: Lint,
    added: Lint,
    provided_added: Option<Lint>,
}

const ASSOC_TYPE_LINTS: AssocLints = AssocLints {
    noun: "type",
    removed: Lint::TraitRemovedAssociatedType,
    default_removed: Lint::TraitAssociatedTypeDefaultRemoved,
    shape_label: "bounds",
    shape_changed: Lint::TraitAssociatedTypeBoundsChanged,
    added: Lint::TraitAssociatedTypeAdded,
    provided_added: None,
};

const ASSOC_CONST_LINTS: AssocLints = AssocLints {
    noun: "const",
    removed: Lint::TraitRemovedAssociatedConstant,
    default_removed: Lint::TraitAssociatedConstDefaultRemoved,
    shape_label: "type",
    shape_changed: Lint::TraitAssociatedConstTypeChanged,
    added: Lint::TraitAssociatedConstAdded,
    provided_added: Some(Lint::TraitProvidedAssociatedConstAdded),
};

/// What the diff needs from an associated type or const.
trait AssocItem {
    fn loc(&self) -> &Location;
    fn has_default(&self) -> bool;
    /// The bounds of a type, the type of a const.
    fn shape(&self) -> &str;
}

impl AssocItem for AssocType {
    fn loc(&self) -> &Location {
        &self.loc
    }
    fn has_default(&self) -> bool {
        self.default
    }
    fn shape(&self) -> &str {
        &self.bounds
    }
}

impl AssocItem for AssocConst {
    fn loc(&self) -> &Location {
        &self.loc
    }
    fn has_default(&self) -> bool {
        self.default
    }
    fn shape(&self) -> &str {
        &self.ty
    }
}

fn diff_assoc_items<T: AssocItem>(
    lints: &AssocLints,
    path: &str,
    old: &BTreeMap<String, T>,
    new: &BTreeMap<String, T>,
    trait_def: &TraitDef,
    out: &mut Findings<'_>,
) {
    let AssocLints { noun, .. } = lints;
    let cfg = trait_def.cfg.as_ref();
    for (name, old_item) in old {
        let member = format!("{path}::{name}");
        let Some(new_item) = new.get(name) else {
            out.push(
                lints.removed,
                &member,
                &trait_def.loc,
                cfg,
                format!(
                    "associated {noun} `{name}` removed from `{path}`: users and implementors break"
                ),
            );
            continue;
        };
        if old_item.has_default() && !new_item.has_default() && !trait_def.sealed {
            out.push(
                lints.default_removed,
                &member,
                new_item.loc(),
                cfg,
                format!(
                    "associated {noun} `{name}` of `{path}` lost its default: implementors break"
                ),
            );
        }
        if old_item.shape() != new_item.shape() {
            out.push(
                lints.shape_changed,
                &member,
                new_item.loc(),
                cfg,
                format!(
                    "{} of associated {noun} `{name}` of `{path}` changed: {}",
                    lints.shape_label,
                    changed(old_item.shape(), new_item.shape())
                ),
            );
        }
    }
    for (name, new_item) in new {
        // Sealed traits have no outside implementors, so no addition can break one.
        if old.contains_key(name) || trait_def.sealed {
            continue;
        }
        let member = format!("{path}::{name}");
        match (new_item.has_default(), lints.provided_added) {
            (true, Some(provided_added)) => out.push(
                provided_added,
                &member,
                new_item.loc(),
                cfg,
                format!("associated {noun} `{name}` added to `{path}` with a default"),
            ),
            (true, None) => {}
            (false, _) => out.push(
                lints.added,
                &member,
                new_item.loc(),
                cfg,
                format!(
                    "associated {noun} `{name}` added to `{path}` without a default: implementors break"
                ),
            ),
        }
    }
}

/// The lint names used for a signature change, for trait methods or free functions.
struct SigLints {
    what: &'static str,
    parameter_count: Lint,
    signature: Lint,
    generics: Lint,
    unsafe_added: Lint,
    unsafe_removed: Option<Lint>,
    async_changed: Lint,
    const_removed: Option<Lint>,
    receiver: Option<Lint>,
    /// `(safe, unsafe)` lints for gaining `#[target_feature]`.
    target_feature_added: (Option<Lint>, Lint),
    /// `(safe, unsafe)` lints for requiring more target features.
    target_features_more: (Option<Lint>, Lint),
    deprecated: Lint,
    must_use: Option<Lint>,
    /// Whether ABI and exported-symbol changes are checked (free functions).
    abi: bool,
}

impl SigLints {
    const METHOD: SigLints = SigLints {
        what: "method",
        parameter_count: Lint::TraitMethodParameterCountChanged,
        signature: Lint::TraitMethodSignatureChanged,
        generics: Lint::TraitMethodGenericsChanged,
        unsafe_added: Lint::TraitMethodUnsafeAdded,
        unsafe_removed: Some(Lint::TraitMethodUnsafeRemoved),
        async_changed: Lint::TraitMethodAsyncChanged,
        const_removed: None,
        receiver: Some(Lint::TraitMethodReceiverChanged),
        target_feature_added: (None, Lint::UnsafeTraitMethodTargetFeatureAdded),
        target_features_more: (None, Lint::UnsafeTraitMethodRequiresMoreTargetFeatures),
        deprecated: Lint::TraitMethodMarkedDeprecated,
        must_use: None,
        abi: false,
    };
    const INHERENT: SigLints = SigLints {
        what: "method",
        parameter_count: Lint::MethodParameterCountChanged,
        signature: Lint::InherentMethodSignatureChanged,
        generics: Lint::InherentMethodGenericsChanged,
        unsafe_added: Lint::InherentMethodUnsafeAdded,
        unsafe_removed: None,
        async_changed: Lint::InherentMethodAsyncChanged,
        const_removed: Some(Lint::InherentMethodConstRemoved),
        receiver: Some(Lint::InherentMethodReceiverChanged),
        target_feature_added: (
            Some(Lint::SafeInherentMethodTargetFeatureAdded),
            Lint::UnsafeInherentMethodTargetFeatureAdded,
        ),
        target_features_more: (
            Some(Lint::SafeInherentMethodRequiresMoreTargetFeatures),
            Lint::UnsafeInherentMethodRequiresMoreTargetFeatures,
        ),
        deprecated: Lint::InherentMethodMarkedDeprecated,
        must_use: Some(Lint::InherentMethodMustUseAdded),
        // An inherent method can be exported (`#[export_name]`, `#[no_mangle]`) and have an
        // ABI of its own, like a free function.
        abi: true,
    };
    const FUNCTION: SigLints = SigLints {
        what: "function",
        parameter_count: Lint::FunctionParameterCountChanged,
        signature: Lint::FunctionSignatureChanged,
        generics: Lint::FunctionGenericsChanged,
        unsafe_added: Lint::FunctionUnsafeAdded,
        unsafe_removed: None,
        async_changed: Lint::FunctionAsyncChanged,
        const_removed: Some(Lint::FunctionConstRemoved),
        receiver: None,
        target_feature_added: (
            Some(Lint::SafeFunctionTargetFeatureAdded),
            Lint::UnsafeFunctionTargetFeatureAdded,
        ),
        target_features_more: (
            Some(Lint::SafeFunctionRequiresMoreTargetFeatures),
            Lint::UnsafeFunctionRequiresMoreTargetFeatures,
        ),
        deprecated: Lint::FunctionMarkedDeprecated,
        must_use: Some(Lint::FunctionMustUseAdded),
        abi: true,
    };
}

#[allow(clippy::too_many_arguments)]
fn diff_sig(
    member: &str,
    name: &str,
    owner: &str,
    old: &FnSig,
    new: &FnSig,
    out: &mut Findings<'_>,
    lints: SigLints,
    cfg: Option<&String>,
) {
    let loc = &new.loc;
    let what = lints.what;
    let subject = if owner.is_empty() {
        format!("{what} `{name}`")
    } else {
        format!("{what} `{name}` of `{owner}`")
    };
    if let Some(lint) = lints.receiver
        && old.receiver != new.receiver
    {
        let show = |r: &Option<String>| r.clone().unwrap_or_default();
        out.push(
            lint,
            member,
            loc,
            cfg,
            format!(
                "receiver of {subject} changed: {}",
                changed(&show(&old.receiver), &show(&new.receiver))
            ),
        );
    }
    if old.params.len() != new.params.len() {
        out.push(
            lints.parameter_count,
            member,
            loc,
            cfg,
            format!(
                "{subject} now takes {} parameters instead of {}: callers and implementors break",
                new.params.len(),
                old.params.len()
            ),
        );
    } else {
        for (index, (old_ty, new_ty)) in old.params.iter().zip(&new.params).enumerate() {
            if old_ty != new_ty && decidable(old_ty, new_ty) {
                out.push(
                    lints.signature,
                    member,
                    loc,
                    cfg,
                    format!(
                        "parameter {} of {subject} changed type: {}",
                        index + 1,
                        changed(old_ty, new_ty)
                    ),
                );
            }
        }
    }
    // `async fn` and `fn -> impl Future` with the same output are one API; a change of
    // asyncness that changes the output is reported once, as the async change below.
    if old.output != new.output
        && old.is_async == new.is_async
        && decidable(&old.output, &new.output)
    {
        let unit = |s: &str| {
            if s.is_empty() {
                "()".to_string()
            } else {
                s.to_string()
            }
        };
        out.push(
            lints.signature,
            member,
            loc,
            cfg,
            format!(
                "return type of {subject} changed: {}",
                changed(&unit(&old.output), &unit(&new.output))
            ),
        );
    }
    if let Some(message) = generics_change(&subject, &old.generics, &new.generics) {
        out.push(lints.generics, member, loc, cfg, message);
    }
    if !old.is_unsafe && new.is_unsafe {
        out.push(
            lints.unsafe_added,
            member,
            loc,
            cfg,
            format!("{subject} became `unsafe`: callers break"),
        );
    }
    if let Some(lint) = lints.unsafe_removed
        && old.is_unsafe
        && !new.is_unsafe
    {
        out.push(
            lint,
            member,
            loc,
            cfg,
            format!("{subject} is no longer `unsafe`: implementors written as `unsafe fn` break"),
        );
    }
    if old.is_async != new.is_async && old.output != new.output {
        let now = if new.is_async {
            "became"
        } else {
            "is no longer"
        };
        out.push(
            lints.async_changed,
            member,
            loc,
            cfg,
            format!("{subject} {now} `async`: callers and implementors break"),
        );
    }
    if let Some(lint) = lints.const_removed
        && old.is_const
        && !new.is_const
    {
        out.push(
            lint,
            member,
            loc,
            cfg,
            format!("{subject} is no longer `const`: uses in const contexts break"),
        );
    }
    diff_sig_attrs(member, &subject, old, new, out, &lints, cfg);
}

/// ABI, exported symbol, target features, deprecation and `#[must_use]` of a signature.
fn diff_sig_attrs(
    member: &str,
    subject: &str,
    old: &FnSig,
    new: &FnSig,
    out: &mut Findings<'_>,
    lints: &SigLints,
    cfg: Option<&String>,
) {
    let loc = &new.loc;
    if lints.abi && old.abi != new.abi {
        let show = |abi: &Option<String>| abi.clone().unwrap_or_else(|| "Rust".to_string());
        let no_longer_unwind = old
            .abi
            .as_deref()
            .and_then(|abi| abi.strip_suffix("-unwind"))
            .is_some_and(|base| new.abi.as_deref() == Some(base));
        let lint = if no_longer_unwind {
            Lint::FunctionAbiNoLongerUnwind
        } else {
            Lint::FunctionChangedAbi
        };
        out.push(
            lint,
            member,
            loc,
            cfg,
            format!(
                "ABI of {subject} changed: {}",
                changed(&show(&old.abi), &show(&new.abi))
            ),
        );
    }
    if lints.abi && old.export_name != new.export_name {
        match (&old.export_name, &new.export_name) {
            (Some(old_name), Some(new_name)) => out.push(
                Lint::FunctionExportNameChanged,
                member,
                loc,
                cfg,
                format!("{subject} is exported as symbol `{new_name}` instead of `{old_name}`: code linking to it breaks"),
            ),
            (Some(old_name), None) => out.push(
                Lint::FunctionNoLongerExported,
                member,
                loc,
                cfg,
                format!("{subject} is no longer exported as symbol `{old_name}`: code linking to it breaks"),
            ),
            _ => {}
        }
    }
    let added: Vec<&String> = new
        .target_features
        .difference(&old.target_features)
        .collect();
    if !added.is_empty() {
        let (safe_lint, unsafe_lint) = if old.target_features.is_empty() {
            lints.target_feature_added
        } else {
            lints.target_features_more
        };
        let lint = if new.is_unsafe {
            Some(unsafe_lint)
        } else {
            safe_lint
        };
        if let Some(lint) = lint {
            let names: Vec<String> = added.iter().map(|f| format!("`{f}`")).collect();
            out.push(
                lint,
                member,
                loc,
                cfg,
                format!(
                    "{subject} now requires target feature {}: callers built without it break",
                    names.join(", ")
                ),
            );
        }
    }
    if !old.deprecated && new.deprecated {
        out.push(
            lints.deprecated,
            member,
            loc,
            cfg,
            format!("{subject} is now #[deprecated]"),
        );
    }
    if let Some(lint) = lints.must_use
        && !old.must_use
        && new.must_use
    {
        out.push(
            lint,
            member,
            loc,
            cfg,
            format!("{subject} is now #[must_use]: callers that ignore its result get a warning"),
        );
    }
}

fn diff_function(path: &str, old: &FnSig, new: &FnSig, out: &mut Findings<'_>) {
    let cfg = new.cfg.clone();
    diff_sig(
        path,
        path,
        "",
        old,
        new,
        out,
        SigLints::FUNCTION,
        cfg.as_ref(),
    );
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

fn diff_struct(path: &str, old: &StructDef, new: &StructDef, out: &mut Findings<'_>) {
    let cfg = new.cfg.as_ref();
    let loc = &new.loc;
    if old.shape != new.shape {
        out.push(
            Lint::StructChangedKind,
            path,
            loc,
            cfg,
            format!(
                "struct `{path}` changed from {} to {}",
                old.shape.describe(),
                new.shape.describe()
            ),
        ); // Every field changes with the kind; listing them would only repeat this finding.
        return;
    }
    diff_generics(
        &format!("struct `{path}`"),
        path,
        &old.generics,
        &new.generics,
        (
            Lint::StructGenericsChanged,
            Lint::TypeDefaultedGenericParamAdded,
        ),
        loc,
        cfg,
        out,
    );
    diff_facts(
        TypeKind::Struct,
        path,
        &old.facts,
        &new.facts,
        loc,
        cfg,
        out,
    );
    if !old.non_exhaustive && new.non_exhaustive {
        out.push(Lint::StructMarkedNonExhaustive, path, loc, cfg, format!("struct `{path}` became #[non_exhaustive]: literals and exhaustive patterns outside the crate break"));
    }
    if old.non_exhaustive && !new.non_exhaustive {
        out.push(
            Lint::StructNoLongerNonExhaustive,
            path,
            loc,
            cfg,
            format!("struct `{path}` is no longer #[non_exhaustive]"),
        );
    }
    let constructible = !old.non_exhaustive && !old.private_fields;
    for (name, old_field) in &old.fields {
        let member = format!("{path}::{name}");
        match new.fields.get(name) {
            None if out.hidden.contains(&member) => out.push(Lint::StructPubFieldNowDocHidden, &member, loc, cfg, format!("field `{name}` of `{path}` is now #[doc(hidden)]: users who name it break")),
            None => out.push(Lint::StructPubFieldMissing, &member, loc, cfg, format!("public field `{name}` of `{path}` removed, renamed or made private: users who name it break")),
            Some(new_field) if new_field.ty != old_field.ty && decidable(&old_field.ty, &new_field.ty) => out.push(Lint::StructPubFieldTypeChanged, &member, &new_field.loc, cfg, format!("type of field `{name}` of `{path}` changed: {}", changed(&old_field.ty, &new_field.ty))),
            Some(new_field) if !old_field.deprecated && new_field.deprecated => out.push(Lint::StructFieldMarkedDeprecated, &member, &new_field.loc, cfg, format!("field `{name}` of `{path}` is now #[deprecated]")),
            Some(_) => {}
        }
    }
    for (name, new_field) in &new.fields {
        if old.fields.contains_key(name) {
            continue;
        }
        let member = format!("{path}::{name}");
        if constructible && old.shape == new.shape {
            out.push(Lint::ConstructibleStructAddsField, &member, &new_field.loc, cfg, format!("field `{name}` added to `{path}`, which users can build with a literal: those literals break"));
        } else {
            out.push(
                Lint::StructPubFieldAdded,
                &member,
                &new_field.loc,
                cfg,
                format!("public field `{name}` added to `{path}`"),
            );
        }
    }
    // A struct that users could build gaining a private field breaks their literals too.
    let field_went_private = old.fields.keys().any(|name| !new.fields.contains_key(name));
    if constructible
        && new.private_fields
        && !new.non_exhaustive
        && old.shape == new.shape
        && !field_went_private
    {
        out.push(
            Lint::ConstructibleStructAddsField,
            path,
            loc,
            cfg,
            format!("struct `{path}` gained a private field: literals outside the crate break"),
        );
    }
}

fn diff_enum(path: &str, old: &EnumDef, new: &EnumDef, out: &mut Findings<'_>) {
    let cfg = new.cfg.as_ref();
    let loc = &new.loc;
    diff_generics(
        &format!("enum `{path}`"),
        path,
        &old.generics,
        &new.generics,
        (
            Lint::EnumGenericsChanged,
            Lint::TypeDefaultedGenericParamAdded,
        ),
        loc,
        cfg,
        out,
    );
    diff_facts(TypeKind::Enum, path, &old.facts, &new.facts, loc, cfg, out);
    diff_discriminants(path, old, new, cfg, out);
    if !old.non_exhaustive && new.non_exhaustive {
        out.push(
            Lint::EnumMarkedNonExhaustive,
            path,
            loc,
            cfg,
            format!(
                "enum `{path}` became #[non_exhaustive]: exhaustive matches outside the crate break"
            ),
        );
    }
    if old.non_exhaustive && !new.non_exhaustive {
        out.push(
            Lint::EnumNoLongerNonExhaustive,
            path,
            loc,
            cfg,
            format!("enum `{path}` is no longer #[non_exhaustive]"),
        );
    }
    for (name, old_variant) in &old.variants {
        let member = format!("{path}::{name}");
        match new.variants.get(name) {
            Some(new_variant) if new_variant.hidden && !old_variant.hidden => out.push(
                Lint::EnumVariantMissing,
                &member,
                &new_variant.loc,
                cfg,
                format!(
                    "variant `{name}` of `{path}` is now #[doc(hidden)]: users who name it break"
                ),
            ),
            None => out.push(
                Lint::EnumVariantMissing,
                &member,
                loc,
                cfg,
                format!("variant `{name}` of `{path}` removed or renamed: users who name it break"),
            ),
            Some(new_variant) => {
                diff_variant(&member, name, path, old_variant, new_variant, cfg, out)
            }
        }
    }
    for (name, new_variant) in &new.variants {
        // A variant that leaves #[doc(hidden)] was always there to match: nothing is added.
        // One added #[doc(hidden)] still breaks exhaustive matches, so it counts.
        if old.variants.contains_key(name) {
            continue;
        }
        let member = format!("{path}::{name}");
        if new.non_exhaustive {
            out.push(
                Lint::NonExhaustiveEnumVariantAdded,
                &member,
                &new_variant.loc,
                cfg,
                format!("variant `{name}` added to #[non_exhaustive] enum `{path}`"),
            );
        } else {
            out.push(Lint::EnumVariantAdded, &member, &new_variant.loc, cfg, format!("variant `{name}` added to exhaustive enum `{path}`: matches outside the crate break"));
        }
    }
}

fn diff_variant(
    member: &str,
    name: &str,
    path: &str,
    old: &VariantDef,
    new: &VariantDef,
    cfg: Option<&String>,
    out: &mut Findings<'_>,
) {
    let loc = &new.loc;
    if !old.non_exhaustive && new.non_exhaustive {
        out.push(Lint::EnumVariantMarkedNonExhaustive, member, loc, cfg, format!("variant `{name}` of `{path}` became #[non_exhaustive]: patterns and constructors outside the crate break"));
    }
    if old.shape != new.shape {
        out.push(
            Lint::EnumVariantChangedKind,
            member,
            loc,
            cfg,
            format!(
                "variant `{name}` of `{path}` changed from {} to {}",
                old.shape.describe(),
                new.shape.describe()
            ),
        );
        return;
    }
    if !old.deprecated && new.deprecated {
        out.push(
            Lint::EnumVariantMarkedDeprecated,
            member,
            loc,
            cfg,
            format!("variant `{name}` of `{path}` is now #[deprecated]"),
        );
    }
    // Outside the crate a #[non_exhaustive] variant can be neither built nor matched without
    // `..`, so a field added to it breaks no one.
    let (added, missing) = match (new.shape, old.non_exhaustive && new.non_exhaustive) {
        (crate::surface::Shape::Tuple, false) => (
            Lint::EnumTupleVariantFieldAdded,
            Lint::EnumTupleVariantFieldMissing,
        ),
        (crate::surface::Shape::Tuple, true) => (
            Lint::EnumNonExhaustiveTupleVariantFieldAdded,
            Lint::EnumTupleVariantFieldMissing,
        ),
        (_, false) => (
            Lint::EnumStructVariantFieldAdded,
            Lint::EnumStructVariantFieldMissing,
        ),
        (_, true) => (
            Lint::EnumNonExhaustiveStructVariantFieldAdded,
            Lint::EnumStructVariantFieldMissing,
        ),
    };
    diff_variant_fields(
        member,
        name,
        path,
        &old.fields,
        &new.fields,
        (added, missing),
        loc,
        cfg,
        out,
    );
    for field in new.hidden_fields.difference(&old.hidden_fields) {
        if old.fields.contains_key(field) {
            out.push(
                Lint::EnumStructVariantFieldNowDocHidden,
                &format!("{member}::{field}"),
                loc,
                cfg,
                format!("field `{field}` of variant `{name}` of `{path}` is now #[doc(hidden)]: users who name it break"),
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn diff_variant_fields(
    member: &str,
    name: &str,
    path: &str,
    old: &BTreeMap<String, FieldDef>,
    new: &BTreeMap<String, FieldDef>,
    (added, missing): (Lint, Lint),
    loc: &Location,
    cfg: Option<&String>,
    out: &mut Findings<'_>,
) {
    for (field, old_field) in old {
        let field_path = format!("{member}::{field}");
        match new.get(field) {
            None => out.push(missing, &field_path, loc, cfg, format!("field `{field}` of variant `{name}` of `{path}` removed: users who name it break")),
            Some(new_field) if new_field.ty != old_field.ty => out.push(Lint::EnumVariantFieldTypeChanged, &field_path, &new_field.loc, cfg, format!("type of field `{field}` of variant `{name}` of `{path}` changed: {}", changed(&old_field.ty, &new_field.ty))),
            Some(_) => {}
        }
    }
    for (field, new_field) in new {
        if !old.contains_key(field) {
            let field_path = format!("{member}::{field}");
            out.push(added, &field_path, &new_field.loc, cfg, format!("field `{field}` added to variant `{name}` of `{path}`: patterns and constructors outside the crate break"));
        }
    }
}

/// Which kind of type a [`TypeFacts`] belongs to, for lint names and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeKind {
    Struct,
    Enum,
    Union,
}

impl TypeKind {
    fn word(self) -> &'static str {
        match self {
            TypeKind::Struct => "struct",
            TypeKind::Enum => "enum",
            TypeKind::Union => "union",
        }
    }
}

/// The `align(N)` or `packed(N)` hint of a repr, with its argument (`packed` alone is `1`).
fn repr_arg(repr: &BTreeSet<String>, name: &str) -> Option<String> {
    repr.iter().find_map(|hint| {
        if hint == name {
            Some("1".to_string())
        } else {
            hint.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('('))
                .and_then(|rest| rest.strip_suffix(')'))
                .map(str::to_string)
        }
    })
}

const INT_REPRS: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
];

/// Layout, derives, std impls, deprecation, `#[must_use]` and inherent items of a type.
#[allow(clippy::too_many_arguments)]
fn diff_facts(
    kind: TypeKind,
    path: &str,
    old: &TypeFacts,
    new: &TypeFacts,
    loc: &Location,
    cfg: Option<&String>,
    out: &mut Findings<'_>,
) {
    let word = kind.word();
    let has = |facts: &TypeFacts, hint: &str| facts.repr.contains(hint);
    // repr(C)
    match (has(old, "C"), has(new, "C")) {
        (true, false) => {
            let lint = if kind == TypeKind::Enum {
                Lint::EnumReprCRemoved
            } else {
                Lint::ReprCRemoved
            };
            out.push(
                lint,
                path,
                loc,
                cfg,
                format!("{word} `{path}` lost #[repr(C)]: code relying on its layout breaks"),
            );
        }
        (false, true) => out.push(
            Lint::ReprCAdded,
            path,
            loc,
            cfg,
            format!("{word} `{path}` gained #[repr(C)]"),
        ),
        _ => {}
    }
    match (has(old, "transparent"), has(new, "transparent")) {
        (true, false) => {
            let lint = if kind == TypeKind::Enum {
                Lint::EnumReprTransparentRemoved
            } else {
                Lint::StructReprTransparentRemoved
            };
            out.push(
                lint,
                path,
                loc,
                cfg,
                format!(
                    "{word} `{path}` lost #[repr(transparent)]: code relying on its layout breaks"
                ),
            );
        }
        (false, true) => out.push(
            Lint::ReprTransparentAdded,
            path,
            loc,
            cfg,
            format!("{word} `{path}` gained #[repr(transparent)]"),
        ),
        _ => {}
    }
    if kind == TypeKind::Enum {
        let int = |facts: &TypeFacts| {
            facts
                .repr
                .iter()
                .find(|h| INT_REPRS.contains(&h.as_str()))
                .cloned()
        };
        match (int(old), int(new)) {
            (Some(a), Some(b)) if a != b => out.push(Lint::EnumReprIntChanged, path, loc, cfg, format!("enum `{path}` changed #[repr({a})] to #[repr({b})]: its size and `as` casts change")),
            (Some(a), None) => out.push(Lint::EnumReprIntRemoved, path, loc, cfg, format!("enum `{path}` lost #[repr({a})]: its size and layout are no longer fixed")),
            (None, Some(b)) => out.push(Lint::EnumReprIntAdded, path, loc, cfg, format!("enum `{path}` gained #[repr({b})]")),
            _ => {}
        }
    }
    for (name, added, removed, changed_lint) in [
        (
            "packed",
            Lint::ReprPackedAdded,
            Lint::ReprPackedRemoved,
            Lint::ReprPackedChanged,
        ),
        (
            "align",
            Lint::ReprAlignAdded,
            Lint::ReprAlignRemoved,
            Lint::ReprAlignChanged,
        ),
    ] {
        match (repr_arg(&old.repr, name), repr_arg(&new.repr, name)) {
            (None, Some(n)) => out.push(added, path, loc, cfg, format!("{word} `{path}` gained #[repr({name}({n}))]: its layout changes")),
            (Some(n), None) => out.push(removed, path, loc, cfg, format!("{word} `{path}` lost #[repr({name}({n}))]: its layout changes")),
            (Some(a), Some(b)) if a != b => out.push(changed_lint, path, loc, cfg, format!("{word} `{path}` changed #[repr({name}({a}))] to #[repr({name}({b}))]: its layout changes")),
            _ => {}
        }
    }
    // Order, where it is observable.
    let reordered = {
        let common: Vec<&String> = old.order.iter().filter(|n| new.order.contains(n)).collect();
        let in_new: Vec<&String> = new.order.iter().filter(|n| old.order.contains(n)).collect();
        !common.is_empty() && common != in_new
    };
    if reordered {
        if kind != TypeKind::Enum && has(old, "C") && has(new, "C") {
            out.push(
                Lint::ReprCPlainStructFieldsReordered,
                path,
                loc,
                cfg,
                format!("fields of #[repr(C)] {word} `{path}` were reordered: its layout changes"),
            );
        } else if old.derives.contains("PartialOrd") && new.derives.contains("PartialOrd") {
            let lint = if kind == TypeKind::Enum {
                Lint::PartialOrdEnumVariantsReordered
            } else {
                Lint::PartialOrdStructFieldsReordered
            };
            let what = if kind == TypeKind::Enum {
                "variants"
            } else {
                "fields"
            };
            out.push(lint, path, loc, cfg, format!("{what} of `{path}` were reordered: its derived `PartialOrd` compares differently"));
        }
    }
    // Standard traits.
    let type_name = path.rsplit("::").next().unwrap_or(path);
    for name in old.derives.iter().chain(&old.std_impls) {
        // A macro invocation that names both the type and the trait may implement it.
        let maybe_by_macro =
            out.macro_mentions.contains(type_name) && out.macro_mentions.contains(name);
        if new.implements(name) || maybe_by_macro {
            continue;
        }
        let lint = if old.derives.contains(name) {
            Lint::DeriveTraitImplRemoved
        } else {
            Lint::StdTraitImplRemoved
        };
        out.push(
            lint,
            path,
            loc,
            cfg,
            format!("{word} `{path}` no longer implements `{name}`: code using it breaks"),
        );
    }
    for name in new.derives.union(&new.std_impls) {
        if !old.implements(name) {
            out.push(
                Lint::StdTraitImplAdded,
                path,
                loc,
                cfg,
                format!("{word} `{path}` now implements `{name}`"),
            );
        }
    }
    if !old.deprecated && new.deprecated {
        out.push(
            Lint::TypeMarkedDeprecated,
            path,
            loc,
            cfg,
            format!("{word} `{path}` is now #[deprecated]"),
        );
    }
    match (old.must_use, new.must_use) {
        (false, true) => {
            let lint = match kind {
                TypeKind::Struct => Lint::StructMustUseAdded,
                TypeKind::Enum => Lint::EnumMustUseAdded,
                TypeKind::Union => Lint::UnionMustUseAdded,
            };
            out.push(
                lint,
                path,
                loc,
                cfg,
                format!("{word} `{path}` is now #[must_use]"),
            );
        }
        (true, false) if kind == TypeKind::Union => out.push(
            Lint::UnionMustUseRemoved,
            path,
            loc,
            cfg,
            format!("union `{path}` is no longer #[must_use]"),
        ),
        _ => {}
    }
    diff_inherent(path, old, new, loc, cfg, out);
}

/// Inherent methods and associated consts.
fn diff_inherent(
    path: &str,
    old: &TypeFacts,
    new: &TypeFacts,
    loc: &Location,
    type_cfg: Option<&String>,
    out: &mut Findings<'_>,
) {
    for (name, old_method) in &old.methods {
        let member = format!("{path}::{name}");
        let cfg = old_method.cfg.as_ref().or(type_cfg);
        match new.methods.get(name) {
            None if out.macro_generated.contains(name) => {}
            None if out.hidden.contains(&member) => out.push(
                Lint::InherentMethodNowDocHidden,
                &member,
                loc,
                cfg,
                format!("method `{name}` of `{path}` is now #[doc(hidden)]: callers break"),
            ),
            None => out.push(
                Lint::InherentMethodMissing,
                &member,
                loc,
                cfg,
                format!(
                    "method `{name}` of `{path}` removed, renamed or made private: callers break"
                ),
            ),
            Some(new_method) => {
                let cfg = new_method.cfg.as_ref().or(type_cfg);
                diff_sig(
                    &member,
                    name,
                    path,
                    old_method,
                    new_method,
                    out,
                    SigLints::INHERENT,
                    cfg,
                );
            }
        }
    }
    for (name, new_method) in &new.methods {
        let member = format!("{path}::{name}");
        if !old.methods.contains_key(name) && !out.old_hidden.contains(&member) {
            let cfg = new_method.cfg.as_ref().or(type_cfg);
            out.push(
                Lint::InherentMethodAdded,
                &member,
                &new_method.loc,
                cfg,
                format!("method `{name}` added to `{path}`"),
            );
        }
    }
    for (name, old_const) in &old.consts {
        let member = format!("{path}::{name}");
        let cfg = old_const.cfg.as_ref().or(type_cfg);
        match new.consts.get(name) {
            None if out.hidden.contains(&member) => out.push(Lint::InherentAssociatedConstNowDocHidden, &member, loc, cfg, format!("associated const `{name}` of `{path}` is now #[doc(hidden)]: users break")),
            None => out.push(Lint::InherentAssociatedPubConstMissing, &member, loc, cfg, format!("associated const `{name}` of `{path}` removed, renamed or made private: users break")),
            Some(new_const) if new_const.ty != old_const.ty => out.push(Lint::InherentAssociatedConstTypeChanged, &member, &new_const.loc, cfg, format!("type of associated const `{name}` of `{path}` changed: {}", changed(&old_const.ty, &new_const.ty))),
            Some(_) => {}
        }
    }
    for (name, new_const) in &new.consts {
        let member = format!("{path}::{name}");
        if !old.consts.contains_key(name) && !out.old_hidden.contains(&member) {
            let cfg = new_const.cfg.as_ref().or(type_cfg);
            out.push(
                Lint::InherentAssociatedConstAdded,
                &member,
                &new_const.loc,
                cfg,
                format!("associated const `{name}` added to `{path}`"),
            );
        }
    }
}

/// Discriminants, where code outside can see them: in an enum with an integer or C repr, or
/// in a field-less enum (through `as` casts).
fn diff_discriminants(
    path: &str,
    old: &EnumDef,
    new: &EnumDef,
    cfg: Option<&String>,
    out: &mut Findings<'_>,
) {
    let has_repr = |e: &EnumDef| {
        e.facts
            .repr
            .iter()
            .any(|h| h == "C" || INT_REPRS.contains(&h.as_str()))
    };
    let fieldless = |e: &EnumDef| {
        e.variants
            .values()
            .all(|v| v.shape == crate::surface::Shape::Unit)
    };
    let (lint, why) = if has_repr(old) && has_repr(new) {
        (
            Lint::EnumReprVariantDiscriminantChanged,
            "code that reads or transmutes it breaks",
        )
    } else if fieldless(old) && fieldless(new) && !old.non_exhaustive {
        (
            Lint::EnumNoReprVariantDiscriminantChanged,
            "`as` casts give another value",
        )
    } else {
        return;
    };
    for (name, old_variant) in &old.variants {
        if let Some(new_variant) = new.variants.get(name)
            && old_variant.discriminant.is_some()
            && new_variant.discriminant.is_some()
            && old_variant.discriminant != new_variant.discriminant
        {
            let show = |d: &Option<String>| d.clone().unwrap_or_default();
            out.push(
                lint,
                &format!("{path}::{name}"),
                &new_variant.loc,
                cfg,
                format!(
                    "discriminant of variant `{name}` of `{path}` changed: {}; {why}",
                    changed(
                        &show(&old_variant.discriminant),
                        &show(&new_variant.discriminant)
                    )
                ),
            );
        }
    }
}

fn diff_union(path: &str, old: &StructDef, new: &StructDef, out: &mut Findings<'_>) {
    let cfg = new.cfg.as_ref();
    let loc = &new.loc;
    diff_generics(
        &format!("union `{path}`"),
        path,
        &old.generics,
        &new.generics,
        (
            Lint::UnionGenericsChanged,
            Lint::TypeDefaultedGenericParamAdded,
        ),
        loc,
        cfg,
        out,
    );
    for (name, old_field) in &old.fields {
        let member = format!("{path}::{name}");
        match new.fields.get(name) {
            None if out.hidden.contains(&member) => out.push(Lint::UnionPubFieldNowDocHidden, &member, loc, cfg, format!("field `{name}` of union `{path}` is now #[doc(hidden)]: users who name it break")),
            None => out.push(Lint::UnionFieldMissing, &member, loc, cfg, format!("public field `{name}` of union `{path}` removed, renamed or made private: users who name it break")),
            Some(new_field) if new_field.ty != old_field.ty => out.push(Lint::UnionPubFieldTypeChanged, &member, &new_field.loc, cfg, format!("type of field `{name}` of union `{path}` changed: {}", changed(&old_field.ty, &new_field.ty))),
            Some(_) => {}
        }
    }
    for (name, new_field) in &new.fields {
        if old.fields.contains_key(name) {
            continue;
        }
        let member = format!("{path}::{name}");
        if old.private_fields {
            out.push(
                Lint::UnionFieldAddedWithNonPubFields,
                &member,
                &new_field.loc,
                cfg,
                format!("public field `{name}` added to union `{path}`"),
            );
        } else {
            out.push(Lint::UnionFieldAddedWithAllPubFields, &member, &new_field.loc, cfg, format!("field `{name}` added to union `{path}`, whose fields were all public: its size and layout may change"));
        }
    }
    diff_facts(TypeKind::Union, path, &old.facts, &new.facts, loc, cfg, out);
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

/// The features `root` turns on, transitively (itself included), with `dep:x` read as `x`.
fn feature_closure(features: &BTreeMap<String, FeatureDef>, root: &str) -> BTreeSet<String> {
    let table: BTreeMap<String, Vec<String>> = features
        .iter()
        .map(|(name, def)| {
            let entries = def
                .enables
                .iter()
                .map(|entry| entry.strip_prefix("dep:").unwrap_or(entry).to_string())
                .collect();
            (name.clone(), entries)
        })
        .collect();
    graywork_workspace::features::closure(&table, [root])
}

/// Cargo features: removed, no longer default, enabling less; additions are minor.
fn diff_features(
    old: &BTreeMap<String, FeatureDef>,
    new: &BTreeMap<String, FeatureDef>,
    out: &mut Findings<'_>,
) {
    for (name, old_feature) in old {
        // A feature named with a leading underscore is private by convention: no user is
        // meant to enable it, so removing or changing it breaks no one.
        if name.starts_with('_') {
            continue;
        }
        let path = format!("feature `{name}`");
        let Some(new_feature) = new.get(name) else {
            out.push(
                Lint::FeatureMissing,
                &path,
                &old_feature.loc,
                None,
                format!("feature `{name}` was removed: crates that enable it no longer build"),
            );
            continue;
        };
        if old_feature.default && !new_feature.default {
            out.push(
                Lint::FeatureNotEnabledByDefault,
                &path,
                &new_feature.loc,
                None,
                format!(
                    "feature `{name}` is no longer enabled by default: crates relying on it break"
                ),
            );
        }
        // What a feature turns on, transitively, among the crate's features; `dep:x` and `x`
        // name the same optional dependency, and `x/f` entries are its own choices.
        let lost: Vec<String> = feature_closure(old, name)
            .difference(&feature_closure(new, name))
            // A feature that is gone altogether is reported once, as missing.
            .filter(|entry| old.contains_key(*entry) && new.contains_key(*entry) && *entry != name)
            .filter(|entry| !entry.starts_with('_'))
            .cloned()
            .collect();
        for entry in lost {
            out.push(
                Lint::FeatureNoLongerEnablesFeature,
                &path,
                &new_feature.loc,
                None,
                format!("feature `{name}` no longer enables `{entry}`: crates relying on it break"),
            );
        }
    }
    for (name, new_feature) in new {
        if !old.contains_key(name) {
            out.push(
                Lint::FeatureAdded,
                &format!("feature `{name}`"),
                &new_feature.loc,
                None,
                format!("feature `{name}` added"),
            );
        }
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
