//! Invoice rows as stored, and their mapping to and from billing v1 and v2 invoices.
//!
//! One row format serves both contract versions. A row written through v1 leaves the v2
//! columns NULL (before the contract migration); reading it through v2 applies the v1 defaults.
//! A row written through v2 reads through v1 only when v1 can express it.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, Row};
use shared::billing::v1::RequiresV2;
use shared::billing::{bridge, v1, v2};
use shared::domain::{
    Amount, Currency, CustomerId, Description, Discount, IdempotencyKey, InvoiceId, Money,
    Quantity, Rate,
};

/// Which columns the schema has: before or after the contract migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Schema {
    /// Expand migrations applied: `invoices.tax_rate_bp` (v1's flat rate) exists and the v2
    /// columns are nullable.
    Expanded,
    /// The contract migration applied: `invoices.tax_rate_bp` is gone and every row carries its
    /// currency and per-line rates.
    Contracted,
}

/// An `invoices` row with its `invoice_lines`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvoiceRow {
    pub(crate) id: String,
    pub(crate) customer: String,
    /// v1's flat rate; `None` once the contract migration dropped the column.
    pub(crate) flat_rate: Option<i64>,
    /// `None` for rows written through v1 before the contract migration.
    pub(crate) currency: Option<String>,
    pub(crate) idempotency_key: Option<String>,
    /// The v2 tax breakdown as JSON, `None` for rows written through v1.
    pub(crate) tax_breakdown: Option<String>,
    pub(crate) subtotal: i64,
    pub(crate) tax: i64,
    pub(crate) total: i64,
    pub(crate) lines: Vec<LineRow>,
}

/// An `invoice_lines` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineRow {
    pub(crate) description: String,
    pub(crate) quantity: i64,
    pub(crate) unit_price: i64,
    pub(crate) discount_kind: String,
    pub(crate) discount_value: i64,
    pub(crate) discount_amount: i64,
    pub(crate) tax: i64,
    /// `None` for lines written through v1 before the contract migration.
    pub(crate) tax_rate: Option<i64>,
}

/// Why a row could not be read as the invoice asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The row is valid, but only v2 can express it.
    NeedsV2(RequiresV2),
    /// The row is not a valid invoice.
    Corrupt(String),
}

fn corrupt(detail: impl std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt(detail.to_string())
}

