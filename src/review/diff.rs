//! What changed between two plans, for review, in the order a reviewer
//! asks: first what changed in the scenario (steps, anomalies, sources,
//! tables, the plan's header), then what that did to the series, in
//! aggregate (how many changed, by how much) with a few examples, then
//! every changed series. Rendering (`render`) keeps lines short and lists
//! folded; the data here is complete.

use std::collections::BTreeMap;

use crate::plan::SerializeError;
use crate::plan::{LabelPlan, Plan};

mod render;
mod series;
mod words;

pub(crate) use render::Limits;
pub(crate) use series::{MeasureChange, SeriesChange, SeriesEffect};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Marker {
    Added,
    Removed,
    Changed,
}

impl Marker {
    fn sign(self) -> char {
        match self {
            Marker::Added => '+',
            Marker::Removed => '-',
            Marker::Changed => '~',
        }
    }
}

/// What kind of statement or part of the plan a [`Change`] is about, in
/// the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Part {
    Step,
    Anomaly,
    Expectation,
    Source,
    Table,
    Plan,
}

impl Part {
    fn word(self) -> &'static str {
        match self {
            Part::Step => "step",
            Part::Anomaly => "anomaly",
            Part::Expectation => "expect",
            Part::Source => "source",
            Part::Table => "table",
            Part::Plan => "plan",
        }
    }
}

/// One thing the scenario changed: `~ step generate into devices`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub part: Part,
    pub key: String,
    pub marker: Marker,
    /// For a changed entry, what changed; for an added or removed one,
    /// what it is (an added step shows its schedule and models).
    pub details: Vec<Detail>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Detail {
    /// A field of an added or removed entry: `schedule: now-6h .. now every 1m`.
    Field { name: String, value: String },
    /// A field that changed: `models.temperature: A → B`.
    Changed {
        name: String,
        old: String,
        new: String,
    },
    /// A list field of an added or removed entry.
    Items { name: String, items: Vec<String> },
    /// A list field whose elements changed.
    List {
        name: String,
        added: Vec<String>,
        removed: Vec<String>,
    },
}

#[derive(Debug)]
pub(crate) struct PlanDiff {
    /// In [`Part`] order, then by key.
    pub scenario: Vec<Change>,
    pub series: SeriesEffect,
    pub records: (u64, u64),
}

impl PlanDiff {
    pub(crate) fn is_empty(&self) -> bool {
        self.scenario.is_empty() && self.series.is_empty() && self.records.0 == self.records.1
    }

    /// The text form, folded for a terminal and `plan --check`.
    pub(crate) fn render_text(&self) -> String {
        render::text(self, &Limits::REVIEW)
    }

    /// The markdown form, under 60,000 characters (a PR comment).
    pub(crate) fn render_markdown(&self) -> String {
        render::markdown(self, &Limits::REVIEW)
    }

    /// Every change, nothing folded or shortened (`--full FILE`).
    pub(crate) fn render_full(&self, markdown: bool) -> String {
        if markdown {
            render::markdown(self, &Limits::FULL)
        } else {
            render::text(self, &Limits::FULL)
        }
    }
}

/// An entry's fields as JSON values, by entry key.
type Section = BTreeMap<String, serde_json::Map<String, serde_json::Value>>;

