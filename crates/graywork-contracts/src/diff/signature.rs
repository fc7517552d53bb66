//! Function and method signatures: parameters, return type, generics, qualifiers, ABI,
//! exported symbol, target features and attributes.

use super::finding::{At, Findings, changed, decidable};
use super::generics::generics_change;
use crate::lint::Lint;
use crate::surface::FnSig;

/// A function or method as its findings name it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Callable<'a> {
    /// The path findings are reported at (`Trait::method`, `module::function`).
    pub(super) member: &'a str,
    /// Its name.
    pub(super) name: &'a str,
    /// The trait or type it belongs to; empty for a free function.
    pub(super) owner: &'a str,
    /// Its `#[cfg]`, or its owner's.
    pub(super) cfg: Option<&'a String>,
}

/// The lint names used for a signature change, for trait methods or free functions.
pub(super) struct SigLints {
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
    pub(super) const METHOD: SigLints = SigLints {
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
    pub(super) const INHERENT: SigLints = SigLints {
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
    pub(super) const FUNCTION: SigLints = SigLints {
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

/// Compares two signatures of `callable`.
pub(super) fn diff_sig(
    callable: &Callable<'_>,
    old: &FnSig,
    new: &FnSig,
    lints: &SigLints,
    out: &mut Findings<'_>,
) {
    let Callable {
        member,
        name,
        owner,
        cfg,
    } = *callable;
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
    let at = At {
        path: member,
        loc,
        cfg,
    };
    diff_sig_attrs(at, &subject, old, new, lints, out);
}

/// ABI, exported symbol, target features, deprecation and `#[must_use]` of a signature.
fn diff_sig_attrs(
    at: At<'_>,
    subject: &str,
    old: &FnSig,
    new: &FnSig,
    lints: &SigLints,
    out: &mut Findings<'_>,
) {
    let At {
        path: member,
        loc,
        cfg,
    } = at;
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

pub(super) fn diff_function(path: &str, old: &FnSig, new: &FnSig, out: &mut Findings<'_>) {
    let function = Callable {
        member: path,
        name: path,
        owner: "",
        cfg: new.cfg.as_ref(),
    };
    diff_sig(&function, old, new, &SigLints::FUNCTION, out);
}
