//! Databases, tables and the records they hold: where a checked record
//! goes, and what an upsert does.
//!
//! Where each rule and text comes from:
//! - at most 100 records a request: the service model (`Records` max 100)
//!   and the Quotas page; the Coral validation wording is the one reported
//!   in dpattmann/prometheus-timestream-adapter#5;
//! - the future limit of 15 minutes and the default retention (memory 6
//!   hours, magnetic 73,000 days): the Quotas page; the retention ranges
//!   (memory 1..=8766 hours, magnetic 1..=73000 days): API_RetentionProperties;
//! - a time before the memory store's retention is rejected unless the
//!   table has magnetic store writes, and then only before the magnetic
//!   retention as well (the Writes best-practices page; the Storage page says
//!   the two retentions add up, as the window in the texts below shows);
//! - "The record timestamp is outside the time range [A, B) of the memory
//!   store." and "... of the data ingestion window." (with magnetic writes):
//!   real responses quoted in awslabs/amazon-timestream-tools and in
//!   TimestreamTableWriter experiments (12 h memory / 5 d magnetic tables);
//!   those windows were 40 minutes wider than the retention, in a way that
//!   cannot be placed, so this endpoint keeps to the documented bounds:
//!   [now - retention, now + 15 min);
//! - upserts (API_WriteRecords "Upserts", API_RejectedRecord): same table,
//!   dimensions, time and measure name is the same record; the same value is
//!   accepted whatever its version and raises the stored version when
//!   higher; a different value needs a strictly higher version, otherwise
//!   the record is rejected with `ExistingVersion`. The two texts: "A record
//!   already exists with the same time, dimensions, measure name, and record
//!   version. ..." for an equal version
//!   (dpattmann/prometheus-timestream-adapter#87) and "The record version V
//!   is lower than the existing version E. ..." (aws/aws-sdk-pandas#2018);
//! - such a conflict on a time in the magnetic store is not in the response:
//!   Timestream reports it asynchronously to S3 (troubleshoot-rejectedrecords)
//!   and leaves the record as it was;
//! - "The database D does not exist." / "The table T does not exist.":
//!   moto's texts. The ConflictException texts are this endpoint's own;
//! - tags (API_Tag, API_CreateTable, API_TagResource,
//!   API_ListTagsForResource): a key of 1..=128 characters, a value of
//!   0..=256, at most 200 tags a request, keys starting `aws:` reserved; a
//!   tag of an existing key is replaced; an ARN that names no database or
//!   table is a ResourceNotFoundException (its text is this endpoint's own);
//! - DeleteTable of a table that does not exist: ResourceNotFoundException,
//!   "The table T does not exist." (moto answers it with success instead).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

use super::limits;
use super::record::{Incoming, IncomingValue};
use super::wire::{self, ApiError, RejectedRecord, WriteRecordsRequest};
use super::{Retention, Stored, StoredValue};

pub(super) const SECOND_NS: i64 = 1_000_000_000;
/// Quotas: "Future ingestion period in minutes", 15.
const FUTURE_LIMIT_NS: i64 = 15 * 60 * SECOND_NS;
/// The service model's `Records` list: min 1, max 100.
const MAX_RECORDS: usize = 100;
const ACCOUNT: &str = "000000000000";

#[derive(Default)]
pub(super) struct Store {
    databases: BTreeMap<String, Database>,
}

struct Database {
    arn: String,
    created: f64,
    tags: BTreeMap<String, String>,
    tables: BTreeMap<String, Table>,
}

struct Table {
    arn: String,
    created: f64,
    tags: BTreeMap<String, String>,
    retention: Retention,
    /// Dimension sets and their ids, keyed by the sorted name and value
    /// pairs, each length-prefixed (built in `upsert`).
    series: HashMap<Box<str>, u32>,
    series_dimensions: Vec<Vec<(String, String)>>,
    measures: HashMap<Box<str>, u32>,
    measure_names: Vec<String>,
    /// The measures inside the table's multi-measure records.
    multi_measures: HashSet<Box<str>>,
    points: HashMap<PointKey, Point>,
}

#[derive(Hash, PartialEq, Eq)]
struct PointKey {
    series: u32,
    measure: u32,
    time_ns: i64,
}

struct Point {
    value: StoredValue,
    version: i64,
    writes: u32,
    /// The endpoint's wall clock when the record was first accepted.
    first_written_ns: i64,
}

