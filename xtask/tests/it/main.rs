//! The xtask integration tests: one binary, one module per command family.

mod contracts;
mod plan;
mod team;
