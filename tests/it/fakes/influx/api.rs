//! The routes, each answered the way InfluxDB OSS 2 (`/api/v2/...`) or
//! InfluxDB 3 Core (`/api/v3/...`) answers it: status, JSON body, and
//! which lines a refused write still stores (see the module above);
//! `/query` is `query.rs`.

use std::io::Read;
use std::time::Duration;

use serde_json::{Value, json};

use super::http::{self, Reply, Request};
use super::line_protocol::{self, LineError, Precision};
use super::query;
use super::{Config, Database, Fault, Faults, Logged, MAX_BODY, Shared, now_nanos};

/// The org's id, as v2 answers carry it and `orgID=` may name it.
pub const ORG_ID: &str = "0a0b0c0d0e0f0001";

const VERSION: &str = "2.7.11";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    V2,
    V3,
}

pub(super) fn is_write_path(path: &str) -> bool {
    path == "/api/v2/write" || path == "/api/v3/write_lp"
}

/// An answer before it is rendered and logged.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    /// JSON text.
    body: Option<String>,
    fault: Option<Fault>,
    lines: usize,
    /// The measurements of a write's parsed lines.
    measurements: Vec<String>,
    /// Added to the configured latency.
    delay: Duration,
    /// Close the connection without an answer.
    dropped: bool,
}

impl Answer {
    fn empty(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: None,
            fault: None,
            lines: 0,
            measurements: Vec::new(),
            delay: Duration::ZERO,
            dropped: false,
        }
    }

    fn json(status: u16, body: Value) -> Answer {
        Answer {
            body: Some(body.to_string()),
            ..Answer::empty(status)
        }
    }

    /// An error in the API's own shape: v2 `{"code","message"}`, v3
    /// `{"error"}`.
    fn error(api: Api, status: u16, message: impl Into<String>) -> Answer {
        let message = message.into();
        let body = match api {
            Api::V2 => json!({ "code": v2_code(status), "message": message }),
            Api::V3 => json!({ "error": message }),
        };
        Answer::json(status, body)
    }

    fn fault(mut self, fault: Fault) -> Answer {
        self.fault = Some(fault);
        self
    }
}

/// InfluxDB 2's error code for a status.
fn v2_code(status: u16) -> &'static str {
    match status {
        400 => "invalid",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not found",
        405 => "method not allowed",
        413 => "request too large",
        415 => "unsupported media type",
        422 => "unprocessable entity",
        429 => "too many requests",
        503 => "unavailable",
        _ => "internal error",
    }
}

/// Answers one request and logs it. Runs on the endpoint's thread; the
/// lock is held to count, to read the config and to touch the store, not
/// while a body is decompressed or parsed.
pub(super) fn handle(shared: &Shared, request: &Request, body: &[u8]) -> Reply {
    let answer = route(shared, request, body);
    let mut state = shared.lock();
    let delay = state.faults.latency + answer.delay;
    state.log.push(Logged {
        path: request.path.clone(),
        query: request.query.clone(),
        headers: request.headers.clone(),
        body_bytes: body.len(),
        lines: answer.lines,
        measurements: answer.measurements,
        status: (!answer.dropped).then_some(answer.status),
        fault: answer.fault,
    });
    drop(state);
    let bytes = (!answer.dropped).then(|| {
        let body = answer.body.map(String::into_bytes).unwrap_or_default();
        let content_type = if body.is_empty() {
            ""
        } else {
            "application/json; charset=utf-8"
        };
        http::response(answer.status, content_type, &answer.headers, &body)
    });
    Reply::after(delay, bytes)
}

