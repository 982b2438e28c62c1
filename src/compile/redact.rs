//! `redact`: the values of a source's redacted columns become keyed
//! pseudonyms (`sources::redact::Redactor`) as rows are read, before any
//! step sees them, so no record, plan or label holds an original. A
//! `where` that names a redacted dimension compares pseudonyms: its
//! literals are pseudonymised with the same key, so it still selects the
//! rows whose original value it names, and the plan echoes pseudonyms.
//!
//! The key is read from the environment here, when records are made, never
//! by `check`, and never written anywhere.

use std::collections::BTreeMap;

use super::CompileError;
use crate::model::{ConditionTest, Filter, Scenario, Source, SourceMeasures, Step};
use crate::sources::SourceRow;
use crate::sources::redact::Redactor;

/// One source's redaction: its key and which of a row's values it hides.
pub(super) struct SourceRedaction {
    redactor: Redactor,
    /// Indices into `Source::dimensions`.
    dimensions: Vec<usize>,
    /// Measure columns (wide rows) whose values are hidden.
    measures: Vec<String>,
    /// Long rows whose varchar values are hidden, whatever the measure.
    long_values: bool,
    /// The table's names of the hidden dimensions.
    dimension_names: Vec<String>,
}

impl SourceRedaction {
    fn new(source: &Source, salt: &str) -> Option<SourceRedaction> {
        let redact = source.redact.as_ref()?;
        let hidden = |c: &str| redact.columns.iter().any(|r| r == c);
        let dimensions: Vec<usize> = (0..source.dimensions.len())
            .filter(|&i| hidden(&source.dimensions[i]))
            .collect();
        let (measures, long_values) = match &source.measures {
            SourceMeasures::Wide(defs) => (
                defs.iter()
                    .filter(|d| hidden(&d.name))
                    .map(|d| d.name.clone())
                    .collect(),
                false,
            ),
            SourceMeasures::Long { value_column, .. } => (Vec::new(), hidden(value_column)),
        };
        Some(SourceRedaction {
            redactor: Redactor::new(salt.as_bytes()),
            dimension_names: dimensions
                .iter()
                .map(|&i| source.dimension_names[i].clone())
                .collect(),
            dimensions,
            measures,
            long_values,
        })
    }

    /// The row with its hidden values replaced by their pseudonyms.
    pub(super) fn row(&self, row: &SourceRow) -> SourceRow {
        let mut row = row.clone();
        for &i in &self.dimensions {
            if let Some(value) = row.dimensions.get_mut(i) {
                *value = self.redactor.pseudonym(value);
            }
        }
        for (name, value) in &mut row.measures {
            let hidden = self.long_values || self.measures.iter().any(|m| m == name);
            if let (true, crate::model::Scalar::Varchar(text)) = (hidden, &mut *value) {
                *text = self.redactor.pseudonym(text);
            }
        }
        row
    }

    /// `where` literals on hidden dimensions, pseudonymised.
    fn filter(&self, filter: &mut Filter) {
        for condition in &mut filter.conditions {
            if !self.dimension_names.contains(&condition.dimension) {
                continue;
            }
            let p = |v: &mut String| *v = self.redactor.pseudonym(v);
            match &mut condition.test {
                ConditionTest::Equals(v) | ConditionTest::NotEquals(v) => p(v),
                ConditionTest::In(list) => list.iter_mut().for_each(p),
            }
        }
    }
}

/// Every redacting source's redaction, by source name.
pub(super) struct Redactions {
    pub by_source: BTreeMap<String, SourceRedaction>,
}

impl Redactions {
    /// Reads each redacting source's key from `env`; `None` when no source
    /// redacts anything.
    pub(super) fn new(
        scenario: &Scenario,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Redactions>, CompileError> {
        let mut by_source = BTreeMap::new();
        for source in scenario.sources.values() {
            let Some(redact) = &source.redact else {
                continue;
            };
            let salt = env(&redact.salt_env)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| CompileError::RedactSalt {
                    source_name: source.name.clone(),
                    variable: redact.salt_env.clone(),
                })?;
            if let Some(r) = SourceRedaction::new(source, &salt) {
                by_source.insert(source.name.clone(), r);
            }
        }
        Ok((!by_source.is_empty()).then_some(Redactions { by_source }))
    }

    /// The scenario with every `where` literal on a hidden dimension
    /// pseudonymised: steps by the source they read, anomalies by the
    /// sources that feed their table. An anomaly's table may be fed by
    /// sources with different keys: its literal then stands for each of
    /// their pseudonyms (`==` becomes `in`), since a series does not say
    /// which source it came from.
    pub(super) fn scenario(&self, scenario: &Scenario) -> Result<Scenario, CompileError> {
        let mut out = scenario.clone();
        // The redacting sources that feed each table, each once, in step order.
        let mut feeding: BTreeMap<String, Vec<(&str, &SourceRedaction)>> = BTreeMap::new();
        for step in &mut out.steps {
            let table = step.table().to_string();
            let (source, filter) = match step {
                Step::Replay(r) => (&r.source, &mut r.filter),
                Step::Extrapolate(e) => (&e.source, &mut e.filter),
                Step::Generate(_) => continue,
            };
            if let Some((name, r)) = self.by_source.get_key_value(source) {
                r.filter(filter);
                let feeders = feeding.entry(table).or_default();
                if !feeders.iter().any(|(n, _)| *n == name.as_str()) {
                    feeders.push((name.as_str(), r));
                }
            }
        }
        for anomaly in &mut out.anomalies {
            let feeders = feeding.get(&anomaly.table).map_or(&[][..], Vec::as_slice);
            for condition in &mut anomaly.filter.conditions {
                let hiders: Vec<(&str, &SourceRedaction)> = feeders
                    .iter()
                    .filter(|(_, r)| r.dimension_names.contains(&condition.dimension))
                    .copied()
                    .collect();
                if hiders.is_empty() {
                    continue;
                }
                // Each literal's pseudonyms, one a distinct key.
                let pseudonyms = |v: &str| -> Vec<String> {
                    let mut all: Vec<String> = Vec::new();
                    for (_, r) in &hiders {
                        let p = r.redactor.pseudonym(v);
                        if !all.contains(&p) {
                            all.push(p);
                        }
                    }
                    all
                };
                condition.test = match &condition.test {
                    ConditionTest::Equals(v) => match pseudonyms(v).as_slice() {
                        [one] => ConditionTest::Equals(one.clone()),
                        many => ConditionTest::In(many.to_vec()),
                    },
                    ConditionTest::In(list) => {
                        ConditionTest::In(list.iter().flat_map(|v| pseudonyms(v)).collect())
                    }
                    ConditionTest::NotEquals(v) => match pseudonyms(v).as_slice() {
                        [one] => ConditionTest::NotEquals(one.clone()),
                        // `!=` of two pseudonyms would need a "not in" the
                        // language does not have: refuse rather than
                        // match every series.
                        _ => {
                            return Err(CompileError::RedactKeysDiffer {
                                line: anomaly.line,
                                dimension: condition.dimension.clone(),
                                first: hiders[0].0.to_string(),
                                second: hiders[1].0.to_string(),
                            });
                        }
                    },
                };
            }
        }
        Ok(out)
    }
}
