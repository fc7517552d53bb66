//! The lints: one closed set, each with its name (cargo-semver-checks' name where one exists),
//! the semver bump it requires, its level and what it means.

use serde::Serialize;

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

/// What a finding of a lint does when the version does not cover it (cargo-semver-checks'
/// `deny` and `warn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fails the check.
    Deny,
    /// Reported as a warning; never fails the check.
    Warn,
}

/// Which part of the check reports a lint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// A change between two surfaces; its bump is the lint's.
    Surface,
    /// Version discipline (`VERSION` constants, a crate's version); the bump is the finding's.
    Version,
    /// Consumers' requirements and providers' features.
    Wiring,
}

macro_rules! lints {
    ($($variant:ident = $name:literal, $bump:ident, $level:ident, $family:ident, $description:literal;)*) => {
        /// Every lint.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Lint {
            $(
                #[doc = $description]
                $variant,
            )*
        }

        impl Lint {
            /// Every lint, in declaration order.
            pub const ALL: &[Lint] = &[$(Lint::$variant,)*];

            /// The stable name (`trait_method_missing`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Lint::$variant => $name,)*
                }
            }

            /// The bump a change of this kind requires (`None` for version and wiring lints,
            /// whose findings carry their own).
            pub fn bump(self) -> Bump {
                match self {
                    $(Lint::$variant => Bump::$bump,)*
                }
            }

            /// Whether an uncovered finding fails the check or only warns.
            pub fn level(self) -> Level {
                match self {
                    $(Lint::$variant => Level::$level,)*
                }
            }

            /// Which part of the check reports it.
            pub fn family(self) -> Family {
                match self {
                    $(Lint::$variant => Family::$family,)*
                }
            }

            /// What it means, in one line.
            pub fn description(self) -> &'static str {
                match self {
                    $(Lint::$variant => $description,)*
                }
            }
        }
    };
}

