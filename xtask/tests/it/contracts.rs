//! `check-contracts` through the binary: exit codes, the output formats and the flags that choose
//! the build, on fixture pairs and trees made in temp dirs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Fixture directories are relative to the package, so paths in snapshots are stable; the
/// library's tests in graywork-contracts read them too.
const FIXTURES: &str = "tests/fixtures/contracts";

fn xtask(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn exit_codes() {
    let dir = |group: &str, name: &str, side: &str| format!("{FIXTURES}/{group}/{name}/{side}");
    let (code, _, _) = xtask(&[
        "check-contracts",
        "--baseline-dir",
        &dir("silent", "renamed_parameter", "old"),
        "--crate-dir",
        &dir("silent", "renamed_parameter", "new"),
    ]);
    assert_eq!(code, 0);
    let (code, stdout, _) = xtask(&[
        "check-contracts",
        "--format",
        "json",
        "--baseline-dir",
        &dir("lints", "trait_method_added", "old"),
        "--crate-dir",
        &dir("lints", "trait_method_added", "new"),
    ]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["required_bump"], "major");
    let (code, _, stderr) = xtask(&[
        "check-contracts",
        "--baseline-dir",
        "/nonexistent/old",
        "--crate-dir",
        "/nonexistent/new",
    ]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = xtask(&["check-contracts", "--crate-dir", "x"]);
    assert_eq!(code, 2, "{stderr}");

    let broken = tempfile::tempdir().unwrap();
    std::fs::create_dir(broken.path().join("src")).unwrap();
    std::fs::write(broken.path().join("src/lib.rs"), "pub fn broken( {}\n").unwrap();
    let broken = broken.path().to_str().unwrap();
    let (code, _, stderr) = xtask(&[
        "check-contracts",
        "--baseline-dir",
        broken,
        "--crate-dir",
        broken,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("src/lib.rs:1:"), "{stderr}");
}

#[test]
fn github_format_prints_workflow_commands_relative_to_the_repository() {
    let dir = |side: &str| format!("{FIXTURES}/lints/inherent_method_missing/{side}");
    let (code, stdout, stderr) = xtask(&[
        "check-contracts",
        "--format",
        "github",
        "--baseline-dir",
        &dir("old"),
        "--crate-dir",
        &dir("new"),
    ]);
    assert_eq!(code, 1, "{stderr}");
    insta::assert_snapshot!("github_format", stdout);
}

/// Writes a one-crate tree with a manifest declaring features `extra` (not default) and `std`
/// (default), and the given `src/lib.rs`.
fn crate_with_features(root: &Path, side: &str, lib: &str) -> PathBuf {
    let dir = root.join(side);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"demo\"\nedition = \"2024\"\n\n[features]\ndefault = [\"std\"]\nstd = []\nextra = []\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    dir
}

#[test]
fn features_and_cfg_flags_choose_the_build_that_is_checked() {
    let temp = tempfile::tempdir().unwrap();
    let old = crate_with_features(
        temp.path(),
        "old",
        "pub fn always() {}\n#[cfg(feature = \"extra\")]\npub fn extra() {}\n#[cfg(tokio_unstable)]\npub fn unstable() {}\n",
    );
    let new = crate_with_features(temp.path(), "new", "pub fn always() {}\n");
    let run = |flags: &[&str]| {
        let mut args = vec![
            "check-contracts",
            "--format",
            "json",
            "--baseline-dir",
            old.to_str().unwrap(),
            "--crate-dir",
            new.to_str().unwrap(),
        ];
        args.extend_from_slice(flags);
        let (code, stdout, stderr) = xtask(&args);
        let json: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("{err}: {stdout}{stderr}"));
        let mut paths: Vec<String> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["path"].as_str().unwrap(),
                    f["lint"].as_str().unwrap()
                )
            })
            .collect();
        paths.sort();
        (code, paths)
    };
    // Default features: `extra` is off and `tokio_unstable` unknown, so only the item with an
    // undecided cfg is reported.
    assert_eq!(run(&[]), (1, vec!["unstable function_missing".to_string()]));
    assert_eq!(
        run(&["--features", "extra"]),
        (
            1,
            vec![
                "extra function_missing".to_string(),
                "unstable function_missing".to_string()
            ]
        )
    );
    assert_eq!(
        run(&["--all-features", "--cfg", "tokio_unstable"]),
        (
            1,
            vec![
                "extra function_missing".to_string(),
                "unstable function_missing".to_string()
            ]
        )
    );
    assert_eq!(
        run(&["--cfg", "tokio_unstable"]).1,
        vec!["unstable function_missing".to_string()]
    );
}

