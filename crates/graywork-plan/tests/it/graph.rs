//! `graph`: every dependency kind, the output formats and true cycles.

use graywork_plan::{GraphFormat, render_graph};
use graywork_workspace::{DepKind, ResolveMode, Workspace};

use crate::support::{ALL_KINDS, cargo_source, copy_fixture, load};

#[test]
fn graph_shows_renamed_target_build_and_dev_edges() {
    let workspace = load("layered");
    insta::assert_snapshot!(render_graph(&workspace, &ALL_KINDS, GraphFormat::Text));
}

#[test]
fn graph_kinds_filter_drops_dev_edges() {
    let workspace = load("layered");
    let text = render_graph(
        &workspace,
        &[DepKind::Normal, DepKind::Build],
        GraphFormat::Text,
    );
    assert!(!text.contains("dev"), "{text}");
    assert!(text.contains("-> codegen (build)"), "{text}");
}

#[test]
fn graph_json_marks_contract_edges() {
    let workspace = load("contracts");
    insta::assert_snapshot!(render_graph(&workspace, &ALL_KINDS, GraphFormat::Json));
}

#[test]
fn graph_dot_and_mermaid() {
    let workspace = load("contracts");
    insta::assert_snapshot!(
        "graph_dot",
        render_graph(&workspace, &ALL_KINDS, GraphFormat::Dot)
    );
    insta::assert_snapshot!(
        "graph_mermaid",
        render_graph(&workspace, &ALL_KINDS, GraphFormat::Mermaid)
    );
}

#[test]
fn graph_reports_true_cycles() {
    let workspace = load("cycle");
    let text = render_graph(&workspace, &ALL_KINDS, GraphFormat::Text);
    assert!(
        text.contains("cycle of normal/build dependencies: ring-a, ring-b, ring-c"),
        "{text}"
    );
}

#[test]
fn full_resolve_agrees_with_no_deps() {
    for name in ["layered", "patched"] {
        let dir = copy_fixture(name);
        let manifest = dir.path().join("Cargo.toml");
        let full = Workspace::load(&cargo_source(&manifest, ResolveMode::Full)).unwrap();
        assert!(full.resolved, "{name}");
        let no_deps = Workspace::load(&cargo_source(&manifest, ResolveMode::NoDeps)).unwrap();
        let graph = |workspace: &Workspace| {
            render_graph(workspace, &ALL_KINDS, GraphFormat::Text).replace(", by name", "")
        };
        assert_eq!(graph(&full), graph(&no_deps), "{name}");
    }
}
