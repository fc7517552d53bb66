//! graywork-contracts' integration tests, one binary: the impact of a dependency's new
//! version, checked against the compiler.

mod impact;
