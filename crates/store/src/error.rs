//! The store's one error type, [`StoreError`], and what each variant means to a caller.

use std::path::PathBuf;

use shared::billing::v1::RequiresV2;
use shared::domain::{IdempotencyKey, InvoiceId};

/// Why a store operation failed.
///
/// Every message names the database file (`:memory:` for an in-memory store) or the invoice it
/// is about. A gateway maps [`NeedsV2`](Self::NeedsV2) to 409/422,
/// [`IdempotencyConflict`](Self::IdempotencyConflict) and
/// [`DuplicateInvoice`](Self::DuplicateInvoice) to 409, and the rest to 500 or a failed start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The directory that should hold the database could not be created.
    #[error("cannot create directory {} for the invoice store: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The database could not be opened or configured (WAL, busy timeout, foreign keys).
    #[error("cannot open invoice store {path}: {source}")]
    Open {
        /// The database file.
        path: String,
        /// Why it failed.
        source: rusqlite::Error,
    },
    /// The database does not take writes now: the write check's commit failed. A lock held by
    /// another connection past the busy timeout is one cause ([`is_busy`](Self::is_busy));
    /// read-only storage is another, and then `file_system` says what the file system answers.
    #[error("invoice store {path} does not take writes: {source}{}", refusal(.file_system.as_ref()))]
    NotWritable {
        /// The database file.
        path: String,
        /// Why SQLite failed the write.
        source: rusqlite::Error,
        /// The file system's refusal to open the database file for writing, when it refuses
        /// (`Read-only file system` on read-only storage).
        file_system: Option<std::io::Error>,
    },
    /// The database asked for write-ahead logging and got another journal mode.
    #[error("invoice store {path} is in journal mode {mode:?}, and the store needs \"wal\"")]
    NotWal {
        /// The database file.
        path: String,
        /// The journal mode SQLite reported.
        mode: String,
    },
    /// The database records a schema version this binary does not know: it was migrated by a
    /// newer binary. Starting would risk misreading or corrupting its data.
    #[error(
        "invoice store {path} is at schema version {found}, but this binary knows versions up \
         to {known}; run a newer binary"
    )]
    SchemaTooNew {
        /// The database file.
        path: String,
        /// The highest version recorded in the database.
        found: u32,
        /// The highest version this binary knows.
        known: u32,
    },
    /// The recorded migrations do not match the ones this binary embeds: a version is missing,
    /// or carries another name.
    #[error(
        "invoice store {path} records migration {version} as {found:?}, but this binary \
         expects {expected:?}"
    )]
    MigrationMismatch {
        /// The database file.
        path: String,
        /// The migration version.
        version: u32,
        /// The name recorded in the database (empty when the version is missing).
        found: String,
        /// The name this binary gives that version.
        expected: &'static str,
    },
    /// A migration's SQL failed; the transaction was rolled back and the schema is unchanged.
    #[error("migration {version} ({name}) failed on invoice store {path}: {source}")]
    Migration {
        /// The database file.
        path: String,
        /// The migration version.
        version: u32,
        /// The migration name.
        name: &'static str,
        /// Why it failed.
        source: rusqlite::Error,
    },
    /// A query failed.
    #[error("query on invoice store {path} failed: {source}")]
    Database {
        /// The database file.
        path: String,
        /// Why it failed.
        source: rusqlite::Error,
    },
    /// The invoice exists but only billing v2 can express it.
    #[error("invoice {id} needs billing v2: {reason}")]
    NeedsV2 {
        /// The invoice.
        id: InvoiceId,
        /// What v1 cannot express.
        reason: RequiresV2,
    },
    /// The idempotency key was already used to create a different invoice.
    #[error(
        "idempotency key {key} was already used for invoice {existing} with a different request"
    )]
    IdempotencyConflict {
        /// The key.
        key: IdempotencyKey,
        /// The invoice created with it first.
        existing: InvoiceId,
    },
    /// An invoice with this id exists and differs from the one being created.
    #[error("invoice {id} already exists with different contents")]
    DuplicateInvoice {
        /// The invoice id.
        id: InvoiceId,
    },
    /// An invoice could not be encoded for storage.
    #[error("cannot encode invoice {id} for invoice store {path}: {source}")]
    Encode {
        /// The database file.
        path: String,
        /// The invoice.
        id: InvoiceId,
        /// Why it failed.
        source: serde_json::Error,
    },
    /// An invoice's notice could not be encoded for the outbox.
    #[error("cannot encode the notice of invoice {id} for invoice store {path}: {source}")]
    EncodeNotice {
        /// The database file.
        path: String,
        /// The invoice the notice is about.
        id: InvoiceId,
        /// Why it failed.
        source: serde_json::Error,
    },
    /// A stored row does not form a valid invoice: a value fails to parse, or stored totals or
    /// the stored tax breakdown disagree with the lines.
    #[error("invoice {id} in invoice store {path} is corrupt: {detail}")]
    Corrupt {
        /// The database file.
        path: String,
        /// The invoice id as stored.
        id: String,
        /// What is wrong.
        detail: String,
    },
}

impl StoreError {
    /// Whether SQLite refused the operation because another connection held a lock: trying
    /// again later may succeed.
    pub fn is_busy(&self) -> bool {
        match self {
            Self::Open { source, .. }
            | Self::Migration { source, .. }
            | Self::Database { source, .. }
            | Self::NotWritable { source, .. } => crate::store::is_busy(source),
            _ => false,
        }
    }
}

/// The end of a [`StoreError::NotWritable`] message: the file system's answer, if any.
fn refusal(file_system: Option<&std::io::Error>) -> String {
    file_system.map_or_else(String::new, |error| {
        format!(" (the file system refuses to open it for writing: {error})")
    })
}
