//! The Timestream for LiveAnalytics target, through `aws-sdk-timestreamwrite`.
//!
//! The record stream runs on a thread of its own and hands batches of at
//! most 100 records (the WriteRecords limit) to a tokio runtime, which keeps
//! a bounded number of requests in flight and retries throttling and server
//! errors with exponential backoff. Dimensions that every record of a batch
//! shares go in CommonAttributes. Every record carries the apply's Version
//! (its start time in ms), so a later apply of an edited plan replaces
//! values; re-applying the same plan at the same anchor is accepted as is.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_timestreamwrite::Client;
use aws_sdk_timestreamwrite::types::{
    Dimension, MagneticStoreWriteProperties, MeasureValue, MeasureValueType, Record,
    RetentionProperties, TimeUnit,
};

use super::config::Retention;
use super::{ApplyReport, TARGET_FAILURE, TableReport};
use crate::commands::{Failure, Loaded};
use crate::compile::record::Value;
use crate::compile::stream::{Catalog, Record as StreamRecord, Sink};
use crate::model::{Layout, MeasureType};

/// The WriteRecords limit.
const MAX_BATCH: usize = 100;
/// Tries of one batch before the apply fails.
const MAX_TRIES: u32 = 8;

#[derive(Debug)]
pub struct TimestreamTarget {
    pub region: String,
    pub database: String,
    pub endpoint_url: Option<String>,
    pub table_prefix: String,
    pub table_suffix: String,
    pub retention: Option<Retention>,
}

pub struct Options {
    pub create: bool,
    pub concurrency: usize,
}

/// One WriteRecords request, ready to send.
struct Batch {
    table: String,
    common: Record,
    records: Vec<Record>,
    /// For rejected-record reports: each record's time and series.
    described: Vec<String>,
}

fn failure(what: String) -> Failure {
    Failure {
        code: TARGET_FAILURE,
        text: format!("error[outatime::target::timestream]: {what}\n"),
    }
}

pub fn apply(
    loaded: &Loaded,
    anchor: i64,
    target: &TimestreamTarget,
    options: &Options,
) -> Result<ApplyReport, Failure> {
    let started = std::time::Instant::now();
    let version = chrono::Utc::now().timestamp_millis();
    let plan = crate::commands::compile_plan(loaded, std::path::Path::new("."))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| failure(format!("cannot start the async runtime: {e}")))?;
    let client = runtime.block_on(client(target))?;
    let catalog = &loaded.prepared.catalog;
    let table_name = |target_name: &str| {
        format!(
            "{}{target_name}{}",
            target.table_prefix, target.table_suffix
        )
    };
    if options.create {
        runtime.block_on(create(
            &client,
            target,
            catalog
                .tables
                .iter()
                .map(|t| table_name(&t.target))
                .collect(),
        ))?;
    }
    let layouts: Vec<(Layout, String)> = catalog
        .tables
        .iter()
        .map(|t| {
            let table = &loaded.scenario.tables[&t.name];
            (table.layout, table.measure_name.clone())
        })
        .collect();
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Batch>(options.concurrency * 2);
    let written = std::thread::scope(|scope| {
        let producer = scope.spawn(|| {
            let mut batcher = Batcher {
                sender,
                layouts: &layouts,
                names: catalog
                    .tables
                    .iter()
                    .map(|t| table_name(&t.target))
                    .collect(),
                version,
                pending: Vec::new(),
                pending_table: None,
            };
            let run = loaded.prepared.run(anchor, &mut batcher);
            let flushed = batcher.flush();
            run.map(|_| ())
                .map_err(Failure::from)
                .and(flushed.map_err(|e| failure(e.to_string())))
        });
        let database = target.database.clone();
        let written = runtime.block_on(async {
            let limit =
                std::sync::Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
            let mut tasks = tokio::task::JoinSet::new();
            while let Some(batch) = receiver.recv().await {
                let permit = limit
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                let client = client.clone();
                let database = database.clone();
                tasks.spawn(async move {
                    let result = send(&client, &database, &batch).await;
                    drop(permit);
                    (batch.table, batch.records.len() as u64, result)
                });
            }
            let mut per_table: BTreeMap<String, u64> = BTreeMap::new();
            let mut problems = Vec::new();
            let mut retried = 0;
            while let Some(done) = tasks.join_next().await {
                let (table, count, result) =
                    done.map_err(|e| failure(format!("a write task failed: {e}")))?;
                match result {
                    Ok(retries) => {
                        retried += retries;
                        *per_table.entry(table).or_default() += count;
                    }
                    Err(problem) => problems.push(problem),
                }
            }
            if !problems.is_empty() {
                let shown: Vec<String> = problems
                    .iter()
                    .take(10)
                    .map(|p| format!("  - {p}"))
                    .collect();
                return Err(failure(format!(
                    "{} batch(es) were not written; what was written: {per_table:?}\n{}",
                    problems.len(),
                    shown.join("\n")
                )));
            }
            Ok((per_table, retried))
        });
        let produced = producer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        produced?;
        written
    })?;
    let (per_table, _retried) = written;
    let tables = per_table
        .into_iter()
        .map(|(table, records)| {
            let file = format!("{}.{table}", target.database);
            (table, TableReport { file, records })
        })
        .collect();
    Ok(ApplyReport::new(
        format!("timestream {}", target.database),
        anchor,
        plan.stream_digest,
        tables,
        started,
    ))
}