/// What a WriteRecords request that passed validation did.
pub(super) struct WriteOutcome {
    pub memory_store: usize,
    pub magnetic_store: usize,
    pub rejected: Vec<RejectedRecord>,
    /// Version conflicts in the magnetic store, which the service reports
    /// to S3 instead of in the response.
    pub rejected_async: usize,
}

impl Store {
    pub fn create_database(
        &mut self,
        name: &str,
        region: &str,
        now: f64,
    ) -> Result<Vec<u8>, ApiError> {
        if self.databases.contains_key(name) {
            return Err(ApiError::client(
                "ConflictException",
                format!("The database {name} already exists."),
            ));
        }
        self.databases
            .insert(name.to_owned(), Database::new(name, region, now));
        self.describe_database(name)
    }

    pub fn describe_database(&self, name: &str) -> Result<Vec<u8>, ApiError> {
        let database = self.database(name)?;
        Ok(json_body(
            "Database",
            &wire::DatabaseDescription {
                arn: database.arn.clone(),
                database_name: name,
                table_count: database.tables.len(),
                creation_time: database.created,
                last_updated_time: database.created,
            },
        ))
    }

    pub fn create_table(
        &mut self,
        request: &wire::TableRequest,
        region: &str,
        now: f64,
    ) -> Result<Vec<u8>, ApiError> {
        let mut retention = Retention::default();
        if let Some(properties) = request.retention_properties {
            retention.memory_hours = properties.memory_store_retention_period_in_hours;
            retention.magnetic_days = properties.magnetic_store_retention_period_in_days;
        }
        if let Some(properties) = request.magnetic_store_write_properties {
            retention.magnetic_writes = properties.enable_magnetic_store_writes;
        }
        check_range(
            "retentionProperties.memoryStoreRetentionPeriodInHours",
            retention.memory_hours,
            1,
            8766,
        )?;
        check_range(
            "retentionProperties.magneticStoreRetentionPeriodInDays",
            retention.magnetic_days,
            1,
            73000,
        )?;
        let tags = check_tags(&request.tags)?;
        let database = self.database_mut(&request.database_name)?;
        let name = &request.table_name;
        if database.tables.contains_key(name) {
            return Err(ApiError::client(
                "ConflictException",
                format!("The table {name} already exists."),
            ));
        }
        let arn = format!(
            "arn:aws:timestream:{region}:{ACCOUNT}:database/{}/table/{name}",
            request.database_name
        );
        let mut table = Table::new(arn, retention, now);
        table.tags = tags;
        database.tables.insert(name.clone(), table);
        self.describe_table(&request.database_name, name)
    }

    pub fn delete_table(&mut self, database: &str, name: &str) -> Result<Vec<u8>, ApiError> {
        let database = self.database_mut(database)?;
        if database.tables.remove(name).is_none() {
            return Err(ApiError::not_found(format!(
                "The table {name} does not exist."
            )));
        }
        Ok(b"{}".to_vec())
    }

    pub fn list_tags(&self, arn: &str) -> Result<Vec<u8>, ApiError> {
        let tags = self.tags_of(arn)?;
        let tags: Vec<wire::Tag> = tags
            .iter()
            .map(|(key, value)| wire::Tag {
                key: key.clone(),
                value: value.clone(),
            })
            .collect();
        Ok(json_body("Tags", &tags))
    }

    pub fn tag_resource(&mut self, arn: &str, tags: &[wire::Tag]) -> Result<Vec<u8>, ApiError> {
        let tags = check_tags(&Some(tags.to_vec()))?;
        self.tags_of_mut(arn)?.extend(tags);
        Ok(b"{}".to_vec())
    }

    /// A table's tags, for a test's assertions.
    pub fn table_tags(&self, database: &str, name: &str) -> Option<BTreeMap<String, String>> {
        self.table(database, name).ok().map(|t| t.tags.clone())
    }

    fn tags_of(&self, arn: &str) -> Result<&BTreeMap<String, String>, ApiError> {
        for database in self.databases.values() {
            if database.arn == arn {
                return Ok(&database.tags);
            }
            if let Some(table) = database.tables.values().find(|t| t.arn == arn) {
                return Ok(&table.tags);
            }
        }
        Err(ApiError::not_found(format!(
            "The resource {arn} does not exist."
        )))
    }

