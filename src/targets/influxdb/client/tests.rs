//! The client against a tiny HTTP server on 127.0.0.1 that answers canned
//! replies in order and records each request (its body un-gzipped), and,
//! when `OUTATIME_INFLUXDB_URL` names one, against a real influxd 1.x.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read as _;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::targets::influxdb::Token;
use crate::targets::influxdb::answer::RejectedLine;
use crate::targets::influxdb::database::{Retention, Server};

/// What the server does with the next request.
enum Reply {
    Answer {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Reads the request and never answers.
    Hang,
    /// Reads the request and closes the connection.
    Drop,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply::Answer {
        status,
        headers: Vec::new(),
        body: body.into(),
    }
}

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
    /// Un-gzipped when the request said `Content-Encoding: gzip`.
    body: String,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Each request the server saw, as (method, target).
fn methods_and_targets(seen: &[Seen]) -> Vec<(&str, &str)> {
    seen.iter()
        .map(|s| (s.method.as_str(), s.target.as_str()))
        .collect()
}

/// Starts the server; its URL and the requests it saw.
async fn serve(replies: Vec<Reply>) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log: Log = Arc::default();
    let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
    let seen = log.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            let replies = replies.clone();
            tokio::spawn(async move {
                let Some(request) = read_request(&mut socket).await else {
                    return;
                };
                seen.lock().unwrap().push(request);
                let next = replies.lock().unwrap().pop_front();
                match next {
                    Some(Reply::Answer {
                        status,
                        headers,
                        body,
                    }) => {
                        let mut head = format!(
                            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                            body.len()
                        );
                        for (k, v) in headers {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        let _ = socket.write_all(head.as_bytes()).await;
                        let _ = socket.write_all(body.as_bytes()).await;
                        let _ = socket.shutdown().await;
                    }
                    Some(Reply::Hang) => {
                        tokio::time::sleep(Duration::from_secs(10)).await;
                    }
                    Some(Reply::Drop) | None => drop(socket),
                }
            });
        }
    });
    (url, log)
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8(data[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .map_or(0, |v| v.parse().unwrap());
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&buf[..n]);
    }
    let body = if headers.get("content-encoding").map(String::as_str) == Some("gzip") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        String::from_utf8(body).unwrap()
    };
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}

fn v1(url: &str) -> InfluxTarget {
    InfluxTarget {
        url: url.into(),
        destination: Destination::V1 {
            database: "e2e db".into(),
            retention_policy: Some("autogen".into()),
        },
        token: None,
    }
}

fn v2(url: &str) -> InfluxTarget {
    InfluxTarget {
        url: url.into(),
        destination: Destination::V2 {
            org: "qa".into(),
            bucket: "e2e".into(),
        },
        token: Some(Token::new("s3cret".into())),
    }
}

fn v3(url: &str) -> InfluxTarget {
    InfluxTarget {
        url: url.into(),
        destination: Destination::V3 {
            database: "e2e".into(),
        },
        token: None,
    }
}

fn client(target: InfluxTarget) -> Client {
    Client::new(target, Duration::from_millis(500)).unwrap()
}

const LINES: &[u8] = b"m,site=a v=1i 1\nm,site=b v=2i 2\nm,site=c v=3i 3\n";

#[tokio::test]
async fn each_api_writes_gzipped_line_protocol_to_its_path() {
    let (url, log) = serve(vec![reply(204, ""), reply(204, ""), reply(204, "")]).await;
    let answer = client(v1(&url)).write(LINES, Precision::Milliseconds).await;
    assert_eq!(answer, WriteAnswer::Written);
    let answer = client(v2(&url)).write(LINES, Precision::Seconds).await;
    assert_eq!(answer, WriteAnswer::Written);
    let answer = client(v3(&url)).write(LINES, Precision::Nanoseconds).await;
    assert_eq!(answer, WriteAnswer::Written);
    let seen = log.lock().unwrap().clone();
    let targets: Vec<&str> = seen.iter().map(|s| s.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/write?db=e2e%20db&rp=autogen&precision=ms",
            "/api/v2/write?org=qa&bucket=e2e&precision=s",
            "/api/v3/write_lp?db=e2e&precision=nanosecond",
        ]
    );
    for s in &seen {
        assert_eq!(s.method, "POST");
        assert_eq!(s.headers["content-encoding"], "gzip");
        assert_eq!(s.body.as_bytes(), LINES);
    }
    assert!(!seen[0].headers.contains_key("authorization"));
    assert_eq!(seen[1].headers["authorization"], "Token s3cret");
}