/// With `endpoint_url` (a local emulator) the plain client; against AWS,
/// endpoint discovery, whose reload task runs for the apply's lifetime.
async fn client(target: &TimestreamTarget) -> Result<Client, Failure> {
    // outatime retries batches itself (with the report counting them), so
    // the SDK's own retries are off.
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(target.region.clone()))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    match &target.endpoint_url {
        Some(url) => {
            let config = aws_sdk_timestreamwrite::config::Builder::from(&shared)
                .endpoint_url(url.clone())
                .build();
            Ok(Client::from_conf(config))
        }
        None => {
            let (client, reload) = Client::new(&shared)
                .with_endpoint_discovery_enabled()
                .await
                .map_err(|e| failure(format!("endpoint discovery failed: {e}")))?;
            tokio::spawn(reload.reload_task());
            Ok(client)
        }
    }
}

/// Creates the database and tables; ones that exist already are fine.
async fn create(
    client: &Client,
    target: &TimestreamTarget,
    tables: Vec<String>,
) -> Result<(), Failure> {
    let conflict = |e: &dyn std::fmt::Debug| format!("{e:?}").contains("ConflictException");
    if let Err(e) = client
        .create_database()
        .database_name(&target.database)
        .send()
        .await
        && !conflict(&e)
    {
        return Err(failure(format!(
            "cannot create database `{}`: {e:?}",
            target.database
        )));
    }
    for table in tables {
        let mut request = client
            .create_table()
            .database_name(&target.database)
            .table_name(&table);
        if let Some(r) = &target.retention {
            let retention = RetentionProperties::builder()
                .memory_store_retention_period_in_hours(i64::from(r.memory_store_hours))
                .magnetic_store_retention_period_in_days(i64::from(r.magnetic_store_days))
                .build()
                .map_err(|e| failure(format!("retention: {e}")))?;
            let magnetic = MagneticStoreWriteProperties::builder()
                .enable_magnetic_store_writes(r.magnetic_writes)
                .build()
                .map_err(|e| failure(format!("magnetic writes: {e}")))?;
            request = request
                .retention_properties(retention)
                .magnetic_store_write_properties(magnetic);
        }
        if let Err(e) = request.send().await
            && !conflict(&e)
        {
            return Err(failure(format!("cannot create table `{table}`: {e:?}")));
        }
    }
    Ok(())
}

/// Sends one batch, retrying what may pass later; the number of retries.
async fn send(client: &Client, database: &str, batch: &Batch) -> Result<u32, String> {
    let mut tries = 0;
    loop {
        tries += 1;
        let result = client
            .write_records()
            .database_name(database)
            .table_name(&batch.table)
            .common_attributes(batch.common.clone())
            .set_records(Some(batch.records.clone()))
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(tries - 1),
            Err(e) => e,
        };
        let service = error.as_service_error();
        if let Some(rejected) = service.and_then(|e| match e {
            aws_sdk_timestreamwrite::operation::write_records::WriteRecordsError::RejectedRecordsException(r) => Some(r),
            _ => None,
        }) {
            let reasons: Vec<String> = rejected
                .rejected_records()
                .iter()
                .map(|r| {
                    let index = r.record_index() as usize;
                    let which = batch.described.get(index).map(String::as_str).unwrap_or("?");
                    format!("{which}: {}", r.reason().unwrap_or("rejected"))
                })
                .collect();
            return Err(format!("table `{}` rejected records: {}", batch.table, reasons.join("; ")));
        }
        let retryable = match service {
            Some(e) => {
                let text = format!("{e:?}");
                text.contains("Throttling") || text.contains("InternalServer")
            }
            // Timeouts, dropped connections, 5xx without a modelled error.
            None => true,
        };
        if !retryable || tries >= MAX_TRIES {
            return Err(format!("table `{}`: {error:?}", batch.table));
        }
        // Exponential backoff with jitter from the batch's own bytes, so
        // retries of concurrent batches spread out.
        let jitter = (batch.described.len() as u64 * 7919 + u64::from(tries) * 104_729) % 50;
        tokio::time::sleep(Duration::from_millis(50 * 2u64.pow(tries.min(6)) + jitter)).await;
    }
}

/// A record waiting for its batch: its dimensions, the record without
/// them, and how to name it in a rejection report.
type Pending = (Vec<(String, String)>, Record, String);

/// Cuts the sorted stream into WriteRecords batches, per table.
struct Batcher<'a> {
    sender: tokio::sync::mpsc::Sender<Batch>,
    layouts: &'a [(Layout, String)],
    names: Vec<String>,
    version: i64,
    /// The batch being filled.
    pending: Vec<Pending>,
    pending_table: Option<u16>,
}