    fn tags_of_mut(&mut self, arn: &str) -> Result<&mut BTreeMap<String, String>, ApiError> {
        for database in self.databases.values_mut() {
            if database.arn == arn {
                return Ok(&mut database.tags);
            }
            if let Some(table) = database.tables.values_mut().find(|t| t.arn == arn) {
                return Ok(&mut table.tags);
            }
        }
        Err(ApiError::not_found(format!(
            "The resource {arn} does not exist."
        )))
    }

    pub fn describe_table(&self, database: &str, name: &str) -> Result<Vec<u8>, ApiError> {
        let table = self.table(database, name)?;
        let retention = table.retention;
        Ok(json_body(
            "Table",
            &wire::TableDescription {
                arn: table.arn.clone(),
                table_name: name,
                database_name: database,
                table_status: "ACTIVE",
                retention_properties: wire::RetentionProperties {
                    memory_store_retention_period_in_hours: retention.memory_hours,
                    magnetic_store_retention_period_in_days: retention.magnetic_days,
                },
                magnetic_store_write_properties: wire::MagneticStoreWriteProperties {
                    enable_magnetic_store_writes: retention.magnetic_writes,
                },
                creation_time: table.created,
                last_updated_time: table.created,
            },
        ))
    }

    /// Creates a table directly with `tags`, and its database if needed.
    pub fn seed_table(
        &mut self,
        database: &str,
        name: &str,
        retention: Retention,
        tags: &[(&str, &str)],
        now: f64,
    ) {
        let region = "us-east-1";
        let entry = self
            .databases
            .entry(database.to_owned())
            .or_insert_with(|| Database::new(database, region, now));
        assert!(
            !entry.tables.contains_key(name),
            "the strict endpoint already has table {database}.{name}"
        );
        let arn = format!("arn:aws:timestream:{region}:{ACCOUNT}:database/{database}/table/{name}");
        let mut table = Table::new(arn, retention, now);
        table.tags = tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        entry.tables.insert(name.to_owned(), table);
    }

    /// The records of a table, sorted by dimensions, measure name and time.
    pub fn stored(&self, database: &str, name: &str) -> Option<Vec<Stored>> {
        let table = self.table(database, name).ok()?;
        let mut stored: Vec<Stored> = table
            .points
            .iter()
            .map(|(key, point)| Stored {
                dimensions: table.series_dimensions[key.series as usize]
                    .iter()
                    .cloned()
                    .collect(),
                time_ns: key.time_ns,
                measure_name: table.measure_names[key.measure as usize].clone(),
                value: point.value.clone(),
                version: point.version,
                writes: point.writes,
                first_written_ns: point.first_written_ns,
            })
            .collect();
        stored.sort_by(|a, b| {
            (&a.dimensions, &a.measure_name, a.time_ns).cmp(&(
                &b.dimensions,
                &b.measure_name,
                b.time_ns,
            ))
        });
        Some(stored)
    }

    /// Validates the whole request first (a ValidationException stores
    /// nothing), then places each record or rejects it by index.
    pub fn write(
        &mut self,
        request: &WriteRecordsRequest,
        now_ns: i64,
    ) -> Result<WriteOutcome, ApiError> {
        let count = request.records.len();
        if count > MAX_RECORDS {
            // The real message quotes every record where this one counts them.
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '[{count} records]' at 'records' failed to \
                 satisfy constraint: Member must have length less than or equal to {MAX_RECORDS}"
            )));
        }
        if count == 0 {
            return Err(ApiError::validation(
                "1 validation error detected: Value '[]' at 'records' failed to satisfy \
                 constraint: Member must have length greater than or equal to 1",
            ));
        }
        let table = self.table_mut(&request.database_name, &request.table_name)?;
        let empty = wire::Record::default();
        let common = request.common_attributes.as_ref().unwrap_or(&empty);
        let incoming = request
            .records
            .iter()
            .enumerate()
            .map(|(index, record)| Incoming::new(index, record, common))
            .collect::<Result<Vec<_>, _>>()?;
        let window = Window::new(table.retention, now_ns);
        let mut outcome = WriteOutcome {
            memory_store: 0,
            magnetic_store: 0,
            rejected: Vec::new(),
            rejected_async: 0,
        };
        let mut key = String::new();
        for (index, record) in incoming.iter().enumerate() {
            if let Some(reason) = table.limit_problem(record) {
                outcome.rejected.push(RejectedRecord {
                    record_index: index,
                    reason,
                    existing_version: None,
                });
                continue;
            }
            let magnetic = match window.place(record.time_ns) {
                Ok(magnetic) => magnetic,
                Err(reason) => {
                    outcome.rejected.push(RejectedRecord {
                        record_index: index,
                        reason,
                        existing_version: None,
                    });
                    continue;
                }
            };
            match table.upsert(record, now_ns, &mut key) {
                Ok(()) if magnetic => outcome.magnetic_store += 1,
                Ok(()) => outcome.memory_store += 1,
                Err(_) if magnetic => outcome.rejected_async += 1,
                Err(existing) => outcome.rejected.push(RejectedRecord {
                    record_index: index,
                    reason: conflict_reason(record.version, existing),
                    existing_version: Some(existing),
                }),
            }
        }
        Ok(outcome)
    }

    fn database(&self, name: &str) -> Result<&Database, ApiError> {
        self.databases
            .get(name)
            .ok_or_else(|| ApiError::not_found(format!("The database {name} does not exist.")))
    }

    fn database_mut(&mut self, name: &str) -> Result<&mut Database, ApiError> {
        self.databases
            .get_mut(name)
            .ok_or_else(|| ApiError::not_found(format!("The database {name} does not exist.")))
    }

    fn table(&self, database: &str, name: &str) -> Result<&Table, ApiError> {
        self.database(database)?
            .tables
            .get(name)
            .ok_or_else(|| ApiError::not_found(format!("The table {name} does not exist.")))
    }

    fn table_mut(&mut self, database: &str, name: &str) -> Result<&mut Table, ApiError> {
        self.database_mut(database)?
            .tables
            .get_mut(name)
            .ok_or_else(|| ApiError::not_found(format!("The table {name} does not exist.")))
    }
}