async fn answer_to(replies: Vec<Reply>) -> WriteAnswer {
    let (url, _) = serve(replies).await;
    client(v2(&url)).write(LINES, Precision::Seconds).await
}

#[tokio::test]
async fn throttling_and_unavailability_are_retried_after_what_the_server_says() {
    let throttled = Reply::Answer {
        status: 429,
        headers: vec![("retry-after", "7".into())],
        body: r#"{"code":"too many requests","message":"slow down"}"#.into(),
    };
    assert_eq!(
        answer_to(vec![throttled]).await,
        WriteAnswer::Retry {
            after: Some(Duration::from_secs(7)),
            reason: RetryReason::Status {
                status: 429,
                message: "slow down".into()
            }
        }
    );
    let date = httpdate_in(Duration::from_secs(120));
    let unavailable = Reply::Answer {
        status: 503,
        headers: vec![("retry-after", date)],
        body: "busy".into(),
    };
    let WriteAnswer::Retry {
        after: Some(after),
        reason: RetryReason::Status { status: 503, .. },
    } = answer_to(vec![unavailable]).await
    else {
        panic!("not a retry after a date")
    };
    assert!((Duration::from_secs(110)..=Duration::from_secs(120)).contains(&after));
    assert!(matches!(
        answer_to(vec![reply(503, "")]).await,
        WriteAnswer::Retry { after: None, .. }
    ));
}

fn httpdate_in(d: Duration) -> String {
    let at = chrono::Utc::now() + chrono::Duration::from_std(d).unwrap();
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[tokio::test]
async fn timeouts_and_dropped_connections_are_retried() {
    assert_eq!(
        answer_to(vec![Reply::Hang]).await,
        WriteAnswer::Retry {
            after: None,
            reason: RetryReason::Timeout
        }
    );
    assert!(matches!(
        answer_to(vec![Reply::Drop]).await,
        WriteAnswer::Retry {
            reason: RetryReason::Connection(_),
            ..
        }
    ));
    // Nothing listens: a refused connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    assert!(matches!(
        client(v1(&url)).write(LINES, Precision::Seconds).await,
        WriteAnswer::Retry {
            reason: RetryReason::Connection(_),
            ..
        }
    ));
}

#[tokio::test]
async fn refusals_fail_without_retry_and_413_asks_for_a_split() {
    assert_eq!(answer_to(vec![reply(413, "")]).await, WriteAnswer::TooLarge);
    assert_eq!(
        answer_to(vec![reply(
            401,
            r#"{"code":"unauthorized","message":"unauthorized access"}"#
        )])
        .await,
        WriteAnswer::Failed(Failure::Unauthorized {
            status: 401,
            message: "unauthorized access".into()
        })
    );
    assert!(matches!(
        answer_to(vec![reply(403, "{}")]).await,
        WriteAnswer::Failed(Failure::Unauthorized { status: 403, .. })
    ));
    assert_eq!(
        answer_to(vec![reply(
            404,
            r#"{"code":"not found","message":"bucket \"e2e\" not found"}"#
        )])
        .await,
        WriteAnswer::Failed(Failure::NotFound {
            message: "bucket \"e2e\" not found".into()
        })
    );
    assert_eq!(
        answer_to(vec![reply(
            400,
            r#"{"code":"invalid","message":"request body too short"}"#
        )])
        .await,
        WriteAnswer::Failed(Failure::Status {
            status: 400,
            message: "request body too short".into()
        })
    );
}

