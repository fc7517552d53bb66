//! `outdated --plan`: the `upgrade-plan --dep` commands and the compatible-updates stage, and
//! a round trip that writes the stage's edits and checks what cargo then reads.

use graywork_outdated::{OutdatedFormat, Selection, plan, render_plan};
use graywork_workspace::Runner;

use crate::fixture::{Fixture, RegistryKind};
use crate::support::{CACHED_AT, at, load, run};

#[test]
fn plan_text_and_json() {
    let fixture = Fixture::new(RegistryKind::Local);
    fixture.set_cache_times(at(CACHED_AT));
    let report = run(&fixture, true, &Selection::default());
    let plan = plan(&report, &load(&fixture), Runner::Graywork, None);
    insta::assert_snapshot!(
        "plan_text",
        fixture.redact(&render_plan(&report, &plan, OutdatedFormat::Text))
    );
    insta::assert_snapshot!(
        "plan_json",
        fixture.redact(&render_plan(&report, &plan, OutdatedFormat::Json))
    );
}

#[test]
fn commands_name_the_runner_and_the_manifest() {
    let fixture = Fixture::new(RegistryKind::Local);
    let report = run(&fixture, true, &Selection::default());
    let plan = plan(
        &report,
        &load(&fixture),
        Runner::Xtask,
        Some("--manifest-path w/Cargo.toml"),
    );
    let commands: Vec<&str> = plan
        .incompatible
        .iter()
        .map(|u| u.command.as_str())
        .collect();
    assert_eq!(
        commands,
        [
            "cargo xtask upgrade-plan --dep alpha@2.0.0 --manifest-path w/Cargo.toml",
            "cargo xtask upgrade-plan --dep beta@0.4.0 --manifest-path w/Cargo.toml",
            "cargo xtask upgrade-plan --dep delta@1.1.0 --manifest-path w/Cargo.toml",
            "cargo xtask upgrade-plan --dep epsilon@0.5.1 --manifest-path w/Cargo.toml",
        ]
    );
}

/// Writes each edit at its `toml_path`, as `--apply` does: the entry's `version` when it is a
/// table, the entry itself when it is a string; the value there must be `from`.
fn apply(fixture: &Fixture, edits: &[graywork_workspace::schema::Change]) {
    for edit in edits {
        let (Some(file), Some(line), Some(toml_path), Some(from), Some(to)) =
            (&edit.file, edit.line, &edit.toml_path, &edit.from, &edit.to)
        else {
            panic!("not an edit: {edit:?}");
        };
        let path = fixture.workspace.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let written = text.lines().nth(line - 1).unwrap();
        assert!(
            written.contains(&format!("\"{from}\"")),
            "{file}:{line} is `{written}`"
        );
        let mut document: toml_edit::DocumentMut = text.parse().unwrap();
        let keys = toml_edit::Key::parse(toml_path).unwrap();
        let mut item = document.as_item_mut();
        for key in &keys {
            item = item.get_mut(key.get()).unwrap();
        }
        let target = match item.as_str() {
            Some(_) => item,
            None => item.get_mut("version").unwrap(),
        };
        assert_eq!(target.as_str(), Some(from.as_str()));
        *target = toml_edit::value(to.clone());
        std::fs::write(&path, document.to_string()).unwrap();
    }
}

#[test]
fn the_compatible_stage_round_trips_through_the_manifests_and_cargo() {
    let fixture = Fixture::new(RegistryKind::Git);
    let report = run(&fixture, false, &Selection::default());
    let before = plan(&report, &load(&fixture), Runner::Graywork, None);
    let stage = &before.compatible.stages[0];
    apply(&fixture, &stage.changes);

    // Cargo accepts the edited manifests and reads the raised requirements.
    let metadata = load(&fixture);
    let requirement = |member: &str, name: &str| {
        metadata
            .member(member)
            .unwrap()
            .dependencies
            .iter()
            .filter(|d| d.name == name)
            .map(|d| d.req.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(requirement("core", "alpha"), ["^1.2.0"]);
    assert_eq!(
        requirement("app", "alpha"),
        ["^1.2.0"],
        "inherits the shared entry"
    );
    assert_eq!(requirement("tool", "alpha"), ["^0.9.1"]);
    assert_eq!(requirement("core", "gamma"), ["^2.0.1"]);
    assert_eq!(requirement("tool", "zeta"), ["^1.4.0"]);

    // Cargo re-locks to them, and nothing compatible is left to raise.
    let output = fixture.cargo(&["update", "--workspace"]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let after = run(&fixture, false, &Selection::default());
    let after_plan = plan(&after, &metadata, Runner::Graywork, None);
    assert!(
        after_plan.compatible.stages.is_empty(),
        "{:#?}",
        after_plan.compatible
    );
    let locked: Vec<String> = after
        .dependencies
        .iter()
        .map(|d| format!("{} {} {}", d.name, d.requirement, d.locked[0].version))
        .collect();
    assert_eq!(
        locked,
        [
            "alpha 1.2.0 1.2.0",
            "alpha 0.9.1 0.9.1",
            "beta 0.3 0.3.1",
            "delta ~1.0 1.0.0",
            "epsilon =0.5.0 0.5.0",
            "gamma 2.0.1 2.0.1",
            "zeta 1.4.0 1.4.0",
        ]
    );
    // The incompatible updates are still there, for `upgrade-plan --dep`.
    assert_eq!(after_plan.incompatible.len(), before.incompatible.len());
}
