-- The transactional outbox: a notice is inserted in the same transaction as the invoice it is
-- about, so a committed invoice always has its notice and a rolled-back one never does. A
-- dispatcher delivers pending rows (delivered_at NULL) in next_attempt_at order, at least once.
-- Expand: a new table only, so code that predates it keeps working; it may run before or after
-- the billing v2 contract step.
CREATE TABLE notification_outbox (
    id              INTEGER NOT NULL PRIMARY KEY,
    -- Stable across retries and restarts, so a receiver can drop duplicate deliveries. Unique
    -- because it is derived from the invoice id; not indexed, since nothing looks notices up by
    -- it on the request path (each index is one more write per create).
    delivery_key    TEXT    NOT NULL,
    invoice_id      TEXT    NOT NULL,
    -- The rendered message (shared::notification::v1::Message as JSON).
    message         TEXT    NOT NULL,
    created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- Unix milliseconds: not before then is the next delivery attempt.
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    -- Unix milliseconds; NULL while the notice is pending.
    delivered_at    INTEGER
) STRICT;

-- The dispatcher's one query: pending notices by due time. Delivered rows leave the index, so
-- it stays as small as the backlog. (Purging delivered rows scans the table; it runs rarely.)
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at)
    WHERE delivered_at IS NULL;
