//! The in-test InfluxDB v2/v3 endpoint (tests/it/fakes/influx/) answers raw HTTP
//! the way the servers do: what it stores, how it refuses, and every
//! injected fault.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use crate::common;
use crate::common::http::{Response, request};
use crate::fakes::influx::line_protocol::{Precision, parse};
use crate::fakes::influx::{
    self, Config, Database, Fault, Faults, FieldValue, InfluxEndpoint, ORG_ID, Point, TOKEN,
};

const AUTH_V2: (&str, &str) = ("Authorization", "Token outatime-test-token");
const AUTH_V3: (&str, &str) = ("Authorization", "Bearer outatime-test-token");

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn v2_write(
    endpoint: &InfluxEndpoint,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    request(
        &endpoint.url(),
        "POST",
        &format!("/api/v2/write?{query}"),
        headers,
        body,
    )
    .expect("the write is answered")
}

fn v3_write(endpoint: &InfluxEndpoint, query: &str, body: &[u8]) -> Response {
    request(
        &endpoint.url(),
        "POST",
        &format!("/api/v3/write_lp?{query}"),
        &[AUTH_V3],
        body,
    )
    .expect("the write is answered")
}

fn point(
    measurement: &str,
    tags: &[(&str, &str)],
    field: &str,
    time_ns: i64,
    value: FieldValue,
) -> Point {
    Point {
        measurement: measurement.to_owned(),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        field: field.to_owned(),
        time_ns,
        value,
    }
}

const TWO_LINES: &str = "door,site=oslo\\ depot open=true,temp=-18.5 1700000000000\n\
                         door,site=oslo\\ depot note=\"a \\\"b\\\"\",opens=3i 1700000060000\n";

#[test]
fn a_gzip_v2_write_is_stored_and_read_back() {
    let endpoint = InfluxEndpoint::start(Config::default());
    let answer = v2_write(
        &endpoint,
        "org=outatime&bucket=e2e&precision=ms",
        &[AUTH_V2, ("Content-Encoding", "gzip")],
        &gzip(TWO_LINES.as_bytes()),
    );
    assert_eq!((answer.status, answer.text()), (204, String::new()));
    let site = [("site", "oslo depot")];
    assert_eq!(
        endpoint.points("e2e"),
        vec![
            point(
                "door",
                &site,
                "note",
                1_700_000_060_000_000_000,
                FieldValue::String("a \"b\"".into())
            ),
            point(
                "door",
                &site,
                "open",
                1_700_000_000_000_000_000,
                FieldValue::Boolean(true)
            ),
            point(
                "door",
                &site,
                "opens",
                1_700_000_060_000_000_000,
                FieldValue::Integer(3)
            ),
            point(
                "door",
                &site,
                "temp",
                1_700_000_000_000_000_000,
                FieldValue::Float(-18.5)
            ),
        ]
    );
    let log = endpoint.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].header("content-encoding"), Some("gzip"));
    assert_eq!(log[0].param("precision"), Some("ms"));
    assert_eq!(
        (log[0].lines, log[0].status, log[0].fault),
        (2, Some(204), None)
    );
    assert!(
        log[0].body_bytes < TWO_LINES.len() + 30,
        "the compressed size is logged"
    );
}

#[test]
fn a_second_write_of_a_key_replaces_its_value() {
    let endpoint = InfluxEndpoint::start(Config::default());
    for body in ["m,t=a f=1.0,g=2i 10", "m,t=a f=3.5 10\nm,t=b f=4 10"] {
        let answer = v2_write(
            &endpoint,
            "org=outatime&bucket=e2e",
            &[AUTH_V2],
            body.as_bytes(),
        );
        assert_eq!(answer.status, 204, "{}", answer.text());
    }
    assert_eq!(
        endpoint.points("e2e"),
        vec![
            point("m", &[("t", "a")], "f", 10, FieldValue::Float(3.5)),
            point("m", &[("t", "a")], "g", 10, FieldValue::Integer(2)),
            point("m", &[("t", "b")], "f", 10, FieldValue::Float(4.0)),
        ]
    );
}

