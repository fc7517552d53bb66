//! `check` and `compare_dirs` on the fixture pairs and the fixture workspace: every lint's report
//! as a snapshot, silent pairs, crates built with features and cfgs, and the workspace check with
//! its lock file, git baseline, versions and wiring.

use std::path::{Path, PathBuf};
use std::process::Command;

use graywork_contracts::{
    Baseline, CheckOptions as CheckContractsArgs, Family, Lint, LockOptions, LockUpdate, Severity,
    check, compare_dirs,
};

use crate::copy_tree::copy_tree;

/// The fixtures live with xtask's tests, which run the binary on some of them too.
fn xtask_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../xtask")
}

/// Fixture directories, relative to xtask's package.
const FIXTURES: &str = "tests/fixtures/contracts";

fn fixtures() -> PathBuf {
    xtask_dir().join(FIXTURES)
}

/// A report's text with the fixtures named relative to xtask's package, as its tests name them,
/// so paths in snapshots are stable.
fn relative_to_xtask(text: &str) -> String {
    text.replace(&format!("{}/", xtask_dir().display()), "")
}

fn case_dirs(group: &str) -> Vec<(String, PathBuf)> {
    let dir = fixtures().join(group);
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            )
        })
        .collect();
    cases.sort();
    cases
}

#[test]
fn every_lint_has_a_fixture_that_reports_it() {
    let fixtures: Vec<String> = case_dirs("lints")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    for lint in Lint::ALL.iter().filter(|l| l.family() == Family::Surface) {
        assert!(
            fixtures.iter().any(|f| f == lint.name()),
            "no fixture pair for lint `{lint}`"
        );
    }
    for (name, dir) in case_dirs("lints") {
        let report = compare_dirs(&dir.join("old"), &dir.join("new")).unwrap();
        assert!(
            report.findings.iter().any(|f| f.lint.name() == name),
            "fixture `{name}` does not report its lint: {:#?}",
            report.findings
        );
        insta::assert_snapshot!(format!("lint_{name}"), relative_to_xtask(&report.to_text()));
    }
}

#[test]
fn silent_pairs_give_nothing() {
    let cases = case_dirs("silent");
    assert!(cases.len() >= 7, "the silent fixtures are missing");
    for (name, dir) in cases {
        let report = compare_dirs(&dir.join("old"), &dir.join("new")).unwrap();
        assert!(
            report.findings.is_empty(),
            "`{name}` is not silent: {:#?}",
            report.findings
        );
        assert!(report.ok);
    }
}

#[test]
fn every_fixture_compared_with_itself_gives_nothing() {
    for group in ["lints", "silent"] {
        for (name, dir) in case_dirs(group) {
            for side in ["old", "new"] {
                let path = dir.join(side);
                let report = compare_dirs(&path, &path).unwrap();
                assert!(
                    report.findings.is_empty(),
                    "{group}/{name}/{side} differs from itself: {:#?}",
                    report.findings
                );
            }
        }
    }
}

#[test]
fn crate_version_in_manifests_is_checked_in_dir_mode() {
    let temp = tempfile::tempdir().unwrap();
    let lint_dir = fixtures().join("lints/trait_provided_method_added");
    for (side, version) in [("old", "1.2.0"), ("new", "1.2.0")] {
        copy_tree(&lint_dir.join(side), &temp.path().join(side));
        let manifest =
            format!("[package]\nname = \"fixture\"\nversion = \"{version}\"\nedition = \"2024\"\n");
        std::fs::write(temp.path().join(side).join("Cargo.toml"), manifest).unwrap();
    }
    let report = compare_dirs(&temp.path().join("old"), &temp.path().join("new")).unwrap();
    assert!(!report.ok);
    let mut lints: Vec<&str> = report.findings.iter().map(|f| f.lint.name()).collect();
    lints.sort_unstable();
    assert_eq!(
        lints,
        ["contract_version_not_bumped", "trait_provided_method_added"]
    );
    let text = report.to_text();
    assert!(text.contains("set it to at least 1.3.0"), "{text}");

    let manifest = "[package]\nname = \"fixture\"\nversion = \"1.3.0\"\nedition = \"2024\"\n";
    std::fs::write(temp.path().join("new/Cargo.toml"), manifest).unwrap();
    let report = compare_dirs(&temp.path().join("old"), &temp.path().join("new")).unwrap();
    assert!(report.ok, "{}", report.to_text());
}