fn route(shared: &Shared, request: &Request, body: &[u8]) -> Answer {
    let config = shared.lock().config.clone();
    let method = request.method.as_str();
    match (method, request.path.as_str()) {
        ("GET" | "HEAD", "/ping") => Answer {
            headers: vec![
                ("X-Influxdb-Version", VERSION.to_owned()),
                ("X-Influxdb-Build", "OSS".to_owned()),
            ],
            ..Answer::empty(204)
        },
        ("GET", "/health") => Answer::json(
            200,
            json!({
                "name": "influxdb",
                "message": "ready for queries and writes",
                "status": "pass",
                "checks": [],
                "version": VERSION,
                "commit": "outatime-test-endpoint",
            }),
        ),
        ("GET", "/query") => {
            let (status, body) = query::answer(shared, &config, request);
            Answer {
                body: Some(body),
                ..Answer::empty(status)
            }
        }
        ("POST", "/api/v2/write") => write(shared, &config, request, body, Api::V2),
        ("POST", "/api/v2/delete") => authorized(&config, request, Api::V2, || {
            delete(shared, &config, request, body)
        }),
        ("POST", "/api/v3/write_lp") => write(shared, &config, request, body, Api::V3),
        ("GET", "/api/v2/orgs") => {
            authorized(&config, request, Api::V2, || match request.param("org") {
                Some(org) if org != config.org => Answer::error(
                    Api::V2,
                    404,
                    format!("organization name \"{org}\" not found"),
                ),
                _ => Answer::json(
                    200,
                    json!({ "orgs": [{ "id": ORG_ID, "name": config.org }] }),
                ),
            })
        }
        ("GET", "/api/v2/buckets") => authorized(&config, request, Api::V2, || {
            list_buckets(shared, &config, request)
        }),
        ("POST", "/api/v2/buckets") => authorized(&config, request, Api::V2, || {
            create_bucket(shared, &config, body)
        }),
        ("GET", "/api/v3/configure/database") => authorized(&config, request, Api::V3, || {
            match request.param("format").unwrap_or("json") {
                "json" => {
                    let names: Vec<Value> = shared
                        .lock()
                        .store
                        .list()
                        .into_iter()
                        .map(|d| json!({ "iox::database": d.name }))
                        .collect();
                    Answer::json(200, Value::Array(names))
                }
                other => Answer::error(Api::V3, 400, format!("unsupported format: {other}")),
            }
        }),
        ("POST", "/api/v3/configure/database") => authorized(&config, request, Api::V3, || {
            create_database(shared, &config, body)
        }),
        ("GET", "/api/v3/query_sql") => authorized(&config, request, Api::V3, || {
            let statement = request.param("q").unwrap_or_default();
            if request.param("format") != Some("csv") || request.param("db").is_none() {
                return Answer::error(Api::V3, 400, "this endpoint answers db=, q= and format=csv");
            }
            match shared.lock().sql.get(statement) {
                Some(csv) => Answer {
                    body: Some(csv.clone()),
                    ..Answer::empty(200)
                },
                // The text is this endpoint's own.
                None => Answer::error(
                    Api::V3,
                    400,
                    format!(
                        "error while planning query: the test endpoint has no answer for: {statement}"
                    ),
                ),
            }
        }),
        (_, path) => {
            let known = [
                "/ping",
                "/health",
                "/query",
                "/api/v2/write",
                "/api/v2/delete",
                "/api/v3/write_lp",
                "/api/v2/orgs",
                "/api/v2/buckets",
                "/api/v3/configure/database",
                "/api/v3/query_sql",
            ];
            let api = if path.starts_with("/api/v3") {
                Api::V3
            } else {
                Api::V2
            };
            if known.contains(&path) {
                Answer::error(api, 405, format!("method {method} not allowed on {path}"))
            } else {
                Answer::error(api, 404, format!("path not found: {path}"))
            }
        }
    }
}

/// Runs `then` if the request carries the token.
fn authorized(
    config: &Config,
    request: &Request,
    api: Api,
    then: impl FnOnce() -> Answer,
) -> Answer {
    match check_token(config, request, api) {
        Ok(()) => then(),
        Err(answer) => answer,
    }
}

fn check_token(config: &Config, request: &Request, api: Api) -> Result<(), Answer> {
    let Some(token) = &config.token else {
        return Ok(());
    };
    let header = request.header("authorization").unwrap_or_default();
    let given = match api {
        Api::V2 => header.strip_prefix("Token "),
        Api::V3 => header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("Token ")),
    };
    if given == Some(token.as_str()) {
        return Ok(());
    }
    Err(match api {
        Api::V2 => Answer::error(api, 401, "unauthorized access"),
        Api::V3 => Answer::error(api, 401, "the request was not authenticated"),
    })
}