#[test]
fn v3_write_lp_takes_each_precision() {
    let endpoint = InfluxEndpoint::start(Config::default());
    for (precision, stamp) in [
        ("second", "1700000000"),
        ("millisecond", "1700000000001"),
        ("us", "1700000000000002"),
        ("nanosecond", "1700000000000000003"),
        ("auto", "1700000004"),
    ] {
        let body = format!("m,p={precision} v=1i {stamp}");
        let answer = v3_write(
            &endpoint,
            &format!("db=e2e&precision={precision}"),
            body.as_bytes(),
        );
        assert_eq!(answer.status, 204, "{precision}: {}", answer.text());
    }
    let times: BTreeMap<String, i64> = endpoint
        .points("e2e")
        .into_iter()
        .map(|p| (p.tags["p"].clone(), p.time_ns))
        .collect();
    assert_eq!(
        times,
        BTreeMap::from([
            ("auto".to_owned(), 1_700_000_004_000_000_000),
            ("millisecond".to_owned(), 1_700_000_000_001_000_000),
            ("nanosecond".to_owned(), 1_700_000_000_000_000_003),
            ("second".to_owned(), 1_700_000_000_000_000_000),
            ("us".to_owned(), 1_700_000_000_000_002_000),
        ])
    );
    let answer = v3_write(&endpoint, "db=e2e&precision=minute", b"m v=1i 1");
    assert_eq!(answer.status, 400);
    let answer = v2_write(
        &endpoint,
        "org=outatime&bucket=e2e&precision=second",
        &[AUTH_V2],
        b"m v=1i 1",
    );
    assert_eq!(answer.status, 400, "v2 takes only ns, us, ms and s");
}

#[test]
fn a_wrong_or_missing_token_is_401_and_stores_nothing() {
    let endpoint = InfluxEndpoint::start(Config::default());
    for headers in [
        vec![("Authorization", "Token not-the-token")],
        vec![("Authorization", "Bearer outatime-test-token")],
        vec![],
    ] {
        let answer = v2_write(&endpoint, "org=outatime&bucket=e2e", &headers, b"m f=1 1");
        assert_eq!(answer.status, 401, "{headers:?}");
        assert_eq!(answer.json()["code"], "unauthorized");
    }
    let answer = request(
        &endpoint.url(),
        "POST",
        "/api/v3/write_lp?db=e2e",
        &[AUTH_V2],
        b"m f=1 1",
    )
    .unwrap();
    assert_eq!(answer.status, 204, "v3 also takes `Token`");
    let answer = request(
        &endpoint.url(),
        "POST",
        "/api/v3/write_lp?db=e2e",
        &[("Authorization", "Bearer x")],
        b"m f=2 2",
    )
    .unwrap();
    assert_eq!(answer.status, 401);
    assert_eq!(endpoint.points("e2e").len(), 1);

    let open = InfluxEndpoint::start(Config {
        token: None,
        ..Config::default()
    });
    let answer = v2_write(&open, "org=outatime&bucket=e2e", &[], b"m f=1 1");
    assert_eq!(answer.status, 204, "no token configured, none needed");

    let read_only = InfluxEndpoint::start(Config {
        token_can_write: false,
        ..Config::default()
    });
    let answer = v2_write(
        &read_only,
        "org=outatime&bucket=e2e",
        &[AUTH_V2],
        b"m f=1 1",
    );
    assert_eq!(answer.status, 401);
    assert!(
        answer.json()["message"]
            .as_str()
            .unwrap()
            .contains("is unauthorized")
    );
}

#[test]
fn an_unknown_bucket_or_org_is_404() {
    let endpoint = InfluxEndpoint::start(Config::default());
    let answer = v2_write(
        &endpoint,
        "org=outatime&bucket=nope",
        &[AUTH_V2],
        b"m f=1 1",
    );
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.json(),
        serde_json::json!({ "code": "not found", "message": "bucket \"nope\" not found" })
    );
    let answer = v2_write(&endpoint, "org=other&bucket=e2e", &[AUTH_V2], b"m f=1 1");
    assert_eq!(answer.status, 404);
    let answer = v2_write(
        &endpoint,
        &format!("orgID={ORG_ID}&bucket=e2e"),
        &[AUTH_V2],
        b"m f=1 1",
    );
    assert_eq!(answer.status, 204, "orgID names the org too");
    let answer = v2_write(&endpoint, "bucket=e2e", &[AUTH_V2], b"m f=1 1");
    assert_eq!(answer.status, 400, "an org is required");

    let strict_v3 = InfluxEndpoint::start(Config {
        v3_create_on_write: false,
        ..Config::default()
    });
    assert_eq!(v3_write(&strict_v3, "db=nope", b"m f=1 1").status, 404);
    assert_eq!(
        v3_write(&endpoint, "db=fresh", b"m f=1 1").status,
        204,
        "Core creates it"
    );
    assert!(endpoint.databases().contains(&Database::new("fresh")));
}