#[test]
fn a_cfg_that_holds_by_default_is_not_printed_as_a_condition() {
    let temp = tempfile::tempdir().unwrap();
    let manifest = "[package]\nname = \"fixture\"\nedition = \"2024\"\n\n[features]\ndefault = [\"std\"]\nstd = []\nextra = []\n";
    for (side, lib) in [
        (
            "old",
            "#[cfg(feature = \"std\")] pub fn by_default() {}\n#[cfg(feature = \"extra\")] pub fn opt_in() {}\n",
        ),
        ("new", ""),
    ] {
        std::fs::create_dir_all(temp.path().join(side).join("src")).unwrap();
        std::fs::write(temp.path().join(side).join("Cargo.toml"), manifest).unwrap();
        std::fs::write(temp.path().join(side).join("src/lib.rs"), lib).unwrap();
    }
    let options = graywork_contracts::BuildOptions {
        all_features: true,
        ..Default::default()
    };
    let report = graywork_contracts::compare_dirs_with(
        &temp.path().join("old"),
        &temp.path().join("new"),
        &options,
    )
    .unwrap();
    let text = report.to_text();
    assert!(
        !text.contains("only with #[cfg(feature = \"std\")]"),
        "{text}"
    );
    assert!(
        text.contains("only with #[cfg(feature = \"extra\")]"),
        "{text}"
    );
}

#[test]
fn an_item_at_two_public_paths_changes_once() {
    let temp = tempfile::tempdir().unwrap();
    for (side, lib) in [
        (
            "old",
            "pub mod api { pub fn run(a: u8) {} }\npub use api::run;\n",
        ),
        (
            "new",
            "pub mod api { pub fn run(a: u16) {} }\npub use api::run;\n",
        ),
    ] {
        std::fs::create_dir_all(temp.path().join(side).join("src")).unwrap();
        std::fs::write(temp.path().join(side).join("src/lib.rs"), lib).unwrap();
    }
    let report = compare_dirs(&temp.path().join("old"), &temp.path().join("new")).unwrap();
    let text = report.to_text();
    assert_eq!(report.errors(), 1, "{text}");
    assert_eq!(report.findings[0].path, "run", "{text}");
    assert_eq!(report.findings[0].also_at, ["api::run"], "{text}");
    assert!(text.contains("also at: api::run"), "{text}");
}

#[test]
fn dir_mode_errors_name_the_problem() {
    let temp = tempfile::tempdir().unwrap();
    let err = compare_dirs(temp.path(), temp.path()).unwrap_err();
    assert!(format!("{err:#}").contains("has no src/lib.rs"), "{err:#}");

    std::fs::create_dir_all(temp.path().join("src")).unwrap();
    std::fs::write(temp.path().join("src/lib.rs"), "pub mod a;\n").unwrap();
    std::fs::write(
        temp.path().join("src/a.rs"),
        "pub struct A;\n\npub fn broken( {}\n",
    )
    .unwrap();
    // A module file that does not parse is reported as not read, in both trees, and the
    // verdict says the comparison is incomplete.
    let report = compare_dirs(temp.path(), temp.path()).unwrap();
    let text = report.to_text();
    assert_eq!(report.unread.len(), 2, "{text}");
    assert!(report.unread[0].detail.contains("src/a.rs:3:"), "{text}");
    assert!(
        text.contains("result: ok, incomplete: 2 part(s) not read"),
        "{text}"
    );
}

// ---- Workspace mode: a fixture workspace copied to a temporary directory. ----

