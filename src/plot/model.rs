//! The panels a plot draws, filled while the record stream passes: one
//! panel per table × measure, per series its time cells (min/max), per
//! table the time each step's records cover, then the anomaly windows from
//! the run's labels. Independent of any renderer; memory holds cells, not
//! records.

use std::collections::{BTreeMap, BTreeSet};

use super::bins::Bins;
use super::error::PlotError;
use crate::measure_type::MeasureType;
use crate::model::{Scenario, Step};
use crate::plan::labels;
use crate::record::Value;
use crate::record::{Catalog, Hit, Record, Sink, TableCatalog};

/// Series drawn by name, with their own colour and legend entry.
pub(crate) const NAMED: usize = 6;
/// Series drawn after those as thin grey lines, counted in the legend.
pub(crate) const THIN: usize = 12;
/// Distinct varchar values given their own colour; the rest share one.
pub(crate) const VALUES: usize = 12;

/// A series' dimensions, sorted by name, as the catalog holds them.
pub(crate) type Dimensions = Vec<(String, String)>;

/// What to draw: the window, the series and the measures.
#[derive(Debug, Default)]
pub(crate) struct Selection {
    /// `[from, to]`, anchored nanoseconds.
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// `--where`: by dimension, the values any of which matches.
    pub filters: BTreeMap<String, Vec<String>>,
    /// `--measure`: the names; empty: every measure.
    pub measures: Vec<String>,
    /// Cells per series (about the plot's width in pixels).
    pub cells: usize,
    /// Only these series, each drawn by name: by table, their dimensions
    /// (sorted by name). `diff --plot` picks the changed ones this way.
    pub only: Option<BTreeMap<String, BTreeSet<Dimensions>>>,
}

/// How a series of a table is drawn in a panel.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    /// `lines[i]` of each of the table's panels.
    Line(usize),
    /// Part of the panel's envelope of the remaining series.
    Rest,
}

/// One series' line in a panel.
#[derive(Debug)]
pub(crate) struct Line {
    /// `host=a, region=eu`.
    pub name: String,
    pub bins: Bins,
    /// Drawn by name (else thin and counted).
    pub named: bool,
}

/// A stretch a step's records cover on a table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StepSpan {
    /// `replay`, `generate`, `extrapolate`.
    pub kind: &'static str,
    pub line: usize,
    pub from: i64,
    pub to: i64,
}

/// An anomaly's window on a panel: the union of its windows over the
/// panel's series it took effect on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AnomalyWindow {
    pub kind: &'static str,
    pub line: usize,
    pub from: i64,
    pub to: i64,
}

/// An expectation's stretch of time (its query's window, or the time its
/// alert may take), marked on the time axis of every panel.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExpectSpan {
    pub line: usize,
    pub from: i64,
    pub to: i64,
}

/// One table × measure.
#[derive(Debug)]
pub(crate) struct Panel {
    pub table: String,
    pub measure: String,
    pub ty: MeasureType,
    pub lines: Vec<Line>,
    /// Min/max over the series past the named and thin ones.
    pub rest: Bins,
    pub rest_count: usize,
    /// Varchar values by id (the id is the value drawn); past [`VALUES`]
    /// they share the last id.
    pub values: Vec<String>,
    pub steps: Vec<StepSpan>,
    pub anomalies: Vec<AnomalyWindow>,
    /// Records drawn.
    pub records: u64,
}

impl Panel {
    /// An empty panel of `table`'s `measure`: a line for each of `lines`
    /// (name, drawn by name), and the rest's envelope of `rest_count`
    /// series, each `cells` wide.
    fn new(
        table: &TableCatalog,
        (measure, ty): (&str, MeasureType),
        lines: &[(String, bool)],
        rest_count: usize,
        cells: usize,
    ) -> Panel {
        Panel {
            table: table.target.clone(),
            measure: measure.to_string(),
            ty,
            lines: lines
                .iter()
                .map(|(name, named)| Line {
                    name: name.clone(),
                    bins: Bins::new(cells, true),
                    named: *named,
                })
                .collect(),
            rest: Bins::new(cells, false),
            rest_count,
            values: Vec::new(),
            steps: Vec::new(),
            anomalies: Vec::new(),
            records: 0,
        }
    }
}