#[test]
fn a_malformed_line_is_named_v2_refusing_the_batch() {
    let endpoint = InfluxEndpoint::start(Config::default());
    let body = "m f=1 1\n\nm,t=a f= 2\nm f=3 3\nm f=\"open 4\n";
    let answer = v2_write(
        &endpoint,
        "org=outatime&bucket=e2e",
        &[AUTH_V2],
        body.as_bytes(),
    );
    assert_eq!(answer.status, 400);
    let json = answer.json();
    assert_eq!(json["code"], "invalid");
    assert_eq!(json["line"], 3);
    assert_eq!(
        json["message"],
        "partial write: unable to parse 'm,t=a f= 2' on line 3: missing field value\n\
         unable to parse 'm f=\"open 4' on line 5: unbalanced quotes; dropped=4"
    );
    assert!(
        endpoint.points("e2e").is_empty(),
        "InfluxDB 2 refuses the batch"
    );
}

#[test]
fn a_malformed_line_is_named_v3_storing_the_others() {
    let endpoint = InfluxEndpoint::start(Config::default());
    let body = b"m f=1 1\nm f=x 2\nm f=3 3\n";
    let answer = v3_write(&endpoint, "db=e2e&accept_partial=false", body);
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        serde_json::json!({
            "error": "parsing failed for write_lp endpoint",
            "data": { "original_line": "m f=x 2", "line_number": 2, "error_message": "invalid boolean" },
        })
    );
    assert!(endpoint.points("e2e").is_empty());
    let answer = v3_write(&endpoint, "db=e2e&precision=nanosecond", body);
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        serde_json::json!({
            "error": "partial write of line protocol occurred",
            "data": [{ "original_line": "m f=x 2", "line_number": 2, "error_message": "invalid boolean" }],
        })
    );
    let times: Vec<i64> = endpoint.points("e2e").iter().map(|p| p.time_ns).collect();
    assert_eq!(times, [1, 3]);
}

#[test]
fn a_field_type_conflict_or_a_point_beyond_retention_is_refused_alone() {
    let endpoint = InfluxEndpoint::start(Config {
        databases: vec![Database::new("e2e").retention(Duration::from_secs(3600))],
        ..Config::default()
    });
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let body = format!("m f=1i {now_s}\nm f=2.5 {now_s}\nm g=1i {}\n", now_s - 7200);
    let answer = v2_write(
        &endpoint,
        "org=outatime&bucket=e2e&precision=s",
        &[AUTH_V2],
        body.as_bytes(),
    );
    assert_eq!(answer.status, 422);
    assert_eq!(
        answer.json()["message"],
        "failure writing points to database: partial write: field type conflict: input field \"f\" \
         on measurement \"m\" is type float, already exists as type integer dropped=2"
    );
    let values: Vec<FieldValue> = endpoint
        .points("e2e")
        .into_iter()
        .map(|p| p.value)
        .collect();
    assert_eq!(values, [FieldValue::Integer(1)]);
}

#[test]
fn throttling_answers_429_with_retry_after_every_nth_write() {
    let endpoint = InfluxEndpoint::start(Config {
        faults: Faults {
            throttle_every: Some((2, 7)),
            ..Faults::default()
        },
        ..Config::default()
    });
    let mut statuses = Vec::new();
    for n in 1..=4 {
        let answer = v2_write(
            &endpoint,
            "org=outatime&bucket=e2e",
            &[AUTH_V2],
            format!("m f={n} {n}").as_bytes(),
        );
        if answer.status == 429 {
            assert_eq!(answer.header("retry-after"), Some("7"));
            assert_eq!(answer.json()["code"], "too many requests");
        }
        statuses.push(answer.status);
    }
    assert_eq!(statuses, [204, 429, 204, 429]);
    let times: Vec<i64> = endpoint.points("e2e").iter().map(|p| p.time_ns).collect();
    assert_eq!(times, [1, 3], "a throttled write stores nothing");
    let faults: Vec<Option<Fault>> = endpoint.requests().iter().map(|r| r.fault).collect();
    assert_eq!(
        faults,
        [None, Some(Fault::Throttled), None, Some(Fault::Throttled)]
    );
}

