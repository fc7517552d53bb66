//! The workspace model: a target workspace loaded from `cargo metadata` or a saved metadata
//! file, its members, their validated `[package.metadata.contracts]` and
//! `[package.metadata.migrations]` tables, the one Cargo feature resolver, and the small
//! helpers every tool crate shares (git, paths, name suggestions).
//!
//! [`schema`] holds the typed plan schema (stages, changes, gates) that the planning tools
//! share.
//!
//! [`Workspace::load`] is the one entry point every command uses (`load.rs`); the types it
//! returns are in `model.rs`, the metadata schema and its validation in `metadata.rs`, and
//! where each setting is declared in `declarations.rs` (read by `manifests.rs`, and the
//! toolchain pin by `pin.rs`, with rustup's rule).
#![warn(unreachable_pub)]

mod cargo;
mod declarations;
pub mod feature_guards;
pub mod features;
mod git;
mod guess;
mod load;
mod location;
mod manifests;
mod metadata;
mod model;
mod names;
mod paths;
mod pin;
mod runner;
pub mod schema;

pub use cargo::{cargo_home, cargo_program, rustc_program, rustc_version};
pub use declarations::{
    Declarations, Declared, MemberDeclarations, PatchEntry, PinError, Site, ToolchainPin, Unpinned,
    shared_sites,
};
pub use git::git;
pub use guess::guess_members;
pub use load::{CargoOptions, ResolveMode, Source, manifest_source};
pub use location::Location;
pub use manifests::{ManifestError, features_written_at, same_target};
pub use metadata::{
    ContractMeta, ContractMetaError, ContractMetaErrors, CrateContractMetaError,
    DEFAULT_ROLLOUT_STEPS, MajorMigrations, MigrationMeta, RolloutDecl, RolloutMeta, WatchDecl,
    parse_major,
};
pub use model::{DepKind, Member, MemberDependency, Workspace, requirement_operator};
pub use names::{closest_name, known_names_hint};
pub use paths::{files_under, relative_display};
pub use pin::{parse_toolchain_pin, read_toolchain_pin};
pub use runner::Runner;
