//! The write plan: what a scenario writes, resolved and summarised, as data
//! for review. Its size grows with sources, steps, series and anomalies,
//! never with records; it holds offsets from `now`, so it is the same on
//! any day, machine, `TZ` or thread count.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub(crate) mod error;
pub(crate) mod labels;
mod sparkline;
pub(crate) mod words;
mod yaml;

pub(crate) use error::{PlanError, SerializeError, StaleChange};
use words::{
    clause_words, filter_words, kind_words, model_words, point_words, schedule_words, shift_words,
    time_words,
};
pub(crate) use yaml::from_yaml;
pub use yaml::to_yaml;

use crate::model::{Layout, Scenario, SourceKind, Step};
use crate::record::Value;
use crate::record::{Catalog, Hit, Record, Sink};

pub(crate) const FORMAT: &str = "outatime-plan/1";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Plan {
    pub format: String,
    pub scenario: String,
    /// The scenario file, relative to the plan file, and its digest.
    pub scenario_file: String,
    pub scenario_digest: String,
    pub seed: u64,
    pub anchor: AnchorPolicy,
    pub sources: BTreeMap<String, SourcePlan>,
    pub tables: BTreeMap<String, TablePlan>,
    pub steps: Vec<StepPlan>,
    pub labels: Vec<LabelPlan>,
    /// The `expect` blocks, in words; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub expectations: Vec<ExpectationPlan>,
    /// What the scenario's data shows does nothing; absent when nothing does.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<WarningPlan>,
    pub records: u64,
    /// blake3 of the canonical record stream (see `output::Digest`).
    pub stream_digest: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AnchorPolicy {
    pub align: String,
    pub now: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SourcePlan {
    pub kind: String,
    pub path: String,
    pub digest: String,
    pub rows: u64,
    pub bad_rows: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TablePlan {
    pub target: String,
    pub layout: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub measure_name: Option<String>,
    pub measures: BTreeMap<String, String>,
    pub dimensions: Vec<String>,
    pub records: u64,
    pub series: Vec<SeriesPlan>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SeriesPlan {
    pub dimensions: BTreeMap<String, String>,
    pub records: u64,
    pub first: String,
    pub last: String,
    pub measures: BTreeMap<String, MeasureSummary>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct MeasureSummary {
    pub count: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mean: Option<f64>,
    /// For numbers: the shape over the series' time range, `▁▂▃▄▅▆▇█`, a
    /// `·` where it has no record (see `sparkline`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sparkline: Option<String>,
    /// For booleans: how many are true.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub true_count: Option<u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct StepPlan {
    pub step: String,
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub window: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub learn: Option<String>,
    #[serde(rename = "where", skip_serializing_if = "Option::is_none", default)]
    pub filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shift: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub speed: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub measures: Option<Vec<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub set: BTreeMap<String, String>,
    /// The series of explicit `series` clauses, one by one.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub series: Vec<BTreeMap<String, String>>,
    /// The `series` clauses with a `{A..B}` range: as written, with how
    /// many series each made (each one is in `tables[].series`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub series_ranges: Vec<SeriesRangePlan>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub schedule: Option<String>,
    /// Each measure's type and fully resolved model.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub models: BTreeMap<String, String>,
    /// Records this step contributes to (after merging and anomalies).
    pub records: u64,
}

/// `clause: device = "sim-{0001..2000}", site = "lab"` and `series: 2000`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SeriesRangePlan {
    pub clause: String,
    pub series: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct LabelPlan {
    pub anomaly: String,
    /// `as NAME`; absent for an unnamed anomaly.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    pub line: usize,
    pub kind: String,
    pub table: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub measure: Option<String>,
    pub series: BTreeMap<String, String>,
    pub from: String,
    pub to: String,
}

/// An `expect` block in words: `query: influxql SELECT ...`, `window: now-1h .. now+30m`,
/// `condition: value >= 1`, `timing: within 5m every 10s`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ExpectationPlan {
    pub expect: String,
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub window: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub alert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub labels: Option<String>,
    pub condition: String,
    pub timing: String,
}

/// A warning in the plan: `outatime::anomaly::no_effect` at line 19.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct WarningPlan {
    pub code: String,
    pub line: usize,
    pub message: String,
}

/// Summarises a run (at anchor 0) as it streams by.
#[derive(Default)]
pub(crate) struct Summary {
    /// By (table, series).
    series: BTreeMap<(u16, u32), SeriesStats>,
    /// Records by step line.
    by_step: BTreeMap<usize, u64>,
    pub records: u64,
}

struct SeriesStats {
    records: u64,
    first: (i64, bool),
    last: (i64, bool),
    measures: BTreeMap<u16, Stats>,
}

#[derive(Default)]
struct Stats {
    count: u64,
    min: f64,
    max: f64,
    sum: f64,
    trues: u64,
    shape: sparkline::Shape,
}

impl Sink for Summary {
    fn record(&mut self, record: &Record, _: &Catalog) -> std::io::Result<()> {
        self.records += 1;
        for line in &record.steps {
            *self.by_step.entry(*line).or_default() += 1;
        }
        let s = self
            .series
            .entry((record.table, record.series))
            .or_insert_with(|| SeriesStats {
                records: 0,
                first: (record.time, record.relative),
                last: (record.time, record.relative),
                measures: BTreeMap::new(),
            });
        s.records += 1;
        s.last = (record.time, record.relative);
        for (m, v) in &record.measures {
            let st = s.measures.entry(*m).or_default();
            if let Some(x) = v.as_f64() {
                if st.count == 0 || x < st.min {
                    st.min = x;
                }
                if st.count == 0 || x > st.max {
                    st.max = x;
                }
                st.sum += x;
                st.shape
                    .add(i128::from(record.time) - i128::from(s.first.0), x);
            }
            if *v == Value::Boolean(true) {
                st.trues += 1;
            }
            st.count += 1;
        }
        Ok(())
    }
}

/// Both sinks at once.
pub(crate) struct Tee<'a>(pub &'a mut dyn Sink, pub &'a mut dyn Sink);

impl Sink for Tee<'_> {
    fn record(&mut self, record: &Record, catalog: &Catalog) -> std::io::Result<()> {
        self.0.record(record, catalog)?;
        self.1.record(record, catalog)
    }
}

/// What `plan` needs besides the run.
pub(crate) struct PlanInputs<'a> {
    pub scenario: &'a Scenario,
    pub scenario_file: String,
    pub scenario_digest: String,
    pub prepared: &'a crate::compile::Prepared,
    pub summary: Summary,
    pub hits: Vec<Hit>,
    pub stream_digest: String,
}

/// The plan of one run at the epoch: the scenario's sources, tables (each
/// series summed up), steps, labels and warnings.
pub(crate) fn build(inputs: PlanInputs<'_>) -> Plan {
    let PlanInputs {
        scenario,
        prepared,
        summary,
        hits,
        ..
    } = &inputs;
    // With redaction, the scenario as compiled: `where` shows pseudonyms.
    let scenario = &prepared.redacted.as_ref().unwrap_or(scenario);
    let catalog = &prepared.catalog;
    Plan {
        format: FORMAT.into(),
        scenario: scenario.title.clone(),
        scenario_file: inputs.scenario_file.clone(),
        scenario_digest: inputs.scenario_digest.clone(),
        seed: scenario.seed,
        anchor: AnchorPolicy {
            align: scenario.anchor_align.to_string(),
            now: format!(
                "bound when records are produced (--anchor, or the wall clock at apply), rounded down to a multiple of {} since the epoch",
                scenario.anchor_align
            ),
        },
        sources: source_plans(scenario, prepared),
        tables: table_plans(scenario, catalog, summary),
        steps: scenario
            .steps
            .iter()
            .map(|s| {
                step_plan(
                    s,
                    summary.by_step.get(&s.line()).copied().unwrap_or(0),
                    scenario,
                )
            })
            .collect(),
        labels: label_plans(scenario, catalog, hits),
        expectations: scenario
            .expectations
            .iter()
            .map(words::expectation_plan)
            .collect(),
        warnings: prepared
            .warnings
            .iter()
            .map(|w| WarningPlan {
                code: format!("outatime::{}", w.code()),
                line: w.line(),
                message: w.message(),
            })
            .collect(),
        records: summary.records,
        stream_digest: inputs.stream_digest.clone(),
    }
}

/// Every source: its kind, path, and what reading it gave (the digest
/// that pins its files, rows, bad rows).
fn source_plans(
    scenario: &Scenario,
    prepared: &crate::compile::Prepared,
) -> BTreeMap<String, SourcePlan> {
    scenario
        .sources
        .values()
        .map(|s| {
            let read = prepared.sources.get(&s.name);
            let plan = SourcePlan {
                kind: match s.kind {
                    SourceKind::Csv => "csv",
                    SourceKind::Jsonl => "jsonl",
                    SourceKind::Unload => "unload",
                }
                .into(),
                path: s.path_written.clone(),
                digest: read
                    .map_or_else(|| "unread (no step uses it)".into(), |r| r.digest.clone()),
                rows: read.map_or(0, |r| r.rows),
                bad_rows: read.map_or(0, |r| r.bad_rows),
            };
            (s.name.clone(), plan)
        })
        .collect()
}

/// Every table of the catalogue: its layout, measures and dimensions,
/// and each series as the run summed it up.
fn table_plans(
    scenario: &Scenario,
    catalog: &Catalog,
    summary: &Summary,
) -> BTreeMap<String, TablePlan> {
    let mut tables = BTreeMap::new();
    for (t, cat) in catalog.tables.iter().enumerate() {
        let model = &scenario.tables[&cat.name];
        let series: Vec<SeriesPlan> = summary
            .series
            .range((t as u16, 0)..=(t as u16, u32::MAX))
            .map(|((_, rank), s)| series_plan(cat, *rank, s))
            .collect();
        let mut dimensions: Vec<String> = cat
            .series
            .iter()
            .flat_map(|s| s.dims.iter().map(|(k, _)| k.clone()))
            .collect();
        dimensions.sort();
        dimensions.dedup();
        tables.insert(
            cat.name.clone(),
            TablePlan {
                target: cat.target.clone(),
                layout: match model.layout {
                    Layout::Multi => "multi".into(),
                    Layout::Single => "single".into(),
                },
                measure_name: (model.layout == Layout::Multi).then(|| model.measure_name.clone()),
                measures: cat
                    .measures
                    .iter()
                    .map(|(n, ty)| (n.clone(), ty.name().to_string()))
                    .collect(),
                dimensions,
                records: series.iter().map(|s| s.records).sum(),
                series,
            },
        );
    }
    tables
}

/// One series of a table: its records, first and last times, and each
/// measure's count, range, mean and shape.
fn series_plan(cat: &crate::record::TableCatalog, rank: u32, s: &SeriesStats) -> SeriesPlan {
    SeriesPlan {
        dimensions: cat.series[rank as usize].dims.iter().cloned().collect(),
        records: s.records,
        first: time_words(s.first.0, s.first.1),
        last: time_words(s.last.0, s.last.1),
        measures: s
            .measures
            .iter()
            .map(|(m, st)| {
                let (name, ty) = &cat.measures[*m as usize];
                let numeric = ty.is_numeric();
                let summary = MeasureSummary {
                    count: st.count,
                    min: numeric.then_some(st.min),
                    max: numeric.then_some(st.max),
                    mean: numeric.then(|| st.sum / st.count.max(1) as f64),
                    sparkline: numeric
                        .then(|| st.shape.draw(i128::from(s.last.0) - i128::from(s.first.0))),
                    true_count: (*ty == crate::model::MeasureType::Boolean).then_some(st.trues),
                };
                (name.clone(), summary)
            })
            .collect(),
    }
}

/// Every anomaly's window on each series it touched.
fn label_plans(scenario: &Scenario, catalog: &Catalog, hits: &[Hit]) -> Vec<LabelPlan> {
    labels::labels(scenario, catalog, hits)
        .into_iter()
        .map(|label| {
            let a = label.anomaly;
            LabelPlan {
                anomaly: format!(
                    "{} on {}{}",
                    a.kind.name(),
                    a.table,
                    a.measure
                        .as_deref()
                        .map(|m| format!(".{m}"))
                        .unwrap_or_default()
                ),
                name: a.name.clone(),
                line: a.line,
                kind: kind_words(&a.kind),
                table: label.table.target.clone(),
                measure: a.measure.clone(),
                series: label.series.dims.iter().cloned().collect(),
                from: point_words(label.from),
                to: point_words(label.to),
            }
        })
        .collect()
}

fn step_plan(step: &Step, records: u64, scenario: &Scenario) -> StepPlan {
    let mut plan = StepPlan {
        step: step.title(),
        line: step.line(),
        window: None,
        learn: None,
        filter: None,
        shift: None,
        speed: None,
        measures: None,
        set: BTreeMap::new(),
        series: Vec::new(),
        series_ranges: Vec::new(),
        schedule: None,
        models: BTreeMap::new(),
        records,
    };
    match step {
        Step::Replay(r) => {
            plan.window = Some(match r.window {
                Some(w) => format!("{} .. {}", w.start, w.end),
                None => "first .. last record".into(),
            });
            plan.filter = filter_words(&r.filter);
            plan.shift = shift_words(&r.shift).or(Some("none (recorded times)".into()));
            plan.speed = Some(r.speed);
            // Defaults explicit: without `measures`, every measure of the source.
            plan.measures = r.measures.clone().or_else(|| {
                scenario.sources.get(&r.source).map(|s| match &s.measures {
                    crate::model::SourceMeasures::Wide(defs) => {
                        defs.iter().map(|d| d.table_name.clone()).collect()
                    }
                    crate::model::SourceMeasures::Long { .. } => {
                        vec!["all (named by the data)".to_string()]
                    }
                })
            });
            plan.set = r.set.clone();
        }
        Step::Generate(g) => {
            // Compact where the author was compact: a clause with a range
            // is listed as written, an explicit one as its series.
            let mut made = g.series.iter();
            for clause in &g.series_clauses {
                let series = made.by_ref().take(clause.count);
                if clause.ranged {
                    plan.series_ranges.push(SeriesRangePlan {
                        clause: clause_words(&clause.written),
                        series: series.count(),
                    });
                } else {
                    plan.series.extend(series.cloned());
                }
            }
            plan.schedule = Some(schedule_words(&g.schedule));
            plan.models = g
                .measures
                .iter()
                .map(|m| {
                    (
                        m.name.clone(),
                        format!("{} = {}", m.ty.name(), model_words(&m.model)),
                    )
                })
                .collect();
        }
        Step::Extrapolate(e) => {
            plan.learn = Some(format!("{} .. {}", e.learn.start, e.learn.end));
            plan.filter = filter_words(&e.filter);
            plan.shift = shift_words(&e.shift);
            plan.schedule = Some(schedule_words(&e.schedule));
            plan.models.insert(
                e.measure.clone(),
                format!("{} = {}", e.ty.name(), model_words(&e.model)),
            );
            plan.set = e.set.clone();
        }
    }
    plan
}