/// Compares two plans.
pub(crate) fn diff(old: &Plan, new: &Plan) -> Result<PlanDiff, SerializeError> {
    let mut scenario = Vec::new();
    compare(Part::Step, &steps(old)?, &steps(new)?, &mut scenario);
    compare(
        Part::Anomaly,
        &anomalies(&old.labels),
        &anomalies(&new.labels),
        &mut scenario,
    );
    let expectations = |plan: &Plan| -> Result<Section, SerializeError> {
        plan.expectations
            .iter()
            .map(|e| {
                let mut fields = object(to_json("expectations", e)?);
                // Moving a statement is no change; the title is the key.
                fields.remove("line");
                fields.remove("expect");
                Ok((e.expect.clone(), fields))
            })
            .collect()
    };
    compare(
        Part::Expectation,
        &expectations(old)?,
        &expectations(new)?,
        &mut scenario,
    );
    let sources = |plan: &Plan| -> Result<Section, SerializeError> {
        plan.sources
            .iter()
            .map(|(name, s)| Ok((name.clone(), object(to_json("sources", s)?))))
            .collect()
    };
    compare(Part::Source, &sources(old)?, &sources(new)?, &mut scenario);
    let tables = |plan: &Plan| -> Result<Section, SerializeError> {
        plan.tables
            .iter()
            .map(|(name, t)| {
                let mut fields = object(to_json("tables", t)?);
                // Series have their own part, and records their own line.
                fields.remove("series");
                fields.remove("records");
                Ok((name.clone(), fields))
            })
            .collect()
    };
    compare(Part::Table, &tables(old)?, &tables(new)?, &mut scenario);
    let header = |plan: &Plan| -> Result<Section, SerializeError> {
        let mut fields = object(to_json("header", plan)?);
        for section in [
            "sources",
            "tables",
            "steps",
            "labels",
            "expectations",
            "records",
        ] {
            fields.remove(section);
        }
        Ok(BTreeMap::from([("header".to_string(), fields)]))
    };
    compare(Part::Plan, &header(old)?, &header(new)?, &mut scenario);
    scenario.sort_by(|a, b| (a.part, &a.key).cmp(&(b.part, &b.key)));
    Ok(PlanDiff {
        scenario,
        series: series::effect(old, new),
        records: (old.records, new.records),
    })
}

/// Steps by title, a second of one title as `(#2)`.
fn steps(plan: &Plan) -> Result<Section, SerializeError> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    plan.steps
        .iter()
        .map(|s| {
            let n = seen.entry(s.step.clone()).or_default();
            *n += 1;
            let key = if *n == 1 {
                s.step.clone()
            } else {
                format!("{} (#{n})", s.step)
            };
            let mut fields = object(to_json("steps", s)?);
            // Moving a statement is no change.
            fields.remove("line");
            Ok((key, fields))
        })
        .collect()
}

/// The plan has labels, one an anomaly and series; a reviewer thinks in
/// anomalies: `spike on devices.temperature` with its kind, its windows
/// and the series it touches. Two anomalies of one name stay apart by the
/// order of their lines.
fn anomalies(labels: &[LabelPlan]) -> Section {
    let mut lines: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for label in labels {
        let seen = lines.entry(&label.anomaly).or_default();
        if !seen.contains(&label.line) {
            seen.push(label.line);
        }
    }
    /// An anomaly's kinds, windows and series, each as text.
    type Gathered = (Vec<String>, Vec<String>, Vec<String>, Option<String>);
    let mut grouped: BTreeMap<String, Gathered> = BTreeMap::new();
    for label in labels {
        let rank = lines[label.anomaly.as_str()]
            .iter()
            .position(|l| *l == label.line)
            .unwrap_or(0);
        let key = if rank == 0 {
            label.anomaly.clone()
        } else {
            format!("{} (#{})", label.anomaly, rank + 1)
        };
        let (kinds, windows, series, name) = grouped.entry(key).or_default();
        name.clone_from(&label.name);
        for (list, value) in [
            (&mut *kinds, label.kind.clone()),
            (&mut *windows, format!("{} .. {}", label.from, label.to)),
        ] {
            if !list.contains(&value) {
                list.push(value);
            }
        }
        series.push(words::dimensions(&label.series));
    }
    grouped
        .into_iter()
        .map(|(key, (kinds, windows, series, name))| {
            let mut fields = serde_json::Map::new();
            if let Some(name) = name {
                fields.insert("name".into(), serde_json::Value::String(name));
            }
            fields.insert("kind".into(), one_or_list(kinds));
            fields.insert("window".into(), one_or_list(windows));
            fields.insert("series".into(), serde_json::Value::from(series));
            (key, fields)
        })
        .collect()
}

