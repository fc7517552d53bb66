//! The transactional outbox of invoice notices: a notice is queued in its invoice's transaction
//! ([`Store::create_v1_with_notice`], [`Store::create_v2_with_notice`]) and read back by a
//! dispatcher, which marks it delivered or schedules its next attempt.

use rusqlite::{OptionalExtension as _, Transaction, TransactionBehavior};
use shared::domain::InvoiceId;
use shared::notification::v1::Message;

use crate::{Store, StoreError};

/// The outbox row id of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoticeId(pub i64);

impl std::fmt::Display for NoticeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The delivery key of the notice for a newly created invoice: `invoice-created/{id}`. It is
/// derived from the invoice, not the row, so it is the same on every attempt, after a restart
/// and in a restored copy of the database: a receiver drops deliveries whose key it has seen.
pub fn delivery_key(invoice: &InvoiceId) -> String {
    format!("invoice-created/{invoice}")
}

/// A notice waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingNotice {
    /// Its row id; pass it to [`Store::mark_delivered`] or [`Store::mark_failed`].
    pub id: NoticeId,
    /// See [`delivery_key`].
    pub delivery_key: String,
    /// The invoice it is about.
    pub invoice_id: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The message as stored (JSON); [`message`](Self::message) decodes it.
    pub payload: String,
}

impl PendingNotice {
    /// The stored message.
    ///
    /// # Errors
    ///
    /// When the stored JSON is not a `Message` (a row written by hand, say).
    pub fn message(&self) -> Result<Message, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }
}

/// How many notices the outbox holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxCounts {
    /// Not delivered yet.
    pub pending: u64,
    /// Delivered and not yet purged.
    pub delivered: u64,
}

/// Where one notice stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeStatus {
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not before then (Unix milliseconds) is the next attempt.
    pub next_attempt_at: u64,
    /// The error of the last failed attempt, cleared on delivery.
    pub last_error: Option<String>,
    /// When it was delivered (Unix milliseconds), `None` while pending.
    pub delivered_at: Option<u64>,
}

/// A notice ready to insert: its key and encoded message.
#[derive(Debug)]
pub(crate) struct NewNotice {
    delivery_key: String,
    invoice_id: String,
    payload: String,
}

impl NewNotice {
    pub(crate) fn new(
        store: &Store,
        invoice: &InvoiceId,
        message: &Message,
    ) -> Result<Self, StoreError> {
        let payload =
            serde_json::to_string(message).map_err(|source| StoreError::EncodeNotice {
                path: store.path().to_owned(),
                id: invoice.clone(),
                source,
            })?;
        Ok(Self {
            delivery_key: delivery_key(invoice),
            invoice_id: invoice.as_str().to_owned(),
            payload,
        })
    }

    /// Inserts the notice, due at once, in the invoice's transaction.
    pub(crate) fn insert(&self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        tx.execute(
            "INSERT INTO notification_outbox (delivery_key, invoice_id, message) VALUES (?1, ?2, ?3)",
            (&self.delivery_key, &self.invoice_id, &self.payload),
        )
        .map(drop)
    }
}

