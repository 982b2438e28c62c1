//! How an apply ends, as data: the preflight's refusal, a journal of
//! another apply, and the report and error after the writes. The engine
//! ([`super::engine`]) hands over what it found; [`crate::apply::error`]
//! words it.

use std::collections::BTreeSet;

use super::batches::Pace;
use super::dispatch::{OnReject, Settings, Tally};
use super::journal::{Header, Journal};
use super::preflight::{Fault, Scan};
use crate::app::Loaded;
use crate::apply::error::{
    ApplyError, Difference, Pinned, PreflightRefusal, RefusedRange, RefusedTable, SHOWN, StepRef,
    Summary, TargetFailure, UnwritableRecord,
};
use crate::apply::{ApplyReport, Outcome, RejectionReport, TableReport};
use crate::record::time_string;
use crate::targets::{Kind, TableSpec, TableState};

/// The tables of one apply as the target names them, indexed like the
/// catalogue's tables.
pub(crate) struct Tables {
    pub specs: Vec<TableSpec>,
    /// As the report and errors show them: `database.table`.
    pub qualified: Vec<String>,
}

impl Tables {
    /// The names the target knows.
    pub(crate) fn names(&self) -> Vec<String> {
        self.specs.iter().map(|t| t.name.clone()).collect()
    }
}

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
    let mut pinned = vec![(Pinned::Target, journaled.target.clone(), now.target.clone())];
    // Every key either side names, in the order the target gives them.
    let value = |identity: &[(String, String)], key: &str| {
        identity
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut keys: Vec<&String> = now.identity.iter().map(|(k, _)| k).collect();
    for (key, _) in &journaled.identity {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for key in keys {
        pinned.push((
            Pinned::Identity(key.clone()),
            value(&journaled.identity, key),
            value(&now.identity, key),
        ));
    }
    pinned.extend([
        (
            Pinned::Tables,
            journaled.tables.join(", "),
            now.tables.join(", "),
        ),
        (
            Pinned::StreamDigest,
            journaled.stream_digest.clone(),
            now.stream_digest.clone(),
        ),
        (Pinned::Shard, journaled.shard.clone(), now.shard.clone()),
        (Pinned::Pace, journaled.pace.clone(), now.pace.clone()),
    ]);
    let differing = |pinned: &[(Pinned, String, String)]| -> Vec<Difference> {
        pinned
            .iter()
            .filter(|(_, was, is)| was != is)
            .map(|(pinned, was, is)| Difference {
                pinned: pinned.clone(),
                journaled: was.clone(),
                now: is.clone(),
            })
            .collect()
    };
    let mut differences = differing(&pinned);
    // Last: another cut with all of the above equal means another scenario
    // layout or `late` delays, which the stream digest leaves out.
    if differences.is_empty() && with_batches {
        differences = differing(&[(
            Pinned::BatchesDigest,
            journaled.batches.clone(),
            now.batches.clone(),
        )]);
    }
    if differences.is_empty() {
        return Ok(());
    }
    Err(ApplyError::JournalMismatch {
        journal: path.to_path_buf(),
        differences,
    })
}

/// The records the preflight found a table would reject, by table and
/// step, in the words the target gave each table's window; then one fix a
/// kind of fault.
pub(super) fn preflight_refusal(
    loaded: &Loaded,
    scan: &Scan,
    states: &[Option<TableState>],
    tables: &Tables,
    pace: Pace,
) -> ApplyError {
    let mut refused: Vec<RefusedTable> = Vec::new();
    let mut fixes: BTreeSet<(Fault, String)> = BTreeSet::new();
    let mut last_table = None;
    for (&(table, line, fault), range) in &scan.faults {
        let Some(Some(TableState::Present(window, _, _))) = states.get(table as usize) else {
            continue;
        };
        if last_table != Some(table) {
            last_table = Some(table);
            refused.push(RefusedTable {
                name: tables.qualified[table as usize].clone(),
                retention: Some(window.retention.clone()),
                ranges: Vec::new(),
            });
        }
        let words = match fault {
            Fault::TooOld => &window.too_old,
            Fault::TooNew => &window.too_new,
        };
        fixes.insert((
            fault,
            match fault {
                // Burst writes future records now; live pacing writes each
                // when its time comes, whatever the target.
                Fault::TooNew if pace == Pace::Burst => {
                    "use `--pace live`: records are written as their time comes".into()
                }
                _ => words.fix.clone(),
            },
        ));
        if let Some(refused) = refused.last_mut() {
            refused.ranges.push(RefusedRange {
                step: step_ref(loaded, line),
                why: words.why.clone(),
                count: range.count,
                first: range.first,
                last: range.last,
            });
        }
    }
    let catalog = &loaded.prepared.catalog;
    let mut unwritable_fixes: Vec<String> = Vec::new();
    let unwritable = scan
        .unwritable
        .iter()
        .map(|u| {
            let table = &catalog.tables[u.table as usize];
            if !unwritable_fixes.contains(&u.refusal.fix) {
                unwritable_fixes.push(u.refusal.fix.clone());
            }
            UnwritableRecord {
                table: tables.qualified[u.table as usize].clone(),
                time: u.origin.time,
                series: crate::record::series_text(&table.series[u.origin.series as usize].dims),
                step: step_ref(loaded, u.origin.line as usize),
                measure: u
                    .refusal
                    .measure
                    .and_then(|m| table.measures.get(m as usize))
                    .map(|(name, _)| name.clone()),
                why: u.refusal.why.clone(),
            }
        })
        .collect();
    ApplyError::Preflight(Box::new(PreflightRefusal {
        tables: refused,
        unwritable,
        unwritable_count: scan.unwritable_count,
        fixes: unwritable_fixes
            .into_iter()
            .chain(fixes.into_iter().map(|(_, fix)| fix))
            .collect(),
    }))
}

/// The report of the writes, and the error that stopped them if any (a
/// target of `kind` failed, or rejected records, or a signal).
pub(super) fn finish(
    loaded: &Loaded,
    mut report: ApplyReport,
    tables: &Tables,
    settings: &Settings,
    tally: Tally,
    journal: &Journal,
    kind: Kind,
) -> (ApplyReport, Option<ApplyError>) {
    let catalog = &loaded.prepared.catalog;
    report.tables = table_reports(
        tables,
        tally.tables.iter().map(|t| TableReport {
            records: t.records,
            rejected: t.rejected,
            retried: t.retried,
            batches: Some(t.batches),
            ..TableReport::default()
        }),
    );
    report.records = tally.written();
    report.rejected = tally.tables.iter().map(|t| t.rejected).sum();
    report.retried = tally.tables.iter().map(|t| t.retried).sum();
    let batches = tally.tables.iter().map(|t| t.batches).sum();
    report.batches = Some(batches);
    report.journal = Some(journal.path.display().to_string());
    report.concurrency = Some(crate::apply::ConcurrencyReport {
        max: settings.concurrency,
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
                table: tables.specs[r.table as usize].name.clone(),
                time: time_string(r.origin.time),
                series: crate::record::series_text(&table.series[r.origin.series as usize].dims),
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
        batches,
        retried: report.retried,
        journal: journal.path.clone(),
    };
    // A failure outranks the signal that came after it.
    let error = if !tally.problems.is_empty() {
        report.outcome = Outcome::Failed;
        let problems = tally.problems;
        Some(ApplyError::target(
            kind,
            TargetFailure::Stopped { summary, problems },
        ))
    } else if let Some(signal) = tally.interrupted {
        report.outcome = Outcome::Interrupted(signal);
        Some(ApplyError::Interrupted { signal, summary })
    } else if !report.rejections.is_empty() {
        report.outcome = Outcome::Rejected;
        Some(ApplyError::Rejected {
            rejected: report.rejected,
            stopped_at_first: settings.on_reject == OnReject::Fail,
            first: report.rejections.iter().take(SHOWN).cloned().collect(),
            more: report.rejections.len().saturating_sub(SHOWN),
            summary,
        })
    } else {
        None
    };
    (report, error)
}

/// The report's tables, by name: `database.name` and what each got.
pub(super) fn table_reports(
    tables: &Tables,
    reports: impl Iterator<Item = TableReport>,
) -> std::collections::BTreeMap<String, TableReport> {
    tables
        .specs
        .iter()
        .zip(&tables.qualified)
        .zip(reports)
        .map(|((spec, qualified), report)| {
            (
                spec.name.clone(),
                TableReport {
                    table: qualified.clone(),
                    ..report
                },
            )
        })
        .collect()
}
