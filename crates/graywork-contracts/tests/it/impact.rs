//! Predicted breaks against the compiler's: a fixture workspace uses a dependency whose two
//! versions stand in for the registry; the prediction is made from sources alone, then the
//! member is moved to the new version and `cargo check` says where it really breaks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use graywork_contracts::{AffectedUse, BuildOptions, Certainty, affected_uses, breaking_changes};

use crate::copy_tree::copy_tree;

fn fixture() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("impact");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/impact"),
        &root,
    );
    (temp, root)
}

fn predict(root: &Path) -> Vec<AffectedUse> {
    let changes = breaking_changes(
        &root.join("wire-1"),
        &root.join("wire-2"),
        &BuildOptions::default(),
    )
    .unwrap();
    affected_uses(root, &root.join("app"), &["wire".to_string()], &changes).unwrap()
}

/// The lines `cargo check` reports errors at, after the member moves to the new version.
fn compiler_errors(root: &Path) -> BTreeSet<(String, usize)> {
    let manifest = root.join("app/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("../wire-1", "../wire-2")).unwrap();
    let output = Command::new(env!("CARGO"))
        .args(["check", "--offline", "--message-format", "json", "-q"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .output()
        .unwrap();
    let mut errors = BTreeSet::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-message" || message["message"]["level"] != "error" {
            continue;
        }
        for span in message["message"]["spans"].as_array().into_iter().flatten() {
            if span["is_primary"] == true {
                errors.insert((
                    span["file_name"].as_str().unwrap().to_string(),
                    span["line_start"].as_u64().unwrap() as usize,
                ));
            }
        }
    }
    assert!(
        !errors.is_empty(),
        "the new version should break the member: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    errors
}

#[test]
fn predicted_breaks_match_the_compilers_before_anything_is_compiled() {
    let (_temp, root) = fixture();
    let predicted = predict(&root);
    let listing: Vec<String> = predicted
        .iter()
        .map(|u| {
            format!(
                "{}:{} {} -> {} [{}] {}",
                u.file, u.line, u.used, u.item, u.lint, u.certainty
            )
        })
        .collect();
    insta::assert_snapshot!(listing.join("\n"));

    let errors = compiler_errors(&root);
    let lines = |certain_only: bool| -> BTreeSet<(String, usize)> {
        predicted
            .iter()
            .filter(|u| !certain_only || u.certainty == Certainty::Certain)
            .map(|u| (u.file.clone(), u.line))
            .collect()
    };
    let all = lines(false);
    let certain = lines(true);
    let hits = all.intersection(&errors).count();
    let recall = hits as f64 / errors.len() as f64;
    let precision = hits as f64 / all.len() as f64;
    let certain_precision = certain.intersection(&errors).count() as f64 / certain.len() as f64;
    println!(
        "impact fixture: {} compiler error lines, {} predicted ({} certain); recall {recall:.2}, precision {precision:.2}, certain precision {certain_precision:.2}",
        errors.len(),
        all.len(),
        certain.len()
    );
    let missed: Vec<_> = errors.difference(&all).collect();
    let wrong: Vec<_> = all.difference(&errors).collect();
    assert!(
        recall >= 0.9,
        "missed {missed:?}\npredicted:\n{}",
        listing.join("\n")
    );
    assert!(precision >= 0.8, "not confirmed {wrong:?}");
    assert_eq!(
        certain_precision, 1.0,
        "certain but not confirmed {wrong:?}"
    );
}

/// Lines of files: `(file, line)`.
type Lines = BTreeSet<(String, usize)>;

/// The fixture with `app/src/lib.rs` ending in `tail` and the other `files` added to `app`:
/// the lines predicted and the lines the compiler reports, in the added files only.
fn predicted_and_confirmed_in(tail: &str, files: &[(&str, &str)]) -> (Lines, Lines) {
    let (_temp, root) = fixture();
    let lib = root.join("app/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{text}\n{tail}")).unwrap();
    for (file, text) in files {
        let path = root.join("app").join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let added = |(file, _): &(String, usize)| files.iter().any(|(f, _)| file.ends_with(f));
    let predicted = predict(&root)
        .into_iter()
        .map(|u| (u.file, u.line))
        .filter(added)
        .collect();
    let confirmed = compiler_errors(&root).into_iter().filter(added).collect();
    (predicted, confirmed)
}

#[test]
fn a_file_reaching_the_dependency_only_through_the_crates_own_names_is_read() {
    // `relay` renames wire's `Frame`; `far` names neither `wire` nor `Frame`, only the
    // rename through `relay`, and `near` reaches `Kind` through a glob of `relay`. A file is
    // skipped only when it has none of the names that reach the dependency: these two are read.
    let (predicted, confirmed) = predicted_and_confirmed_in(
        "mod relay;\nmod far;\nmod near;\n",
        &[
            (
                "src/relay.rs",
                "//! Renames.\npub use wire::Frame as Carried;\npub use wire::Kind as Sort;\n",
            ),
            (
                "src/far.rs",
                "//! Builds through the rename.\npub fn carried() -> crate::relay::Carried {\n    crate::relay::Carried { len: 2 }\n}\n",
            ),
            (
                "src/near.rs",
                "//! Matches through a glob of the renames.\nuse crate::relay::*;\n\npub fn named(sort: &Sort) -> u8 {\n    match sort {\n        Sort::Data => 1,\n        Sort::Ping => 2,\n    }\n}\n",
            ),
        ],
    );
    let expected = BTreeSet::from([
        ("app/src/far.rs".to_owned(), 3),
        ("app/src/near.rs".to_owned(), 5),
    ]);
    assert_eq!(predicted, expected);
    assert_eq!(confirmed, expected);
}

#[test]
fn uses_in_an_included_file_are_found() {
    let (predicted, confirmed) = predicted_and_confirmed_in(
        "include!(\"gen/extra.rs\");\n",
        &[(
            "src/gen/extra.rs",
            "/// Generated.\npub fn via_include() -> u8 {\n    wire::legacy()\n}\n",
        )],
    );
    let expected = BTreeSet::from([("app/src/gen/extra.rs".to_owned(), 3)]);
    assert_eq!(predicted, expected);
    assert_eq!(confirmed, expected);
}

#[test]
fn uses_through_the_crates_type_aliases_are_found() {
    // `aliases` names wire's types by aliases of its own; `aliased` uses only the aliases, never
    // `wire` or the types' names, so it is read for them. A literal meets the new field, a match
    // the new variant and a call the renamed method, each where the alias is used.
    let (predicted, confirmed) = predicted_and_confirmed_in(
        "mod aliases;\nmod aliased;\n",
        &[
            (
                "src/aliases.rs",
                "//! Aliases.\npub type Packet = wire::Frame;\npub type Sorting = wire::Kind;\npub type Store = Holder;\npub type Holder = wire::Buffer;\n",
            ),
            (
                "src/aliased.rs",
                "//! Uses through the aliases.\nuse crate::aliases::{Packet, Sorting, Store};\n\npub fn packet() -> Packet {\n    Packet { len: 1 }\n}\n\npub fn sorted(sort: &Sorting) -> u8 {\n    match sort {\n        Sorting::Data => 1,\n        Sorting::Ping => 2,\n    }\n}\n\npub fn emptied() -> Vec<u8> {\n    let mut store = Store::new();\n    store.take()\n}\n",
            ),
        ],
    );
    let expected = BTreeSet::from([
        ("app/src/aliased.rs".to_owned(), 5),
        ("app/src/aliased.rs".to_owned(), 9),
        ("app/src/aliased.rs".to_owned(), 17),
    ]);
    assert_eq!(confirmed, expected);
    assert_eq!(predicted, expected);
}

#[test]
fn a_use_of_an_item_whose_generics_changed_is_likely_not_certain() {
    // Whether a call meets new bounds depends on the types it passes: only the compiler knows.
    // A function that is gone breaks its callers whatever they pass.
    let temp = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = temp.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    for (dir, lib) in [
        (
            "wire-1",
            "//! One.\npub fn load<T: Clone>(value: T) -> T {\n    value\n}\npub fn gone() {}\n",
        ),
        (
            "wire-2",
            "//! Two.\npub fn load<T: Copy>(value: T) -> T {\n    value\n}\n",
        ),
    ] {
        write(
            &format!("{dir}/Cargo.toml"),
            "[package]\nname = \"wire\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
        );
        write(&format!("{dir}/src/lib.rs"), lib);
    }
    write(
        "app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        "app/src/lib.rs",
        "//! Uses both.\npub fn both() -> u8 {\n    wire::gone();\n    wire::load(1u8)\n}\n",
    );
    let root = temp.path();
    let changes = breaking_changes(
        &root.join("wire-1"),
        &root.join("wire-2"),
        &BuildOptions::default(),
    )
    .unwrap();
    let predicted: Vec<(usize, String, Certainty)> =
        affected_uses(root, &root.join("app"), &["wire".to_string()], &changes)
            .unwrap()
            .into_iter()
            .map(|u| (u.line, u.lint.name().to_owned(), u.certainty))
            .collect();
    assert_eq!(
        predicted,
        [
            (3, "function_missing".to_owned(), Certainty::Certain),
            (4, "function_generics_changed".to_owned(), Certainty::Likely),
        ]
    );
}
