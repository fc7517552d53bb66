//! The persisted rollout state, the operator's command queue and the controller lock, in SQLite.
//!
//! Every transition is committed (WAL, `synchronous = FULL`) before the action it describes is
//! taken, so a controller killed at any point finds on restart what it was about to do, and redoes
//! only that. Operator commands (`pause`, `resume`, `promote`, `abort`) are queued in the same
//! database, which lets them reach a controller running in another process without racing its
//! writes. One controller at a time holds an exclusive lock on `STATE.lock`.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::fleet::Converged;

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// SQLite failed.
    #[error("state database {file}: {source}")]
    Db {
        /// The database file.
        file: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The stored state is not what this version writes.
    #[error("state database {file}: stored state is unreadable: {source}")]
    Decode {
        /// The database file.
        file: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// The state belongs to another rollout (other fragment, rule, steps or instances).
    #[error(
        "state database {file} belongs to another rollout (spec identity {stored}, this spec {current}); use another `controller.state` or remove it"
    )]
    OtherRollout {
        /// The database file.
        file: PathBuf,
        /// The stored identity.
        stored: String,
        /// This spec's identity.
        current: String,
    },
    /// The state file's directory could not be created.
    #[error("cannot create the directory of state database {file}: {source}")]
    CreateDir {
        /// The database file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The lock file could not be opened.
    #[error("lock file {file}: {source}")]
    Lock {
        /// The lock file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Where a rollout is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Nothing applied yet.
    Ready,
    /// Step `step`'s percent is being written, reloaded and verified; instances may serve
    /// different percents until it is done.
    Applying {
        /// The step index.
        step: usize,
    },
    /// Step `step` is applied on every instance and being analysed.
    Analysing {
        /// The step index.
        step: usize,
    },
    /// Traffic is being taken back to v1 (percent 0).
    RollingBack {
        /// How the rollout ends once done.
        end: End,
    },
    /// Done: every step passed, the rule is at 100%.
    Succeeded,
    /// Done: rolled back to 0% after failed checks or a failed step.
    RolledBack,
    /// Done: aborted (operator, deadline or inconclusive limit) and taken back to 0%.
    Aborted,
    /// Stopped without finishing a rollback: instances could not be verified. Needs a person.
    Stopped,
}

impl Phase {
    /// Whether the rollout is over.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::RolledBack | Self::Aborted | Self::Stopped
        )
    }

    /// A short name: `ready`, `applying`, `analysing`, `rolling_back`, `succeeded`, …
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Applying { .. } => "applying",
            Self::Analysing { .. } => "analysing",
            Self::RollingBack { .. } => "rolling_back",
            Self::Succeeded => "succeeded",
            Self::RolledBack => "rolled_back",
            Self::Aborted => "aborted",
            Self::Stopped => "stopped",
        }
    }
}

/// How a rollback ends the rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// Checks failed or a step could not be applied.
    RolledBack,
    /// An operator, the deadline or the inconclusive limit stopped it.
    Aborted,
}

/// A step that was applied and verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedStep {
    /// The step index.
    pub step: usize,
    /// Its percent.
    pub percent: u8,
    /// When every instance was verified, in Unix milliseconds.
    pub at_ms: u64,
}

