//! What changed between two plans, for review: steps, series, labels and
//! sources added (+), removed (-) or changed (~ old → new), sorted and stable.

use std::collections::BTreeMap;

use crate::compile::SerializeError;
use crate::compile::plan::Plan;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Marker {
    Added,
    Removed,
    Changed,
}

impl Marker {
    fn sign(&self) -> char {
        match self {
            Marker::Added => '+',
            Marker::Removed => '-',
            Marker::Changed => '~',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Row {
    pub section: &'static str,
    pub key: String,
    pub marker: Marker,
    pub detail: String,
}

#[derive(Debug, Default)]
pub(crate) struct PlanDiff {
    pub rows: Vec<Row>,
    pub records: (u64, u64),
}

impl PlanDiff {
    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.records.0 == self.records.1
    }

    pub(crate) fn render_text(&self) -> String {
        if self.is_empty() {
            return "no changes\n".into();
        }
        let mut out = String::new();
        let mut section = "";
        for row in &self.rows {
            if row.section != section {
                section = row.section;
                out.push_str(&format!("{section}\n"));
            }
            out.push_str(&format!("  {} {}", row.marker.sign(), row.key));
            if !row.detail.is_empty() {
                out.push_str(&format!(": {}", row.detail));
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "records: {}\n",
            count_change(self.records.0, self.records.1)
        ));
        out
    }

    pub(crate) fn render_markdown(&self) -> String {
        if self.is_empty() {
            return "**outatime plan**: no changes\n".into();
        }
        let mut out = format!(
            "**outatime plan**: records {}\n\n| | section | what | change |\n|---|---|---|---|\n",
            count_change(self.records.0, self.records.1)
        );
        for row in &self.rows {
            out.push_str(&format!(
                "| {} | {} | `{}` | {} |\n",
                row.marker.sign(),
                row.section,
                row.key.replace('|', "\\|"),
                row.detail.replace('|', "\\|")
            ));
        }
        out
    }
}

fn count_change(old: u64, new: u64) -> String {
    if old == new {
        format!("{new} (unchanged)")
    } else {
        format!("{old} → {new} ({:+})", new as i128 - old as i128)
    }
}

/// Fields of a section's entries, by entry: what `compare` compares.
type Section = BTreeMap<String, BTreeMap<String, String>>;

/// Compares two plans section by section.
pub(crate) fn diff(old: &Plan, new: &Plan) -> Result<PlanDiff, SerializeError> {
    let mut rows = Vec::new();
    let keyed = |plan: &Plan| -> Result<Section, SerializeError> {
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
                Ok((key, fields(to_json("steps", s)?)))
            })
            .collect()
    };
    compare("steps", &keyed(old)?, &keyed(new)?, &mut rows);
    let series = |plan: &Plan| -> Result<Section, SerializeError> {
        let mut out = Section::new();
        for (table, t) in &plan.tables {
            for s in &t.series {
                let dims: Vec<String> = s
                    .dimensions
                    .iter()
                    .map(|(k, v)| format!("{k}={v:?}"))
                    .collect();
                let key = format!("{table} {{{}}}", dims.join(", "));
                let mut f = BTreeMap::new();
                f.insert("records".to_string(), s.records.to_string());
                f.insert("first".to_string(), s.first.clone());
                f.insert("last".to_string(), s.last.clone());
                for (m, st) in &s.measures {
                    f.insert(m.to_string(), compact(&to_json("series", st)?));
                }
                out.insert(key, f);
            }
        }
        Ok(out)
    };
    compare("series", &series(old)?, &series(new)?, &mut rows);
    let labels = |plan: &Plan| -> Section {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        plan.labels
            .iter()
            .map(|l| {
                let dims: Vec<String> =
                    l.series.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                let base = format!("{} {{{}}}", l.anomaly, dims.join(", "));
                // Two anomalies of one kind on one series stay apart.
                let n = seen.entry(base.clone()).or_default();
                *n += 1;
                let key = if *n == 1 {
                    base
                } else {
                    format!("{base} (#{n})")
                };
                let mut f = BTreeMap::new();
                f.insert("kind".to_string(), l.kind.clone());
                f.insert("window".to_string(), format!("{} .. {}", l.from, l.to));
                (key, f)
            })
            .collect()
    };
    compare("labels", &labels(old), &labels(new), &mut rows);
    let sources = |plan: &Plan| -> Result<Section, SerializeError> {
        plan.sources
            .iter()
            .map(|(name, s)| Ok((name.clone(), fields(to_json("sources", s)?))))
            .collect()
    };
    compare("sources", &sources(old)?, &sources(new)?, &mut rows);
    let tables = |plan: &Plan| -> Result<Section, SerializeError> {
        plan.tables
            .iter()
            .map(|(name, t)| {
                let mut value = to_json("tables", t)?;
                // Series have their own section.
                if let Some(map) = value.as_object_mut() {
                    map.remove("series");
                }
                Ok((name.clone(), fields(value)))
            })
            .collect()
    };
    compare("tables", &tables(old)?, &tables(new)?, &mut rows);
    let header = |plan: &Plan| -> Result<Section, SerializeError> {
        let mut value = to_json("header", plan)?;
        if let Some(map) = value.as_object_mut() {
            for section in ["sources", "tables", "steps", "labels", "records"] {
                map.remove(section);
            }
        }
        Ok(BTreeMap::from([("scenario".to_string(), fields(value))]))
    };
    compare("plan", &header(old)?, &header(new)?, &mut rows);
    Ok(PlanDiff {
        rows,
        records: (old.records, new.records),
    })
}

