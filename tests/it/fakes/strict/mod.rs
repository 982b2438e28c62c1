//! A strict, in-process Timestream for LiveAnalytics write endpoint, for
//! tests and benches that drive the real `aws-sdk-timestreamwrite` client.
//!
//! moto stores whatever it is sent; this endpoint enforces the documented
//! write rules (`record.rs`, `limits.rs` and `store.rs` say where each
//! comes from),
//! answers in the
//! service's JSON protocol (`wire.rs`) over the in-test HTTP/1.1 server
//! (`../http.rs`), and injects deterministic faults that can change while it
//! runs. It serves on its own thread with a current-thread tokio runtime:
//! one core for the endpoint, the rest for the client under test.
//!
//! The test binary compiles it once, as `fakes::strict`; a bench or an
//! example declares `fakes` with only the fakes it runs (`../mod.rs` shows
//! how).
//!
//! It also answers the Query API (`query.rs`) for the query shapes
//! `outatime verify` and `outatime capture` send, page by page, over what
//! WriteRecords stored.
//!
//! Endpoint discovery cannot point at it: the SDK prefixes the discovered
//! address with `https://`. Use `endpoint_url(endpoint.url())`.

mod limits;
mod query;
mod record;
mod store;
mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use super::http::{self, now_nanos};
use store::Store;
use wire::ApiError;

/// A measure value for a multi-measure record, as a test writes one.
pub fn measure(
    name: &str,
    value: &str,
    kind: aws_sdk_timestreamwrite::types::MeasureValueType,
) -> aws_sdk_timestreamwrite::types::MeasureValue {
    aws_sdk_timestreamwrite::types::MeasureValue::builder()
        .name(name)
        .value(value)
        .r#type(kind)
        .build()
        .expect("name, value and type are set")
}

/// Faults injected into responses. "Every Nth" counts WriteRecords requests
/// from 1 (faulted ones included), so the same client run meets the same
/// faults. A faulted request stores nothing. When several apply, a drop
/// wins over throttling, and throttling over a server error; a request
/// answered with a fault is not also slowed.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Added before every response, of every operation.
    pub latency: Duration,
    /// Every Nth WriteRecords is answered with ThrottlingException.
    pub throttle_every: Option<u32>,
    /// A WriteRecords arriving while more than N (itself included) are in
    /// flight is answered with ThrottlingException.
    pub throttle_above_in_flight: Option<usize>,
    /// Every Nth WriteRecords is answered with a 500 InternalServerException.
    pub server_error_every: Option<u32>,
    /// Every Nth WriteRecords is applied as usual, then answered this much
    /// later: a client that times out meanwhile finds its records stored.
    pub slow_every: Option<(u32, Duration)>,
    /// Every Nth WriteRecords: the connection is closed without a reply.
    pub drop_every: Option<u32>,
    /// Every Nth Query (counted from 1 like WriteRecords) is answered with
    /// ThrottlingException.
    pub throttle_query_every: Option<u32>,
}

/// A table's retention, as CreateTable takes it. The default is the
/// service's: 6 hours in memory, 73,000 days magnetic, no magnetic writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub memory_hours: i64,
    pub magnetic_days: i64,
    pub magnetic_writes: bool,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            memory_hours: 6,
            magnetic_days: 73000,
            magnetic_writes: false,
        }
    }
}

/// A measure value's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ValueKind {
    Double,
    Bigint,
    Boolean,
    Varchar,
    Timestamp,
}

/// A stored value, as text the way it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredValue {
    Single(ValueKind, String),
    /// A MULTI record's measures by name.
    Multi(BTreeMap<String, (ValueKind, String)>),
}

/// One record as the table holds it: a series (its dimensions), a time and
/// a measure name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub dimensions: BTreeMap<String, String>,
    pub time_ns: i64,
    pub measure_name: String,
    pub value: StoredValue,
    pub version: i64,
    /// Accepted writes of this record: the first, identical re-writes and
    /// replacements by a higher version.
    pub writes: u32,
    /// The endpoint's wall clock (ns since the epoch) when the request that
    /// first stored the record arrived: what live pacing is checked by.
    pub first_written_ns: i64,
}

