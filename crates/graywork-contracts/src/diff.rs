//! Diff and lints: compare an old and a new [`Surface`] and name every change with a stable
//! lint and the semver bump it needs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::surface::{
    AssocConst, AssocType, ConstDef, EnumDef, FieldDef, FnSig, Loc, StructDef, Surface, TraitDef,
    VariantDef,
};

/// The semver bump a change needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// No change to the surface.
    None,
    /// A change that is not visible in the surface.
    Patch,
    /// An addition.
    Minor,
    /// A break.
    Major,
}

impl Bump {
    /// The lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            Bump::None => "none",
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        }
    }
}

impl std::fmt::Display for Bump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a finding fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Breaks a contract, or is not covered by the version bump, or a requirement is unmet.
    Error,
    /// Allowed: covered by the version bump.
    Note,
}

impl Severity {
    /// The lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
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
    pub lint: &'static str,
    /// The bump the change needs.
    pub bump: Bump,
    /// The item (or member) path.
    pub path: String,
    /// Where: the new source if the item still exists, else the baseline.
    #[serde(rename = "location", serialize_with = "serialize_loc")]
    pub loc: Loc,
    /// The change in plain words.
    pub message: String,
    /// The item's `#[cfg]`, if it is gated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cfg: Option<String>,
}

fn serialize_loc<S: serde::Serializer>(loc: &Loc, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&loc.to_string())
}

