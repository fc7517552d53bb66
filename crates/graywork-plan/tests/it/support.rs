//! Helpers the test modules share: loading fixtures, planning, copies and error text.

use std::path::{Path, PathBuf};

use graywork_plan::{Goal, PlanFormat, plan_output};
use graywork_workspace::{CargoOptions, DepKind, ResolveMode, Source, Workspace};

pub(crate) const ALL_KINDS: [DepKind; 3] = [DepKind::Normal, DepKind::Build, DepKind::Dev];

/// The plan fixtures, which the xtask's end-to-end tests run the binary on too. Canonical, so
/// error messages name them as they did when the tests lived beside them.
pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plan")
        .canonicalize()
        .unwrap()
}

pub(crate) fn cargo_source(manifest: &Path, resolve: ResolveMode) -> Source {
    Source::Cargo(CargoOptions {
        manifest_path: Some(manifest.to_path_buf()),
        resolve,
        offline: true,
    })
}

/// Loads a fixture workspace through `cargo metadata --no-deps --offline`, which reads only
/// the manifests and writes nothing into the fixture.
pub(crate) fn load(name: &str) -> Workspace {
    let manifest = fixtures().join(name).join("Cargo.toml");
    Workspace::load(&cargo_source(&manifest, ResolveMode::NoDeps)).unwrap()
}

pub(crate) fn plan(workspace: &Workspace, goal: Goal, format: PlanFormat) -> String {
    plan_output(workspace, &goal, format, None).unwrap()
}

pub(crate) fn explain(workspace: &Workspace, goal: Goal, krate: &str) -> String {
    plan_output(workspace, &goal, PlanFormat::Text, Some(krate)).unwrap()
}

/// Copies a directory tree, leaving out build output and git metadata.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" || entry.file_name() == ".git" {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Copies a fixture into a temporary directory, so a full resolve may write its Cargo.lock
/// and `--apply` may edit it.
pub(crate) fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join(name), dir.path());
    dir
}

/// A stage's gate commands as command lines.
pub(crate) fn gate_lines(stage: &graywork_plan::Stage) -> Vec<String> {
    stage.gates.iter().map(ToString::to_string).collect()
}

pub(crate) fn error_of(result: anyhow::Result<impl std::fmt::Debug>) -> String {
    let message = format!("{:#}", result.unwrap_err());
    message.replace(&fixtures().display().to_string(), "[fixtures]")
}
