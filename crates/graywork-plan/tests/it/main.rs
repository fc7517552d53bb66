//! graywork-plan's integration tests, one binary: `graph` and `upgrade-plan` on fixture
//! workspaces (loaded through `cargo metadata`), `--apply` on copies of them, errors, and
//! properties over synthetic workspaces.

mod bad_input;
mod edits;
mod goals;
mod graph;
mod properties;
mod support;
