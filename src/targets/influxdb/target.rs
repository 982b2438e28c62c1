//! InfluxDB as the apply engine drives it: describe (ping, the database or
//! bucket, created on `--create`, and its retention as each table's
//! window), refuse what line protocol cannot carry, encode a batch as line
//! protocol, write it, and classify the answer.
//!
//! Every measurement of an apply lives in the one database or bucket, so
//! every table gets its retention. InfluxDB stores a point by measurement,
//! tag set, timestamp and field key: writing the same point again replaces
//! it, so re-applying the same plan at the same anchor leaves the data as
//! it was. It has no Version: the apply's is not written.

use std::ops::Range;
use std::time::Duration;

use super::answer::{Failure, RetryReason, WriteAnswer};
use super::client::{BuildError, CallError, Client};
use super::database::Retention;
use super::line_protocol::{Encoded, Encoder, Limits, Precision, Problem};
use super::marker::{self, Found, LinesError, MARKER};
use super::{Destination, InfluxTarget, Store};
use crate::record::Catalog;
use crate::targets::endpoint::Endpoint;
use crate::targets::{
    Answer, Backend, Batch, BatchLimits, Item, Kind, Made, Mark, Owner, RecordRejection, Refusal,
    TableSpec, TableState, TargetError, Window, Words,
};

/// Why an InfluxDB target cannot be written before any record is sent:
/// the server, the database or bucket, the token, or outatime's markers.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InfluxError {
    /// An `https://` URL on a machine without root certificates.
    #[error("cannot reach {url} over https: {error}")]
    NoClient {
        url: Endpoint,
        #[source]
        error: BuildError,
    },
    /// The ping (`/ping`, `/health`) got no answer, or a refusal.
    #[error("InfluxDB at {url} does not answer: {error}")]
    NoAnswer {
        url: Endpoint,
        #[source]
        error: CallError,
    },
    /// Whether the database or bucket exists could not be asked.
    #[error("cannot look up the {store}: {error}")]
    NotLookedUp {
        store: Store,
        #[source]
        error: CallError,
    },
    /// `--create`, and the token may not create the database or bucket.
    #[error(
        "the token may not create the {store} ({status}: {message}); create it, or give a token that may"
    )]
    MayNotCreate {
        store: Store,
        status: u16,
        message: String,
    },
    /// `--create`, and creating the database or bucket failed otherwise.
    #[error("cannot create the {store}: {error}")]
    NotCreated {
        store: Store,
        #[source]
        error: CallError,
    },
    /// The database or bucket was created, and the server does not list it.
    #[error("the {store} was created but is not listed")]
    CreatedNotListed { store: Store },
    /// The database or bucket was created, and could not be asked for.
    #[error("cannot look up the {store} after creating it: {error}")]
    NotLookedUpAfterCreating {
        store: Store,
        #[source]
        error: CallError,
    },
    /// An empty write was refused: the token may not write.
    #[error(
        "the token may not write to the {store} ({status}: {message}); give a token with write permission for it"
    )]
    MayNotWrite {
        store: Store,
        status: u16,
        message: String,
    },
    /// The scenario names a table as outatime's markers' measurement.
    #[error(
        "the scenario writes a table `{}`, the measurement that holds outatime's markers; rename the table",
        MARKER
    )]
    MarkerTable,
    /// The measurements and markers could not be read.
    #[error(
        "cannot read the measurements and outatime's markers (`{}`) in the {store}: {error}",
        MARKER
    )]
    NotSurveyed {
        store: Store,
        #[source]
        error: CallError,
    },
    /// Asked to mark before describing: a bug of the engine's order.
    #[error("the target was not described")]
    NotDescribed,
    /// The markers of new measurements cannot be written as line protocol.
    #[error(transparent)]
    MarkerLines(#[from] LinesError),
    /// Writing the markers failed: nothing else was written.
    #[error(
        "cannot write outatime's marker (`{}`) for {}, so nothing was written: {error}",
        MARKER,
        quoted(tables)
    )]
    MarkerNotWritten {
        tables: Vec<String>,
        #[source]
        error: WriteError,
    },
}

/// Why a write was not stored, as one error: what the server answered, or
/// why it did not.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    #[error(transparent)]
    Refused(Failure),
    #[error(transparent)]
    Unanswered(RetryReason),
    #[error("413: the body is too large")]
    TooLarge,
    /// A partial write: the server's message.
    #[error("{message}")]
    Rejected { message: String },
}