/// Unix milliseconds as SQLite stores them (saturating; they fit for the next 292 million years).
fn millis(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

impl Store {
    /// Up to `limit` pending notices due at `now_ms` (Unix milliseconds), the earliest due
    /// first. Bounded, so a long backlog never sits in memory at once.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub fn due_notices(&self, now_ms: u64, limit: usize) -> Result<Vec<PendingNotice>, StoreError> {
        let inner = self.lock();
        let mut statement = inner
            .conn
            .prepare_cached(
                "SELECT id, delivery_key, invoice_id, attempts, message FROM notification_outbox
                  WHERE delivered_at IS NULL AND next_attempt_at <= ?1
                  ORDER BY next_attempt_at, id LIMIT ?2",
            )
            .map_err(|e| self.db(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        statement
            .query_map((millis(now_ms), limit), |row| {
                Ok(PendingNotice {
                    id: NoticeId(row.get(0)?),
                    delivery_key: row.get(1)?,
                    invoice_id: row.get(2)?,
                    attempts: row.get(3)?,
                    payload: row.get(4)?,
                })
            })
            .map_err(|e| self.db(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.db(e))
    }

    /// When the earliest pending notice is due (Unix milliseconds), or `None` when none is
    /// pending.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub fn next_notice_due(&self) -> Result<Option<u64>, StoreError> {
        let due: Option<i64> = self
            .lock()
            .conn
            .query_row(
                "SELECT min(next_attempt_at) FROM notification_outbox WHERE delivered_at IS NULL",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.db(e))?
            .flatten();
        Ok(due.map(|ms| u64::try_from(ms).unwrap_or(0)))
    }

    /// Marks these notices delivered at `now_ms`, in one transaction. Returns how many were
    /// pending (a notice already delivered stays as it was).
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub fn mark_delivered(&self, ids: &[NoticeId], now_ms: u64) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.db(e))?;
        let mut changed = 0;
        {
            let mut statement = tx
                .prepare_cached(
                    "UPDATE notification_outbox SET delivered_at = ?2, last_error = NULL
                      WHERE id = ?1 AND delivered_at IS NULL",
                )
                .map_err(|e| self.db(e))?;
            for id in ids {
                changed += statement
                    .execute((id.0, millis(now_ms)))
                    .map_err(|e| self.db(e))?;
            }
        }
        tx.commit().map_err(|e| self.db(e))?;
        Ok(changed)
    }

    /// Records a failed attempt at a notice: one more attempt, `error` kept, and the next
    /// attempt not before `retry_at_ms`. Returns whether the notice was pending.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub fn mark_failed(
        &self,
        id: NoticeId,
        retry_at_ms: u64,
        error: &str,
    ) -> Result<bool, StoreError> {
        self.lock()
            .conn
            .execute(
                "UPDATE notification_outbox
                    SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
                  WHERE id = ?1 AND delivered_at IS NULL",
                (id.0, millis(retry_at_ms), error),
            )
            .map(|changed| changed > 0)
            .map_err(|e| self.db(e))
    }

    /// Deletes notices delivered before `before_ms`; returns how many.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub fn purge_delivered(&self, before_ms: u64) -> Result<usize, StoreError> {
        self.lock()
            .conn
            .execute(
                "DELETE FROM notification_outbox
                  WHERE delivered_at IS NOT NULL AND delivered_at < ?1",
                [millis(before_ms)],
            )
            .map_err(|e| self.db(e))
    }

    /// How many notices are pending and delivered.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        self.lock()
            .conn
            .query_row(
                "SELECT count(*) FILTER (WHERE delivered_at IS NULL),
                        count(*) FILTER (WHERE delivered_at IS NOT NULL)
                   FROM notification_outbox",
                [],
                |row| {
                    Ok(OutboxCounts {
                        pending: row.get(0)?,
                        delivered: row.get(1)?,
                    })
                },
            )
            .map_err(|e| self.db(e))
    }

    /// Where the notice with this delivery key stands, or `None` when there is none.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub fn notice_status(&self, delivery_key: &str) -> Result<Option<NoticeStatus>, StoreError> {
        let unsigned = |ms: i64| u64::try_from(ms).unwrap_or(0);
        self.lock()
            .conn
            .query_row(
                "SELECT attempts, next_attempt_at, last_error, delivered_at
                   FROM notification_outbox WHERE delivery_key = ?1",
                [delivery_key],
                |row| {
                    Ok(NoticeStatus {
                        attempts: row.get(0)?,
                        next_attempt_at: unsigned(row.get(1)?),
                        last_error: row.get(2)?,
                        delivered_at: row.get::<_, Option<i64>>(3)?.map(unsigned),
                    })
                },
            )
            .optional()
            .map_err(|e| self.db(e))
    }
}

#[cfg(test)]
mod tests {
    use shared::domain::Currency;

    use super::*;
    use crate::Outcome;
    use crate::fixtures::{id, message, v1_invoice, v2_invoice};

    fn store() -> Store {
        Store::open_in_memory().unwrap()
    }

    #[test]
    fn a_new_invoice_queues_its_notice_and_a_replay_queues_nothing() {
        let store = store();
        let invoice = v1_invoice("inv-1", 1900);
        let first = store
            .create_v1_with_notice(&invoice, &message("first"))
            .unwrap();
        assert_eq!(first.outcome, Outcome::Created);
        let again = store
            .create_v1_with_notice(&invoice, &message("again"))
            .unwrap();
        assert_eq!(again.outcome, Outcome::Replayed);
        let v2 = v2_invoice("inv-2", "key-2", Currency::USD, &[700]);
        store.create_v2_with_notice(&v2, &message("v2")).unwrap();
        store.create_v2_with_notice(&v2, &message("v2")).unwrap();
        // A create without a notice queues none.
        store.create_v1(&v1_invoice("inv-3", 1900)).unwrap();

        let due = store.due_notices(0, 10).unwrap();
        let keys: Vec<_> = due.iter().map(|n| n.delivery_key.as_str()).collect();
        assert_eq!(keys, ["invoice-created/inv-1", "invoice-created/inv-2"]);
        assert_eq!(due[0].invoice_id, "inv-1");
        assert_eq!(due[0].attempts, 0);
        assert_eq!(due[0].message().unwrap(), message("first"));
        assert_eq!(due[1].message().unwrap(), message("v2"));
        assert_eq!(
            store.outbox_counts().unwrap(),
            OutboxCounts {
                pending: 2,
                delivered: 0
            }
        );
    }

