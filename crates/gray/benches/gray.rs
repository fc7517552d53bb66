//! Benchmarks: a gray decision over ten rules (time and heap allocations) and a reload of a
//! 1,000-key configuration.
// The counting allocator below must implement `GlobalAlloc`, an unsafe trait; it only forwards to
// the system allocator and counts calls. This file is the only place in the crate that needs it.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use gray::{LoadOptions, Reason, RequestView, Store, load};

struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through `alloc`/`realloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; `ptr` came from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Ten rules combining labels, headers, path prefixes and percentages; only the last can match
/// the benchmark request, so every rule is evaluated.
fn ten_rules() -> String {
    let mut text = String::from(
        "[gray.default]\nbilling = 'v1'\n[gray.labels]\nenv = 'prod'\nzone = 'cn-east'\n\n",
    );
    for i in 0..9 {
        writeln!(
            text,
            "[[gray.rules]]\nname = 'rule-{i}'\nroute = {{ billing = 'v2' }}\nlabels = {{ env = 'prod' }}\nheaders = {{ 'X-Canary' = 'v{i}' }}\npath_prefix = '/api/v{i}/'\n"
        )
        .unwrap();
    }
    text.push_str(
        "[[gray.rules]]\nname = 'rollout'\nroute = { billing = 'v2' }\nlabels = { env = 'prod', zone = 'cn-east' }\npath_prefix = '/api/'\npercent = 100\nbucket_by = 'header:X-User-Id'\n",
    );
    text
}

fn decision(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.toml"), ten_rules()).unwrap();
    let options = LoadOptions::new(dir.path()).with_routes("billing", &["v1", "v2"]);
    let store = Store::open(&options).unwrap();
    let snapshot = store.current();
    let headers = [
        ("host", "billing.internal"),
        ("accept", "application/json"),
        ("user-agent", "bench/1.0"),
        ("x-request-id", "7f1c2a"),
        ("x-canary", "none"),
        ("x-user-id", "user-12345"),
    ];
    let request = RequestView {
        path: "/api/invoices/42",
        headers: &headers,
    };
    let outcome = snapshot.decide("billing", &request);
    assert_eq!(
        (outcome.reason, outcome.rule),
        (Reason::Split, Some("rollout"))
    );

    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..100_000 {
        black_box(snapshot.decide(black_box("billing"), black_box(&request)));
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    eprintln!("allocations in 100000 decisions: {allocations}");
    assert_eq!(allocations, 0, "deciding must not allocate");

    c.bench_function("decide_10_rules_split", |b| {
        b.iter(|| snapshot.decide(black_box("billing"), black_box(&request)));
    });
    c.bench_function("bucket_only", |b| {
        b.iter(|| gray::bucket(black_box("rollout"), black_box("user-12345")));
    });
    let no_match = RequestView {
        path: "/health",
        headers: &headers,
    };
    c.bench_function("decide_10_rules_default", |b| {
        b.iter(|| snapshot.decide(black_box("billing"), black_box(&no_match)));
    });
    c.bench_function("store_current_and_decide", |b| {
        b.iter(|| {
            store
                .guard()
                .decide(black_box("billing"), black_box(&request))
                .reason
        });
    });
}

/// 50 sections of 20 keys each, across base and prod, plus the ten rules.
fn thousand_keys() -> (String, String) {
    let mut base = ten_rules();
    let mut prod = String::new();
    for section in 0..50 {
        writeln!(base, "[section_{section}]").unwrap();
        writeln!(prod, "[section_{section}]").unwrap();
        for key in 0..20 {
            writeln!(base, "key_{key} = 'value {section}.{key}'").unwrap();
            if key % 4 == 0 {
                writeln!(prod, "key_{key} = {key}").unwrap();
            }
        }
    }
    (base, prod)
}

fn reload(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (base, prod) = thousand_keys();
    std::fs::write(dir.path().join("base.toml"), base).unwrap();
    std::fs::write(dir.path().join("prod.toml"), prod).unwrap();
    let options = LoadOptions::new(dir.path())
        .with_env("prod")
        .with_routes("billing", &["v1", "v2"])
        .with_var("APP__SECTION_0__KEY_1", "overridden");
    let snapshot = load(&options).unwrap();
    assert!(
        snapshot.entries().len() >= 1000,
        "{} keys",
        snapshot.entries().len()
    );
    let store = Store::new(snapshot);
    c.bench_function("reload_1000_keys", |b| {
        b.iter(|| store.reload(black_box(&options)).unwrap());
    });
}

criterion_group!(benches, decision, reload);
criterion_main!(benches);