/// What the endpoint has seen since it started.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Requests of every operation, unauthenticated ones included.
    pub requests: u64,
    /// Requests by operation name ("WriteRecords", ...; "Unknown").
    pub operations: BTreeMap<&'static str, u64>,
    /// WriteRecords requests whose body parsed, faulted ones included.
    pub write_requests: u64,
    /// Records in those requests.
    pub records_received: u64,
    /// Records accepted (new, identical or replacing).
    pub records_ingested: u64,
    /// Records listed in RejectedRecordsException responses.
    pub records_rejected: u64,
    /// Version conflicts in the magnetic store: answered as ingested, not
    /// stored (the service reports them to S3).
    pub records_rejected_async: u64,
    pub throttled: u64,
    pub server_errors: u64,
    pub dropped: u64,
    pub slowed: u64,
    /// The most WriteRecords in flight at once, counted at arrival.
    pub max_in_flight: usize,
    /// The most records in one WriteRecords request.
    pub largest_batch: usize,
    /// For each WriteRecords in arrival order: how many were in flight,
    /// itself included.
    pub in_flight_at_arrival: Vec<usize>,
    /// Indexes into `in_flight_at_arrival` of the throttled requests.
    pub throttled_requests: Vec<usize>,
    /// The endpoint's wall clock (ns since the epoch) when the last request
    /// other than WriteRecords arrived: a client's preflight (describe,
    /// create) is done by then, and it is ready to write.
    pub last_other_request_ns: Option<i64>,
}

/// The endpoint: a listener on 127.0.0.1 and a thread serving it. Dropping
/// it stops the thread and closes every connection.
pub struct StrictEndpoint {
    shared: Arc<Shared>,
    _server: http::Server,
}

/// A request larger than this closes its connection.
const MAX_BODY: usize = 16 * 1024 * 1024;

impl StrictEndpoint {
    pub fn start() -> StrictEndpoint {
        let listener = http::Listener::bind("strict endpoint");
        let shared = Arc::new(Shared {
            address: listener.address(),
            state: Mutex::new(State::default()),
            writes_held: watch::channel(false).0,
        });
        let server = listener.serve("strict-timestream", MAX_BODY, {
            let shared = shared.clone();
            move |request, body| Shared::reply(&shared, request, body)
        });
        StrictEndpoint {
            shared,
            _server: server,
        }
    }

