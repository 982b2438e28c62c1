//! `model::Scenario` → the record stream, for one anchor.
//!
//! `prepare` (`prepare.rs`) reads every source once (streaming; only the
//! rows a step selects are kept), fits the extrapolations and numbers the
//! tables, series and measures. `Prepared::run` then binds `now` to an
//! anchor and streams the records, in order, through the anomalies into a
//! sink. `crate::plan` summarises one run into the reviewable plan.

mod anchor;
pub(crate) mod error;
pub(crate) mod eval;
mod fit;
mod interval;
mod math;
mod pipeline;
mod place;
mod placement;
mod prepare;
pub(crate) mod random;
mod redact;
mod repeated;
mod select;
mod spill;
pub(crate) mod stream;
mod streamed;
mod two_threads;
pub(crate) mod warnings;

pub(crate) use error::{CompileError, Conflict};
pub(crate) use prepare::prepare;
pub use two_threads::run_on_two_threads;

use std::collections::BTreeMap;

use crate::model::{AnomalyKind, MeasureType, Scenario, TimePoint};
use crate::record::{self, Catalog, Hit, Sink, Value, series_text};
use crate::sources::ReadSummary;
use eval::MeasureEval;
use random::Key;
use stream::{AnomalyRun, Cursor, GridCursor, GridSeries, ListedCursor};

/// A listed step's row: (time, series, start and length of its run of
/// values). Selected rows carry source time and local series; prepared
/// ones τ and the table's rank, their values sorted by measure id.
pub(crate) type ListedItem = (i64, u32, u32, u16);

/// A scenario with its sources read: everything a run needs but the anchor.
pub struct Prepared {
    pub catalog: Catalog,
    steps: Vec<PreparedStep>,
    anomalies: Vec<PreparedAnomaly>,
    /// By source name.
    pub sources: BTreeMap<String, ReadSummary>,
    pub anchor_align: i64,
    /// Lines of steps that shift by calendar days: in a conflict, they are
    /// the likely cause (a DST change folds two instants onto one).
    calendar_lines: Vec<usize>,
    /// The scenario as compiled when a source redacts: its `where`
    /// literals on hidden dimensions are pseudonyms, which the plan shows.
    pub(crate) redacted: Option<Scenario>,
    /// What the data shows does nothing, by line.
    pub warnings: Vec<warnings::DataWarning>,
}

enum PreparedStep {
    Grid {
        table: u16,
        line: usize,
        relative: bool,
        start: i64,
        every: i64,
        count: u64,
        series: Vec<(u32, Vec<MeasureEval>)>,
    },
    Listed {
        table: u16,
        line: usize,
        relative: bool,
        items: Vec<ListedItem>,
        values: Vec<(u16, Value)>,
        /// Rows the autumn change repeats, when the step read any.
        repeated: Option<Box<repeated::RepeatedRows>>,
    },
    /// A replay whose rows did not fit one chunk: read back from disk.
    Streamed {
        step: Box<streamed::StreamedStep>,
        /// Rows the autumn change repeats, when the step read any.
        repeated: Option<Box<repeated::RepeatedRows>>,
    },
}

impl PreparedStep {
    fn table(&self) -> u16 {
        match self {
            PreparedStep::Grid { table, .. } | PreparedStep::Listed { table, .. } => *table,
            PreparedStep::Streamed { step, .. } => step.table,
        }
    }

    /// Checks that every τ of the step is an instant at `anchor`: its
    /// first and last bound the others.
    fn bind(&self, anchor: i64) -> Result<(), CompileError> {
        let (line, relative, span) = match self {
            PreparedStep::Grid {
                line,
                relative,
                start,
                every,
                count,
                ..
            } => {
                let last =
                    i128::from(*start) + i128::from(count.saturating_sub(1)) * i128::from(*every);
                // Below the schedule's end, which is an i64.
                let last = i64::try_from(last).unwrap_or(i64::MAX);
                (*line, *relative, (*count > 0).then_some((*start, last)))
            }
            PreparedStep::Listed {
                line,
                relative,
                items,
                ..
            } => (
                *line,
                *relative,
                items.first().zip(items.last()).map(|(a, b)| (a.0, b.0)),
            ),
            PreparedStep::Streamed { step, .. } => (step.line, step.relative, Some(step.span)),
        };
        match span {
            Some(span) => anchor::step(line, relative, span, anchor),
            None => Ok(()),
        }
    }

    /// A cursor over the step's records; a streamed replay opens its
    /// spilled rows.
    fn cursor(&self) -> Result<Cursor<'_>, CompileError> {
        Ok(match self {
            PreparedStep::Grid {
                table,
                line,
                relative,
                start,
                every,
                count,
                series,
            } => Cursor::Grid(GridCursor {
                table: *table,
                line: *line,
                relative: *relative,
                start: *start,
                every: *every,
                count: *count,
                k: 0,
                series: series
                    .iter()
                    .map(|(rank, evals)| GridSeries {
                        rank: *rank,
                        measures: evals.clone(),
                    })
                    .collect(),
                si: 0,
            }),
            PreparedStep::Listed {
                table,
                line,
                relative,
                items,
                values,
                ..
            } => Cursor::Listed(ListedCursor {
                table: *table,
                line: *line,
                relative: *relative,
                items,
                values,
                i: 0,
            }),
            PreparedStep::Streamed { step, .. } => {
                Cursor::Streamed(streamed::StreamedCursor::open(step).map_err(|error| {
                    CompileError::Spill {
                        folder: step.rows.folder().to_path_buf(),
                        error,
                    }
                })?)
            }
        })
    }
}