/// How a row is looked up.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lookup<'a> {
    Id(&'a str),
    IdempotencyKey(&'a str),
}

const SELECT_EXPANDED: &str = "SELECT id, customer, tax_rate_bp, currency, idempotency_key, \
     tax_breakdown, subtotal, tax, total FROM invoices";
const SELECT_CONTRACTED: &str = "SELECT id, customer, NULL, currency, idempotency_key, \
     tax_breakdown, subtotal, tax, total FROM invoices";
const SELECT_LINES: &str = "SELECT description, quantity, unit_price, discount_kind, \
     discount_value, discount_amount, tax, tax_rate_bp FROM invoice_lines \
     WHERE invoice_id = ?1 ORDER BY position";
const INSERT_EXPANDED: &str = "INSERT INTO invoices (id, customer, tax_rate_bp, currency, \
     idempotency_key, tax_breakdown, subtotal, tax, total) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING";
const INSERT_CONTRACTED: &str = "INSERT INTO invoices (id, customer, currency, \
     idempotency_key, tax_breakdown, subtotal, tax, total) \
     VALUES (?1, ?2, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING";
const INSERT_LINE: &str = "INSERT INTO invoice_lines (invoice_id, position, description, \
     quantity, unit_price, discount_kind, discount_value, discount_amount, tax, tax_rate_bp) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

impl InvoiceRow {
    /// Loads a row and its lines, or `None` when there is none.
    pub(crate) fn load(
        conn: &Connection,
        schema: Schema,
        lookup: Lookup<'_>,
    ) -> rusqlite::Result<Option<Self>> {
        let select = match schema {
            Schema::Expanded => SELECT_EXPANDED,
            Schema::Contracted => SELECT_CONTRACTED,
        };
        let (sql, value) = match lookup {
            Lookup::Id(id) => (format!("{select} WHERE id = ?1"), id),
            Lookup::IdempotencyKey(key) => (format!("{select} WHERE idempotency_key = ?1"), key),
        };
        let Some(mut row) = conn
            .prepare_cached(&sql)?
            .query_row([value], Self::header)
            .optional()?
        else {
            return Ok(None);
        };
        row.lines = conn
            .prepare_cached(SELECT_LINES)?
            .query_map([&row.id], LineRow::from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(row))
    }

    fn header(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            customer: row.get(1)?,
            flat_rate: row.get(2)?,
            currency: row.get(3)?,
            idempotency_key: row.get(4)?,
            tax_breakdown: row.get(5)?,
            subtotal: row.get(6)?,
            tax: row.get(7)?,
            total: row.get(8)?,
            lines: Vec::new(),
        })
    }

    /// Inserts the row and its lines unless an invoice with its id or idempotency key exists.
    /// Returns whether it was inserted. The caller holds the write transaction.
    pub(crate) fn insert(&self, conn: &Connection, schema: Schema) -> rusqlite::Result<bool> {
        let sql = match schema {
            Schema::Expanded => INSERT_EXPANDED,
            Schema::Contracted => INSERT_CONTRACTED,
        };
        let inserted = conn.prepare_cached(sql)?.execute(rusqlite::params![
            self.id,
            self.customer,
            self.flat_rate,
            self.currency,
            self.idempotency_key,
            self.tax_breakdown,
            self.subtotal,
            self.tax,
            self.total,
        ])?;
        if inserted == 0 {
            return Ok(false);
        }
        let mut insert_line = conn.prepare_cached(INSERT_LINE)?;
        for (position, line) in self.lines.iter().enumerate() {
            insert_line.execute(rusqlite::params![
                self.id,
                position,
                line.description,
                line.quantity,
                line.unit_price,
                line.discount_kind,
                line.discount_value,
                line.discount_amount,
                line.tax,
                line.tax_rate,
            ])?;
        }
        Ok(true)
    }

    /// The row for a v1 invoice. Before the contract migration the v2 columns stay NULL, as
    /// v1 code that knows nothing of them would leave them; after it, the row is written in v2
    /// terms with `legacy_currency`.
    pub(crate) fn from_v1(
        invoice: &v1::Invoice,
        schema: Schema,
        legacy_currency: Currency,
    ) -> Self {
        let rate = i64::from(invoice.tax_rate().basis_points());
        let (flat_rate, currency, line_rate) = match schema {
            Schema::Expanded => (Some(rate), None, None),
            Schema::Contracted => (None, Some(legacy_currency.as_str().to_owned()), Some(rate)),
        };
        let totals = invoice.totals();
        Self {
            id: invoice.id().to_string(),
            customer: invoice.customer().to_string(),
            flat_rate,
            currency,
            idempotency_key: None,
            tax_breakdown: None,
            subtotal: totals.subtotal().minor(),
            tax: totals.tax().minor(),
            total: totals.total().minor(),
            lines: invoice
                .lines()
                .iter()
                .map(|line| {
                    let item = line.item();
                    let (discount_kind, discount_value) = discount_columns(item.discount());
                    LineRow {
                        description: item.description().to_string(),
                        quantity: i64::from(item.quantity().get()),
                        unit_price: item.unit_price().minor(),
                        discount_kind: discount_kind.to_owned(),
                        discount_value,
                        discount_amount: line.discount().minor(),
                        tax: line.tax().minor(),
                        tax_rate: line_rate,
                    }
                })
                .collect(),
        }
    }

    /// The row for a v2 invoice. Before the contract migration v1's `tax_rate_bp` column is
    /// NOT NULL, so it gets the lines' rate when they share one, else 0; readers use the
    /// per-line rates, which v2 rows always have.
    pub(crate) fn from_v2(
        invoice: &v2::Invoice,
        schema: Schema,
    ) -> Result<Self, serde_json::Error> {
        let flat_rate = match (schema, invoice.breakdown().bands()) {
            (Schema::Contracted, _) => None,
            (Schema::Expanded, [band]) => Some(i64::from(band.rate.basis_points())),
            (Schema::Expanded, _) => Some(0),
        };
        let totals = invoice.totals();
        Ok(Self {
            id: invoice.id().to_string(),
            customer: invoice.customer().to_string(),
            flat_rate,
            currency: Some(invoice.currency().as_str().to_owned()),
            idempotency_key: Some(invoice.idempotency_key().to_string()),
            tax_breakdown: Some(serde_json::to_string(invoice.breakdown())?),
            subtotal: totals.subtotal().amount().minor(),
            tax: totals.tax().amount().minor(),
            total: totals.total().amount().minor(),
            lines: invoice
                .lines()
                .iter()
                .map(|line| {
                    let item = line.item();
                    let (discount_kind, discount_value) = discount_columns(item.discount());
                    LineRow {
                        description: item.description().to_string(),
                        quantity: i64::from(item.quantity().get()),
                        unit_price: item.unit_price().amount().minor(),
                        discount_kind: discount_kind.to_owned(),
                        discount_value,
                        discount_amount: line.discount().amount().minor(),
                        tax: line.tax().amount().minor(),
                        tax_rate: Some(i64::from(item.tax_rate().basis_points())),
                    }
                })
                .collect(),
        })
    }

    /// The row's currency, `legacy_currency` when it was written through v1.
    fn currency(&self, legacy_currency: Currency) -> Result<Currency, DecodeError> {
        match &self.currency {
            Some(code) => Currency::parse(code).map_err(corrupt),
            None => Ok(legacy_currency),
        }
    }

    /// Each line's tax rate: its own, else the invoice's flat rate.
    fn line_rates(&self) -> Result<Vec<Rate>, DecodeError> {
        self.lines
            .iter()
            .enumerate()
            .map(|(position, line)| {
                let basis_points = line
                    .tax_rate
                    .or(self.flat_rate)
                    .ok_or_else(|| corrupt(format!("line {position} has no tax rate")))?;
                rate(basis_points)
            })
            .collect()
    }

    fn ids(&self) -> Result<(InvoiceId, CustomerId), DecodeError> {
        Ok((
            InvoiceId::parse(&self.id).map_err(corrupt)?,
            CustomerId::parse(&self.customer).map_err(corrupt)?,
        ))
    }

    fn check_totals(
        &self,
        subtotal: Amount,
        tax: Amount,
        total: Amount,
    ) -> Result<(), DecodeError> {
        let stored = (self.subtotal, self.tax, self.total);
        let computed = (subtotal.minor(), tax.minor(), total.minor());
        if stored == computed {
            Ok(())
        } else {
            Err(corrupt(format!(
                "stored totals (subtotal, tax, total) {stored:?} differ from the lines' {computed:?}"
            )))
        }
    }

    /// Reads the row through billing v1: possible when it is in `legacy_currency` and its
    /// lines share one tax rate.
    pub(crate) fn to_v1(&self, legacy_currency: Currency) -> Result<v1::Invoice, DecodeError> {
        let (id, customer) = self.ids()?;
        let currency = self.currency(legacy_currency)?;
        if currency != legacy_currency {
            return Err(DecodeError::NeedsV2(RequiresV2::Currency {
                found: currency,
            }));
        }
        let rates = self.line_rates()?;
        let distinct: BTreeSet<Rate> = rates.iter().copied().collect();
        let tax_rate = match distinct.into_iter().collect::<Vec<_>>()[..] {
            [rate] => rate,
            [] => return Err(corrupt("invoice has no lines")),
            ref several => {
                return Err(DecodeError::NeedsV2(RequiresV2::MixedTaxRates {
                    count: several.len(),
                }));
            }
        };
        let lines = self
            .lines
            .iter()
            .map(|line| {
                let item = v1::LineItem::new(
                    description(&line.description)?,
                    quantity(line.quantity)?,
                    Amount::from_minor(line.unit_price),
                    line.discount()?,
                )
                .map_err(corrupt)?;
                v1::InvoiceLine::new(
                    item,
                    Amount::from_minor(line.discount_amount),
                    Amount::from_minor(line.tax),
                )
                .map_err(corrupt)
            })
            .collect::<Result<_, _>>()?;
        let invoice = v1::Invoice::new(id, customer, tax_rate, lines).map_err(corrupt)?;
        let totals = invoice.totals();
        self.check_totals(totals.subtotal(), totals.tax(), totals.total())?;
        Ok(invoice)
    }

    /// Reads the row through billing v2. A row written through v1 gets `legacy_currency`, its
    /// flat rate on every line, a tax breakdown derived from the lines, and the idempotency key
    /// [`bridge::idempotency_key_for`] its id (`v1:{id}`), since v1 records none.
    pub(crate) fn to_v2(&self, legacy_currency: Currency) -> Result<v2::Invoice, DecodeError> {
        let (id, customer) = self.ids()?;
        let currency = self.currency(legacy_currency)?;
        let rates = self.line_rates()?;
        let lines = self
            .lines
            .iter()
            .zip(rates)
            .map(|(line, tax_rate)| {
                let item = v2::LineItem::new(
                    description(&line.description)?,
                    quantity(line.quantity)?,
                    Money::from_minor(line.unit_price, currency),
                    line.discount()?,
                    tax_rate,
                )
                .map_err(corrupt)?;
                v2::InvoiceLine::new(
                    item,
                    Amount::from_minor(line.discount_amount),
                    Amount::from_minor(line.tax),
                )
                .map_err(corrupt)
            })
            .collect::<Result<_, _>>()?;
        let quote = v2::Quote::new(currency, lines).map_err(corrupt)?;
        let totals = quote.totals();
        self.check_totals(
            totals.subtotal().amount(),
            totals.tax().amount(),
            totals.total().amount(),
        )?;
        if let Some(json) = &self.tax_breakdown {
            let stored: v2::TaxBreakdown = serde_json::from_str(json)
                .map_err(|err| corrupt(format!("stored tax breakdown: {err}")))?;
            if &stored != quote.breakdown() {
                return Err(corrupt("stored tax breakdown differs from the lines'"));
            }
        }
        let key = match &self.idempotency_key {
            Some(key) => IdempotencyKey::parse(key).map_err(corrupt)?,
            None => bridge::idempotency_key_for(&id),
        };
        Ok(v2::Invoice::new(id, customer, key, quote))
    }
}

