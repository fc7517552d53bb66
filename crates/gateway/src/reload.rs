//! Config reload: the one path `POST /config/reload` and the config directory watcher both take.
//!
//! Both triggers reload the same [`gray::Store`] with the same [`gray::LoadOptions`], then
//! record the outcome the same way: `config_reloads_total{result}`, `config_generation`, and a
//! log event naming the file, key and line of a failure. A failed reload keeps the previous
//! snapshot serving.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use axum::extract::FromRef;

use crate::metrics::{Metrics, generation_gauge};

/// The live config and what reloading it touches: the store each new snapshot is swapped into,
/// how the layers are read again, the metrics every reload records, and the admin reloads'
/// slots. The part of the app's state a reload takes (a [`FromRef`] substate); cheap to clone,
/// and every clone shares the same config.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// The live config, swapped whole on reload.
    pub(crate) config: Arc<gray::Store>,
    /// How to read the config again.
    pub(crate) load_options: Arc<gray::LoadOptions>,
    /// Where reloads are counted (`config_reloads_total`, `config_generation`).
    pub(crate) metrics: Arc<Metrics>,
    /// Serialises admin reloads and enforces their deadline.
    pub(crate) reloader: Arc<Reloader>,
}

/// What started a reload; only logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `POST /config/reload`.
    Admin,
    /// A change in the watched config directory.
    Watch,
    /// A change of the gray fragments in etcd.
    Etcd,
}

impl Trigger {
    /// The name logs use: `admin` or `watch`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Watch => "watch",
            Self::Etcd => "etcd",
        }
    }
}

/// How long the config directory must stay quiet before a change is reloaded. Editors and
/// ConfigMap updates touch several files in quick succession; one reload covers them all.
pub(crate) const WATCH_DEBOUNCE: Duration = Duration::from_millis(200);

/// Reads every layer again and swaps the result in, then records the outcome. Blocking: it reads
/// files and compiles rules. Returns the new generation, or the error while the old snapshot
/// keeps serving.
pub fn reload<S>(state: &S, trigger: Trigger) -> Result<u64, gray::ConfigError>
where
    LiveConfig: FromRef<S>,
{
    let live = LiveConfig::from_ref(state);
    let outcome = live.config.reload(&live.load_options);
    crate::memory::release_freed_memory();
    record_live(
        &live,
        trigger,
        outcome.as_ref().map(|generation| *generation),
    );
    outcome
}

/// Records one reload's outcome: the log event first, then the metrics, so a scraper that sees
/// the counter move can also find the log line.
pub fn record<S>(state: &S, trigger: Trigger, outcome: Result<u64, &gray::ConfigError>)
where
    LiveConfig: FromRef<S>,
{
    record_live(&LiveConfig::from_ref(state), trigger, outcome);
}

/// [`record`] for the live config itself.
fn record_live(live: &LiveConfig, trigger: Trigger, outcome: Result<u64, &gray::ConfigError>) {
    match outcome {
        Ok(generation) => {
            tracing::info!(
                trigger = trigger.as_str(),
                generation,
                "config reload applied"
            );
            live.metrics.record_reload(true);
            // Generations only grow; taking the maximum keeps the gauge right when two reloads
            // (admin and watcher) finish out of order.
            live.metrics
                .config_generation
                .inner()
                .fetch_max(generation_gauge(generation), Ordering::Relaxed);
        }
        Err(error) => {
            tracing::warn!(
                trigger = trigger.as_str(),
                code = error.code(),
                file = error.file().as_deref(),
                key = error.key(),
                line = error.line(),
                %error,
                "config reload rejected; the previous config keeps serving"
            );
            live.metrics.record_reload(false);
        }
    }
}

/// How many reload threads may still be alive after their deadline (stuck in a read, say) before
/// further reloads are refused: each one holds a thread and a file, and more would not help.
pub(crate) const MAX_ABANDONED_RELOADS: usize = 4;