lints! {
    TraitMissing = "trait_missing", Major, Deny, Surface, "a public trait was removed or renamed";
    TraitNowDocHidden = "trait_now_doc_hidden", Major, Deny, Surface, "a public trait became #[doc(hidden)]";
    TraitAdded = "trait_added", Minor, Deny, Surface, "a public trait was added";
    TraitUnsafeAdded = "trait_unsafe_added", Major, Deny, Surface, "a trait became `unsafe trait`";
    TraitUnsafeRemoved = "trait_unsafe_removed", Major, Deny, Surface, "a trait is no longer `unsafe trait`";
    TraitGenericsChanged = "trait_generics_changed", Major, Deny, Surface, "a trait's generic parameters or where-clause changed";
    TraitAddedSupertrait = "trait_added_supertrait", Major, Deny, Surface, "an implementable trait gained a supertrait";
    TraitRemovedSupertrait = "trait_removed_supertrait", Major, Deny, Surface, "a trait lost a supertrait that users may rely on";
    TraitNewlySealed = "trait_newly_sealed", Major, Deny, Surface, "a trait became sealed: outside implementations break";
    TraitNoLongerSealed = "trait_no_longer_sealed", Minor, Deny, Surface, "a sealed trait can now be implemented outside";
    TraitMethodMissing = "trait_method_missing", Major, Deny, Surface, "a trait method was removed or renamed";
    TraitMethodNowDocHidden = "trait_method_now_doc_hidden", Major, Deny, Surface, "a trait method became #[doc(hidden)]";
    TraitMethodAdded = "trait_method_added", Major, Deny, Surface, "an implementable trait gained a method without a default";
    TraitProvidedMethodAdded = "trait_provided_method_added", Minor, Deny, Surface, "a trait gained a method with a default body";
    TraitDefaultImplRemoved = "trait_default_impl_removed", Major, Deny, Surface, "a trait method lost its default body";
    TraitMethodParameterCountChanged = "trait_method_parameter_count_changed", Major, Deny, Surface, "a trait method takes a different number of parameters";
    TraitMethodSignatureChanged = "trait_method_signature_changed", Major, Deny, Surface, "a trait method's parameter or return type changed";
    TraitMethodReceiverChanged = "trait_method_receiver_changed", Major, Deny, Surface, "a trait method's receiver changed";
    TraitMethodGenericsChanged = "trait_method_generics_changed", Major, Deny, Surface, "a trait method's generic parameters or where-clause changed";
    TraitMethodUnsafeAdded = "trait_method_unsafe_added", Major, Deny, Surface, "a trait method became `unsafe`";
    TraitMethodUnsafeRemoved = "trait_method_unsafe_removed", Major, Deny, Surface, "a trait method is no longer `unsafe`";
    TraitMethodAsyncChanged = "trait_method_async_changed", Major, Deny, Surface, "a trait method became or stopped being `async`";
    TraitAssociatedTypeAdded = "trait_associated_type_added", Major, Deny, Surface, "an implementable trait gained an associated type without a default";
    TraitRemovedAssociatedType = "trait_removed_associated_type", Major, Deny, Surface, "an associated type was removed";
    TraitAssociatedTypeDefaultRemoved = "trait_associated_type_default_removed", Major, Deny, Surface, "an associated type lost its default";
    TraitAssociatedTypeBoundsChanged = "trait_associated_type_bounds_changed", Major, Deny, Surface, "an associated type's bounds changed";
    TraitAssociatedConstAdded = "trait_associated_const_added", Major, Deny, Surface, "an implementable trait gained an associated const without a default";
    TraitProvidedAssociatedConstAdded = "trait_provided_associated_const_added", Minor, Deny, Surface, "a trait gained an associated const with a default";
    TraitRemovedAssociatedConstant = "trait_removed_associated_constant", Major, Deny, Surface, "an associated const was removed";
    TraitAssociatedConstDefaultRemoved = "trait_associated_const_default_removed", Major, Deny, Surface, "an associated const lost its default";
    TraitAssociatedConstTypeChanged = "trait_associated_const_type_changed", Major, Deny, Surface, "an associated const's type changed";
    StructMissing = "struct_missing", Major, Deny, Surface, "a public struct was removed or renamed";
    StructNowDocHidden = "struct_now_doc_hidden", Major, Deny, Surface, "a public struct became #[doc(hidden)]";
    StructAdded = "struct_added", Minor, Deny, Surface, "a public struct was added";
    StructChangedKind = "struct_changed_kind", Major, Deny, Surface, "a struct changed between struct-like, tuple and unit";
    StructGenericsChanged = "struct_generics_changed", Major, Deny, Surface, "a struct's generic parameters or where-clause changed";
    StructMarkedNonExhaustive = "struct_marked_non_exhaustive", Major, Deny, Surface, "a struct became #[non_exhaustive]";
    StructNoLongerNonExhaustive = "struct_no_longer_non_exhaustive", Minor, Deny, Surface, "a struct is no longer #[non_exhaustive]";
    StructPubFieldMissing = "struct_pub_field_missing", Major, Deny, Surface, "a public field was removed, renamed or made private";
    StructPubFieldNowDocHidden = "struct_pub_field_now_doc_hidden", Major, Deny, Surface, "a public field became #[doc(hidden)]";
    StructPubFieldTypeChanged = "struct_pub_field_type_changed", Major, Deny, Surface, "a public field's type changed";
    ConstructibleStructAddsField = "constructible_struct_adds_field", Major, Deny, Surface, "a struct that could be built with a literal gained a field";
    StructPubFieldAdded = "struct_pub_field_added", Minor, Deny, Surface, "a struct that cannot be built with a literal gained a public field";
    EnumMissing = "enum_missing", Major, Deny, Surface, "a public enum was removed or renamed";
    EnumNowDocHidden = "enum_now_doc_hidden", Major, Deny, Surface, "a public enum became #[doc(hidden)]";
    EnumAdded = "enum_added", Minor, Deny, Surface, "a public enum was added";
    EnumGenericsChanged = "enum_generics_changed", Major, Deny, Surface, "an enum's generic parameters or where-clause changed";
    EnumMarkedNonExhaustive = "enum_marked_non_exhaustive", Major, Deny, Surface, "an enum became #[non_exhaustive]";
    EnumNoLongerNonExhaustive = "enum_no_longer_non_exhaustive", Minor, Deny, Surface, "an enum is no longer #[non_exhaustive]";
    EnumVariantAdded = "enum_variant_added", Major, Deny, Surface, "an exhaustive enum gained a variant: matches break";
    NonExhaustiveEnumVariantAdded = "non_exhaustive_enum_variant_added", Minor, Deny, Surface, "a #[non_exhaustive] enum gained a variant";
    EnumVariantMissing = "enum_variant_missing", Major, Deny, Surface, "an enum variant was removed or renamed";
    EnumVariantMarkedNonExhaustive = "enum_variant_marked_non_exhaustive", Major, Deny, Surface, "an enum variant became #[non_exhaustive]";
    EnumVariantChangedKind = "enum_variant_changed_kind", Major, Deny, Surface, "a variant changed between struct-like, tuple and unit";
    EnumStructVariantFieldAdded = "enum_struct_variant_field_added", Major, Deny, Surface, "a struct-like variant gained a field";
    EnumStructVariantFieldMissing = "enum_struct_variant_field_missing", Major, Deny, Surface, "a struct-like variant lost a field";
    EnumTupleVariantFieldAdded = "enum_tuple_variant_field_added", Major, Deny, Surface, "a tuple variant gained a field";
    EnumTupleVariantFieldMissing = "enum_tuple_variant_field_missing", Major, Deny, Surface, "a tuple variant lost a field";
    EnumVariantFieldTypeChanged = "enum_variant_field_type_changed", Major, Deny, Surface, "a variant field's type changed";
    FunctionMissing = "function_missing", Major, Deny, Surface, "a public function was removed or renamed";
    FunctionNowDocHidden = "function_now_doc_hidden", Major, Deny, Surface, "a public function became #[doc(hidden)]";
    FunctionAdded = "function_added", Minor, Deny, Surface, "a public function was added";
    FunctionParameterCountChanged = "function_parameter_count_changed", Major, Deny, Surface, "a function takes a different number of parameters";
    FunctionSignatureChanged = "function_signature_changed", Major, Deny, Surface, "a function's parameter or return type changed";
    FunctionGenericsChanged = "function_generics_changed", Major, Deny, Surface, "a function's generic parameters or where-clause changed";
    FunctionUnsafeAdded = "function_unsafe_added", Major, Deny, Surface, "a function became `unsafe`";
    FunctionConstRemoved = "function_const_removed", Major, Deny, Surface, "a function is no longer `const`";
    FunctionAsyncChanged = "function_async_changed", Major, Deny, Surface, "a function became or stopped being `async`";
    PubModuleLevelConstMissing = "pub_module_level_const_missing", Major, Deny, Surface, "a public const or static was removed or renamed";
    PubModuleLevelConstNowDocHidden = "pub_module_level_const_now_doc_hidden", Major, Deny, Surface, "a public const or static became #[doc(hidden)]";
    PubModuleLevelConstAdded = "pub_module_level_const_added", Minor, Deny, Surface, "a public const or static was added";
    PubModuleLevelConstTypeChanged = "pub_module_level_const_type_changed", Major, Deny, Surface, "a public const's or static's type changed";
    ContractBreakingChangeInReleasedMajor = "contract_breaking_change_in_released_major", None, Deny, Version, "a released `vN` module has a breaking change; it belongs in a new `vN+1` module";
    ContractVersionNotBumped = "contract_version_not_bumped", None, Deny, Version, "a module's `VERSION` (or a crate's version) is not bumped as much as its changes need";
    ContractVersionDecreased = "contract_version_decreased", None, Deny, Version, "a module's `VERSION` is lower than in the baseline";
    ContractVersionMajorMismatch = "contract_version_major_mismatch", None, Deny, Version, "the major of `VERSION` in module `vN` is not `N`";
    ContractVersionMissing = "contract_version_missing", None, Deny, Version, "a contract module has no `pub const VERSION: &str`";
    ContractVersionInvalid = "contract_version_invalid", None, Deny, Version, "a module's `VERSION` is not a semver version";
    ContractModuleAdded = "contract_module_added", None, Deny, Version, "a new contract module (a new major) was added";
    ContractModuleRemoved = "contract_module_removed", None, Deny, Version, "a contract module (a major) was retired";
    ContractRequirementUnmet = "contract_requirement_unmet", None, Deny, Wiring, "no provider, under the workspace's default features, offers a version in a consumer's required range";
    ContractProvidedMajorMissing = "contract_provided_major_missing", None, Deny, Wiring, "a crate provides a contract major that the contract crate does not define";
    ContractProviderFeatureGatesNoImpl = "contract_provider_feature_gates_no_impl", None, Deny, Wiring, "the feature named as providing a contract major does not gate an `impl` of its trait";
}

impl Lint {
    /// The lint with this name, if there is one.
    pub fn from_name(name: &str) -> Option<Lint> {
        Lint::ALL.iter().copied().find(|lint| lint.name() == name)
    }
}

impl std::fmt::Display for Lint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Lint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn lint_names_are_unique_and_snake_case() {
        let names: BTreeSet<&str> = Lint::ALL.iter().map(|lint| lint.name()).collect();
        assert_eq!(names.len(), Lint::ALL.len());
        for name in names {
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for lint in Lint::ALL {
            assert_eq!(Lint::from_name(lint.name()), Some(*lint));
        }
        assert_eq!(Lint::from_name("no_such_lint"), None);
    }

    #[test]
    fn surface_lints_need_a_bump_and_others_carry_their_own() {
        for lint in Lint::ALL {
            match lint.family() {
                Family::Surface => assert!(lint.bump() >= Bump::Minor, "{lint}"),
                Family::Version | Family::Wiring => assert_eq!(lint.bump(), Bump::None, "{lint}"),
            }
        }
        assert_eq!(Lint::TraitProvidedMethodAdded.bump(), Bump::Minor);
        assert_eq!(Lint::TraitMethodMissing.bump(), Bump::Major);
    }
}
