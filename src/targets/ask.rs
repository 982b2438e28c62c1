//! Asking a target a query its user wrote (an `expect` block's), and the
//! answer as a table: columns, and rows of cells. Each backend asks in its
//! own dialect (`influxdb/query.rs`, `timestream/query.rs`).

/// A query's answer: its columns, its first row, and how many rows it
/// has (every row of every series, in the order given). Only the first row
/// is kept: an answer of millions of rows costs a count, not their cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Asked {
    pub columns: Vec<String>,
    pub first: Option<Vec<Cell>>,
    pub rows: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    Number(f64),
    Text(String),
    Bool(bool),
    Null,
    /// A time column's value: not a candidate for `value`.
    Time(String),
}

impl Asked {
    /// The first number of the first row, its time column left out.
    pub(crate) fn first_number(&self) -> Option<f64> {
        self.first.as_ref()?.iter().find_map(|cell| match cell {
            Cell::Number(x) => Some(*x),
            _ => None,
        })
    }

    /// Counts a row, keeping it if it is the first.
    pub(crate) fn push(&mut self, row: impl FnOnce() -> Vec<Cell>) {
        if self.first.is_none() {
            self.first = Some(row());
        }
        self.rows += 1;
    }
}

/// Why a query got no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AskError {
    /// The target answered, and refused the query (its syntax, a name it
    /// does not know): the expectation's author must fix it.
    #[error("the target refused the query: {0}")]
    Refused(String),
    /// The target could not be reached, or failed: asking again may work.
    #[error("the target could not be read: {0}")]
    Unreachable(String),
}