/// What a plot shows.
#[derive(Debug)]
pub(crate) struct PlotData {
    pub title: String,
    /// What `now` is; `anchored`: the time axis in UTC, else in offsets
    /// from it (then `now` is the epoch, as in a plan).
    pub now: i64,
    pub anchored: bool,
    /// The time axis: `[from, to]`.
    pub from: i64,
    pub to: i64,
    pub panels: Vec<Panel>,
    /// Panels the selection left out beyond the most drawn at once.
    pub panels_left_out: usize,
    /// The `expect` blocks that have a stretch of time, in file order.
    pub expectations: Vec<ExpectSpan>,
}

/// Most panels drawn in one image: past that, `--measure` picks.
pub(crate) const MAX_PANELS: usize = 12;

/// The records the selection keeps, accumulated into panels.
pub(crate) struct PanelSink<'a> {
    selection: &'a Selection,
    /// By table, by series rank: how the series is drawn, if at all.
    slots: Vec<Vec<Option<Slot>>>,
    /// By table, by measure id: the panel, if drawn.
    panel_of: Vec<Vec<Option<usize>>>,
    panels: Vec<Panel>,
    /// By table: each step's (line → first, last record time).
    spans: Vec<BTreeMap<usize, (i64, i64)>>,
    first: Option<i64>,
    last: Option<i64>,
}

impl<'a> PanelSink<'a> {
    /// The panels and series the selection picks from `catalog`; errors
    /// for a measure or dimension no table has, or no series matching.
    pub(crate) fn new(
        catalog: &Catalog,
        selection: &'a Selection,
    ) -> Result<(PanelSink<'a>, usize), PlotError> {
        check_selection(catalog, selection)?;
        let mut slots = Vec::with_capacity(catalog.tables.len());
        let mut panel_of = Vec::with_capacity(catalog.tables.len());
        let mut panels = Vec::new();
        let mut left_out = 0;
        for table in &catalog.tables {
            let (table_slots, lines, rest_count) = series_slots(table, selection);
            let any_series = table_slots.iter().any(Option::is_some);
            let mut table_panels = Vec::with_capacity(table.measures.len());
            for (measure, ty) in &table.measures {
                let wanted = selection.measures.is_empty() || selection.measures.contains(measure);
                if !(wanted && any_series) {
                    table_panels.push(None);
                    continue;
                }
                if panels.len() == MAX_PANELS {
                    left_out += 1;
                    table_panels.push(None);
                    continue;
                }
                table_panels.push(Some(panels.len()));
                panels.push(Panel::new(
                    table,
                    (measure, *ty),
                    &lines,
                    rest_count,
                    selection.cells,
                ));
            }
            slots.push(table_slots);
            panel_of.push(table_panels);
        }
        if panels.is_empty() {
            let what = if selection.filters.is_empty() {
                "the scenario's tables have no series".to_string()
            } else {
                "no series matches --where".to_string()
            };
            return Err(PlotError::EmptySelection { what });
        }
        let spans = vec![BTreeMap::new(); catalog.tables.len()];
        Ok((
            PanelSink {
                selection,
                slots,
                panel_of,
                panels,
                spans,
                first: None,
                last: None,
            },
            left_out,
        ))
    }

