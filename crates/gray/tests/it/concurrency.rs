//! Readers on several threads while the config reloads 1,000 times.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gray::{Document, Layer, LoadOptions, Reason, RequestView, Store, load_documents};

fn document_for(step: u64) -> String {
    // Every key and the rule route change together, so a torn read would show a mismatch.
    let route = if step.is_multiple_of(2) { "v1" } else { "v2" };
    format!(
        "a = {step}\nb = {step}\n[gray.default]\nbilling = '{route}'\n[[gray.rules]]\nname = 'r{step}'\nroute = {{ billing = '{route}' }}\nheaders = {{ x = 'y' }}\n"
    )
}

fn build(step: u64, options: &LoadOptions) -> Result<gray::Snapshot, gray::ConfigError> {
    let text = document_for(step);
    load_documents(
        &[Document {
            layer: Layer::Base,
            name: "base.toml",
            text: &text,
        }],
        options,
    )
}

#[test]
fn readers_always_see_a_whole_snapshot_during_1000_reloads() {
    let options = LoadOptions::new("unused").with_routes("billing", &["v1", "v2"]);
    let store = Arc::new(Store::new(build(0, &options).unwrap()));
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let store = Arc::clone(&store);
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let mut reads = 0u64;
                let mut last_generation = 0;
                let headers = [("x", "y")];
                let request = RequestView {
                    path: "/",
                    headers: &headers,
                };
                loop {
                    let finished = done.load(Ordering::Acquire);
                    let snapshot = store.current();
                    let a: u64 = snapshot.get("a").unwrap();
                    let b: u64 = snapshot.get("b").unwrap();
                    assert_eq!(a, b, "torn snapshot");
                    assert_eq!(
                        snapshot.generation(),
                        a + 1,
                        "generation does not match content"
                    );
                    assert!(
                        snapshot.generation() >= last_generation,
                        "generation went backwards"
                    );
                    last_generation = snapshot.generation();
                    let decision = snapshot.decide("billing", &request);
                    let expected_route = if a.is_multiple_of(2) { "v1" } else { "v2" };
                    let expected_rule = format!("r{a}");
                    assert_eq!(decision.reason, Reason::TargetingMatch);
                    assert_eq!(decision.route, Some(expected_route));
                    assert_eq!(decision.rule, Some(expected_rule.as_str()));
                    reads += 1;
                    if finished {
                        return (reads, last_generation);
                    }
                }
            })
        })
        .collect();
    for step in 1..=1000u64 {
        let generation = store.reload_with(|| build(step, &options)).unwrap();
        assert_eq!(generation, step + 1);
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        let (reads, last_generation) = reader.join().expect("reader thread panicked");
        assert!(reads > 0);
        assert_eq!(
            last_generation, 1001,
            "the final read after the last reload sees it"
        );
    }
    assert_eq!(store.reload_stats().succeeded, 1000);
}

#[test]
fn concurrent_reloads_number_generations_without_gaps() {
    let options = LoadOptions::new("unused").with_routes("billing", &["v1", "v2"]);
    let store = Arc::new(Store::new(build(0, &options).unwrap()));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let store = Arc::clone(&store);
            let options = options.clone();
            std::thread::spawn(move || {
                (0..50)
                    .map(|_| store.reload_with(|| build(0, &options)).unwrap())
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut generations: Vec<u64> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    generations.sort_unstable();
    assert_eq!(generations, (2..=201).collect::<Vec<u64>>());
}
