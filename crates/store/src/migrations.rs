//! Versioned, forward-only schema migrations embedded in the binary, and the runner that
//! applies them.
//!
//! [`MIGRATIONS`] lists every migration in order. Each is an [`Expand`](MigrationKind::Expand)
//! step (additive: code that predates it keeps working) or a [`Contract`](MigrationKind::Contract)
//! step (removes what older code needs). The runner applies pending migrations in one
//! `BEGIN IMMEDIATE` transaction, so two processes opening the same file never migrate twice and
//! a failure leaves the schema untouched, and records each in `schema_migrations`
//! (`version`, `name`, `kind`, `applied_at`).
//!
//! | version | name | kind |
//! |---|---|---|
//! | 1 | `billing_v1_schema` | expand: invoices with one implicit currency and a flat tax rate |
//! | 2 | [`EXPAND_BILLING_V2`] | expand: nullable `currency`, `idempotency_key` (unique), `tax_breakdown`, per-line `tax_rate_bp` |
//! | 3 | [`CONTRACT_BILLING_V2`] | contract: backfills the v1 defaults, drops `invoices.tax_rate_bp` |
//! | 4 | [`EXPAND_NOTIFICATION_OUTBOX`] | expand: the `notification_outbox` table |
//!
//! Opening a store applies every pending *expand* step and skips pending contract steps; a
//! contract step runs only when asked ([`Store::apply_contract_migration`](crate::Store::apply_contract_migration)),
//! in the retire stage of an upgrade to billing v2. So an expand step may come after a contract
//! step that a database has not run yet: a database at `{1, 2}` opens as `{1, 2, 4}`, and its
//! contract step may run later, giving `{1, 2, 4, 3}` in the order applied. The recorded
//! versions may therefore leave out contract steps, never expand steps: every expand step below
//! the highest recorded version must be recorded, and each recorded version must carry this
//! binary's name. A contract step must therefore only touch what the expand steps before it
//! created, since it may run after later ones.
//!
//! The crate's `Cargo.toml` repeats both names under `[package.metadata.migrations]`, so tools
//! that read `cargo metadata` (the upgrade planner) can name them without compiling this crate.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use shared::domain::Currency;

use crate::StoreError;

/// Whether a migration only adds to the schema or takes something away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MigrationKind {
    /// Additive: code written against the previous schema keeps working.
    Expand,
    /// Removes columns or tables older code needs; applied only when asked.
    Contract,
}

impl MigrationKind {
    /// `expand` or `contract`, as recorded in `schema_migrations`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expand => "expand",
            Self::Contract => "contract",
        }
    }
}

/// One schema migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Its version: migrations run in ascending version order, from 1, without gaps.
    pub version: u32,
    /// Its name, recorded in `schema_migrations` and checked on every open.
    pub name: &'static str,
    /// Expand or contract.
    pub kind: MigrationKind,
    /// The SQL, run as one batch inside the migration transaction.
    pub sql: &'static str,
}

/// The name of the expand migration that adds billing v2's columns. An upgrade plan's expand
/// stage names it; opening a store applies it.
pub const EXPAND_BILLING_V2: &str = "billing_v2_expand";

/// The name of the contract migration that retires billing v1's columns. An upgrade plan's
/// retire stage names it; [`Store::apply_contract_migration`](crate::Store::apply_contract_migration)
/// applies it.
pub const CONTRACT_BILLING_V2: &str = "billing_v2_contract";

/// The name of the expand migration that adds the transactional outbox of invoice notices.
pub const EXPAND_NOTIFICATION_OUTBOX: &str = "notification_outbox";

/// Every migration this binary knows, in version order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "billing_v1_schema",
        kind: MigrationKind::Expand,
        sql: include_str!("migrations/0001_billing_v1_schema.sql"),
    },
    Migration {
        version: 2,
        name: EXPAND_BILLING_V2,
        kind: MigrationKind::Expand,
        sql: include_str!("migrations/0002_billing_v2_expand.sql"),
    },
    Migration {
        version: 3,
        name: CONTRACT_BILLING_V2,
        kind: MigrationKind::Contract,
        sql: include_str!("migrations/0003_billing_v2_contract.sql"),
    },
    Migration {
        version: 4,
        name: EXPAND_NOTIFICATION_OUTBOX,
        kind: MigrationKind::Expand,
        sql: include_str!("migrations/0004_notification_outbox.sql"),
    },
];

