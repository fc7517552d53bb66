//! Following a key prefix: watch, settle bursts into one re-read, resume after a disconnect,
//! re-read after a compaction, probe a quiet etcd, and retry an outage with backoff.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::client::{EtcdClient, EtcdError, WatchMessage};
use crate::source::{FragmentSet, fragments_from_range, range_answer_limit};

/// How [`follow`] behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowOptions {
    /// The key prefix holding the fragments.
    pub prefix: String,
    /// How long the prefix must stay quiet after a change before it is re-read, so a burst of
    /// writes becomes one re-read (and one reload).
    pub settle: Duration,
    /// The longest a change waits for quiet before it is re-read anyway.
    pub settle_max: Duration,
    /// The first retry delay after a failure; it doubles up to `retry_max`.
    pub retry_min: Duration,
    /// The longest retry delay.
    pub retry_max: Duration,
    /// How often a quiet watch asks etcd whether it still answers ([`EtcdClient::probe`],
    /// bounded by the client's probe timeout); an etcd that stopped answering is reported
    /// [`FollowEvent::Down`] within this plus the probe timeout.
    pub probe_interval: Duration,
    /// The most bytes the fragments under the prefix may hold together: a set over it is
    /// [`FollowEvent::Rejected`] and the fragments held stay as they were. The answer of the
    /// read is bounded by it too (allowing for base64 and JSON), so an oversized set is never
    /// held in full.
    pub max_bytes: u64,
}

impl FollowOptions {
    /// Options for `prefix` with a 50 ms settle (1 s at most), retries from 200 ms to 5 s, a
    /// probe every second, and
    /// gray's default budget for the whole config as the most bytes.
    pub fn new(prefix: &str) -> FollowOptions {
        FollowOptions {
            prefix: prefix.to_owned(),
            settle: Duration::from_millis(50),
            settle_max: Duration::from_secs(1),
            retry_min: Duration::from_millis(200),
            retry_max: Duration::from_secs(5),
            probe_interval: Duration::from_secs(1),
            max_bytes: gray::Limits::default().max_total_bytes,
        }
    }
}

/// What [`follow`] reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum FollowEvent {
    /// The fragments were read again: after changes settled, after a compaction, or after an
    /// outage. The caller swaps them in and reloads.
    Fetched(FragmentSet),
    /// etcd answers again after a failure.
    Up,
    /// A watch is in place: etcd confirmed it, and every change from `from_revision` on will be
    /// seen (or the watch reports that history was compacted away).
    Watching {
        /// The first revision the watch covers.
        from_revision: i64,
    },
    /// etcd could not be reached or refused; the next attempt is in `retry_in`.
    Down {
        /// What failed.
        error: EtcdError,
        /// The delay before the next attempt.
        retry_in: Duration,
    },
    /// The watch's revision was compacted away; a full re-read follows.
    Compacted {
        /// The oldest revision etcd still has.
        compact_revision: i64,
    },
    /// The prefix holds something that cannot be a fragment (a value that is not text); the
    /// fragments held stay as they were until it is fixed.
    Rejected(EtcdError),
}

/// Follows `options.prefix` until `stop` is set, calling `on_event` from this thread.
///
/// `start_revision` is the revision of the fragments the caller already holds (from a read at
/// start); the watch starts right after it. With `fetch_first` (the caller holds a local copy,
/// not a fresh read) the prefix is read before watching.
pub fn follow(
    client: Arc<EtcdClient>,
    options: &FollowOptions,
    start_revision: i64,
    fetch_first: bool,
    stop: &AtomicBool,
    mut on_event: impl FnMut(FollowEvent),
) {
    let mut follower = Follower {
        client,
        options,
        stop,
        revision: start_revision,
        need_fetch: fetch_first,
        up: true,
        backoff: options.retry_min,
    };
    while !stop.load(Ordering::Relaxed) {
        if follower.need_fetch && !follower.fetch(&mut on_event) {
            continue;
        }
        follower.watch(&mut on_event);
    }
}

struct Follower<'a> {
    client: Arc<EtcdClient>,
    options: &'a FollowOptions,
    stop: &'a AtomicBool,
    /// The revision the fragments handed out reflect; the watch resumes after it.
    revision: i64,
    need_fetch: bool,
    up: bool,
    backoff: Duration,
}

/// How often a quiet watch looks at `stop`.
const TICK: Duration = Duration::from_millis(50);

