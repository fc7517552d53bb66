-- Billing v2, contract step: retires billing v1's columns. Applied only in the retire stage,
-- once no billing v1 code reads the flat rate column any more.
-- First make every row explicit in v2 terms: rows written through v1 get the legacy currency
-- (the connection's temp.store_settings) and their flat tax rate on every line.
UPDATE invoices
   SET currency = (SELECT legacy_currency FROM temp.store_settings)
 WHERE currency IS NULL;
UPDATE invoice_lines
   SET tax_rate_bp = (SELECT i.tax_rate_bp FROM invoices AS i WHERE i.id = invoice_lines.invoice_id)
 WHERE tax_rate_bp IS NULL;

ALTER TABLE invoices DROP COLUMN tax_rate_bp;