/// The highest version this binary knows.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |migration| migration.version)
}

/// How far [`migrate`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Every pending expand migration; pending contract migrations are skipped. This is what
    /// opening a store does.
    Expand,
    /// Every pending migration up to and including this version, contract steps included.
    Through(u32),
}

/// Applies pending migrations to `conn` up to `target`, in one immediate transaction, and
/// returns the highest version recorded afterwards (a contract step below it may still be
/// pending; see [`is_applied`]).
///
/// `path` names the database in errors. `legacy_currency` is the currency rows written through
/// billing v1 are in; the contract migration backfills it into their `currency` column.
///
/// # Errors
///
/// [`StoreError::SchemaTooNew`] when the database records a version above
/// [`latest_version`], [`StoreError::MigrationMismatch`] when recorded migrations differ from
/// [`MIGRATIONS`], [`StoreError::Migration`] when a migration's SQL fails (nothing is applied),
/// and [`StoreError::Database`] when the bookkeeping queries fail.
pub fn migrate(
    conn: &mut Connection,
    path: &str,
    target: Target,
    legacy_currency: Currency,
) -> Result<u32, StoreError> {
    let db = |source| StoreError::Database {
        path: path.to_owned(),
        source,
    };
    // The temporary table carries the configured currency into the contract migration's SQL,
    // so migrations stay plain data. It lives only in this connection and never reaches disk.
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS store_settings (legacy_currency TEXT NOT NULL);
         DELETE FROM temp.store_settings;",
    )
    .map_err(db)?;
    conn.execute(
        "INSERT INTO temp.store_settings (legacy_currency) VALUES (?1)",
        [legacy_currency.as_str()],
    )
    .map_err(db)?;

    // Immediate: take the write lock before reading the recorded version, so a second process
    // opening the same file waits (busy timeout) and then sees the migrations already applied.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER NOT NULL PRIMARY KEY,
             name       TEXT    NOT NULL,
             kind       TEXT    NOT NULL,
             applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         ) STRICT;",
    )
    .map_err(db)?;
    let recorded = check_recorded(&tx, path)?;

    let mut reached = recorded.last().copied().unwrap_or(0);
    let pending = MIGRATIONS
        .iter()
        .filter(|m| recorded.binary_search(&m.version).is_err());
    for migration in pending {
        let wanted = match target {
            Target::Expand => migration.kind == MigrationKind::Expand,
            Target::Through(version) => migration.version <= version,
        };
        if !wanted {
            continue;
        }
        let failed = |source| StoreError::Migration {
            path: path.to_owned(),
            version: migration.version,
            name: migration.name,
            source,
        };
        tx.execute_batch(migration.sql).map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, kind) VALUES (?1, ?2, ?3)",
            (migration.version, migration.name, migration.kind.as_str()),
        )
        .map_err(failed)?;
        reached = reached.max(migration.version);
    }
    tx.commit().map_err(db)?;
    Ok(reached)
}

/// The schema version recorded in the database: the highest recorded migration, 0 for a new
/// database. A contract step below it may still be pending; see [`applied_versions`].
///
/// # Errors
///
/// As [`migrate`], except that nothing is applied.
pub fn recorded_version(conn: &Connection, path: &str) -> Result<u32, StoreError> {
    Ok(applied_versions(conn, path)?.last().copied().unwrap_or(0))
}

/// The migrations recorded in the database, in ascending order (empty for a new database),
/// after checking them against [`MIGRATIONS`].
///
/// # Errors
///
/// As [`migrate`], except that nothing is applied.
pub fn applied_versions(conn: &Connection, path: &str) -> Result<Vec<u32>, StoreError> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(|source| StoreError::Database {
            path: path.to_owned(),
            source,
        })?;
    match exists {
        Some(_) => check_recorded(conn, path),
        None => Ok(Vec::new()),
    }
}