#[test]
fn unavailability_answers_503_on_v2_and_v3() {
    let endpoint = InfluxEndpoint::start(Config {
        faults: Faults {
            unavailable_every: Some(1),
            ..Faults::default()
        },
        ..Config::default()
    });
    let answer = v2_write(&endpoint, "org=outatime&bucket=e2e", &[AUTH_V2], b"m f=1 1");
    assert_eq!(
        (answer.status, answer.json()["code"].clone()),
        (503, "unavailable".into())
    );
    let answer = v3_write(&endpoint, "db=e2e", b"m f=1 1");
    assert_eq!(answer.status, 503);
    assert!(answer.json()["error"].is_string());
    assert!(endpoint.points("e2e").is_empty());
    endpoint.set_faults(Faults::default());
    assert_eq!(
        v3_write(&endpoint, "db=e2e", b"m f=1 1").status,
        204,
        "faults change while it runs"
    );
}

#[test]
fn a_body_too_large_once_decompressed_is_413() {
    let endpoint = InfluxEndpoint::start(Config {
        faults: Faults {
            max_body_bytes: Some(1000),
            ..Faults::default()
        },
        ..Config::default()
    });
    let body: String = (0..100).map(|n| format!("m,t=a f={n}i {n}\n")).collect();
    assert!(body.len() > 1000);
    let compressed = gzip(body.as_bytes());
    assert!(compressed.len() < 1000);
    let answer = v2_write(
        &endpoint,
        "org=outatime&bucket=e2e",
        &[AUTH_V2, ("Content-Encoding", "gzip")],
        &compressed,
    );
    assert_eq!(answer.status, 413);
    assert_eq!(answer.json()["code"], "request too large");
    assert_eq!(endpoint.requests()[0].fault, Some(Fault::TooLarge));
    let answer = v3_write(&endpoint, "db=e2e", body.as_bytes());
    assert_eq!(answer.status, 413);
    let half: String = body.lines().take(40).map(|l| format!("{l}\n")).collect();
    let answer = v2_write(
        &endpoint,
        "org=outatime&bucket=e2e",
        &[AUTH_V2],
        half.as_bytes(),
    );
    assert_eq!(answer.status, 204);
    assert_eq!(endpoint.points("e2e").len(), 40);
}

#[test]
fn an_injected_line_rejection_is_a_partial_write_naming_it() {
    let endpoint = InfluxEndpoint::start(Config {
        faults: Faults {
            reject_line_every: Some((1, 2)),
            ..Faults::default()
        },
        ..Config::default()
    });
    let body = b"m f=1 1\nm f=2 2\nm f=3 3\n";
    let answer = v2_write(&endpoint, "org=outatime&bucket=e2e", &[AUTH_V2], body);
    assert_eq!(answer.status, 400);
    let json = answer.json();
    assert_eq!(json["line"], 2);
    let message = json["message"].as_str().unwrap();
    assert!(
        message.starts_with("partial write: unable to parse 'm f=2 2' on line 2: "),
        "{message}"
    );
    assert!(endpoint.points("e2e").is_empty());
    let answer = v3_write(&endpoint, "db=e2e", body);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["data"][0]["line_number"], 2);
    assert_eq!(endpoint.points("e2e").len(), 2, "v3 stores the other lines");
    assert_eq!(endpoint.requests()[1].fault, Some(Fault::RejectedLine));
}

