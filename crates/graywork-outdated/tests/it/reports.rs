//! The report: tables and JSON over git and local registries, offline ages, `--pre`,
//! `--yanked`, member and kind selection, and the errors that name what could not be read.

use graywork_outdated::{OutdatedError, OutdatedFormat, Selection, render_report};
use graywork_workspace::DepKind;

use crate::fixture::{Fixture, RegistryKind, write};
use crate::support::{CACHED_AT, at, facts, run};

#[test]
fn table_after_cargo_refreshes_a_git_index() {
    let fixture = Fixture::new(RegistryKind::Git);
    let report = run(&fixture, false, &Selection::default());
    insta::assert_snapshot!(fixture.redact(&render_report(&report, OutdatedFormat::Text)));
}

#[test]
fn json_after_cargo_refreshes_a_git_index() {
    let fixture = Fixture::new(RegistryKind::Git);
    let report = run(&fixture, false, &Selection::default());
    insta::assert_snapshot!(fixture.redact(&render_report(&report, OutdatedFormat::Json)));
}

#[test]
fn offline_answers_from_the_cache_and_says_how_old_it_is() {
    let fixture = Fixture::new(RegistryKind::Git);
    fixture.set_cache_times(at(CACHED_AT));
    let report = run(&fixture, true, &Selection::default());
    // The cache holds what `cargo generate-lockfile` saw: nothing newer than the lock yet.
    insta::assert_snapshot!(fixture.redact(&render_report(&report, OutdatedFormat::Text)));
}

#[test]
fn a_local_registry_is_read_in_place() {
    let fixture = Fixture::new(RegistryKind::Local);
    fixture.set_cache_times(at(CACHED_AT));
    let offline = run(&fixture, true, &Selection::default());
    let text = fixture.redact(&render_report(&offline, OutdatedFormat::Text));
    insta::assert_snapshot!(text);
    // Offline makes no difference to a local registry: it is read directly, always current.
    // (The alternate registry `inner` is a git index, which the refresh does move.)
    let online = run(&fixture, false, &Selection::default());
    let crates_io = |report: &graywork_outdated::Report| {
        report
            .dependencies
            .iter()
            .filter(|d| d.registry == "crates-io")
            .map(|d| format!("{:?} {:?}", d.compatible, d.latest))
            .collect::<Vec<_>>()
    };
    assert_eq!(crates_io(&online), crates_io(&offline));
    assert!(
        online
            .registries
            .iter()
            .all(|r| r.registry != "crates-io" || !r.refreshed)
    );
}

fn versions(report: &graywork_outdated::Report, name: &str, requirement: &str) -> (String, String) {
    let row = report
        .dependencies
        .iter()
        .find(|d| d.name == name && d.requirement == requirement)
        .unwrap_or_else(|| panic!("no row for {name} {requirement}"));
    let show = |v: &Option<semver::Version>| v.as_ref().map_or("-".to_owned(), ToString::to_string);
    (show(&row.compatible), show(&row.latest))
}

#[test]
fn pre_releases_and_yanked_versions_count_only_when_asked() {
    let fixture = Fixture::new(RegistryKind::Local);
    let plain = run(&fixture, true, &Selection::default());
    assert_eq!(
        versions(&plain, "alpha", "1.0"),
        ("1.2.0".into(), "2.0.0".into())
    );
    let pre = Selection {
        pre: true,
        ..Selection::default()
    };
    let with_pre = run(&fixture, true, &pre);
    assert_eq!(
        versions(&with_pre, "alpha", "1.0"),
        ("1.2.0".into(), "2.1.0-beta.1".into())
    );
    let yanked = Selection {
        yanked: true,
        ..Selection::default()
    };
    let with_yanked = run(&fixture, true, &yanked);
    assert_eq!(
        versions(&with_yanked, "alpha", "1.0"),
        ("1.3.0".into(), "2.0.0".into())
    );
    // beta 0.3.1 is locked and yanked: without --yanked the newest admitted is below the lock.
    assert_eq!(
        versions(&plain, "beta", "0.3"),
        ("0.3.0".into(), "0.4.0".into())
    );
    assert_eq!(
        versions(&with_yanked, "beta", "0.3"),
        ("0.3.1".into(), "0.4.0".into())
    );
}

#[test]
fn members_and_kinds_select_declarations() {
    let fixture = Fixture::new(RegistryKind::Local);
    let names = |selection: Selection| -> Vec<String> {
        run(&fixture, true, &selection)
            .dependencies
            .iter()
            .map(|d| format!("{} {}", d.name, d.requirement))
            .collect()
    };
    assert_eq!(
        names(Selection {
            packages: vec!["core".into()],
            ..Selection::default()
        }),
        ["alpha 1.0", "gamma 2"]
    );
    assert_eq!(
        names(Selection {
            exclude: vec!["tool".into(), "core".into()],
            ..Selection::default()
        }),
        ["alpha 1.0", "beta 0.3", "delta ~1.0"]
    );
    assert_eq!(
        names(Selection {
            kinds: vec![DepKind::Dev, DepKind::Build],
            ..Selection::default()
        }),
        ["delta ~1.0", "gamma 2"]
    );
}

