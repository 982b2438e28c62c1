//! `outatime diff OLD NEW --plot`: the series that changed between two
//! plans, each drawn twice in one panel per table × measure, the old run
//! pale under the new one solid. The changed series are read from the
//! plans' summaries; each plan's stream (its pinned scenario and sources)
//! is run at the same `now` and drawn on the same time axis.

use std::collections::{BTreeMap, BTreeSet};

use super::layout::{self, DiffPanel};
use super::model::{self, Dimensions, Panel, PanelSink, PlotData, Selection};
use super::{Format, PlotError, scene};
use crate::app::Loaded;
use crate::plan::{Plan, SeriesPlan};

/// Changed series drawn per panel, the largest changes first; the rest
/// are counted in the legend.
pub(crate) const SHOWN: usize = 5;

/// One side of the diff: the plan as loaded (its scenario, its sources).
pub(crate) struct Side<'a> {
    pub file: String,
    pub plan: &'a Plan,
    pub loaded: &'a Loaded,
}

/// A changed series in a panel, and how much it changed.
#[derive(Debug)]
struct Pick {
    size: f64,
    dims: Dimensions,
}

/// The picture of what changed, or `None` when no series did (then no
/// file is written).
pub(crate) fn plot_diff(
    old: &Side<'_>,
    new: &Side<'_>,
    now: i64,
    anchored: bool,
    format: Format,
) -> Result<Option<Vec<u8>>, PlotError> {
    let mut picks = changed(old.plan, new.plan);
    if picks.is_empty() {
        return Ok(None);
    }
    let mut only: BTreeMap<String, BTreeSet<Dimensions>> = BTreeMap::new();
    let mut shown: BTreeMap<(String, String), (Vec<String>, usize)> = BTreeMap::new();
    for ((table, measure), list) in &mut picks {
        list.sort_by(|a, b| b.size.total_cmp(&a.size).then_with(|| a.dims.cmp(&b.dims)));
        let rest = list.len().saturating_sub(SHOWN);
        let names = list
            .iter()
            .take(SHOWN)
            .map(|p| {
                only.entry(table.clone())
                    .or_default()
                    .insert(p.dims.clone());
                name(&p.dims)
            })
            .collect();
        // Panels carry the table's name in the target, the plans its name
        // in the scenario.
        let target = [new.plan, old.plan]
            .iter()
            .find_map(|plan| plan.tables.get(table))
            .map_or_else(|| table.clone(), |t| t.target.clone());
        shown.insert((target, measure.clone()), (names, rest));
    }
    let selection = Selection {
        cells: layout::PLOT_WIDTH * 2,
        only: Some(only),
        ..Selection::default()
    };
    let mut before = run(old.loaded, &selection, now, anchored)?;
    let mut after = run(new.loaded, &selection, now, anchored)?;
    // One time axis for both.
    let from = before.iter().chain(&after).map(|d| d.from).min();
    let to = before.iter().chain(&after).map(|d| d.to).max();
    for data in before.iter_mut().chain(after.iter_mut()) {
        data.from = from.unwrap_or(data.from);
        data.to = to.unwrap_or(data.to);
    }
    let mut panels = Vec::new();
    let mut left_out = 0;
    for ((table, measure), (names, rest)) in &shown {
        let (a, b) = (
            panel_of(before.as_ref(), table, measure),
            panel_of(after.as_ref(), table, measure),
        );
        if a.is_none() && b.is_none() {
            continue;
        }
        if panels.len() == model::MAX_PANELS {
            left_out += 1;
            continue;
        }
        panels.push(DiffPanel {
            old: a,
            new: b,
            shown: names.clone(),
            rest: *rest,
        });
    }
    let Some(axis) = after.as_ref().or(before.as_ref()) else {
        return Ok(None);
    };
    let title = match (&before, &after) {
        (Some(a), Some(b)) if a.title != b.title => format!("{} → {}", a.title, b.title),
        _ => axis.title.clone(),
    };
    let scene = layout::layout_diff(&title, (&old.file, &new.file), axis, &panels, left_out);
    let bytes = match format {
        Format::Svg => scene::to_svg(&scene)?.into_bytes(),
        Format::Png => scene::to_png(&scene)?,
        // Refused before any plan is read (`PlotError::DiffNotHtml`).
        Format::Html => {
            return Err(PlotError::DiffNotHtml {
                path: "the output".into(),
            });
        }
    };
    Ok(Some(bytes))
}

