-- Billing v1: every amount is in one implicit currency, and one flat tax rate covers the invoice.
-- Amounts are integers in minor units; rates are basis points (2000 = 20%).
CREATE TABLE invoices (
    id          TEXT    NOT NULL PRIMARY KEY,
    customer    TEXT    NOT NULL,
    tax_rate_bp INTEGER NOT NULL CHECK (tax_rate_bp BETWEEN 0 AND 10000),
    subtotal    INTEGER NOT NULL,
    tax         INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE invoice_lines (
    invoice_id      TEXT    NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL CHECK (position >= 0),
    description     TEXT    NOT NULL,
    quantity        INTEGER NOT NULL,
    unit_price      INTEGER NOT NULL,
    -- The requested discount: 'none', 'percent' (value in basis points) or 'fixed' (minor units).
    discount_kind   TEXT    NOT NULL CHECK (discount_kind IN ('none', 'percent', 'fixed')),
    discount_value  INTEGER NOT NULL,
    -- The discount the provider computed, in minor units.
    discount_amount INTEGER NOT NULL,
    tax             INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, position)
) STRICT;
