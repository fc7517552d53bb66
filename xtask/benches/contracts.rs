//! Benchmarks of `check-contracts`.
fn main() {}
