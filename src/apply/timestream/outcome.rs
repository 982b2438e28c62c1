//! How an apply ends, as data: the preflight's refusal, a journal of
//! another apply, and the report and error after the writes. The apply
//! itself ([`super::apply`]) hands over what it found; [`crate::apply::error`]
//! words it.

use super::Options;
use super::batches::Pace;
use super::client::TableState;
use super::dispatch::{OnReject, Tally};
use super::journal::{Header, Journal};
use super::preflight::Scan;
use crate::apply::config::TimestreamTarget;
use crate::apply::error::{
    ApplyError, Difference, Pinned, PreflightRefusal, RefusedRange, RefusedTable, SHOWN, StepRef,
    Summary,
};
use crate::apply::{Applied, ApplyReport, Outcome, RejectionReport, TableReport};
use crate::commands::Loaded;
use crate::compile::record::time_string;

/// The step at `line` of the scenario.
fn step_ref(loaded: &Loaded, line: usize) -> StepRef {
    StepRef {
        line,
        title: loaded
            .scenario
            .steps
            .iter()
            .find(|s| s.line() == line)
            .map(|step| step.title()),
    }
}

/// A resume must continue the same apply: same records, same batches.
/// `with_batches`: also the batches digest, known once the preflight ran.
pub(super) fn check_resumable(
    journaled: &Header,
    now: &Header,
    path: &std::path::Path,
    with_batches: bool,
) -> Result<(), ApplyError> {
    // The anchor, Version and cut-off come from the journal: never differ.
    let pinned = [
        (Pinned::Target, &journaled.target, &now.target),
        (Pinned::Region, &journaled.region, &now.region),
        (Pinned::EndpointUrl, &journaled.endpoint, &now.endpoint),
        (Pinned::Database, &journaled.database, &now.database),
        (
            Pinned::Tables,
            &journaled.tables.join(", "),
            &now.tables.join(", "),
        ),
        (
            Pinned::StreamDigest,
            &journaled.stream_digest,
            &now.stream_digest,
        ),
        (Pinned::Shard, &journaled.shard, &now.shard),
        (Pinned::Pace, &journaled.pace, &now.pace),
    ];
    let differing = |pinned: &[(Pinned, &String, &String)]| -> Vec<Difference> {
        pinned
            .iter()
            .filter(|(_, was, is)| was != is)
            .map(|&(pinned, was, is)| Difference {
                pinned,
                journaled: was.clone(),
                now: is.clone(),
            })
            .collect()
    };
    let mut differences = differing(&pinned);
    // Last: another cut with all of the above equal means another scenario
    // layout or `late` delays, which the stream digest leaves out.
    if differences.is_empty() && with_batches {
        differences = differing(&[(Pinned::BatchesDigest, &journaled.batches, &now.batches)]);
    }
    if differences.is_empty() {
        return Ok(());
    }
    Err(ApplyError::JournalMismatch {
        journal: path.to_path_buf(),
        differences,
    })
}

/// The records the preflight found a table would reject, by table and step.
pub(super) fn preflight_refusal(
    loaded: &Loaded,
    scan: &Scan,
    states: &[Option<TableState>],
    names: &[String],
    target: &TimestreamTarget,
    pace: Pace,
) -> ApplyError {
    let mut tables: Vec<RefusedTable> = Vec::new();
    let mut last_table = None;
    for (&(table, line, fault), range) in &scan.faults {
        if last_table != Some(table) {
            last_table = Some(table);
            let window = match states.get(table as usize) {
                Some(Some(TableState::Present(window))) => Some(*window),
                _ => None,
            };
            tables.push(RefusedTable {
                name: names[table as usize].clone(),
                window,
                ranges: Vec::new(),
            });
        }
        if let Some(refused) = tables.last_mut() {
            refused.ranges.push(RefusedRange {
                step: step_ref(loaded, line),
                fault,
                count: range.count,
                first: range.first,
                last: range.last,
            });
        }
    }
    ApplyError::Preflight(Box::new(PreflightRefusal {
        database: target.database.clone(),
        tables,
        burst: pace == Pace::Burst,
    }))
}

/// The report of the writes, and the error that stopped them if any.
#[allow(clippy::too_many_arguments)]
pub(super) fn finish(
    loaded: &Loaded,
    mut report: ApplyReport,
    names: &[String],
    target: &TimestreamTarget,
    options: &Options,
    tally: Tally,
    skipped: u64,
    journal: &Journal,
) -> Applied {
    let catalog = &loaded.prepared.catalog;
    report.tables = table_reports(
        names,
        &target.database,
        tally.tables.iter().map(|t| TableReport {
            records: t.records,
            rejected: t.rejected,
            retried: t.retried,
            batches: t.batches,
            ..TableReport::default()
        }),
    );
    report.records = tally.written();
    report.rejected = tally.tables.iter().map(|t| t.rejected).sum();
    report.retried = tally.tables.iter().map(|t| t.retried).sum();
    report.batches = tally.tables.iter().map(|t| t.batches).sum();
    report.resumed_records = skipped;
    report.journal = Some(journal.path.display().to_string());
    report.concurrency = Some(crate::apply::ConcurrencyReport {
        max: options.concurrency,
        lowest: tally.lowest_concurrency,
        last: tally.final_concurrency,
        throttled: tally.throttled,
    });
    report.rejections = tally
        .rejections
        .iter()
        .map(|r| {
            let table = &catalog.tables[r.table as usize];
            RejectionReport {
                table: names[r.table as usize].clone(),
                time: time_string(r.origin.time),
                series: crate::compile::series_text(&table.series[r.origin.series as usize].dims),
                step: step_ref(loaded, r.origin.line as usize).to_string(),
                reason: r.reason.clone(),
                existing_version: r.existing_version,
            }
        })
        .collect();
    // The report is the edge: problems go into it in words.
    report.problems = tally.problems.iter().map(ToString::to_string).collect();
    report.finish_timing();
    let summary = Summary {
        records: report.records,
        rejected: report.rejected,
        batches: report.batches,
        retried: report.retried,
        journal: journal.path.clone(),
    };
    // A failure outranks the signal that came after it.
    let error = if !tally.problems.is_empty() {
        report.outcome = Outcome::Failed;
        Some(ApplyError::Stopped {
            summary,
            problems: tally.problems,
        })
    } else if let Some(signal) = tally.interrupted {
        report.outcome = Outcome::Interrupted(signal);
        Some(ApplyError::Interrupted { signal, summary })
    } else if !report.rejections.is_empty() {
        report.outcome = Outcome::Rejected;
        Some(ApplyError::Rejected {
            rejected: report.rejected,
            stopped_at_first: options.on_reject == OnReject::Fail,
            first: report.rejections.iter().take(SHOWN).cloned().collect(),
            more: report.rejections.len().saturating_sub(SHOWN),
            summary,
        })
    } else {
        None
    };
    Applied {
        report,
        failure: error.map(Into::into),
    }
}

/// The report's tables, by name: `database.name` and what each got.
pub(super) fn table_reports(
    names: &[String],
    database: &str,
    tables: impl Iterator<Item = TableReport>,
) -> std::collections::BTreeMap<String, TableReport> {
    names
        .iter()
        .zip(tables)
        .map(|(name, report)| {
            (
                name.clone(),
                TableReport {
                    table: format!("{database}.{name}"),
                    ..report
                },
            )
        })
        .collect()
}
