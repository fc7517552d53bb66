//! graywork-workspace's integration tests, one binary: loading real workspaces through
//! `cargo metadata`.

mod copy_tree;
mod load;