impl Batcher<'_> {
    fn flush(&mut self) -> std::io::Result<()> {
        let Some(table) = self.pending_table else {
            return Ok(());
        };
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        // Dimensions every record shares go in CommonAttributes.
        let mut shared: Vec<(String, String)> = pending[0].0.clone();
        shared.retain(|d| pending.iter().all(|(dims, _, _)| dims.contains(d)));
        let mut common = Record::builder().version(self.version);
        for (name, value) in &shared {
            common = common.dimensions(dimension(name, value));
        }
        let mut records = Vec::with_capacity(pending.len());
        let mut described = Vec::with_capacity(pending.len());
        for (dims, record, description) in pending {
            let mut own = record.to_builder_with(&dims, &shared);
            own = own.version(self.version);
            records.push(own.build());
            described.push(description);
        }
        let batch = Batch {
            table: self.names[table as usize].clone(),
            common: common.build(),
            records,
            described,
        };
        self.sender
            .blocking_send(batch)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the writers stopped"))
    }
}

fn dimension(name: &str, value: &str) -> Dimension {
    Dimension::builder()
        .name(name)
        .value(value)
        .build()
        .expect("name and value are set")
}

/// A record's own part, without the shared dimensions.
trait OwnPart {
    fn to_builder_with(
        &self,
        dims: &[(String, String)],
        shared: &[(String, String)],
    ) -> aws_sdk_timestreamwrite::types::builders::RecordBuilder;
}

impl OwnPart for Record {
    fn to_builder_with(
        &self,
        dims: &[(String, String)],
        shared: &[(String, String)],
    ) -> aws_sdk_timestreamwrite::types::builders::RecordBuilder {
        let mut builder = Record::builder()
            .set_measure_name(self.measure_name().map(str::to_string))
            .set_measure_value(self.measure_value().map(str::to_string))
            .set_measure_value_type(self.measure_value_type().cloned())
            .set_time(self.time().map(str::to_string))
            .set_time_unit(self.time_unit().cloned());
        if !self.measure_values().is_empty() {
            builder = builder.set_measure_values(Some(self.measure_values().to_vec()));
        }
        for (name, value) in dims {
            if !shared.iter().any(|(n, v)| n == name && v == value) {
                builder = builder.dimensions(dimension(name, value));
            }
        }
        builder
    }
}

fn value_text(value: &Value) -> String {
    let mut out = Vec::new();
    match value {
        Value::Varchar(s) => return s.to_string(),
        other => other.write_json(&mut out),
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn value_type(ty: MeasureType) -> MeasureValueType {
    match ty {
        MeasureType::Double => MeasureValueType::Double,
        MeasureType::Bigint => MeasureValueType::Bigint,
        MeasureType::Boolean => MeasureValueType::Boolean,
        MeasureType::Varchar => MeasureValueType::Varchar,
    }
}

/// The coarsest unit that keeps the instant exact.
fn time_of(nanos: i64) -> (String, TimeUnit) {
    if nanos % 1_000_000 == 0 {
        ((nanos / 1_000_000).to_string(), TimeUnit::Milliseconds)
    } else if nanos % 1_000 == 0 {
        ((nanos / 1_000).to_string(), TimeUnit::Microseconds)
    } else {
        (nanos.to_string(), TimeUnit::Nanoseconds)
    }
}

impl Sink for Batcher<'_> {
    fn record(&mut self, record: &StreamRecord, catalog: &Catalog) -> std::io::Result<()> {
        if self.pending_table != Some(record.table) {
            self.flush()?;
            self.pending_table = Some(record.table);
        }
        let table = &catalog.tables[record.table as usize];
        let dims = &table.series[record.series as usize].dims;
        let (time, unit) = time_of(record.time);
        let mut when = Vec::new();
        crate::compile::record::write_time(&mut when, record.time);
        let description = format!(
            "{} {}",
            String::from_utf8_lossy(&when),
            crate::compile::series_text(dims)
        );
        let (layout, measure_name) = &self.layouts[record.table as usize];
        let mut built = Vec::new();
        match layout {
            Layout::Multi => {
                let values = record
                    .measures
                    .iter()
                    .map(|(m, v)| {
                        let (name, ty) = &table.measures[*m as usize];
                        MeasureValue::builder()
                            .name(name)
                            .value(value_text(v))
                            .r#type(value_type(*ty))
                            .build()
                            .expect("name, value and type are set")
                    })
                    .collect();
                built.push(
                    Record::builder()
                        .measure_name(measure_name)
                        .measure_value_type(MeasureValueType::Multi)
                        .set_measure_values(Some(values))
                        .time(time)
                        .time_unit(unit)
                        .build(),
                );
            }
            Layout::Single => {
                for (m, v) in &record.measures {
                    let (name, ty) = &table.measures[*m as usize];
                    built.push(
                        Record::builder()
                            .measure_name(name)
                            .measure_value(value_text(v))
                            .measure_value_type(value_type(*ty))
                            .time(time.clone())
                            .time_unit(unit.clone())
                            .build(),
                    );
                }
            }
        }
        for r in built {
            if self.pending.len() == MAX_BATCH {
                self.flush()?;
            }
            self.pending.push((dims.clone(), r, description.clone()));
        }
        Ok(())
    }
}
