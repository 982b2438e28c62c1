//! An in-process InfluxDB v2/v3 HTTP endpoint, for the tests and benches
//! of the InfluxDB target's v2 and v3 APIs (v1 is tested against a real
//! influxd: OUTATIME_INFLUXDB_URL).
//!
//! It serves, on 127.0.0.1 with its own thread and current-thread tokio
//! runtime (one core for the endpoint, the rest for the client):
//! - `POST /api/v2/write?org=&bucket=&precision=` with
//!   `Authorization: Token <token>`, plain or `Content-Encoding: gzip`;
//! - `POST /api/v3/write_lp?db=&precision=&accept_partial=` with
//!   `Authorization: Bearer <token>` (or `Token`);
//! - `GET|HEAD /ping` (204) and `GET /health` (200), without a token;
//! - `POST /api/v2/delete?org=&bucket=` (`{"start","stop","predicate"}`,
//!   the predicate `_measurement="m"` with optional `AND tag="v"` terms);
//! - `GET /api/v2/orgs?org=`, `GET /api/v2/buckets?org=&name=` (with
//!   `retentionRules`), `POST /api/v2/buckets`;
//! - `GET /api/v3/configure/database?format=json`,
//!   `POST /api/v3/configure/database` (`{"db": NAME}`);
//! - `GET /query?db=&epoch=ns&q=` (the v1-compatible read of both), for
//!   the one InfluxQL statement `outatime verify` sends (`query.rs`) and
//!   `SHOW MEASUREMENTS`, with the token.
//!
//! Bodies are parsed strictly as line protocol (`line_protocol.rs`) and
//! the points kept like InfluxDB keeps them (`store.rs`): read them back
//! with [`InfluxEndpoint::points`], change them behind the client's back
//! with [`InfluxEndpoint::set_point`] and [`InfluxEndpoint::delete_series`].
//! Refusals answer the way the servers do
//! (`api.rs` has each body):
//! - v2, a malformed line: 400, nothing stored (InfluxDB OSS 2 refuses the
//!   batch), `{"code":"invalid","line":N,"message":"partial write: unable
//!   to parse '<line>' on line N: <reason>; dropped=<lines>"}`, one
//!   `unable to parse` a refused line, joined by newlines, `line` the first;
//! - v2, a field type conflict or a point older than the bucket's
//!   retention: 422 `{"code":"unprocessable entity","message":"failure
//!   writing points to database: partial write: <why> dropped=K"}`, the
//!   other lines stored;
//! - v3, any refused line: 400 `{"error":"partial write of line protocol
//!   occurred","data":[{"original_line":..,"line_number":N,
//!   "error_message":..}]}`, the other lines stored (with
//!   `accept_partial=false`: nothing stored, `"error":"parsing failed for
//!   write_lp endpoint"`).
//!
//! Faults are injected deterministically ([`Faults`]) and can change while
//! it runs; every request is logged ([`InfluxEndpoint::requests`]).
//!
//! The test binary compiles it once, as `fakes::influx`; a bench declares
//! `fakes` with only the fakes it runs (`../mod.rs` shows how).

mod api;
pub mod line_protocol;
mod query;
mod store;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::http::{self, now_nanos};

pub use api::ORG_ID;
pub use line_protocol::FieldValue;

/// A database (a v2 bucket, a v3 database) and how long it keeps points:
/// `None` forever. A point older than that is refused, as the servers
/// refuse it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Database {
    pub name: String,
    pub retention: Option<Duration>,
}

impl Database {
    pub fn new(name: &str) -> Database {
        Database {
            name: name.to_owned(),
            retention: None,
        }
    }

    pub fn retention(mut self, retention: Duration) -> Database {
        self.retention = Some(retention);
        self
    }
}