fn bucket_json(name: &str, id: &str, retention: Option<Duration>) -> Value {
    let rules: Vec<Value> = retention
        .map(|r| json!({ "type": "expire", "everySeconds": r.as_secs(), "shardGroupDurationSeconds": 0 }))
        .into_iter()
        .collect();
    json!({ "id": id, "orgID": ORG_ID, "type": "user", "name": name, "retentionRules": rules })
}

fn org_matches(config: &Config, request: &Request) -> Result<(), Answer> {
    match (request.param("org"), request.param("orgID")) {
        (Some(org), _) if org != config.org => Err(Answer::error(
            Api::V2,
            404,
            format!("organization name \"{org}\" not found"),
        )),
        (None, Some(id)) if id != ORG_ID => Err(Answer::error(
            Api::V2,
            404,
            format!("organization id \"{id}\" not found"),
        )),
        _ => Ok(()),
    }
}

fn list_buckets(shared: &Shared, config: &Config, request: &Request) -> Answer {
    if let Err(answer) = org_matches(config, request) {
        return answer;
    }
    let state = shared.lock();
    let name = request.param("name");
    let buckets: Vec<Value> = state
        .store
        .list()
        .into_iter()
        .filter(|d| name.is_none_or(|n| n == d.name))
        .filter_map(|d| {
            let (id, retention) = state.store.get(&d.name)?;
            Some(bucket_json(&d.name, &id, retention))
        })
        .collect();
    if let (Some(name), true) = (name, buckets.is_empty()) {
        return Answer::error(Api::V2, 404, format!("bucket \"{name}\" not found"));
    }
    Answer::json(200, json!({ "buckets": buckets }))
}

fn create_bucket(shared: &Shared, config: &Config, body: &[u8]) -> Answer {
    if !config.token_can_create {
        return Answer::error(
            Api::V2,
            401,
            format!("write:orgs/{ORG_ID}/buckets is unauthorized"),
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Answer::error(Api::V2, 400, "the body is not a JSON bucket");
    };
    let Some(org_id) = request["orgID"].as_str() else {
        return Answer::error(Api::V2, 400, "orgID is required");
    };
    if org_id != ORG_ID {
        return Answer::error(
            Api::V2,
            404,
            format!("organization id \"{org_id}\" not found"),
        );
    }
    let name = request["name"].as_str().unwrap_or_default();
    if name.is_empty() {
        return Answer::error(Api::V2, 400, "bucket name is required");
    }
    let mut retention = None;
    for rule in request["retentionRules"].as_array().into_iter().flatten() {
        match (rule["type"].as_str(), rule["everySeconds"].as_u64()) {
            (Some("expire"), Some(0)) => {}
            (Some("expire"), Some(seconds)) => retention = Some(Duration::from_secs(seconds)),
            _ => return Answer::error(Api::V2, 400, format!("invalid retention rule: {rule}")),
        }
    }
    let mut state = shared.lock();
    let database = Database {
        name: name.to_owned(),
        retention,
    };
    if !state.store.create(&database) {
        return Answer::error(
            Api::V2,
            422,
            format!("bucket with name {name} already exists"),
        );
    }
    let (id, _) = state.store.get(name).unwrap_or_default();
    Answer::json(201, bucket_json(name, &id, retention))
}

/// `POST /api/v2/delete?org=&bucket=` with `{"start","stop","predicate"}`:
/// the predicate as `_measurement="m"`, optionally `AND key="value"` terms
/// (InfluxDB 2's delete predicate, without `OR` or parentheses); 204.
fn delete(shared: &Shared, config: &Config, request: &Request, body: &[u8]) -> Answer {
    if let Err(answer) = org_matches(config, request) {
        return answer;
    }
    let Some(bucket) = request.param("bucket").filter(|b| !b.is_empty()) else {
        return Answer::error(Api::V2, 400, "Please provide bucket");
    };
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Answer::error(Api::V2, 400, "the body is not a JSON delete request");
    };
    let time = |key: &str| {
        request[key]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .and_then(|t| t.timestamp_nanos_opt())
    };
    let (Some(start), Some(stop)) = (time("start"), time("stop")) else {
        return Answer::error(
            Api::V2,
            400,
            "invalid request; error parsing request json: start and stop must be RFC3339 times",
        );
    };
    let Some(terms) = request["predicate"].as_str().and_then(predicate) else {
        return Answer::error(
            Api::V2,
            400,
            format!("invalid predicate: {}", request["predicate"]),
        );
    };
    let Some(measurement) = terms
        .iter()
        .find(|(k, _)| k == "_measurement")
        .map(|(_, v)| v.clone())
    else {
        return Answer::error(
            Api::V2,
            400,
            "the test endpoint deletes by _measurement only",
        );
    };
    let tags: Vec<(String, String)> = terms
        .into_iter()
        .filter(|(k, _)| k != "_measurement")
        .collect();
    let mut state = shared.lock();
    if state.store.get(bucket).is_none() {
        return Answer::error(Api::V2, 404, format!("bucket \"{bucket}\" not found"));
    }
    state
        .store
        .delete_where(bucket, &measurement, &tags, start, stop);
    Answer::empty(204)
}