#[test]
fn a_dropped_connection_answers_nothing_and_stores_nothing() {
    let endpoint = InfluxEndpoint::start(Config {
        faults: Faults {
            drop_every: Some(2),
            ..Faults::default()
        },
        ..Config::default()
    });
    let url = endpoint.url();
    let write = |body: &[u8]| {
        request(
            &url,
            "POST",
            "/api/v2/write?org=outatime&bucket=e2e",
            &[AUTH_V2],
            body,
        )
    };
    assert_eq!(write(b"m f=1 1").unwrap().status, 204);
    let error = write(b"m f=2 2").unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
    assert_eq!(write(b"m f=3 3").unwrap().status, 204);
    assert_eq!(endpoint.points("e2e").len(), 2);
    let log = endpoint.requests();
    assert_eq!((log[1].status, log[1].fault), (None, Some(Fault::Dropped)));
    assert_eq!(endpoint.write_requests(), 3);
}

#[test]
fn latency_and_slow_replies_delay_the_answer_not_the_store() {
    let endpoint = InfluxEndpoint::start(Config {
        faults: Faults {
            latency: Duration::from_millis(30),
            slow_every: Some((2, Duration::from_millis(300))),
            ..Faults::default()
        },
        ..Config::default()
    });
    let timed = |body: &[u8]| {
        let started = Instant::now();
        let answer = v2_write(&endpoint, "org=outatime&bucket=e2e", &[AUTH_V2], body);
        (answer.status, started.elapsed())
    };
    let (status, fast) = timed(b"m f=1 1");
    assert_eq!(status, 204);
    assert!(fast >= Duration::from_millis(30), "{fast:?}");
    let (status, slow) = timed(b"m f=2 2");
    assert_eq!(status, 204);
    assert!(slow >= Duration::from_millis(330), "{slow:?}");
    assert_eq!(endpoint.points("e2e").len(), 2, "a slow write is stored");
    assert_eq!(endpoint.requests()[1].fault, Some(Fault::Slowed));
}

#[test]
fn ping_and_health_answer_without_a_token() {
    let endpoint = InfluxEndpoint::start(Config::default());
    let ping = request(&endpoint.url(), "GET", "/ping", &[], b"").unwrap();
    assert_eq!(ping.status, 204);
    assert!(ping.header("x-influxdb-version").is_some());
    let health = request(&endpoint.url(), "GET", "/health", &[], b"").unwrap();
    assert_eq!(
        (health.status, health.json()["status"].clone()),
        (200, "pass".into())
    );
    let unknown = request(&endpoint.url(), "GET", "/api/v2/nothing", &[], b"").unwrap();
    assert_eq!(unknown.status, 404);
    let wrong_method = request(&endpoint.url(), "GET", "/api/v2/write", &[AUTH_V2], b"").unwrap();
    assert_eq!(wrong_method.status, 405);
}

