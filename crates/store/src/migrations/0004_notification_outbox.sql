-- The transactional outbox: a notice is inserted in the same transaction as the invoice it is
-- about, so a committed invoice always has its notice and a rolled-back one never does. A
-- dispatcher delivers pending rows (delivered_at NULL) in next_attempt_at order, at least once.
-- Expand: a new table only, so code that predates it keeps working; it may run before or after
-- the billing v2 contract step.
CREATE TABLE notification_outbox (
    id              INTEGER NOT NULL PRIMARY KEY,
    -- Stable across retries and restarts, so a receiver can drop duplicate deliveries.
    delivery_key    TEXT    NOT NULL UNIQUE,
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

CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at)
    WHERE delivered_at IS NULL;
CREATE INDEX notification_outbox_delivered ON notification_outbox (delivered_at)
    WHERE delivered_at IS NOT NULL;
