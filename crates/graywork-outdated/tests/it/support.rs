//! Running `outdated` as a library over a fixture.

use std::ffi::OsString;
use std::time::{Duration, SystemTime};

use graywork_outdated::{Facts, OutdatedError, Report, Selection, Settings, collect, report};
use graywork_workspace::Workspace;

use crate::fixture::Fixture;

/// When the tests pretend cargo wrote its cache, and when they pretend to run.
pub const CACHED_AT: u64 = 1_796_203_861; // 2026-12-02T09:31:01Z
pub const NOW: u64 = CACHED_AT + 2 * 3600 + 5 * 60;

pub fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

/// The fixture's workspace. Cargo runs with the fixture's environment (its `CARGO_HOME`
/// defines the alternate registry), which the test process cannot lend it.
pub fn load(fixture: &Fixture) -> Workspace {
    let output = fixture
        .cargo(&[
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut workspace = Workspace::from_json(&String::from_utf8(output.stdout).unwrap())
        .expect("the fixture workspace loads");
    workspace
        .read_manifests()
        .expect("the fixture's manifests read");
    workspace
}

pub fn settings(fixture: &Fixture, offline: bool) -> Settings {
    Settings {
        cwd: fixture.workspace.clone(),
        cargo: OsString::from(env!("CARGO")),
        cargo_home: fixture.home.clone(),
        offline,
    }
}

pub fn facts(
    fixture: &Fixture,
    offline: bool,
    selection: &Selection,
) -> Result<Facts, OutdatedError> {
    collect(&load(fixture), &settings(fixture, offline), selection)
}

/// The report, refreshed by cargo (or offline from the cache), at [`NOW`].
pub fn run(fixture: &Fixture, offline: bool, selection: &Selection) -> Report {
    let facts = facts(fixture, offline, selection).expect("outdated collects");
    report(&facts, selection, at(NOW))
}
