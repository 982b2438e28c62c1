//! A table's columns as `DESCRIBE "db"."table"` lists them, in the order
//! the captured file has them, and one Query page's rows put into that
//! order as CSV cells.
//!
//! `SELECT *` alone cannot tell a dimension from a VARCHAR measure of a
//! multi-measure record (both are VARCHAR columns); the description's
//! `Timestream attribute type` can (`DIMENSION`, `MEASURE_NAME`,
//! `TIMESTAMP`, `MEASURE_VALUE`, `MULTI`).

use std::collections::BTreeSet;

use aws_sdk_timestreamquery::operation::query::QueryOutput;
use aws_sdk_timestreamquery::types::ScalarType;

use crate::lang::literal::Instant;
use crate::sources::redact::Redactor;
use crate::targets::timestream::query::parse_time;

/// What a column is to Timestream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    Time,
    Dimension,
    MeasureName,
    /// `measure_value::TYPE`: single-measure records' values.
    SingleValue,
    /// A measure of multi-measure records.
    Multi,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: String,
    pub role: Role,
    /// Timestream's scalar type, upper case: `VARCHAR`, `DOUBLE`, ….
    pub ty: String,
}

/// The table's columns in file order: time, dimensions, measure name,
/// single-measure values, multi-measure measures (each group in the
/// description's order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Schema {
    pub columns: Vec<Column>,
}

impl Schema {
    /// The description's rows (`Column`, `Type`, `Timestream attribute
    /// type`), or why they are not one.
    pub(crate) fn from_description(pages: &[QueryOutput]) -> Result<Schema, String> {
        let mut columns = Vec::new();
        for page in pages {
            let index = |wanted: &str| {
                page.column_info()
                    .iter()
                    .position(|c| c.name() == Some(wanted))
                    .ok_or_else(|| format!("the table's description has no `{wanted}` column"))
            };
            let (name, ty, attribute) = (
                index("Column")?,
                index("Type")?,
                index("Timestream attribute type")?,
            );
            for row in page.rows() {
                let cell = |i: usize| {
                    row.data()
                        .get(i)
                        .and_then(|d| d.scalar_value())
                        .unwrap_or_default()
                };
                let role = match cell(attribute) {
                    "TIMESTAMP" => Role::Time,
                    "DIMENSION" => Role::Dimension,
                    "MEASURE_NAME" => Role::MeasureName,
                    "MEASURE_VALUE" => Role::SingleValue,
                    "MULTI" => Role::Multi,
                    other => {
                        return Err(format!(
                            "column `{}` has the attribute type `{other}`",
                            cell(name)
                        ));
                    }
                };
                columns.push(Column {
                    name: cell(name).to_string(),
                    role,
                    ty: cell(ty).to_ascii_uppercase(),
                });
            }
        }
        // A stable sort: each group keeps the description's order.
        columns.sort_by_key(|c| c.role);
        if columns.iter().filter(|c| c.role == Role::Time).count() != 1 {
            return Err("the table's description lists no single time column".into());
        }
        Ok(Schema { columns })
    }

    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub(crate) fn header(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    /// The columns a pseudonym may replace: text ones.
    pub(crate) fn redactable(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.role != Role::Time && c.ty == "VARCHAR")
            .map(|c| c.name.clone())
            .collect()
    }
}

/// Where each column of one page goes in the file, and whether it is a
/// TIMESTAMP (written as RFC 3339).
pub(crate) struct PageLayout {
    slots: Vec<(usize, bool)>,
    time: usize,
}

impl PageLayout {
    /// The page's `ColumnInfo` against the table's description.
    pub(crate) fn new(page: &QueryOutput, schema: &Schema) -> Result<PageLayout, String> {
        let mut slots = Vec::new();
        for info in page.column_info() {
            let name = info.name().unwrap_or_default();
            let scalar = info.r#type().and_then(|t| t.scalar_type()).ok_or_else(|| {
                format!("column `{name}` is not a scalar (an array, row or time series)")
            })?;
            let at = schema.position(name).ok_or_else(|| {
                format!("the query returned column `{name}`, which the table's description does not list")
            })?;
            slots.push((at, *scalar == ScalarType::Timestamp));
        }
        let time = schema
            .columns
            .iter()
            .position(|c| c.role == Role::Time)
            .unwrap_or_default();
        if !slots.iter().any(|(at, _)| *at == time) {
            return Err("the query returned no time column".into());
        }
        Ok(PageLayout { slots, time })
    }
}

/// One row's cells in file order, refilled for every row, and what the
/// rows so far held.
pub(crate) struct Cells {
    pub cells: Vec<String>,
    pub time: i64,
    /// Columns that held a value in some row.
    pub seen: Vec<bool>,
    /// Measure names of multi-measure records (rows without a single
    /// value), the first few.
    pub multi_names: BTreeSet<String>,
    redacted: Vec<bool>,
    redactor: Option<Redactor>,
    measure_name: Option<usize>,
    singles: Vec<usize>,
}

/// How many distinct multi-measure record names are kept for the block.
const NAMES_KEPT: usize = 8;

impl Cells {
    pub(crate) fn new(schema: &Schema, redact: &[String], redactor: Option<Redactor>) -> Cells {
        let width = schema.columns.len();
        Cells {
            cells: vec![String::new(); width],
            time: 0,
            seen: vec![false; width],
            multi_names: BTreeSet::new(),
            redacted: schema
                .columns
                .iter()
                .map(|c| redact.contains(&c.name))
                .collect(),
            redactor,
            measure_name: schema
                .columns
                .iter()
                .position(|c| c.role == Role::MeasureName),
            singles: (0..width)
                .filter(|&i| schema.columns[i].role == Role::SingleValue)
                .collect(),
        }
    }

    /// Fills the cells from one row of a page; a null is an empty cell.
    pub(crate) fn fill(
        &mut self,
        row: &aws_sdk_timestreamquery::types::Row,
        layout: &PageLayout,
    ) -> Result<(), String> {
        for cell in &mut self.cells {
            cell.clear();
        }
        let mut time = None;
        for (datum, &(at, timestamp)) in row.data().iter().zip(&layout.slots) {
            let Some(text) = datum.scalar_value() else {
                continue;
            };
            self.seen[at] = true;
            let cell = &mut self.cells[at];
            if timestamp {
                let nanos = parse_time(text)
                    .ok_or_else(|| format!("`{text}` is not a Timestream TIMESTAMP"))?;
                cell.push_str(&Instant(nanos).to_string());
                if at == layout.time {
                    time = Some(nanos);
                }
            } else if let (true, Some(redactor)) = (self.redacted[at], &self.redactor) {
                cell.push_str(&redactor.pseudonym(text));
            } else {
                cell.push_str(text);
            }
        }
        self.time = time.ok_or("a row without a time")?;
        let single = self.singles.iter().any(|&i| !self.cells[i].is_empty());
        if let (false, Some(at)) = (single, self.measure_name)
            && self.multi_names.len() < NAMES_KEPT
            && !self.cells[at].is_empty()
            && !self.multi_names.contains(&self.cells[at])
        {
            self.multi_names.insert(self.cells[at].clone());
        }
        Ok(())
    }
}