/// `` `a`, `b` ``.
fn quoted(tables: &[String]) -> String {
    let tables: Vec<String> = tables.iter().map(|t| format!("`{t}`")).collect();
    tables.join(", ")
}

/// The InfluxDB target: where it writes, and once described and started,
/// its client and the catalogue's line protocol fragments.
pub(crate) struct Influxdb {
    target: InfluxTarget,
    timeout: Duration,
    client: Option<Client>,
    encoder: Option<Encoder>,
    /// The measurements `describe` found without points: the apply makes
    /// them, and marks them first ([`super::marker`]).
    to_mark: Vec<String>,
}

impl Influxdb {
    /// A target writing to `target`, each attempt given up after `timeout`.
    pub(crate) fn new(target: InfluxTarget, timeout: Duration) -> Influxdb {
        Influxdb {
            target,
            timeout,
            client: None,
            encoder: None,
            to_mark: Vec::new(),
        }
    }

    /// What a database or bucket of this retention accepts, in the
    /// engine's terms, with InfluxDB's words. InfluxDB takes points at any
    /// time ahead of its clock.
    fn window(&self, retention: Retention) -> Window {
        let keeps = match retention {
            Retention::Forever => "keeps points forever".to_string(),
            Retention::Keeps(duration) => format!("keeps points for {}", hours(duration)),
            Retention::Unknown => "does not say how long it keeps points (the v3 API)".into(),
        };
        let (subject, too_old) = match &self.target.destination {
            Destination::V1 {
                database,
                retention_policy,
            } => (
                match retention_policy {
                    Some(rp) => format!("the retention policy `{rp}` of `{database}`"),
                    None => format!("the default retention policy of `{database}`"),
                },
                Words {
                    why: "older than the retention policy keeps (InfluxDB drops them)".into(),
                    fix: "shift the window closer to now, or write into a retention policy that keeps them (`retention_policy:` in the target; `ALTER RETENTION POLICY ... DURATION ...`)".into(),
                },
            ),
            Destination::V2 { bucket, .. } => (
                format!("the bucket `{bucket}`"),
                Words {
                    why: "older than the bucket's retention period (InfluxDB drops them)".into(),
                    fix: "shift the window closer to now, or lengthen the bucket's retention period (`influx bucket update --retention`)".into(),
                },
            ),
            Destination::V3 { database } => (
                format!("the database `{database}`"),
                Words {
                    why: "older than the database keeps (InfluxDB drops them)".into(),
                    fix: "shift the window closer to now, or keep the database's data longer"
                        .into(),
                },
            ),
        };
        Window {
            max_age: match retention {
                Retention::Keeps(duration) => {
                    Some(i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX))
                }
                Retention::Forever | Retention::Unknown => None,
            },
            max_ahead: None,
            retention: format!("{subject} {keeps}"),
            too_old,
            // InfluxDB takes future points: never asked.
            too_new: Words {
                why: "in the future".into(),
                fix: String::new(),
            },
        }
    }

    /// The database or bucket's retention: made first with `--create`.
    async fn retention(
        &self,
        client: &Client,
        create: bool,
    ) -> Result<Option<Retention>, InfluxError> {
        let store = self.target.destination.store();
        let found = match client.database().await {
            Ok(found) => found,
            Err(error) => return Err(InfluxError::NotLookedUp { store, error }),
        };
        if found.is_some() || !create {
            return Ok(found);
        }
        match client.create_database().await {
            Ok(()) => {}
            Err(CallError::Failed(Failure::Unauthorized { status, message })) => {
                return Err(InfluxError::MayNotCreate {
                    store,
                    status,
                    message,
                });
            }
            Err(error) => return Err(InfluxError::NotCreated { store, error }),
        }
        match client.database().await {
            Ok(Some(retention)) => Ok(Some(retention)),
            Ok(None) => Err(InfluxError::CreatedNotListed { store }),
            Err(error) => Err(InfluxError::NotLookedUpAfterCreating { store, error }),
        }
    }

    /// Whether the token may write, asked before any record is sent: an
    /// empty write writes nothing and is answered like any other, 204 when
    /// the token may (InfluxDB 1.x, and 2.x since it allowed empty bodies,
    /// influxdata/influxdb#22574) and 401 or 403 when it may not. InfluxDB
    /// 3 does not document its answer to an empty write, so a v3 token is
    /// judged by the first write. Any answer but a refusal lets the apply go
    /// on: the probe must not stop a server that merely answers it oddly.
    async fn token_may_write(&self, client: &Client) -> Result<(), InfluxError> {
        if matches!(self.target.destination, Destination::V3 { .. }) {
            return Ok(());
        }
        match client.write(b"", Precision::Seconds).await {
            WriteAnswer::Failed(Failure::Unauthorized { status, message }) => {
                Err(InfluxError::MayNotWrite {
                    store: self.target.destination.store(),
                    status,
                    message,
                })
            }
            _ => Ok(()),
        }
    }
}

