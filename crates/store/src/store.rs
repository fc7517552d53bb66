//! [`Store`]: the connection, its settings, and the invoice reads and writes for billing v1
//! and v2.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use shared::billing::{v1, v2};
use shared::domain::{Currency, IdempotencyKey, InvoiceId};

use shared::notification::v1::Message;

use crate::StoreError;
use crate::migrations::{self, CONTRACT_BILLING_V2, MigrationKind, Target};
use crate::outbox::NewNotice;
use crate::rows::{DecodeError, InvoiceRow, Lookup, Schema};

/// How the store is opened. `StoreOptions::default()` is what [`Store::open`] uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// The currency of invoices written through billing v1, which records none. Reading such an
    /// invoice through v2 gives it this currency, and a v2 invoice reads through v1 only in this
    /// currency. Default: [`v1::CURRENCY`].
    pub legacy_currency: Currency,
    /// How long a write waits for another connection's lock before failing. Default: 5 s.
    pub busy_timeout: Duration,
    /// When a commit reaches the disk. Default: [`Synchronous::Normal`].
    pub synchronous: Synchronous,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            legacy_currency: v1::CURRENCY,
            busy_timeout: Duration::from_secs(5),
            synchronous: Synchronous::Normal,
        }
    }
}

/// SQLite's `synchronous` setting, in WAL mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// A commit is written to the WAL file before it returns, and the WAL is synced at
    /// checkpoints. A commit survives the process being killed (SIGKILL included), since the
    /// operating system still holds the written pages; a power loss or kernel crash may lose
    /// the last commits, never corrupt the database.
    #[default]
    Normal,
    /// The WAL is synced on every commit: commits also survive a power loss, at the cost of one
    /// fsync per write.
    Full,
}

impl Synchronous {
    fn pragma_value(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Full => "FULL",
        }
    }
}

/// Whether a create stored a new invoice or found the same one already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The invoice was stored by this call.
    Created,
    /// An identical invoice (same idempotency key, or for v1 the same id) was already stored;
    /// nothing was written.
    Replayed,
}

/// The invoice a create returns, and whether it was new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored<T> {
    /// The stored invoice: on a replay, the one stored first.
    pub invoice: T,
    /// Whether it was stored by this call.
    pub outcome: Outcome,
}

/// The invoice store: one SQLite database shared by billing v1 and v2.
///
/// `Store` is `Send + Sync`: one connection behind a mutex, so calls from several threads
/// (for example tokio's `spawn_blocking`) run one at a time. With WAL that is the right shape
/// for a single writer; other processes may read the same file while it writes. Every method
/// blocks on SQLite I/O and must not be called on an async executor thread.
///
/// Every create commits before it returns: an acknowledged invoice is on disk (see
/// [`Synchronous`] for what that covers).
#[derive(Debug)]
pub struct Store {
    path: String,
    /// The database file; `None` in memory.
    file: Option<std::path::PathBuf>,
    options: StoreOptions,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) conn: Connection,
    version: u32,
    /// Whether [`CONTRACT_BILLING_V2`] is recorded: later expand steps make the version alone
    /// say nothing about it.
    contracted: bool,
}

impl Inner {
    fn schema(&self) -> Schema {
        if self.contracted {
            Schema::Contracted
        } else {
            Schema::Expanded
        }
    }

    /// Migrates to `target` and records where that left the schema.
    fn migrate(
        &mut self,
        path: &str,
        target: Target,
        legacy_currency: Currency,
    ) -> Result<u32, StoreError> {
        self.version = migrations::migrate(&mut self.conn, path, target, legacy_currency)?;
        self.contracted = migrations::applied_versions(&self.conn, path)?
            .contains(&contract_billing_v2_version());
        Ok(self.version)
    }
}

/// The version of [`CONTRACT_BILLING_V2`] in [`migrations::MIGRATIONS`].
fn contract_billing_v2_version() -> u32 {
    migrations::MIGRATIONS
        .iter()
        .find(|m| m.name == CONTRACT_BILLING_V2 && m.kind == MigrationKind::Contract)
        .map_or_else(migrations::latest_version, |m| m.version)
}

