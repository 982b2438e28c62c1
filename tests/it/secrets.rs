//! Secrets in `outatime.yaml` stay there (issue 18, items 10 and 11): a
//! URL's password and secret query parameters are shown redacted on
//! stderr, in reports and in the journal, whatever the command and
//! whether the target answers; a token pasted into `token_env` is never
//! repeated. Each test failed before its fix.

use crate::common::Run;
use crate::fakes::influx::{self, InfluxEndpoint};
use crate::fakes::strict::StrictEndpoint;

/// The secrets every URL below carries, and what must never be shown.
const PASSWORD: &str = "PASSWORD2SHOW";
const QUERY_SECRET: &str = "QUERYSECRET2SHOW";

/// A scenario of two tables, written over the last ten minutes.
const SCENARIO: &str = "scenario \"secrets\"\ntable alpha\ntable bravo\ngenerate into alpha {\n  series device = \"a1\"\n  from now - 10m to now every 1m\n  measure v double = noise(sigma: 1)\n}\ngenerate into bravo {\n  series device = \"b1\"\n  from now - 10m to now every 1m\n  measure w bigint = constant(value: 3)\n}\n";

const AWS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// `http://127.0.0.1:PORT` with a user and password.
fn with_password(url: &str) -> String {
    url.replacen("http://", &format!("http://admin:{PASSWORD}@"), 1)
}

/// A port nothing listens on.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

#[track_caller]
fn assert_hidden(what: &str, text: &str) {
    for secret in [PASSWORD, QUERY_SECRET] {
        assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
    }
}

/// Runs `args` in `work` with `env`; asserts the exit code and that
/// neither stdout nor stderr shows a secret. Stderr.
#[track_caller]
fn run(work: &Run, args: &[&str], env: &[(&str, &str)], code: i32) -> String {
    let (got, stdout, stderr) = work.again(args).run_with(env);
    assert_eq!(got, code, "{args:?}:\n{stderr}");
    assert_hidden(&format!("{args:?} stdout"), &stdout);
    assert_hidden(&format!("{args:?} stderr"), &stderr);
    stderr
}