/// Every lint of the surface diff: name, bump, and what it means.
pub const LINTS: &[(&str, Bump, &str)] = &[
    (
        "trait_missing",
        Bump::Major,
        "a public trait was removed or renamed",
    ),
    (
        "trait_now_doc_hidden",
        Bump::Major,
        "a public trait became #[doc(hidden)]",
    ),
    ("trait_added", Bump::Minor, "a public trait was added"),
    (
        "trait_unsafe_added",
        Bump::Major,
        "a trait became `unsafe trait`",
    ),
    (
        "trait_unsafe_removed",
        Bump::Major,
        "a trait is no longer `unsafe trait`",
    ),
    (
        "trait_generics_changed",
        Bump::Major,
        "a trait's generic parameters or where-clause changed",
    ),
    (
        "trait_added_supertrait",
        Bump::Major,
        "an implementable trait gained a supertrait",
    ),
    (
        "trait_removed_supertrait",
        Bump::Major,
        "a trait lost a supertrait that users may rely on",
    ),
    (
        "trait_newly_sealed",
        Bump::Major,
        "a trait became sealed: outside implementations break",
    ),
    (
        "trait_no_longer_sealed",
        Bump::Minor,
        "a sealed trait can now be implemented outside",
    ),
    (
        "trait_method_missing",
        Bump::Major,
        "a trait method was removed or renamed",
    ),
    (
        "trait_method_now_doc_hidden",
        Bump::Major,
        "a trait method became #[doc(hidden)]",
    ),
    (
        "trait_method_added",
        Bump::Major,
        "an implementable trait gained a method without a default",
    ),
    (
        "trait_provided_method_added",
        Bump::Minor,
        "a trait gained a method with a default body",
    ),
    (
        "trait_default_impl_removed",
        Bump::Major,
        "a trait method lost its default body",
    ),
    (
        "trait_method_parameter_count_changed",
        Bump::Major,
        "a trait method takes a different number of parameters",
    ),
    (
        "trait_method_signature_changed",
        Bump::Major,
        "a trait method's parameter or return type changed",
    ),
    (
        "trait_method_receiver_changed",
        Bump::Major,
        "a trait method's receiver changed",
    ),
    (
        "trait_method_generics_changed",
        Bump::Major,
        "a trait method's generic parameters or where-clause changed",
    ),
    (
        "trait_method_unsafe_added",
        Bump::Major,
        "a trait method became `unsafe`",
    ),
    (
        "trait_method_unsafe_removed",
        Bump::Major,
        "a trait method is no longer `unsafe`",
    ),
    (
        "trait_method_async_changed",
        Bump::Major,
        "a trait method became or stopped being `async`",
    ),
    (
        "trait_associated_type_added",
        Bump::Major,
        "an implementable trait gained an associated type without a default",
    ),
    (
        "trait_removed_associated_type",
        Bump::Major,
        "an associated type was removed",
    ),
    (
        "trait_associated_type_default_removed",
        Bump::Major,
        "an associated type lost its default",
    ),
    (
        "trait_associated_type_bounds_changed",
        Bump::Major,
        "an associated type's bounds changed",
    ),
    (
        "trait_associated_const_added",
        Bump::Major,
        "an implementable trait gained an associated const without a default",
    ),
    (
        "trait_provided_associated_const_added",
        Bump::Minor,
        "a trait gained an associated const with a default",
    ),
    (
        "trait_removed_associated_constant",
        Bump::Major,
        "an associated const was removed",
    ),
    (
        "trait_associated_const_default_removed",
        Bump::Major,
        "an associated const lost its default",
    ),
    (
        "trait_associated_const_type_changed",
        Bump::Major,
        "an associated const's type changed",
    ),
    (
        "struct_missing",
        Bump::Major,
        "a public struct was removed or renamed",
    ),
    (
        "struct_now_doc_hidden",
        Bump::Major,
        "a public struct became #[doc(hidden)]",
    ),
    ("struct_added", Bump::Minor, "a public struct was added"),
    (
        "struct_changed_kind",
        Bump::Major,
        "a struct changed between struct-like, tuple and unit",
    ),
    (
        "struct_generics_changed",
        Bump::Major,
        "a struct's generic parameters or where-clause changed",
    ),
    (
        "struct_marked_non_exhaustive",
        Bump::Major,
        "a struct became #[non_exhaustive]",
    ),
    (
        "struct_no_longer_non_exhaustive",
        Bump::Minor,
        "a struct is no longer #[non_exhaustive]",
    ),
    (
        "struct_pub_field_missing",
        Bump::Major,
        "a public field was removed, renamed or made private",
    ),
    (
        "struct_pub_field_now_doc_hidden",
        Bump::Major,
        "a public field became #[doc(hidden)]",
    ),
    (
        "struct_pub_field_type_changed",
        Bump::Major,
        "a public field's type changed",
    ),
    (
        "constructible_struct_adds_field",
        Bump::Major,
        "a struct that could be built with a literal gained a field",
    ),
    (
        "struct_pub_field_added",
        Bump::Minor,
        "a struct that cannot be built with a literal gained a public field",
    ),
    (
        "enum_missing",
        Bump::Major,
        "a public enum was removed or renamed",
    ),
    (
        "enum_now_doc_hidden",
        Bump::Major,
        "a public enum became #[doc(hidden)]",
    ),
    ("enum_added", Bump::Minor, "a public enum was added"),
    (
        "enum_generics_changed",
        Bump::Major,
        "an enum's generic parameters or where-clause changed",
    ),
    (
        "enum_marked_non_exhaustive",
        Bump::Major,
        "an enum became #[non_exhaustive]",
    ),
    (
        "enum_no_longer_non_exhaustive",
        Bump::Minor,
        "an enum is no longer #[non_exhaustive]",
    ),
    (
        "enum_variant_added",
        Bump::Major,
        "an exhaustive enum gained a variant: matches break",
    ),
    (
        "non_exhaustive_enum_variant_added",
        Bump::Minor,
        "a #[non_exhaustive] enum gained a variant",
    ),
    (
        "enum_variant_missing",
        Bump::Major,
        "an enum variant was removed or renamed",
    ),
    (
        "enum_variant_marked_non_exhaustive",
        Bump::Major,
        "an enum variant became #[non_exhaustive]",
    ),
    (
        "enum_variant_changed_kind",
        Bump::Major,
        "a variant changed between struct-like, tuple and unit",
    ),
    (
        "enum_struct_variant_field_added",
        Bump::Major,
        "a struct-like variant gained a field",
    ),
    (
        "enum_struct_variant_field_missing",
        Bump::Major,
        "a struct-like variant lost a field",
    ),
    (
        "enum_tuple_variant_field_added",
        Bump::Major,
        "a tuple variant gained a field",
    ),
    (
        "enum_tuple_variant_field_missing",
        Bump::Major,
        "a tuple variant lost a field",
    ),
    (
        "enum_variant_field_type_changed",
        Bump::Major,
        "a variant field's type changed",
    ),
    (
        "function_missing",
        Bump::Major,
        "a public function was removed or renamed",
    ),
    (
        "function_now_doc_hidden",
        Bump::Major,
        "a public function became #[doc(hidden)]",
    ),
    ("function_added", Bump::Minor, "a public function was added"),
    (
        "function_parameter_count_changed",
        Bump::Major,
        "a function takes a different number of parameters",
    ),
    (
        "function_signature_changed",
        Bump::Major,
        "a function's parameter or return type changed",
    ),
    (
        "function_generics_changed",
        Bump::Major,
        "a function's generic parameters or where-clause changed",
    ),
    (
        "function_unsafe_added",
        Bump::Major,
        "a function became `unsafe`",
    ),
    (
        "function_const_removed",
        Bump::Major,
        "a function is no longer `const`",
    ),
    (
        "function_async_changed",
        Bump::Major,
        "a function became or stopped being `async`",
    ),
    (
        "pub_module_level_const_missing",
        Bump::Major,
        "a public const or static was removed or renamed",
    ),
    (
        "pub_module_level_const_now_doc_hidden",
        Bump::Major,
        "a public const or static became #[doc(hidden)]",
    ),
    (
        "pub_module_level_const_added",
        Bump::Minor,
        "a public const or static was added",
    ),
    (
        "pub_module_level_const_type_changed",
        Bump::Major,
        "a public const's or static's type changed",
    ),
];

