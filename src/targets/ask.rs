//! Asking a target a query its user wrote (an `expect` block's), and the
//! answer as a table: columns, and rows of cells. Each backend asks in its
//! own dialect (`influxdb/query.rs`, `timestream/query.rs`).

/// A query's answer: every row of every series, in the order given.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Asked {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
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
        self.rows.first()?.iter().find_map(|cell| match cell {
            Cell::Number(x) => Some(*x),
            _ => None,
        })
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