#[track_caller]
fn file(work: &Run, name: &str) -> String {
    let text =
        std::fs::read_to_string(work.dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_hidden(name, &text);
    text
}

/// The anchor an apply's report says.
fn anchor(report: &str) -> String {
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    report["anchor"].as_str().unwrap().to_owned()
}

#[test]
fn a_timestream_endpoint_urls_credentials_are_shown_nowhere() {
    let endpoint = StrictEndpoint::start();
    let url = format!("{}/?p={QUERY_SECRET}", with_password(&endpoint.url()));
    let down = format!("{}/?p={QUERY_SECRET}", with_password(&closed_port()));
    let target = |name: &str, url: &str| {
        format!(
            "  {name}:\n    kind: timestream\n    region: us-east-1\n    database: db\n    endpoint_url: \"{url}\"\n    table_prefix: t_\n"
        )
    };
    let work = Run::new("secrets-timestream")
        .file("s.scenario", SCENARIO)
        .file(
            "outatime.yaml",
            format!("targets:\n{}{}", target("e2e", &url), target("down", &down)),
        );
    let e2e = ["--target", "e2e"];
    let stderr = run(
        &work,
        &[
            &["apply", "s.scenario", "--create", "--report", "apply.json"][..],
            &e2e,
        ]
        .concat(),
        &AWS,
        0,
    );
    // Shown, redacted: the test did reach the places that name the URL.
    assert!(stderr.contains("admin:***@127.0.0.1"), "{stderr}");
    assert!(stderr.contains("/?p=***"), "{stderr}");
    let anchor = anchor(&file(&work, "apply.json"));
    let journal = file(&work, "outatime-out/journal/s.e2e.jsonl");
    assert!(journal.contains("admin:***@"), "{journal}");
    let verify = [
        &[
            "verify",
            "s.scenario",
            "--anchor",
            &anchor,
            "--report",
            "verify.json",
        ][..],
        &e2e,
    ]
    .concat();
    run(&work, &verify, &AWS, 0);
    let report = file(&work, "verify.json");
    assert!(report.contains("admin:***@"), "{report}");
    let at = chrono::DateTime::parse_from_rfc3339(&anchor).unwrap();
    let time = |minutes: i64| {
        (at + chrono::Duration::minutes(minutes))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let (from, to) = (time(-60), time(1));
    let capture = [
        "capture", "--target", "e2e", "--table", "t_alpha", "--from", &from, "--to", &to, "-o",
        "c.csv",
    ];
    let stderr = run(&work, &capture, &AWS, 0);
    assert!(stderr.contains("admin:***@"), "{stderr}");
    file(&work, "c.csv");
    run(
        &work,
        &[
            &["clean", "s.scenario", "--yes", "--report", "clean.json"][..],
            &e2e,
        ]
        .concat(),
        &AWS,
        0,
    );
    file(&work, "clean.json");
    // A target that does not answer: the dry run's warning and the
    // errors of apply, verify and clean name it redacted too.
    let down = ["--target", "down"];
    let timeout = ["--request-timeout", "2"];
    run(
        &work,
        &[&["apply", "s.scenario", "--dry-run"][..], &down, &timeout].concat(),
        &AWS,
        0,
    );
    run(
        &work,
        &[&["apply", "s.scenario"][..], &down, &timeout].concat(),
        &AWS,
        3,
    );
    let journal = work.dir.join("outatime-out/journal/s.down.jsonl");
    if journal.exists() {
        file(&work, "outatime-out/journal/s.down.jsonl");
    }
    run(
        &work,
        &[&["verify", "s.scenario", "--anchor", &anchor][..], &down].concat(),
        &AWS,
        3,
    );
    run(
        &work,
        &[&["clean", "s.scenario", "--yes"][..], &down].concat(),
        &AWS,
        3,
    );
}

#[test]
fn an_influxdb_urls_credentials_are_shown_nowhere() {
    let endpoint = InfluxEndpoint::start(influx::Config::default());
    let target = |name: &str, url: &str| {
        format!(
            "  {name}:\n    kind: influxdb\n    api: v2\n    url: {url}\n    org: outatime\n    bucket: e2e\n    token_env: OUTATIME_TEST_INFLUX_TOKEN\n"
        )
    };
    let config = format!(
        "targets:\n{}{}{}",
        target("influx", &with_password(&endpoint.url())),
        target("down", &with_password(&closed_port())),
        target("query", &format!("{}/?p={QUERY_SECRET}", endpoint.url())),
    );
    let work = Run::new("secrets-influx")
        .file("s.scenario", SCENARIO)
        .file("outatime.yaml", config);
    let token = [("OUTATIME_TEST_INFLUX_TOKEN", influx::TOKEN)];
    let ok = ["--target", "influx"];
    let stderr = run(
        &work,
        &[
            &["apply", "s.scenario", "--create", "--report", "apply.json"][..],
            &ok,
        ]
        .concat(),
        &token,
        0,
    );
    assert!(stderr.contains("at http://admin:***@127.0.0.1"), "{stderr}");
    let anchor = anchor(&file(&work, "apply.json"));
    let journal = file(&work, "outatime-out/journal/s.influx.jsonl");
    assert!(journal.contains("admin:***@"), "{journal}");
    let verify = [
        &[
            "verify",
            "s.scenario",
            "--anchor",
            &anchor,
            "--report",
            "verify.json",
        ][..],
        &ok,
    ]
    .concat();
    run(&work, &verify, &token, 0);
    assert!(file(&work, "verify.json").contains("admin:***@"));
    run(
        &work,
        &[
            &["clean", "s.scenario", "--yes", "--report", "clean.json"][..],
            &ok,
        ]
        .concat(),
        &token,
        0,
    );
    file(&work, "clean.json");
    // A server that does not answer: each error names it, redacted.
    let down = ["--target", "down"];
    let timeout = ["--request-timeout", "2"];
    for (args, code) in [
        (&[&["apply", "s.scenario"][..], &down, &timeout].concat(), 3),
        (
            &[&["apply", "s.scenario", "--dry-run"][..], &down, &timeout].concat(),
            0,
        ),
        (
            &[&["verify", "s.scenario", "--anchor", &anchor][..], &down].concat(),
            3,
        ),
        (&[&["clean", "s.scenario", "--yes"][..], &down].concat(), 3),
    ] {
        let stderr = run(&work, args, &token, code);
        assert!(stderr.contains("admin:***@127.0.0.1"), "{args:?}: {stderr}");
    }
    // A query in an InfluxDB URL is refused before anything is sent, and
    // said redacted, under every command that reads the target.
    let query = ["--target", "query"];
    for args in [
        [&["check", "s.scenario"][..], &query].concat(),
        [&["apply", "s.scenario"][..], &query].concat(),
        [&["verify", "s.scenario", "--anchor", &anchor][..], &query].concat(),
        [&["clean", "s.scenario", "--yes"][..], &query].concat(),
    ] {
        let stderr = run(&work, &args, &token, 1);
        assert!(
            stderr.contains("outatime::config::invalid"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("?p=***"), "{args:?}: {stderr}");
    }
}

/// A token pasted where the name of its variable belongs is refused with
/// its own code, and shown nowhere: not in the message, not in the line
/// drawn; and no help says to write a token into the file.
#[test]
fn a_token_pasted_into_token_env_is_never_repeated() {
    const TOKEN: &str = "abcTOKENVALUEpasted==";
    let config = format!(
        "targets:\n  managed:\n    kind: influxdb\n    api: v2\n    url: http://127.0.0.1:9\n    org: qa\n    bucket: e2e\n    token_env: \"{TOKEN}\"\n  unset:\n    kind: influxdb\n    api: v2\n    url: http://127.0.0.1:9\n    org: qa\n    bucket: e2e\n    token_env: OUTATIME_TEST_UNSET_TOKEN\n"
    );
    let work = Run::new("secrets-token-env")
        .file("s.scenario", SCENARIO)
        .file("outatime.yaml", config);
    for command in [
        &["check", "s.scenario"][..],
        &["apply", "s.scenario"],
        &["verify", "s.scenario", "--anchor", "2026-11-27T18:00:00Z"],
        &["clean", "s.scenario", "--yes"],
    ] {
        let (code, _, stderr) = work
            .again(&[command, &["--target", "managed"]].concat())
            .run();
        assert_eq!(code, 1, "{command:?}: {stderr}");
        assert!(
            stderr.contains("outatime::config::token_env_not_a_name"),
            "{command:?}: {stderr}"
        );
        assert!(!stderr.contains("TOKENVALUE"), "{command:?}: {stderr}");
        assert!(!stderr.contains("into the file"), "{command:?}: {stderr}");
        // The line is drawn, masked.
        assert!(
            stderr.contains("token_env: \"*********************\""),
            "{stderr}"
        );
        let (code, _, stderr) = work
            .again(&[command, &["--target", "unset"]].concat())
            .run();
        assert_eq!(code, 1, "{command:?}: {stderr}");
        assert!(
            stderr.contains("outatime::config::token_env_unset"),
            "{command:?}: {stderr}"
        );
        assert!(!stderr.contains("into the file"), "{command:?}: {stderr}");
    }
}

/// The URL as written, credentials and all, is read only where a client
/// connects: every other place shows an `Endpoint`, redacted.
#[test]
fn only_the_clients_read_a_url_as_written() {
    let allowed = [
        "src/targets/endpoint.rs",
        "src/targets/influxdb/client.rs",
        "src/targets/timestream/client.rs",
    ];
    let mut found = Vec::new();
    for (file, text) in crate::common::crate_files() {
        if allowed.contains(&file.as_str()) {
            continue;
        }
        for (n, line) in crate::common::before_unit_tests(&text).lines().enumerate() {
            if line.contains(".expose()") {
                found.push(format!("{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