#[test]
fn v2_buckets_are_listed_with_retention_and_created() {
    let endpoint = InfluxEndpoint::start(Config {
        databases: vec![Database::new("e2e").retention(Duration::from_secs(86400))],
        ..Config::default()
    });
    let url = endpoint.url();
    let get = |target: &str| request(&url, "GET", target, &[AUTH_V2], b"").unwrap();
    let answer = get("/api/v2/buckets?org=outatime&name=e2e");
    assert_eq!(answer.status, 200);
    let bucket = &answer.json()["buckets"][0];
    assert_eq!(bucket["name"], "e2e");
    assert_eq!(bucket["orgID"], ORG_ID);
    assert_eq!(bucket["retentionRules"][0]["type"], "expire");
    assert_eq!(bucket["retentionRules"][0]["everySeconds"], 86400);
    assert_eq!(get("/api/v2/buckets?org=outatime&name=other").status, 404);
    assert_eq!(get("/api/v2/buckets?org=elsewhere").status, 404);
    let orgs = get("/api/v2/orgs?org=outatime");
    assert_eq!(orgs.json()["orgs"][0]["id"], ORG_ID);

    let create = |body: serde_json::Value| {
        request(
            &url,
            "POST",
            "/api/v2/buckets",
            &[AUTH_V2],
            body.to_string().as_bytes(),
        )
        .unwrap()
    };
    let answer =
        create(serde_json::json!({ "orgID": ORG_ID, "name": "e2e_42", "retentionRules": [] }));
    assert_eq!(answer.status, 201, "{}", answer.text());
    assert_eq!(answer.json()["retentionRules"], serde_json::json!([]));
    let answer = create(serde_json::json!({ "orgID": ORG_ID, "name": "e2e_42" }));
    assert_eq!(answer.status, 422);
    assert_eq!(answer.json()["code"], "unprocessable entity");
    let answer = v2_write(
        &endpoint,
        "org=outatime&bucket=e2e_42",
        &[AUTH_V2],
        b"m f=1 1",
    );
    assert_eq!(answer.status, 204);
    let unauthorized = request(&url, "POST", "/api/v2/buckets", &[], b"{}").unwrap();
    assert_eq!(unauthorized.status, 401);

    let cannot_create = InfluxEndpoint::start(Config {
        token_can_create: false,
        ..Config::default()
    });
    let answer = request(
        &cannot_create.url(),
        "POST",
        "/api/v2/buckets",
        &[AUTH_V2],
        serde_json::json!({ "orgID": ORG_ID, "name": "x" })
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(answer.status, 401);
}

#[test]
fn v3_databases_are_listed_and_created() {
    let endpoint = InfluxEndpoint::start(Config::default());
    let url = endpoint.url();
    let list = || {
        let answer = request(
            &url,
            "GET",
            "/api/v3/configure/database?format=json",
            &[AUTH_V3],
            b"",
        )
        .unwrap();
        assert_eq!(answer.status, 200);
        answer.json()
    };
    assert_eq!(list(), serde_json::json!([{ "iox::database": "e2e" }]));
    let create = |name: &str| {
        let body = serde_json::json!({ "db": name }).to_string();
        request(
            &url,
            "POST",
            "/api/v3/configure/database",
            &[AUTH_V3],
            body.as_bytes(),
        )
        .unwrap()
    };
    assert_eq!(create("more").status, 200);
    assert_eq!(create("more").status, 409);
    assert_eq!(create("").status, 400);
    assert_eq!(
        list(),
        serde_json::json!([{ "iox::database": "e2e" }, { "iox::database": "more" }])
    );
    let anonymous = request(
        &url,
        "GET",
        "/api/v3/configure/database?format=json",
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(anonymous.status, 401);
}

#[test]
fn chunked_keep_alive_requests_are_read() {
    use std::io::Read;
    let endpoint = InfluxEndpoint::start(Config::default());
    let address = endpoint.url().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let target = "/api/v2/write?org=outatime&bucket=e2e&precision=s";
    let head = |close: &str| {
        format!(
            "POST {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Token {TOKEN}\r\n\
             Transfer-Encoding: chunked\r\n{close}\r\n"
        )
    };
    let first = format!("{}7\r\nm f=1 1\r\n0\r\n\r\n", head(""));
    let second = format!(
        "{}4\r\nm f=\r\n3\r\n2 2\r\n0\r\n\r\n",
        head("Connection: close\r\n")
    );
    stream.write_all(first.as_bytes()).unwrap();
    stream.write_all(second.as_bytes()).unwrap();
    let mut answers = String::new();
    stream.read_to_string(&mut answers).unwrap();
    assert_eq!(
        answers.matches("HTTP/1.1 204 No Content").count(),
        2,
        "{answers}"
    );
    let times: Vec<i64> = endpoint.points("e2e").iter().map(|p| p.time_ns).collect();
    assert_eq!(times, [1_000_000_000, 2_000_000_000]);
}

fn one(text: &str) -> Result<influx::line_protocol::Line, String> {
    let (mut lines, errors) = parse(text, Precision::Nanoseconds, 7);
    match errors.first() {
        Some(error) => Err(error.reason.clone()),
        None => Ok(lines.remove(0)),
    }
}

#[test]
fn line_protocol_escapes_are_the_servers() {
    let line =
        one(r#"my\ m\,x,t\=k=a\ b\,c\=d,z=\\ f\ k="q\"\\\n",g=-1.5e3,h=18446744073709551615u,i=T"#)
            .unwrap();
    assert_eq!(line.measurement, "my m,x");
    assert_eq!(line.tags["t=k"], "a b,c=d");
    assert_eq!(line.tags["z"], "\\\\", "a backslash before another is kept");
    assert_eq!(
        line.fields,
        vec![
            ("f k".to_owned(), FieldValue::String("q\"\\\\n".to_owned())),
            ("g".to_owned(), FieldValue::Float(-1500.0)),
            ("h".to_owned(), FieldValue::UInteger(u64::MAX)),
            ("i".to_owned(), FieldValue::Boolean(true)),
        ]
    );
    assert_eq!(line.time_ns, 7, "no timestamp: the server's time");
    let (lines, errors) = parse(
        "# comment\n\nm s=\"two\nlines\" 1\nm f=1 2\n",
        Precision::Nanoseconds,
        0,
    );
    assert!(errors.is_empty(), "{errors:?}");
    let numbers: Vec<usize> = lines.iter().map(|l| l.number).collect();
    assert_eq!(numbers, [3, 5], "a string's newline counts as a line");
}

#[test]
fn line_protocol_refusals_say_why() {
    for (text, reason) in [
        ("m", "missing fields"),
        ("m,t=a", "missing fields"),
        ("m,t= f=1", "missing tag value"),
        ("m,=a f=1", "missing tag key"),
        ("m,t=a=b f=1", "invalid tag format"),
        (",t=a f=1", "missing measurement"),
        ("m f=", "missing field value"),
        ("m =1", "missing field key"),
        ("m f=1x", "invalid boolean"),
        ("m f=1.2.3", "invalid number"),
        ("m f=12.5i", "invalid number"),
        ("m f=-u", "invalid number"),
        ("m f=9223372036854775808i", "invalid number"),
        ("m f=\"open", "unbalanced quotes"),
        ("m f=1 12a", "bad timestamp"),
        ("m f=1 1\r", "bad timestamp"),
        ("m f=1 9223372036854775807", "time outside range"),
        ("m,t=a,t=b f=1", "duplicate tags"),
        ("m f=NaN", "invalid boolean"),
        ("m f=inf", "invalid boolean"),
    ] {
        assert_eq!(one(text).map(|_| ()), Err(reason.to_owned()), "{text}");
    }
}

/// `GET /query` with the statement `outatime verify` sends, as its client
/// encodes it.
fn query(endpoint: &InfluxEndpoint, db: &str, statement: &str, auth: &[(&str, &str)]) -> Response {
    let target = format!(
        "/query?db={}&epoch=ns&q={}",
        common::http::escape(db),
        common::http::escape(statement)
    );
    request(&endpoint.url(), "GET", &target, auth, b"").expect("the query is answered")
}

#[test]
fn query_answers_verifys_select_as_influxdb_1x_does() {
    let endpoint = InfluxEndpoint::start(Config::default());
    let lines = "m,site=a,dev=x v=1.0,n=3i,on=true,s=\"hi \\\"q\\\"\" 1700000000000000000\n\
                 m,site=a,dev=x v=2.5 1700000060000000000\n\
                 m,site=b v=0.1,n=4i 1700000000000000000\n\
                 m,site=b v=9 1700000120000000000\n\
                 other v=1 1700000000000000000\n\
                 f a=0.0000001,b=1e21,c=-0.0,d=123456789012345678,e=1.5e300,g=100.25 5\n";
    let answer = v2_write(
        &endpoint,
        "org=outatime&bucket=e2e",
        &[AUTH_V2],
        lines.as_bytes(),
    );
    assert_eq!(answer.status, 204, "{}", answer.text());
    let select = r#"SELECT * FROM "e2e".."m" WHERE time >= 1700000000000000000 AND time < 1700000120000000000 GROUP BY *"#;
    // Byte for byte what influxd 1.6 answers for the same points: a series
    // a tag set, sorted by tag values, a missing tag empty, every field a
    // column (null where a row lacks it), the float 1.0 as `1`.
    let want = r#"{"results":[{"statement_id":0,"series":[{"name":"m","tags":{"dev":"","site":"b"},"columns":["time","n","on","s","v"],"values":[[1700000000000000000,4,null,null,0.1]]},{"name":"m","tags":{"dev":"x","site":"a"},"columns":["time","n","on","s","v"],"values":[[1700000000000000000,3,true,"hi \"q\"",1],[1700000060000000000,null,null,null,2.5]]}]}]}"#;
    for auth in [AUTH_V2, AUTH_V3] {
        let answer = query(&endpoint, "e2e", select, &[auth]);
        assert_eq!((answer.status, answer.text()), (200, want.to_owned()));
    }
    // Floats as Go writes them, and no `tags` for a measurement without.
    let answer = query(
        &endpoint,
        "e2e",
        r#"select * from "e2e"."autogen"."f" where "time" >= 0 and time < 10 group by *;"#,
        &[AUTH_V2],
    );
    assert_eq!(
        answer.text(),
        r#"{"results":[{"statement_id":0,"series":[{"name":"f","columns":["time","a","b","c","d","e","g"],"values":[[5,1e-7,1e+21,-0,123456789012345680,1.5e+300,100.25]]}]}]}"#
    );
    // Nothing in the range, or no such measurement: no series.
    let empty = r#"{"results":[{"statement_id":0}]}"#;
    let none = "SELECT * FROM m WHERE time >= 0 AND time < 1000 GROUP BY *";
    assert_eq!(query(&endpoint, "e2e", none, &[AUTH_V2]).text(), empty);
    let unknown = "SELECT * FROM nothing WHERE time >= 0 AND time < 1000 GROUP BY *";
    assert_eq!(query(&endpoint, "e2e", unknown, &[AUTH_V2]).text(), empty);

    // An unknown database (or bucket) is the statement's error, as 1.x.
    let answer = query(&endpoint, "nope", none, &[AUTH_V2]);
    assert_eq!(
        (answer.status, answer.text()),
        (
            200,
            r#"{"results":[{"statement_id":0,"error":"database not found: nope"}]}"#.to_owned()
        )
    );
    // The token is checked.
    assert_eq!(query(&endpoint, "e2e", select, &[]).status, 401);
    let wrong = ("Authorization", "Token not-the-token");
    assert_eq!(query(&endpoint, "e2e", select, &[wrong]).status, 401);

    // Any other statement is a parse error, in InfluxDB's words.
    let refused = [
        (
            "SELECT * FROM m WHERE time >= 0 AND time < 10 GROUP BY",
            "error parsing query: found EOF, expected * at line 1, char 56",
        ),
        (
            "SELECT v FROM m WHERE time >= 0 AND time < 10 GROUP BY *",
            "error parsing query: found v, expected * at line 1, char 8",
        ),
        (
            "SELECT * FROM m WHERE time >= 0 AND time < 10 GROUP BY * LIMIT 1",
            "error parsing query: found LIMIT, expected EOF at line 1, char 58",
        ),
        (
            "SELECT * FROM m WHERE time > 0 AND time < 10 GROUP BY *",
            "error parsing query: found >, expected >= at line 1, char 28",
        ),
        (
            "DROP SERIES FROM m",
            "error parsing query: found DROP, expected SELECT at line 1, char 1",
        ),
    ];
    for (statement, message) in refused {
        let answer = query(&endpoint, "e2e", statement, &[AUTH_V2]);
        assert_eq!(answer.status, 400, "{statement}");
        assert_eq!(answer.json(), serde_json::json!({ "error": message }));
    }
    // Only `epoch=ns`: the reader parses integer times.
    let target = format!("/query?db=e2e&q={}", common::http::escape(select));
    let answer = request(&endpoint.url(), "GET", &target, &[AUTH_V2], b"").unwrap();
    assert_eq!(answer.status, 400, "{}", answer.text());
}

#[test]
fn query_reads_what_set_point_and_delete_series_changed() {
    let endpoint = InfluxEndpoint::start(Config::default());
    let lines = "m,site=a v=1.5 60\nm,site=b v=2.5 60\n";
    let answer = v2_write(
        &endpoint,
        "org=outatime&bucket=e2e&precision=ns",
        &[AUTH_V2],
        lines.as_bytes(),
    );
    assert_eq!(answer.status, 204);
    endpoint.set_point(
        "e2e",
        &point("m", &[("site", "a")], "v", 60, FieldValue::Float(-7.25)),
    );
    assert_eq!(endpoint.delete_series("e2e", "m", &[("site", "b")]), 1);
    assert_eq!(endpoint.delete_series("e2e", "m", &[("site", "zz")]), 0);
    let answer = query(
        &endpoint,
        "e2e",
        r#"SELECT * FROM "e2e".."m" WHERE time >= 0 AND time < 120 GROUP BY *"#,
        &[AUTH_V2],
    );
    assert_eq!(
        answer.text(),
        r#"{"results":[{"statement_id":0,"series":[{"name":"m","tags":{"site":"a"},"columns":["time","v"],"values":[[60,-7.25]]}]}]}"#
    );
}
