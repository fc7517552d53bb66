//! Bad input: every error names the file, crate or version it is about.

use graywork_plan::{Goal, PlanFormat, build_plan, plan_output};
use graywork_workspace::{ResolveMode, Source, Workspace};

use crate::support::{cargo_source, error_of, fixtures, load};

#[test]
fn bad_input_errors_name_the_file_crate_or_version() {
    let layered = load("layered");
    let contracts = load("contracts");
    let plan_error = |workspace: &Workspace, goal: Goal| error_of(build_plan(workspace, &goal));
    let malformed = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        malformed.path(),
        r#"{"packages": [{"name": "a", "version": "one"}], "workspace_members": []}"#,
    )
    .unwrap();
    let malformed_error = error_of(Workspace::load(&Source::MetadataFile(
        malformed.path().to_path_buf(),
    )))
    .replace(&malformed.path().display().to_string(), "[file]");
    let cases = [
        (
            "unknown crate",
            plan_error(&layered, Goal::krate("bsae@0.2.0").unwrap()),
        ),
        (
            "unknown contract",
            plan_error(&contracts, Goal::contract("gret@2").unwrap()),
        ),
        (
            "first major",
            plan_error(&contracts, Goal::contract("greet@1").unwrap()),
        ),
        (
            "skipped major",
            plan_error(&contracts, Goal::contract("greet@4").unwrap()),
        ),
        (
            "unknown dependency",
            plan_error(&load("cycle"), Goal::dep("serd@2").unwrap()),
        ),
        (
            "dependency that is a member",
            plan_error(&layered, Goal::dep("util@2").unwrap()),
        ),
        ("non-semver version", error_of(Goal::krate("base@0.2"))),
        (
            "explain unknown crate",
            error_of(plan_output(
                &layered,
                &Goal::krate("base@0.2.0").unwrap(),
                PlanFormat::Text,
                Some("ap"),
            )),
        ),
        (
            "missing manifest",
            error_of(Workspace::load(&cargo_source(
                &fixtures().join("missing/Cargo.toml"),
                ResolveMode::NoDeps,
            ))),
        ),
        (
            "missing metadata file",
            error_of(Workspace::load(&Source::MetadataFile(
                fixtures().join("missing.json"),
            ))),
        ),
        ("malformed metadata file", malformed_error),
        (
            "invalid contract metadata",
            error_of(Workspace::load(&cargo_source(
                &fixtures().join("invalid/Cargo.toml"),
                ResolveMode::NoDeps,
            ))),
        ),
    ];
    let text: Vec<String> = cases
        .iter()
        .map(|(case, message)| format!("{case}:\n  {message}"))
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}