/// Why an admin reload did not swap a new config in.
#[derive(Debug)]
pub(crate) enum AdminReloadError {
    /// Another reload is running; answered at once with 409.
    InProgress,
    /// The reload did not finish within `server.reload_timeout_ms`; it was abandoned, its result
    /// will be discarded, and the next reload may start.
    TimedOut(Duration),
    /// Too many abandoned reloads are still stuck.
    Unavailable,
    /// The new config is invalid; the previous one keeps serving.
    Invalid(gray::ConfigError),
    /// The reload thread could not start or died.
    Failed(String),
}

/// Serialises admin reloads and lets one be abandoned at its deadline.
///
/// A reload runs on a thread of its own, never on the runtime's workers or its blocking pool,
/// which the API needs: a reload stuck reading a file holds only that thread. The lock here is
/// held for a few instructions at a time, never across the reload itself, so abandoning an
/// attempt releases it at once.
///
/// Every reload thread holds a [`ReloadSlot`] that gives its place back when the thread ends,
/// however it ends (a result, an error, a panic), so an attempt that overran its deadline
/// refuses later reloads only while it is still running, never for the rest of the process.
#[derive(Debug, Default)]
pub(crate) struct Reloader {
    slots: Mutex<Slots>,
    /// Signalled whenever a reload thread ends.
    thread_ended: Condvar,
}

#[derive(Debug, Default)]
struct Slots {
    /// The attempt that owns the reload, if one runs.
    current: Option<u64>,
    /// Attempts started so far.
    attempts: u64,
    /// Reload threads alive, abandoned ones included.
    threads: usize,
}

impl Reloader {
    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        // The guarded counters stay consistent: every change is a single assignment.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the reload for a new attempt and counts its thread.
    fn begin(self: &Arc<Self>) -> Result<ReloadSlot, AdminReloadError> {
        let mut slots = self.slots();
        if slots.current.is_some() {
            return Err(AdminReloadError::InProgress);
        }
        if slots.threads >= MAX_ABANDONED_RELOADS {
            return Err(AdminReloadError::Unavailable);
        }
        slots.attempts += 1;
        let attempt = slots.attempts;
        slots.current = Some(attempt);
        slots.threads += 1;
        Ok(ReloadSlot {
            reloader: Arc::clone(self),
            attempt,
        })
    }

    fn owns(&self, attempt: u64) -> bool {
        self.slots().current == Some(attempt)
    }

    /// Gives the reload up for `attempt`, if it still has it.
    fn end(&self, attempt: u64) {
        let mut slots = self.slots();
        if slots.current == Some(attempt) {
            slots.current = None;
        }
    }

    /// Reload threads alive, abandoned ones included.
    #[cfg(test)]
    fn threads(&self) -> usize {
        self.slots().threads
    }

