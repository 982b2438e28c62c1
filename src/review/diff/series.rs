//! What a change did to the series: each series compared by table and
//! dimensions, then the effect summed up per measure (how many series
//! changed, the spread of the change of their means), and the series that
//! show it best picked as examples.

use std::collections::BTreeMap;

use super::words;
use crate::plan::{MeasureSummary, Plan, SeriesPlan};

/// Examples picked from the changed series.
const EXAMPLES: usize = 5;

#[derive(Debug, Default)]
pub(crate) struct SeriesEffect {
    /// Series in the old plan and in the new.
    pub totals: (usize, usize),
    /// `devices {device="sim-2000"}` and its records.
    pub added: Vec<(String, u64)>,
    pub removed: Vec<(String, u64)>,
    /// By key.
    pub changed: Vec<SeriesChange>,
    /// Per measure (and `records`), over the changed series.
    pub measures: Vec<MeasureEffect>,
    /// Indexes into `changed`: the largest changes first.
    pub examples: Vec<usize>,
}

impl SeriesEffect {
    pub(crate) fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

#[derive(Debug)]
pub(crate) struct SeriesChange {
    pub key: String,
    pub records: (u64, u64),
    pub first: (String, String),
    pub last: (String, String),
    /// Only the measures whose summary changed.
    pub measures: Vec<MeasureChange>,
}

#[derive(Debug)]
pub(crate) struct MeasureChange {
    pub name: String,
    pub old: Option<MeasureSummary>,
    pub new: Option<MeasureSummary>,
}

impl MeasureChange {
    /// New mean minus old, when both have one.
    pub(crate) fn mean_delta(&self) -> Option<f64> {
        Some(self.new.as_ref()?.mean? - self.old.as_ref()?.mean?)
    }
}

#[derive(Debug)]
pub(crate) struct MeasureEffect {
    pub name: String,
    /// Changed series in which this measure's summary changed.
    pub series: usize,
    /// The change of the mean: lowest, median, highest.
    pub mean_delta: Option<(f64, f64, f64)>,
}

fn keyed(plan: &Plan) -> BTreeMap<String, &SeriesPlan> {
    plan.tables
        .iter()
        .flat_map(|(table, t)| {
            t.series
                .iter()
                .map(move |s| (format!("{table} {}", words::dimensions(&s.dimensions)), s))
        })
        .collect()
}

pub(super) fn effect(old: &Plan, new: &Plan) -> SeriesEffect {
    let (before, after) = (keyed(old), keyed(new));
    let mut effect = SeriesEffect {
        totals: (before.len(), after.len()),
        ..SeriesEffect::default()
    };
    for (key, a) in &before {
        match after.get(key) {
            None => effect.removed.push((key.clone(), a.records)),
            Some(b) if a != b => effect.changed.push(change(key, a, b)),
            Some(_) => {}
        }
    }
    for (key, b) in &after {
        if !before.contains_key(key) {
            effect.added.push((key.clone(), b.records));
        }
    }
    effect.measures = measures(&effect.changed);
    effect.examples = examples(&effect.changed);
    effect
}

fn change(key: &str, a: &SeriesPlan, b: &SeriesPlan) -> SeriesChange {
    let mut names: Vec<&String> = a.measures.keys().chain(b.measures.keys()).collect();
    names.sort();
    names.dedup();
    SeriesChange {
        key: key.to_string(),
        records: (a.records, b.records),
        first: (a.first.clone(), b.first.clone()),
        last: (a.last.clone(), b.last.clone()),
        measures: names
            .into_iter()
            .filter(|name| a.measures.get(*name) != b.measures.get(*name))
            .map(|name| MeasureChange {
                name: name.clone(),
                old: a.measures.get(name).cloned(),
                new: b.measures.get(name).cloned(),
            })
            .collect(),
    }
}

fn measures(changed: &[SeriesChange]) -> Vec<MeasureEffect> {
    let mut by_name: BTreeMap<&str, (usize, Vec<f64>)> = BTreeMap::new();
    for series in changed {
        if series.records.0 != series.records.1 {
            let (n, deltas) = by_name.entry("records").or_default();
            *n += 1;
            deltas.push(series.records.1 as f64 - series.records.0 as f64);
        }
        for m in &series.measures {
            let (n, deltas) = by_name.entry(&m.name).or_default();
            *n += 1;
            deltas.extend(m.mean_delta());
        }
    }
    by_name
        .into_iter()
        .map(|(name, (series, mut deltas))| {
            deltas.sort_by(f64::total_cmp);
            MeasureEffect {
                name: name.to_string(),
                series,
                mean_delta: match (deltas.first(), deltas.last()) {
                    (Some(lo), Some(hi)) => Some((*lo, deltas[deltas.len() / 2], *hi)),
                    _ => None,
                },
            }
        })
        .collect()
}

/// The changed series whose means moved most (relative to their size), the
/// key breaking ties, so the examples show the change at its largest.
fn examples(changed: &[SeriesChange]) -> Vec<usize> {
    let size = |series: &SeriesChange| -> f64 {
        let records = series.records.0.abs_diff(series.records.1) as f64
            / series.records.0.max(series.records.1).max(1) as f64;
        series
            .measures
            .iter()
            .filter_map(|m| {
                let old = m.old.as_ref()?.mean?;
                Some((m.mean_delta()? / old.abs().max(f64::MIN_POSITIVE)).abs())
            })
            .filter(|x| x.is_finite())
            .fold(records, f64::max)
    };
    let mut order: Vec<(f64, usize)> = changed.iter().map(size).zip(0..).collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    order.into_iter().take(EXAMPLES).map(|(_, i)| i).collect()
}
