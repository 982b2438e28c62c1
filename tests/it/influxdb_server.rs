//! The InfluxDB 1.x server that `./scripts/test` starts (named by
//! OUTATIME_INFLUXDB_URL) really stores and returns points: written with a
//! raw POST to /write, read back with an InfluxQL /query.

use crate::common::http::{escape, request};
use crate::common::influxdb_url;

fn query(url: &str, database: &str, influxql: &str) -> serde_json::Value {
    let target = format!(
        "/query?db={}&epoch=ns&q={}",
        escape(database),
        escape(influxql)
    );
    let answer = request(url, "POST", &target, &[], b"").expect("the query is answered");
    assert_eq!(answer.status, 200, "{influxql}: {}", answer.text());
    let json = answer.json();
    assert!(
        json["results"][0].get("error").is_none(),
        "{influxql}: {json}"
    );
    json
}

#[test]
fn ping_answers_with_the_server_version() {
    let Some(url) = influxdb_url() else { return };
    let answer = request(&url, "GET", "/ping", &[], b"").expect("/ping is answered");
    assert_eq!(answer.status, 204);
    let version = answer.header("x-influxdb-version").unwrap_or_default();
    assert!(version.starts_with("1."), "a 1.x server, not {version:?}");
}

#[test]
fn two_points_written_are_read_back_exactly() {
    let Some(url) = influxdb_url() else { return };
    // A database of this process's own: tests may run against one server
    // in parallel, and a rerun starts from nothing.
    let database = format!("influxdb_server_{}", std::process::id());
    query(&url, &database, &format!("DROP DATABASE \"{database}\""));
    query(&url, &database, &format!("CREATE DATABASE \"{database}\""));

    let lines = "door,site=oslo\\ depot,unit=f1 open=true,temp=-18.5,opens=3i,note=\"a \\\"quote\\\"\" 1700000000000000000\n\
                 door,site=oslo\\ depot,unit=f2 open=false,temp=4.0,opens=0i,note=\"ok\" 1700000060000000000\n";
    let target = format!("/write?db={}&precision=ns", escape(&database));
    let answer = request(&url, "POST", &target, &[], lines.as_bytes()).expect("/write is answered");
    assert_eq!(answer.status, 204, "{}", answer.text());

    let json = query(
        &url,
        &database,
        "SELECT \"note\", \"open\", \"opens\", \"temp\", \"site\", \"unit\" FROM \"door\" ORDER BY time",
    );
    let series = &json["results"][0]["series"][0];
    assert_eq!(
        series["columns"],
        serde_json::json!(["time", "note", "open", "opens", "temp", "site", "unit"])
    );
    // The JSON answer writes the whole float 4.0 as `4`: its type is
    // checked below.
    assert_eq!(
        series["values"],
        serde_json::json!([
            [
                1_700_000_000_000_000_000_i64,
                "a \"quote\"",
                true,
                3,
                -18.5,
                "oslo depot",
                "f1"
            ],
            [
                1_700_000_060_000_000_000_i64,
                "ok",
                false,
                0,
                4,
                "oslo depot",
                "f2"
            ],
        ])
    );
    // The types the server keeps: a float stays a float even when whole.
    let json = query(&url, &database, "SHOW FIELD KEYS FROM \"door\"");
    assert_eq!(
        json["results"][0]["series"][0]["values"],
        serde_json::json!([
            ["note", "string"],
            ["open", "boolean"],
            ["opens", "integer"],
            ["temp", "float"],
        ])
    );

    query(&url, &database, &format!("DROP DATABASE \"{database}\""));
}

#[test]
fn a_malformed_line_is_refused_naming_it() {
    let Some(url) = influxdb_url() else { return };
    let database = format!("influxdb_server_bad_{}", std::process::id());
    query(&url, &database, &format!("CREATE DATABASE \"{database}\""));
    let target = format!("/write?db={}", escape(&database));
    let answer =
        request(&url, "POST", &target, &[], b"door,site=oslo open=\n").expect("/write is answered");
    assert_eq!(answer.status, 400);
    let error = answer.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.contains("unable to parse 'door,site=oslo open='"),
        "{error}"
    );
    query(&url, &database, &format!("DROP DATABASE \"{database}\""));
}