struct PreparedAnomaly {
    kind: AnomalyKind,
    line: usize,
    table: u16,
    measure: Option<u16>,
    at: TimePoint,
    length: Option<i64>,
    key: Key,
    series: Vec<bool>,
}

/// The anchor rounded down to the scenario's `anchor align` (from the epoch).
pub fn align(anchor: i64, step: i64) -> i64 {
    anchor - anchor.rem_euclid(step.max(1))
}

impl Prepared {
    /// Streams every record for `anchor` (already aligned) into `sink`.
    /// Every step and anomaly is bound to the anchor first: a time past
    /// what i64 nanoseconds hold stops the run before any record.
    pub fn run(&self, anchor: i64, sink: &mut dyn Sink) -> Result<Vec<Hit>, CompileError> {
        for step in &self.steps {
            step.bind(anchor)?;
        }
        let anomalies = self.anomaly_runs(anchor)?;
        let cursors = self
            .steps
            .iter()
            .map(PreparedStep::cursor)
            .collect::<Result<_, CompileError>>()?;
        stream::run(&self.catalog, cursors, &anomalies, anchor, sink)
            .map_err(|error| self.stream_error(error, anchor))
    }

    /// The anomalies placed at `anchor`; one past what i64 nanoseconds
    /// hold is an error.
    fn anomaly_runs(&self, anchor: i64) -> Result<Vec<AnomalyRun>, CompileError> {
        self.anomalies
            .iter()
            .map(|a| {
                let (start, end) = anchor::anomaly(a.line, a.at, a.length, anchor)?;
                Ok(AnomalyRun {
                    kind: a.kind.clone(),
                    line: a.line,
                    table: a.table,
                    measure: a.measure,
                    start,
                    end,
                    key: a.key,
                    series: a.series.clone(),
                })
            })
            .collect()
    }

    /// What stopped the stream, in the scenario's words: the table, series,
    /// time and measure a record stood at.
    fn stream_error(&self, error: stream::StreamError, anchor: i64) -> CompileError {
        match error {
            stream::StreamError::Io(e) => CompileError::Io(e),
            stream::StreamError::Spill(folder, error) => CompileError::Spill { folder, error },
            stream::StreamError::Value(boxed) => {
                let (record, bad) = *boxed;
                self.value_out_of_range(&record, bad, anchor)
            }
            stream::StreamError::Conflict(boxed) => {
                let (record, conflict) = *boxed;
                self.conflict(&record, conflict, anchor)
            }
        }
    }

    fn value_out_of_range(
        &self,
        record: &record::Record,
        bad: stream::BadValue,
        anchor: i64,
    ) -> CompileError {
        let table = &self.catalog.tables[record.table as usize];
        let (measure, ty) = &table.measures[bad.measure as usize];
        CompileError::ValueOutOfRange(Box::new(error::ValueOutOfRange {
            line: bad.line,
            anomaly: bad.anomaly,
            table: table.target.clone(),
            series: series_text(&table.series[record.series as usize].dims),
            time: time_words(record, anchor),
            measure: measure.clone(),
            value: bad.value,
            bigint: *ty == MeasureType::Bigint,
        }))
    }

    /// Two steps' values for one record's measure, with what likely caused
    /// them to meet: a calendar-day shift, or the autumn's repeated hour.
    fn conflict(
        &self,
        record: &record::Record,
        conflict: stream::Conflict,
        anchor: i64,
    ) -> CompileError {
        let table = &self.catalog.tables[record.table as usize];
        let time = time_words(record, anchor);
        let show = |v: &Value| {
            let mut out = Vec::new();
            v.write_json(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        };
        let lines = [conflict.first_line, conflict.second_line];
        CompileError::Conflict(Box::new(Conflict {
            table: table.target.clone(),
            series: series_text(&table.series[record.series as usize].dims),
            time,
            measure: table.measures[conflict.measure as usize].0.clone(),
            first_line: conflict.first_line,
            second_line: conflict.second_line,
            first: show(&conflict.first),
            second: show(&conflict.second),
            calendar_shift: lines.iter().any(|l| self.calendar_lines.contains(l)),
            repeated_hour: repeated::cause(record, anchor, self.repeated_rows(lines)),
        }))
    }

    /// The rows the autumn change repeats, of the steps at `lines` that
    /// read any, with whether each step is placed relative to `now`.
    fn repeated_rows(
        &self,
        lines: [usize; 2],
    ) -> impl Iterator<Item = (&repeated::RepeatedRows, bool)> {
        self.steps.iter().filter_map(move |s| {
            let (line, relative, rows) = match s {
                PreparedStep::Listed {
                    line,
                    relative,
                    repeated: Some(rows),
                    ..
                } => (*line, *relative, rows),
                PreparedStep::Streamed {
                    step,
                    repeated: Some(rows),
                } => (step.line, step.relative, rows),
                _ => return None,
            };
            lines.contains(&line).then_some((&**rows, relative))
        })
    }

    /// The anomalies' lines, in file order, for labels.
    pub fn anomaly_lines(&self) -> Vec<usize> {
        self.anomalies.iter().map(|a| a.line).collect()
    }
}

/// A record's time in messages. A plan is compiled with the epoch as
/// anchor: say `now+2m` there, and the concrete time too once an anchor is
/// bound.
fn time_words(record: &record::Record, anchor: i64) -> String {
    let utc = record::time_string(record.time);
    match (record.relative, anchor) {
        (true, 0) => crate::lang::literal::time_words(record.time, true),
        (true, _) => format!(
            "{} ({utc})",
            crate::lang::literal::time_words(record.time - anchor, true)
        ),
        (false, _) => utc,
    }
}
