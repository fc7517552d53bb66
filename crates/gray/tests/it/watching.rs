//! Directory watching triggers the same reload.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use gray::{ConfigWatcher, Store, watch};
use tempfile::TempDir;

use crate::{config_dir, options};

/// Each reload's generation, or its error code.
type Reloads = mpsc::Receiver<Result<u64, &'static str>>;

/// A config directory with `base` as `base.toml`, its store, and a watcher that sends every
/// reload's outcome to the returned receiver.
fn watched(base: &str) -> (TempDir, Arc<Store>, Reloads, ConfigWatcher) {
    let dir = config_dir(&[("base.toml", base)]);
    let options = options(dir.path());
    let store = Arc::new(Store::open(&options).unwrap());
    let (sender, receiver) = mpsc::channel();
    let watcher = watch(
        Arc::clone(&store),
        options,
        Duration::from_millis(50),
        move |result| {
            let _ = sender.send(result.map_err(|error| error.code()));
        },
    )
    .unwrap();
    (dir, store, receiver, watcher)
}

#[test]
fn a_change_in_the_directory_reloads_the_store() {
    let (dir, store, receiver, _watcher) = watched("a = 1\n");

    // A gray file created by rename, as editors and ConfigMap updates do.
    std::fs::write(dir.path().join("new.tmp"), "a = 2\n").unwrap();
    std::fs::create_dir(dir.path().join("gray")).unwrap();
    std::fs::rename(dir.path().join("new.tmp"), dir.path().join("gray/a.toml")).unwrap();
    // Waiting for the file-system event, not measuring speed: the bound only stops a hang.
    let deadline = Duration::from_secs(30);
    loop {
        let result = receiver
            .recv_timeout(deadline)
            .expect("a reload after the change");
        assert!(result.is_ok(), "{result:?}");
        if store.current().get::<i64>("a").unwrap() == 2 {
            break;
        }
    }
    assert!(store.current().generation() >= 2);

    std::fs::write(dir.path().join("base.toml"), "a = [\n").unwrap();
    loop {
        let result = receiver
            .recv_timeout(deadline)
            .expect("a reload after the bad change");
        if result == Err("parse") {
            break;
        }
    }
    assert_eq!(store.current().get::<i64>("a").unwrap(), 2);
}

#[test]
fn watching_a_missing_directory_is_an_error() {
    let dir = config_dir(&[("base.toml", "")]);
    let store = Arc::new(Store::open(&options(dir.path())).unwrap());
    let missing = options(&dir.path().join("missing"));
    let error = watch(store, missing, Duration::from_millis(50), |_| {}).unwrap_err();
    assert_eq!(error.code(), "watch");
}

#[test]
fn a_reload_does_not_trigger_the_next_one() {
    let (dir, store, receiver, _watcher) = watched("a = 1\n");

    std::fs::write(dir.path().join("base.toml"), "a = 2\n").unwrap();
    // Waiting for the file-system event, not measuring speed: the bound only stops a hang.
    let first = receiver
        .recv_timeout(Duration::from_secs(30))
        .expect("a reload after the change");
    let generation = first.expect("the change is valid");
    // The reload opened and read every config file; those reads are not changes, so no further
    // reload follows while nothing is written.
    let next = receiver.recv_timeout(Duration::from_millis(1000));
    assert!(next.is_err(), "unexpected reload: {next:?}");
    assert_eq!(store.current().generation(), generation);
    assert_eq!(store.current().get::<i64>("a").unwrap(), 2);
}
