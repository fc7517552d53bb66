//! End-to-end tests of the installed binary, `cargo-graywork`, as a user in another workspace
//! runs it: through `cargo graywork …` on `PATH`, and directly; and the upgrade-plan round
//! trips, which plan with the CLI's `tree_facts` and apply every stage.

mod cli;
mod hooks;
mod outdated;
mod plan_round_trip;
mod support;
mod toolchain;