impl Database {
    fn new(name: &str, region: &str, now: f64) -> Database {
        Database {
            arn: format!("arn:aws:timestream:{region}:{ACCOUNT}:database/{name}"),
            created: now,
            tags: BTreeMap::new(),
            tables: BTreeMap::new(),
        }
    }
}

impl Table {
    fn new(arn: String, retention: Retention, now: f64) -> Table {
        Table {
            arn,
            created: now,
            tags: BTreeMap::new(),
            retention,
            series: HashMap::new(),
            series_dimensions: Vec::new(),
            measures: HashMap::new(),
            measure_names: Vec::new(),
            multi_measures: HashSet::new(),
            points: HashMap::new(),
        }
    }

    /// Why the record breaks a limit of its own or of the table (its
    /// measure names), if it does.
    fn limit_problem(&self, record: &Incoming) -> Option<String> {
        if let Some(reason) = limits::record_problem(record) {
            return Some(reason);
        }
        if !self.measures.contains_key(record.measure_name)
            && self.measure_names.len() >= limits::MAX_MEASURE_NAMES_PER_TABLE
        {
            return Some(limits::too_many_measure_names());
        }
        if let IncomingValue::Multi(measures) = &record.value {
            let new = measures
                .iter()
                .filter(|(name, _, _)| !self.multi_measures.contains(*name))
                .count();
            if self.multi_measures.len() + new > limits::MAX_MULTI_MEASURES_PER_TABLE {
                return Some(limits::too_many_multi_measures());
            }
        }
        None
    }

    /// Stores the record unless a different value with an equal or higher
    /// version is there; then the existing version is the error. `now_ns`
    /// is the endpoint's clock: kept when the record is new.
    fn upsert(&mut self, record: &Incoming, now_ns: i64, key: &mut String) -> Result<(), i64> {
        key.clear();
        for (name, value) in &record.dimensions {
            let _ = write!(key, "{}:{name}{}:{value}", name.len(), value.len());
        }
        let series = match self.series.get(key.as_str()) {
            Some(&id) => id,
            None => {
                let id = self.series_dimensions.len() as u32;
                self.series.insert(key.as_str().into(), id);
                self.series_dimensions.push(
                    record
                        .dimensions
                        .iter()
                        .map(|&(name, value)| (name.to_owned(), value.to_owned()))
                        .collect(),
                );
                id
            }
        };
        let measure = match self.measures.get(record.measure_name) {
            Some(&id) => id,
            None => {
                let id = self.measure_names.len() as u32;
                self.measures.insert(record.measure_name.into(), id);
                self.measure_names.push(record.measure_name.to_owned());
                id
            }
        };
        if let IncomingValue::Multi(measures) = &record.value {
            for (name, _, _) in measures {
                if !self.multi_measures.contains(*name) {
                    self.multi_measures.insert((*name).into());
                }
            }
        }
        let key = PointKey {
            series,
            measure,
            time_ns: record.time_ns,
        };
        let Some(point) = self.points.get_mut(&key) else {
            self.points.insert(
                key,
                Point {
                    value: record.value.to_stored(),
                    version: record.version,
                    writes: 1,
                    first_written_ns: now_ns,
                },
            );
            return Ok(());
        };
        if record.value.same_as(&point.value) {
            point.version = point.version.max(record.version);
        } else if record.version > point.version {
            point.value = record.value.to_stored();
            point.version = record.version;
        } else {
            return Err(point.version);
        }
        point.writes += 1;
        Ok(())
    }
}