impl LineRow {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            description: row.get(0)?,
            quantity: row.get(1)?,
            unit_price: row.get(2)?,
            discount_kind: row.get(3)?,
            discount_value: row.get(4)?,
            discount_amount: row.get(5)?,
            tax: row.get(6)?,
            tax_rate: row.get(7)?,
        })
    }

    fn discount(&self) -> Result<Discount, DecodeError> {
        match self.discount_kind.as_str() {
            "none" => Ok(Discount::None),
            "percent" => Ok(Discount::Percent(rate(self.discount_value)?)),
            "fixed" => Ok(Discount::Fixed(Amount::from_minor(self.discount_value))),
            other => Err(corrupt(format!("unknown discount kind {other:?}"))),
        }
    }
}

/// The `discount_kind` and `discount_value` columns of a discount.
fn discount_columns(discount: Discount) -> (&'static str, i64) {
    match discount {
        Discount::None => ("none", 0),
        Discount::Percent(rate) => ("percent", i64::from(rate.basis_points())),
        Discount::Fixed(amount) => ("fixed", amount.minor()),
    }
}

fn rate(basis_points: i64) -> Result<Rate, DecodeError> {
    let basis_points = u32::try_from(basis_points)
        .map_err(|_| corrupt(format!("rate {basis_points} basis points is out of range")))?;
    Rate::from_basis_points(basis_points).map_err(corrupt)
}

