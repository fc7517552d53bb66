//! Whether the invoice database can take writes: checked at start and by `/readyz`.

use std::io::Write as _;
use std::path::Path;

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