struct Fixture {
    _temp: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path().join("ws");
        copy_tree(&fixtures().join("workspace"), &root);
        Fixture { _temp: temp, root }
    }

    fn args(&self) -> CheckContractsArgs {
        CheckContractsArgs {
            manifest_path: Some(self.root.join("Cargo.toml")),
            baseline: Baseline::default(),
            ..CheckContractsArgs::default()
        }
    }

    fn bless(&self) {
        let outcome = check(&CheckContractsArgs {
            baseline: Baseline::Lock(LockOptions {
                update: LockUpdate::Bless,
                ..LockOptions::default()
            }),
            ..self.args()
        })
        .unwrap();
        assert!(outcome.report.ok, "{}", outcome.report.to_text());
    }

    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.root.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} does not contain {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    fn text(&self) -> (bool, String) {
        let outcome = check(&self.args()).unwrap();
        let text = outcome.report.to_text();
        (
            outcome.report.ok,
            text.replace(&self.root.display().to_string(), "[ws]"),
        )
    }
}

#[test]
fn bless_then_check_is_clean_and_the_lock_is_stable() {
    let fixture = Fixture::new();
    fixture.bless();
    let lock = std::fs::read_to_string(fixture.root.join("shared/contracts.lock")).unwrap();
    insta::assert_snapshot!("workspace_lock", lock);
    let (ok, text) = fixture.text();
    assert!(ok, "{text}");
    insta::assert_snapshot!("workspace_clean", text);
    fixture.bless();
    assert_eq!(
        std::fs::read_to_string(fixture.root.join("shared/contracts.lock")).unwrap(),
        lock
    );
}

#[test]
fn missing_lock_file_is_a_usage_error() {
    let fixture = Fixture::new();
    let err = check(&fixture.args()).unwrap_err();
    assert!(format!("{err:#}").contains("--bless"), "{err:#}");
}

#[test]
fn breaking_change_to_released_major_says_start_the_next_major() {
    let fixture = Fixture::new();
    fixture.bless();
    fixture.edit(
        "shared/src/billing/v1.rs",
        "fn total(&self, amount: u64) -> u64;",
        "fn total(&self, amount: u64) -> u64;\n    fn refund(&self, amount: u64);",
    );
    fixture.edit(
        "shared/src/billing/v1.rs",
        "fn total(&self, amount: u64) -> u64;",
        "fn total(&self, amount: Money) -> u64;",
    );
    let (ok, text) = fixture.text();
    assert!(!ok);
    assert!(text.contains("new module `billing::v2`"), "{text}");
    insta::assert_snapshot!("workspace_breaking", text);
}

#[test]
fn breaking_change_to_a_shared_type_outside_contract_modules_is_an_error() {
    let fixture = Fixture::new();
    fixture.bless();
    fixture.edit(
        "shared/src/lib.rs",
        "pub struct Money(pub u64);",
        "pub struct Money(pub i64);",
    );
    let (ok, text) = fixture.text();
    assert!(!ok);
    insta::assert_snapshot!("workspace_shared_type", text);
}

#[test]
fn version_problems_are_errors() {
    let fixture = Fixture::new();
    fixture.bless();
    let v1 = "shared/src/billing/v1.rs";
    fixture.edit(v1, "\"1.2.0\"", "\"1.1.9\"");
    let (ok, text) = fixture.text();
    assert!(!ok);
    assert!(text.contains("[contract_version_decreased"), "{text}");
    fixture.edit(v1, "\"1.1.9\"", "\"1.2\"");
    let (ok, text) = fixture.text();
    assert!(!ok);
    assert!(text.contains("[contract_version_invalid]"), "{text}");
    fixture.edit(v1, "pub const VERSION: &str = \"1.2\";", "");
    let (ok, text) = fixture.text();
    assert!(!ok);
    assert!(text.contains("[contract_version_missing]"), "{text}");
    insta::assert_snapshot!("workspace_version_missing", text);
}

#[test]
fn retiring_a_module_is_reported_and_unmet_requirements_fail() {
    let fixture = Fixture::new();
    fixture.bless();
    fixture.edit("shared/src/billing/mod.rs", "pub mod v1;", "");
    let (ok, text) = fixture.text();
    assert!(!ok, "the consumer still requires billing ^1.2");
    assert!(
        text.contains("[contract_module_removed, needs major]"),
        "{text}"
    );
    assert!(text.contains("[contract_requirement_unmet]"), "{text}");
    assert!(text.contains("[contract_provided_major_missing]"), "{text}");
}

