//! The outbox dispatcher: delivers the invoice notices the store queued in each invoice's
//! transaction, through a [`Sender`], at least once, retrying failures with exponential backoff.
//!
//! It runs on a thread of its own with its own database connection, reads at most
//! `outbox.batch_size` notices at a time (so memory stays bounded however long the backlog),
//! and after a restart simply carries on with what the database still holds as pending. A
//! notice is marked delivered only after its sender has flushed it, so a crash between the two
//! delivers it again: receivers drop duplicates by the notice's `delivery_key`.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use shared::notification::v1::Message;
use store::{PendingNotice, Store};

use crate::metrics::{DeliveryLabels, Metrics};
use crate::settings::{OutboxSettings, SenderKind};

/// One notice handed to a [`Sender`].
#[derive(Debug, Serialize)]
pub(crate) struct Delivery<'a> {
    /// The same on every attempt and after restarts: receivers drop deliveries they have seen.
    pub(crate) delivery_key: &'a str,
    /// The invoice the notice is about.
    pub(crate) invoice_id: &'a str,
    /// 1 for the first attempt.
    pub(crate) attempt: u32,
    /// The rendered message.
    pub(crate) message: &'a Message,
}

/// Why a delivery failed; it is retried.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    /// The notice file could not be opened or written.
    #[error("cannot append to notice file {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A delivery could not be encoded.
    #[error("cannot encode notice {key}: {source}")]
    Encode {
        /// The delivery key.
        key: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The stored message could not be decoded.
    #[error("stored notice {key} is not a message: {source}")]
    Corrupt {
        /// The delivery key.
        key: String,
        /// Why.
        source: serde_json::Error,
    },
}

/// Where notices go. Deliveries of one round are passed to [`send`](Self::send) one by one,
/// then [`flush`](Self::flush) makes them durable; only then are they marked delivered. The
/// same delivery may come again (after a failed flush or a crash): at least once, never
/// "exactly once".
pub(crate) trait Sender: Send {
    /// Accepts one delivery.
    ///
    /// # Errors
    ///
    /// When this delivery cannot be accepted; it is retried later.
    fn send(&mut self, delivery: &Delivery<'_>) -> Result<(), SendError>;

    /// Makes every delivery accepted since the last flush durable.
    ///
    /// # Errors
    ///
    /// When they cannot be; every one of them is retried later.
    fn flush(&mut self) -> Result<(), SendError>;
}

/// Delivers each notice as a log event under target `notification`.
#[derive(Debug, Default)]
pub(crate) struct LogSender;

impl Sender for LogSender {
    fn send(&mut self, delivery: &Delivery<'_>) -> Result<(), SendError> {
        let (channel, to) = match delivery.message {
            Message::Email { to, .. } => ("email", to.as_str()),
            Message::Sms { to, .. } => ("sms", to.as_str()),
            _ => ("other", ""),
        };
        tracing::info!(
            target: "notification",
            delivery_key = delivery.delivery_key,
            invoice = delivery.invoice_id,
            attempt = delivery.attempt,
            channel,
            to,
            "invoice notice delivered"
        );
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SendError> {
        Ok(())
    }
}

/// Appends each notice to a file as one JSON line (`delivery_key`, `invoice_id`, `attempt`,
/// `message`). A round's lines are written with one append and synced before they count as
/// delivered. The file's directory must exist; it is not created, so a missing mount shows as
/// failed (and retried) deliveries rather than notices written somewhere unexpected.
#[derive(Debug)]
pub(crate) struct FileSender {
    path: PathBuf,
    buffer: Vec<u8>,
}

impl FileSender {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            buffer: Vec::new(),
        }
    }
}