/// One write request: the body and its precision, or why the batch could
/// not be encoded (the preflight refuses such records first).
pub(crate) enum Request {
    Lines(Encoded),
    Unwritable(Unsent),
}

/// Why a batch was not sent.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unsent {
    /// Asked to encode before the catalogue was known: the engine's order.
    #[error("the target was not started")]
    NotStarted,
    /// Asked to send before the tables were described: the engine's order.
    #[error("the target was not described")]
    NotDescribed,
    /// A record of the batch that line protocol cannot carry.
    #[error("record {index} of the batch cannot be written: {problem}")]
    Unwritable {
        index: usize,
        #[source]
        problem: Problem,
    },
}

/// The write's answer and how many lines it carried, or why nothing was
/// sent.
pub(crate) type Response = Result<(WriteAnswer, usize), Unsent>;

impl Backend for Influxdb {
    type Request = Request;
    type Response = Response;

    fn label(&self) -> String {
        format!("influxdb {}", self.target.destination.name())
    }

    fn kind(&self) -> Kind {
        Kind::Influxdb
    }

    fn identity(&self) -> Vec<(String, String)> {
        // Redacted: a journal is a file anyone may read, and a password
        // changed between an apply and its resume is the same target.
        let mut identity = vec![("url".to_string(), self.target.url.to_string())];
        match &self.target.destination {
            Destination::V1 {
                database,
                retention_policy,
            } => identity.extend([
                ("api".into(), "v1".into()),
                ("database".into(), database.clone()),
                (
                    "retention_policy".into(),
                    retention_policy.clone().unwrap_or_default(),
                ),
            ]),
            Destination::V2 { org, bucket } => identity.extend([
                ("api".into(), "v2".into()),
                ("org".into(), org.clone()),
                ("bucket".into(), bucket.clone()),
            ]),
            Destination::V3 { database } => identity.extend([
                ("api".into(), "v3".into()),
                ("database".into(), database.clone()),
            ]),
        }
        identity
    }

    fn table_name(&self, target_name: &str) -> String {
        target_name.to_string()
    }

    fn qualified(&self, name: &str) -> String {
        format!("{}.{name}", self.target.destination.name())
    }

    fn limits(&self) -> BatchLimits {
        BatchLimits {
            max_records: Limits::WRITE.lines,
            max_bytes: Some(Limits::WRITE.bytes),
        }
    }

    fn record_size(&self, table: u16, item: &Item) -> usize {
        self.encoder
            .as_ref()
            .map_or(0, |encoder| encoder.size(table, item))
    }

    fn refusal(&self, table: u16, item: &Item) -> Option<Refusal> {
        let encoder = self.encoder.as_ref()?;
        let (measure, problem) = encoder.check_item(table, item).err()?;
        Some(Refusal {
            measure,
            fix: fix(&problem).into(),
            why: problem.to_string(),
        })
    }

    fn created_window(&self) -> Window {
        // A database created by `CREATE DATABASE`, or a bucket without
        // retention rules, keeps points forever; v3 does not say.
        match self.target.destination {
            Destination::V3 { .. } => self.window(Retention::Unknown),
            _ => self.window(Retention::Forever),
        }
    }