    /// The panels with their steps and anomaly windows, the time axis
    /// chosen: the selection's window, else the records' extent (with
    /// `now` when it is near).
    pub(crate) fn finish(
        mut self,
        scenario: &Scenario,
        catalog: &Catalog,
        hits: &[Hit],
        now: i64,
        anchored: bool,
        panels_left_out: usize,
    ) -> Result<PlotData, PlotError> {
        let (Some(first), Some(last)) = (self.first, self.last) else {
            let what = match (self.selection.from, self.selection.to) {
                (None, None) => "the selection has no record".to_string(),
                _ => "no record of the selection falls between --from and --to".to_string(),
            };
            return Err(PlotError::EmptySelection { what });
        };
        let kinds: BTreeMap<usize, &'static str> = scenario
            .steps
            .iter()
            .map(|s| {
                let kind = match s {
                    Step::Replay(_) => "replay",
                    Step::Generate(_) => "generate",
                    Step::Extrapolate(_) => "extrapolate",
                };
                (s.line(), kind)
            })
            .collect();
        for (t, table_panels) in self.panel_of.iter().enumerate() {
            let steps: Vec<StepSpan> = self.spans[t]
                .iter()
                .map(|(line, (from, to))| StepSpan {
                    kind: kinds.get(line).copied().unwrap_or("step"),
                    line: *line,
                    from: *from,
                    to: *to,
                })
                .collect();
            for p in table_panels.iter().flatten() {
                self.panels[*p].steps = steps.clone();
            }
        }
        for label in labels::labels(scenario, catalog, hits) {
            let Some(t) = catalog
                .tables
                .iter()
                .position(|t| std::ptr::eq(t, label.table))
            else {
                continue;
            };
            let Some(rank) = label.table.series.iter().position(|s| s == label.series) else {
                continue;
            };
            if self.slots[t][rank].is_none() {
                continue;
            }
            // The run that made the hits bound every anomaly's window and
            // record at `now`.
            let (Some(from), Some(to)) = (label.from.at(now), label.to.at(now)) else {
                continue;
            };
            for (m, panel) in self.panel_of[t].iter().enumerate() {
                let Some(p) = panel else { continue };
                let measure = &label.table.measures[m].0;
                if label.anomaly.measure.as_ref().is_some_and(|a| a != measure) {
                    continue;
                }
                let windows = &mut self.panels[*p].anomalies;
                match windows.iter_mut().find(|w| w.line == label.anomaly.line) {
                    Some(w) => {
                        w.from = w.from.min(from);
                        w.to = w.to.max(to);
                    }
                    None => windows.push(AnomalyWindow {
                        kind: label.anomaly.kind.name(),
                        line: label.anomaly.line,
                        from,
                        to,
                    }),
                }
            }
        }
        for panel in &mut self.panels {
            panel.anomalies.sort_by_key(|w| (w.from, w.line));
        }
        let (from, to) = match (self.selection.from, self.selection.to) {
            (Some(from), Some(to)) => (from, to),
            (from, to) => {
                let (mut lo, mut hi) = (from.unwrap_or(first), to.unwrap_or(last));
                // `now` joins the axis when it lies within a quarter of the
                // records' extent of them: a replay ending now shows it at
                // the edge; recorded instants years ago do not shrink to a dot.
                let reach = (hi - lo) / 4;
                if from.is_none() && now < lo && now >= lo.saturating_sub(reach) {
                    lo = now;
                }
                if to.is_none() && now > hi && now <= hi.saturating_add(reach) {
                    hi = now;
                }
                (lo, hi.max(lo.saturating_add(1)))
            }
        };
        let expectations = scenario
            .expectations
            .iter()
            .filter_map(|e| {
                let (from, to) = e.window_at(scenario, now)?;
                Some(ExpectSpan {
                    line: e.line,
                    from,
                    to,
                })
            })
            .collect();
        Ok(PlotData {
            title: scenario.title.clone(),
            now,
            anchored,
            from,
            to,
            panels: self.panels,
            panels_left_out,
            expectations,
        })
    }
}