impl Sender for FileSender {
    fn send(&mut self, delivery: &Delivery<'_>) -> Result<(), SendError> {
        let mut line = serde_json::to_vec(delivery).map_err(|source| SendError::Encode {
            key: delivery.delivery_key.to_owned(),
            source,
        })?;
        line.push(b'\n');
        self.buffer.extend_from_slice(&line);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SendError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        // Whatever happens, this round's lines are not kept: a failed round is sent again.
        let lines = std::mem::take(&mut self.buffer);
        let failed = |source| SendError::File {
            path: self.path.clone(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(failed)?;
        file.write_all(&lines).map_err(failed)?;
        file.sync_data().map_err(failed)
    }
}

/// The sender `[outbox]` configures.
pub(crate) fn sender_for(settings: &OutboxSettings) -> Box<dyn Sender> {
    match settings.sender {
        SenderKind::Log => Box::new(LogSender),
        SenderKind::File => Box::new(FileSender::new(settings.file.clone())),
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Round {
    /// Notices read.
    pub(crate) due: usize,
    /// Marked delivered.
    pub(crate) delivered: usize,
    /// Failed and rescheduled.
    pub(crate) failed: usize,
}

/// Delivers the notices due at `now_ms`, at most `settings.batch_size` of them: each goes to
/// `sender`, the round is flushed, and each is marked delivered, or failed with its next attempt
/// `settings.backoff(failures)` after `now_ms`. Pure over its inputs, so tests pass the clock.
///
/// # Errors
///
/// A store error reading or marking the notices; the round's notices stay pending.
pub(crate) fn dispatch_once(
    store: &Store,
    sender: &mut dyn Sender,
    settings: &OutboxSettings,
    now_ms: u64,
) -> Result<Round, store::StoreError> {
    let due = store.due_notices(now_ms, settings.batch_size)?;
    let mut round = Round {
        due: due.len(),
        ..Round::default()
    };
    let mut accepted = Vec::with_capacity(due.len());
    for notice in &due {
        match offer(sender, notice) {
            Ok(()) => accepted.push(notice),
            Err(error) => {
                fail(store, settings, notice, now_ms, &error)?;
                round.failed += 1;
            }
        }
    }
    if accepted.is_empty() {
        return Ok(round);
    }
    match sender.flush() {
        Ok(()) => {
            let ids: Vec<_> = accepted.iter().map(|notice| notice.id).collect();
            round.delivered = store.mark_delivered(&ids, now_ms)?;
        }
        Err(error) => {
            for notice in accepted {
                fail(store, settings, notice, now_ms, &error)?;
                round.failed += 1;
            }
        }
    }
    Ok(round)
}

fn offer(sender: &mut dyn Sender, notice: &PendingNotice) -> Result<(), SendError> {
    let message = notice.message().map_err(|source| SendError::Corrupt {
        key: notice.delivery_key.clone(),
        source,
    })?;
    sender.send(&Delivery {
        delivery_key: &notice.delivery_key,
        invoice_id: &notice.invoice_id,
        attempt: notice.attempts.saturating_add(1),
        message: &message,
    })
}

fn fail(
    store: &Store,
    settings: &OutboxSettings,
    notice: &PendingNotice,
    now_ms: u64,
    error: &SendError,
) -> Result<(), store::StoreError> {
    let failures = notice.attempts.saturating_add(1);
    let wait = settings.backoff(failures);
    let retry_at = now_ms.saturating_add(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
    tracing::warn!(
        delivery_key = notice.delivery_key,
        invoice = notice.invoice_id,
        attempt = failures,
        retry_in_ms = wait.as_millis(),
        %error,
        "invoice notice delivery failed; will retry"
    );
    store.mark_failed(notice.id, retry_at, &error.to_string())?;
    Ok(())
}

/// Unix milliseconds now (0 if the clock is before 1970).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// How long a woken dispatcher lets further notices gather before its round.
const LINGER: Duration = Duration::from_millis(25);

/// Wakes the dispatcher: after a create commits a notice, and to stop it.
#[derive(Debug, Default)]
pub(crate) struct OutboxSignal {
    state: Mutex<Signal>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Signal {
    woken: bool,
    stopped: bool,
}

impl OutboxSignal {
    /// A notice was queued: deliver now rather than at the next poll. Only creates queue
    /// notices, and a build without a billing version has none.
    #[cfg_attr(not(any(feature = "v1", feature = "v2")), allow(dead_code))]
    pub(crate) fn wake(&self) {
        self.lock().woken = true;
        self.changed.notify_one();
    }

    fn stop(&self) {
        self.lock().stopped = true;
        self.changed.notify_all();
    }

    /// Waits until woken, stopped or `timeout`; returns whether the dispatcher should stop.
    /// A wake is followed by [`LINGER`], so a burst of creates is delivered in one round (one
    /// write transaction) rather than one round per create competing with the creates for
    /// SQLite's write lock.
    fn wait(&self, timeout: Duration) -> bool {
        let guard = self.lock();
        let (mut guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |signal| !signal.woken && !signal.stopped)
            .unwrap_or_else(PoisonError::into_inner);
        let woken = std::mem::take(&mut guard.woken);
        if guard.stopped {
            return true;
        }
        if woken {
            let (guard, _) = self
                .changed
                .wait_timeout_while(guard, LINGER, |signal| !signal.stopped)
                .unwrap_or_else(PoisonError::into_inner);
            return guard.stopped;
        }
        false
    }

    fn stopped(&self) -> bool {
        self.lock().stopped
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Signal> {
        // The flags are plain booleans, each set in one statement: a poisoned lock still holds
        // a consistent value.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running dispatcher thread; dropping it stops the thread at its next wait (a delivery in
/// progress finishes, or is repeated after a restart).
#[derive(Debug)]
pub(crate) struct Dispatcher {
    signal: Arc<OutboxSignal>,
}

impl Dispatcher {
    /// Starts the dispatcher thread over its own connection `store`.
    ///
    /// # Errors
    ///
    /// When the operating system refuses a thread.
    pub(crate) fn start(
        store: Store,
        sender: Box<dyn Sender>,
        settings: OutboxSettings,
        signal: Arc<OutboxSignal>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Self> {
        let thread_signal = Arc::clone(&signal);
        std::thread::Builder::new()
            .name("outbox-dispatcher".to_owned())
            .spawn(move || run(&store, sender, &settings, &thread_signal, &metrics))?;
        Ok(Self { signal })
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.signal.stop();
    }
}

/// How often delivered notices older than `retain_delivered_hours` are purged.
const PURGE_EVERY: Duration = Duration::from_secs(600);

fn run(
    store: &Store,
    mut sender: Box<dyn Sender>,
    settings: &OutboxSettings,
    signal: &OutboxSignal,
    metrics: &Metrics,
) {
    let poll = Duration::from_millis(settings.poll_interval_ms);
    let mut last_purge: Option<u64> = None;
    while !signal.stopped() {
        let now = now_ms();
        let round = match dispatch_once(store, sender.as_mut(), settings, now) {
            Ok(round) => round,
            Err(error) => {
                tracing::warn!(%error, "outbox dispatcher cannot reach the database; will retry");
                if signal.wait(settings.backoff(1)) {
                    break;
                }
                continue;
            }
        };
        record(metrics, round);
        purge(store, settings, now, &mut last_purge);
        // A full batch means more may be due at once.
        if round.due >= settings.batch_size {
            continue;
        }
        let wait = match store.next_notice_due() {
            Ok(Some(due)) => Duration::from_millis(due.saturating_sub(now_ms())).min(poll),
            Ok(None) | Err(_) => poll,
        };
        if signal.wait(wait) {
            break;
        }
    }
    tracing::debug!("outbox dispatcher stopped");
}

fn record(metrics: &Metrics, round: Round) {
    for (result, count) in [("delivered", round.delivered), ("failed", round.failed)] {
        if count > 0 {
            metrics
                .outbox_deliveries
                .get_or_create(&DeliveryLabels { result })
                .inc_by(count as u64);
        }
    }
}

fn purge(store: &Store, settings: &OutboxSettings, now: u64, last_purge: &mut Option<u64>) {
    if settings.retain_delivered_hours == 0 {
        return;
    }
    let every = u64::try_from(PURGE_EVERY.as_millis()).unwrap_or(u64::MAX);
    if last_purge.is_some_and(|last| now.saturating_sub(last) < every) {
        return;
    }
    *last_purge = Some(now);
    let retain = settings.retain_delivered_hours.saturating_mul(3_600_000);
    match store.purge_delivered(now.saturating_sub(retain)) {
        Ok(0) => {}
        Ok(purged) => tracing::debug!(purged, "purged delivered notices"),
        Err(error) => tracing::warn!(%error, "cannot purge delivered notices"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use shared::domain::{Amount, CustomerId, Description, Discount, InvoiceId, Quantity, Rate};
    use shared::notification::v1::{PhoneNumber, SmsText};

    use super::*;

    fn message(text: &str) -> Message {
        Message::Sms {
            to: PhoneNumber::parse("+4915112345678").unwrap(),
            text: SmsText::parse(text).unwrap(),
        }
    }

    fn invoice(id: &str) -> shared::billing::v1::Invoice {
        use shared::billing::v1;
        let item = v1::LineItem::new(
            Description::parse("Widget").unwrap(),
            Quantity::new(1).unwrap(),
            Amount::from_minor(100),
            Discount::None,
        )
        .unwrap();
        let line = v1::InvoiceLine::new(item, Amount::ZERO, Amount::from_minor(19)).unwrap();
        v1::Invoice::new(
            InvoiceId::parse(id).unwrap(),
            CustomerId::parse("c-1").unwrap(),
            Rate::from_basis_points(1900).unwrap(),
            vec![line],
        )
        .unwrap()
    }

    fn store_with(ids: &[&str]) -> Store {
        let store = Store::open_in_memory().unwrap();
        for id in ids {
            store
                .create_v1_with_notice(&invoice(id), &message(id))
                .unwrap();
        }
        store
    }

    fn settings() -> OutboxSettings {
        OutboxSettings {
            retry_initial_ms: 1_000,
            retry_max_ms: 60_000,
            ..OutboxSettings::default()
        }
    }

    /// Records what it accepts; fails sends or flushes while told to.
    #[derive(Default)]
    struct Scripted {
        send_failures: VecDeque<bool>,
        flush_fails: bool,
        pending: Vec<String>,
        delivered: Vec<String>,
        attempts: Vec<u32>,
    }

    impl Sender for Scripted {
        fn send(&mut self, delivery: &Delivery<'_>) -> Result<(), SendError> {
            self.attempts.push(delivery.attempt);
            if self.send_failures.pop_front().unwrap_or(false) {
                return Err(SendError::File {
                    path: PathBuf::from("remote"),
                    source: std::io::Error::other("connection refused"),
                });
            }
            self.pending
                .push(format!("{}#{}", delivery.delivery_key, delivery.attempt));
            Ok(())
        }

        fn flush(&mut self) -> Result<(), SendError> {
            let pending = std::mem::take(&mut self.pending);
            if self.flush_fails {
                return Err(SendError::File {
                    path: PathBuf::from("remote"),
                    source: std::io::Error::other("disk full"),
                });
            }
            self.delivered.extend(pending);
            Ok(())
        }
    }

    #[test]
    fn a_failing_notice_is_retried_with_doubling_waits_until_delivered() {
        let store = store_with(&["inv-1"]);
        let settings = settings();
        let key = "invoice-created/inv-1";
        let mut sender = Scripted {
            send_failures: VecDeque::from([true, true, true]),
            ..Scripted::default()
        };
        let mut now = 10_000;
        let mut waits = Vec::new();
        for _ in 0..3 {
            let round = dispatch_once(&store, &mut sender, &settings, now).unwrap();
            assert_eq!(
                round,
                Round {
                    due: 1,
                    delivered: 0,
                    failed: 1
                }
            );
            let status = store.notice_status(key).unwrap().unwrap();
            waits.push(status.next_attempt_at - now);
            // Not due before its retry time.
            let early =
                dispatch_once(&store, &mut sender, &settings, status.next_attempt_at - 1).unwrap();
            assert_eq!(early, Round::default());
            now = status.next_attempt_at;
        }
        assert_eq!(waits, [1_000, 2_000, 4_000]);
        let round = dispatch_once(&store, &mut sender, &settings, now).unwrap();
        assert_eq!(
            round,
            Round {
                due: 1,
                delivered: 1,
                failed: 0
            }
        );
        assert_eq!(sender.attempts, [1, 2, 3, 4]);
        assert_eq!(sender.delivered, [format!("{key}#4")]);
        let status = store.notice_status(key).unwrap().unwrap();
        assert_eq!((status.attempts, status.delivered_at), (3, Some(now)));
        assert_eq!(status.last_error, None);
        // Delivered notices are not sent again.
        assert_eq!(
            dispatch_once(&store, &mut sender, &settings, u64::MAX / 2).unwrap(),
            Round::default()
        );
    }

    #[test]
    fn a_failed_flush_fails_the_whole_round_and_the_next_round_sends_it_again() {
        let store = store_with(&["inv-1", "inv-2"]);
        let settings = settings();
        let mut sender = Scripted {
            flush_fails: true,
            ..Scripted::default()
        };
        let round = dispatch_once(&store, &mut sender, &settings, 0).unwrap();
        assert_eq!(
            round,
            Round {
                due: 2,
                delivered: 0,
                failed: 2
            }
        );
        let status = store
            .notice_status("invoice-created/inv-2")
            .unwrap()
            .unwrap();
        assert_eq!(
            status.last_error.as_deref(),
            Some("cannot append to notice file remote: disk full")
        );
        sender.flush_fails = false;
        let round = dispatch_once(&store, &mut sender, &settings, 1_000).unwrap();
        assert_eq!(
            round,
            Round {
                due: 2,
                delivered: 2,
                failed: 0
            }
        );
        assert_eq!(store.outbox_counts().unwrap().pending, 0);
    }

    #[test]
    fn a_corrupt_notice_is_postponed_without_holding_up_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let file_store = Store::open(&path).unwrap();
        file_store
            .create_v1_with_notice(&invoice("inv-1"), &message("a"))
            .unwrap();
        file_store
            .create_v1_with_notice(&invoice("inv-2"), &message("b"))
            .unwrap();
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute(
                "UPDATE notification_outbox SET message = 'garbage' WHERE invoice_id = 'inv-1'",
                [],
            )
            .unwrap();
        let mut sender = Scripted::default();
        let round = dispatch_once(&file_store, &mut sender, &settings(), 0).unwrap();
        assert_eq!(
            round,
            Round {
                due: 2,
                delivered: 1,
                failed: 1
            }
        );
        assert_eq!(sender.delivered, ["invoice-created/inv-2#1"]);
        let status = file_store
            .notice_status("invoice-created/inv-1")
            .unwrap()
            .unwrap();
        assert!(
            status
                .last_error
                .unwrap()
                .starts_with("stored notice invoice-created/inv-1 is not a message"),
        );
    }

    #[test]
    fn the_file_sender_appends_one_json_line_per_notice_and_fails_while_its_directory_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool/notices.jsonl");
        let store = store_with(&["inv-1", "inv-2"]);
        let mut sender = FileSender::new(path.clone());
        let settings = settings();
        let round = dispatch_once(&store, &mut sender, &settings, 0).unwrap();
        assert_eq!(
            round,
            Round {
                due: 2,
                delivered: 0,
                failed: 2
            }
        );
        let status = store
            .notice_status("invoice-created/inv-1")
            .unwrap()
            .unwrap();
        assert!(status.last_error.unwrap().starts_with(&format!(
            "cannot append to notice file {}: ",
            path.display()
        )),);

        std::fs::create_dir(dir.path().join("spool")).unwrap();
        let round = dispatch_once(&store, &mut sender, &settings, 1_000).unwrap();
        assert_eq!(
            round,
            Round {
                due: 2,
                delivered: 2,
                failed: 0
            }
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["delivery_key"], "invoice-created/inv-1");
        assert_eq!(lines[0]["invoice_id"], "inv-1");
        assert_eq!(lines[0]["attempt"], 2);
        assert_eq!(
            serde_json::from_value::<Message>(lines[1]["message"].clone()).unwrap(),
            message("inv-2")
        );
    }

    #[test]
    fn a_batch_reads_at_most_batch_size_notices() {
        let store = store_with(&["a", "b", "c"]);
        let settings = OutboxSettings {
            batch_size: 2,
            ..settings()
        };
        let mut sender = Scripted::default();
        assert_eq!(
            dispatch_once(&store, &mut sender, &settings, 0).unwrap(),
            Round {
                due: 2,
                delivered: 2,
                failed: 0
            }
        );
        assert_eq!(
            dispatch_once(&store, &mut sender, &settings, 0).unwrap(),
            Round {
                due: 1,
                delivered: 1,
                failed: 0
            }
        );
    }

    #[test]
    fn a_wake_ends_the_wait_and_a_stop_is_reported() {
        let signal = OutboxSignal::default();
        signal.wake();
        assert!(!signal.wait(Duration::from_secs(3600)));
        signal.stop();
        assert!(signal.wait(Duration::from_secs(3600)));
        assert!(signal.stopped());
    }
}
