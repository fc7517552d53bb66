//! Benchmarks of `upgrade-plan` on synthetic workspaces of 1,000, 5,000 and 20,000 crates (a
//! random DAG with about 6 dependencies each and some dev-dependency cycles):
//!
//! - `plan/parsed`: planning from an already loaded workspace (graph, layering, stages);
//! - `plan/from_json`: the whole command from the metadata JSON text (parse, load, plan and
//!   render the text table), what `upgrade-plan --metadata-file` does.
//!
//! Both are reported per crate count with throughput in crates, so near-linear growth shows as
//! a flat elements-per-second figure.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use graywork_plan::synthetic::{crate_name, metadata_json, random_workspace};
use graywork_plan::{Goal, PlanFormat, build_plan, plan_output};
use graywork_workspace::Workspace;

/// The allocator the binaries (`cargo-graywork`, `xtask`) run with, so the figures are the
/// ones users see.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: [usize; 3] = [1_000, 5_000, 20_000];
const AVERAGE_DEPS: usize = 6;

fn goals() -> Vec<(&'static str, Goal)> {
    vec![
        // Every member moves: the largest plan.
        (
            "toolchain",
            Goal::Toolchain {
                text: "1.96".to_owned(),
                version: Some(semver::Version::new(1, 96, 0)),
            },
        ),
        // A breaking bump of an early crate: one stage, gated over its dependents closure.
        (
            "crate",
            Goal::Crate {
                name: crate_name(10),
                version: semver::Version::new(2, 0, 0),
            },
        ),
        // Every member layered dependents first, each stage gated over its reverse closure:
        // the most gate work.
        ("edition", Goal::Edition { edition: 2024 }),
    ]
}

fn bench_plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan");
    group.sample_size(10);
    for size in SIZES {
        let json = metadata_json(&random_workspace(size, AVERAGE_DEPS, 42));
        let workspace = Workspace::from_json(&json).unwrap_or_else(|error| panic!("{error:#}"));
        group.throughput(Throughput::Elements(size as u64));
        for (label, goal) in goals() {
            group.bench_with_input(
                BenchmarkId::new(format!("parsed/{label}"), size),
                &workspace,
                |b, workspace| {
                    b.iter(|| build_plan(workspace, &goal).map(|plan| plan.stages.len()))
                },
            );
        }
        let (_, toolchain) = &goals()[0];
        group.bench_with_input(
            BenchmarkId::new("from_json/toolchain", size),
            &json,
            |b, json| {
                b.iter(|| {
                    let workspace = Workspace::from_json(json)?;
                    plan_output(&workspace, toolchain, PlanFormat::Text, None)
                        .map(|text| text.len())
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_plan);
criterion_main!(benches);
