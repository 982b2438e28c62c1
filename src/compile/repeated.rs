//! The autumn's repeated hour behind a conflict: a local-time source read
//! with `ambiguous earlier` or `later` puts both passes through the hour
//! daylight saving repeats on one instant (and `in_order` does, on a file
//! sorted by local time, whose passes interleave), and when two such rows
//! of one series collide, the conflict's help says so (lines, clause,
//! remedy).
//!
//! Sources mark those rows with their line (`SourceRow::repeated_local`);
//! only marked rows are kept here, so the usual row costs nothing.

use super::error::RepeatedHour;
use crate::lang::literal::Ambiguous;
use crate::model::Source;
use crate::record::Record;

/// A replay's rows whose local time the autumn change repeats.
pub(super) struct RepeatedRows {
    source: String,
    file: String,
    zone: String,
    policy: Ambiguous,
    clause_line: Option<usize>,
    source_line: usize,
    /// (τ as placed, series rank, line in the file).
    rows: Vec<(i64, u32, u64)>,
}

impl RepeatedRows {
    /// `None` when the step read no such row.
    pub(super) fn new(
        source: Option<&Source>,
        rows: Vec<(i64, u32, u64)>,
    ) -> Option<Box<RepeatedRows>> {
        let source = source.filter(|_| !rows.is_empty())?;
        Some(Box::new(RepeatedRows {
            source: source.name.clone(),
            file: source.path_written.clone(),
            zone: source.timezone.name().to_string(),
            policy: source.ambiguous,
            clause_line: source.ambiguous_line,
            source_line: source.line,
            rows,
        }))
    }
}

/// What the steps that wrote a conflicting record read from the repeated
/// hour: the cause when two distinct rows of one source's file land on the
/// record's series and instant. `steps` are the conflicting steps' marked
/// rows, with whether each step is placed relative to `now`.
pub(super) fn cause<'a>(
    record: &Record,
    anchor: i64,
    steps: impl Iterator<Item = (&'a RepeatedRows, bool)>,
) -> Option<RepeatedHour> {
    let mut found: Option<(&RepeatedRows, Vec<u64>)> = None;
    for (rows, relative) in steps {
        // The rows are the step's own, which the run has bound to `anchor`.
        let at = |tau: i64| super::anchor::at(tau, relative, anchor);
        let lines: Vec<u64> = rows
            .rows
            .iter()
            .filter(|(tau, rank, _)| *rank == record.series && at(*tau) == record.time)
            .map(|(_, _, line)| *line)
            .collect();
        if lines.is_empty() {
            continue;
        }
        match &mut found {
            None => found = Some((rows, lines)),
            // Rows of two sources on one instant: each source's own order
            // cannot part them, so the repeated hour is not the cause.
            Some((first, _)) if first.source != rows.source => return None,
            Some((_, kept)) => kept.extend(lines),
        }
    }
    let (rows, mut lines) = found?;
    lines.sort_unstable();
    lines.dedup();
    (lines.len() >= 2).then(|| RepeatedHour {
        source: rows.source.clone(),
        file: rows.file.clone(),
        zone: rows.zone.clone(),
        lines,
        policy: rows.policy,
        clause_line: rows.clause_line,
        source_line: rows.source_line,
    })
}
