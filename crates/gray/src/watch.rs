//! Optional reload on file change: watches the config directory (not single files) with a
//! debouncer, and reloads when a config file in it changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use crate::error::ConfigError;
use crate::load::LoadOptions;
use crate::store::Store;

/// Keeps the watch alive; dropping it stops watching.
pub struct ConfigWatcher {
    _debouncer: Debouncer<RecommendedWatcher>,
    dir: PathBuf,
}

impl std::fmt::Debug for ConfigWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigWatcher")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Whether a change at `path` can change the config: a TOML file, the `gray` directory, or
/// Kubernetes' `..data`-style ConfigMap entries. Anything else in the directory (editor swap
/// files, a log or database someone keeps beside the config) is ignored, so it cannot cause a
/// stream of reloads.
fn is_config_change(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension == "toml")
        || path.file_name().is_some_and(|name| name == "gray")
        || path.components().any(|component| {
            component
                .as_os_str()
                .to_str()
                .is_some_and(|name| name.starts_with("..") && name != "..")
        })
}

/// Watches `options.dir` recursively and reloads `store` with `options` after changes settle for
/// `debounce`. `on_reload` receives every reload's outcome (the new generation or the error).
///
/// The directory is watched rather than the files so that editors that save by rename and
/// Kubernetes ConfigMap symlink swaps still trigger a reload.
pub fn watch(
    store: Arc<Store>,
    options: LoadOptions,
    debounce: Duration,
    on_reload: impl Fn(Result<u64, &ConfigError>) + Send + 'static,
) -> Result<ConfigWatcher, ConfigError> {
    let dir = options.dir.clone();
    let watch_error = |error: notify_debouncer_mini::notify::Error| ConfigError::Watch {
        path: dir.clone(),
        message: error.to_string(),
    };
    let mut debouncer = new_debouncer(debounce, move |result: DebounceEventResult| match result {
        Ok(events) if !events.iter().any(|event| is_config_change(&event.path)) => {}
        Ok(_) => match store.reload(&options) {
            Ok(generation) => on_reload(Ok(generation)),
            Err(error) => on_reload(Err(&error)),
        },
        Err(error) => tracing::warn!(%error, "config directory watch error"),
    })
    .map_err(watch_error)?;
    debouncer
        .watcher()
        .watch(&dir, RecursiveMode::Recursive)
        .map_err(watch_error)?;
    Ok(ConfigWatcher {
        _debouncer: debouncer,
        dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_config_files_trigger_a_reload() {
        for path in [
            "/etc/app/base.toml",
            "/etc/app/gray/billing-v2.toml",
            "/etc/app/gray",
            "/etc/app/..data",
            "/etc/app/..2026_11_25_10_00_00.123/base.toml",
        ] {
            assert!(is_config_change(Path::new(path)), "{path} should reload");
        }
        for path in [
            "/etc/app/.base.toml.swp",
            "/etc/app/base.toml~",
            "/etc/app/gateway.db-wal",
            "/etc/app/gateway.log",
        ] {
            assert!(
                !is_config_change(Path::new(path)),
                "{path} should not reload"
            );
        }
    }
}