    async fn describe(
        &mut self,
        tables: &[String],
        create: Option<&Mark>,
    ) -> Result<Vec<TableState>, TargetError> {
        let create = create.is_some();
        let url = &self.target.url;
        let client = Client::new(self.target.clone(), self.timeout).map_err(|error| {
            InfluxError::NoClient {
                url: url.clone(),
                error,
            }
        })?;
        client.ping().await.map_err(|error| InfluxError::NoAnswer {
            url: url.clone(),
            error,
        })?;
        let retention = self.retention(&client, create).await?;
        let Some(retention) = retention else {
            self.client = Some(client);
            return Ok(vec![TableState::Missing; tables.len()]);
        };
        self.token_may_write(&client).await?;
        if tables.iter().any(|t| t == MARKER) {
            return Err(InfluxError::MarkerTable.into());
        }
        let survey = client
            .survey()
            .await
            .map_err(|error| InfluxError::NotSurveyed {
                store: self.target.destination.store(),
                error,
            })?;
        let window = self.window(retention);
        self.to_mark.clear();
        let mut states = Vec::with_capacity(tables.len());
        for table in tables {
            let owner = match survey.found(table) {
                Found::Missing => {
                    self.to_mark.push(table.clone());
                    Owner::Outatime
                }
                Found::Marked(_) => Owner::Outatime,
                Found::Unmarked => Owner::Other,
            };
            // A measurement is made by its first point, and deleted with
            // its last: one without points holds nothing journaled, even
            // when a marker (which DROP MEASUREMENT keeps) names it.
            let marker = survey.marked_at.get(table).copied();
            let made = match (survey.measurements.contains(table), marker) {
                (false, marker) => Made::Empty { marker },
                (true, Some(at)) => Made::At(at),
                (true, None) => Made::Unknown,
            };
            states.push(TableState::Present(window.clone(), owner, made));
        }
        self.client = Some(client);
        Ok(states)
    }

    async fn mark_new(&self, mark: &Mark, now: i64) -> Result<(), TargetError> {
        if self.to_mark.is_empty() {
            return Ok(());
        }
        let Some(client) = &self.client else {
            return Err(InfluxError::NotDescribed.into());
        };
        let body = marker::lines(&self.to_mark, &mark.scenario, now.div_euclid(1_000_000_000))
            .map_err(InfluxError::from)?;
        let error = match client.write(&body, Precision::Seconds).await {
            WriteAnswer::Written => return Ok(()),
            WriteAnswer::Failed(failure) => WriteError::Refused(failure),
            WriteAnswer::Retry { reason, .. } => WriteError::Unanswered(reason),
            WriteAnswer::TooLarge => WriteError::TooLarge,
            WriteAnswer::Rejected { message, .. } => WriteError::Rejected { message },
        };
        Err(InfluxError::MarkerNotWritten {
            tables: self.to_mark.clone(),
            error,
        }
        .into())
    }

    fn marked_at(&self, now: i64) -> i64 {
        // The marker's time is written in whole seconds.
        now.div_euclid(1_000_000_000) * 1_000_000_000
    }

    fn start(&mut self, catalog: &Catalog, _tables: &[TableSpec], _version: i64) {
        self.encoder = Some(Encoder::new(catalog));
    }

    fn encode(&self, batch: &Batch, items: Range<usize>) -> Request {
        let Some(encoder) = &self.encoder else {
            return Request::Unwritable(Unsent::NotStarted);
        };
        let items = &batch.items[items];
        match encoder.encode_items(batch.table, items) {
            Ok(encoded) => Request::Lines(encoded),
            Err(refused) => Request::Unwritable(Unsent::Unwritable {
                index: refused.index,
                problem: refused.problem,
            }),
        }
    }

    async fn send(&self, request: Request) -> Response {
        let Some(client) = &self.client else {
            return Err(Unsent::NotDescribed);
        };
        match request {
            Request::Lines(encoded) => Ok((
                client.write(&encoded.body, encoded.precision).await,
                encoded.lines,
            )),
            Request::Unwritable(unsent) => Err(unsent),
        }
    }

    fn classify(&self, response: Response) -> Answer {
        let (answer, sent) = match response {
            Ok(answer) => answer,
            Err(unsent) => return Answer::Failed(unsent.to_string()),
        };
        match answer {
            WriteAnswer::Written => Answer::Written,
            WriteAnswer::Rejected { lines, message } if !lines.is_empty() => {
                let mut rejected: Vec<RecordRejection> = lines
                    .into_iter()
                    .map(|line| RecordRejection {
                        index: line.index,
                        reason: if line.reason.is_empty() {
                            message.clone()
                        } else {
                            line.reason
                        },
                        existing_version: None,
                    })
                    .collect();
                // InfluxDB 2 refuses the whole write for a line it cannot
                // parse: the other records were not stored either.
                if let Destination::V2 { .. } = self.target.destination {
                    let named: Vec<usize> = rejected.iter().map(|r| r.index).collect();
                    let first = named.first().map_or(0, |i| i + 1);
                    rejected.extend((0..sent).filter(|i| !named.contains(i)).map(|index| {
                        RecordRejection {
                            index,
                            reason: format!(
                                "not written: InfluxDB 2 refused the whole write for its line {first}"
                            ),
                            existing_version: None,
                        }
                    }));
                    rejected.sort_by_key(|r| r.index);
                }
                Answer::Rejected(rejected)
            }
            // A partial write that names no line (points beyond the
            // retention policy): the others are written, and which were
            // not is unknown.
            WriteAnswer::Rejected { message, .. } => {
                Answer::Failed(format!("InfluxDB dropped points: {message}"))
            }
            WriteAnswer::Retry {
                after,
                reason:
                    RetryReason::Status {
                        status: 429,
                        message,
                    },
            } => Answer::Throttled {
                after,
                reason: format!("429: {message}"),
            },
            WriteAnswer::Retry { after, reason } => Answer::Retry {
                after,
                reason: reason.to_string(),
            },
            WriteAnswer::TooLarge => Answer::TooLarge,
            WriteAnswer::Failed(failure) => Answer::Failed(failure.to_string()),
        }
    }
}