fn one_or_list(mut values: Vec<String>) -> serde_json::Value {
    if values.len() == 1 {
        serde_json::Value::String(values.remove(0))
    } else {
        serde_json::Value::from(values)
    }
}

fn to_json(
    section: &'static str,
    value: &impl serde::Serialize,
) -> Result<serde_json::Value, SerializeError> {
    serde_json::to_value(value).map_err(|error| SerializeError::Diff { section, error })
}

fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        other => serde_json::Map::from_iter([(String::new(), other)]),
    }
}

fn compare(part: Part, old: &Section, new: &Section, out: &mut Vec<Change>) {
    for (key, before) in old {
        match new.get(key) {
            None => out.push(Change {
                part,
                key: key.clone(),
                marker: Marker::Removed,
                details: described(before),
            }),
            Some(after) if after != before => out.push(Change {
                part,
                key: key.clone(),
                marker: Marker::Changed,
                details: changes(before, after),
            }),
            Some(_) => {}
        }
    }
    for (key, after) in new {
        if !old.contains_key(key) {
            out.push(Change {
                part,
                key: key.clone(),
                marker: Marker::Added,
                details: described(after),
            });
        }
    }
}

/// An added or removed entry, field by field; a mapping one line a key.
fn described(fields: &serde_json::Map<String, serde_json::Value>) -> Vec<Detail> {
    let mut out = Vec::new();
    // A step's title is its key.
    for (name, value) in fields.iter().filter(|(name, _)| *name != "step") {
        match value {
            serde_json::Value::Array(items) => out.push(Detail::Items {
                name: name.clone(),
                items: items.iter().map(words::json).collect(),
            }),
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (sub, v) in map {
                    out.push(Detail::Field {
                        name: format!("{name}.{sub}"),
                        value: words::json(v),
                    });
                }
            }
            other => out.push(Detail::Field {
                name: name.clone(),
                value: words::json(other),
            }),
        }
    }
    out
}

/// What changed between two versions of an entry: a mapping key by key, a
/// list element by element, anything else old → new.
fn changes(
    old: &serde_json::Map<String, serde_json::Value>,
    new: &serde_json::Map<String, serde_json::Value>,
) -> Vec<Detail> {
    let null = serde_json::Value::Null;
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        let (a, b) = (
            old.get(name).unwrap_or(&null),
            new.get(name).unwrap_or(&null),
        );
        if a == b {
            continue;
        }
        match (a, b) {
            (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
                for detail in changes(a, b) {
                    out.push(match detail {
                        Detail::Changed {
                            name: sub,
                            old,
                            new,
                        } => Detail::Changed {
                            name: format!("{name}.{sub}"),
                            old,
                            new,
                        },
                        Detail::List {
                            name: sub,
                            added,
                            removed,
                        } => Detail::List {
                            name: format!("{name}.{sub}"),
                            added,
                            removed,
                        },
                        other => other,
                    });
                }
            }
            (serde_json::Value::Array(_), _) | (_, serde_json::Value::Array(_)) => {
                let items = |v: &serde_json::Value| -> Vec<String> {
                    match v {
                        serde_json::Value::Array(items) => items.iter().map(words::json).collect(),
                        serde_json::Value::Null => Vec::new(),
                        other => vec![words::json(other)],
                    }
                };
                let (before, after) = (items(a), items(b));
                out.push(Detail::List {
                    name: name.clone(),
                    added: after
                        .iter()
                        .filter(|x| !before.contains(x))
                        .cloned()
                        .collect(),
                    removed: before
                        .iter()
                        .filter(|x| !after.contains(x))
                        .cloned()
                        .collect(),
                });
            }
            _ => out.push(Detail::Changed {
                name: name.clone(),
                old: words::json(a),
                new: words::json(b),
            }),
        }
    }
    out
}