#[test]
fn errors_name_what_could_not_be_read() {
    let fixture = Fixture::new(RegistryKind::Local);
    let message = |result: Result<graywork_outdated::Facts, OutdatedError>| {
        fixture.redact(&result.expect_err("an error").to_string())
    };

    let unknown = facts(
        &fixture,
        true,
        &Selection {
            packages: vec!["tol".into()],
            ..Selection::default()
        },
    );
    assert_eq!(
        message(unknown),
        "--package tol: unknown member `tol` (members: app, core, tool; did you mean `tool`?)"
    );

    let gamma = fixture.registry.entry("gamma");
    let good = std::fs::read_to_string(&gamma).unwrap();
    std::fs::write(
        &gamma,
        good.replacen("\"vers\":\"2.0.1\"", "\"vers\":\"two\"", 1),
    )
    .unwrap();
    // A crate whose entry cannot be read is a row of its own; the others are answered.
    let skipped = |facts: graywork_outdated::Facts, name: &str| -> String {
        assert!(
            facts
                .entries
                .iter()
                .all(|entry| entry.declaration.package != name)
        );
        assert!(!facts.entries.is_empty());
        let reasons: Vec<String> = facts
            .skipped
            .iter()
            .filter(|skipped| skipped.name == name)
            .map(|skipped| fixture.redact(&skipped.reason))
            .collect();
        reasons.join("\n")
    };
    let malformed = skipped(
        facts(&fixture, true, &Selection::default()).unwrap(),
        "gamma",
    );
    assert!(
        malformed.starts_with(
            "malformed index entry for `gamma` in [ROOT]/registry/index/ga/mm/gamma (version record 2): "
        ),
        "{malformed}"
    );
    std::fs::write(&gamma, good).unwrap();

    std::fs::remove_file(fixture.registry.entry("delta")).unwrap();
    assert_eq!(
        skipped(
            facts(&fixture, true, &Selection::default()).unwrap(),
            "delta"
        ),
        "crate `delta` is not in registry crates-io (replaced by `fixture`): local registry \
         [ROOT]/registry (no index file [ROOT]/registry/index/de/lt/delta)"
    );

    write(
        &fixture.workspace,
        ".cargo/config.toml",
        "[source.crates-io]\nreplace-with = \"vendored-sources\"\n\n[source.vendored-sources]\ndirectory = \"vendor\"\n",
    );
    assert_eq!(
        message(facts(&fixture, true, &Selection::default())),
        "registry `crates-io` is replaced by source `vendored-sources` ([ROOT]/workspace/.cargo/config.toml), \
         a directory source: it holds only the vendored versions, so newer ones cannot be known; \
         `outdated` needs a registry index (a `registry` or `local-registry` source)"
    );
    std::fs::remove_file(fixture.workspace.join(".cargo/config.toml")).unwrap();

    std::fs::remove_file(fixture.workspace.join("Cargo.lock")).unwrap();
    assert_eq!(
        message(facts(&fixture, true, &Selection::default())),
        "no Cargo.lock at [ROOT]/workspace/Cargo.lock: `outdated` compares the locked versions; \
         run `cargo generate-lockfile` first"
    );
}

#[test]
fn offline_without_a_cached_entry_says_the_registry_is_not_reachable() {
    let fixture = Fixture::new(RegistryKind::Git);
    let cached = fixture.cached_entry("gamma").expect("cargo cached gamma");
    std::fs::remove_file(&cached).unwrap();
    let error = facts(&fixture, true, &Selection::default()).expect_err("gamma is not cached");
    let message = fixture.redact(&error.to_string());
    assert!(
        message.starts_with(&format!(
            "registry crates-io (replaced by `fixture`): git index file://[ROOT]/registry is not reachable offline: \
             cargo's cache has no entry for `gamma` ({}); run without --offline so cargo can fetch it",
            fixture.redact(&cached.display().to_string())
        )),
        "{message}"
    );
    // Online, cargo fetches it again.
    let report = crate::support::run(&fixture, false, &Selection::default());
    assert!(report.dependencies.iter().any(|d| d.name == "gamma"));
}

#[test]
fn an_unreachable_registry_answers_from_the_cache_and_says_why() {
    let fixture = Fixture::new(RegistryKind::Git);
    // A crate cargo never cached, then the registry goes away.
    let cached = fixture.cached_entry("gamma").expect("cargo cached gamma");
    std::fs::remove_file(&cached).unwrap();
    std::fs::rename(&fixture.registry.dir, fixture.root.join("moved")).unwrap();
    let facts = facts(&fixture, false, &Selection::default()).expect("the rest is answered");
    let report = graywork_outdated::report(&facts, &Selection::default(), at(crate::support::NOW));
    let registry = &report.registries[0];
    assert!(!registry.refreshed);
    let reason = registry
        .refresh_failed
        .as_deref()
        .expect("the refresh failed");
    assert!(
        !reason.is_empty() && !reason.starts_with("error"),
        "{reason}"
    );
    // Every cached crate keeps its row; the one cargo never fetched is a row of its own.
    assert!(report.dependencies.iter().any(|d| d.name == "alpha"));
    assert!(report.dependencies.iter().all(|d| d.name != "gamma"));
    let gamma: Vec<&str> = report
        .skipped
        .iter()
        .filter(|skipped| skipped.name == "gamma")
        .map(|skipped| skipped.reason.as_str())
        .collect();
    assert!(!gamma.is_empty(), "{:?}", report.skipped);
    assert!(
        gamma
            .iter()
            .all(|reason| reason.contains("cargo's cache has no entry for it")),
        "{gamma:?}"
    );
    let text = render_report(&report, OutdatedFormat::Text);
    assert!(
        text.contains(", not refreshed (`cargo update --dry-run` failed: "),
        "{text}"
    );
    assert!(text.contains("skipped gamma ("), "{text}");
}