impl Sink for PanelSink<'_> {
    fn record(&mut self, record: &Record, _catalog: &Catalog) -> std::io::Result<()> {
        let t = record.time;
        if self.selection.from.is_some_and(|from| t < from)
            || self.selection.to.is_some_and(|to| t > to)
        {
            return Ok(());
        }
        let table = record.table as usize;
        let Some(slot) = self.slots[table][record.series as usize] else {
            return Ok(());
        };
        let mut drawn = false;
        for (m, value) in &record.measures {
            let Some(p) = self.panel_of[table][*m as usize] else {
                continue;
            };
            let panel = &mut self.panels[p];
            let v = match value {
                Value::Double(v) => *v,
                Value::Bigint(v) => *v as f64,
                Value::Boolean(b) => f64::from(u8::from(*b)),
                Value::Varchar(s) => value_id(&mut panel.values, s) as f64,
            };
            match slot {
                Slot::Line(i) => panel.lines[i].bins.add(t, v),
                Slot::Rest => panel.rest.add(t, v),
            }
            panel.records += 1;
            drawn = true;
        }
        if drawn {
            for line in &record.steps {
                let span = self.spans[table].entry(*line).or_insert((t, t));
                span.0 = span.0.min(t);
                span.1 = span.1.max(t);
            }
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        Ok(())
    }
}

/// Each `--measure` names a measure, and each `--where` a dimension,
/// that some table has.
fn check_selection(catalog: &Catalog, selection: &Selection) -> Result<(), PlotError> {
    for name in &selection.measures {
        if !catalog
            .tables
            .iter()
            .any(|t| t.measures.iter().any(|(m, _)| m == name))
        {
            let mut known: Vec<String> = catalog
                .tables
                .iter()
                .flat_map(|t| t.measures.iter().map(|(m, _)| m.clone()))
                .collect();
            known.sort();
            known.dedup();
            return Err(PlotError::UnknownMeasure {
                name: name.clone(),
                known,
            });
        }
    }
    for dim in selection.filters.keys() {
        let has = |t: &TableCatalog| {
            t.series
                .iter()
                .any(|s| s.dims.iter().any(|(d, _)| d == dim))
        };
        if !catalog.tables.iter().any(has) {
            let mut known: Vec<String> = catalog
                .tables
                .iter()
                .flat_map(|t| {
                    t.series
                        .iter()
                        .flat_map(|s| s.dims.iter().map(|(d, _)| d.clone()))
                })
                .collect();
            known.sort();
            known.dedup();
            return Err(PlotError::UnknownDimension {
                name: dim.clone(),
                known,
            });
        }
    }
    Ok(())
}

/// How each series of `table` is drawn, by rank (`None`: not selected);
/// the lines its panels draw by name or thin, as (name, drawn by name);
/// and how many series the rest's envelope holds.
fn series_slots(
    table: &TableCatalog,
    selection: &Selection,
) -> (Vec<Option<Slot>>, Vec<(String, bool)>, usize) {
    let mut lines = Vec::new();
    let mut rest_count = 0;
    let slots = table
        .series
        .iter()
        .map(|series| {
            let matches = selection.filters.iter().all(|(dim, values)| {
                series
                    .dims
                    .iter()
                    .any(|(d, v)| d == dim && values.contains(v))
            });
            if !matches {
                return None;
            }
            let only = selection.only.as_ref().map(|only| {
                only.get(&table.name)
                    .is_some_and(|dims| dims.contains(&series.dims))
            });
            if only == Some(false) {
                return None;
            }
            if only == Some(true) || lines.len() < NAMED + THIN {
                let name = series
                    .dims
                    .iter()
                    .map(|(d, v)| format!("{d}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                lines.push((name, only.is_some() || lines.len() < NAMED));
                Some(Slot::Line(lines.len() - 1))
            } else {
                rest_count += 1;
                Some(Slot::Rest)
            }
        })
        .collect();
    (slots, lines, rest_count)
}

/// The id of a varchar value, interned; past [`VALUES`] distinct values
/// the last id stands for all the others.
fn value_id(values: &mut Vec<String>, s: &str) -> usize {
    if let Some(i) = values.iter().position(|v| v == s) {
        return i;
    }
    if values.len() < VALUES {
        values.push(s.to_string());
        return values.len() - 1;
    }
    if values.len() == VALUES {
        values.push("(other values)".to_string());
    }
    VALUES
}
