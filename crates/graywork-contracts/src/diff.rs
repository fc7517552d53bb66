//! Diff and lints: compare an old and a new [`Surface`] and name every change with a stable
//! lint and the semver bump it needs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use crate::lint::Bump;
use crate::lint::Lint;
use crate::surface::{
    AssocConst, AssocType, ConstDef, EnumDef, FieldDef, FnSig, Location, StructDef, Surface,
    TraitDef, VariantDef,
};

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
}

fn serialize_loc<S: serde::Serializer>(loc: &Location, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&loc.to_string())
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
    list.sort_by(|a, b| {
        (&a.path, a.lint.name(), &a.message).cmp(&(&b.path, b.lint.name(), &b.message))
    });
    list
}

struct Findings<'a> {
    list: Vec<Finding>,
    hidden: &'a BTreeSet<String>,
}

impl Findings<'_> {
    fn push(
        &mut self,
        lint: Lint,
        path: &str,
        loc: &Location,
        cfg: Option<&String>,
        message: String,
    ) {
        self.list.push(Finding {
            group: String::new(),
            severity: Severity::Note,
            lint,
            bump: lint.bump(),
            path: path.to_string(),
            loc: loc.clone(),
            message,
            cfg: cfg.cloned(),
        });
    }
}

/// What every top-level item kind shares.
trait Item {
    fn loc(&self) -> &Location;
    fn cfg(&self) -> Option<&String>;
}

macro_rules! impl_item {
    ($($ty:ty),*) => {$(
        impl Item for $ty {
            fn loc(&self) -> &Location { &self.loc }
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
    if let Some(message) = generics_change(&format!("trait `{path}`"), &old.generics, &new.generics)
    {
        out.push(Lint::TraitGenericsChanged, path, loc, cfg, message);
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
    for added in new.supertraits.difference(&old.supertraits) {
        if implementable {
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
    if let Some(message) =
        generics_change(&format!("struct `{path}`"), &old.generics, &new.generics)
    {
        out.push(Lint::StructGenericsChanged, path, loc, cfg, message);
    }
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
            Some(new_field) if new_field.ty != old_field.ty => out.push(Lint::StructPubFieldTypeChanged, &member, &new_field.loc, cfg, format!("type of field `{name}` of `{path}` changed: {}", changed(&old_field.ty, &new_field.ty))),
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
    if let Some(message) = generics_change(&format!("enum `{path}`"), &old.generics, &new.generics)
    {
        out.push(Lint::EnumGenericsChanged, path, loc, cfg, message);
    }
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
    let (added, missing) = match new.shape {
        crate::surface::Shape::Tuple => (
            Lint::EnumTupleVariantFieldAdded,
            Lint::EnumTupleVariantFieldMissing,
        ),
        _ => (
            Lint::EnumStructVariantFieldAdded,
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