/// The whole persisted state of one rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The spec identity it belongs to.
    pub identity: String,
    /// Where the rollout is.
    #[serde(flatten)]
    pub phase: Phase,
    /// Whether an operator paused it (no analysis, no progress, the deadline stands still).
    pub paused: bool,
    /// When it was paused, in Unix milliseconds.
    pub paused_at_ms: Option<u64>,
    /// The percent every instance was last verified to serve.
    pub percent: u8,
    /// When the current step was verified on every instance (its analysis starts then).
    pub step_since_ms: Option<u64>,
    /// When the current step started to reach instances (just before its percent was written):
    /// what `rollout_rollback_seconds` is measured from.
    #[serde(default)]
    pub exposed_at_ms: Option<u64>,
    /// Where the next analysis window starts: the end of the window of the last counted pass
    /// (or failure), else the step's verification. Passes are counted only over windows that
    /// start here, so no two of them share a request.
    #[serde(default)]
    pub evidence_from_ms: Option<u64>,
    /// Passes of the current step, each from a window disjoint from the others; a failure
    /// resets it.
    pub passed: u32,
    /// Inconclusive analyses in the current step.
    pub inconclusive: u32,
    /// Failed analyses in the whole rollout.
    pub failures: u32,
    /// Verified steps, in order.
    pub applied: Vec<AppliedStep>,
    /// What every instance served at the last verification.
    pub instances: Vec<Converged>,
    /// Why the rollout is rolling back, rolled back, aborted or stopped.
    pub reason: Option<String>,
    /// When the failure that started the rollback was seen, in Unix milliseconds.
    pub failed_at_ms: Option<u64>,
}

impl State {
    /// A fresh state for a rollout of spec `identity` whose rule is at `percent`.
    pub fn new(identity: &str, percent: u8) -> State {
        State {
            identity: identity.to_owned(),
            phase: Phase::Ready,
            paused: false,
            paused_at_ms: None,
            percent,
            step_since_ms: None,
            exposed_at_ms: None,
            evidence_from_ms: None,
            passed: 0,
            inconclusive: 0,
            failures: 0,
            applied: Vec::new(),
            instances: Vec::new(),
            reason: None,
            failed_at_ms: None,
        }
    }
}

/// An operator command for the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Stop analysing and progressing; the deadline stands still.
    Pause,
    /// Continue after a pause.
    Resume,
    /// Skip the remaining analysis and go to 100%.
    Promote,
    /// Roll back to 0% and end as aborted.
    Abort,
}

impl Command {
    /// The command's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Promote => "promote",
            Self::Abort => "abort",
        }
    }

    fn parse(text: &str) -> Option<Command> {
        [Self::Pause, Self::Resume, Self::Promote, Self::Abort]
            .into_iter()
            .find(|c| c.as_str() == text)
    }
}

/// A queued command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// Its id.
    pub id: i64,
    /// The command.
    pub command: Command,
    /// The operator's reason, if given.
    pub reason: Option<String>,
}

