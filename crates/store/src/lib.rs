//! SQLite invoice store shared by billing v1 and v2, with expand/contract migrations and a
//! transactional outbox.
//!
//! Billing stays pure computation; this crate is the one place invoices touch a disk, and the
//! gateway wires the two together. One [`Store`] holds one SQLite database (WAL mode, a busy
//! timeout, foreign keys on) and serves both contract versions from one set of tables:
//!
//! - [`migrations`]: versioned, forward-only, embedded migrations. Opening a store applies the
//!   pending *expand* steps in one transaction; the *contract* step
//!   ([`migrations::CONTRACT_BILLING_V2`]) runs only through
//!   [`Store::apply_contract_migration`]. A database newer than the binary is refused with
//!   [`StoreError::SchemaTooNew`].
//! - Writes through v1 ([`Store::create_v1`]) and v2 ([`Store::create_v2`]); reads through v1
//!   ([`Store::get_v1`]) and v2 ([`Store::get_v2`]). A v1 invoice reads through v2 with the
//!   defaults documented on [`Store::get_v2`]; a v2 invoice reads through v1 when v1 can
//!   express it, else [`StoreError::NeedsV2`].
//! - Idempotency: a v2 create with a key already stored returns the stored invoice
//!   ([`Outcome::Replayed`]), also under concurrent retries; the same key with a different
//!   invoice is [`StoreError::IdempotencyConflict`].
//! - Durability: every create commits before it returns; see [`Synchronous`].
//! - Transactional outbox: [`Store::create_v1_with_notice`] and [`Store::create_v2_with_notice`]
//!   queue an invoice's notice in the invoice's own transaction; a dispatcher reads
//!   [`Store::due_notices`] and records [`Store::mark_delivered`] or [`Store::mark_failed`].
//!   Each notice has a [`delivery_key`] that stays the same across attempts and restarts.
//! - [`Store::check_writable`]: whether the database takes writes now, proven by a commit.
//!
//! ```
//! # fn main() -> Result<(), store::StoreError> {
//! let dir = tempfile::tempdir().unwrap();
//! let store = store::Store::open(dir.path().join("data/gateway.db"))?;
//! assert_eq!(store.schema_version(), 4);
//! assert_eq!(store.count()?, 0);
//! # Ok(())
//! # }
//! ```
#![warn(unreachable_pub)]

mod error;
pub mod migrations;
mod outbox;
mod rows;
mod store;

pub use error::StoreError;
pub use outbox::{NoticeId, NoticeStatus, OutboxCounts, PendingNotice, delivery_key};
pub use store::{Outcome, Store, StoreOptions, Stored, Synchronous};

#[cfg(test)]
mod fixtures;
