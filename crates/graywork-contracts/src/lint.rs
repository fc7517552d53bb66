//! The lints: one closed set, each with its name (cargo-semver-checks' name where one exists),
//! the semver bump it requires, its level and what it means.

use serde::{Deserialize, Serialize};

/// The semver bump a change needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
    EnumStructVariantFieldNowDocHidden = "enum_struct_variant_field_now_doc_hidden", Major, Deny, Surface, "a field of a struct-like variant became #[doc(hidden)]";
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
    InherentMethodMissing = "inherent_method_missing", Major, Deny, Surface, "a public inherent method or associated function was removed or renamed";
    InherentMethodNowDocHidden = "inherent_method_now_doc_hidden", Major, Deny, Surface, "a public inherent method became #[doc(hidden)]";
    InherentMethodAdded = "inherent_method_added", Minor, Deny, Surface, "a public inherent method or associated function was added";
    InherentAssociatedPubConstMissing = "inherent_associated_pub_const_missing", Major, Deny, Surface, "a public inherent associated const was removed or renamed";
    InherentAssociatedConstNowDocHidden = "inherent_associated_const_now_doc_hidden", Major, Deny, Surface, "a public inherent associated const became #[doc(hidden)]";
    InherentAssociatedConstAdded = "inherent_associated_const_added", Minor, Deny, Surface, "a public inherent associated const was added";
    InherentAssociatedConstTypeChanged = "inherent_associated_const_type_changed", Major, Deny, Surface, "a public inherent associated const's type changed";
    MethodParameterCountChanged = "method_parameter_count_changed", Major, Deny, Surface, "an inherent method takes a different number of parameters";
    InherentMethodSignatureChanged = "inherent_method_signature_changed", Major, Deny, Surface, "an inherent method's parameter or return type changed";
    InherentMethodReceiverChanged = "inherent_method_receiver_changed", Major, Deny, Surface, "an inherent method's receiver changed (or it became or stopped being a method)";
    InherentMethodGenericsChanged = "inherent_method_generics_changed", Major, Deny, Surface, "an inherent method's generic parameters or where-clause changed";
    InherentMethodUnsafeAdded = "inherent_method_unsafe_added", Major, Deny, Surface, "an inherent method became `unsafe`";
    InherentMethodAsyncChanged = "inherent_method_async_changed", Major, Deny, Surface, "an inherent method became or stopped being `async` and its return type changed";
    InherentMethodConstRemoved = "inherent_method_const_removed", Major, Deny, Surface, "an inherent method is no longer `const`";
    FunctionChangedAbi = "function_changed_abi", Major, Deny, Surface, "a function's ABI changed (`extern \"C\"`, `\"system\"`, Rust's own)";
    FunctionAbiNoLongerUnwind = "function_abi_no_longer_unwind", Major, Deny, Surface, "a function's `-unwind` ABI became the non-unwinding one";
    FunctionExportNameChanged = "function_export_name_changed", Major, Deny, Surface, "a function is exported under another symbol (`#[no_mangle]`, `#[export_name]`)";
    FunctionNoLongerExported = "function_no_longer_exported", Major, Deny, Surface, "a function lost its `#[no_mangle]` or `#[export_name]` symbol";
    SafeFunctionTargetFeatureAdded = "safe_function_target_feature_added", Major, Deny, Surface, "a safe function gained `#[target_feature]`";
    UnsafeFunctionTargetFeatureAdded = "unsafe_function_target_feature_added", Major, Deny, Surface, "an unsafe function gained `#[target_feature]`";
    SafeFunctionRequiresMoreTargetFeatures = "safe_function_requires_more_target_features", Major, Deny, Surface, "a safe function requires more target features";
    UnsafeFunctionRequiresMoreTargetFeatures = "unsafe_function_requires_more_target_features", Major, Deny, Surface, "an unsafe function requires more target features";
    SafeInherentMethodTargetFeatureAdded = "safe_inherent_method_target_feature_added", Major, Deny, Surface, "a safe inherent method gained `#[target_feature]`";
    UnsafeInherentMethodTargetFeatureAdded = "unsafe_inherent_method_target_feature_added", Major, Deny, Surface, "an unsafe inherent method gained `#[target_feature]`";
    SafeInherentMethodRequiresMoreTargetFeatures = "safe_inherent_method_requires_more_target_features", Major, Deny, Surface, "a safe inherent method requires more target features";
    UnsafeInherentMethodRequiresMoreTargetFeatures = "unsafe_inherent_method_requires_more_target_features", Major, Deny, Surface, "an unsafe inherent method requires more target features";
    UnsafeTraitMethodTargetFeatureAdded = "unsafe_trait_method_target_feature_added", Major, Deny, Surface, "an unsafe trait method gained `#[target_feature]`";
    UnsafeTraitMethodRequiresMoreTargetFeatures = "unsafe_trait_method_requires_more_target_features", Major, Deny, Surface, "an unsafe trait method requires more target features";
    FunctionMarkedDeprecated = "function_marked_deprecated", Minor, Warn, Surface, "a public function became #[deprecated]";
    TypeMarkedDeprecated = "type_marked_deprecated", Minor, Warn, Surface, "a public struct, enum or union became #[deprecated]";
    TraitMarkedDeprecated = "trait_marked_deprecated", Minor, Warn, Surface, "a public trait became #[deprecated]";
    TraitMethodMarkedDeprecated = "trait_method_marked_deprecated", Minor, Warn, Surface, "a trait method became #[deprecated]";
    InherentMethodMarkedDeprecated = "inherent_method_marked_deprecated", Minor, Warn, Surface, "an inherent method became #[deprecated]";
    EnumVariantMarkedDeprecated = "enum_variant_marked_deprecated", Minor, Warn, Surface, "an enum variant became #[deprecated]";
    StructFieldMarkedDeprecated = "struct_field_marked_deprecated", Minor, Warn, Surface, "a public struct field became #[deprecated]";
    MacroMarkedDeprecated = "macro_marked_deprecated", Minor, Warn, Surface, "an exported macro became #[deprecated]";
    FunctionMustUseAdded = "function_must_use_added", Minor, Deny, Surface, "a function became #[must_use]";
    InherentMethodMustUseAdded = "inherent_method_must_use_added", Minor, Deny, Surface, "an inherent method became #[must_use]";
    StructMustUseAdded = "struct_must_use_added", Minor, Deny, Surface, "a struct became #[must_use]";
    EnumMustUseAdded = "enum_must_use_added", Minor, Deny, Surface, "an enum became #[must_use]";
    UnionMustUseAdded = "union_must_use_added", Minor, Deny, Surface, "a union became #[must_use]";
    UnionMustUseRemoved = "union_must_use_removed", Minor, Warn, Surface, "a union is no longer #[must_use]";
    TraitMustUseAdded = "trait_must_use_added", Minor, Deny, Surface, "a trait became #[must_use]";
    DeriveTraitImplRemoved = "derive_trait_impl_removed", Major, Deny, Surface, "a type no longer derives (or implements) a standard trait it derived";
    StdTraitImplRemoved = "std_trait_impl_removed", Major, Deny, Surface, "a type no longer implements a standard trait it implemented by hand";
    StdTraitImplAdded = "std_trait_impl_added", Minor, Deny, Surface, "a type now implements a standard trait (Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)";
    PartialOrdStructFieldsReordered = "partial_ord_struct_fields_reordered", Major, Deny, Surface, "the fields of a struct with a derived `PartialOrd` were reordered";
    PartialOrdEnumVariantsReordered = "partial_ord_enum_variants_reordered", Major, Deny, Surface, "the variants of an enum with a derived `PartialOrd` were reordered";
    ReprCRemoved = "repr_c_removed", Major, Deny, Surface, "a struct or union lost `#[repr(C)]`";
    EnumReprCRemoved = "enum_repr_c_removed", Major, Deny, Surface, "an enum lost `#[repr(C)]`";
    ReprCAdded = "repr_c_added", Minor, Deny, Surface, "a type gained `#[repr(C)]`";
    StructReprTransparentRemoved = "struct_repr_transparent_removed", Major, Deny, Surface, "a struct lost `#[repr(transparent)]`";
    EnumReprTransparentRemoved = "enum_repr_transparent_removed", Major, Deny, Surface, "an enum lost `#[repr(transparent)]`";
    ReprTransparentAdded = "repr_transparent_added", Minor, Deny, Surface, "a type gained `#[repr(transparent)]`";
    EnumReprIntChanged = "enum_repr_int_changed", Major, Deny, Surface, "an enum's `#[repr(u8/i32/...)]` changed";
    EnumReprIntRemoved = "enum_repr_int_removed", Major, Deny, Surface, "an enum lost its `#[repr(u8/i32/...)]`";
    EnumReprIntAdded = "enum_repr_int_added", Minor, Deny, Surface, "an enum gained a `#[repr(u8/i32/...)]`";
    ReprPackedAdded = "repr_packed_added", Major, Deny, Surface, "a struct or union became `#[repr(packed)]`";
    ReprPackedRemoved = "repr_packed_removed", Major, Deny, Surface, "a struct or union is no longer `#[repr(packed)]`";
    ReprPackedChanged = "repr_packed_changed", Major, Deny, Surface, "the N of `#[repr(packed(N))]` changed";
    ReprAlignAdded = "repr_align_added", Major, Deny, Surface, "a type gained `#[repr(align(N))]`";
    ReprAlignRemoved = "repr_align_removed", Major, Deny, Surface, "a type lost `#[repr(align(N))]`";
    ReprAlignChanged = "repr_align_changed", Major, Deny, Surface, "the N of `#[repr(align(N))]` changed";
    ReprCPlainStructFieldsReordered = "repr_c_plain_struct_fields_reordered", Major, Deny, Surface, "the fields of a `#[repr(C)]` struct or union were reordered";
    EnumReprVariantDiscriminantChanged = "enum_repr_variant_discriminant_changed", Major, Deny, Surface, "a variant's discriminant changed in an enum with a `repr`";
    EnumNoReprVariantDiscriminantChanged = "enum_no_repr_variant_discriminant_changed", Major, Deny, Surface, "a variant's discriminant changed in a field-less enum (`as` casts see it)";
    UnionMissing = "union_missing", Major, Deny, Surface, "a public union was removed or renamed";
    UnionNowDocHidden = "union_now_doc_hidden", Major, Deny, Surface, "a public union became #[doc(hidden)]";
    UnionAdded = "union_added", Minor, Deny, Surface, "a public union was added";
    UnionFieldMissing = "union_field_missing", Major, Deny, Surface, "a public union field was removed, renamed or made private";
    UnionPubFieldNowDocHidden = "union_pub_field_now_doc_hidden", Major, Deny, Surface, "a public union field became #[doc(hidden)]";
    UnionPubFieldTypeChanged = "union_pub_field_type_changed", Major, Deny, Surface, "a public union field's type changed";
    UnionFieldAddedWithAllPubFields = "union_field_added_with_all_pub_fields", Major, Deny, Surface, "a union whose fields were all public gained a field";
    UnionFieldAddedWithNonPubFields = "union_field_added_with_non_pub_fields", Minor, Deny, Surface, "a union with non-public fields gained a public field";
    UnionChangedKind = "union_changed_kind", Major, Deny, Surface, "a union became a struct, or a struct became a union";
    UnionGenericsChanged = "union_generics_changed", Major, Deny, Surface, "a union's generic parameters or where-clause changed";
    DeclarativeMacroMissing = "declarative_macro_missing", Major, Deny, Surface, "an exported `macro_rules!` macro was removed or renamed";
    MacroNoLongerExported = "macro_no_longer_exported", Major, Deny, Surface, "a `macro_rules!` macro lost `#[macro_export]`";
    MacroNowDocHidden = "macro_now_doc_hidden", Major, Deny, Surface, "an exported macro became #[doc(hidden)]";
    FunctionLikeProcMacroMissing = "function_like_proc_macro_missing", Major, Deny, Surface, "a `#[proc_macro]` was removed or renamed";
    AttributeProcMacroMissing = "attribute_proc_macro_missing", Major, Deny, Surface, "a `#[proc_macro_attribute]` was removed or renamed";
    DeriveProcMacroMissing = "derive_proc_macro_missing", Major, Deny, Surface, "a `#[proc_macro_derive]` was removed or renamed";
    DeriveHelperAttrRemoved = "derive_helper_attr_removed", Major, Deny, Surface, "a derive macro lost a helper attribute";
    MacroAdded = "macro_added", Minor, Deny, Surface, "an exported macro was added";
    ModuleMissing = "module_missing", Major, Deny, Surface, "a public module was removed, renamed or made private";
    PubStaticMutNowImmutable = "pub_static_mut_now_immutable", Major, Deny, Surface, "a `static mut` became immutable";
    PubStaticNowMutable = "pub_static_now_mutable", Major, Deny, Surface, "a `static` became `static mut`: every use needs `unsafe`";
    StaticBecameUnsafe = "static_became_unsafe", Major, Deny, Surface, "a static became unsafe to use (declared in an `extern` block without `safe`)";
    FeatureMissing = "feature_missing", Major, Deny, Surface, "a Cargo feature (or an optional dependency's implicit feature) was removed";
    FeatureNotEnabledByDefault = "feature_not_enabled_by_default", Major, Deny, Surface, "a feature the default features turned on is no longer on by default";
    FeatureNoLongerEnablesFeature = "feature_no_longer_enables_feature", Major, Deny, Surface, "a feature no longer turns on another feature or dependency";
    FeatureAdded = "feature_added", Minor, Deny, Surface, "a Cargo feature was added";
    EnumNonExhaustiveStructVariantFieldAdded = "enum_non_exhaustive_struct_variant_field_added", Minor, Deny, Surface, "a #[non_exhaustive] struct-like variant gained a field";
    EnumNonExhaustiveTupleVariantFieldAdded = "enum_non_exhaustive_tuple_variant_field_added", Minor, Deny, Surface, "a #[non_exhaustive] tuple variant gained a field";
    TraitDefaultedGenericParamAdded = "trait_defaulted_generic_param_added", Minor, Deny, Surface, "a trait gained a generic parameter with a default";
    TypeDefaultedGenericParamAdded = "type_defaulted_generic_param_added", Minor, Deny, Surface, "a struct, enum or union gained a generic parameter with a default";
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

impl<'de> Deserialize<'de> for Lint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Lint, D::Error> {
        let name = String::deserialize(deserializer)?;
        Lint::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown lint `{name}`")))
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
