//! Benchmarks of `check-contracts`: end to end on this workspace, a crate pair of a few hundred
//! lines of every item kind, and the surface extraction and diff of a generated crate with
//! 1,000 traits of 10 methods each.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};

use graywork_contracts::{
    CheckOptions, LOCK_FILE_NAME, check, compare_dirs, contract_surface, diff, extract_dir,
    parse_lock,
};

/// The allocator the binaries (`cargo-graywork`, `xtask`) run with, so the figures are the
/// ones users see.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn workspace_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml")
}

/// A crate with `traits` traits of `methods` methods each, spread over 10 modules.
fn generated_crate(dir: &Path, traits: usize, methods: usize, extra_method: bool) {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let mut lib = String::from("//! Generated.\n");
    let per_module = traits / 10;
    for module in 0..10 {
        writeln!(lib, "pub mod m{module};").unwrap();
        let mut text = String::from("//! Generated module.\npub struct Money(pub u64);\n");
        for index in 0..per_module {
            writeln!(text, "pub trait Service{index}: Send + Sync {{").unwrap();
            writeln!(text, "    type Output: Clone;").unwrap();
            for method in 0..methods {
                writeln!(
                    text,
                    "    fn call_{method}<T: Into<u64>>(&self, id: u64, amount: T, note: &str) -> Result<Option<Money>, String>;"
                )
                .unwrap();
            }
            if extra_method && index == 0 {
                writeln!(text, "    fn added(&self) {{}}").unwrap();
            }
            writeln!(text, "}}").unwrap();
        }
        std::fs::write(src.join(format!("m{module}.rs")), text).unwrap();
    }
    std::fs::write(src.join("lib.rs"), lib).unwrap();
}

/// A crate of about 300 lines with every kind of item the checker records: traits, structs
/// with derives and inherent impls, enums with a repr, unions, functions, consts, statics and
/// macros, over three modules.
fn mixed_crate(dir: &Path, changed: bool) {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let mut lib = String::from("//! Generated.\n");
    for module in 0..3 {
        writeln!(lib, "pub mod m{module};").unwrap();
        let mut text = String::from("//! Generated module.\nuse std::fmt;\n");
        for index in 0..4 {
            writeln!(
                text,
                "/// A record.\n#[derive(Debug, Clone, PartialEq)]\npub struct Record{index} {{\n    pub id: u64,\n    pub name: String,\n    amount: i64,\n}}\n\nimpl Record{index} {{\n    pub fn new(id: u64, name: &str) -> Self {{\n        Self {{ id, name: name.to_string(), amount: 0 }}\n    }}\n    pub fn amount(&self) -> i64 {{\n        self.amount\n    }}\n    pub const LIMIT: u32 = 10;\n}}\n\nimpl fmt::Display for Record{index} {{\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{\n        write!(f, \"{{}}\", self.id)\n    }}\n}}\n"
            )
            .unwrap();
            writeln!(
                text,
                "#[repr(u8)]\n#[derive(Debug, Clone, Copy)]\npub enum Status{index} {{\n    Open = 1,\n    Closed,\n    Void,\n}}\n\npub trait Service{index}: Send + Sync {{\n    type Output;\n    fn call(&self, id: u64) -> Result<Self::Output, String>;\n    fn name(&self) -> &str {{\n        \"service\"\n    }}\n}}\n\npub fn total{index}<T: Into<i64>>(items: &[T]) -> i64 {{\n    0\n}}\n\npub const MAX{index}: usize = 16;\n"
            )
            .unwrap();
        }
        writeln!(text, "#[repr(C)]\npub union Bits {{\n    pub int: u32,\n    pub float: f32,\n}}\n\npub static NAME: &str = \"m\";").unwrap();
        if changed && module == 0 {
            writeln!(text, "pub fn added() {{}}").unwrap();
        }
        std::fs::write(src.join(format!("m{module}.rs")), text).unwrap();
    }
    writeln!(
        lib,
        "#[macro_export]\nmacro_rules! record {{\n    () => {{}};\n}}"
    )
    .unwrap();
    std::fs::write(src.join("lib.rs"), lib).unwrap();
}

fn bench(c: &mut Criterion) {
    let args = CheckOptions {
        manifest_path: Some(workspace_manifest()),
        ..CheckOptions::default()
    };
    // The workspace's lock file must exist; a failing check is still a measurement.
    if check(&args).is_ok() {
        c.bench_function("check_contracts_workspace_end_to_end", |b| {
            b.iter(|| black_box(check(&args).unwrap()))
        });
    }
    // The same without `cargo metadata` and wiring: parse `shared`, read the lock, diff.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    let lock_path = shared.join(LOCK_FILE_NAME);
    if lock_path.exists() {
        let defines: Vec<String> = ["auth", "billing", "notification"]
            .into_iter()
            .map(String::from)
            .collect();
        c.bench_function("check_contracts_shared_surface_and_diff", |b| {
            b.iter(|| {
                let text = std::fs::read_to_string(&lock_path).unwrap();
                let (_, old) = parse_lock(&text, "contracts.lock").unwrap();
                let new = contract_surface(extract_dir(&shared).unwrap(), &defines);
                black_box(diff(&old, &new))
            })
        });
    }

    let mixed = tempfile::tempdir().unwrap();
    let (mixed_old, mixed_new) = (mixed.path().join("old"), mixed.path().join("new"));
    mixed_crate(&mixed_old, false);
    mixed_crate(&mixed_new, true);
    c.bench_function("compare_dirs_mixed_crate_pair_of_300_lines", |b| {
        b.iter(|| black_box(compare_dirs(&mixed_old, &mixed_new).unwrap()))
    });

    let temp = tempfile::tempdir().unwrap();
    let old = temp.path().join("old");
    let new = temp.path().join("new");
    generated_crate(&old, 1_000, 10, false);
    generated_crate(&new, 1_000, 10, true);
    let mut group = c.benchmark_group("generated");
    group.sample_size(10);
    // Like a lock-file check: the baseline surface is already in memory.
    let baseline = extract_dir(&old).unwrap();
    group.bench_function("extract_and_diff_1000_traits_x_10_methods", |b| {
        b.iter(|| {
            let current = extract_dir(&new).unwrap();
            black_box(diff(&baseline, &current))
        })
    });
    group.bench_function("compare_dirs_two_trees_1000_traits_x_10_methods", |b| {
        b.iter(|| black_box(compare_dirs(&old, &new).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
