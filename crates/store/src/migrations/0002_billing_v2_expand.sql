-- Billing v2, expand step: only nullable columns and an index, so billing v1 code that knows
-- nothing of them keeps reading and writing. NULL means "written through billing v1", and
-- readers apply the v1 defaults: the configured legacy currency, the invoice's flat tax rate
-- for every line, no idempotency key, and a tax breakdown derived from the lines.
ALTER TABLE invoices ADD COLUMN currency TEXT
    CHECK (currency IS NULL OR (length(currency) = 3 AND currency GLOB '[A-Z][A-Z][A-Z]'));
ALTER TABLE invoices ADD COLUMN idempotency_key TEXT;
-- The tax breakdown as the v2 provider returned it (JSON), checked against the lines on read.
ALTER TABLE invoices ADD COLUMN tax_breakdown TEXT;
ALTER TABLE invoice_lines ADD COLUMN tax_rate_bp INTEGER
    CHECK (tax_rate_bp IS NULL OR tax_rate_bp BETWEEN 0 AND 10000);

-- One invoice per idempotency key. SQLite treats NULLs as distinct, so v1 rows never collide.
CREATE UNIQUE INDEX invoices_idempotency_key ON invoices (idempotency_key);
