//! The xtask integration tests: one binary, one module per command family.

mod ci;
mod contracts;
mod impact;
mod plan;
// The plan fixtures' helpers (a directory copier among them), shared with graywork-plan.
#[path = "../../../crates/graywork-plan/tests/it/support.rs"]
mod support;
mod team;
mod tidy;