/// What the endpoint is. The default: org `outatime`, token
/// [`TOKEN`], one database `e2e` kept forever, a token that may write and
/// create, v3 writes creating an unknown database (as InfluxDB 3 Core
/// does), points kept, no faults.
#[derive(Clone, Debug)]
pub struct Config {
    pub org: String,
    /// `None`: no `Authorization` header is needed (nor checked).
    pub token: Option<String>,
    /// Whether the token may write; when not, writes answer 401 (v2) or
    /// 403 (v3).
    pub token_can_write: bool,
    /// Whether the token may create buckets and databases.
    pub token_can_create: bool,
    pub databases: Vec<Database>,
    /// A v3 write to an unknown database creates it (InfluxDB 3 Core does);
    /// when false it answers 404.
    pub v3_create_on_write: bool,
    /// Keep every point (for [`InfluxEndpoint::points`]); benches that
    /// write millions turn it off: lines are still parsed and checked.
    pub keep_points: bool,
    pub faults: Faults,
}

/// The measurement of outatime's markers.
pub const MARKER: &str = "outatime_managed";

/// The default token.
pub const TOKEN: &str = "outatime-test-token";

impl Default for Config {
    fn default() -> Config {
        Config {
            org: "outatime".to_owned(),
            token: Some(TOKEN.to_owned()),
            token_can_write: true,
            token_can_create: true,
            databases: vec![Database::new("e2e")],
            v3_create_on_write: true,
            keep_points: true,
            faults: Faults::default(),
        }
    }
}

/// Faults injected into write requests (v2 and v3 alike). "Every Nth"
/// counts write requests from 1, faulted ones included, so the same client
/// run meets the same faults. When several apply to one request, the first
/// in this order wins: drop, throttle, unavailable, too large, reject a
/// line. A request answered with a fault stores nothing, except a rejected
/// line, which is answered the way the API answers a malformed line.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Added before every reply, of every request: a server far away.
    pub latency: Duration,
    /// Every Nth write: the connection is closed without a reply.
    pub drop_every: Option<u32>,
    /// Every Nth write: 429 with `Retry-After: <seconds>`.
    pub throttle_every: Option<(u32, u32)>,
    /// Every Nth write: 503.
    pub unavailable_every: Option<u32>,
    /// A write whose body, decompressed, is larger than this many bytes:
    /// 413 (InfluxDB 2 limits the decompressed batch).
    pub max_body_bytes: Option<usize>,
    /// Every Nth write (`.0`): its line `.1` (from 1; the last line if
    /// there are fewer) is refused as if it were malformed.
    pub reject_line_every: Option<(u32, usize)>,
    /// Every Nth write: stored as usual, answered this much later.
    pub slow_every: Option<(u32, Duration)>,
}

/// A fault the endpoint injected into a request's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Dropped,
    Throttled,
    Unavailable,
    TooLarge,
    RejectedLine,
    Slowed,
}

/// One stored value: InfluxDB's key (measurement, tag set, field, time)
/// and the value last written there.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub measurement: String,
    pub tags: BTreeMap<String, String>,
    pub field: String,
    pub time_ns: i64,
    pub value: FieldValue,
}

/// A request as the endpoint saw it, and what it answered.
#[derive(Clone, Debug)]
pub struct Logged {
    pub path: String,
    /// Percent-decoded, in the order sent.
    pub query: Vec<(String, String)>,
    /// Names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The body's size as sent (compressed if it was).
    pub body_bytes: usize,
    /// Lines of line protocol in a write (points and refused lines; blank
    /// lines and comments not counted).
    pub lines: usize,
    /// The measurements of the write's points, sorted, once each (refused
    /// lines not included).
    pub measurements: Vec<String>,
    /// `None`: the connection was dropped without an answer.
    pub status: Option<u16>,
    pub fault: Option<Fault>,
}

impl Logged {
    pub fn param(&self, name: &str) -> Option<&str> {
        http::param(&self.query, name)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        http::header(&self.headers, name)
    }

    pub fn is_write(&self) -> bool {
        api::is_write_path(&self.path)
    }

    /// A write of outatime's markers only (`outatime_managed`), which an
    /// apply sends before the records of a measurement it makes.
    pub fn is_marker_write(&self) -> bool {
        self.is_write() && self.measurements == [MARKER]
    }
}

/// The endpoint: a listener on 127.0.0.1 and a thread serving it. Dropping
/// it stops the thread and closes every connection.
pub struct InfluxEndpoint {
    shared: Arc<Shared>,
    _server: http::Server,
}

