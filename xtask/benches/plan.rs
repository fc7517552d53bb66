//! Benchmarks of `upgrade-plan`.
fn main() {}
