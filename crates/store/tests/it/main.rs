//! Integration tests of the invoice store: migrations, cross-version reads, idempotency under
//! concurrency, and durability across reopen.

mod cross_reads;
mod durability;
mod idempotency;
mod migrations;
mod outbox;
// The unit tests' invoice builders, so both suites build the same invoices.
#[path = "../../src/fixtures.rs"]
mod support;
