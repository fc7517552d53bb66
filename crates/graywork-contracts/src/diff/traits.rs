//! Traits: unsafety, generics, supertraits, sealing, methods and associated items.

use std::collections::BTreeMap;

use super::finding::{At, Findings, changed};
use super::generics::{GenericsLints, diff_generics};
use super::signature::{Callable, SigLints, diff_sig};
use crate::lint::Lint;
use crate::surface::{AssocConst, AssocType, Location, TraitDef};

pub(super) fn diff_trait(path: &str, old: &TraitDef, new: &TraitDef, out: &mut Findings<'_>) {
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
        &GenericsLints::TRAIT,
        At { path, loc, cfg },
        &old.generics,
        &new.generics,
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
        let method = Callable {
            member: &member,
            name,
            owner: path,
            cfg,
        };
        diff_sig(&method, old_method, new_method, &SigLints::METHOD, out);
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