impl Follower<'_> {
    /// Reads the prefix and hands the set out; false (after a backoff) when etcd failed.
    fn fetch(&mut self, on_event: &mut impl FnMut(FollowEvent)) -> bool {
        let prefix = &self.options.prefix;
        let max_bytes = self.options.max_bytes;
        match self
            .client
            .range_prefix_within(prefix, range_answer_limit(max_bytes))
        {
            Ok(range) => {
                self.mark_up(on_event);
                self.need_fetch = false;
                self.revision = self.revision.max(range.revision);
                match fragments_from_range(range, prefix, max_bytes) {
                    Ok(set) => on_event(FollowEvent::Fetched(set)),
                    Err(error) => on_event(FollowEvent::Rejected(error)),
                }
                true
            }
            // etcd answered, with more than the budget allows: a problem of the fragments,
            // not an outage. The next change is read again.
            Err(error @ EtcdError::AnswerTooLarge { .. }) => {
                self.mark_up(on_event);
                self.need_fetch = false;
                on_event(FollowEvent::Rejected(error));
                true
            }
            Err(error) => {
                self.fail(error, on_event);
                false
            }
        }
    }

    /// One watch connection, until it ends, is compacted, or `stop` is set.
    fn watch(&mut self, on_event: &mut impl FnMut(FollowEvent)) {
        let mut stream = match self.client.watch(&self.options.prefix, self.revision + 1) {
            Ok(stream) => stream,
            Err(error) => {
                self.fail(error, on_event);
                return;
            }
        };
        // The stream blocks in reads; a thread of its own lets this one settle bursts and look
        // at `stop`. It ends when the connection does, or at its next message once the
        // receiver is gone.
        let (sender, receiver) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("etcd-watch".to_owned())
            .spawn(move || {
                loop {
                    let message = stream.next_message();
                    let last = !matches!(message, Ok(Some(_)));
                    if sender.send(message).is_err() || last {
                        break;
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the etcd watch thread");
            self.sleep(self.options.retry_max);
            return;
        }
        let mut created = false;
        let mut pending: Option<(Instant, Instant)> = None;
        // When etcd last showed it answers: a message on the watch or a probe.
        let mut alive = Instant::now();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            // A watch on a frozen member stays open and silent, like one on a quiet prefix;
            // only asking tells them apart.
            if alive.elapsed() >= self.options.probe_interval {
                match self.client.probe() {
                    Ok(_) => alive = Instant::now(),
                    Err(error) => {
                        // Reported at once; the watch is then opened again from the revision
                        // held, which delivers whatever changed meanwhile (or says it was
                        // compacted away, and everything is read again).
                        self.report_down(error, on_event);
                        return;
                    }
                }
            }
            let wait = pending.map_or(TICK, |(first, last)| {
                let due = (last + self.options.settle).min(first + self.options.settle_max);
                due.saturating_duration_since(Instant::now()).min(TICK)
            });
            let message = receiver.recv_timeout(wait);
            if matches!(message, Ok(Ok(Some(_)))) {
                alive = Instant::now();
            }
            match message {
                Ok(Ok(Some(WatchMessage::Created { .. }))) => {
                    created = true;
                    self.mark_up(on_event);
                    on_event(FollowEvent::Watching {
                        from_revision: self.revision + 1,
                    });
                }
                Ok(Ok(Some(WatchMessage::Changed { revision, .. })))
                    if revision > self.revision =>
                {
                    let now = Instant::now();
                    pending = Some(pending.map_or((now, now), |(first, _)| (first, now)));
                }
                Ok(Ok(Some(_))) => {}
                Ok(Err(EtcdError::Compacted { compact_revision })) => {
                    on_event(FollowEvent::Compacted { compact_revision });
                    self.need_fetch = true;
                    return;
                }
                Ok(Err(error)) => {
                    self.need_fetch = true;
                    self.fail(error, on_event);
                    return;
                }
                Ok(Ok(None)) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // The connection ended. Changes seen but not read yet are read first;
                    // otherwise the next watch resumes right after the revision held. A stream
                    // that ended before it was even created is a failure worth a backoff.
                    self.need_fetch |= pending.is_some();
                    if !created {
                        self.sleep(self.backoff);
                    }
                    return;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let due = pending.is_some_and(|(first, last)| {
                        let now = Instant::now();
                        now >= last + self.options.settle || now >= first + self.options.settle_max
                    });
                    if due {
                        pending = None;
                        if !self.fetch(on_event) {
                            self.need_fetch = true;
                            return;
                        }
                    }
                }
            }
        }
    }

    fn mark_up(&mut self, on_event: &mut impl FnMut(FollowEvent)) {
        self.backoff = self.options.retry_min;
        if !self.up {
            self.up = true;
            on_event(FollowEvent::Up);
        }
    }

    /// Reports a failure and waits out the backoff. After an outage the prefix is read again
    /// before watching, so whatever changed meanwhile is seen even if the history was compacted.
    fn fail(&mut self, error: EtcdError, on_event: &mut impl FnMut(FollowEvent)) {
        self.need_fetch = true;
        self.report_down(error, on_event);
    }

    /// Reports etcd down and waits out the backoff.
    fn report_down(&mut self, error: EtcdError, on_event: &mut impl FnMut(FollowEvent)) {
        let retry_in = self.backoff;
        self.up = false;
        on_event(FollowEvent::Down { error, retry_in });
        self.sleep(retry_in);
        self.backoff = (self.backoff * 2).min(self.options.retry_max);
    }

    fn sleep(&self, duration: Duration) {
        let until = Instant::now() + duration;
        while !self.stop.load(Ordering::Relaxed) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(TICK));
        }
    }
}
