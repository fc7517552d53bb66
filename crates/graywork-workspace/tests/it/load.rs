//! `Workspace::load` through `cargo metadata`: a full offline resolve of this workspace, and a
//! failure that names the manifest.

use std::path::Path;

use graywork_workspace::{CargoOptions, ResolveMode, Source, Workspace};

use crate::copy_tree::copy_tree;

fn cargo_source(manifest: &Path, resolve: ResolveMode) -> Source {
    Source::Cargo(CargoOptions {
        manifest_path: Some(manifest.to_path_buf()),
        resolve,
        offline: true,
    })
}

fn error_of(result: anyhow::Result<impl std::fmt::Debug>) -> String {
    format!("{:#}", result.unwrap_err())
}

#[test]
fn full_resolve_offline_reads_only_the_host_platform() {
    // This workspace's full resolve for every platform needs Windows-only crates that were
    // never downloaded here; for the host it needs only what its builds use.
    let dir = tempfile::tempdir().unwrap();
    // This crate's directory is `crates/graywork-workspace`.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .unwrap();
    copy_tree(root, dir.path());
    let workspace = Workspace::load(&cargo_source(
        &dir.path().join("Cargo.toml"),
        ResolveMode::Full,
    ))
    .unwrap_or_else(|error| panic!("{error:#}"));
    assert!(workspace.resolved);
    let gateway = workspace.member("gateway").unwrap();
    assert!(
        gateway
            .dependencies
            .iter()
            .any(|d| d.name == "store" && d.member.is_some())
    );
}

#[test]
fn cargo_metadata_failure_names_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("Cargo.toml");
    std::fs::write(&manifest, "[package\nname = 1\n").unwrap();
    let message = error_of(Workspace::load(&cargo_source(
        &manifest,
        ResolveMode::NoDeps,
    )));
    let expected = format!("`cargo metadata` failed for {}: ", manifest.display());
    assert!(message.starts_with(&expected), "{message}");
}