#[tokio::test]
async fn a_partial_write_names_the_rejected_lines() {
    // v2: "line N:" in the message.
    let v2_body = r#"{"code":"invalid","message":"partial write error (2 written): errors encountered on line(s):\nline 3: field type conflict\nline 1: bad timestamp"}"#;
    assert_eq!(
        answer_to(vec![reply(400, v2_body)]).await,
        WriteAnswer::Rejected {
            lines: vec![
                RejectedLine {
                    index: 0,
                    reason: "bad timestamp".into()
                },
                RejectedLine {
                    index: 2,
                    reason: "field type conflict".into()
                },
            ],
            message: "partial write error (2 written): errors encountered on line(s):\nline 3: field type conflict\nline 1: bad timestamp".into(),
        }
    );
    // v1: the line quoted.
    let v1_body = r#"{"error":"partial write: unable to parse 'm,site=b v=2i 2': invalid field format dropped=1"}"#;
    let WriteAnswer::Rejected { lines, .. } = answer_to(vec![reply(400, v1_body)]).await else {
        panic!("not rejected")
    };
    assert_eq!(
        lines,
        [RejectedLine {
            index: 1,
            reason: "invalid field format dropped=1".into()
        }]
    );
    // v1 naming no line: still a partial write, with its message.
    let conflict = r#"{"error":"partial write: field type conflict: input field \"v\" on measurement \"m\" is type integer, already exists as type float dropped=3"}"#;
    let WriteAnswer::Rejected { lines, message } = answer_to(vec![reply(400, conflict)]).await
    else {
        panic!("not rejected")
    };
    assert!(lines.is_empty());
    assert!(message.contains("dropped=3"), "{message}");
    // v3: numbered lines in `data`.
    let v3_body = r#"{"error":"partial write of line protocol occurred","data":[{"original_line":"m,site=c v=3i 3","line_number":3,"error_message":"invalid column type"}]}"#;
    let WriteAnswer::Rejected { lines, .. } = answer_to(vec![reply(400, v3_body)]).await else {
        panic!("not rejected")
    };
    assert_eq!(
        lines,
        [RejectedLine {
            index: 2,
            reason: "invalid column type".into()
        }]
    );
}