impl Store {
    /// Opens (creating it and its parent directories if needed) the database at `path` with
    /// default options, and applies pending expand migrations.
    ///
    /// # Errors
    ///
    /// [`StoreError::CreateDir`], [`StoreError::Open`], [`StoreError::NotWal`], and the
    /// migration errors of [`migrations::migrate`], among them
    /// [`StoreError::SchemaTooNew`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, &StoreOptions::default())
    }

    /// Opens the database at `path` with `options`; see [`open`](Self::open).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_with(path: impl AsRef<Path>, options: &StoreOptions) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        let label = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: label.clone(),
            source,
        })?;
        Self::setup(conn, label, options, Some(path.to_owned()))
    }

    /// A private in-memory database with default options, for tests.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::open_in_memory_with(&StoreOptions::default())
    }

    /// A private in-memory database with `options`, for tests.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_in_memory_with(options: &StoreOptions) -> Result<Self, StoreError> {
        let label = ":memory:".to_owned();
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: label.clone(),
            source,
        })?;
        Self::setup(conn, label, options, None)
    }

    /// Configures `conn`, labelled `path` in errors: WAL when it is on `file` (not in memory),
    /// then the pending expand migrations.
    fn setup(
        conn: Connection,
        path: String,
        options: &StoreOptions,
        file: Option<std::path::PathBuf>,
    ) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        // The busy timeout comes first: the WAL switch and the migration transaction below both
        // take locks, and without it a second process opening the file fails at once.
        conn.busy_timeout(options.busy_timeout)
            .map_err(open_error)?;
        // SQLite answers some lock conflicts BUSY without calling the busy handler: the switch
        // to WAL while another connection holds the file, and the WAL-index recovery a new
        // connection may run into. Those are retried here, within the same budget.
        let deadline = Instant::now() + options.busy_timeout;
        if file.is_some() {
            let mode: String = retry_busy(deadline, || {
                conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            })
            .map_err(open_error)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::NotWal { path, mode });
            }
        }
        retry_busy(deadline, || {
            conn.pragma_update(None, "synchronous", options.synchronous.pragma_value())?;
            conn.pragma_update(None, "foreign_keys", "ON")
        })
        .map_err(open_error)?;
        let mut inner = Inner {
            conn,
            version: 0,
            contracted: false,
        };
        loop {
            // The migration runs in one transaction, so a BUSY answer leaves nothing applied
            // and trying again is safe.
            match inner.migrate(&path, Target::Expand, options.legacy_currency) {
                Err(err) if err.is_busy() && Instant::now() < deadline => busy_pause(),
                result => {
                    result?;
                    break;
                }
            }
        }
        Ok(Self {
            path,
            file,
            options: options.clone(),
            inner: Mutex::new(inner),
        })
    }

    /// The database file, or `:memory:`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// The schema version this store's connection has reached: the highest migration recorded.
    /// The contract step below it may still be pending; see [`contracted`](Self::contracted).
    pub fn schema_version(&self) -> u32 {
        self.lock().version
    }

    /// Whether the contract step [`CONTRACT_BILLING_V2`] has been applied.
    pub fn contracted(&self) -> bool {
        self.lock().contracted
    }

    /// Applies the contract migration [`CONTRACT_BILLING_V2`] (and anything pending before it):
    /// rows written through v1 get their currency and per-line rates filled in, and v1's
    /// flat-rate column is dropped. Returns the schema version reached (the highest recorded,
    /// which later expand steps may already have passed). Doing it again changes nothing.
    ///
    /// Run it in the retire stage of an upgrade to billing v2, once no binary that predates the
    /// v2 expand step uses the database. Reads through v1 keep working afterwards; creates
    /// through v1 store the invoice in v2 terms. Other stores open on the same file keep the
    /// schema they saw when they opened, and their queries fail until they are reopened: run
    /// this with one process on the database.
    ///
    /// # Errors
    ///
    /// The migration errors of [`migrations::migrate`].
    pub fn apply_contract_migration(&self) -> Result<u32, StoreError> {
        let target = contract_billing_v2_version();
        self.lock().migrate(
            &self.path,
            Target::Through(target),
            self.options.legacy_currency,
        )
    }

    /// Stores an invoice created through billing v1.
    ///
    /// v1 has no idempotency key, so the invoice id plays its part: if an invoice with this id
    /// exists and reads through v1 as exactly this invoice, it is returned as
    /// [`Outcome::Replayed`] and nothing is written.
    ///
    /// # Errors
    ///
    /// [`StoreError::DuplicateInvoice`] when the id is taken by a different invoice,
    /// [`StoreError::Corrupt`] when the existing row cannot be read, and
    /// [`StoreError::Database`].
    pub fn create_v1(&self, invoice: &v1::Invoice) -> Result<Stored<v1::Invoice>, StoreError> {
        self.create_v1_inner(invoice, None)
    }

    /// [`create_v1`](Self::create_v1), and when the invoice is new, `notice` goes into the
    /// outbox in the same transaction (see [`due_notices`](Self::due_notices)): the
    /// invoice and its notice commit together or not at all. A replay queues nothing.
    ///
    /// # Errors
    ///
    /// As [`create_v1`](Self::create_v1), and [`StoreError::EncodeNotice`].
    pub fn create_v1_with_notice(
        &self,
        invoice: &v1::Invoice,
        notice: &Message,
    ) -> Result<Stored<v1::Invoice>, StoreError> {
        let notice = NewNotice::new(self, invoice.id(), notice)?;
        self.create_v1_inner(invoice, Some(&notice))
    }

    fn create_v1_inner(
        &self,
        invoice: &v1::Invoice,
        notice: Option<&NewNotice>,
    ) -> Result<Stored<v1::Invoice>, StoreError> {
        let mut inner = self.lock();
        let schema = inner.schema();
        let row = InvoiceRow::from_v1(invoice, schema, self.options.legacy_currency);
        let Some(tx) = self.insert_new(&mut inner.conn, schema, &row, notice)? else {
            return Ok(Stored {
                invoice: invoice.clone(),
                outcome: Outcome::Created,
            });
        };
        let existing = InvoiceRow::load(&tx, schema, Lookup::Id(invoice.id().as_str()))
            .map_err(|e| self.db(e))?;
        let duplicate = || StoreError::DuplicateInvoice {
            id: invoice.id().clone(),
        };
        let existing = existing.ok_or_else(duplicate)?;
        match existing.to_v1(self.options.legacy_currency) {
            Ok(stored) if stored == *invoice => Ok(Stored {
                invoice: stored,
                outcome: Outcome::Replayed,
            }),
            Ok(_) | Err(DecodeError::NeedsV2(_)) => Err(duplicate()),
            Err(DecodeError::Corrupt(detail)) => Err(self.corrupt(existing.id, detail)),
        }
    }

    /// Stores an invoice created through billing v2, at most once per idempotency key.
    ///
    /// The key's UNIQUE index and an immediate transaction decide, so concurrent retries from
    /// any number of threads or processes store one invoice: the first commits it
    /// ([`Outcome::Created`]), the others get it back ([`Outcome::Replayed`]). An invoice
    /// written through v1 replays for the key `v1:{id}` it reads with.
    ///
    /// # Errors
    ///
    /// [`StoreError::IdempotencyConflict`] when the key was used for a different invoice,
    /// [`StoreError::DuplicateInvoice`] when the id is taken by an invoice with another key,
    /// [`StoreError::Corrupt`], [`StoreError::Encode`] and [`StoreError::Database`].
    pub fn create_v2(&self, invoice: &v2::Invoice) -> Result<Stored<v2::Invoice>, StoreError> {
        self.create_v2_inner(invoice, None)
    }

    /// [`create_v2`](Self::create_v2), and when the invoice is new, `notice` goes into the
    /// outbox in the same transaction; see [`create_v1_with_notice`](Self::create_v1_with_notice).
    ///
    /// # Errors
    ///
    /// As [`create_v2`](Self::create_v2), and [`StoreError::EncodeNotice`].
    pub fn create_v2_with_notice(
        &self,
        invoice: &v2::Invoice,
        notice: &Message,
    ) -> Result<Stored<v2::Invoice>, StoreError> {
        let notice = NewNotice::new(self, invoice.id(), notice)?;
        self.create_v2_inner(invoice, Some(&notice))
    }

    fn create_v2_inner(
        &self,
        invoice: &v2::Invoice,
        notice: Option<&NewNotice>,
    ) -> Result<Stored<v2::Invoice>, StoreError> {
        let mut inner = self.lock();
        let schema = inner.schema();
        let row = InvoiceRow::from_v2(invoice, schema).map_err(|source| StoreError::Encode {
            path: self.path.clone(),
            id: invoice.id().clone(),
            source,
        })?;
        let Some(tx) = self.insert_new(&mut inner.conn, schema, &row, notice)? else {
            return Ok(Stored {
                invoice: invoice.clone(),
                outcome: Outcome::Created,
            });
        };
        // The insert hit the idempotency key's index or the id's primary key. The key decides
        // first: a retry must get its invoice back even if the id also matches.
        let key = invoice.idempotency_key();
        if let Some(existing) = InvoiceRow::load(&tx, schema, Lookup::IdempotencyKey(key.as_str()))
            .map_err(|e| self.db(e))?
        {
            let stored = self.decode_v2(existing)?;
            return if stored == *invoice {
                Ok(Stored {
                    invoice: stored,
                    outcome: Outcome::Replayed,
                })
            } else {
                Err(StoreError::IdempotencyConflict {
                    key: key.clone(),
                    existing: stored.id().clone(),
                })
            };
        }
        let duplicate = || StoreError::DuplicateInvoice {
            id: invoice.id().clone(),
        };
        let existing = InvoiceRow::load(&tx, schema, Lookup::Id(invoice.id().as_str()))
            .map_err(|e| self.db(e))?
            .ok_or_else(duplicate)?;
        let stored = self.decode_v2(existing)?;
        if stored == *invoice {
            Ok(Stored {
                invoice: stored,
                outcome: Outcome::Replayed,
            })
        } else {
            Err(duplicate())
        }
    }

    /// Reads an invoice through billing v1, or `None` when there is none with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::NeedsV2`] when the invoice is in another currency than
    /// [`StoreOptions::legacy_currency`] or its lines have different tax rates;
    /// [`StoreError::Corrupt`] and [`StoreError::Database`].
    pub fn get_v1(&self, id: &InvoiceId) -> Result<Option<v1::Invoice>, StoreError> {
        let Some(row) = self.load(Lookup::Id(id.as_str()))? else {
            return Ok(None);
        };
        match row.to_v1(self.options.legacy_currency) {
            Ok(invoice) => Ok(Some(invoice)),
            Err(DecodeError::NeedsV2(reason)) => Err(StoreError::NeedsV2 {
                id: id.clone(),
                reason,
            }),
            Err(DecodeError::Corrupt(detail)) => Err(self.corrupt(row.id, detail)),
        }
    }

    /// Reads an invoice through billing v2, or `None` when there is none with this id.
    ///
    /// An invoice written through v1 reads with these defaults: currency
    /// [`StoreOptions::legacy_currency`], the flat rate on every line, the tax breakdown
    /// derived from the lines (one band), and idempotency key `v1:{id}`
    /// ([`shared::billing::bridge::idempotency_key_for`]), since v1 records none.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] and [`StoreError::Database`].
    pub fn get_v2(&self, id: &InvoiceId) -> Result<Option<v2::Invoice>, StoreError> {
        self.load(Lookup::Id(id.as_str()))?
            .map(|row| self.decode_v2(row))
            .transpose()
    }

    /// Reads, through billing v2, the invoice created with idempotency key `key`, or `None`.
    /// Invoices written through v1 have no stored key and are not found here.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] and [`StoreError::Database`].
    pub fn get_v2_by_idempotency_key(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<v2::Invoice>, StoreError> {
        self.load(Lookup::IdempotencyKey(key.as_str()))?
            .map(|row| self.decode_v2(row))
            .transpose()
    }

    /// How many invoices are stored.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub fn count(&self) -> Result<u64, StoreError> {
        self.lock()
            .conn
            .query_row("SELECT count(*) FROM invoices", [], |row| row.get(0))
            .map_err(|e| self.db(e))
    }

    /// Checks that the database takes writes now, with a write that reaches the file: in an
    /// immediate transaction it writes the database header's `user_version` back unchanged, and
    /// commits. The store does not use `user_version` otherwise, so the check changes no data.
    ///
    /// Taking the write lock is not proof: on read-only storage where the `-wal` and `-shm`
    /// files already exist, SQLite grants `BEGIN IMMEDIATE` and fails only the commit. This
    /// check fails on a read-only database, directory or file system (also one the kernel turned
    /// read-only under the open file), and when another connection holds the write lock past
    /// the busy timeout. A full disk shows only when the commit needs new space.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotWritable`] naming the file, SQLite's reason and, when it refuses, the
    /// file system's.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        let written = write_back_user_version(&mut self.lock().conn);
        written.map_err(|source| StoreError::NotWritable {
            file_system: self.file_system_refusal(&source),
            path: self.path.clone(),
            source,
        })
    }

    /// Why the file system refuses to open the database file for writing, when it does and the
    /// failure `source` was not a lock conflict. Opening for writing creates, truncates and
    /// writes nothing.
    fn file_system_refusal(&self, source: &rusqlite::Error) -> Option<std::io::Error> {
        let file = self.file.as_deref()?;
        if is_busy(source) {
            return None;
        }
        std::fs::OpenOptions::new().write(true).open(file).err()
    }

    fn load(&self, lookup: Lookup<'_>) -> Result<Option<InvoiceRow>, StoreError> {
        let mut inner = self.lock();
        let schema = inner.schema();
        // One read transaction, so the header and lines come from one snapshot.
        let tx = inner.conn.transaction().map_err(|e| self.db(e))?;
        let row = InvoiceRow::load(&tx, schema, lookup).map_err(|e| self.db(e))?;
        tx.commit().map_err(|e| self.db(e))?;
        Ok(row)
    }

    /// Inserts `row` (and `notice`, if any) in an immediate transaction and commits it. When an
    /// invoice with its id or idempotency key already exists, nothing is written and the
    /// still-open transaction is returned, so the caller reads the existing invoice under the
    /// same write lock.
    fn insert_new<'c>(
        &self,
        conn: &'c mut Connection,
        schema: Schema,
        row: &InvoiceRow,
        notice: Option<&NewNotice>,
    ) -> Result<Option<Transaction<'c>>, StoreError> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.db(e))?;
        if row.insert(&tx, schema).map_err(|e| self.db(e))? {
            if let Some(notice) = notice {
                notice.insert(&tx).map_err(|e| self.db(e))?;
            }
            tx.commit().map_err(|e| self.db(e))?;
            return Ok(None);
        }
        Ok(Some(tx))
    }

    fn decode_v2(&self, row: InvoiceRow) -> Result<v2::Invoice, StoreError> {
        row.to_v2(self.options.legacy_currency)
            .map_err(|error| match error {
                DecodeError::Corrupt(detail) => self.corrupt(row.id.clone(), detail),
                // v2 can express every row; keep the reason rather than lose it.
                DecodeError::NeedsV2(reason) => self.corrupt(row.id.clone(), reason.to_string()),
            })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while the lock was held cannot leave a half-done write: an open rusqlite
        // transaction rolls back when it is dropped during unwinding. The connection is
        // therefore still consistent, and the poison flag can be ignored.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn db(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Database {
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, id: String, detail: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            id,
            detail,
        }
    }
}

