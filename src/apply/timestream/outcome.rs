//! How an apply ends, in words: the preflight's refusal, a journal of
//! another apply, and the report and failure after the writes. The apply
//! itself ([`super::apply`]) hands over data; this module words it.

use std::collections::BTreeMap;

use super::batches::Pace;
use super::client::TableState;
use super::dispatch::{OnReject, Tally};
use super::journal::{Header, Journal};
use super::preflight::{Fault, Scan};
use super::{Options, failure};
use crate::apply::config::TimestreamTarget;
use crate::apply::{Applied, ApplyReport, RejectionReport, TARGET_FAILURE, TableReport};
use crate::commands::{Failure, Loaded};
use crate::compile::record::time_string;

/// Exit codes of an apply stopped by a signal: 128 + the signal's number.
const INTERRUPTED_BY_SIGINT: u8 = 130;
const INTERRUPTED_BY_SIGTERM: u8 = 143;

pub(super) fn refusal(what: String) -> Failure {
    Failure {
        code: 1,
        text: what,
    }
}

/// "line 12 `replay plant into telemetry`".
fn step_words(loaded: &Loaded, line: usize) -> String {
    match loaded.scenario.steps.iter().find(|s| s.line() == line) {
        Some(step) => format!("line {line} `{}`", step.title()),
        None => format!("line {line}"),
    }
}

/// A resume must continue the same apply: same records, same batches.
/// `with_batches`: also the batches digest, known once the preflight ran.
pub(super) fn check_resumable(
    journaled: &Header,
    now: &Header,
    path: &std::path::Path,
    with_batches: bool,
) -> Result<(), Failure> {
    // The anchor, Version and cut-off come from the journal: never differ.
    let mut pinned = vec![
        ("target", journaled.target.clone(), now.target.clone()),
        ("region", journaled.region.clone(), now.region.clone()),
        (
            "endpoint_url",
            journaled.endpoint.clone(),
            now.endpoint.clone(),
        ),
        ("database", journaled.database.clone(), now.database.clone()),
        ("tables", journaled.tables.join(", "), now.tables.join(", ")),
        (
            "stream digest (the records)",
            journaled.stream_digest.clone(),
            now.stream_digest.clone(),
        ),
        ("shard", journaled.shard.clone(), now.shard.clone()),
        ("pace", journaled.pace.clone(), now.pace.clone()),
    ];
    let differing = |pinned: &[(&str, String, String)]| -> Vec<String> {
        pinned
            .iter()
            .filter(|(_, was, is)| was != is)
            .map(|(what, was, is)| format!("  {what}: journal `{was}`, now `{is}`"))
            .collect()
    };
    let mut differences = differing(&pinned);
    // Last: another cut with all of the above equal means another scenario
    // layout or `late` delays, which the stream digest leaves out.
    if differences.is_empty() && with_batches {
        pinned = vec![(
            "batches digest (the cut into requests)",
            journaled.batches.clone(),
            now.batches.clone(),
        )];
        differences = differing(&pinned);
    }
    if differences.is_empty() {
        return Ok(());
    }
    Err(refusal(format!(
        "error[outatime::apply::journal_mismatch]: the journal `{}` is of another apply; nothing was written\n{}\n  help: resume with the same plan, target (and ${{ENV}} in its names), --shard and --pace; or apply without --resume to start over\n",
        path.display(),
        differences.join("\n")
    )))
}