fn quantity(units: i64) -> Result<Quantity, DecodeError> {
    Quantity::new(units).map_err(corrupt)
}

fn description(text: &str) -> Result<Description, DecodeError> {
    Description::parse(text).map_err(corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{rate, v1_invoice, v2_invoice};

    const EUR: Currency = Currency::EUR;

    #[test]
    fn v1_rows_leave_the_v2_columns_null_before_the_contract() {
        let row = InvoiceRow::from_v1(&v1_invoice("inv-1", 1900), Schema::Expanded, EUR);
        assert_eq!(row.flat_rate, Some(1900));
        assert_eq!(
            (&row.currency, &row.idempotency_key, &row.tax_breakdown),
            (&None, &None, &None)
        );
        assert!(row.lines.iter().all(|line| line.tax_rate.is_none()));
        assert_eq!(row.lines[1].discount_kind, "fixed");
        assert_eq!(row.lines[1].discount_value, 99);
    }

    #[test]
    fn v1_rows_are_explicit_after_the_contract() {
        let row = InvoiceRow::from_v1(&v1_invoice("inv-1", 1900), Schema::Contracted, EUR);
        assert_eq!(row.flat_rate, None);
        assert_eq!(row.currency.as_deref(), Some("EUR"));
        assert!(row.lines.iter().all(|line| line.tax_rate == Some(1900)));
        assert_eq!(row.to_v1(EUR).unwrap(), v1_invoice("inv-1", 1900));
    }

    #[test]
    fn v1_rows_read_back_through_v1_exactly() {
        let invoice = v1_invoice("inv-1", 1900);
        let row = InvoiceRow::from_v1(&invoice, Schema::Expanded, EUR);
        assert_eq!(row.to_v1(EUR).unwrap(), invoice);
    }

    #[test]
    fn v1_rows_read_through_v2_with_the_documented_defaults() {
        let invoice = v1_invoice("inv-1", 1900);
        let row = InvoiceRow::from_v1(&invoice, Schema::Expanded, EUR);
        let read = row.to_v2(Currency::GBP).unwrap();
        assert_eq!(read.currency(), Currency::GBP);
        assert_eq!(read.idempotency_key().as_str(), "v1:inv-1");
        assert!(
            read.lines()
                .iter()
                .all(|l| l.item().tax_rate() == rate(1900))
        );
        let bands = read.breakdown().bands();
        assert_eq!(bands.len(), 1);
        assert_eq!(bands[0].rate, rate(1900));
        assert_eq!(bands[0].tax.amount(), invoice.totals().tax());
        assert_eq!(read.totals().total().amount(), invoice.totals().total());
        // With the legacy currency the defaults agree with the contract's own bridge.
        assert_eq!(
            row.to_v2(EUR).unwrap(),
            bridge::invoice_to_v2(&invoice).unwrap()
        );
    }

    #[test]
    fn v2_rows_read_back_through_v2_exactly() {
        let invoice = v2_invoice("inv-2", "k-2", Currency::USD, &[700, 1900]);
        let row = InvoiceRow::from_v2(&invoice, Schema::Expanded).unwrap();
        assert_eq!(row.flat_rate, Some(0));
        assert_eq!(row.to_v2(EUR).unwrap(), invoice);
        let row = InvoiceRow::from_v2(&invoice, Schema::Contracted).unwrap();
        assert_eq!(row.flat_rate, None);
        assert_eq!(row.to_v2(EUR).unwrap(), invoice);
    }

    #[test]
    fn v2_rows_with_one_rate_in_the_legacy_currency_read_through_v1() {
        let invoice = v2_invoice("inv-2", "k-2", EUR, &[1900, 1900]);
        let row = InvoiceRow::from_v2(&invoice, Schema::Expanded).unwrap();
        assert_eq!(row.flat_rate, Some(1900));
        let read = row.to_v1(EUR).unwrap();
        assert_eq!(read.tax_rate(), rate(1900));
        assert_eq!(read, bridge::invoice_to_v1(&invoice).unwrap());
    }

    #[test]
    fn v2_rows_v1_cannot_express_need_v2() {
        let other_currency = v2_invoice("inv-3", "k-3", Currency::USD, &[1900]);
        let row = InvoiceRow::from_v2(&other_currency, Schema::Expanded).unwrap();
        assert_eq!(
            row.to_v1(EUR),
            Err(DecodeError::NeedsV2(RequiresV2::Currency {
                found: Currency::USD
            }))
        );
        let mixed = v2_invoice("inv-4", "k-4", EUR, &[700, 1900, 700]);
        let row = InvoiceRow::from_v2(&mixed, Schema::Contracted).unwrap();
        assert_eq!(
            row.to_v1(EUR),
            Err(DecodeError::NeedsV2(RequiresV2::MixedTaxRates { count: 2 }))
        );
    }

    fn v2_row() -> InvoiceRow {
        InvoiceRow::from_v2(&v2_invoice("inv-5", "k-5", EUR, &[1900]), Schema::Expanded).unwrap()
    }

    fn corrupt_v2(row: &InvoiceRow) -> String {
        match row.to_v2(EUR) {
            Err(DecodeError::Corrupt(detail)) => detail,
            other => panic!("expected a corrupt row, got {other:?}"),
        }
    }

    #[test]
    fn corrupt_rows_are_reported_with_what_is_wrong() {
        let mut row = v2_row();
        row.total += 1;
        assert_eq!(
            corrupt_v2(&row),
            "stored totals (subtotal, tax, total) (540, 102, 643) differ from the lines' \
             (540, 102, 642)"
        );
        assert!(matches!(row.to_v1(EUR), Err(DecodeError::Corrupt(_))));

        let mut row = v2_row();
        row.tax_breakdown = Some("[]".to_owned());
        assert_eq!(
            corrupt_v2(&row),
            "stored tax breakdown differs from the lines'"
        );
        row.tax_breakdown = Some("{".to_owned());
        assert!(corrupt_v2(&row).starts_with("stored tax breakdown: "));

        let mut row = v2_row();
        row.currency = Some("eur".to_owned());
        assert!(corrupt_v2(&row).contains("invalid currency code \"eur\""));

        let mut row = v2_row();
        row.lines[0].discount_kind = "bogus".to_owned();
        assert_eq!(corrupt_v2(&row), "unknown discount kind \"bogus\"");

        let mut row = v2_row();
        row.lines[0].tax_rate = None;
        row.flat_rate = None;
        assert_eq!(corrupt_v2(&row), "line 0 has no tax rate");

        let mut row = v2_row();
        row.lines[0].tax_rate = Some(-1);
        assert_eq!(corrupt_v2(&row), "rate -1 basis points is out of range");

        let mut row = v2_row();
        row.lines[0].quantity = 0;
        assert!(corrupt_v2(&row).contains("invalid quantity 0"));

        let mut row = v2_row();
        row.id = String::new();
        assert_eq!(corrupt_v2(&row), "invalid invoice id: empty");

        let mut row = v2_row();
        row.idempotency_key = Some("a b".to_owned());
        assert!(corrupt_v2(&row).contains("invalid idempotency key"));

        let mut row = v2_row();
        row.lines.clear();
        assert_eq!(corrupt_v2(&row), "invoice has no lines");
        assert_eq!(
            row.to_v1(EUR),
            Err(DecodeError::Corrupt("invoice has no lines".to_owned()))
        );

        let mut row = v2_row();
        row.lines[0].discount_amount = -5;
        assert!(matches!(row.to_v1(EUR), Err(DecodeError::Corrupt(_))));
        assert!(corrupt_v2(&row).contains("is negative"));
    }

    #[test]
    fn every_discount_kind_round_trips() {
        for discount in [
            Discount::None,
            Discount::Percent(rate(1250)),
            Discount::Fixed(Amount::from_minor(7)),
        ] {
            let (kind, value) = discount_columns(discount);
            let line = LineRow {
                description: "x".to_owned(),
                quantity: 1,
                unit_price: 10,
                discount_kind: kind.to_owned(),
                discount_value: value,
                discount_amount: 0,
                tax: 0,
                tax_rate: None,
            };
            assert_eq!(line.discount().unwrap(), discount);
        }
    }
}