fn to_json(
    section: &'static str,
    value: &impl serde::Serialize,
) -> Result<serde_json::Value, SerializeError> {
    serde_json::to_value(value).map_err(|e| SerializeError::Diff {
        section,
        reason: e.to_string(),
    })
}

/// An entry's fields as text, but its line: moving a statement is no change.
fn fields(v: serde_json::Value) -> BTreeMap<String, String> {
    match v {
        serde_json::Value::Object(map) => map
            .into_iter()
            .filter(|(k, _)| k != "line")
            .map(|(k, v)| (k, compact(&v)))
            .collect(),
        other => BTreeMap::from([(String::new(), compact(&other))]),
    }
}

fn compact(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compare(section: &'static str, old: &Section, new: &Section, rows: &mut Vec<Row>) {
    for (key, fields) in old {
        match new.get(key) {
            None => rows.push(Row {
                section,
                key: key.clone(),
                marker: Marker::Removed,
                detail: fields
                    .get("records")
                    .map(|r| format!("{r} records"))
                    .unwrap_or_default(),
            }),
            Some(now) if now != fields => {
                let mut changes = Vec::new();
                for (field, before) in fields {
                    match now.get(field) {
                        Some(after) if after == before => {}
                        Some(after) if field == "records" => {
                            let (b, a) = (
                                before.parse::<i128>().unwrap_or(0),
                                after.parse::<i128>().unwrap_or(0),
                            );
                            changes.push(format!("records {before} → {after} ({:+})", a - b));
                        }
                        Some(after) => changes.push(format!("{field} {before} → {after}")),
                        None => changes.push(format!("{field} {before} → (none)")),
                    }
                }
                for (field, after) in now {
                    if !fields.contains_key(field) {
                        changes.push(format!("{field} (none) → {after}"));
                    }
                }
                rows.push(Row {
                    section,
                    key: key.clone(),
                    marker: Marker::Changed,
                    detail: changes.join("; "),
                });
            }
            Some(_) => {}
        }
    }
    for (key, fields) in new {
        if !old.contains_key(key) {
            rows.push(Row {
                section,
                key: key.clone(),
                marker: Marker::Added,
                detail: fields
                    .get("records")
                    .map(|r| format!("{r} records"))
                    .unwrap_or_default(),
            });
        }
    }
    rows.sort_by(|a, b| (a.section, &a.key).cmp(&(b.section, &b.key)));
}
