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

/// What a query found in one measurement and time range (see `query.rs`).
pub(super) struct Selected {
    /// Every tag key of the measurement, sorted.
    pub tag_keys: Vec<String>,
    /// Every field key of the measurement, sorted.
    pub field_keys: Vec<String>,
    /// The series (their values for `tag_keys`, `""` for a tag a series
    /// lacks), sorted by those values; each time's values for
    /// `field_keys`, times ascending.
    pub series: Vec<Series>,
}

/// One series' tag values and rows.
pub(super) type Series = (Vec<String>, Vec<(i64, Vec<Option<FieldValue>>)>);

impl Store {
    /// The points of `measurement` with `from <= time < to`, grouped as
    /// InfluxQL's `GROUP BY *` groups them; `None` for an unknown database.
    pub fn select(
        &self,
        database: &str,
        measurement: &str,
        from: i64,
        to: i64,
    ) -> Option<Selected> {
        let held = self.databases.get(database)?;
        let field_keys: Vec<String> = held
            .kinds
            .get(measurement)
            .map(|kinds| kinds.keys().cloned().collect())
            .unwrap_or_default();
        let of_measurement = || {
            held.points
                .iter()
                .filter(|(k, _)| k.measurement == measurement)
        };
        let tag_keys: Vec<String> = of_measurement()
            .flat_map(|(k, _)| k.tags.iter().map(|(t, _)| t.clone()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut grouped: BTreeMap<Vec<String>, BTreeMap<i64, Vec<Option<FieldValue>>>> =
            BTreeMap::new();
        for (key, value) in of_measurement().filter(|(k, _)| (from..to).contains(&k.time_ns)) {
            let tag_values = tag_keys
                .iter()
                .map(|t| {
                    key.tags
                        .iter()
                        .find(|(k, _)| k == t)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                })
                .collect();
            let row = grouped
                .entry(tag_values)
                .or_default()
                .entry(key.time_ns)
                .or_insert_with(|| vec![None; field_keys.len()]);
            if let Some(at) = field_keys.iter().position(|f| *f == key.field) {
                row[at] = Some(value.clone());
            }
        }
        Some(Selected {
            tag_keys,
            field_keys,
            series: grouped
                .into_iter()
                .map(|(tags, rows)| (tags, rows.into_iter().collect()))
                .collect(),
        })
    }

    /// Sets one value, as another writer would, without a type check: a
    /// new field takes the value's type. `false` for an unknown database.
    pub fn set_point(&mut self, database: &str, point: &Point) -> bool {
        let Some(held) = self.databases.get_mut(database) else {
            return false;
        };
        held.kinds
            .entry(point.measurement.clone())
            .or_default()
            .entry(point.field.clone())
            .or_insert(point.value.kind());
        let key = Key {
            measurement: point.measurement.clone(),
            tags: point
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            field: point.field.clone(),
            time_ns: point.time_ns,
        };
        held.points.insert(key, point.value.clone());
        true
    }

    /// Deletes every point of one series (a measurement and its exact tag
    /// set), as `DROP SERIES` does; how many values went.
    pub fn delete_series(
        &mut self,
        database: &str,
        measurement: &str,
        tags: &BTreeMap<String, String>,
    ) -> usize {
        let Some(held) = self.databases.get_mut(database) else {
            return 0;
        };
        let before = held.points.len();
        held.points.retain(|key, _| {
            key.measurement != measurement
                || key.tags.len() != tags.len()
                || key.tags.iter().any(|(k, v)| tags.get(k) != Some(v))
        });
        before - held.points.len()
    }

    /// The measurements with points, sorted, as `SHOW MEASUREMENTS` lists
    /// them; `None` for an unknown database.
    pub fn measurements(&self, database: &str) -> Option<Vec<String>> {
        let held = self.databases.get(database)?;
        let mut names: Vec<String> = held.points.keys().map(|k| k.measurement.clone()).collect();
        names.dedup();
        Some(names)
    }

    /// Deletes the points of `measurement` from `from` to `to` (ns, both
    /// included) whose tags include `tags`, as `/api/v2/delete` does; how
    /// many values went.
    pub fn delete_where(
        &mut self,
        database: &str,
        measurement: &str,
        tags: &[(String, String)],
        from: i64,
        to: i64,
    ) -> usize {
        let Some(held) = self.databases.get_mut(database) else {
            return 0;
        };
        let before = held.points.len();
        held.points.retain(|key, _| {
            key.measurement != measurement
                || key.time_ns < from
                || key.time_ns > to
                || !tags.iter().all(|t| key.tags.contains(t))
        });
        let gone = before - held.points.len();
        if !held.points.keys().any(|k| k.measurement == measurement) {
            held.kinds.remove(measurement);
        }
        gone
    }
}
