//! `prepare`: a scenario's sources read once and its steps made ready to
//! run, in these steps:
//!
//! ```text
//! redact ─▶ select (each source read once, rows handed to its steps;
//!           past a chunk, spilled) ─▶ long rows' measure names checked
//!        ─▶ catalogue (tables, series, measures numbered)
//!        ─▶ steps placed (grids, listed rows, streamed replays, fits)
//!        ─▶ anomalies bound to their table's series ─▶ data warnings
//! ```

use std::collections::{BTreeMap, BTreeSet};

use super::eval::{self, MeasureEval};
use super::place::{count, prepare_extrapolate, prepare_replay, prepare_streamed, schedule_bounds};
use super::random::Key;
use super::select::{
    Dims, Selected, check_measure_name, generated_dims, matches, measure_id, numbering, rank,
    read_alongside, select,
};
use super::spill::{self, SortedRows};
use super::{CompileError, Prepared, PreparedAnomaly, PreparedStep, redact, warnings};
use crate::model::{self, MeasureType, NameRules, Scenario, Shift, Step};
use crate::record::{Catalog, SeriesInfo, TableCatalog, series_text};
use crate::sources::{ReadOptions, ReadSummary, SpillOptions};

/// `rules` are the names the target takes: measure names read from long
/// rows are held to them.
pub(crate) fn prepare(
    scenario: &Scenario,
    options: ReadOptions,
    rules: &dyn NameRules,
) -> Result<Prepared, CompileError> {
    let redactions = redact::Redactions::new(scenario, &|name| std::env::var(name).ok())?;
    let redacted = redactions
        .as_ref()
        .map(|r| r.scenario(scenario))
        .transpose()?;
    let scenario = redacted.as_ref().unwrap_or(scenario);
    let tables = TableOrder::new(scenario);

    let mut selected = selections(scenario, &options.spill);
    let summaries = read_sources(scenario, &options, redactions.as_ref(), &mut selected)?;
    let spilled = finish_spills(&mut selected)?;
    check_long_measure_names(scenario, &selected, rules)?;

    let catalog = catalog(scenario, &tables, &selected);
    let mut found = selection_warnings(scenario, &selected, &summaries);
    let root = Key::new(scenario.seed);
    let steps = scenario
        .steps
        .iter()
        .zip(selected)
        .zip(spilled)
        .map(|((step, sel), spilled)| {
            let t = tables.index(step.table());
            prepare_step(scenario, step, sel, spilled, t, &catalog, root)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let anomalies: Vec<PreparedAnomaly> = scenario
        .anomalies
        .iter()
        .map(|a| prepare_anomaly(a, tables.index(&a.table), &catalog, root))
        .collect();

    found.extend(warnings::anomalies(&steps, &anomalies, &catalog)?);
    found.sort_by_key(|w| w.line());
    Ok(Prepared {
        catalog,
        steps,
        anomalies,
        sources: summaries,
        anchor_align: scenario.anchor_align.0,
        calendar_lines: calendar_lines(scenario),
        redacted,
        warnings: found,
    })
}

/// The scenario's tables in catalogue order (by target name, then name),
/// and each one's place in that order by name.
struct TableOrder<'s> {
    tables: Vec<&'s model::Table>,
    index: BTreeMap<&'s str, u16>,
}

impl<'s> TableOrder<'s> {
    fn new(scenario: &'s Scenario) -> TableOrder<'s> {
        let mut tables: Vec<&model::Table> = scenario.tables.values().collect();
        tables.sort_by(|a, b| a.target_name.cmp(&b.target_name).then(a.name.cmp(&b.name)));
        let index = tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.as_str(), i as u16))
            .collect();
        TableOrder { tables, index }
    }

    /// The place of the table named `name`, which validation has checked
    /// exists.
    fn index(&self, name: &str) -> usize {
        self.index[name] as usize
    }
}

/// An empty selection for every step, with a spill where its rows may
/// pass one chunk. A replay or an extrapolation keeps a chunk of rows in
/// memory and spills the rest (`spill`); not a replay shifted by calendar
/// days: a daylight-saving change can reorder its instants, which reading
/// back in time order cannot follow.
fn selections(scenario: &Scenario, options: &SpillOptions) -> Vec<Selected> {
    scenario
        .steps
        .iter()
        .map(|step| Selected {
            spill: match step {
                _ if options.in_memory => None,
                Step::Replay(r) if !matches!(r.shift, Shift::CalendarDays { .. }) => {
                    Some(spill::Spill::new(options.clone(), r.window.is_none()))
                }
                // Learned points are fitted pass by pass from the spill.
                Step::Extrapolate(_) => Some(spill::Spill::new(options.clone(), false)),
                _ => None,
            },
            ..Selected::default()
        })
        .collect()
}

