//! What the endpoint holds: databases (v2 buckets and v3 databases are the
//! same thing here, one namespace) with their retention, and their points
//! keyed the way InfluxDB keys them: measurement, tag set, field key and
//! time. A second write of a key replaces its value (last write wins). A
//! measurement's field keeps the type it was first written with; a line
//! with another type for it is refused, as InfluxDB refuses it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::line_protocol::{FieldKind, FieldValue, Line};
use super::{Database, Point};

#[derive(Default)]
pub(super) struct Store {
    databases: BTreeMap<String, Held>,
    created: u64,
}

struct Held {
    id: String,
    retention: Option<Duration>,
    /// Field types by measurement and field key.
    kinds: BTreeMap<String, BTreeMap<String, FieldKind>>,
    points: BTreeMap<Key, FieldValue>,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    measurement: String,
    tags: Vec<(String, String)>,
    field: String,
    time_ns: i64,
}

/// What a write did with its lines.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// Lines with a field whose type differs from the stored one: the
    /// line's number and InfluxDB's words.
    pub conflicts: Vec<(usize, String)>,
    /// Lines older than the retention allows: the line numbers.
    pub beyond_retention: Vec<usize>,
}

impl Store {
    /// Creates a database; `false` when one of that name exists.
    pub fn create(&mut self, database: &Database) -> bool {
        if self.databases.contains_key(&database.name) {
            return false;
        }
        self.created += 1;
        let held = Held {
            id: format!("{:016x}", 0x0b0c_ce70_0000_0000 + self.created),
            retention: database.retention,
            kinds: BTreeMap::new(),
            points: BTreeMap::new(),
        };
        self.databases.insert(database.name.clone(), held);
        true
    }

    /// The database's id (16 hex digits, as v2 bucket ids are) and retention.
    pub fn get(&self, name: &str) -> Option<(String, Option<Duration>)> {
        self.databases
            .get(name)
            .map(|held| (held.id.clone(), held.retention))
    }

    pub fn list(&self) -> Vec<Database> {
        self.databases
            .iter()
            .map(|(name, held)| Database {
                name: name.clone(),
                retention: held.retention,
            })
            .collect()
    }

    /// Writes the lines into an existing database. With `keep` false, the
    /// lines are checked (types, retention) but their values not kept:
    /// for throughput benches.
    pub fn write(&mut self, database: &str, lines: &[Line], now_ns: i64, keep: bool) -> Outcome {
        let mut outcome = Outcome::default();
        let Some(held) = self.databases.get_mut(database) else {
            return outcome;
        };
        let oldest = held
            .retention
            .map(|r| now_ns.saturating_sub(i64::try_from(r.as_nanos()).unwrap_or(i64::MAX)));
        for line in lines {
            if oldest.is_some_and(|oldest| line.time_ns < oldest) {
                outcome.beyond_retention.push(line.number);
                continue;
            }
            let kinds = held.kinds.get(&line.measurement);
            let conflict = line.fields.iter().find_map(|(field, value)| {
                let stored = *kinds?.get(field)?;
                (stored != value.kind()).then(|| {
                    format!(
                        "field type conflict: input field \"{field}\" on measurement \"{}\" \
                         is type {}, already exists as type {}",
                        line.measurement,
                        value.kind().name(),
                        stored.name()
                    )
                })
            });
            if let Some(message) = conflict {
                outcome.conflicts.push((line.number, message));
                continue;
            }
            let tags: Vec<(String, String)> = line
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let kinds = held.kinds.entry(line.measurement.clone()).or_default();
            for (field, value) in &line.fields {
                if !kinds.contains_key(field) {
                    kinds.insert(field.clone(), value.kind());
                }
                if keep {
                    let key = Key {
                        measurement: line.measurement.clone(),
                        tags: tags.clone(),
                        field: field.clone(),
                        time_ns: line.time_ns,
                    };
                    held.points.insert(key, value.clone());
                }
            }
        }
        outcome
    }

    /// The database's points, sorted by measurement, tags, field and time.
    pub fn points(&self, database: &str) -> Vec<Point> {
        let Some(held) = self.databases.get(database) else {
            return Vec::new();
        };
        held.points
            .iter()
            .map(|(key, value)| Point {
                measurement: key.measurement.clone(),
                tags: key.tags.iter().cloned().collect(),
                field: key.field.clone(),
                time_ns: key.time_ns,
                value: value.clone(),
            })
            .collect()
    }
}
