//! Labels: the window each anomaly covers on each series it took effect
//! on, built once from a run's hits for the plan (offsets from `now`) and
//! for the `labels` command (UTC instants at an anchor).

use crate::lang::literal::{Duration, Instant};
use crate::model::{Anomaly, Scenario, TimePoint};
use crate::record::{Catalog, Hit, SeriesInfo, TableCatalog};

/// One anomaly on one series.
pub(crate) struct Label<'a> {
    pub anomaly: &'a Anomaly,
    pub table: &'a TableCatalog,
    pub series: &'a SeriesInfo,
    /// The window `[from, to)` of the records the anomaly covers: the
    /// declared one with `for`, else `[t, t + 1ns)` around the record hit.
    pub from: TimePoint,
    pub to: TimePoint,
}

/// The labels of a run's hits, sorted by the anomaly's line, then by the
/// series' dimensions.
pub(crate) fn labels<'a>(
    scenario: &'a Scenario,
    catalog: &'a Catalog,
    hits: &[Hit],
) -> Vec<Label<'a>> {
    let mut labels: Vec<Label<'a>> = hits
        .iter()
        .map(|hit| {
            let anomaly = &scenario.anomalies[hit.anomaly];
            let table = &catalog.tables[hit.table as usize];
            let (from, to) = match anomaly.length {
                Some(length) => (anomaly.at, add(anomaly.at, length)),
                // Without `for`, the anomaly changed one record of the
                // series: the one at `hit.first`. The window holding that
                // instant and no other is one nanosecond long, the stream's
                // unit of time; `[t, t)` would hold nothing.
                None => {
                    let hit_at = if hit.relative {
                        TimePoint::Relative(Duration(hit.first))
                    } else {
                        TimePoint::Absolute(Instant(hit.first))
                    };
                    (hit_at, add(hit_at, Duration(1)))
                }
            };
            Label {
                anomaly,
                table,
                series: &table.series[hit.series as usize],
                from,
                to,
            }
        })
        .collect();
    labels.sort_by(|a, b| (a.anomaly.line, &a.series.dims).cmp(&(b.anomaly.line, &b.series.dims)));
    labels
}

/// `p + d`. Never past i64: validation holds `at + for` to the range
/// (relative points to 100 years from `now`), and a run's records lie
/// below `i64::MAX`, so a hit's `t + 1ns` fits.
fn add(p: TimePoint, d: Duration) -> TimePoint {
    let sum = |n: i64| {
        n.checked_add(d.0)
            .expect("validation and the run bound every label's end")
    };
    match p {
        TimePoint::Relative(o) => TimePoint::Relative(Duration(sum(o.0))),
        TimePoint::Absolute(i) => TimePoint::Absolute(Instant(sum(i.0))),
    }
}
