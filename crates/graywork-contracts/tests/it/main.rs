//! graywork-contracts' integration tests, one binary: the checks on fixture pairs and a fixture
//! workspace, and the impact of a dependency's new version, checked against the compiler.

mod check;
#[path = "../../../graywork-workspace/tests/it/copy_tree.rs"]
mod copy_tree;
mod impact;