pub(super) fn preflight_refusal(
    loaded: &Loaded,
    scan: &Scan,
    states: &[Option<TableState>],
    names: &[String],
    target: &TimestreamTarget,
    pace: Pace,
) -> String {
    let refused: u64 = scan.faults.values().map(|r| r.count).sum();
    let mut text = format!(
        "error[outatime::apply::preflight]: {refused} records would be rejected by the target for their time; nothing was written\n"
    );
    let mut last_table = None;
    let mut fixes = BTreeMap::new();
    for (&(table, line, fault), range) in &scan.faults {
        if last_table != Some(table) {
            last_table = Some(table);
            if let Some(Some(TableState::Present(w))) = states.get(table as usize) {
                text.push_str(&format!(
                    "  table `{}.{}`: the memory store keeps {} h, magnetic-store writes are {}{}\n",
                    target.database,
                    names[table as usize],
                    w.memory_hours,
                    if w.magnetic_writes { "on" } else { "off" },
                    if w.magnetic_writes {
                        format!(" (kept {} days)", w.magnetic_days)
                    } else {
                        String::new()
                    }
                ));
            }
        }
        let why = match fault {
            Fault::OlderThanMemory => "older than the memory store keeps",
            Fault::OlderThanMagnetic => "older than the magnetic store keeps",
            Fault::InTheFuture => "more than 15 minutes in the future",
        };
        text.push_str(&format!(
            "    - {}: {} records from {} to {} are {why}\n",
            step_words(loaded, line),
            range.count,
            time_string(range.first),
            time_string(range.last)
        ));
        let fix = match fault {
            Fault::OlderThanMemory => {
                "enable magnetic-store writes on the table (`magnetic_writes: true` in the target's retention, for tables created with --create), or shift the window closer to now"
            }
            Fault::OlderThanMagnetic => {
                "shift the window closer to now, or keep the magnetic store longer"
            }
            Fault::InTheFuture if pace == Pace::Burst => {
                "use `--pace live`: records are written as their time comes"
            }
            Fault::InTheFuture => "keep `--lead` at 15 minutes or less",
        };
        fixes.insert(fault, fix);
    }
    for fix in fixes.values() {
        text.push_str(&format!("  help: {fix}\n"));
    }
    text
}

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
    report.tables = names
        .iter()
        .zip(&tally.tables)
        .map(|(name, t)| {
            (
                name.clone(),
                TableReport {
                    file: String::new(),
                    table: format!("{}.{name}", target.database),
                    records: t.records,
                    rejected: t.rejected,
                    retried: t.retried,
                    batches: t.batches,
                },
            )
        })
        .collect();
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
                step: step_words(loaded, r.origin.line as usize),
                reason: r.reason.clone(),
                existing_version: r.existing_version,
            }
        })
        .collect();
    report.problems = tally.problems.clone();
    report.finish_timing();
    let written = format!(
        "{} records written, {} rejected, in {} batches ({} retried); the journal is `{}`",
        report.records,
        report.rejected,
        report.batches,
        report.retried,
        journal.path.display()
    );
    // A failure outranks the signal that came after it.
    let failure = if !tally.problems.is_empty() {
        report.outcome = "failed".into();
        let shown: Vec<String> = tally
            .problems
            .iter()
            .take(10)
            .map(|p| format!("  - {p}"))
            .collect();
        Some(failure(format!(
            "the apply stopped: {written}\n{}\n  help: fix the cause, then `outatime apply --resume` with the same arguments sends what is missing\n",
            shown.join("\n")
        )))
    } else if let Some(signal) = tally.interrupted {
        report.outcome = format!("interrupted by {signal}");
        Some(Failure {
            code: if signal == "SIGINT" {
                INTERRUPTED_BY_SIGINT
            } else {
                INTERRUPTED_BY_SIGTERM
            },
            text: format!(
                "error[outatime::apply::interrupted]: stopped by {signal}: {written}\n  help: `outatime apply --resume` with the same arguments finishes the job\n"
            ),
        })
    } else if !report.rejections.is_empty() {
        report.outcome = "rejected".into();
        let shown: Vec<String> = report
            .rejections
            .iter()
            .take(10)
            .map(|r| {
                format!(
                    "  - `{}` {} {} ({}): {}",
                    r.table, r.time, r.series, r.step, r.reason
                )
            })
            .collect();
        let more = report.rejections.len().saturating_sub(shown.len());
        Some(Failure {
            code: TARGET_FAILURE,
            text: format!(
                "error[outatime::target::rejected]: the target rejected {} records{}: {written}\n{}{}\n",
                report.rejected,
                if options.on_reject == OnReject::Fail {
                    "; no batch was started after the first rejection (--on-reject fail)"
                } else {
                    ""
                },
                shown.join("\n"),
                if more > 0 {
                    format!("\n  ... and {more} more (see --report)")
                } else {
                    String::new()
                }
            ),
        })
    } else {
        None
    };
    Applied { report, failure }
}
