//! The xtask integration tests: one binary, one module per command family.

mod ci;
mod contracts;
mod impact;
mod plan;
mod team;
mod tidy;