/// Reads each source a step uses once, handing each row (its redacted
/// columns pseudonymised) to the steps that use it; by source name, what
/// each read gave.
fn read_sources(
    scenario: &Scenario,
    options: &ReadOptions,
    redactions: Option<&redact::Redactions>,
    selected: &mut [Selected],
) -> Result<BTreeMap<String, ReadSummary>, CompileError> {
    let mut summaries = BTreeMap::new();
    for source in scenario.sources.values() {
        let users: Vec<usize> = scenario
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| step_source(s) == Some(source.name.as_str()))
            .map(|(i, _)| i)
            .collect();
        if users.is_empty() {
            continue;
        }
        let hiding = redactions.and_then(|r| r.by_source.get(&source.name));
        let summary = read_alongside(source, options, |row| {
            let hidden;
            let row = match hiding {
                Some(r) => {
                    hidden = r.row(row);
                    &hidden
                }
                None => row,
            };
            for &i in &users {
                select(&scenario.steps[i], source, row, &mut selected[i]);
            }
        })
        .map_err(|error| CompileError::Data {
            source_name: source.name.clone(),
            error: Box::new(error),
        })?;
        summaries.insert(source.name.clone(), summary);
    }
    Ok(summaries)
}

/// Each step's spill finished: its rows sorted on disk, or `None` when
/// they stayed in memory (no chunk filled, or no spill).
fn finish_spills(selected: &mut [Selected]) -> Result<Vec<Option<SortedRows>>, CompileError> {
    selected
        .iter_mut()
        .map(|sel| match sel.spill.take() {
            Some(spill) => {
                let folder = spill.folder_or_parent();
                match spill.finish(&mut sel.rows, &mut sel.values) {
                    Ok(spill::Finished::Spilled(rows)) => Ok(Some(rows)),
                    Ok(spill::Finished::InMemory) => Ok(None),
                    Err(error) => Err(CompileError::Spill { folder, error }),
                }
            }
            None => Ok(None),
        })
        .collect()
}

/// Long rows name their measures in the data: those names are held to
/// the target's rules before anything is written.
fn check_long_measure_names(
    scenario: &Scenario,
    selected: &[Selected],
    rules: &dyn NameRules,
) -> Result<(), CompileError> {
    for (step, sel) in scenario.steps.iter().zip(selected) {
        if let Step::Replay(r) = step {
            for (name, _) in &sel.measures {
                check_measure_name(&r.source, name, rules)?;
            }
        }
    }
    Ok(())
}

/// Every table's series and measures, numbered: each sorted, a series by
/// its dimensions, a measure by its name.
fn catalog(scenario: &Scenario, tables: &TableOrder<'_>, selected: &[Selected]) -> Catalog {
    let mut series_sets: Vec<BTreeSet<Dims>> = vec![BTreeSet::new(); tables.tables.len()];
    let mut measure_sets: Vec<BTreeMap<String, MeasureType>> =
        vec![BTreeMap::new(); tables.tables.len()];
    for (step, sel) in scenario.steps.iter().zip(selected) {
        let t = tables.index(step.table());
        match step {
            Step::Generate(g) => {
                for s in &g.series {
                    series_sets[t].insert(generated_dims(s));
                }
                for m in &g.measures {
                    measure_sets[t].insert(m.name.clone(), m.ty);
                }
            }
            Step::Replay(_) => {
                series_sets[t].extend(sel.series.iter().cloned());
                for (name, ty) in &sel.measures {
                    measure_sets[t].entry(name.clone()).or_insert(*ty);
                }
            }
            Step::Extrapolate(e) => {
                series_sets[t].extend(sel.series.iter().cloned());
                measure_sets[t].insert(e.measure.clone(), e.ty);
            }
        }
    }
    Catalog {
        tables: tables
            .tables
            .iter()
            .zip(series_sets.iter().zip(&measure_sets))
            .map(|(t, (series, measures))| TableCatalog {
                name: t.name.clone(),
                target: t.target_name.clone(),
                series: series
                    .iter()
                    .map(|dims| SeriesInfo {
                        dims: dims.clone(),
                        key: crate::record::series_key(dims),
                    })
                    .collect(),
                measures: measures.iter().map(|(n, ty)| (n.clone(), *ty)).collect(),
            })
            .collect(),
    }
}