/// What one request may carry on the wire. A configured body limit below
/// this is answered with 413; above it the connection is closed.
const MAX_BODY: usize = 64 * 1024 * 1024;

impl InfluxEndpoint {
    pub fn start(config: Config) -> InfluxEndpoint {
        let listener = http::Listener::bind("influx endpoint");
        let mut store = store::Store::default();
        for database in &config.databases {
            store.create(database);
        }
        let shared = Arc::new(Shared {
            address: listener.address(),
            state: Mutex::new(State {
                faults: config.faults.clone(),
                config,
                store,
                log: Vec::new(),
                write_requests: 0,
                sql: std::collections::BTreeMap::new(),
            }),
        });
        let server = listener.serve("influx-endpoint", MAX_BODY, {
            let shared = shared.clone();
            move |request, body| api::handle(&shared, request, body)
        });
        InfluxEndpoint {
            shared,
            _server: server,
        }
    }

    /// "http://127.0.0.1:PORT"
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.address)
    }

    /// An `outatime.yaml` naming this endpoint the target `influx`, with
    /// `api` v2 (org `outatime`, bucket `e2e`) or v3 (database `e2e`), its
    /// token read from the environment variable `token_env`.
    pub fn outatime_yaml(&self, api: &str, token_env: &str) -> String {
        let destination = match api {
            "v2" => "    org: outatime\n    bucket: e2e\n",
            _ => "    database: e2e\n",
        };
        format!(
            "targets:\n  influx:\n    kind: influxdb\n    api: {api}\n    url: {}\n{destination}    token_env: {token_env}\n",
            self.url()
        )
    }

    /// Answers InfluxDB 3's `GET /api/v3/query_sql` of `statement` (this
    /// exact text, any `db`) with `csv` (a header line, then the rows), as
    /// `format=csv` asks; any other statement is a 400. The tables the
    /// system under test keeps are the test's to describe.
    pub fn register_sql(&self, statement: &str, csv: &str) {
        self.shared
            .lock()
            .sql
            .insert(statement.to_string(), csv.to_string());
    }

    /// Replaces the faults, from the next request on.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }

    /// The database's points, sorted by measurement, tags, field and time;
    /// none for an unknown database.
    pub fn points(&self, database: &str) -> Vec<Point> {
        self.shared.lock().store.points(database)
    }

    /// Sets one value directly, as another writer would (no type check);
    /// panics for an unknown database.
    pub fn set_point(&self, database: &str, point: &Point) {
        assert!(
            self.shared.lock().store.set_point(database, point),
            "no database {database:?} in the influx endpoint"
        );
    }

    /// Deletes every value of the series `measurement` with exactly these
    /// tags, as `DROP SERIES` would; how many values went.
    pub fn delete_series(&self, database: &str, measurement: &str, tags: &[(&str, &str)]) -> usize {
        let tags = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.shared
            .lock()
            .store
            .delete_series(database, measurement, &tags)
    }

    /// The databases (buckets) that exist, by name.
    pub fn databases(&self) -> Vec<Database> {
        self.shared.lock().store.list()
    }

    /// Every request so far, in the order they were answered.
    pub fn requests(&self) -> Vec<Logged> {
        self.shared.lock().log.clone()
    }

    /// Write requests so far (v2 and v3), faulted ones included.
    pub fn write_requests(&self) -> u64 {
        self.shared.lock().write_requests
    }

    /// Blocks until `count` write requests have been answered (or dropped).
    /// Panics after a minute: a bound on a hang, not on speed.
    pub fn wait_for_writes(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let answered = self
                .shared
                .lock()
                .log
                .iter()
                .filter(|l| l.is_write())
                .count();
            if answered >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{answered} of {count} writes answered within a minute"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

struct Shared {
    address: SocketAddr,
    state: Mutex<State>,
}

struct State {
    config: Config,
    faults: Faults,
    store: store::Store,
    log: Vec<Logged>,
    write_requests: u64,
    /// `/api/v3/query_sql` statements a test registered, with the CSV
    /// answer (header first) each gets.
    sql: std::collections::BTreeMap<String, String>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