/// Checks the recorded migrations against [`MIGRATIONS`] and returns the recorded versions in
/// ascending order.
fn check_recorded(conn: &Connection, path: &str) -> Result<Vec<u32>, StoreError> {
    let db = |source| StoreError::Database {
        path: path.to_owned(),
        source,
    };
    let mut statement = conn
        .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
        .map_err(db)?;
    let recorded = statement
        .query_map([], |row| {
            Ok((row.get::<_, u32>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;

    let known = latest_version();
    if let Some(&(found, _)) = recorded.last()
        && found > known
    {
        return Err(StoreError::SchemaTooNew {
            path: path.to_owned(),
            found,
            known,
        });
    }
    // Forward-only: each recorded version carries this binary's name, and every expand step
    // below the highest recorded version is recorded. Only contract steps may be missing.
    let highest = recorded.last().map_or(0, |&(version, _)| version);
    let mut applied = Vec::with_capacity(recorded.len());
    let mut recorded = recorded.into_iter().peekable();
    for migration in MIGRATIONS.iter().take_while(|m| m.version <= highest) {
        match recorded.peek() {
            Some((version, name)) if *version == migration.version => {
                if name != migration.name {
                    return Err(StoreError::MigrationMismatch {
                        path: path.to_owned(),
                        version: migration.version,
                        found: name.clone(),
                        expected: migration.name,
                    });
                }
                applied.push(migration.version);
                recorded.next();
            }
            // A contract step not run yet: opening skips it, and it may run later.
            _ if migration.kind == MigrationKind::Contract => {}
            _ => {
                return Err(StoreError::MigrationMismatch {
                    path: path.to_owned(),
                    version: migration.version,
                    found: String::new(),
                    expected: migration.name,
                });
            }
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::schema_rows;

    fn memory() -> Connection {
        Connection::open_in_memory().unwrap()
    }

    fn columns(conn: &Connection, table: &str) -> Vec<String> {
        conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn versions_start_at_one_and_have_no_gaps_or_duplicate_names() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version as usize, index + 1, "{}", migration.name);
        }
        let mut names: Vec<_> = MIGRATIONS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MIGRATIONS.len());
        assert_eq!(latest_version(), 4);
    }

    #[test]
    fn the_billing_v2_contract_is_the_only_contract_step() {
        let contracts: Vec<_> = MIGRATIONS
            .iter()
            .filter(|m| m.kind == MigrationKind::Contract)
            .map(|m| m.name)
            .collect();
        assert_eq!(contracts, [CONTRACT_BILLING_V2]);
    }

    #[test]
    fn the_manifest_metadata_names_the_billing_v2_migrations() {
        let manifest = include_str!("../Cargo.toml");
        let expected = format!(
            "billing = {{ v2 = {{ expand = \"{EXPAND_BILLING_V2}\", contract = \"{CONTRACT_BILLING_V2}\" }} }}"
        );
        assert!(manifest.contains(&expected), "{expected}");
        let kinds: Vec<_> = [EXPAND_BILLING_V2, CONTRACT_BILLING_V2]
            .iter()
            .map(|name| MIGRATIONS.iter().find(|m| m.name == *name).unwrap().kind)
            .collect();
        assert_eq!(kinds, [MigrationKind::Expand, MigrationKind::Contract]);
    }

    #[test]
    fn an_empty_database_gets_every_expand_step_and_skips_the_contract() {
        let mut conn = memory();
        assert_eq!(recorded_version(&conn, ":memory:").unwrap(), 0);
        assert!(applied_versions(&conn, ":memory:").unwrap().is_empty());
        let reached = migrate(&mut conn, ":memory:", Target::Expand, Currency::EUR).unwrap();
        assert_eq!(reached, 4);
        assert_eq!(
            schema_rows(&conn),
            [
                (1, "billing_v1_schema".into(), "expand".into()),
                (2, "billing_v2_expand".into(), "expand".into()),
                (4, "notification_outbox".into(), "expand".into()),
            ]
        );
        assert!(columns(&conn, "invoices").contains(&"tax_rate_bp".to_owned()));
        assert!(columns(&conn, "invoices").contains(&"currency".to_owned()));
        assert!(columns(&conn, "notification_outbox").contains(&"delivery_key".to_owned()));
        assert_eq!(recorded_version(&conn, ":memory:").unwrap(), 4);
        assert_eq!(applied_versions(&conn, ":memory:").unwrap(), [1, 2, 4]);
    }

    #[test]
    fn the_skipped_contract_step_runs_later_and_then_every_version_is_recorded() {
        let mut conn = memory();
        migrate(&mut conn, ":memory:", Target::Expand, Currency::EUR).unwrap();
        let reached = migrate(&mut conn, ":memory:", Target::Through(3), Currency::EUR).unwrap();
        assert_eq!(reached, 4);
        assert_eq!(applied_versions(&conn, ":memory:").unwrap(), [1, 2, 3, 4]);
        assert!(!columns(&conn, "invoices").contains(&"tax_rate_bp".to_owned()));
        assert_eq!(
            schema_rows(&conn)[2],
            (3, CONTRACT_BILLING_V2.into(), "contract".into())
        );
    }

    #[test]
    fn a_missing_expand_step_below_the_highest_is_refused_but_a_missing_contract_is_not() {
        let mut conn = memory();
        migrate(&mut conn, ":memory:", Target::Expand, Currency::EUR).unwrap();
        conn.execute("DELETE FROM schema_migrations WHERE version = 2", [])
            .unwrap();
        let err = applied_versions(&conn, "db").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invoice store db records migration 2 as \"\", but this binary expects \
             \"billing_v2_expand\""
        );
    }

    #[test]
    fn migrating_twice_applies_nothing_the_second_time() {
        let mut conn = memory();
        migrate(&mut conn, ":memory:", Target::Expand, Currency::EUR).unwrap();
        let reached = migrate(&mut conn, ":memory:", Target::Expand, Currency::EUR).unwrap();
        assert_eq!(reached, 4);
        assert_eq!(schema_rows(&conn).len(), 3);
    }

    #[test]
    fn through_a_version_stops_there_and_through_the_contract_drops_the_flat_rate() {
        let mut conn = memory();
        assert_eq!(
            migrate(&mut conn, ":memory:", Target::Through(1), Currency::EUR).unwrap(),
            1
        );
        assert!(!columns(&conn, "invoices").contains(&"currency".to_owned()));
        assert_eq!(
            migrate(&mut conn, ":memory:", Target::Through(3), Currency::EUR).unwrap(),
            3
        );
        assert!(!columns(&conn, "invoices").contains(&"tax_rate_bp".to_owned()));
        assert!(columns(&conn, "invoice_lines").contains(&"tax_rate_bp".to_owned()));
        assert_eq!(schema_rows(&conn)[2].2, "contract");
    }

    #[test]
    fn a_newer_database_is_refused_naming_both_versions() {
        let mut conn = memory();
        migrate(&mut conn, ":memory:", Target::Expand, Currency::EUR).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, name, kind) VALUES (9, 'future', 'expand')",
            [],
        )
        .unwrap();
        let err = migrate(&mut conn, "db.sqlite", Target::Expand, Currency::EUR).unwrap_err();
        assert!(matches!(
            err,
            StoreError::SchemaTooNew {
                found: 9,
                known: 4,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "invoice store db.sqlite is at schema version 9, but this binary knows versions up \
             to 4; run a newer binary"
        );
        assert!(matches!(
            recorded_version(&conn, "db.sqlite"),
            Err(StoreError::SchemaTooNew { .. })
        ));
    }

    #[test]
    fn a_renamed_or_missing_migration_is_refused() {
        let mut conn = memory();
        migrate(&mut conn, ":memory:", Target::Expand, Currency::EUR).unwrap();
        conn.execute(
            "UPDATE schema_migrations SET name = 'other' WHERE version = 2",
            [],
        )
        .unwrap();
        let err = migrate(&mut conn, "db", Target::Expand, Currency::EUR).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invoice store db records migration 2 as \"other\", but this binary expects \
             \"billing_v2_expand\""
        );
        conn.execute("DELETE FROM schema_migrations WHERE version = 1", [])
            .unwrap();
        let err = migrate(&mut conn, "db", Target::Expand, Currency::EUR).unwrap_err();
        assert!(matches!(
            err,
            StoreError::MigrationMismatch {
                version: 1,
                ref found,
                expected: "billing_v1_schema",
                ..
            } if found.is_empty()
        ));
    }

    #[test]
    fn a_failing_migration_rolls_back_everything_and_names_itself() {
        let mut conn = memory();
        // A table in the way makes migration 1's CREATE TABLE fail.
        conn.execute_batch("CREATE TABLE invoice_lines (x INTEGER)")
            .unwrap();
        let err = migrate(&mut conn, "db", Target::Expand, Currency::EUR).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Migration {
                    version: 1,
                    name: "billing_v1_schema",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("migration 1 (billing_v1_schema) failed on invoice store db: ")
        );
        assert_eq!(recorded_version(&conn, "db").unwrap(), 0);
        assert!(columns(&conn, "invoices").is_empty());
    }
}