#[test]
fn lock_of_another_crate_and_missing_contract_crate_are_usage_errors() {
    let fixture = Fixture::new();
    fixture.bless();
    fixture.edit(
        "shared/contracts.lock",
        "crate = \"shared\"",
        "crate = \"other\"",
    );
    let err = check(&fixture.args()).unwrap_err();
    assert!(
        format!("{err:#}").contains("records crate `other`"),
        "{err:#}"
    );
    fixture.edit("shared/Cargo.toml", "defines = [\"billing\"]", "");
    fixture.edit(
        "provider/Cargo.toml",
        "provides = { billing = { v1 = \"v1\" } }",
        "",
    );
    fixture.edit(
        "consumer/Cargo.toml",
        "requires = { billing = \"^1.2\" }",
        "",
    );
    let err = check(&fixture.args()).unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.starts_with("no member of the workspace at ")
            && message.ends_with(" defines contracts (`defines` in [package.metadata.contracts])"),
        "{message}"
    );
}

#[test]
fn minor_addition_needs_a_minor_bump() {
    let fixture = Fixture::new();
    fixture.bless();
    fixture.edit(
        "shared/src/billing/v1.rs",
        "fn total(&self, amount: u64) -> u64;",
        "fn total(&self, amount: u64) -> u64;\n    fn currency(&self) -> &str {\n        \"EUR\"\n    }",
    );
    let (ok, text) = fixture.text();
    assert!(!ok);
    insta::assert_snapshot!("workspace_minor_unbumped", text);

    fixture.edit("shared/src/billing/v1.rs", "\"1.2.0\"", "\"1.3.0\"");
    let (ok, text) = fixture.text();
    assert!(ok, "{text}");
    insta::assert_snapshot!("workspace_minor_bumped", text);
}

#[test]
fn new_major_module_is_an_addition_and_wrong_major_is_an_error() {
    let fixture = Fixture::new();
    fixture.bless();
    fixture.edit(
        "shared/src/billing/mod.rs",
        "pub mod v1;",
        "pub mod v1;\npub mod v2;",
    );
    std::fs::write(
        fixture.root.join("shared/src/billing/v2.rs"),
        "//! Billing v2.\npub const VERSION: &str = \"1.0.0\";\n\npub trait BillingService {\n    fn total(&self, amount: u128) -> u128;\n}\n",
    )
    .unwrap();
    let (ok, text) = fixture.text();
    assert!(!ok);
    insta::assert_snapshot!("workspace_new_major", text);
}

#[test]
fn unmet_requirement_and_ungated_feature_are_wiring_errors() {
    let fixture = Fixture::new();
    fixture.bless();
    fixture.edit("consumer/Cargo.toml", "\"^1.2\"", "\"^1.3\"");
    fixture.edit("provider/src/lib.rs", "#[cfg(feature = \"v1\")]\n", "");
    let (ok, text) = fixture.text();
    assert!(!ok);
    insta::assert_snapshot!("workspace_wiring", text);
}

#[test]
fn feature_turned_on_by_a_dependent_counts_as_default() {
    let fixture = Fixture::new();
    fixture.bless();
    fixture.edit("provider/Cargo.toml", "default = [\"v1\"]", "default = []");
    let (ok, text) = fixture.text();
    assert!(
        !ok,
        "provider's v1 is off, so the requirement is unmet: {text}"
    );
    assert!(text.contains("contract_requirement_unmet"), "{text}");
    fixture.edit(
        "consumer/Cargo.toml",
        "shared = { path = \"../shared\" }",
        "shared = { path = \"../shared\" }\nprovider = { path = \"../provider\", default-features = false, features = [\"v1\"] }",
    );
    let (ok, text) = fixture.text();
    assert!(ok, "{text}");
}