    #[test]
    fn when_the_notice_cannot_be_written_the_invoice_is_not_either() {
        let store = store();
        // A trigger makes the notice insert fail inside the invoice's transaction.
        store
            .lock()
            .conn
            .execute_batch(
                "CREATE TEMP TRIGGER refuse BEFORE INSERT ON notification_outbox
                 BEGIN SELECT RAISE(ABORT, 'outbox refused'); END",
            )
            .unwrap();
        let err = store
            .create_v1_with_notice(&v1_invoice("inv-1", 1900), &message("x"))
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Database { .. })
                && err.to_string().contains("outbox refused"),
            "{err}"
        );
        assert_eq!(store.count().unwrap(), 0);
        assert_eq!(store.get_v1(&id("inv-1")).unwrap(), None);
    }

    #[test]
    fn a_failed_attempt_postpones_the_notice_until_its_retry_time() {
        let store = store();
        for n in 1..=3 {
            store
                .create_v1_with_notice(&v1_invoice(&format!("inv-{n}"), 1900), &message("m"))
                .unwrap();
        }
        assert_eq!(store.next_notice_due().unwrap(), Some(0));
        assert_eq!(store.due_notices(1_000, 2).unwrap().len(), 2, "the limit");
        let first = store.due_notices(1_000, 10).unwrap()[0].id;
        assert!(
            store
                .mark_failed(first, 5_000, "connection refused")
                .unwrap()
        );

        let due: Vec<_> = store
            .due_notices(4_999, 10)
            .unwrap()
            .into_iter()
            .map(|n| n.invoice_id)
            .collect();
        assert_eq!(due, ["inv-2", "inv-3"]);
        let status = store
            .notice_status("invoice-created/inv-1")
            .unwrap()
            .unwrap();
        assert_eq!(
            status,
            NoticeStatus {
                attempts: 1,
                next_attempt_at: 5_000,
                last_error: Some("connection refused".to_owned()),
                delivered_at: None,
            }
        );
        let second = store.due_notices(4_999, 10).unwrap();
        let second: Vec<_> = second.iter().map(|n| n.id).collect();
        assert_eq!(store.mark_delivered(&second, 4_999).unwrap(), 2);
        assert_eq!(store.next_notice_due().unwrap(), Some(5_000));

        let retried = store.due_notices(5_000, 10).unwrap();
        assert_eq!(retried.len(), 1);
        assert_eq!((retried[0].id, retried[0].attempts), (first, 1));
        assert_eq!(store.mark_delivered(&[first], 6_000).unwrap(), 1);
        // Delivered stays delivered: neither a second mark nor a failure changes it.
        assert_eq!(store.mark_delivered(&[first], 7_000).unwrap(), 0);
        assert!(!store.mark_failed(first, 9_000, "late").unwrap());
        let status = store
            .notice_status("invoice-created/inv-1")
            .unwrap()
            .unwrap();
        assert_eq!(
            (status.delivered_at, status.last_error),
            (Some(6_000), None)
        );
        assert_eq!(store.next_notice_due().unwrap(), None);
        assert_eq!(store.due_notices(u64::MAX, 10).unwrap(), []);
        assert_eq!(
            store.outbox_counts().unwrap(),
            OutboxCounts {
                pending: 0,
                delivered: 3
            }
        );

        assert_eq!(store.purge_delivered(5_000).unwrap(), 2);
        assert_eq!(store.outbox_counts().unwrap().delivered, 1);
        assert_eq!(store.notice_status("invoice-created/inv-2").unwrap(), None);
    }

    #[test]
    fn a_corrupt_stored_message_is_reported_on_decode_not_on_read() {
        let store = store();
        store
            .lock()
            .conn
            .execute(
                "INSERT INTO notification_outbox (delivery_key, invoice_id, message)
                 VALUES ('k', 'inv-9', 'not json')",
                [],
            )
            .unwrap();
        let due = store.due_notices(0, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert!(due[0].message().is_err());
    }

    #[test]
    fn outbox_queries_name_the_file_when_they_fail() {
        let store = store();
        store
            .lock()
            .conn
            .execute_batch("DROP TABLE notification_outbox")
            .unwrap();
        for err in [
            store.due_notices(0, 1).unwrap_err(),
            store.next_notice_due().unwrap_err(),
            store.mark_delivered(&[NoticeId(1)], 0).unwrap_err(),
            store.mark_failed(NoticeId(1), 0, "x").unwrap_err(),
            store.outbox_counts().unwrap_err(),
        ] {
            assert_eq!(
                err.to_string(),
                "query on invoice store :memory: failed: no such table: notification_outbox"
            );
        }
    }
}
