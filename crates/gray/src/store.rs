//! The live configuration: an atomically swapped [`Snapshot`] that readers load without blocking.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::error::ConfigError;
use crate::load::{LoadOptions, load};
use crate::snapshot::Snapshot;

/// Holds the snapshot in force. Readers call [`Store::current`] or [`Store::guard`] and never
/// block; [`Store::reload`] builds a complete new snapshot and swaps it in whole, or keeps the old
/// one when anything fails.
#[derive(Debug)]
pub struct Store {
    current: ArcSwap<Snapshot>,
    // Serialises reloads (file watcher and admin endpoint) so generations are strictly increasing.
    // Readers never take it.
    reload_lock: Mutex<()>,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
}

/// Reload counters of a [`Store`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReloadStats {
    /// Reloads that swapped in a new snapshot.
    pub succeeded: u64,
    /// Reloads that failed and kept the previous snapshot.
    pub failed: u64,
}

impl Store {
    /// A store serving `snapshot` as generation 1.
    pub fn new(mut snapshot: Snapshot) -> Store {
        snapshot.generation = 1;
        Store {
            current: ArcSwap::from_pointee(snapshot),
            reload_lock: Mutex::new(()),
            reloads_ok: AtomicU64::new(0),
            reloads_failed: AtomicU64::new(0),
        }
    }

    /// Loads `options` and serves the result as generation 1.
    pub fn open(options: &LoadOptions) -> Result<Store, ConfigError> {
        load(options).map(Store::new)
    }

    /// The snapshot in force, as an owned `Arc` (keep it for the whole request so every decision
    /// in the request sees the same configuration).
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The snapshot in force, as a cheap short-lived guard (no reference-count traffic).
    pub fn guard(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// Reads, merges, validates and compiles `options`, then swaps the result in. Returns the new
    /// generation. On error the previous snapshot keeps serving and the failure is counted.
    pub fn reload(&self, options: &LoadOptions) -> Result<u64, ConfigError> {
        self.reload_with(|| load(options))
    }

    /// Like [`Store::reload`], with the snapshot built by `build` (e.g. from in-memory documents).
    pub fn reload_with(
        &self,
        build: impl FnOnce() -> Result<Snapshot, ConfigError>,
    ) -> Result<u64, ConfigError> {
        // A poisoned lock only means another reload panicked; the guarded data is `()`.
        let _lock = self
            .reload_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match build() {
            Ok(mut snapshot) => {
                let generation = self.current.load().generation + 1;
                snapshot.generation = generation;
                self.current.store(Arc::new(snapshot));
                self.reloads_ok.fetch_add(1, Ordering::Relaxed);
                tracing::info!(generation, "config reloaded");
                Ok(generation)
            }
            Err(error) => {
                self.reloads_failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, code = error.code(), "config reload failed; keeping the previous snapshot");
                Err(error)
            }
        }
    }

    /// How many reloads succeeded and failed.
    pub fn reload_stats(&self) -> ReloadStats {
        ReloadStats {
            succeeded: self.reloads_ok.load(Ordering::Relaxed),
            failed: self.reloads_failed.load(Ordering::Relaxed),
        }
    }
}