#[test]
fn json_output_has_required_bump_and_findings() {
    let fixture = Fixture::new();
    fixture.bless();
    fixture.edit(
        "shared/src/billing/v1.rs",
        "    Eur,\n",
        "    Eur,\n    Usd,\n",
    );
    // The format is the caller's choice of rendering; the check itself is the same.
    let outcome = check(&fixture.args()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&outcome.report.to_json()).unwrap();
    assert_eq!(json["required_bump"], "minor");
    assert_eq!(json["ok"], false);
    insta::assert_json_snapshot!("workspace_json", json);
}

#[test]
fn git_revision_baseline() {
    let fixture = Fixture::new();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(&fixture.root)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "base"]);
    fixture.edit(
        "shared/src/billing/v1.rs",
        "fn total(&self, amount: u64) -> u64;",
        "fn total(&self, amount: u64, tax: u64) -> u64;",
    );
    let outcome = check(&CheckContractsArgs {
        baseline: Baseline::GitRevision("HEAD".to_string()),
        ..fixture.args()
    })
    .unwrap();
    assert!(!outcome.report.ok);
    let lints: Vec<&str> = outcome
        .report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.lint.name())
        .collect();
    assert_eq!(
        lints,
        [
            "contract_breaking_change_in_released_major",
            "trait_method_parameter_count_changed"
        ]
    );

    let err = check(&CheckContractsArgs {
        baseline: Baseline::GitRevision("no-such-rev".to_string()),
        ..fixture.args()
    })
    .unwrap_err();
    assert!(format!("{err:#}").contains("no-such-rev"), "{err:#}");
}

#[test]
fn refusing_to_bless_a_broken_contract() {
    let fixture = Fixture::new();
    fixture.bless();
    fixture.edit(
        "shared/src/billing/v1.rs",
        "fn total(&self, amount: u64) -> u64;",
        "fn sum(&self, amount: u64) -> u64;",
    );
    let before = std::fs::read_to_string(fixture.root.join("shared/contracts.lock")).unwrap();
    let outcome = check(&CheckContractsArgs {
        baseline: Baseline::Lock(LockOptions {
            update: LockUpdate::Bless,
            ..LockOptions::default()
        }),
        ..fixture.args()
    })
    .unwrap();
    assert!(!outcome.report.ok);
    assert!(outcome.blessed.unwrap().starts_with("refusing to bless"));
    assert_eq!(
        std::fs::read_to_string(fixture.root.join("shared/contracts.lock")).unwrap(),
        before
    );
    let outcome = check(&CheckContractsArgs {
        baseline: Baseline::Lock(LockOptions {
            update: LockUpdate::BlessAnyway,
            ..LockOptions::default()
        }),
        ..fixture.args()
    })
    .unwrap();
    assert!(outcome.report.ok);
    assert_ne!(
        std::fs::read_to_string(fixture.root.join("shared/contracts.lock")).unwrap(),
        before
    );
}

#[test]
fn every_lint_is_documented() {
    let docs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/contracts.md"),
    )
    .unwrap();
    let names = Lint::ALL.iter().map(|lint| lint.name());
    for name in names {
        assert!(
            docs.contains(&format!("| `{name}` |")),
            "docs/contracts.md does not document `{name}`"
        );
    }
}

#[test]
fn cfg_gated_items_are_reported_with_their_cfg() {
    let temp = tempfile::tempdir().unwrap();
    let write = |side: &str, text: &str| {
        std::fs::create_dir_all(temp.path().join(side).join("src")).unwrap();
        std::fs::write(temp.path().join(side).join("src/lib.rs"), text).unwrap();
    };
    write("old", "pub mod v2 {}\n");
    write(
        "new",
        "#[cfg(feature = \"v2\")]\npub mod v2 {\n    pub trait Billing {\n        fn total(&self) -> u64;\n    }\n}\n",
    );
    let report = compare_dirs(&temp.path().join("old"), &temp.path().join("new")).unwrap();
    let text = report.to_text();
    assert!(
        text.contains("src/lib.rs:3: v2::Billing [trait_added, needs minor]"),
        "{text}"
    );
    assert!(
        text.contains("only with #[cfg(feature = \"v2\")]"),
        "{text}"
    );
}

