//! Work spread over the machine's cores, for reading many members' sources: each thread takes
//! the next item, so members of very different sizes still share the cores evenly.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` of every item, in the items' order, computed on every core. Called from inside
/// another call's `f`, or with one item or one core, it runs on the calling thread: the cores
/// are already busy, and a thread costs more than a small item.
pub(crate) fn map_on_all_cores<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = cores().min(items.len().max(1));
    if threads == 1 || IN_WORKER.get() {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    IN_WORKER.set(true);
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(index) else {
                            return done;
                        };
                        done.push((index, f(item)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

thread_local! {
    /// Whether this thread is one of [`map_on_all_cores`]' workers.
    static IN_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The cores this process may use, asked once (on Linux the answer reads cgroup files).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_items_order() {
        let items: Vec<u64> = (0..100).collect();
        let doubled = super::map_on_all_cores(&items, |n| n * 2);
        assert_eq!(doubled, (0..100).map(|n| n * 2).collect::<Vec<_>>());
        assert!(super::map_on_all_cores(&[] as &[u8], |n| *n).is_empty());
    }

    #[test]
    fn nested_calls_run_on_the_worker_and_keep_the_order() {
        let outer: Vec<u64> = (0..8).collect();
        let sums = super::map_on_all_cores(&outer, |&n| {
            let inner: Vec<u64> = (0..n).collect();
            super::map_on_all_cores(&inner, |m| m + 1)
                .iter()
                .sum::<u64>()
        });
        assert_eq!(sums, (0..8u64).map(|n| n * (n + 1) / 2).collect::<Vec<_>>());
    }
}