/// The state database of one rollout.
#[derive(Debug)]
pub struct StateStore {
    connection: Connection,
    file: PathBuf,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl StateStore {
    /// Opens (creating when missing) the state database at `file`.
    pub fn open(file: &Path) -> Result<StateStore, StateError> {
        let db = |source| StateError::Db {
            file: file.to_owned(),
            source,
        };
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StateError::CreateDir {
                file: file.to_owned(),
                source,
            })?;
        }
        let connection = Connection::open(file).map_err(db)?;
        connection
            .execute_batch(
                "PRAGMA busy_timeout = 5000;
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 CREATE TABLE IF NOT EXISTS state (
                     id INTEGER PRIMARY KEY CHECK (id = 1),
                     doc TEXT NOT NULL,
                     updated_ms INTEGER NOT NULL
                 );
                 CREATE TABLE IF NOT EXISTS transitions (
                     seq INTEGER PRIMARY KEY AUTOINCREMENT,
                     at_ms INTEGER NOT NULL,
                     doc TEXT NOT NULL
                 );
                 CREATE TABLE IF NOT EXISTS commands (
                     id INTEGER PRIMARY KEY AUTOINCREMENT,
                     command TEXT NOT NULL,
                     reason TEXT,
                     requested_ms INTEGER NOT NULL,
                     taken_ms INTEGER
                 );",
            )
            .map_err(db)?;
        Ok(StateStore {
            connection,
            file: file.to_owned(),
        })
    }

    fn db(&self, source: rusqlite::Error) -> StateError {
        StateError::Db {
            file: self.file.clone(),
            source,
        }
    }

    /// The stored state, if any; a state of another rollout is an error.
    pub fn load(&self, identity: &str) -> Result<Option<State>, StateError> {
        let doc: Option<String> = self
            .connection
            .query_row("SELECT doc FROM state WHERE id = 1", [], |row| row.get(0))
            .optional()
            .map_err(|e| self.db(e))?;
        let Some(doc) = doc else { return Ok(None) };
        let state: State = serde_json::from_str(&doc).map_err(|source| StateError::Decode {
            file: self.file.clone(),
            source,
        })?;
        if state.identity != identity {
            return Err(StateError::OtherRollout {
                file: self.file.clone(),
                stored: state.identity,
                current: identity.to_owned(),
            });
        }
        Ok(Some(state))
    }

    /// Commits `state` (and appends it to the transition history) before anything acts on it.
    pub fn save(&mut self, state: &State) -> Result<(), StateError> {
        let doc = serde_json::to_string(state).map_err(|source| StateError::Decode {
            file: self.file.clone(),
            source,
        })?;
        let now = i64::try_from(now_ms()).unwrap_or(i64::MAX);
        let file = self.file.clone();
        let db = |source| StateError::Db {
            file: file.clone(),
            source,
        };
        // Immediate: take the write lock at BEGIN (waiting for it), so a command queued by
        // another process meanwhile cannot make this transaction's snapshot stale.
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        transaction
            .execute(
                "INSERT INTO state (id, doc, updated_ms) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, updated_ms = excluded.updated_ms",
                params![doc, now],
            )
            .and_then(|_| {
                transaction.execute(
                    "INSERT INTO transitions (at_ms, doc) VALUES (?1, ?2)",
                    params![now, doc],
                )
            })
            .map_err(db)?;
        transaction.commit().map_err(db)
    }

    /// Every saved state, oldest first.
    pub fn history(&self) -> Result<Vec<State>, StateError> {
        let mut statement = self
            .connection
            .prepare("SELECT doc FROM transitions ORDER BY seq")
            .map_err(|e| self.db(e))?;
        let docs = statement
            .query_map([], |row| row.get::<_, String>(0))
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| self.db(e))?;
        docs.iter()
            .map(|doc| {
                serde_json::from_str(doc).map_err(|source| StateError::Decode {
                    file: self.file.clone(),
                    source,
                })
            })
            .collect()
    }

    /// Queues a command for the controller; returns its id.
    pub fn enqueue(&self, command: Command, reason: Option<&str>) -> Result<i64, StateError> {
        self.connection
            .execute(
                "INSERT INTO commands (command, reason, requested_ms) VALUES (?1, ?2, ?3)",
                params![
                    command.as_str(),
                    reason,
                    i64::try_from(now_ms()).unwrap_or(i64::MAX)
                ],
            )
            .map_err(|e| self.db(e))?;
        Ok(self.connection.last_insert_rowid())
    }

    /// Takes every queued command, oldest first, marking them taken.
    pub fn take_commands(&mut self) -> Result<Vec<Queued>, StateError> {
        let file = self.file.clone();
        let db = |source| StateError::Db {
            file: file.clone(),
            source,
        };
        // Immediate, as in `save`: a deferred transaction that reads and then writes fails at
        // once (SQLITE_BUSY_SNAPSHOT) when `rollout pause` queues a command in between.
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let rows = {
            let mut statement = transaction
                .prepare(
                    "SELECT id, command, reason FROM commands WHERE taken_ms IS NULL ORDER BY id",
                )
                .map_err(db)?;
            statement
                .query_map([], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<String>>(2)?,
                    ))
                })
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(db)?
        };
        transaction
            .execute(
                "UPDATE commands SET taken_ms = ?1 WHERE taken_ms IS NULL",
                params![i64::try_from(now_ms()).unwrap_or(i64::MAX)],
            )
            .map_err(db)?;
        transaction.commit().map_err(db)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, command, reason)| {
                Command::parse(&command).map(|command| Queued {
                    id,
                    command,
                    reason,
                })
            })
            .collect())
    }

    /// Whether command `id` has been taken by a controller.
    pub fn taken(&self, id: i64) -> Result<bool, StateError> {
        self.connection
            .query_row(
                "SELECT taken_ms IS NOT NULL FROM commands WHERE id = ?1",
                params![id],
                |row| row.get(0),
            )
            .map_err(|e| self.db(e))
    }
}