/// Writes `user_version` back unchanged in an immediate transaction and commits it.
fn write_back_user_version(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    tx.pragma_update(None, "user_version", version)?;
    tx.commit()
}

/// Runs `op` until it succeeds, fails with anything but a lock conflict, or `deadline` passes.
fn retry_busy<T>(
    deadline: Instant,
    mut op: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    loop {
        match op() {
            Err(err) if is_busy(&err) && Instant::now() < deadline => busy_pause(),
            result => return result,
        }
    }
}

/// Whether SQLite refused `err` because another connection held a lock.
pub(crate) fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// A short wait between two tries at a lock, varied so that openers started together spread
/// out instead of colliding again.
fn busy_pause() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::thread::sleep(Duration::from_millis(2 + u64::from(nanos % 15)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{id, key, v1_invoice, v2_invoice};

    fn store() -> Store {
        Store::open_in_memory().unwrap()
    }

    #[test]
    fn the_store_and_its_errors_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Store>();
        assert_send_sync::<StoreError>();
    }

    #[test]
    fn a_new_store_is_at_the_last_expand_version_with_default_options() {
        let store = store();
        assert_eq!(store.schema_version(), 4);
        assert!(!store.contracted());
        assert_eq!(store.path(), ":memory:");
        assert_eq!(store.options(), &StoreOptions::default());
        assert_eq!(store.options().legacy_currency, Currency::EUR);
        assert_eq!(store.count().unwrap(), 0);
    }

    #[test]
    fn a_v1_create_is_stored_once_and_replays_when_identical() {
        let store = store();
        let invoice = v1_invoice("inv-1", 1900);
        let first = store.create_v1(&invoice).unwrap();
        assert_eq!(first.outcome, Outcome::Created);
        assert_eq!(first.invoice, invoice);
        let again = store.create_v1(&invoice).unwrap();
        assert_eq!(again.outcome, Outcome::Replayed);
        assert_eq!(again.invoice, invoice);
        assert_eq!(store.count().unwrap(), 1);
        assert_eq!(store.get_v1(&id("inv-1")).unwrap(), Some(invoice));
        assert_eq!(store.get_v1(&id("missing")).unwrap(), None);
        assert_eq!(store.get_v2(&id("missing")).unwrap(), None);
    }

    #[test]
    fn a_v1_create_with_a_taken_id_and_other_contents_is_a_duplicate() {
        let store = store();
        store.create_v1(&v1_invoice("inv-1", 1900)).unwrap();
        let err = store.create_v1(&v1_invoice("inv-1", 700)).unwrap_err();
        assert!(matches!(&err, StoreError::DuplicateInvoice { id } if id.as_str() == "inv-1"));
        assert_eq!(
            err.to_string(),
            "invoice inv-1 already exists with different contents"
        );
        // An id taken by an invoice v1 cannot express is a duplicate too, not a NeedsV2.
        store
            .create_v2(&v2_invoice("inv-2", "k", Currency::USD, &[1900]))
            .unwrap();
        assert!(matches!(
            store.create_v1(&v1_invoice("inv-2", 1900)),
            Err(StoreError::DuplicateInvoice { .. })
        ));
    }

    #[test]
    fn a_v2_create_replays_for_its_key_and_conflicts_for_another_body() {
        let store = store();
        let invoice = v2_invoice("inv-1", "key-1", Currency::USD, &[700, 1900]);
        assert_eq!(store.create_v2(&invoice).unwrap().outcome, Outcome::Created);
        let again = store.create_v2(&invoice).unwrap();
        assert_eq!(again.outcome, Outcome::Replayed);
        assert_eq!(again.invoice, invoice);
        assert_eq!(
            store.get_v2_by_idempotency_key(&key("key-1")).unwrap(),
            Some(invoice.clone())
        );
        assert_eq!(
            store.get_v2_by_idempotency_key(&key("other")).unwrap(),
            None
        );

        // Same key, other body (here another id): a conflict naming the first invoice.
        let other = v2_invoice("inv-9", "key-1", Currency::USD, &[700]);
        let err = store.create_v2(&other).unwrap_err();
        assert!(matches!(
            &err,
            StoreError::IdempotencyConflict { existing, .. } if existing.as_str() == "inv-1"
        ));
        assert_eq!(
            err.to_string(),
            "idempotency key key-1 was already used for invoice inv-1 with a different request"
        );
        // Another key for a taken id.
        let err = store
            .create_v2(&v2_invoice("inv-1", "key-2", Currency::USD, &[700, 1900]))
            .unwrap_err();
        assert!(matches!(err, StoreError::DuplicateInvoice { .. }), "{err}");
        assert_eq!(store.count().unwrap(), 1);
    }

    #[test]
    fn a_v1_invoice_replays_through_v2_under_its_derived_key() {
        let store = store();
        let invoice = v1_invoice("inv-1", 1900);
        store.create_v1(&invoice).unwrap();
        let as_v2 = store.get_v2(&id("inv-1")).unwrap().unwrap();
        assert_eq!(as_v2.idempotency_key().as_str(), "v1:inv-1");
        let replay = store.create_v2(&as_v2).unwrap();
        assert_eq!(replay.outcome, Outcome::Replayed);
        assert_eq!(replay.invoice, as_v2);
        // v1 rows have no stored key, so a lookup by the derived key finds nothing.
        assert_eq!(
            store.get_v2_by_idempotency_key(&key("v1:inv-1")).unwrap(),
            None
        );
    }

    #[test]
    fn reading_through_v1_what_needs_v2_names_the_invoice_and_the_reason() {
        let store = store();
        store
            .create_v2(&v2_invoice("inv-usd", "k1", Currency::USD, &[1900]))
            .unwrap();
        store
            .create_v2(&v2_invoice("inv-mixed", "k2", Currency::EUR, &[700, 1900]))
            .unwrap();
        let err = store.get_v1(&id("inv-usd")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invoice inv-usd needs billing v2: it is in USD, and v1 only knows EUR"
        );
        let err = store.get_v1(&id("inv-mixed")).unwrap_err();
        assert!(matches!(&err, StoreError::NeedsV2 { id, .. } if id.as_str() == "inv-mixed"));
        assert_eq!(
            err.to_string(),
            "invoice inv-mixed needs billing v2: its lines are taxed at 2 different rates, and \
             v1 has one flat rate"
        );
    }

    #[test]
    fn a_configured_legacy_currency_governs_both_directions() {
        let options = StoreOptions {
            legacy_currency: Currency::GBP,
            ..StoreOptions::default()
        };
        let store = Store::open_in_memory_with(&options).unwrap();
        store.create_v1(&v1_invoice("inv-1", 1900)).unwrap();
        assert_eq!(
            store.get_v2(&id("inv-1")).unwrap().unwrap().currency(),
            Currency::GBP
        );
        store
            .create_v2(&v2_invoice("inv-2", "k", Currency::GBP, &[1900]))
            .unwrap();
        assert!(store.get_v1(&id("inv-2")).unwrap().is_some());
        store
            .create_v2(&v2_invoice("inv-3", "k3", Currency::EUR, &[1900]))
            .unwrap();
        assert!(matches!(
            store.get_v1(&id("inv-3")),
            Err(StoreError::NeedsV2 { .. })
        ));
    }

    #[test]
    fn the_contract_migration_keeps_every_invoice_readable_and_v1_writable() {
        let store = store();
        let v1 = v1_invoice("inv-1", 1900);
        let v2 = v2_invoice("inv-2", "k", Currency::USD, &[700, 1900]);
        store.create_v1(&v1).unwrap();
        store.create_v2(&v2).unwrap();
        let v1_as_v2 = store.get_v2(&id("inv-1")).unwrap().unwrap();

        assert_eq!(store.apply_contract_migration().unwrap(), 4);
        assert_eq!(store.schema_version(), 4);
        assert!(store.contracted());
        assert_eq!(store.apply_contract_migration().unwrap(), 4);

        assert_eq!(store.get_v1(&id("inv-1")).unwrap(), Some(v1.clone()));
        assert_eq!(store.get_v2(&id("inv-1")).unwrap(), Some(v1_as_v2));
        assert_eq!(store.get_v2(&id("inv-2")).unwrap(), Some(v2.clone()));
        assert_eq!(store.create_v1(&v1).unwrap().outcome, Outcome::Replayed);
        assert_eq!(store.create_v2(&v2).unwrap().outcome, Outcome::Replayed);

        let late = v1_invoice("inv-3", 700);
        assert_eq!(store.create_v1(&late).unwrap().outcome, Outcome::Created);
        assert_eq!(store.get_v1(&id("inv-3")).unwrap(), Some(late));
        let late_v2 = v2_invoice("inv-4", "k4", Currency::EUR, &[1900]);
        assert_eq!(store.create_v2(&late_v2).unwrap().outcome, Outcome::Created);
        assert_eq!(
            store
                .get_v1(&id("inv-4"))
                .unwrap()
                .unwrap()
                .tax_rate()
                .basis_points(),
            1900
        );
    }

    #[test]
    fn a_corrupt_row_is_reported_naming_the_file_and_invoice() {
        let store = store();
        store.create_v1(&v1_invoice("inv-1", 1900)).unwrap();
        store
            .lock()
            .conn
            .execute("UPDATE invoices SET total = total + 1", [])
            .unwrap();
        for err in [
            store.get_v1(&id("inv-1")).unwrap_err(),
            store.get_v2(&id("inv-1")).unwrap_err(),
            store.create_v1(&v1_invoice("inv-1", 1900)).unwrap_err(),
        ] {
            assert!(
                err.to_string().starts_with(
                    "invoice inv-1 in invoice store :memory: is corrupt: stored totals"
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn database_errors_name_the_file() {
        let store = store();
        store
            .lock()
            .conn
            .execute_batch("DROP TABLE invoice_lines; DROP TABLE invoices;")
            .unwrap();
        let err = store.count().unwrap_err();
        assert!(matches!(err, StoreError::Database { .. }));
        assert_eq!(
            err.to_string(),
            "query on invoice store :memory: failed: no such table: invoices"
        );
        assert!(matches!(
            store.create_v1(&v1_invoice("inv-1", 1900)),
            Err(StoreError::Database { .. })
        ));
    }

    #[test]
    fn open_creates_parent_directories_and_uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/gateway.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.path(), path.display().to_string());
        let inner = store.lock();
        let mode: String = inner
            .conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        let synchronous: i64 = inner
            .conn
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .unwrap();
        let foreign_keys: i64 = inner
            .conn
            .query_row("PRAGMA foreign_keys", [], |row| row.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), synchronous, foreign_keys), ("wal", 1, 1));
    }

    #[test]
    fn synchronous_full_is_applied_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            synchronous: Synchronous::Full,
            ..StoreOptions::default()
        };
        let store = Store::open_with(dir.path().join("db"), &options).unwrap();
        let synchronous: i64 = store
            .lock()
            .conn
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .unwrap();
        assert_eq!(synchronous, 2);
    }

    #[test]
    fn open_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"not a directory").unwrap();
        let err = Store::open(file.join("gateway.db")).unwrap_err();
        assert!(matches!(err, StoreError::CreateDir { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("cannot create directory {} ", file.display())),
            "{err}"
        );

        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Open { .. }), "{err}");
        assert!(
            err.to_string().starts_with(&format!(
                "cannot open invoice store {}: ",
                dir.path().display()
            )),
            "{err}"
        );

        std::fs::write(dir.path().join("garbage.db"), vec![7u8; 4096]).unwrap();
        let err = Store::open(dir.path().join("garbage.db")).unwrap_err();
        assert!(matches!(err, StoreError::Open { .. }), "{err}");
    }
}
