//! Loading a target workspace: `cargo metadata` or a saved metadata file, its members, and
//! each member's `[package.metadata.contracts]` table.