/// `1h`, `168h`, `90m`, `45s`: a retention as InfluxDB users write it.
fn hours(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds.is_multiple_of(3_600) {
        format!("{}h", seconds / 3_600)
    } else if seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

/// What to change in the scenario so that line protocol carries it.
fn fix(problem: &Problem) -> &'static str {
    match problem {
        Problem::Empty { .. } => {
            "give every dimension a value: InfluxDB cannot store an empty tag value or name"
        }
        Problem::Newline { .. } => "remove line breaks from names and values written to InfluxDB",
        Problem::Reserved { .. } => {
            "rename the dimension or measure: InfluxDB reserves `time` and names starting with `_`"
        }
        Problem::Backslash { .. } => {
            "remove the `\\` at the end of the name or value, or the one before `\\`, `,`, `=` or a space"
        }
        Problem::StringTooLong { .. } => "keep varchar values written to InfluxDB under 64 KiB",
        Problem::NotFinite { .. } => "keep doubles finite: InfluxDB stores no NaN or infinity",
        Problem::NoFields => "give every record at least one measure",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1(retention_policy: Option<&str>) -> Influxdb {
        Influxdb::new(
            InfluxTarget {
                url: "http://127.0.0.1:1".into(),
                destination: Destination::V1 {
                    database: "e2e".into(),
                    retention_policy: retention_policy.map(str::to_string),
                },
                token: None,
            },
            Duration::from_secs(1),
        )
    }

    #[test]
    fn a_retention_is_a_window_without_a_future_limit() {
        let target = v1(None);
        let hour = target.window(Retention::Keeps(Duration::from_secs(3_600)));
        assert_eq!(hour.max_age, Some(3_600 * 1_000_000_000));
        assert_eq!(hour.max_ahead, None);
        assert_eq!(
            hour.retention,
            "the default retention policy of `e2e` keeps points for 1h"
        );
        let forever = v1(Some("week")).window(Retention::Forever);
        assert_eq!(forever.max_age, None);
        assert_eq!(
            forever.retention,
            "the retention policy `week` of `e2e` keeps points forever"
        );
        assert_eq!(target.created_window().max_age, None);
    }

    #[test]
    fn answers_become_what_the_engine_acts_on() {
        use super::super::answer::RejectedLine;
        let target = v1(None);
        let rejected = target.classify(Ok((
            WriteAnswer::Rejected {
                lines: vec![RejectedLine {
                    index: 2,
                    reason: String::new(),
                }],
                message: "partial write: bad line".into(),
            },
            5,
        )));
        assert_eq!(
            rejected,
            Answer::Rejected(vec![RecordRejection {
                index: 2,
                reason: "partial write: bad line".into(),
                existing_version: None,
            }])
        );
        let throttled = target.classify(Ok((
            WriteAnswer::Retry {
                after: Some(Duration::from_secs(2)),
                reason: RetryReason::Status {
                    status: 429,
                    message: "slow down".into(),
                },
            },
            5,
        )));
        assert_eq!(
            throttled,
            Answer::Throttled {
                after: Some(Duration::from_secs(2)),
                reason: "429: slow down".into()
            }
        );
        assert_eq!(
            target.classify(Ok((WriteAnswer::TooLarge, 5))),
            Answer::TooLarge
        );
        assert!(matches!(
            target.classify(Ok((
                WriteAnswer::Rejected {
                    lines: Vec::new(),
                    message: "partial write: points beyond retention policy dropped=1".into(),
                },
                5
            ))),
            Answer::Failed(_)
        ));
    }
}
