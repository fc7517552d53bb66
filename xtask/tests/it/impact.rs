//! `upgrade-plan --dep` with impact, through the binary: a member of a workspace uses a
//! registry dependency whose two versions sit in a cargo home made for the test (so nothing is
//! fetched), and the plan lists the lines the new major breaks.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The dependency's two versions and the member's sources, shared with graywork-contracts'
/// ground-truth test against the compiler.
fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/graywork-contracts/tests/fixtures/impact")
}

struct Tree {
    _temp: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
}

fn tree() -> Tree {
    let temp = tempfile::tempdir().unwrap();
    let home = temp.path().join("cargo-home");
    let index = home.join("registry/src/index.crates.io-0000000000000000");
    for (dir, version) in [("wire-1", "1.0.0"), ("wire-2", "2.0.0")] {
        let to = index.join(format!("wire-{version}"));
        std::fs::create_dir_all(to.join("src")).unwrap();
        std::fs::copy(
            sources().join(dir).join("src/lib.rs"),
            to.join("src/lib.rs"),
        )
        .unwrap();
        std::fs::write(
            to.join("Cargo.toml"),
            format!("[package]\nname = \"wire\"\nversion = \"{version}\"\nedition = \"2021\"\n"),
        )
        .unwrap();
    }
    let root = temp.path().join("ws");
    std::fs::create_dir_all(root.join("app/src")).unwrap();
    std::fs::create_dir_all(root.join("quiet/src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"app\", \"quiet\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("app/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nwire = \"1\"\n",
    )
    .unwrap();
    std::fs::copy(
        sources().join("app/src/lib.rs"),
        root.join("app/src/lib.rs"),
    )
    .unwrap();
    std::fs::write(
        root.join("quiet/Cargo.toml"),
        "[package]\nname = \"quiet\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nwire = \"1\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("quiet/src/lib.rs"),
        "//! Uses only what version 2 keeps.\npub fn three() -> u8 {\n    wire::stable()\n}\n",
    )
    .unwrap();
    let registry = "registry+https://github.com/rust-lang/crates.io-index";
    std::fs::write(
        root.join("Cargo.lock"),
        format!(
            "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"wire\"]\n\n\
             [[package]]\nname = \"quiet\"\nversion = \"0.1.0\"\ndependencies = [\"wire\"]\n\n\
             [[package]]\nname = \"wire\"\nversion = \"1.0.0\"\nsource = \"{registry}\"\n"
        ),
    )
    .unwrap();
    Tree {
        _temp: temp,
        root,
        home,
    }
}

fn run(tree: &Tree, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("upgrade-plan")
        .args(args)
        .arg("--offline")
        .arg("--manifest-path")
        .arg(tree.root.join("Cargo.toml"))
        .env("CARGO_HOME", &tree.home)
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_new_major_lists_the_lines_it_breaks_per_member_and_stage() {
    let tree = tree();
    let (ok, text, stderr) = run(&tree, &["--dep", "wire@2"]);
    assert!(ok, "{stderr}");
    assert!(
        text.contains(
            "impact of wire 2.0.0 (from 1.0.0): 8 line(s) in 1 of 2 member(s) that use it (7 certain, 1 likely)"
        ),
        "{text}"
    );
    assert!(
        text.contains("app: app/src/lib.rs:8 uses `Frame`: field `kind` added to `Frame`, which users can build with a literal: those literals break [constructible_struct_adds_field, certain]"),
        "{text}"
    );
    assert!(text.contains("quiet: no code change expected"), "{text}");

    let (ok, explained, stderr) = run(&tree, &["--dep", "wire@2", "--explain-impact", "app"]);
    assert!(ok, "{stderr}");
    insta::assert_snapshot!(explained);

    let (ok, json, stderr) = run(&tree, &["--dep", "wire@2", "--format", "json"]);
    assert!(ok, "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(plan["impact"]["lines"], 8);
    assert_eq!(plan["impact"]["members"]["quiet"], 0);
    let predicted: Vec<&serde_json::Value> = plan["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|stage| stage["changes"].as_array().unwrap())
        .filter(|change| !change["impact"].is_null())
        .collect();
    assert_eq!(predicted.len(), 8);
    assert!(
        predicted
            .iter()
            .all(|change| change["file"] == "app/src/lib.rs"
                && change["line"].as_u64().is_some()
                && change["kind"] == "code")
    );

    let (ok, _, stderr) = run(&tree, &["--dep", "wire@2", "--explain-impact", "nope"]);
    assert!(!ok);
    assert!(
        stderr.contains("unknown crate `nope` in --explain-impact"),
        "{stderr}"
    );
}

#[test]
fn sources_missing_offline_are_noted_not_guessed() {
    let tree = tree();
    let (ok, text, stderr) = run(&tree, &["--dep", "wire@3"]);
    assert!(ok, "{stderr}");
    assert!(
        text.contains(
            "note: no lines predicted: wire 3.0.0 is not in cargo's registry cache (--offline)"
        ),
        "{text}"
    );
}

#[test]
fn a_path_members_breaking_bump_lists_its_dependents_lines() {
    // `wire` is a member now: its tree is version 2's code, still versioned 1.0.0, whose
    // release sits in cargo's cache; `app` depends on it by path.
    let temp = tempfile::tempdir().unwrap();
    let home = temp.path().join("cargo-home");
    let release = home.join("registry/src/index.crates.io-0000000000000000/wire-1.0.0");
    std::fs::create_dir_all(release.join("src")).unwrap();
    std::fs::copy(
        sources().join("wire-1/src/lib.rs"),
        release.join("src/lib.rs"),
    )
    .unwrap();
    std::fs::write(
        release.join("Cargo.toml"),
        "[package]\nname = \"wire\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    let root = temp.path().join("ws");
    for dir in ["app/src", "wire/src"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"app\", \"wire\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("wire/Cargo.toml"),
        "[package]\nname = \"wire\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::copy(
        sources().join("wire-2/src/lib.rs"),
        root.join("wire/src/lib.rs"),
    )
    .unwrap();
    std::fs::write(
        root.join("app/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nwire = { path = \"../wire\", version = \"1\" }\n",
    )
    .unwrap();
    std::fs::copy(
        sources().join("app/src/lib.rs"),
        root.join("app/src/lib.rs"),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "upgrade-plan",
            "--crate",
            "wire@2.0.0",
            "--offline",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .env("CARGO_HOME", &home)
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("impact of wire 2.0.0 (from 1.0.0): 8 line(s) in 1 of 1 member(s)"),
        "{text}"
    );
    assert!(
        text.contains(
            "app: app/src/lib.rs:23 uses `wire::legacy`: function `legacy` removed or renamed"
        ),
        "{text}"
    );
}
