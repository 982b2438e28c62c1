//! `outatime verify` through the real binary: after an apply it passes;
//! after a series is deleted or a value changed behind outatime's back it
//! exits 1 naming them; a target it cannot read is exit 3. For the file
//! target, a real influxd (`OUTATIME_INFLUXDB_URL`, written with raw HTTP
//! here, not through outatime) and Timestream through the strict in-process
//! endpoint (`tests/it/fakes/strict/`), which answers the Query API page by page.
//! Everything stays on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::Value as Json;

use crate::common::{Run, TWO_TABLES, influxdb_url};
use crate::fakes::strict;

const ANCHOR: &str = "2026-11-28T20:00:00Z";

fn work(name: &str) -> Run {
    Run::new(&format!("verify-{name}")).file("s.scenario", TWO_TABLES)
}

fn verify(run: &Run, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["verify", "s.scenario", "--anchor", ANCHOR];
    args.extend_from_slice(extra);
    run.again(&args).run()
}

fn applied(name: &str, extra: &[&str]) -> Run {
    let mut args = vec!["apply", "s.scenario", "--anchor", ANCHOR];
    args.extend_from_slice(extra);
    let run = work(name).args(&args);
    let (code, _, stderr) = run.run();
    assert_eq!(code, 0, "{stderr}");
    run
}

fn edit(run: &Run, file: &str, change: impl Fn(&str) -> String) {
    let path = run.dir.join("outatime-out").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, change(&text)).unwrap();
}