#[test]
fn baseline_version_comes_from_cargos_registry_cache() {
    // A cargo home whose registry already holds the published 1.0.0: no network, no cargo run.
    let home = tempfile::tempdir().unwrap();
    let published = home
        .path()
        .join("registry/src/index.crates.io-0000000000000000/demo-1.0.0");
    std::fs::create_dir_all(published.join("src")).unwrap();
    std::fs::write(
        published.join("Cargo.toml"),
        "[package]\nname = \"demo\"\nversion = \"1.0.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    std::fs::write(
        published.join("src/lib.rs"),
        "pub fn f() {}\npub fn g() {}\n",
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("src")).unwrap();
    std::fs::write(
        work.path().join("Cargo.toml"),
        "[package]\nname = \"demo\"\nversion = \"1.1.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    std::fs::write(work.path().join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    let run = |version: &str| {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args([
                "check-contracts",
                "--baseline-version",
                version,
                "--crate-dir",
            ])
            .arg(work.path())
            .env("CARGO_HOME", home.path())
            .env("CARGO_NET_OFFLINE", "true")
            .output()
            .unwrap()
    };
    let output = run("1.0.0");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("against demo 1.0.0 from the registry"),
        "{stdout}"
    );
    assert!(
        stdout.contains("g [function_missing, needs major]"),
        "{stdout}"
    );
    assert!(stdout.contains("[contract_version_not_bumped"), "{stdout}");

    // A version cargo cannot get names the crate and the version.
    let output = run("9.9.9");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot fetch `demo` 9.9.9 from the registry"),
        "{stderr}"
    );
}

#[test]
fn a_release_re_exporting_another_version_of_itself_is_read_as_that_version() {
    // demo 0.3.9 is the "semver trick": it depends on demo 0.4 and re-exports its items.
    let home = tempfile::tempdir().unwrap();
    let next = home
        .path()
        .join("registry/src/index.crates.io-0000000000000000/demo-0.4.2");
    std::fs::create_dir_all(next.join("src")).unwrap();
    std::fs::write(
        next.join("Cargo.toml"),
        "[package]\nname = \"demo\"\nversion = \"0.4.2\"\nedition = \"2015\"\n",
    )
    .unwrap();
    std::fs::write(
        next.join("src/lib.rs"),
        "pub trait Rng { fn next(&mut self) -> u32; fn choose(&mut self, u8) -> u8 { 0 } }\npub mod seq { pub fn shuffle() {} }\n",
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let (old, new) = (work.path().join("old"), work.path().join("new"));
    std::fs::create_dir_all(old.join("src")).unwrap();
    std::fs::write(
        old.join("Cargo.toml"),
        "[package]\nname = \"demo\"\nversion = \"0.3.9\"\nedition = \"2015\"\n\n[dependencies.demo]\nversion = \"0.4\"\n",
    )
    .unwrap();
    std::fs::write(
        old.join("src/lib.rs"),
        "extern crate demo as demo4;\npub use demo4::Rng;\npub use demo4::seq;\n",
    )
    .unwrap();
    std::fs::create_dir_all(new.join("src")).unwrap();
    std::fs::write(
        new.join("Cargo.toml"),
        "[package]\nname = \"demo\"\nversion = \"0.5.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(
        new.join("src/lib.rs"),
        "pub trait Rng { fn next(&mut self) -> u32; }\npub mod seq {}\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["check-contracts", "--baseline-dir"])
        .arg(&old)
        .arg("--crate-dir")
        .arg(&new)
        .env("CARGO_HOME", home.path())
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Rng::choose [trait_method_missing"),
        "{stdout}"
    );
    assert!(
        stdout.contains("seq::shuffle [function_missing"),
        "{stdout}"
    );
    assert!(!stdout.contains("not read"), "{stdout}");
}