fn conflict_reason(version: i64, existing: i64) -> String {
    if version == existing {
        "A record already exists with the same time, dimensions, measure name, and record \
         version. A higher record version must be specified in order to update the measure \
         value. Specifying record version is supported by the latest SDKs."
            .to_owned()
    } else {
        format!(
            "The record version {version} is lower than the existing version {existing}. \
             A higher version is required to update the measure value."
        )
    }
}

/// The times a table accepts at one instant.
struct Window {
    memory_from: i64,
    /// With magnetic store writes: where the magnetic retention ends.
    magnetic_from: Option<i64>,
    until: i64,
}

impl Window {
    fn new(retention: Retention, now_ns: i64) -> Window {
        let memory_ns = retention.memory_hours.saturating_mul(3600 * SECOND_NS);
        let magnetic_ns = retention.magnetic_days.saturating_mul(86400 * SECOND_NS);
        let memory_from = now_ns.saturating_sub(memory_ns);
        Window {
            memory_from,
            magnetic_from: retention
                .magnetic_writes
                .then(|| memory_from.saturating_sub(magnetic_ns)),
            until: now_ns.saturating_add(FUTURE_LIMIT_NS),
        }
    }

    /// Whether the time goes to the magnetic store, or why it is rejected.
    fn place(&self, time_ns: i64) -> Result<bool, String> {
        if time_ns >= self.memory_from && time_ns < self.until {
            return Ok(false);
        }
        let (from, store) = match self.magnetic_from {
            Some(from) if time_ns >= from && time_ns < self.until => return Ok(true),
            Some(from) => (from, "data ingestion window"),
            None => (self.memory_from, "memory store"),
        };
        Err(format!(
            "The record timestamp is outside the time range [{}, {}) of the {store}.",
            iso(from),
            iso(self.until)
        ))
    }
}

fn iso(time_ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(time_ns)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Coral's wording for a number out of its range.
/// API_Tag's bounds, checked over a request's tags.
fn check_tags(tags: &Option<Vec<wire::Tag>>) -> Result<BTreeMap<String, String>, ApiError> {
    let tags = tags.as_deref().unwrap_or_default();
    if tags.len() > 200 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: \
             Member must have length less than or equal to 200 ({} given)",
            tags.len()
        )));
    }
    let mut checked = BTreeMap::new();
    for tag in tags {
        let key_chars = tag.key.chars().count();
        if key_chars == 0 || key_chars > 128 {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{}' at 'tags.member.key' failed to satisfy \
                 constraint: Member must have length between 1 and 128",
                tag.key
            )));
        }
        if tag.value.chars().count() > 256 {
            return Err(ApiError::validation(
                "1 validation error detected: Value at 'tags.member.value' failed to satisfy \
                 constraint: Member must have length less than or equal to 256",
            ));
        }
        if tag.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ApiError::validation(format!(
                "The tag key {} uses the reserved prefix aws:.",
                tag.key
            )));
        }
        checked.insert(tag.key.clone(), tag.value.clone());
    }
    Ok(checked)
}

fn check_range(path: &str, value: i64, min: i64, max: i64) -> Result<(), ApiError> {
    let constraint = if value < min {
        format!("greater than or equal to {min}")
    } else if value > max {
        format!("less than or equal to {max}")
    } else {
        return Ok(());
    };
    Err(ApiError::validation(format!(
        "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: \
         Member must have value {constraint}"
    )))
}

/// `{"<member>": value}`: the response shape of the describe and create operations.
fn json_body(member: &str, value: &impl serde::Serialize) -> Vec<u8> {
    let mut body = BTreeMap::new();
    body.insert(member, value);
    serde_json::to_vec(&body).expect("a response body always serializes")
}