/// What each replay's selection shows does nothing (see
/// `warnings::selection`).
fn selection_warnings(
    scenario: &Scenario,
    selected: &[Selected],
    summaries: &BTreeMap<String, ReadSummary>,
) -> Vec<warnings::DataWarning> {
    scenario
        .steps
        .iter()
        .zip(selected)
        .flat_map(|(step, sel)| {
            let read = step_source(step).and_then(|source| summaries.get(source));
            warnings::selection(step, sel, read)
        })
        .collect()
}

/// One step, ready to run: a `generate` as a grid, a replay as its rows
/// placed (in memory or streamed from its spill), an extrapolation as its
/// series fitted. `t` is its table's place in the catalogue.
fn prepare_step(
    scenario: &Scenario,
    step: &Step,
    sel: Selected,
    spilled: Option<SortedRows>,
    t: usize,
    catalog: &Catalog,
    root: Key,
) -> Result<PreparedStep, CompileError> {
    match step {
        Step::Generate(g) => Ok(prepare_generate(g, t, catalog, root)),
        Step::Replay(r) => {
            let numbering = numbering(&sel, t, catalog);
            let source = scenario.sources.get(&r.source);
            match spilled {
                Some(rows) => prepare_streamed(r, source, sel, rows, numbering, t),
                None => prepare_replay(r, source, sel, &numbering, t),
            }
        }
        Step::Extrapolate(e) => {
            let numbering = numbering(&sel, t, catalog);
            prepare_extrapolate(
                e,
                sel,
                spilled,
                &numbering,
                t,
                root,
                measure_id(catalog, t, &e.measure),
            )
        }
    }
}

/// A `generate` as a grid: its schedule's instants, and for each series
/// (in rank order) how each measure's model is evaluated, keyed by step,
/// series and measure.
fn prepare_generate(g: &model::Generate, t: usize, catalog: &Catalog, root: Key) -> PreparedStep {
    let (relative, start, end) = schedule_bounds(&g.schedule);
    let step_key = root.with_name(&format!("generate|{}", g.table));
    let mut series: Vec<(u32, Vec<MeasureEval>)> = g
        .series
        .iter()
        .map(|s| {
            let dims = generated_dims(s);
            let series_key = step_key.with_name(&series_text(&dims));
            let evals = g
                .measures
                .iter()
                .map(|m| MeasureEval {
                    measure: measure_id(catalog, t, &m.name),
                    ty: m.ty,
                    terms: eval::synthetic_terms(&m.model, series_key.with_name(&m.name)),
                    clamp: m.model.clamp,
                    start,
                    end,
                })
                .collect();
            (rank(catalog, t, &dims), evals)
        })
        .collect();
    series.sort_by_key(|(r, _)| *r);
    let every = g.schedule.every.0;
    PreparedStep::Grid {
        table: t as u16,
        line: g.line,
        relative,
        start,
        every,
        count: count(start, end, every),
        series,
    }
}

/// An anomaly with its table, measure and the series its `where` takes
/// numbered, and its randomness keyed by what it is.
fn prepare_anomaly(a: &model::Anomaly, t: usize, catalog: &Catalog, root: Key) -> PreparedAnomaly {
    PreparedAnomaly {
        kind: a.kind.clone(),
        line: a.line,
        table: t as u16,
        measure: a.measure.as_deref().map(|m| measure_id(catalog, t, m)),
        at: a.at,
        length: a.length.map(|l| l.0),
        key: root.with_name(&format!(
            "anomaly|{}|{}|{:?}",
            a.table,
            a.measure.as_deref().unwrap_or(""),
            a.kind
        )),
        series: catalog.tables[t]
            .series
            .iter()
            .map(|s| {
                matches(&a.filter, |d| {
                    s.dims.iter().find(|(k, _)| k == d).map(|(_, v)| v.as_str())
                })
            })
            .collect(),
    }
}

/// Lines of steps that shift by calendar days: in a conflict, they are
/// the likely cause (a DST change folds two instants onto one).
fn calendar_lines(scenario: &Scenario) -> Vec<usize> {
    scenario
        .steps
        .iter()
        .filter(|s| match s {
            Step::Replay(r) => matches!(r.shift, Shift::CalendarDays { .. }),
            Step::Extrapolate(e) => matches!(e.shift, Shift::CalendarDays { .. }),
            Step::Generate(_) => false,
        })
        .map(Step::line)
        .collect()
}

/// The source a step reads, if it reads one.
fn step_source(step: &Step) -> Option<&str> {
    match step {
        Step::Replay(r) => Some(&r.source),
        Step::Extrapolate(e) => Some(&e.source),
        Step::Generate(_) => None,
    }
}