#[test]
fn files_verify_after_an_apply_and_the_report_counts_every_table() {
    let run = applied("files-ok", &[]);
    let (code, stdout, stderr) = verify(&run, &["--report", "r.json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("ok: 465 records match"), "{stdout}");
    let report: Json =
        serde_json::from_str(&std::fs::read_to_string(run.dir.join("r.json")).unwrap()).unwrap();
    assert_eq!(report["outcome"], "match");
    assert_eq!(report["expected"], 465);
    assert_eq!(report["found"], 465);
    assert_eq!(report["tables"]["alpha"]["expected"], 3 * 95);
    assert_eq!(
        report["tables"]["bravo"]["series"][r#"{device="b1", site="lab"}"#]["found"],
        90
    );
}

#[test]
fn files_a_deleted_series_is_named_missing() {
    let run = applied("files-deleted", &[]);
    edit(&run, "alpha.jsonl", |text| {
        text.lines()
            .filter(|l| !l.contains(r#""device":"a2""#))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let (code, stdout, stderr) = verify(&run, &["--report", "r.json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(r#"series {device="a2", site="lab"}: 95 expected, 0 found, 95 missing"#),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            r#"missing    `alpha` {device="a2", site="lab"} at 2026-11-28T18:30:00.000Z"#
        ),
        "{stdout}"
    );
    assert!(stdout.contains("and 85 more missing"), "{stdout}");
    assert!(
        stderr.contains("error[outatime::verify::differs]"),
        "{stderr}"
    );
    // The report lists all of them.
    let report: Json =
        serde_json::from_str(&std::fs::read_to_string(run.dir.join("r.json")).unwrap()).unwrap();
    assert_eq!(report["missing"].as_array().unwrap().len(), 95);
    assert_eq!(report["outcome"], "differs");
}

#[test]
fn files_a_changed_value_and_an_extra_record_are_named() {
    let run = applied("files-changed", &[]);
    edit(&run, "bravo.jsonl", |text| {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let first = lines[0].clone();
        let value: Json = serde_json::from_str(&first).unwrap();
        let w = value["measures"]["w"].as_i64().unwrap();
        lines[0] = first.replace(&format!(r#""w":{w}"#), r#""w":-7"#);
        // Another series, inside the table's time range.
        lines.insert(1, first.replace(r#""device":"b1""#, r#""device":"b9""#));
        lines.join("\n") + "\n"
    });
    let (code, stdout, _) = verify(&run, &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(
            r#"differs    `bravo` {device="b1", site="lab"} at 2026-11-28T18:30:00.000Z: `w` expected 0, found -7"#
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            r#"unexpected `bravo` {device="b9", site="lab"} at 2026-11-28T18:30:00.000Z"#
        ),
        "{stdout}"
    );
}

#[test]
fn files_a_shard_verifies_what_its_apply_wrote() {
    let run = applied("files-shard", &["--shard", "1/2"]);
    let (code, stdout, stderr) = verify(&run, &["--shard", "1/2"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // The other shard was not written: all of it is missing.
    let (code, stdout, _) = verify(&run, &["--shard", "2/2"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("0 found"), "{stdout}");
}

#[test]
fn files_a_broken_line_is_exit_3_naming_the_file_and_line() {
    let run = applied("files-broken", &[]);
    edit(&run, "alpha.jsonl", |text| text.replacen('{', "[", 1));
    let (code, _, stderr) = verify(&run, &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("error[outatime::verify::file]"), "{stderr}");
    assert!(stderr.contains("alpha.jsonl` line 1"), "{stderr}");
}

#[test]
fn files_many_slices_find_the_one_missing_record() {
    // 3 series × 5,000 minutes: more than one slice of 10,000 records.
    let scenario = r#"scenario "long"
table long
generate into long {
  series device = "d1"
  series device = "d2"
  series device = "d3"
  from now - 5000m to now every 1m
  measure v double = noise(sigma: 1)
}
"#;
    let run = Run::new("verify-files-slices").file("s.scenario", scenario);
    let (code, _, stderr) = run
        .again(&["apply", "s.scenario", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = verify(&run, &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("15000 expected, 15000 found"), "{stdout}");
    // The 12,000th line: in the second slice.
    edit(&run, "long.jsonl", |text| {
        text.lines()
            .enumerate()
            .filter(|(i, _)| *i != 11_999)
            .map(|(_, l)| format!("{l}\n"))
            .collect()
    });
    let (code, stdout, _) = verify(&run, &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("1 missing"), "{stdout}");
    assert!(
        stdout.contains(r#"missing    `long` {device="d3"} at 2026-11-28T03:19:00.000Z"#),
        "{stdout}"
    );
}

#[test]
fn wait_retries_until_its_deadline_and_bad_arguments_are_usage_errors() {
    let run = applied("files-wait", &[]);
    edit(&run, "alpha.jsonl", |text| {
        text.lines().skip(1).map(|l| format!("{l}\n")).collect()
    });
    let started = std::time::Instant::now();
    let (code, stdout, _) = verify(&run, &["--wait", "2s", "--report", "r.json"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));
    assert!(stdout.contains("attempts within --wait 2s"), "{stdout}");
    let report: Json =
        serde_json::from_str(&std::fs::read_to_string(run.dir.join("r.json")).unwrap()).unwrap();
    assert!(report["attempts"].as_u64().unwrap() >= 2, "{report}");
    let (code, _, stderr) = verify(&run, &["--wait", "soon"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--wait soon: not a duration"), "{stderr}");
    let (code, _, stderr) = verify(&run, &["--shard", "3/2"]);
    assert_eq!(code, 2, "{stderr}");
}

// ---------------------------------------------------------------- InfluxDB

/// A raw HTTP/1.1 request to influxd; the status and body.
fn http(url: &str, method: &str, path_and_query: &str, body: &str) -> (u16, String) {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "{method} {path_and_query} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn influxql(url: &str, database: &str, query: &str) {
    let (status, body) = http(
        url,
        "POST",
        &format!("/query?db={database}&q={}", encode(query)),
        "",
    );
    assert_eq!(status, 200, "{query}: {body}");
    assert!(!body.contains("\"error\""), "{query}: {body}");
}

fn write_lines(url: &str, database: &str, lines: &str) {
    let (status, body) = http(
        url,
        "POST",
        &format!("/write?db={database}&precision=ns"),
        lines,
    );
    assert_eq!(status, 204, "{body}");
}

/// One line of `outatime records`, its values as the text it printed (a
/// double read into an f64 by serde_json may move by a bit).
#[derive(serde::Deserialize)]
struct RecordLine {
    table: String,
    time: String,
    dimensions: std::collections::BTreeMap<String, String>,
    measures: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>,
}

/// The stream at the anchor as line protocol, written the way an InfluxDB
/// target would: table → measurement, dimensions → tags, measures → fields
/// (bigint with `i`, varchar quoted).
fn line_protocol(run: &Run) -> String {
    let (code, stdout, stderr) = run
        .again(&["records", "s.scenario", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    let escape = |s: &str| {
        s.replace(' ', "\\ ")
            .replace(',', "\\,")
            .replace('=', "\\=")
    };
    let mut out = String::new();
    for line in stdout.lines() {
        let record: RecordLine = serde_json::from_str(line).unwrap();
        let mut text = escape(&record.table);
        for (k, v) in &record.dimensions {
            text.push_str(&format!(",{}={}", escape(k), escape(v)));
        }
        let fields: Vec<String> = record
            .measures
            .iter()
            .map(|(k, v)| match k.as_str() {
                "w" => format!("{k}={}i", v.get()),
                // JSON strings without escapes here: the same text quoted.
                _ => format!("{k}={}", v.get()),
            })
            .collect();
        let time = chrono::DateTime::parse_from_rfc3339(&record.time)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap();
        out.push_str(&format!("{text} {} {time}\n", fields.join(",")));
    }
    out
}

#[test]
fn influxdb_verify_passes_then_names_a_dropped_series_and_a_changed_value() {
    let Some(url) = influxdb_url() else { return };
    let database = format!("verify_{}", std::process::id());
    let run = work("influx").file(
        "outatime.yaml",
        format!(
            "targets:\n  influx:\n    kind: influxdb\n    api: v1\n    url: {url}\n    database: {database}\n"
        ),
    );
    influxql(&url, &database, &format!("CREATE DATABASE \"{database}\""));
    write_lines(&url, &database, &line_protocol(&run));
    let (code, stdout, stderr) = verify(&run, &["--target", "influx"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("ok: 465 records match"), "{stdout}");

    // A value changed by a second write of the same point.
    let a1_time = chrono::DateTime::parse_from_rfc3339("2026-11-28T19:00:00Z")
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap();
    write_lines(
        &url,
        &database,
        &format!("alpha,device=a1,site=lab v=12345.5 {a1_time}\n"),
    );
    let (code, stdout, _) = verify(&run, &["--target", "influx"]);
    assert_eq!(code, 1, "{stdout}");
    let changed = r#"differs    `alpha` {device="a1", site="lab"} at 2026-11-28T19:00:00.000Z: `v` expected "#;
    assert!(stdout.contains(changed), "{stdout}");
    assert!(stdout.contains(", found 12345.5"), "{stdout}");

    // A series dropped.
    influxql(
        &url,
        &database,
        "DROP SERIES FROM \"bravo\" WHERE \"device\" = 'b2'",
    );
    let (code, stdout, _) = verify(&run, &["--target", "influx"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(r#"series {device="b2", site="lab"}: 90 expected, 0 found, 90 missing"#),
        "{stdout}"
    );
    influxql(&url, &database, &format!("DROP DATABASE \"{database}\""));

    // A database that is not there cannot be read.
    let (code, _, stderr) = verify(&run, &["--target", "influx"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("error[outatime::verify::influxdb]")
            && stderr.contains("database not found"),
        "{stderr}"
    );
}

// -------------------------------------------------------------- Timestream

/// Credentials the strict endpoint accepts (it checks the signature's
/// shape, not the secret), and no instance-metadata look-up.
const AWS_ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

const MINUTE_NS: i64 = 60_000_000_000;

#[test]
fn timestream_verify_pages_through_queries_and_names_an_overwritten_record() {
    let endpoint = strict::StrictEndpoint::start();
    let retention = strict::Retention {
        memory_hours: 24,
        magnetic_days: 30,
        magnetic_writes: false,
    };
    // Tagged as outatime's, as `apply --create` leaves them.
    let ours = [("managed-by", "outatime")];
    endpoint.create_tagged_table("db", "t_alpha", retention, &ours);
    endpoint.create_tagged_table("db", "t_bravo", retention, &ours);
    // Fewer rows a page than either table has records.
    endpoint.set_query_page_size(40);
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
    let anchor_ns = now - now.rem_euclid(MINUTE_NS);
    let anchor = chrono::DateTime::from_timestamp_nanos(anchor_ns).to_rfc3339();
    let run = work("timestream").file(
        "outatime.yaml",
        format!(
            "targets:\n  ts:\n    kind: timestream\n    region: us-east-1\n    database: db\n    endpoint_url: {}\n    table_prefix: t_\n",
            endpoint.url()
        ),
    );
    let (code, _, stderr) = run
        .again(&["apply", "s.scenario", "--target", "ts", "--anchor", &anchor])
        .run_with(&AWS_ENV);
    assert_eq!(code, 0, "{stderr}");
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "s.scenario",
            "--target",
            "ts",
            "--anchor",
            &anchor,
        ];
        args.extend_from_slice(extra);
        run.again(&args).run_with(&AWS_ENV)
    };
    let (code, stdout, stderr) = verify(&[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("ok: 465 records match"), "{stdout}");
    assert!(
        stdout.contains("`bravo` (t_bravo): 180 expected, 180 found"),
        "{stdout}"
    );
    // alpha: 285 multi-measure rows; bravo: 360 single-measure rows; 40 a
    // page, one query a table (each fits one slice).
    let queries = endpoint
        .stats()
        .operations
        .get("Query")
        .copied()
        .unwrap_or(0);
    assert_eq!(queries, 285u64.div_ceil(40) + 360u64.div_ceil(40));

    let overwritten = anchor_ns - 30 * MINUTE_NS;
    // As another writer would, with a Version no apply beats.
    let dimensions = [("device", "a1"), ("site", "lab")];
    endpoint.write_directly("db", "t_alpha", &dimensions, overwritten, 1 << 60);
    let (code, stdout, stderr) = verify(&["--report", "r.json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let time = chrono::DateTime::from_timestamp_nanos(overwritten)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let named =
        format!(r#"differs    `alpha` {{device="a1", site="lab"}} at {time}: `v` expected "#);
    assert!(stdout.contains(&named), "{stdout}");
    assert!(stdout.contains("found 12345.0"), "{stdout}");
    assert!(
        stdout.contains(r#"series {device="a1", site="lab"}: 95 expected, 95 found, 0 missing, 0 unexpected, 1 differing"#),
        "{stdout}"
    );
    let report: Json =
        serde_json::from_str(&std::fs::read_to_string(run.dir.join("r.json")).unwrap()).unwrap();
    let v = report["differing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["measure"] == "v")
        .unwrap();
    assert_eq!(v["found"], 12345.0);
    assert_eq!(v["time"], time.as_str());

    // A table that is not there cannot be read: exit 3.
    let missing = run.again(&[]).file(
        "outatime.yaml",
        format!(
            "targets:\n  ts:\n    kind: timestream\n    region: us-east-1\n    database: db\n    endpoint_url: {}\n    table_prefix: nope_\n",
            endpoint.url()
        ),
    );
    let (code, _, stderr) = missing
        .again(&[
            "verify",
            "s.scenario",
            "--target",
            "ts",
            "--anchor",
            &anchor,
        ])
        .run_with(&AWS_ENV);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("error[outatime::verify::timestream]")
            && stderr.contains("nope_alpha does not exist"),
        "{stderr}"
    );
}