/// One side's panels of the picked series, `None` when it has none of
/// them (all were added, or all removed) or they hold no record.
fn run(
    loaded: &Loaded,
    selection: &Selection,
    now: i64,
    anchored: bool,
) -> Result<Option<PlotData>, PlotError> {
    let catalog = &loaded.prepared.catalog;
    let (mut sink, left_out) = match PanelSink::new(catalog, selection) {
        Ok(made) => made,
        Err(PlotError::EmptySelection { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let hits = loaded.prepared.run(now, &mut sink)?;
    match sink.finish(&loaded.scenario, catalog, &hits, now, anchored, left_out) {
        Ok(data) => Ok(Some(data)),
        Err(PlotError::EmptySelection { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn panel_of<'a>(data: Option<&'a PlotData>, table: &str, measure: &str) -> Option<&'a Panel> {
    data?
        .panels
        .iter()
        .find(|p| p.table == table && p.measure == measure)
}

/// `device=a, site=x`: a series' name as the plot's lines carry it.
fn name(dims: &Dimensions) -> String {
    dims.iter()
        .map(|(d, v)| format!("{d}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// By table and measure, the series whose summary of that measure
/// changed (or that were added or removed), with the size of the change.
fn changed(old: &Plan, new: &Plan) -> BTreeMap<(String, String), Vec<Pick>> {
    let mut out: BTreeMap<(String, String), Vec<Pick>> = BTreeMap::new();
    let tables: BTreeSet<&String> = old.tables.keys().chain(new.tables.keys()).collect();
    for table in tables {
        let (before, after) = (by_dims(old, table), by_dims(new, table));
        let keys: BTreeSet<&Dimensions> = before.keys().chain(after.keys()).collect();
        for dims in keys {
            let (a, b) = (before.get(dims), after.get(dims));
            if a == b {
                continue;
            }
            let names: BTreeSet<&String> = a
                .iter()
                .chain(b.iter())
                .flat_map(|s| s.measures.keys())
                .collect();
            let differs =
                |m: &String| a.and_then(|s| s.measures.get(m)) != b.and_then(|s| s.measures.get(m));
            // A series whose only change is when it starts or ends still
            // changed: all its measures show it.
            let any = names.iter().any(|m| differs(m));
            for measure in names {
                if any && !differs(measure) {
                    continue;
                }
                out.entry((table.clone(), measure.clone()))
                    .or_default()
                    .push(Pick {
                        size: size(a.copied(), b.copied(), measure),
                        dims: dims.clone(),
                    });
            }
        }
    }
    out
}

/// A table's series in `plan` by their dimensions.
fn by_dims<'a>(plan: &'a Plan, table: &str) -> BTreeMap<Dimensions, &'a SeriesPlan> {
    plan.tables
        .get(table)
        .map(|t| {
            t.series
                .iter()
                .map(|s| (s.dimensions.clone().into_iter().collect(), s))
                .collect()
        })
        .unwrap_or_default()
}

/// How much a series' measure changed: the change of its mean relative
/// to the old mean, or of its record count; 1 for a series added or
/// removed.
fn size(a: Option<&SeriesPlan>, b: Option<&SeriesPlan>, measure: &str) -> f64 {
    let (Some(a), Some(b)) = (a, b) else {
        return 1.0;
    };
    let records = a.records.abs_diff(b.records) as f64 / a.records.max(b.records).max(1) as f64;
    let mean = (|| {
        let old = a.measures.get(measure)?.mean?;
        let new = b.measures.get(measure)?.mean?;
        let relative = ((new - old) / old.abs().max(f64::MIN_POSITIVE)).abs();
        relative.is_finite().then_some(relative)
    })();
    mean.map_or(records, |m| m.max(records))
}