#[test]
fn invalid_metadata_is_a_usage_error_naming_the_crate() {
    let fixture = Fixture::new();
    fixture.edit("consumer/Cargo.toml", "\"^1.2\"", "\"not a range\"");
    let err = format!("{:#}", check(&fixture.args()).unwrap_err());
    assert!(err.contains("consumer"), "{err}");
    assert!(err.contains("requires"), "{err}");
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
fn moving_a_public_item_behind_a_non_default_feature_is_its_removal() {
    let temp = tempfile::tempdir().unwrap();
    let old = crate_with_features(temp.path(), "old", "pub fn f() {}\n");
    let new = crate_with_features(
        temp.path(),
        "new",
        "#[cfg(feature = \"extra\")]\npub fn f() {}\n",
    );
    let report = compare_dirs(&old, &new).unwrap();
    let lints: Vec<&str> = report.findings.iter().map(|f| f.lint.name()).collect();
    assert_eq!(lints, ["function_missing"]);
    // Behind a default feature it is still there.
    let new = crate_with_features(
        temp.path(),
        "new",
        "#[cfg(feature = \"std\")]\npub fn f() {}\n",
    );
    assert!(compare_dirs(&old, &new).unwrap().findings.is_empty());
}

#[test]
fn a_doc_hidden_but_deprecated_field_stays_public_api() {
    let temp = tempfile::tempdir().unwrap();
    let write = |side: &str, text: &str| {
        std::fs::create_dir_all(temp.path().join(side).join("src")).unwrap();
        std::fs::write(temp.path().join(side).join("src/lib.rs"), text).unwrap();
    };
    write(
        "old",
        "pub struct S {\n    pub a: u8,\n    #[doc(hidden)]\n    #[deprecated]\n    pub b: u8,\n}\n",
    );
    write("new", "pub struct S {\n    pub a: u8,\n}\n");
    let report = compare_dirs(&temp.path().join("old"), &temp.path().join("new")).unwrap();
    let lints: Vec<&str> = report.findings.iter().map(|f| f.lint.name()).collect();
    assert_eq!(lints, ["struct_pub_field_missing"]);
}

#[test]
fn minor_equivalences_are_minor_not_major() {
    // Unsealing a trait by making its sealing supertrait public is minor, not "supertrait added".
    let temp = tempfile::tempdir().unwrap();
    let write = |side: &str, text: &str| {
        std::fs::create_dir_all(temp.path().join(side).join("src")).unwrap();
        std::fs::write(temp.path().join(side).join("src/lib.rs"), text).unwrap();
    };
    write(
        "old",
        "mod private {\n    pub trait Sealed {}\n}\npub trait Api: private::Sealed {}\n",
    );
    write(
        "new",
        "pub mod private {\n    pub trait Sealed {}\n}\npub trait Api: private::Sealed {}\n",
    );
    let report = compare_dirs(&temp.path().join("old"), &temp.path().join("new")).unwrap();
    let mut lints: Vec<&str> = report.findings.iter().map(|f| f.lint.name()).collect();
    lints.sort_unstable();
    assert_eq!(lints, ["trait_added", "trait_no_longer_sealed"]);
    assert!(report.ok, "{}", report.to_text());
}

#[test]
fn an_old_lock_format_asks_for_a_forced_bless() {
    let fixture = Fixture::new();
    fixture.bless();
    fixture.edit("shared/contracts.lock", "format = 2", "format = 1");
    let err = format!("{:#}", check(&fixture.args()).unwrap_err());
    assert!(
        err.contains("unsupported lock file format 1") && err.contains("--bless --force"),
        "{err}"
    );
    let outcome = check(&CheckContractsArgs {
        baseline: Baseline::Lock(LockOptions {
            update: LockUpdate::BlessAnyway,
            ..LockOptions::default()
        }),
        ..fixture.args()
    })
    .unwrap();
    assert!(outcome.report.ok);
    let (ok, text) = fixture.text();
    assert!(ok, "{text}");
}
