//! Database work off the async runtime: bounded pools of dedicated threads ([`StoragePool`]),
//! the write check behind `/readyz` and the start, and the answer when the database cannot serve.
//!
//! The API's invoice reads and creates run on one pool, the readiness probe on another, and the
//! outbox dispatcher on a thread of its own, so none of them can take the others' threads or
//! queue places, and none of them uses tokio's blocking pool (where reloads and the runtime's
//! own blocking work live). SQLite still serialises writers: a stuck disk stalls every writer,
//! but the bounded queues turn that into fast 503s instead of a growing pile of parked threads.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::error::ApiError;

/// Seconds a client should wait before retrying after `storage_unavailable`.
const RETRY_AFTER_SECS: u64 = 5;

/// How long `/readyz` waits for its write check before it answers 503.
const PROBE_DEADLINE: Duration = Duration::from_secs(2);

/// Threads and queue places of the readiness probe's pool: one check at a time, a few waiting.
pub(crate) const PROBE_THREADS: usize = 1;
/// See [`PROBE_THREADS`].
pub(crate) const PROBE_QUEUE: usize = 4;

/// The 503 answer when the database cannot serve.
pub(crate) fn unavailable() -> ApiError {
    ApiError::Unavailable {
        code: "storage_unavailable",
        message: "the invoice store is unavailable; retry later".to_owned(),
        retry_after_secs: RETRY_AFTER_SECS,
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of named threads running database jobs from a bounded queue. A job offered when
/// the queue is full is refused at once (503 `storage_unavailable`), so a slow disk costs a
/// bounded number of threads and waiting requests, never more.
#[derive(Debug)]
pub(crate) struct StoragePool {
    name: &'static str,
    queue: SyncSender<Job>,
    threads: usize,
}

impl StoragePool {
    /// Starts `threads` threads named `storage-{name}-N` sharing a queue of `capacity` jobs.
    /// The threads end once the pool is dropped and the queue is drained. A thread the
    /// operating system refuses is logged and missing from [`threads`](Self::threads); a pool
    /// without any answers every job with 503, and `gateway serve` refuses to start with one.
    pub(crate) fn start(name: &'static str, threads: usize, capacity: usize) -> Self {
        let (queue, jobs) = mpsc::sync_channel::<Job>(capacity);
        let jobs = Arc::new(Mutex::new(jobs));
        let mut started = 0;
        for index in 0..threads.max(1) {
            let jobs = Arc::clone(&jobs);
            let spawned = std::thread::Builder::new()
                .name(format!("storage-{name}-{index}"))
                .spawn(move || work(&jobs));
            match spawned {
                Ok(_) => started += 1,
                Err(error) => {
                    tracing::error!(pool = name, %error, "cannot start a database thread")
                }
            }
        }
        Self {
            name,
            queue,
            threads: started,
        }
    }

    /// The threads the pool runs.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `job` on a pool thread and waits for its result without blocking the runtime.
    ///
    /// # Errors
    ///
    /// 503 `storage_unavailable` when the queue is full; 500 when the job panicked.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let pool = self.name;
        self.submit(job)?
            .await
            .map_err(|_| ApiError::internal(format!("a database job on pool {pool} panicked")))
    }

    /// Queues `job` and returns where its result will arrive; refuses at once when the queue
    /// is full.
    fn submit<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<T>, ApiError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // The waiter may have given up (a request timeout); the result is then dropped.
            let _ = done.send(job());
        });
        match self.queue.try_send(job) {
            Ok(()) => Ok(result),
            Err(TrySendError::Full(_)) => {
                tracing::warn!(pool = self.name, "database queue full; answering 503");
                Err(unavailable())
            }
            Err(TrySendError::Disconnected(_)) => {
                tracing::error!(pool = self.name, "database pool has no threads left");
                Err(unavailable())
            }
        }
    }
}

/// A pool thread: takes jobs until the pool is dropped. A panicking job is caught, so the pool
/// keeps its size; its waiter sees the dropped result.
fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        // Only the wait for a job holds the lock; the job runs without it. A panic never
        // happens while the lock is held, so a poisoned lock still guards a whole receiver.
        let next = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = next else { return };
        if std::panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("a database job panicked");
        }
    }
}

/// Whether `invoices` takes a write now (a committed write, [`store::Store::check_writable`]),
/// on `probe`, the readiness probe's pool, with a deadline: `Err` carries the reason to log.
pub(crate) async fn check_ready(
    probe: &StoragePool,
    invoices: &Arc<store::Store>,
) -> Result<(), String> {
    let store = Arc::clone(invoices);
    let checked = probe.run(move || store.check_writable());
    match tokio::time::timeout(PROBE_DEADLINE, checked).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(error))) => Err(error.to_string()),
        Ok(Err(_)) => Err(
            "the readiness check could not run (its queue is full, or the check panicked)"
                .to_owned(),
        ),
        Err(_) => Err(format!(
            "the database write check took longer than {} ms",
            PROBE_DEADLINE.as_millis()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pool_runs_jobs_and_returns_their_results() {
        let pool = StoragePool::start("test", 2, 4);
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("storage-test-"));
        assert_eq!(pool.run(|| 6 * 7).await.unwrap(), 42);
        assert_eq!(pool.threads(), 2);
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_with_storage_unavailable() {
        let pool = StoragePool::start("full", 1, 1);
        let (started, is_started) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        // The one thread takes this job and blocks in it.
        let busy = pool
            .submit(move || {
                started.send(()).unwrap();
                released.recv().unwrap();
                1
            })
            .unwrap();
        is_started.recv().unwrap();
        // The queue's one place, then a refusal.
        let queued = pool.submit(|| 2).unwrap();
        let response = axum::response::IntoResponse::into_response(pool.submit(|| 3).unwrap_err());
        assert_eq!(
            response.status(),
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(response.headers()["retry-after"], "5");
        release.send(()).unwrap();
        assert_eq!(busy.await.unwrap(), 1);
        assert_eq!(queued.await.unwrap(), 2);
        // Freed: jobs run again.
        assert_eq!(pool.run(|| 4).await.unwrap(), 4);
    }

    #[tokio::test]
    async fn a_panicking_job_answers_500_and_the_pool_keeps_its_thread() {
        let pool = StoragePool::start("panics", 1, 2);
        let error = pool.run(|| -> u8 { panic!("boom") }).await.unwrap_err();
        let response = axum::response::IntoResponse::into_response(error);
        assert_eq!(
            response.status(),
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(pool.run(|| 5).await.unwrap(), 5);
    }
}
