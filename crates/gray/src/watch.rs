//! Optional reload on file change: watches the config directory (not single files), waits for
//! changes to settle, and reloads when a config file in it changed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use crate::error::ConfigError;
use crate::load::LoadOptions;
use crate::store::Store;

/// Keeps the watch alive; dropping it stops watching (and ends the thread that reloads).
pub struct ConfigWatcher {
    _watcher: RecommendedWatcher,
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

/// Whether an event can change what a reload reads. Opening or reading a file is not a change:
/// every reload opens the config files itself, so counting those would make each reload
/// schedule the next one.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

fn changes_config(event: &Event) -> bool {
    is_change(&event.kind) && event.paths.iter().any(|path| is_config_change(path))
}

/// Watches `options.dir` recursively and reloads `store` with `options` once changes have
/// settled for `debounce`. `on_reload` receives every reload's outcome (the new generation or
/// the error).
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
    let watch_error = |message: String| ConfigError::Watch {
        path: dir.clone(),
        message,
    };
    let (sender, receiver) = mpsc::channel();
    // The sender lives in the watcher's handler: dropping the watcher disconnects the channel,
    // which ends the reload thread.
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
        // A failed send means the reload thread has ended; nothing is left to tell.
        let _ = sender.send(event);
    })
    .map_err(|error| watch_error(error.to_string()))?;
    watcher
        .watch(&dir, RecursiveMode::Recursive)
        .map_err(|error| watch_error(error.to_string()))?;
    std::thread::Builder::new()
        .name("gray-config-watch".to_owned())
        .spawn(move || {
            while wait_for_settled_change(&receiver, debounce) {
                match store.reload(&options) {
                    Ok(generation) => on_reload(Ok(generation)),
                    Err(error) => on_reload(Err(&error)),
                }
            }
        })
        .map_err(|error| watch_error(error.to_string()))?;
    Ok(ConfigWatcher {
        _watcher: watcher,
        dir,
    })
}

/// Blocks until a config change arrives and no further config change follows within
/// `debounce` (other events do not delay the reload). Returns false once the watcher is gone.
fn wait_for_settled_change(receiver: &Receiver<notify::Result<Event>>, debounce: Duration) -> bool {
    let mut deadline: Option<Instant> = None;
    loop {
        let next = match deadline {
            None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(deadline) => {
                receiver.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            }
        };
        match next {
            Ok(Ok(event)) if changes_config(&event) => deadline = Some(Instant::now() + debounce),
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "config directory watch error"),
            Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
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

    #[test]
    fn opening_or_reading_a_file_is_not_a_change() {
        use notify::event::{CreateKind, DataChange, ModifyKind, RemoveKind, RenameMode};
        for kind in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
        ] {
            assert!(!is_change(&kind), "{kind:?} should not reload");
        }
        for kind in [
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Remove(RemoveKind::File),
        ] {
            assert!(is_change(&kind), "{kind:?} should reload");
        }
    }

    #[test]
    fn a_change_settles_before_it_counts_and_opens_never_count() {
        let (sender, receiver) = mpsc::channel();
        let open = Event::new(EventKind::Access(AccessKind::Open(AccessMode::Any)))
            .add_path(PathBuf::from("/etc/app/base.toml"));
        let write = Event::new(EventKind::Modify(notify::event::ModifyKind::Any))
            .add_path(PathBuf::from("/etc/app/base.toml"));
        sender.send(Ok(open)).unwrap();
        sender.send(Ok(write)).unwrap();
        assert!(wait_for_settled_change(&receiver, Duration::from_millis(1)));

        let open = Event::new(EventKind::Access(AccessKind::Open(AccessMode::Any)))
            .add_path(PathBuf::from("/etc/app/base.toml"));
        sender.send(Ok(open)).unwrap();
        drop(sender);
        assert!(
            !wait_for_settled_change(&receiver, Duration::from_millis(1)),
            "an open alone must not reload"
        );
    }
}
