//! The invoice database's health: whether it takes writes (checked at start and by `/readyz`),
//! the bounded number of requests that may wait on it, and the answer when it cannot serve.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use tokio::sync::OwnedSemaphorePermit;

use crate::error::ApiError;
use crate::state::AppState;

/// Requests that may use the database at once. The store has one connection behind a mutex, so
/// more would only park blocking threads: this bound keeps a stuck disk from taking the whole
/// blocking pool.
pub(crate) const DATABASE_SLOTS: usize = 16;

/// How long a request waits for a database slot before it answers 503.
const SLOT_WAIT: Duration = Duration::from_secs(5);

/// Seconds a client should wait before retrying after `storage_unavailable`.
const RETRY_AFTER_SECS: u64 = 5;

/// The 503 answer when the database cannot serve.
pub(crate) fn unavailable() -> ApiError {
    ApiError::Unavailable {
        code: "storage_unavailable",
        message: "the invoice store is unavailable; retry later".to_owned(),
        retry_after_secs: RETRY_AFTER_SECS,
    }
}

/// One of the [`DATABASE_SLOTS`], or 503 `storage_unavailable` when none frees up in time.
pub(crate) async fn database_slot(state: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    let slots = std::sync::Arc::clone(&state.database_slots);
    match tokio::time::timeout(SLOT_WAIT, slots.acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => {
            tracing::warn!("no database slot freed up in time");
            Err(unavailable())
        }
    }
}

/// Checks that the database file opens for writing and that its directory takes a new file
/// (SQLite writes `-wal` and `-shm` files beside it). Blocking: call it off the async workers.
pub(crate) fn probe_writable(store: &store::Store) -> Result<(), String> {
    let path = Path::new(store.path());
    if store.path() == ":memory:" || store.path().is_empty() {
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|error| format!("the database {} is not writable: {error}", path.display()))?;
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let probe = dir.join(format!(".gateway-write-probe-{}", std::process::id()));
    let written = std::fs::File::create(&probe)
        .and_then(|mut file| file.write_all(b"probe").and_then(|()| file.sync_all()));
    let _ = std::fs::remove_file(&probe);
    written.map_err(|error| {
        format!(
            "the database directory {} does not take writes: {error}",
            dir.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_whose_directory_is_gone_is_not_writable() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = store::Store::open(data.join("gateway.db")).unwrap();
        assert_eq!(probe_writable(&store), Ok(()));
        std::fs::remove_dir_all(&data).unwrap();
        let error = probe_writable(&store).unwrap_err();
        assert!(error.contains("is not writable"), "{error}");
        assert!(error.contains("gateway.db"), "{error}");
    }
}
