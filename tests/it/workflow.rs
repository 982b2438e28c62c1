//! The E2E loop of docs/workflow.md, command for command, through the real
//! binary against the strict in-process Timestream endpoint standing in
//! for both databases: production (filled by another writer, read-only to
//! outatime) and the E2E database. capture (redacted) → check → plan →
//! apply --create → verify → clean, and production holds exactly what it
//! held before. Everything stays on 127.0.0.1.

use std::collections::BTreeSet;

use crate::common::Run;
use crate::fakes::strict::{self, StrictEndpoint};

const MINUTE_NS: i64 = 60_000_000_000;

/// What "production" receives from its own devices: two fridges, a record a
/// minute for three hours up to the anchor.
const PRODUCTION: &str = r#"scenario "the fleet, live"
table telemetry { measure_name "metrics" }
generate into telemetry {
  series device = "fridge-1", site = "oslo-1"
  series device = "fridge-2", site = "bergen-2"
  from now - 3h to now every 1m
  measure temperature double = sine(period: 24h, amplitude: 3, mean: 4) + noise(sigma: 0.3)
  measure door_open boolean = bernoulli(p: 0.05)
}
"#;

/// The QA engineer's part of the E2E scenario; the source block comes from
/// `capture`'s output.
const E2E_STEPS: &str = r#"table telemetry { measure_name "metrics" }

replay prod_day into telemetry {
  shift end to now
}

anomaly spike on telemetry.temperature {
  where site == "oslo-1"
  at now - 30m for 5m
  magnitude 12
}
"#;

/// docs/workflow.md's outatime.yaml, pointed at the local endpoint; `writer`
/// stands for the production system's own ingestion.
fn config(endpoint: &StrictEndpoint) -> String {
    let url = endpoint.url();
    format!(
        r#"targets:
  prod:
    kind: timestream
    region: us-east-1
    database: production
    endpoint_url: {url}
    read_only: true
  e2e:
    kind: timestream
    region: us-east-1
    database: outatime_e2e
    endpoint_url: {url}
    table_prefix: "ci_${{CI_PIPELINE_ID}}_"
    retention: {{ memory_store_hours: 24, magnetic_store_days: 7, magnetic_writes: false }}
  writer:
    kind: timestream
    region: us-east-1
    database: production
    endpoint_url: {url}
    allow_untagged_tables: true
"#
    )
}

const ENV: [(&str, &str); 5] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
    ("CI_PIPELINE_ID", "42"),
    ("OUTATIME_REDACT_SALT", "the-team-secret"),
];

fn time(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339()
}

/// Every stored record of a table, as comparable text.
fn stored(endpoint: &StrictEndpoint, database: &str, table: &str) -> BTreeSet<String> {
    endpoint
        .stored(database, table)
        .into_iter()
        .map(|r| {
            format!(
                "{:?} {} {} {:?} {}",
                r.dimensions, r.time_ns, r.measure_name, r.value, r.version
            )
        })
        .collect()
}

fn ok(run: &Run, args: &[&str]) -> (String, String) {
    let (code, stdout, stderr) = run.again(args).run_with(&ENV);
    assert_eq!(code, 0, "outatime {}\n{stdout}\n{stderr}", args.join(" "));
    (stdout, stderr)
}

