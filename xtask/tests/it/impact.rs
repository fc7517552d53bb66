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

/// Writes `text` to `path`, making its directory.
fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `wire` at `version` in the cargo home `home`, where cargo unpacks registry crates: its
/// manifest ends with `manifest_tail`, its `src/lib.rs` is `lib`.
fn publish_wire(home: &Path, version: &str, manifest_tail: &str, lib: &str) {
    let dir = home
        .join("registry/src/index.crates.io-0000000000000000")
        .join(format!("wire-{version}"));
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"wire\"\nversion = \"{version}\"\nedition = \"2021\"\n{manifest_tail}"
        ),
    );
    write(&dir.join("src/lib.rs"), lib);
}

/// A workspace of `members` in `root`, each depending on `wire` as `requirement` says, with a
/// Cargo.lock that resolves wire 1.0.0 from crates.io for all of them.
fn workspace_using_wire(root: &Path, members: &[(&str, &str)]) {
    let names: Vec<String> = members
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect();
    write(
        &root.join("Cargo.toml"),
        &format!(
            "[workspace]\nmembers = [{}]\nresolver = \"2\"\n",
            names.join(", ")
        ),
    );
    let mut lock = String::from("version = 4\n");
    for (name, requirement) in members {
        write(
            &root.join(name).join("Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nwire = {requirement}\n"
            ),
        );
        lock.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"0.1.0\"\ndependencies = [\"wire\"]\n"
        ));
    }
    lock.push_str(
        "\n[[package]]\nname = \"wire\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    );
    write(&root.join("Cargo.lock"), &lock);
}

fn tree() -> Tree {
    let temp = tempfile::tempdir().unwrap();
    let home = temp.path().join("cargo-home");
    for (dir, version) in [("wire-1", "1.0.0"), ("wire-2", "2.0.0")] {
        let lib = std::fs::read_to_string(sources().join(dir).join("src/lib.rs")).unwrap();
        publish_wire(&home, version, "", &lib);
    }
    let root = temp.path().join("ws");
    workspace_using_wire(&root, &[("app", "\"1\""), ("quiet", "\"1\"")]);
    write(
        &root.join("app/src/lib.rs"),
        &std::fs::read_to_string(sources().join("app/src/lib.rs")).unwrap(),
    );
    write(
        &root.join("quiet/src/lib.rs"),
        "//! Uses only what version 2 keeps.\npub fn three() -> u8 {\n    wire::stable()\n}\n",
    );
    Tree {
        _temp: temp,
        root,
        home,
    }
}

fn run(tree: &Tree, args: &[&str]) -> (bool, String, String) {
    run_with(tree, args, &[])
}

