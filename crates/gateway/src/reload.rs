//! Config reload: the one path `POST /config/reload` and the config directory watcher both take.
//!
//! Both triggers reload the same [`gray::Store`] with the same [`gray::LoadOptions`], then
//! record the outcome the same way: `config_reloads_total{result}`, `config_generation`, and a
//! log event naming the file, key and line of a failure. A failed reload keeps the previous
//! snapshot serving.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::state::{AppState, generation_gauge};

/// What started a reload; only logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `POST /config/reload`.
    Admin,
    /// A change in the watched config directory.
    Watch,
}

impl Trigger {
    /// The name logs use: `admin` or `watch`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Watch => "watch",
        }
    }
}

/// How long the config directory must stay quiet before a change is reloaded. Editors and
/// ConfigMap updates touch several files in quick succession; one reload covers them all.
pub const WATCH_DEBOUNCE: Duration = Duration::from_millis(200);

/// Reads every layer again and swaps the result in, then records the outcome. Blocking: it reads
/// files and compiles rules. Returns the new generation, or the error while the old snapshot
/// keeps serving.
pub fn reload(state: &AppState, trigger: Trigger) -> Result<u64, gray::ConfigError> {
    let outcome = state.config.reload(&state.load_options);
    record(
        state,
        trigger,
        outcome.as_ref().map(|generation| *generation),
    );
    outcome
}

/// Records one reload's outcome: the log event first, then the metrics, so a scraper that sees
/// the counter move can also find the log line.
pub fn record(state: &AppState, trigger: Trigger, outcome: Result<u64, &gray::ConfigError>) {
    match outcome {
        Ok(generation) => {
            tracing::info!(
                trigger = trigger.as_str(),
                generation,
                "config reload applied"
            );
            state.metrics.record_reload(true);
            // Generations only grow; taking the maximum keeps the gauge right when two reloads
            // (admin and watcher) finish out of order.
            state
                .metrics
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
            state.metrics.record_reload(false);
        }
    }
}

/// Starts watching the config directory: every settled change reloads through [`record`], like
/// `POST /config/reload`. The directory is watched (not single files) so editors' rename-saves
/// and Kubernetes ConfigMap symlink swaps are seen. Watching stops when the returned watcher is
/// dropped.
pub fn watch(state: &AppState) -> Result<gray::ConfigWatcher, gray::ConfigError> {
    let recorder = state.clone();
    let watcher = gray::watch(
        Arc::clone(&state.config),
        state.load_options.clone(),
        WATCH_DEBOUNCE,
        move |outcome| record(&recorder, Trigger::Watch, outcome),
    )?;
    tracing::info!(dir = %state.load_options.dir.display(), "watching the config directory");
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_have_log_names() {
        assert_eq!(Trigger::Admin.as_str(), "admin");
        assert_eq!(Trigger::Watch.as_str(), "watch");
    }
}