#[test]
fn capture_check_plan_apply_verify_clean_and_production_never_receives_a_record() {
    let endpoint = StrictEndpoint::start();
    // Production's table exists, untagged: outatime did not create it.
    endpoint.create_table(
        "production",
        "telemetry",
        strict::Retention {
            memory_hours: 24,
            magnetic_days: 30,
            magnetic_writes: false,
        },
    );
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
    let live_anchor = now - now.rem_euclid(MINUTE_NS) - 60 * MINUTE_NS;
    let run = Run::new("workflow")
        .file("outatime.yaml", config(&endpoint))
        .file("live.scenario", PRODUCTION);
    ok(
        &run,
        &[
            "apply",
            "live.scenario",
            "--target",
            "writer",
            "--anchor",
            &time(live_anchor),
        ],
    );
    let production = stored(&endpoint, "production", "telemetry");
    assert_eq!(production.len(), 2 * 180);

    // 1. capture the last two hours of production, device ids redacted.
    let (blocks, stderr) = ok(
        &run,
        &[
            "capture",
            "--target",
            "prod",
            "--table",
            "telemetry",
            "--from",
            &time(live_anchor - 120 * MINUTE_NS),
            "--to",
            &time(live_anchor + MINUTE_NS),
            "--redact",
            "device",
            "-o",
            "data/prod-day.csv",
        ],
    );
    assert!(stderr.contains("captured 240 rows"), "{stderr}");
    let captured = std::fs::read_to_string(run.dir.join("data/prod-day.csv")).unwrap();
    assert!(
        !captured.contains("fridge-"),
        "device ids leaked:\n{captured}"
    );
    assert!(captured.contains(",anon-"), "{captured}");
    let source = blocks
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("source prod_day_csv", "source prod_day");
    assert!(source.contains("source prod_day csv"), "{blocks}");
    let scenario = format!("scenario \"e2e\"\n\n{source}\n\n{E2E_STEPS}");
    let run = run.again(&[]).file("e2e.scenario", scenario);

    // 2. check, 3. plan (committed, then checked as CI would).
    ok(&run, &["check", "e2e.scenario"]);
    ok(&run, &["plan", "e2e.scenario", "-o", "e2e.plan.yaml"]);
    ok(&run, &["plan", "--check", "e2e.scenario", "e2e.plan.yaml"]);
    let plan = std::fs::read_to_string(run.dir.join("e2e.plan.yaml")).unwrap();
    assert!(!plan.contains("fridge-"), "{plan}");

    // 4. apply to the E2E database; outatime creates and tags the table.
    let anchor = time(now - now.rem_euclid(MINUTE_NS));
    ok(
        &run,
        &[
            "apply",
            "e2e.plan.yaml",
            "--target",
            "e2e",
            "--create",
            "--anchor",
            &anchor,
        ],
    );
    let written = endpoint.stored("outatime_e2e", "ci_42_telemetry");
    assert_eq!(written.len(), 240);
    let tags = endpoint
        .table_tags("outatime_e2e", "ci_42_telemetry")
        .unwrap();
    assert_eq!(tags["managed-by"], "outatime");

    // 5. verify reads back every record.
    let (stdout, _) = ok(
        &run,
        &[
            "verify",
            "e2e.plan.yaml",
            "--target",
            "e2e",
            "--anchor",
            &anchor,
        ],
    );
    assert!(stdout.contains("ok: 240 records match"), "{stdout}");

    // Production is read-only to outatime: the same plan is refused there.
    let (code, _, stderr) = run
        .again(&[
            "apply",
            "e2e.plan.yaml",
            "--target",
            "prod",
            "--anchor",
            &anchor,
        ])
        .run_with(&ENV);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("outatime::target::read_only"), "{stderr}");

    // 6. clean removes the E2E table, and only it; twice is fine.
    let (stdout, _) = ok(
        &run,
        &["clean", "e2e.plan.yaml", "--target", "e2e", "--yes"],
    );
    assert!(stdout.contains("ci_42_telemetry"), "{stdout}");
    assert!(!endpoint.has_table("outatime_e2e", "ci_42_telemetry"));
    ok(
        &run,
        &["clean", "e2e.plan.yaml", "--target", "e2e", "--yes"],
    );
    let (code, _, stderr) = run
        .again(&["clean", "e2e.plan.yaml", "--target", "prod", "--yes"])
        .run_with(&ENV);
    assert_eq!(code, 1, "{stderr}");

    // Production holds exactly what its own writer wrote.
    assert_eq!(stored(&endpoint, "production", "telemetry"), production);
}