/// `a="x" AND b="y \" z"`: the terms, or `None` when it is not that shape.
fn predicate(text: &str) -> Option<Vec<(String, String)>> {
    let mut terms = Vec::new();
    let mut rest = text.trim();
    loop {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim().trim_matches('"').to_owned();
        let mut chars = rest[eq + 1..].char_indices();
        if chars.next()?.1 != '"' {
            return None;
        }
        let mut value = String::new();
        let mut end = None;
        let mut escaped = false;
        for (i, c) in chars {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = Some(eq + 1 + i + 1);
                    break;
                }
                _ => {
                    value.push(c);
                    escaped = false;
                }
            }
        }
        terms.push((key, value));
        rest = rest[end?..].trim_start();
        if rest.is_empty() {
            return Some(terms);
        }
        rest = rest.strip_prefix("AND ")?.trim_start();
    }
}

fn create_database(shared: &Shared, config: &Config, body: &[u8]) -> Answer {
    if !config.token_can_create {
        return Answer::error(Api::V3, 403, "the token may not create databases");
    }
    let name = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["db"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-/".contains(&b));
    if !valid {
        return Answer::error(Api::V3, 400, format!("invalid database name: {name:?}"));
    }
    if !shared.lock().store.create(&Database::new(&name)) {
        return Answer::error(
            Api::V3,
            409,
            "attempted to create a resource that already exists",
        );
    }
    Answer::empty(200)
}

fn write(shared: &Shared, config: &Config, request: &Request, body: &[u8], api: Api) -> Answer {
    let (number, faults) = {
        let mut state = shared.lock();
        state.write_requests += 1;
        (state.write_requests, state.faults.clone())
    };
    let every = |n: Option<u32>| n.is_some_and(|n| n > 0 && number % u64::from(n) == 0);
    if let Some(answer) = injected(api, &faults, every) {
        return answer;
    }
    if let Err(answer) = check_token(config, request, api) {
        return answer;
    }
    if !config.token_can_write {
        return match api {
            Api::V2 => Answer::error(
                api,
                401,
                format!("write:orgs/{ORG_ID}/buckets is unauthorized"),
            ),
            Api::V3 => Answer::error(api, 403, "the token may not write"),
        };
    }
    let target = match api {
        Api::V2 => v2_target(shared, config, request),
        Api::V3 => v3_target(shared, config, request),
    };
    let (database, precision, accept_partial) = match target {
        Ok(target) => target,
        Err(answer) => return answer,
    };
    let limit = faults.max_body_bytes.unwrap_or(MAX_BODY);
    let text = match decode(api, request, body, limit) {
        Ok(text) => text,
        Err(answer) => {
            let too_large = answer.status == 413 && faults.max_body_bytes.is_some();
            return match too_large {
                true => answer.fault(Fault::TooLarge),
                false => answer,
            };
        }
    };
    let now = now_nanos();
    let (mut lines, mut errors) = line_protocol::parse(&text, precision, now);
    let mut fault = None;
    if let Some((n, wanted)) = faults.reject_line_every
        && every(Some(n))
        && !lines.is_empty()
    {
        let at = lines
            .iter()
            .position(|line| line.number >= wanted)
            .unwrap_or(lines.len() - 1);
        let line = lines.remove(at);
        errors.push(LineError {
            number: line.number,
            text: line.text,
            reason: "refused by the test endpoint (an injected fault)".to_owned(),
        });
        errors.sort_by_key(|e| e.number);
        fault = Some(Fault::RejectedLine);
    }
    let line_count = lines.len() + errors.len();
    let mut measurements: Vec<String> = lines.iter().map(|l| l.measurement.clone()).collect();
    measurements.sort();
    measurements.dedup();
    let mut answer = match api {
        Api::V2 => v2_answer(shared, config, &database, &lines, &errors, now),
        Api::V3 => v3_answer(
            shared,
            config,
            &database,
            &lines,
            errors,
            accept_partial,
            now,
        ),
    };
    answer.lines = line_count;
    answer.measurements = measurements;
    answer.fault = fault;
    if let Some((n, wait)) = faults.slow_every
        && answer.fault.is_none()
        && every(Some(n))
    {
        answer.delay = wait;
        answer.fault = Some(Fault::Slowed);
    }
    answer
}

/// The fault that answers this write instead of the server, if any.
fn injected(api: Api, faults: &Faults, every: impl Fn(Option<u32>) -> bool) -> Option<Answer> {
    if every(faults.drop_every) {
        return Some(Answer {
            dropped: true,
            ..Answer::empty(0).fault(Fault::Dropped)
        });
    }
    if let Some((n, seconds)) = faults.throttle_every
        && every(Some(n))
    {
        let mut answer = Answer::error(
            api,
            429,
            "too many requests (injected by the test endpoint)",
        );
        answer.headers.push(("Retry-After", seconds.to_string()));
        return Some(answer.fault(Fault::Throttled));
    }
    if every(faults.unavailable_every) {
        let answer = Answer::error(
            api,
            503,
            "service unavailable (injected by the test endpoint)",
        );
        return Some(answer.fault(Fault::Unavailable));
    }
    None
}

type Target = (String, Precision, bool);

fn v2_target(shared: &Shared, config: &Config, request: &Request) -> Result<Target, Answer> {
    if request.param("org").is_none() && request.param("orgID").is_none() {
        return Err(Answer::error(
            Api::V2,
            400,
            "Please provide either orgID or org",
        ));
    }
    org_matches(config, request)?;
    let Some(bucket) = request.param("bucket").filter(|b| !b.is_empty()) else {
        return Err(Answer::error(Api::V2, 400, "Please provide bucket"));
    };
    if shared.lock().store.get(bucket).is_none() {
        return Err(Answer::error(
            Api::V2,
            404,
            format!("bucket \"{bucket}\" not found"),
        ));
    }
    let precision = request.param("precision").unwrap_or("ns");
    let Some(precision) = Precision::from_v2(precision) else {
        return Err(Answer::error(
            Api::V2,
            400,
            format!("invalid precision \"{precision}\": ns, us, ms or s"),
        ));
    };
    Ok((bucket.to_owned(), precision, false))
}

fn v3_target(shared: &Shared, config: &Config, request: &Request) -> Result<Target, Answer> {
    let Some(db) = request.param("db").filter(|d| !d.is_empty()) else {
        return Err(Answer::error(Api::V3, 400, "missing query parameter: db"));
    };
    let precision = request.param("precision").unwrap_or("auto");
    let Some(precision) = Precision::from_v3(precision) else {
        return Err(Answer::error(
            Api::V3,
            400,
            format!(
                "invalid precision \"{precision}\": auto, nanosecond, microsecond, millisecond or second"
            ),
        ));
    };
    let accept_partial = match request.param("accept_partial").unwrap_or("true") {
        "true" => true,
        "false" => false,
        other => {
            return Err(Answer::error(
                Api::V3,
                400,
                format!("invalid accept_partial \"{other}\": true or false"),
            ));
        }
    };
    let mut state = shared.lock();
    if state.store.get(db).is_none() {
        if !config.v3_create_on_write {
            return Err(Answer::error(
                Api::V3,
                404,
                format!("database not found: {db}"),
            ));
        }
        state.store.create(&Database::new(db));
    }
    Ok((db.to_owned(), precision, accept_partial))
}

/// The body as text: decompressed if it came gzipped, at most `limit`
/// bytes once decompressed, UTF-8.
fn decode(api: Api, request: &Request, body: &[u8], limit: usize) -> Result<String, Answer> {
    let too_large = || match api {
        Api::V2 => Answer::error(api, 413, "unable to read data: points batch is too large"),
        Api::V3 => Answer::error(
            api,
            413,
            format!("the request body exceeds the limit of {limit} bytes"),
        ),
    };
    let bytes = match request.header("content-encoding") {
        None | Some("identity") => {
            if body.len() > limit {
                return Err(too_large());
            }
            body.to_vec()
        }
        Some("gzip") => {
            let mut out = Vec::new();
            let read = flate2::read::GzDecoder::new(body)
                .take(limit as u64 + 1)
                .read_to_end(&mut out);
            if let Err(error) = read {
                return Err(Answer::error(
                    api,
                    400,
                    format!("unable to decode gzip body: {error}"),
                ));
            }
            if out.len() > limit {
                return Err(too_large());
            }
            out
        }
        Some(other) => {
            return Err(Answer::error(
                api,
                415,
                format!("unsupported Content-Encoding: {other}"),
            ));
        }
    };
    String::from_utf8(bytes).map_err(|_| Answer::error(api, 400, "the body is not UTF-8"))
}

/// InfluxDB 2: a malformed line refuses the batch; a type conflict or a
/// point beyond retention refuses that line only.
fn v2_answer(
    shared: &Shared,
    config: &Config,
    database: &str,
    lines: &[line_protocol::Line],
    errors: &[LineError],
    now: i64,
) -> Answer {
    if let Some(first) = errors.first() {
        let parts: Vec<String> = errors
            .iter()
            .map(|e| {
                format!(
                    "unable to parse '{}' on line {}: {}",
                    e.text, e.number, e.reason
                )
            })
            .collect();
        let message = format!(
            "partial write: {}; dropped={}",
            parts.join("\n"),
            lines.len() + errors.len()
        );
        return Answer::json(
            400,
            json!({ "code": "invalid", "line": first.number, "message": message }),
        );
    }
    let outcome = shared
        .lock()
        .store
        .write(database, lines, now, config.keep_points);
    let dropped = outcome.conflicts.len() + outcome.beyond_retention.len();
    if dropped == 0 {
        return Answer::empty(204);
    }
    let why = match outcome.conflicts.first() {
        Some((_, conflict)) => conflict.clone(),
        None => "points beyond retention policy".to_owned(),
    };
    Answer::error(
        Api::V2,
        422,
        format!("failure writing points to database: partial write: {why} dropped={dropped}"),
    )
}

/// InfluxDB 3 Core: every refused line is listed; the others are stored
/// unless `accept_partial=false`.
fn v3_answer(
    shared: &Shared,
    config: &Config,
    database: &str,
    lines: &[line_protocol::Line],
    mut errors: Vec<LineError>,
    accept_partial: bool,
    now: i64,
) -> Answer {
    let entry = |e: &LineError| json!({ "original_line": e.text, "line_number": e.number, "error_message": e.reason });
    if let (Some(first), false) = (errors.first(), accept_partial) {
        return Answer::json(
            400,
            json!({ "error": "parsing failed for write_lp endpoint", "data": entry(first) }),
        );
    }
    let outcome = shared
        .lock()
        .store
        .write(database, lines, now, config.keep_points);
    let text_of = |number: usize| {
        lines
            .iter()
            .find(|l| l.number == number)
            .map(|l| l.text.clone())
            .unwrap_or_default()
    };
    for (number, reason) in outcome.conflicts {
        errors.push(LineError {
            number,
            text: text_of(number),
            reason,
        });
    }
    for number in outcome.beyond_retention {
        errors.push(LineError {
            number,
            text: text_of(number),
            reason: "point is outside the database's retention period".to_owned(),
        });
    }
    if errors.is_empty() {
        return Answer::empty(204);
    }
    errors.sort_by_key(|e| e.number);
    let data: Vec<Value> = errors.iter().take(100).map(entry).collect();
    Answer::json(
        400,
        json!({ "error": "partial write of line protocol occurred", "data": data }),
    )
}