    /// "http://127.0.0.1:PORT", for the SDK's `endpoint_url`.
    /// An SDK client for this endpoint: test credentials, no SDK retries,
    /// and with `timeout`, an operation timeout.
    pub async fn sdk_client(&self, timeout: Option<Duration>) -> aws_sdk_timestreamwrite::Client {
        use aws_config::BehaviorVersion;
        use aws_config::retry::RetryConfig;
        use aws_config::timeout::TimeoutConfig;
        use aws_sdk_timestreamwrite::config::{Credentials, Region};
        use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
        // outatime's HTTP client (src/targets/timestream/client.rs): the
        // SDK has no default one in this build.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .retry_config(RetryConfig::disabled());
        if let Some(timeout) = timeout {
            loader =
                loader.timeout_config(TimeoutConfig::builder().operation_timeout(timeout).build());
        }
        let shared = loader.load().await;
        let config = aws_sdk_timestreamwrite::config::Builder::from(&shared)
            .endpoint_url(self.url())
            .build();
        aws_sdk_timestreamwrite::Client::from_conf(config)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.shared.address)
    }

    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }

    /// Writes one multi-measure record `metrics` (`v` DOUBLE 12345, `on`
    /// BOOLEAN true) at `time_ns` with `version`, through the SDK as
    /// another writer would. Blocks: call it outside a tokio runtime.
    pub fn write_directly(
        &self,
        database: &str,
        table: &str,
        dimensions: &[(&str, &str)],
        time_ns: i64,
        version: i64,
    ) {
        use aws_sdk_timestreamwrite::types::{Dimension, MeasureValueType, Record};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the write");
        runtime.block_on(async {
            let dimensions = dimensions.iter().map(|(name, value)| {
                Dimension::builder()
                    .name(*name)
                    .value(*value)
                    .build()
                    .expect("name and value are set")
            });
            let record = Record::builder()
                .set_dimensions(Some(dimensions.collect()))
                .measure_name("metrics")
                .measure_value_type(MeasureValueType::Multi)
                .measure_values(measure("v", "12345", MeasureValueType::Double))
                .measure_values(measure("on", "true", MeasureValueType::Boolean))
                .time((time_ns / 1_000_000).to_string())
                .version(version)
                .build();
            self.sdk_client(None)
                .await
                .write_records()
                .database_name(database)
                .table_name(table)
                .records(record)
                .send()
                .await
                .expect("the direct write is accepted");
        });
    }

    /// Answers the Query `statement` (exactly this text) with these columns
    /// (name, scalar type: `BIGINT`, `DOUBLE`, `VARCHAR`, `TIMESTAMP`) and
    /// rows, page by page, whatever the tables hold: the statements of the
    /// system under test's tables, which outatime does not write.
    pub fn register_query(
        &self,
        statement: &str,
        columns: &[(&str, &str)],
        rows: Vec<Vec<Option<String>>>,
    ) {
        let registered = query::Registered {
            columns: columns
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
            rows,
        };
        self.shared
            .lock()
            .registered
            .insert(statement.to_string(), registered);
    }

    /// The Query statements received, in order.
    pub fn queries(&self) -> Vec<String> {
        self.shared.lock().queries.clone()
    }

    /// At most this many rows a Query page (default 1,000, the service's
    /// own bound being the page's size in bytes).
    pub fn set_query_page_size(&self, rows: usize) {
        self.shared.lock().query_page_size = rows.max(1);
    }

    /// Creates a table without a request, and its database if needed:
    /// untagged, as a table outatime did not create. Panics if the table
    /// exists.
    pub fn create_table(&self, database: &str, table: &str, retention: Retention) {
        self.create_tagged_table(database, table, retention, &[]);
    }

    /// [`create_table`](Self::create_table) with tags, such as
    /// `("managed-by", "outatime")`.
    pub fn create_tagged_table(
        &self,
        database: &str,
        table: &str,
        retention: Retention,
        tags: &[(&str, &str)],
    ) {
        self.shared
            .lock()
            .store
            .seed_table(database, table, retention, tags, now_seconds());
    }

    /// Deletes a table and its records without a request, as someone else
    /// (or a restarted service) would; false when there was none.
    pub fn delete_table(&self, database: &str, table: &str) -> bool {
        self.shared
            .lock()
            .store
            .delete_table(database, table)
            .is_ok()
    }

    /// Whether the table exists.
    pub fn has_table(&self, database: &str, table: &str) -> bool {
        self.shared.lock().store.stored(database, table).is_some()
    }

    /// The table's tags; `None` when there is no such table.
    pub fn table_tags(&self, database: &str, table: &str) -> Option<BTreeMap<String, String>> {
        self.shared.lock().store.table_tags(database, table)
    }

    /// The table's records, sorted by dimensions, measure name and time.
    /// Panics if there is no such table.
    pub fn stored(&self, database: &str, table: &str) -> Vec<Stored> {
        self.shared
            .lock()
            .store
            .stored(database, table)
            .unwrap_or_else(|| panic!("the strict endpoint has no table {database}.{table}"))
    }

    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }

    /// From now on the replies to WriteRecords (faulted ones included) wait
    /// for [`release_writes`](Self::release_writes), their requests still
    /// in flight: a test decides what is in flight at once, whatever the
    /// machine's speed.
    pub fn hold_writes(&self) {
        self.shared.writes_held.send_replace(true);
    }

    /// Sends the held replies, and no longer holds new ones.
    pub fn release_writes(&self) {
        self.shared.writes_held.send_replace(false);
    }

    /// Waits until `count` WriteRecords requests have arrived. Panics after a
    /// minute: a bound on a hang, not on speed.
    pub async fn wait_for_write_requests(&self, count: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let arrived = self.stats().write_requests;
            if arrived >= count {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{arrived} of {count} WriteRecords arrived within a minute"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

struct Shared {
    address: SocketAddr,
    state: Mutex<State>,
    /// Whether WriteRecords replies are held (see `hold_writes`).
    writes_held: watch::Sender<bool>,
}

struct State {
    faults: Faults,
    stats: Stats,
    store: Store,
    in_flight: usize,
    query_page_size: usize,
    /// Statements answered as registered (`register_query`).
    registered: BTreeMap<String, query::Registered>,
    queries: Vec<String>,
}

impl Default for State {
    fn default() -> State {
        State {
            faults: Faults::default(),
            stats: Stats::default(),
            store: Store::default(),
            in_flight: 0,
            query_page_size: 1000,
            registered: BTreeMap::new(),
            queries: Vec::new(),
        }
    }
}

#[derive(Clone, Copy)]
enum Operation {
    CreateDatabase,
    DescribeDatabase,
    CreateTable,
    DescribeTable,
    DeleteTable,
    ListTagsForResource,
    TagResource,
    WriteRecords,
    DescribeEndpoints,
    Query,
}

impl Operation {
    /// The SDK names the operation in `X-Amz-Target: Timestream_20181101.<Operation>`.
    fn from_target(target: &str) -> Option<Operation> {
        Some(match target.strip_prefix("Timestream_20181101.")? {
            "CreateDatabase" => Operation::CreateDatabase,
            "DescribeDatabase" => Operation::DescribeDatabase,
            "CreateTable" => Operation::CreateTable,
            "DescribeTable" => Operation::DescribeTable,
            "DeleteTable" => Operation::DeleteTable,
            "ListTagsForResource" => Operation::ListTagsForResource,
            "TagResource" => Operation::TagResource,
            "WriteRecords" => Operation::WriteRecords,
            "DescribeEndpoints" => Operation::DescribeEndpoints,
            "Query" => Operation::Query,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Operation::CreateDatabase => "CreateDatabase",
            Operation::DescribeDatabase => "DescribeDatabase",
            Operation::CreateTable => "CreateTable",
            Operation::DescribeTable => "DescribeTable",
            Operation::DeleteTable => "DeleteTable",
            Operation::ListTagsForResource => "ListTagsForResource",
            Operation::TagResource => "TagResource",
            Operation::WriteRecords => "WriteRecords",
            Operation::DescribeEndpoints => "DescribeEndpoints",
            Operation::Query => "Query",
        }
    }
}

/// What to send back, and when.
struct Reply {
    /// `None`: close the connection without a reply.
    bytes: Option<Vec<u8>>,
    delay: Duration,
    /// A WriteRecords in flight until the reply is sent.
    in_flight: bool,
    /// Sent only once the test releases held writes.
    held: bool,
}

impl Reply {
    fn answer(id: u64, result: Result<Vec<u8>, ApiError>, delay: Duration) -> Reply {
        let (status, body) = match result {
            Ok(body) => (200, body),
            Err(error) => (error.status, error.body()),
        };
        let request_id = [("x-amzn-RequestId", format!("STRICT{id:020}"))];
        let bytes = http::response(status, "application/x-amz-json-1.0", &request_id, &body);
        Reply {
            bytes: Some(bytes),
            delay,
            in_flight: false,
            held: false,
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`handle`](Self::handle)'s reply, as the server sends it: a
    /// WriteRecords counts in flight until its reply is sent, and a held
    /// one waits for the test to release it.
    fn reply(shared: &Arc<Shared>, request: &http::Request, body: &[u8]) -> http::Reply {
        let reply = shared.handle(request, body);
        let held = reply.held.then(|| {
            let mut held = shared.writes_held.subscribe();
            let released = async move {
                // Err only when the sender is gone, with the endpoint.
                let _ = held.wait_for(|held| !held).await;
            };
            Box::pin(released) as _
        });
        http::Reply {
            bytes: reply.bytes,
            delay: reply.delay,
            gate: held,
            guard: reply
                .in_flight
                .then(|| Box::new(InFlight(shared.clone())) as _),
        }
    }

    /// Answers one request. Runs on the endpoint's thread, holding the lock
    /// only to count and to touch the store; bodies are parsed and rendered
    /// outside it.
    fn handle(&self, request: &http::Request, body: &[u8]) -> Reply {
        let target = request.header("x-amz-target");
        let operation = target.and_then(Operation::from_target);
        let (id, latency) = {
            let mut state = self.lock();
            state.stats.requests += 1;
            let name = operation.map_or("Unknown", Operation::name);
            *state.stats.operations.entry(name).or_default() += 1;
            if !matches!(operation, Some(Operation::WriteRecords)) {
                state.stats.last_other_request_ns = Some(now_nanos());
            }
            (state.stats.requests, state.faults.latency)
        };
        let region = match signing_region(request.header("authorization")) {
            Ok(region) => region,
            Err(error) => return Reply::answer(id, Err(error), latency),
        };
        let Some(operation) = operation else {
            let target = target.unwrap_or("(none)");
            let error = ApiError::client(
                "UnknownOperationException",
                format!("The strict endpoint does not serve X-Amz-Target {target}."),
            );
            return Reply::answer(id, Err(error), latency);
        };
        let result = match operation {
            Operation::WriteRecords => return self.write_records(id, body, latency),
            Operation::CreateDatabase => parse(body).and_then(|request: wire::DatabaseRequest| {
                self.lock()
                    .store
                    .create_database(&request.database_name, region, now_seconds())
            }),
            Operation::DescribeDatabase => {
                parse(body).and_then(|request: wire::DatabaseRequest| {
                    self.lock().store.describe_database(&request.database_name)
                })
            }
            Operation::CreateTable => parse(body).and_then(|request: wire::TableRequest| {
                self.lock()
                    .store
                    .create_table(&request, region, now_seconds())
            }),
            Operation::DescribeTable => parse(body).and_then(|request: wire::TableRequest| {
                self.lock()
                    .store
                    .describe_table(&request.database_name, &request.table_name)
            }),
            Operation::DeleteTable => parse(body).and_then(|request: wire::TableRequest| {
                self.lock()
                    .store
                    .delete_table(&request.database_name, &request.table_name)
            }),
            Operation::ListTagsForResource => parse(body).and_then(|request: wire::TagsRequest| {
                self.lock().store.list_tags(&request.resource_arn)
            }),
            Operation::TagResource => parse(body).and_then(|request: wire::TagsRequest| {
                self.lock()
                    .store
                    .tag_resource(&request.resource_arn, &request.tags)
            }),
            Operation::Query => parse(body).and_then(|request| self.query(&request, id)),
            Operation::DescribeEndpoints => Ok(format!(
                r#"{{"Endpoints":[{{"Address":"{}","CachePeriodInMinutes":1440}}]}}"#,
                self.address
            )
            .into_bytes()),
        };
        Reply::answer(id, result, latency)
    }

    fn write_records(&self, id: u64, body: &[u8], latency: Duration) -> Reply {
        let request: wire::WriteRecordsRequest = match parse(body) {
            Ok(request) => request,
            Err(error) => return Reply::answer(id, Err(error), latency),
        };
        let now_ns = now_nanos();
        let mut guard = self.lock();
        let state = &mut *guard;
        let stats = &mut state.stats;
        stats.write_requests += 1;
        let sequence = stats.write_requests;
        stats.records_received += request.records.len() as u64;
        stats.largest_batch = stats.largest_batch.max(request.records.len());
        state.in_flight += 1;
        stats.max_in_flight = stats.max_in_flight.max(state.in_flight);
        stats.in_flight_at_arrival.push(state.in_flight);
        let faults = &state.faults;
        let held = *self.writes_held.borrow();
        let every = |n: Option<u32>| n.is_some_and(|n| sequence.is_multiple_of(u64::from(n)));
        let faulted = |error: ApiError| Reply {
            in_flight: true,
            held,
            ..Reply::answer(id, Err(error), latency)
        };
        if every(faults.drop_every) {
            stats.dropped += 1;
            return Reply {
                bytes: None,
                delay: latency,
                in_flight: true,
                held,
            };
        }
        if every(faults.throttle_every)
            || faults
                .throttle_above_in_flight
                .is_some_and(|limit| state.in_flight > limit)
        {
            stats.throttled += 1;
            stats
                .throttled_requests
                .push(stats.in_flight_at_arrival.len() - 1);
            // The text is this endpoint's own.
            return faulted(ApiError::client(
                "ThrottlingException",
                "Rate exceeded (injected by the strict test endpoint).",
            ));
        }
        if every(faults.server_error_every) {
            stats.server_errors += 1;
            return faulted(ApiError {
                status: 500,
                ..ApiError::client(
                    "InternalServerException",
                    "Internal server error (injected by the strict test endpoint).",
                )
            });
        }
        let mut delay = latency;
        if let Some((n, wait)) = faults.slow_every
            && every(Some(n))
        {
            stats.slowed += 1;
            delay += wait;
        }
        let result = state.store.write(&request, now_ns);
        if let Ok(outcome) = &result {
            stats.records_ingested += (outcome.memory_store + outcome.magnetic_store) as u64;
            stats.records_rejected += outcome.rejected.len() as u64;
            stats.records_rejected_async += outcome.rejected_async as u64;
        }
        drop(guard);
        let result = result.and_then(|outcome| {
            if !outcome.rejected.is_empty() {
                return Err(ApiError::rejected(outcome.rejected));
            }
            let ingested = wire::RecordsIngested {
                total: outcome.memory_store + outcome.magnetic_store + outcome.rejected_async,
                memory_store: outcome.memory_store,
                magnetic_store: outcome.magnetic_store + outcome.rejected_async,
            };
            Ok(
                serde_json::to_vec(&BTreeMap::from([("RecordsIngested", ingested)]))
                    .expect("a response body always serializes"),
            )
        });
        Reply {
            in_flight: true,
            held,
            ..Reply::answer(id, result, delay)
        }
    }

    /// One page of a Query's answer.
    fn query(&self, request: &query::QueryRequest, id: u64) -> Result<Vec<u8>, ApiError> {
        {
            let mut state = self.lock();
            state.queries.push(request.query_string.clone());
            if let Some(registered) = state.registered.get(&request.query_string) {
                let page_size = state.query_page_size;
                return query::registered_answer(request, registered, page_size, id);
            }
        }
        let parsed = query::parse(&request.query_string)?;
        let (database, table) = parsed.table();
        let (stored, page_size) = {
            let mut state = self.lock();
            let queries = state.stats.operations.get("Query").copied().unwrap_or(0);
            if let Some(n) = state.faults.throttle_query_every
                && queries.is_multiple_of(u64::from(n))
            {
                state.stats.throttled += 1;
                // The text is this endpoint's own.
                return Err(ApiError::client(
                    "ThrottlingException",
                    "Rate exceeded (injected by the strict test endpoint).",
                ));
            }
            let stored = state.store.stored(database, table);
            (stored, state.query_page_size)
        };
        // The text is this endpoint's own.
        let stored = stored.ok_or_else(|| {
            ApiError::validation(format!(
                "Table {database}.{table} does not exist or is not authorized."
            ))
        })?;
        match &parsed {
            query::Query::Select(select) => query::answer(request, select, &stored, page_size, id),
            query::Query::Describe { .. } => Ok(query::describe_answer(&stored, id)),
        }
    }

    fn leave_flight(&self) {
        self.lock().in_flight -= 1;
    }
}

/// Counts a WriteRecords out of flight when its reply is sent, or when its
/// connection task ends first.
struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.leave_flight();
    }
}

fn parse<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| ApiError::validation(error.to_string()))
}

/// The region of a SigV4 `Authorization` header's credential scope
/// (`AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/timestream/aws4_request, ...`).
/// The signature itself is not checked: the secret is the client's.
fn signing_region(authorization: Option<&str>) -> Result<&str, ApiError> {
    let forbidden = |exception, message: &str| ApiError {
        status: 403,
        ..ApiError::client(exception, message)
    };
    let Some(authorization) = authorization else {
        return Err(forbidden(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let scope = authorization
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .and_then(|rest| rest.split(',').next())
        .filter(|_| authorization.contains("Signature="));
    match scope
        .map(|scope| scope.split('/').collect::<Vec<_>>())
        .as_deref()
    {
        Some([_, _, region, "timestream", "aws4_request"]) => Ok(region),
        _ => Err(forbidden(
            "IncompleteSignatureException",
            "The Authorization header is not a SigV4 signature for service timestream.",
        )),
    }
}

fn now_seconds() -> f64 {
    now_nanos() as f64 / 1e9
}
