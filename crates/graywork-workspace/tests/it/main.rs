//! graywork-workspace's integration tests, one binary: loading real workspaces through
//! `cargo metadata`.

mod load;