    /// Waits until no reload thread is alive.
    #[cfg(test)]
    fn wait_for_no_threads(&self) {
        let mut slots = self.slots();
        while slots.threads > 0 {
            slots = self
                .thread_ended
                .wait(slots)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// One reload thread's place: dropping it (when the thread ends, by any path) uncounts the
/// thread and gives up the attempt's ownership, before anything is sent back, so whoever hears
/// the outcome finds the slot free.
#[derive(Debug)]
struct ReloadSlot {
    reloader: Arc<Reloader>,
    attempt: u64,
}

impl Drop for ReloadSlot {
    fn drop(&mut self) {
        let reloader = &self.reloader;
        let mut slots = reloader.slots();
        slots.threads -= 1;
        if slots.current == Some(self.attempt) {
            slots.current = None;
        }
        drop(slots);
        reloader.thread_ended.notify_all();
    }
}

/// `POST /config/reload`: reads every layer on a reload thread and swaps the result in, within
/// `deadline`. See [`reload_with_deadline`].
pub(crate) async fn admin_reload(
    live: &LiveConfig,
    deadline: Duration,
) -> Result<u64, AdminReloadError> {
    let options = Arc::clone(&live.load_options);
    reload_with_deadline(live, deadline, move || {
        // The gateway's own sections must stay valid too (they apply at the next start), so a
        // typo there fails the reload instead of the next restart.
        let snapshot = gray::load(&options)?;
        crate::settings::check_sections(&snapshot)?;
        snapshot.deserialize::<crate::settings::Settings>()?;
        Ok(snapshot)
    })
    .await
}

/// Builds a snapshot with `build` on a thread of its own and swaps it in, unless `deadline`
/// passes first: then the attempt is abandoned (its result, if it ever comes, is dropped) and the
/// next reload may start at once. A reload asked for while one runs is refused with
/// [`AdminReloadError::InProgress`]. The outcome is recorded like every reload.
pub(crate) async fn reload_with_deadline(
    live: &LiveConfig,
    deadline: Duration,
    build: impl FnOnce() -> Result<gray::Snapshot, gray::ConfigError> + Send + 'static,
) -> Result<u64, AdminReloadError> {
    let slot = live.reloader.begin()?;
    let attempt = slot.attempt;
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let worker = live.clone();
    let spawned = std::thread::Builder::new()
        .name("config-reload".to_owned())
        .spawn(move || {
            // Locals drop in reverse order, on a panic too: the slot is freed before the sender
            // is dropped, so whoever hears of the end finds the slot free.
            let sender = sender;
            let slot = slot;
            let built = build();
            // Swap only while this attempt still owns the reload: an abandoned one must not
            // replace whatever was loaded after its deadline.
            let outcome = if worker.reloader.owns(attempt) {
                Some(worker.config.reload_with(|| built))
            } else {
                drop(built);
                None
            };
            crate::memory::release_freed_memory();
            // Free the slot first, so the next reload never finds this one still counted.
            drop(slot);
            let _ = sender.send(outcome);
        });
    if let Err(error) = spawned {
        // The closure, and the slot in it, were dropped with the error.
        return Err(AdminReloadError::Failed(format!(
            "cannot start a reload thread: {error}"
        )));
    }
    match tokio::time::timeout(deadline, receiver).await {
        Ok(Ok(Some(outcome))) => {
            record_live(live, Trigger::Admin, outcome.as_ref().map(|g| *g));
            outcome.map_err(AdminReloadError::Invalid)
        }
        Ok(Ok(None)) | Ok(Err(_)) => Err(AdminReloadError::Failed(
            "the reload thread ended without a result".to_owned(),
        )),
        Err(_) => {
            live.reloader.end(attempt);
            live.metrics.record_reload(false);
            tracing::warn!(
                deadline_ms = deadline.as_millis() as u64,
                "config reload abandoned at its deadline; the previous config keeps serving"
            );
            Err(AdminReloadError::TimedOut(deadline))
        }
    }
}

/// Starts watching the config directory: every settled change reloads through [`record`], like
/// `POST /config/reload`. The directory is watched (not single files) so editors' rename-saves
/// and Kubernetes ConfigMap symlink swaps are seen. Watching stops when the returned watcher is
/// dropped.
pub fn watch<S>(state: &S) -> Result<gray::ConfigWatcher, gray::ConfigError>
where
    LiveConfig: FromRef<S>,
{
    let recorder = LiveConfig::from_ref(state);
    let dir = recorder.load_options.dir.clone();
    let watcher = gray::watch(
        Arc::clone(&recorder.config),
        gray::LoadOptions::clone(&recorder.load_options),
        WATCH_DEBOUNCE,
        move |outcome| {
            crate::memory::release_freed_memory();
            record_live(&recorder, Trigger::Watch, outcome);
        },
    )?;
    tracing::info!(dir = %dir.display(), "watching the config directory");
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::mpsc;

    /// A live config over a temp config directory holding an empty `base.toml`.
    fn state() -> (tempfile::TempDir, LiveConfig) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.toml"), "").unwrap();
        let options = gray::LoadOptions::new(dir.path());
        let snapshot = gray::load(&options).unwrap();
        let live = LiveConfig {
            config: Arc::new(gray::Store::new(snapshot)),
            load_options: Arc::new(options),
            metrics: Arc::new(Metrics::new()),
            reloader: Arc::default(),
        };
        (dir, live)
    }

    /// A build that waits until the returned sender is used (or dropped).
    fn blocked_build(
        options: &gray::LoadOptions,
    ) -> (
        mpsc::Sender<()>,
        impl FnOnce() -> Result<gray::Snapshot, gray::ConfigError> + Send + 'static,
    ) {
        let (release, wait) = mpsc::channel::<()>();
        let options = options.clone();
        (release, move || {
            let _ = wait.recv();
            gray::load(&options)
        })
    }

    #[tokio::test]
    async fn a_reload_past_its_deadline_is_abandoned_and_frees_the_next() {
        let (_dir, state) = state();
        let (release, build) = blocked_build(&state.load_options);
        let stuck = reload_with_deadline(&state, Duration::from_millis(50), build).await;
        assert!(
            matches!(stuck, Err(AdminReloadError::TimedOut(_))),
            "{stuck:?}"
        );
        // The lock is free again: the next reload runs and swaps.
        let next = admin_reload(&state, Duration::from_secs(30)).await.unwrap();
        assert_eq!(next, 2);
        // The abandoned attempt finishing later changes nothing.
        release.send(()).unwrap();
        state.reloader.wait_for_no_threads();
        assert_eq!(state.config.guard().generation(), 2);
    }

    #[tokio::test]
    async fn a_reload_asked_for_while_one_runs_is_refused_at_once() {
        let (_dir, state) = state();
        let (release, build) = blocked_build(&state.load_options);
        let running = {
            let state = state.clone();
            tokio::spawn(async move {
                reload_with_deadline(&state, Duration::from_secs(30), build).await
            })
        };
        // Wait until the first reload owns the lock.
        while state.reloader.slots().current.is_none() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let second = admin_reload(&state, Duration::from_secs(30)).await;
        assert!(
            matches!(second, Err(AdminReloadError::InProgress)),
            "{second:?}"
        );
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap().unwrap(), 2);
    }

    #[tokio::test]
    async fn stuck_reloads_refuse_further_ones_only_while_they_are_stuck() {
        let (_dir, state) = state();
        let mut releases = Vec::new();
        for _ in 0..MAX_ABANDONED_RELOADS {
            let (release, build) = blocked_build(&state.load_options);
            releases.push(release);
            let stuck = reload_with_deadline(&state, Duration::from_millis(10), build).await;
            assert!(
                matches!(stuck, Err(AdminReloadError::TimedOut(_))),
                "{stuck:?}"
            );
        }
        let refused = admin_reload(&state, Duration::from_secs(30)).await;
        assert!(
            matches!(refused, Err(AdminReloadError::Unavailable)),
            "{refused:?}"
        );
        // Once the overrunning reloads end, reloads work again.
        drop(releases);
        state.reloader.wait_for_no_threads();
        let next = admin_reload(&state, Duration::from_secs(30)).await.unwrap();
        assert_eq!(next, 2);
    }

    #[tokio::test]
    async fn reloads_that_panic_give_their_place_back() {
        let (_dir, state) = state();
        for _ in 0..=MAX_ABANDONED_RELOADS {
            let failed = reload_with_deadline(&state, Duration::from_secs(30), || {
                panic!("a reload that panics (expected by this test)")
            })
            .await;
            assert!(
                matches!(failed, Err(AdminReloadError::Failed(_))),
                "{failed:?}"
            );
        }
        assert_eq!(state.reloader.threads(), 0);
        let next = admin_reload(&state, Duration::from_secs(30)).await.unwrap();
        assert_eq!(next, 2);
    }

    #[test]
    fn triggers_have_log_names() {
        assert_eq!(Trigger::Admin.as_str(), "admin");
        assert_eq!(Trigger::Watch.as_str(), "watch");
    }
}