/// The exclusive lock of the one controller acting on a rollout; released when dropped (or when
/// the process dies, however it dies).
#[derive(Debug)]
pub struct ControllerLock {
    _file: File,
}

impl ControllerLock {
    /// Takes the lock beside `state_file`, or returns `None` when another process holds it.
    pub fn try_acquire(state_file: &Path) -> Result<Option<ControllerLock>, StateError> {
        let path = lock_path(state_file);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StateError::Lock {
                file: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Some(ControllerLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(source)) => Err(StateError::Lock { file: path, source }),
        }
    }
}

/// `STATE.lock` for state file `STATE`.
pub(crate) fn lock_path(state_file: &Path) -> PathBuf {
    let mut name = state_file.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_keeps_its_history() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.state.db");
        let mut store = StateStore::open(&file).unwrap();
        assert_eq!(store.load("id").unwrap(), None);
        let mut state = State::new("id", 0);
        store.save(&state).unwrap();
        state.phase = Phase::Applying { step: 0 };
        store.save(&state).unwrap();
        drop(store);
        let store = StateStore::open(&file).unwrap();
        assert_eq!(store.load("id").unwrap(), Some(state));
        let phases: Vec<_> = store
            .history()
            .unwrap()
            .iter()
            .map(|s| s.phase.name())
            .collect();
        assert_eq!(phases, ["ready", "applying"]);
    }

    #[test]
    fn a_state_of_another_rollout_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.state.db");
        let mut store = StateStore::open(&file).unwrap();
        store.save(&State::new("one", 0)).unwrap();
        let error = store.load("two").unwrap_err().to_string();
        assert!(
            error.contains("r.state.db belongs to another rollout"),
            "{error}"
        );
    }

    #[test]
    fn commands_are_taken_once_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = StateStore::open(&dir.path().join("s.db")).unwrap();
        let pause = store.enqueue(Command::Pause, None).unwrap();
        store.enqueue(Command::Abort, Some("bad numbers")).unwrap();
        assert!(!store.taken(pause).unwrap());
        let taken = store.take_commands().unwrap();
        assert_eq!(
            taken
                .iter()
                .map(|q| (q.command, q.reason.as_deref()))
                .collect::<Vec<_>>(),
            [
                (Command::Pause, None),
                (Command::Abort, Some("bad numbers"))
            ]
        );
        assert!(store.taken(pause).unwrap());
        assert!(store.take_commands().unwrap().is_empty());
    }

    #[test]
    fn taking_commands_waits_for_a_command_being_queued_by_another_process() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.db");
        let mut store = StateStore::open(&file).unwrap();
        store.enqueue(Command::Pause, None).unwrap();
        let (started, wait) = std::sync::mpsc::channel();
        let writer_file = file.clone();
        let writer = std::thread::spawn(move || {
            // Another process queueing a command, slowly: it holds the write lock a while.
            let other = Connection::open(&writer_file).unwrap();
            other.execute_batch("BEGIN IMMEDIATE").unwrap();
            other
                .execute(
                    "INSERT INTO commands (command, requested_ms) VALUES ('abort', 0)",
                    [],
                )
                .unwrap();
            started.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
            other.execute_batch("COMMIT").unwrap();
        });
        wait.recv().unwrap();
        let taken: Vec<Command> = store
            .take_commands()
            .unwrap()
            .into_iter()
            .map(|q| q.command)
            .collect();
        writer.join().unwrap();
        assert_eq!(taken, [Command::Pause, Command::Abort]);
    }

    #[test]
    fn only_one_controller_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.db");
        let first = ControllerLock::try_acquire(&file).unwrap();
        assert!(first.is_some());
        assert!(ControllerLock::try_acquire(&file).unwrap().is_none());
        drop(first);
        assert!(ControllerLock::try_acquire(&file).unwrap().is_some());
    }
}
