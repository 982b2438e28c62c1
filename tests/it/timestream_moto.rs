//! `apply` to Timestream through the real SDK, against moto's server, which
//! the test command starts on 127.0.0.1 and names in OUTATIME_MOTO_URL.
//! Every record written is read back from moto and compared with
//! `outatime records` for the same anchor, in both layouts.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use crate::common::{self, Run};

fn moto_url() -> Option<String> {
    let url = std::env::var("OUTATIME_MOTO_URL").ok();
    if url.is_none() {
        common::skip_unless_required("OUTATIME_MOTO_URL is not set");
    }
    url
}

/// The records moto holds, by table name.
///
/// Timestream's write API cannot read records back, so this reads
/// `GET /moto-api/data.json`: moto's internal API (the dump of its models
/// behind its dashboard), not an AWS one. Its layout may change with any
/// moto release (scripts/requirements-test.txt pins the version); this is
/// the only place that knows it.
pub(crate) fn moto_records(url: &str) -> BTreeMap<String, Vec<serde_json::Value>> {
    // Plain HTTP/1.0 with the standard library: moto is on loopback.
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /moto-api/data.json HTTP/1.0\r\nHost: {address}\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (_, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response from moto: {response}"));
    let data: serde_json::Value = serde_json::from_str(body).unwrap();
    let tables = data["timestreamwrite"]["TimestreamTable"]
        .as_array()
        .unwrap_or_else(|| panic!("no timestreamwrite.TimestreamTable in moto's data: {body}"));
    tables
        .iter()
        .map(|t| {
            let name = t["name"].as_str().expect("a table's name").to_owned();
            let records = t["records"].as_array().expect("a table's records").clone();
            (name, records)
        })
        .collect()
}

const SCENARIO: &str = "scenario \"moto\"\ntable alpha\ntable bravo { layout single }\ngenerate into alpha {\n  series device = \"a1\", site = \"lab\"\n  series device = \"a2\", site = \"lab\"\n  from now - 150m to now every 1m\n  measure v double = noise(sigma: 1)\n  measure on boolean = bernoulli(p: 0.5)\n}\ngenerate into bravo {\n  series device = \"b1\"\n  from now - 10m to now every 1m\n  measure w bigint = constant(value: 3)\n  measure z varchar = choice(\"x\", \"y\")\n}\n";

#[test]
fn every_record_written_reads_back_from_moto_in_both_layouts() {
    let Some(url) = moto_url() else { return };
    let run_id = format!("t{}", std::process::id());
    let config = format!(
        "targets:\n  moto:\n    kind: timestream\n    region: us-east-1\n    database: outatime_{run_id}\n    endpoint_url: {url}\n    table_prefix: \"{run_id}_\"\n"
    );
    let creds = [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    let run = Run::new("moto")
        .file("s.scenario", SCENARIO)
        .file("outatime.yaml", &config)
        .args(&[
            "apply",
            "s.scenario",
            "--target",
            "moto",
            "--create",
            "--report",
            "report.json",
        ]);
    // No --anchor: `now` is the wall clock, so the records are within the
    // table's retention (the preflight refuses older ones).
    let (code, _, stderr) = run.run_with(&creds);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.dir.join("report.json")).unwrap()).unwrap();
    let anchor = report["anchor"].as_str().unwrap();
    let (_, records, _) = Run::new("moto-records")
        .file("s.scenario", SCENARIO)
        .args(&["records", "s.scenario", "--anchor", anchor])
        .run();
    let tables = moto_records(&url);
    let stored = |name: &str| -> Vec<serde_json::Value> {
        let table = format!("{run_id}_{name}");
        tables
            .get(&table)
            .unwrap_or_else(|| panic!("moto holds no table {table}"))
            .clone()
    };
    // (time in ms, device, measures) of what `records` says, by table.
    let mut expected: Vec<(String, i64, String, serde_json::Value)> = records
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let ms = outatime::parse_timestamp(v["time"].as_str().unwrap())
                .unwrap()
                .0
                / 1_000_000;
            (
                v["table"].as_str().unwrap().to_string(),
                ms,
                v["dimensions"]["device"].as_str().unwrap().to_string(),
                v["measures"].clone(),
            )
        })
        .collect();
    expected.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
    // moto keeps each record as sent: CommonAttributes (the shared
    // dimensions, the Version, the time unit and, for multi-measure
    // records, the measure name and type) are not merged in, so the
    // device, which differs between records, is on the record.
    let device = |r: &serde_json::Value| -> String {
        r["Dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["Name"] == "device")
            .map(|d| d["Value"].as_str().unwrap().to_string())
            .unwrap_or_else(|| "b1".into())
    };
    let alpha = stored("alpha");
    assert_eq!(
        alpha.len(),
        2 * 150,
        "one multi-measure record per series and minute"
    );
    let mut got: Vec<(String, i64, String, serde_json::Value)> = alpha
        .iter()
        .map(|r| {
            // The measure name, MULTI and the time unit are common to the
            // request: in CommonAttributes, which moto does not merge.
            assert!(r["MeasureValue"].is_null());
            let mut measures = serde_json::Map::new();
            for m in r["MeasureValues"].as_array().unwrap() {
                let text = m["Value"].as_str().unwrap();
                let value: serde_json::Value = match m["Type"].as_str().unwrap() {
                    "VARCHAR" => serde_json::Value::String(text.into()),
                    _ => serde_json::from_str(text).unwrap(),
                };
                measures.insert(m["Name"].as_str().unwrap().into(), value);
            }
            (
                "alpha".into(),
                r["Time"].as_str().unwrap().parse().unwrap(),
                device(r),
                measures.into(),
            )
        })
        .collect();
    // bravo is single-measure: one record per measure, regrouped here.
    let bravo = stored("bravo");
    assert_eq!(bravo.len(), 2 * 10, "one record per measure and minute");
    let mut grouped: BTreeMap<i64, serde_json::Map<String, serde_json::Value>> = BTreeMap::new();
    for r in &bravo {
        let time: i64 = r["Time"].as_str().unwrap().parse().unwrap();
        let text = r["MeasureValue"].as_str().unwrap();
        let value: serde_json::Value = match r["MeasureValueType"].as_str().unwrap() {
            "VARCHAR" => serde_json::Value::String(text.into()),
            _ => serde_json::from_str(text).unwrap(),
        };
        grouped
            .entry(time)
            .or_default()
            .insert(r["MeasureName"].as_str().unwrap().into(), value);
    }
    got.extend(
        grouped
            .into_iter()
            .map(|(t, m)| ("bravo".to_string(), t, "b1".to_string(), m.into())),
    );
    got.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
    assert_eq!(got, expected);
}