/// The bump a lint needs.
///
/// Lint names come from [`LINTS`] only, so an unknown name is a programming error; it is
/// treated as major so that it can never hide a break.
pub fn bump_of(lint: &str) -> Bump {
    LINTS
        .iter()
        .find(|(name, _, _)| *name == lint)
        .map_or(Bump::Major, |(_, bump, _)| *bump)
}

/// Compares two surfaces. Findings are sorted by path, then lint.
pub fn diff(old: &Surface, new: &Surface) -> Vec<Finding> {
    let mut out = Findings {
        list: Vec::new(),
        hidden: &new.hidden,
    };
    compare_maps(&old.traits, &new.traits, &mut out, Kind::Trait, diff_trait);
    compare_maps(
        &old.structs,
        &new.structs,
        &mut out,
        Kind::Struct,
        diff_struct,
    );
    compare_maps(&old.enums, &new.enums, &mut out, Kind::Enum, diff_enum);
    compare_maps(
        &old.functions,
        &new.functions,
        &mut out,
        Kind::Function,
        diff_function,
    );
    compare_maps(&old.consts, &new.consts, &mut out, Kind::Const, diff_const);
    let mut list = out.list;
    list.sort_by(|a, b| (&a.path, a.lint, &a.message).cmp(&(&b.path, b.lint, &b.message)));
    list
}

struct Findings<'a> {
    list: Vec<Finding>,
    hidden: &'a BTreeSet<String>,
}

impl Findings<'_> {
    fn push(
        &mut self,
        lint: &'static str,
        path: &str,
        loc: &Loc,
        cfg: Option<&String>,
        message: String,
    ) {
        self.list.push(Finding {
            group: String::new(),
            severity: Severity::Note,
            lint,
            bump: bump_of(lint),
            path: path.to_string(),
            loc: loc.clone(),
            message,
            cfg: cfg.cloned(),
        });
    }
}

/// What every top-level item kind shares.
trait Item {
    fn loc(&self) -> &Loc;
    fn cfg(&self) -> Option<&String>;
}

macro_rules! impl_item {
    ($($ty:ty),*) => {$(
        impl Item for $ty {
            fn loc(&self) -> &Loc { &self.loc }
            fn cfg(&self) -> Option<&String> { self.cfg.as_ref() }
        }
    )*};
}
impl_item!(TraitDef, StructDef, EnumDef, FnSig, ConstDef);

#[derive(Debug, Clone, Copy)]
enum Kind {
    Trait,
    Struct,
    Enum,
    Function,
    Const,
}