/// [`run`] with more environment variables.
fn run_with(tree: &Tree, args: &[&str], envs: &[(&str, &str)]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("upgrade-plan")
        .args(args)
        .arg("--offline")
        .arg("--manifest-path")
        .arg(tree.root.join("Cargo.toml"))
        .env("CARGO_HOME", &tree.home)
        .env("CARGO_NET_OFFLINE", "true")
        .envs(envs.iter().copied())
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
fn a_fetch_runs_outside_a_workspace_pinned_to_a_missing_toolchain() {
    // The workspace pins a toolchain rustup has not installed. Cargo, fetching the new version,
    // must not run where rustup would pick that toolchain for the `rustc` it asks: the fetch
    // then fails on the registry alone (wire 3.0.0 is published nowhere), not on the pin.
    let tree = tree();
    write(
        &tree.root.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"1.0.0\"\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["upgrade-plan", "--dep", "wire@3"])
        .current_dir(&tree.root)
        .env("CARGO_HOME", &tree.home)
        .env("CARGO_NET_OFFLINE", "true")
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let note = text
        .lines()
        .find(|line| line.contains("no lines predicted"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        note.contains("cannot fetch `wire` 3.0.0 from the registry") && !note.contains("rustc"),
        "{note}"
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

/// The cache entries of one kind under the workspace's build directory.
fn cache_entries(root: &Path, kind: &str) -> Vec<PathBuf> {
    let mut entries = Vec::new();
    for build in std::fs::read_dir(root.join("target/graywork/cache"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for entry in std::fs::read_dir(build.path().join(kind))
            .into_iter()
            .flatten()
            .flatten()
        {
            entries.push(entry.path());
        }
    }
    entries
}

#[test]
fn a_second_run_answers_from_the_cache_until_a_file_it_read_changes() {
    let tree = tree();
    // Files written an hour ago: their size and time vouch for them.
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for file in [
        "app/src/lib.rs",
        "quiet/src/lib.rs",
        "app/Cargo.toml",
        "quiet/Cargo.toml",
    ] {
        std::fs::File::options()
            .write(true)
            .open(tree.root.join(file))
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
    }
    let (ok, first, stderr) = run(&tree, &["--dep", "wire@2"]);
    assert!(ok, "{stderr}");
    assert!(first.contains("8 line(s) in 1 of 2 member(s)"), "{first}");
    assert_eq!(cache_entries(&tree.root, "pair").len(), 1);
    let members = cache_entries(&tree.root, "member");
    assert_eq!(members.len(), 2, "{members:?}");

    // Answered from the cache: the same plan, even with the old version's source gone from
    // cargo's cache (registry sources never change, so their comparison is kept).
    let old_source = tree
        .home
        .join("registry/src/index.crates.io-0000000000000000/wire-1.0.0/src/lib.rs");
    let old_text = std::fs::read_to_string(&old_source).unwrap();
    std::fs::remove_file(&old_source).unwrap();
    let (ok, second, stderr) = run(&tree, &["--dep", "wire@2"]);
    assert!(ok, "{stderr}");
    assert_eq!(second, first);
    std::fs::write(&old_source, old_text).unwrap();

    // Damaged entries are misses, and are written whole again.
    for entry in cache_entries(&tree.root, "pair")
        .into_iter()
        .chain(cache_entries(&tree.root, "member"))
    {
        std::fs::write(&entry, "{\"key\": ").unwrap();
    }
    let (ok, third, stderr) = run(&tree, &["--dep", "wire@2"]);
    assert!(ok, "{stderr}");
    assert_eq!(third, first);
    for entry in cache_entries(&tree.root, "member") {
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(
            serde_json::from_str::<serde_json::Value>(&text).is_ok(),
            "{text}"
        );
    }

    // An edit to a file a member's reading looked at is seen at once.
    let quiet = tree.root.join("quiet/src/lib.rs");
    let mut text = std::fs::read_to_string(&quiet).unwrap();
    text.push_str("pub fn four() -> u8 {\n    wire::legacy()\n}\n");
    std::fs::write(&quiet, text).unwrap();
    let (ok, edited, stderr) = run(&tree, &["--dep", "wire@2"]);
    assert!(ok, "{stderr}");
    assert!(edited.contains("9 line(s) in 2 of 2 member(s)"), "{edited}");
    assert!(
        edited.contains("quiet: quiet/src/lib.rs:6 uses `wire::legacy`"),
        "{edited}"
    );

    // A module file the member did not have before is seen too.
    std::fs::write(
        &quiet,
        std::fs::read_to_string(&quiet).unwrap() + "pub mod extra;\n",
    )
    .unwrap();
    std::fs::write(
        tree.root.join("quiet/src/extra.rs"),
        "pub fn five() -> u8 {\n    wire::legacy()\n}\n",
    )
    .unwrap();
    let (ok, added, stderr) = run(&tree, &["--dep", "wire@2"]);
    assert!(ok, "{stderr}");
    assert!(
        added.contains("quiet: quiet/src/extra.rs:2 uses `wire::legacy`"),
        "{added}"
    );
}

#[test]
fn no_cache_is_kept_when_it_is_turned_off() {
    let tree = tree();
    let (ok, text, stderr) = run_with(&tree, &["--dep", "wire@2"], &[("GRAYWORK_NO_CACHE", "1")]);
    assert!(ok, "{stderr}");
    assert!(text.contains("8 line(s) in 1 of 2 member(s)"), "{text}");
    assert!(!tree.root.join("target/graywork").exists());
}

#[test]
fn the_versions_are_compared_with_the_features_the_members_ask_for() {
    // `wire::extra` exists only with the `extra` feature, which `app` asks for; version 2
    // drops it. Read with the default features alone, neither version has it.
    let temp = tempfile::tempdir().unwrap();
    let home = temp.path().join("cargo-home");
    for (version, extra) in [
        (
            "1.0.0",
            "#[cfg(feature = \"extra\")]\npub fn extra() -> u8 {\n    1\n}\n",
        ),
        ("2.0.0", ""),
    ] {
        publish_wire(
            &home,
            version,
            "\n[features]\nextra = []\n",
            &format!("//! wire {version}.\npub fn stable() -> u8 {{\n    0\n}}\n{extra}"),
        );
    }
    let root = temp.path().join("ws");
    workspace_using_wire(
        &root,
        &[("app", "{ version = \"1\", features = [\"extra\"] }")],
    );
    write(
        &root.join("app/src/lib.rs"),
        "//! Uses the feature's function.\npub fn both() -> u8 {\n    wire::stable() + wire::extra()\n}\n",
    );
    let tree = Tree {
        _temp: temp,
        root,
        home,
    };
    let (ok, text, stderr) = run(&tree, &["--dep", "wire@2"]);
    assert!(ok, "{stderr}");
    assert!(
        text.contains("impact of wire 2.0.0 (from 1.0.0): 1 line(s) in 1 of 1 member(s)"),
        "{text}"
    );
    assert!(
        text.contains(
            "app: app/src/lib.rs:3 uses `wire::extra`: function `extra` removed or renamed"
        ),
        "{text}"
    );
}

#[test]
fn a_feature_the_new_version_drops_is_predicted_at_the_manifest_line_asking_for_it() {
    // `app` asks for wire's `std`, which version 2 no longer has: cargo refuses the manifest
    // before compiling anything, at the entry that names the feature.
    let temp = tempfile::tempdir().unwrap();
    let home = temp.path().join("cargo-home");
    for (version, features) in [
        ("1.0.0", "std = []\nextra = []\n"),
        ("2.0.0", "extra = []\n"),
    ] {
        publish_wire(
            &home,
            version,
            &format!("\n[features]\n{features}"),
            &format!("//! wire {version}.\npub fn stable() -> u8 {{\n    0\n}}\n"),
        );
    }
    let root = temp.path().join("ws");
    workspace_using_wire(
        &root,
        &[
            (
                "app",
                "{ version = \"1\", features = [\"std\", \"extra\"] }",
            ),
            ("shared", "{ workspace = true, features = [\"extra\"] }"),
        ],
    );
    // `shared` inherits the root's entry, which asks for `std`.
    let manifest = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    write(
        &manifest,
        &format!(
            "{text}\n[workspace.dependencies]\nwire = {{ version = \"1\", features = [\"std\"] }}\n"
        ),
    );
    for member in ["app", "shared"] {
        write(
            &root.join(member).join("src/lib.rs"),
            "//! Uses what stays.\npub fn kept() -> u8 {\n    wire::stable()\n}\n",
        );
    }
    let tree = Tree {
        _temp: temp,
        root,
        home,
    };
    let (ok, text, stderr) = run(&tree, &["--dep", "wire@2"]);
    assert!(ok, "{stderr}");
    assert!(
        text.contains("impact of wire 2.0.0 (from 1.0.0): 2 line(s) in 2 of 2 member(s) that use it (2 certain, 0 likely)"),
        "{text}"
    );
    for line in [
        "app: app/Cargo.toml:7 uses `features = [\"std\"]`: feature `std` was removed: crates that enable it no longer build [feature_missing, certain]",
        "shared: Cargo.toml:6 uses `features = [\"std\"]`: feature `std` was removed",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    assert!(!text.contains("shared/Cargo.toml"), "{text}");
}