#[tokio::test]
async fn v1_preflight_pings_finds_the_database_and_its_retention_and_creates_it() {
    let databases = r#"{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["_internal"],["e2e db"]]}]}]}"#;
    let policies = r#"{"results":[{"statement_id":0,"series":[{"columns":["name","duration","shardGroupDuration","replicaN","default"],"values":[["autogen","0s","168h0m0s",1,false],["week","168h0m0s","24h0m0s",1,true]]}]}]}"#;
    let (url, log) = serve(vec![
        Reply::Answer {
            status: 204,
            headers: vec![("x-influxdb-version", "1.8.10".into())],
            body: String::new(),
        },
        reply(200, databases),
        reply(200, policies),
        reply(200, databases),
        reply(200, policies),
        reply(200, r#"{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"]}]}]}"#),
        reply(200, r#"{"results":[{"statement_id":0}]}"#),
        reply(200, r#"{"results":[{"statement_id":0,"error":"database name required"}]}"#),
    ])
    .await;
    let c = client(v1(&url));
    assert_eq!(
        c.ping().await.unwrap(),
        Server {
            version: Some("1.8.10".into())
        }
    );
    // The named policy keeps forever.
    assert_eq!(c.database().await.unwrap(), Some(Retention::Forever));
    // Without a name, the default one: a week.
    let mut target = v1(&url);
    target.destination = Destination::V1 {
        database: "e2e db".into(),
        retention_policy: None,
    };
    let c2 = client(target);
    assert_eq!(
        c2.database().await.unwrap(),
        Some(Retention::Keeps(Duration::from_secs(7 * 86_400)))
    );
    assert_eq!(c.database().await.unwrap(), None);
    c.create_database().await.unwrap();
    let CallError::Failed(failure) = c.create_database().await.unwrap_err() else {
        panic!("not a failure")
    };
    assert_eq!(
        failure,
        Failure::Status {
            status: 200,
            message: "database name required".into()
        }
    );
    let seen = log.lock().unwrap().clone();
    assert_eq!(
        methods_and_targets(&seen),
        [
            ("GET", "/ping"),
            ("GET", "/query?q=SHOW%20DATABASES"),
            (
                "GET",
                "/query?q=SHOW%20RETENTION%20POLICIES%20ON%20%22e2e%20db%22"
            ),
            ("GET", "/query?q=SHOW%20DATABASES"),
            (
                "GET",
                "/query?q=SHOW%20RETENTION%20POLICIES%20ON%20%22e2e%20db%22"
            ),
            ("GET", "/query?q=SHOW%20DATABASES"),
            ("POST", "/query?q=CREATE%20DATABASE%20%22e2e%20db%22"),
            ("POST", "/query?q=CREATE%20DATABASE%20%22e2e%20db%22"),
        ]
    );
}

#[tokio::test]
async fn v2_preflight_reads_the_bucket_and_creates_it_in_the_org() {
    let (url, log) = serve(vec![
        reply(200, r#"{"name":"influxdb","status":"pass"}"#),
        reply(200, r#"{"buckets":[{"id":"b1","name":"e2e","retentionRules":[{"type":"expire","everySeconds":86400}]}]}"#),
        reply(200, r#"{"buckets":[]}"#),
        reply(200, r#"{"orgs":[{"id":"0a1b","name":"qa"}]}"#),
        reply(201, r#"{"id":"b2","name":"e2e"}"#),
        reply(200, r#"{"orgs":[{"id":"0a1b","name":"qa"}]}"#),
        reply(403, r#"{"code":"forbidden","message":"insufficient permissions for write:orgs/0a1b/buckets"}"#),
    ])
    .await;
    let c = client(v2(&url));
    assert_eq!(c.ping().await.unwrap(), Server { version: None });
    assert_eq!(
        c.database().await.unwrap(),
        Some(Retention::Keeps(Duration::from_secs(86_400)))
    );
    assert_eq!(c.database().await.unwrap(), None);
    c.create_database().await.unwrap();
    assert!(matches!(
        c.create_database().await.unwrap_err(),
        CallError::Failed(Failure::Unauthorized { status: 403, .. })
    ));
    let seen = log.lock().unwrap().clone();
    assert_eq!(
        methods_and_targets(&seen),
        [
            ("GET", "/health"),
            ("GET", "/api/v2/buckets?org=qa&name=e2e"),
            ("GET", "/api/v2/buckets?org=qa&name=e2e"),
            ("GET", "/api/v2/orgs?org=qa"),
            ("POST", "/api/v2/buckets"),
            ("GET", "/api/v2/orgs?org=qa"),
            ("POST", "/api/v2/buckets"),
        ]
    );
    assert!(
        seen.iter()
            .all(|s| s.headers["authorization"] == "Token s3cret")
    );
    let created: serde_json::Value = serde_json::from_str(&seen[4].body).unwrap();
    assert_eq!(
        created,
        serde_json::json!({"orgID": "0a1b", "name": "e2e", "retentionRules": []})
    );
}

#[tokio::test]
async fn v3_preflight_lists_and_creates_databases() {
    let (url, log) = serve(vec![
        reply(200, ""),
        reply(
            200,
            r#"[{"iox::database":"_internal"},{"iox::database":"e2e"}]"#,
        ),
        reply(200, r#"[{"iox::database":"_internal"}]"#),
        reply(200, ""),
        reply(200, "not json"),
    ])
    .await;
    let c = client(v3(&url));
    c.ping().await.unwrap();
    assert_eq!(c.database().await.unwrap(), Some(Retention::Unknown));
    assert_eq!(c.database().await.unwrap(), None);
    c.create_database().await.unwrap();
    assert!(matches!(
        c.database().await.unwrap_err(),
        CallError::NotJson { .. }
    ));
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen[1].target, "/api/v3/configure/database?format=json");
    assert_eq!(
        (seen[3].method.as_str(), seen[3].target.as_str()),
        ("POST", "/api/v3/configure/database")
    );
    assert_eq!(seen[3].body, r#"{"db":"e2e"}"#);
}

/// A real influxd 1.x at `OUTATIME_INFLUXDB_URL`: create a database, write
/// records with commas, spaces, equals signs, quotes, backslashes and
/// non-ASCII text, encoded and sent by this module, and read them back with
/// raw `/query` calls.
#[tokio::test]
async fn a_real_influxd_round_trips_what_the_client_writes() {
    use crate::measure_type::MeasureType;
    use crate::record::Value;
    use crate::record::{Catalog, Record, SeriesInfo, TableCatalog};
    use crate::targets::influxdb::line_protocol::Encoder;

    let Ok(url) = std::env::var("OUTATIME_INFLUXDB_URL") else {
        eprintln!("skipped: OUTATIME_INFLUXDB_URL is not set");
        return;
    };
    let database = format!("outatime_client_test_{}", std::process::id());
    let target = InfluxTarget {
        url: url.trim_end_matches('/').into(),
        destination: Destination::V1 {
            database: database.clone(),
            retention_policy: None,
        },
        token: None,
    };
    let c = Client::new(target, Duration::from_secs(10)).unwrap();
    c.ping().await.unwrap();
    c.create_database().await.unwrap();
    assert_eq!(c.database().await.unwrap(), Some(Retention::Forever));
    let series = |site: &str, dc: &str| SeriesInfo {
        dims: vec![("dc".into(), dc.into()), ("site".into(), site.into())],
        key: 0,
    };
    let catalog = Catalog {
        tables: vec![TableCatalog {
            name: "cpu".into(),
            target: "cpu load".into(),
            series: vec![series("Z rich,=x", "日本"), series(r"C:\dir", "eu")],
            measures: vec![
                ("load".into(), MeasureType::Double),
                ("n".into(), MeasureType::Bigint),
                ("note".into(), MeasureType::Varchar),
                ("ok".into(), MeasureType::Boolean),
            ],
        }],
    };
    let record = |series: u32, time: i64, load: f64, n: i64, note: &str, ok: bool| Record {
        series,
        time,
        measures: vec![
            (0, Value::Double(load)),
            (1, Value::Bigint(n)),
            (2, Value::Varchar(note.into())),
            (3, Value::Boolean(ok)),
        ],
        ..Record::default()
    };
    let records = [
        record(
            0,
            1_764_000_000_000_000_000,
            1.0,
            -3,
            r#"say "hi" \ ü, a=b"#,
            true,
        ),
        record(1, 1_764_000_001_500_000_000, 0.1 + 0.2, i64::MAX, "", false),
    ];
    let encoded = Encoder::new(&catalog).encode(&catalog, &records).unwrap();
    assert_eq!(encoded.precision, Precision::Milliseconds);
    assert_eq!(
        c.write(&encoded.body, encoded.precision).await,
        WriteAnswer::Written
    );
    let query = |q: &str| {
        let uri = uri(
            c.target.url.expose(),
            "/query",
            &[("db", &database), ("epoch", "ns"), ("q", q)],
        );
        let http = &c.http;
        async move {
            let response = http
                .request(
                    Request::post(uri.as_str())
                        .body(Full::new(Bytes::new()))
                        .unwrap(),
                )
                .await
                .unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice::<serde_json::Value>(&body).unwrap()
        }
    };
    let points = query(r#"SELECT * FROM "cpu load""#).await;
    let series = &points["results"][0]["series"][0];
    assert_eq!(
        series["columns"],
        serde_json::json!(["time", "dc", "load", "n", "note", "ok", "site"])
    );
    // InfluxQL's JSON prints the float 1.0 as 1; its type is checked below.
    assert_eq!(
        series["values"],
        serde_json::json!([
            [
                1_764_000_000_000_000_000i64,
                "日本",
                1,
                -3,
                r#"say "hi" \ ü, a=b"#,
                true,
                "Z rich,=x"
            ],
            [
                1_764_000_001_500_000_000i64,
                "eu",
                0.30000000000000004,
                i64::MAX,
                "",
                false,
                r"C:\dir"
            ]
        ])
    );
    let fields = query(r#"SHOW FIELD KEYS FROM "cpu load""#).await;
    assert_eq!(
        fields["results"][0]["series"][0]["values"],
        serde_json::json!([
            ["load", "float"],
            ["n", "integer"],
            ["note", "string"],
            ["ok", "boolean"]
        ])
    );
    // A line InfluxDB cannot parse is named; the others are written.
    let answer = c
        .write(b"m v=1i 1\nm v= 2\nm v=3i 3\n", Precision::Seconds)
        .await;
    let WriteAnswer::Rejected { lines, .. } = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(lines.iter().map(|l| l.index).collect::<Vec<_>>(), [1]);
    let written = query("SELECT count(v) FROM m").await;
    assert_eq!(written["results"][0]["series"][0]["values"][0][1], 2);
    let dropped = query(&format!("DROP DATABASE {database}")).await;
    assert!(dropped["results"][0].get("error").is_none(), "{dropped}");
}

#[test]
fn query_parameters_are_percent_encoded_as_rfc_3986_says() {
    assert_eq!(
        uri(
            "http://h:8086",
            "/query",
            &[("q", "a b&c=d/é"), ("db", "e2e-x_y.z~")]
        ),
        "http://h:8086/query?q=a%20b%26c%3Dd%2F%C3%A9&db=e2e-x_y.z~"
    );
}