impl Kind {
    fn lints(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::Trait => ("trait_missing", "trait_now_doc_hidden", "trait_added"),
            Kind::Struct => ("struct_missing", "struct_now_doc_hidden", "struct_added"),
            Kind::Enum => ("enum_missing", "enum_now_doc_hidden", "enum_added"),
            Kind::Function => (
                "function_missing",
                "function_now_doc_hidden",
                "function_added",
            ),
            Kind::Const => (
                "pub_module_level_const_missing",
                "pub_module_level_const_now_doc_hidden",
                "pub_module_level_const_added",
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
        match new.get(path) {
            Some(new_item) => each(path, old_item, new_item, out),
            None if is_hidden(out.hidden, path) => out.push(
                now_hidden,
                path,
                old_item.loc(),
                old_item.cfg(),
                format!("{word} `{path}` is now #[doc(hidden)]: users who name it break"),
            ),
            None => out.push(
                missing,
                path,
                old_item.loc(),
                old_item.cfg(),
                format!("{word} `{path}` removed or renamed: users who name it break"),
            ),
        }
    }
    for (path, new_item) in new {
        if !old.contains_key(path) {
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
            "trait_unsafe_added",
            path,
            loc,
            cfg,
            format!("trait `{path}` became `unsafe trait`: implementations break"),
        );
    }
    if old.is_unsafe && !new.is_unsafe {
        out.push(
            "trait_unsafe_removed",
            path,
            loc,
            cfg,
            format!("trait `{path}` is no longer `unsafe trait`: `unsafe impl`s break"),
        );
    }
    if let Some(message) = generics_change(&format!("trait `{path}`"), &old.generics, &new.generics)
    {
        out.push("trait_generics_changed", path, loc, cfg, message);
    }
    if !old.sealed && new.sealed {
        out.push(
            "trait_newly_sealed",
            path,
            loc,
            cfg,
            format!("trait `{path}` became sealed: implementations outside the crate break"),
        );
    }
    if old.sealed && !new.sealed {
        out.push(
            "trait_no_longer_sealed",
            path,
            loc,
            cfg,
            format!("trait `{path}` is no longer sealed and can be implemented outside the crate"),
        );
    }
    for added in new.supertraits.difference(&old.supertraits) {
        if implementable {
            out.push("trait_added_supertrait", path, loc, cfg, format!("supertrait `{added}` added to `{path}`: implementors that do not implement it break"));
        }
    }
    for removed in old.supertraits.difference(&new.supertraits) {
        out.push(
            "trait_removed_supertrait",
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
                ("trait_method_now_doc_hidden", "is now #[doc(hidden)]")
            } else {
                ("trait_method_missing", "removed or renamed")
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
            out.push("trait_default_impl_removed", &member, &new_method.loc, cfg, format!("method `{name}` of `{path}` lost its default body: implementors that relied on it break"));
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
                "trait_provided_method_added",
                &member,
                &new_method.loc,
                cfg,
                format!("method `{name}` added to `{path}` with a default body"),
            );
        } else {
            out.push(
                "trait_method_added",
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
    removed: &'static str,
    default_removed: &'static str,
    shape_label: &'static str,
    shape_changed: &'static str,
    added: &'static str,
    provided_added: Option<&'static str>,
}

const ASSOC_TYPE_LINTS: AssocLints = AssocLints {
    noun: "type",
    removed: "trait_removed_associated_type",
    default_removed: "trait_associated_type_default_removed",
    shape_label: "bounds",
    shape_changed: "trait_associated_type_bounds_changed",
    added: "trait_associated_type_added",
    provided_added: None,
};

const ASSOC_CONST_LINTS: AssocLints = AssocLints {
    noun: "const",
    removed: "trait_removed_associated_constant",
    default_removed: "trait_associated_const_default_removed",
    shape_label: "type",
    shape_changed: "trait_associated_const_type_changed",
    added: "trait_associated_const_added",
    provided_added: Some("trait_provided_associated_const_added"),
};

/// What the diff needs from an associated type or const.
trait AssocItem {
    fn loc(&self) -> &Loc;
    fn has_default(&self) -> bool;
    /// The bounds of a type, the type of a const.
    fn shape(&self) -> &str;
}

impl AssocItem for AssocType {
    fn loc(&self) -> &Loc {
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
    fn loc(&self) -> &Loc {
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
    parameter_count: &'static str,
    signature: &'static str,
    generics: &'static str,
    unsafe_added: &'static str,
    unsafe_removed: Option<&'static str>,
    async_changed: &'static str,
    const_removed: Option<&'static str>,
    receiver: Option<&'static str>,
}

impl SigLints {
    const METHOD: SigLints = SigLints {
        what: "method",
        parameter_count: "trait_method_parameter_count_changed",
        signature: "trait_method_signature_changed",
        generics: "trait_method_generics_changed",
        unsafe_added: "trait_method_unsafe_added",
        unsafe_removed: Some("trait_method_unsafe_removed"),
        async_changed: "trait_method_async_changed",
        const_removed: None,
        receiver: Some("trait_method_receiver_changed"),
    };
    const FUNCTION: SigLints = SigLints {
        what: "function",
        parameter_count: "function_parameter_count_changed",
        signature: "function_signature_changed",
        generics: "function_generics_changed",
        unsafe_added: "function_unsafe_added",
        unsafe_removed: None,
        async_changed: "function_async_changed",
        const_removed: Some("function_const_removed"),
        receiver: None,
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
            if old_ty != new_ty {
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
    if old.output != new.output {
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
    if old.is_async != new.is_async {
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
    if old.ty != new.ty {
        out.push(
            "pub_module_level_const_type_changed",
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
            "struct_changed_kind",
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
    if let Some(message) =
        generics_change(&format!("struct `{path}`"), &old.generics, &new.generics)
    {
        out.push("struct_generics_changed", path, loc, cfg, message);
    }
    if !old.non_exhaustive && new.non_exhaustive {
        out.push("struct_marked_non_exhaustive", path, loc, cfg, format!("struct `{path}` became #[non_exhaustive]: literals and exhaustive patterns outside the crate break"));
    }
    if old.non_exhaustive && !new.non_exhaustive {
        out.push(
            "struct_no_longer_non_exhaustive",
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
            None if out.hidden.contains(&member) => out.push("struct_pub_field_now_doc_hidden", &member, loc, cfg, format!("field `{name}` of `{path}` is now #[doc(hidden)]: users who name it break")),
            None => out.push("struct_pub_field_missing", &member, loc, cfg, format!("public field `{name}` of `{path}` removed, renamed or made private: users who name it break")),
            Some(new_field) if new_field.ty != old_field.ty => out.push("struct_pub_field_type_changed", &member, &new_field.loc, cfg, format!("type of field `{name}` of `{path}` changed: {}", changed(&old_field.ty, &new_field.ty))),
            Some(_) => {}
        }
    }
    for (name, new_field) in &new.fields {
        if old.fields.contains_key(name) {
            continue;
        }
        let member = format!("{path}::{name}");
        if constructible && old.shape == new.shape {
            out.push("constructible_struct_adds_field", &member, &new_field.loc, cfg, format!("field `{name}` added to `{path}`, which users can build with a literal: those literals break"));
        } else {
            out.push(
                "struct_pub_field_added",
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
            "constructible_struct_adds_field",
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
    if let Some(message) = generics_change(&format!("enum `{path}`"), &old.generics, &new.generics)
    {
        out.push("enum_generics_changed", path, loc, cfg, message);
    }
    if !old.non_exhaustive && new.non_exhaustive {
        out.push(
            "enum_marked_non_exhaustive",
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
            "enum_no_longer_non_exhaustive",
            path,
            loc,
            cfg,
            format!("enum `{path}` is no longer #[non_exhaustive]"),
        );
    }
    for (name, old_variant) in &old.variants {
        let member = format!("{path}::{name}");
        match new.variants.get(name) {
            None => out.push(
                "enum_variant_missing",
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
        if old.variants.contains_key(name) {
            continue;
        }
        let member = format!("{path}::{name}");
        if new.non_exhaustive {
            out.push(
                "non_exhaustive_enum_variant_added",
                &member,
                &new_variant.loc,
                cfg,
                format!("variant `{name}` added to #[non_exhaustive] enum `{path}`"),
            );
        } else {
            out.push("enum_variant_added", &member, &new_variant.loc, cfg, format!("variant `{name}` added to exhaustive enum `{path}`: matches outside the crate break"));
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
        out.push("enum_variant_marked_non_exhaustive", member, loc, cfg, format!("variant `{name}` of `{path}` became #[non_exhaustive]: patterns and constructors outside the crate break"));
    }
    if old.shape != new.shape {
        out.push(
            "enum_variant_changed_kind",
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
    let (added, missing) = match new.shape {
        super::surface::Shape::Tuple => (
            "enum_tuple_variant_field_added",
            "enum_tuple_variant_field_missing",
        ),
        _ => (
            "enum_struct_variant_field_added",
            "enum_struct_variant_field_missing",
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
}

#[allow(clippy::too_many_arguments)]
fn diff_variant_fields(
    member: &str,
    name: &str,
    path: &str,
    old: &BTreeMap<String, FieldDef>,
    new: &BTreeMap<String, FieldDef>,
    (added, missing): (&'static str, &'static str),
    loc: &Loc,
    cfg: Option<&String>,
    out: &mut Findings<'_>,
) {
    for (field, old_field) in old {
        let field_path = format!("{member}::{field}");
        match new.get(field) {
            None => out.push(missing, &field_path, loc, cfg, format!("field `{field}` of variant `{name}` of `{path}` removed: users who name it break")),
            Some(new_field) if new_field.ty != old_field.ty => out.push("enum_variant_field_type_changed", &field_path, &new_field.loc, cfg, format!("type of field `{field}` of variant `{name}` of `{path}` changed: {}", changed(&old_field.ty, &new_field.ty))),
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

/// The largest bump of a set of findings (`None` when there are none).
pub fn required_bump<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Bump {
    findings
        .into_iter()
        .map(|f| f.bump)
        .max()
        .unwrap_or(Bump::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lint_names_are_unique() {
        let names: BTreeSet<&str> = LINTS.iter().map(|(name, _, _)| *name).collect();
        assert_eq!(names.len(), LINTS.len());
    }

    #[test]
    fn unknown_lint_counts_as_major() {
        assert_eq!(bump_of("no_such_lint"), Bump::Major);
        assert_eq!(bump_of("trait_provided_method_added"), Bump::Minor);
    }

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
