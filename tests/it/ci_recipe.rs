//! The CI recipe works: every `outatime` command of
//! `docs/examples/github-actions.yml` runs here with the same flags, in
//! the workflow's order, each `run:` script that holds one executed by
//! bash as the runner would. Only the workflow's expressions are filled in
//! (`${{ matrix.shard }}` for each shard of the matrix, the anchor, the
//! base branch), in a scratch git repository holding a copy of
//! `scenarios/` with one changed plan on a branch, and `e2e` is the strict
//! in-process Timestream endpoint (`tests/it/fakes/strict/`) through an
//! `outatime.yaml` written here.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use yaml_serde::Value;

use crate::common::{Run, binary_dir, scratch};
use crate::fakes::strict::StrictEndpoint;

const WORKFLOW: &str = include_str!("../../docs/examples/github-actions.yml");

/// What the strict endpoint accepts as credentials (their shape, not the
/// secret), and no instance-metadata look-up: in the workflow, OIDC puts
/// the role's credentials in the same environment variables.
const AWS_ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=ci", "-c", "user.email=ci@example.invalid"])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A repository whose `main` (also `origin/main`) holds the gallery, and
/// whose checked-out branch changes one scenario and rewrites its plan, as
/// a pull request would.
fn repository(dir: &Path, endpoint: &StrictEndpoint) {
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        &dir.join("scenarios"),
    );
    std::fs::write(
        dir.join("outatime.yaml"),
        format!(
            "targets:\n  e2e:\n    kind: timestream\n    region: eu-west-1\n    database: outatime_e2e\n    endpoint_url: {}\n    table_prefix: ci_\n    retention: {{ memory_store_hours: 24, magnetic_store_days: 7, magnetic_writes: false }}\n",
            endpoint.url()
        ),
    )
    .unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "gallery"]);
    git(dir, &["update-ref", "refs/remotes/origin/main", "main"]);
    git(dir, &["checkout", "-q", "-b", "longer-fault"]);
    let scenario = dir.join("scenarios/fleet-door-fault.scenario");
    let text = std::fs::read_to_string(&scenario).unwrap();
    std::fs::write(
        &scenario,
        text.replace("at now - 2h for 40m", "at now - 2h for 50m"),
    )
    .unwrap();
    let status = Run::in_dir(dir.join("scenarios"))
        .args(&[
            "plan",
            "fleet-door-fault.scenario",
            "-o",
            "fleet-door-fault.plan.yaml",
        ])
        .command()
        .status()
        .unwrap();
    assert!(status.success());
    git(dir, &["commit", "-q", "-am", "a longer dropout"]);
}

/// `${{ EXPRESSION }}` replaced by its value; an expression this test does
/// not know fails it, so a new one in the workflow is noticed.
fn fill(text: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").unwrap() + start;
        let expression = rest[start + 3..end].trim();
        let value = values
            .get(expression)
            .unwrap_or_else(|| panic!("the test gives no value for `${{{{ {expression} }}}}`"));
        out.push_str(value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The `outatime` subcommands a script runs, one a command line.
fn subcommands(script: &str) -> Vec<String> {
    script
        .lines()
        .filter_map(|line| line.trim().strip_prefix("outatime "))
        .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned())
        .collect()
}

fn env_of(node: &Value) -> Vec<(String, String)> {
    node.get("env")
        .and_then(Value::as_mapping)
        .map(|map| {
            map.iter()
                .map(|(k, v)| {
                    let value = match v {
                        Value::String(s) => s.clone(),
                        other => yaml_serde::to_string(other).unwrap().trim().to_owned(),
                    };
                    (k.as_str().unwrap().to_owned(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_outatime_command_of_the_workflow_runs_as_written() {
    let workflow: Value = yaml_serde::from_str(WORKFLOW).unwrap();
    // Credentials come from OIDC role assumption, never from secrets.
    assert!(WORKFLOW.contains("role-to-assume:"));
    assert!(WORKFLOW.contains("id-token: write"));
    assert!(!WORKFLOW.contains("secrets."), "no secret in the recipe");

    let endpoint = StrictEndpoint::start();
    let folder = scratch("ci-recipe");
    let dir = folder.path();
    repository(dir, &endpoint);

    let now = chrono::Utc::now();
    let anchor = now.format("%Y-%m-%dT%H:%M:00Z").to_string();
    // The system under test's alerts table holds one CargoTooWarm alert
    // for truck-12: the strict endpoint answers the scenario's `expect`
    // query with it. The query's window is the warm-up's (the anchor, to
    // the scenario's 5 minutes, less 1h) to an hour past its end.
    let minute = now.timestamp() / 60 * 60;
    let anchored = (minute - minute % 300) * 1_000_000_000;
    let hour = 3_600_000_000_000_i64;
    let (from, to) = (
        anchored - hour,
        anchored - hour + 25 * 60_000_000_000 + hour,
    );
    let statement = format!(
        "SELECT count(*) AS alerts FROM \"alerts\".\"fired\" WHERE alertname = 'CargoTooWarm' AND truck = 'truck-12' AND time >= from_nanoseconds({from}) AND time < from_nanoseconds({to})"
    );
    endpoint.register_query(
        &statement,
        &[("alerts", "BIGINT")],
        vec![vec![Some("1".into())]],
    );
    let path = format!(
        "{}:{}",
        binary_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let global_env = env_of(&workflow);

    let mut ran: Vec<String> = Vec::new();
    let jobs = workflow["jobs"].as_mapping().unwrap();
    for (job_name, job) in jobs {
        let job_name = job_name.as_str().unwrap();
        let shards: Vec<String> = job
            .get("strategy")
            .and_then(|s| s.get("matrix"))
            .and_then(|m| m.get("shard"))
            .and_then(Value::as_sequence)
            .map(|seq| {
                seq.iter()
                    .map(|v| v.as_u64().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_else(|| vec![String::new()]);
        for shard in &shards {
            let values: BTreeMap<&str, String> = [
                ("matrix.shard", shard.clone()),
                ("needs.anchor.outputs.now", anchor.clone()),
                ("github.base_ref", "main".to_owned()),
            ]
            .into_iter()
            .collect();
            for step in job["steps"].as_sequence().unwrap() {
                let Some(script) = step.get("run").and_then(Value::as_str) else {
                    continue;
                };
                let commands = subcommands(script);
                if commands.is_empty() {
                    continue;
                }
                let mut env = global_env.clone();
                env.extend(env_of(job));
                env.extend(env_of(step));
                let output = Command::new("bash")
                    .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
                    .arg(fill(script, &values))
                    .current_dir(dir)
                    .env("PATH", &path)
                    .env("NO_COLOR", "1")
                    .envs(AWS_ENV)
                    .envs(env.iter().map(|(k, v)| (k.clone(), fill(v, &values))))
                    .output()
                    .unwrap();
                assert!(
                    output.status.success(),
                    "job {job_name} (shard {shard:?}): {script}\nstdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                ran.extend(commands);
            }
        }
    }

    for expected in [
        "fmt", "check", "plan", "diff", "apply", "verify", "expect", "clean",
    ] {
        assert!(
            ran.iter().any(|c| c == expected),
            "the workflow never ran `outatime {expected}`: {ran:?}"
        );
    }
    // Three shards applied and verified, once each.
    assert_eq!(ran.iter().filter(|c| *c == "apply").count(), 3, "{ran:?}");
    assert_eq!(ran.iter().filter(|c| *c == "verify").count(), 3, "{ran:?}");

    // The comment a reviewer reads names the changed plan and what changed.
    let comment = std::fs::read_to_string(dir.join("plan-diff.md")).unwrap();
    assert!(
        comment.contains("scenarios/fleet-door-fault.plan.yaml"),
        "{comment}"
    );
    assert!(comment.contains("dropout"), "{comment}");
    // The shards wrote, and `clean` left nothing behind.
    let written: u64 = (1..=3)
        .map(|shard| {
            let report = std::fs::read_to_string(dir.join(format!("apply-{shard}.json"))).unwrap();
            let report: serde_json::Value = serde_json::from_str(&report).unwrap();
            assert_eq!(report["shard"], format!("{shard}/3"), "{report}");
            report["records"].as_u64().unwrap()
        })
        .sum();
    let plan = std::fs::read_to_string(dir.join("scenarios/fleet-door-fault.plan.yaml")).unwrap();
    let planned: u64 = plan
        .lines()
        .find_map(|line| line.strip_prefix("records: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(written, planned, "the shards together write the plan");
    assert!(!endpoint.has_table("outatime_e2e", "ci_e2e_cold_chain"));
    // The expectations job asked the alerts table, and its JUnit passed.
    assert!(
        endpoint.queries().contains(&statement),
        "{:#?}",
        endpoint.queries()
    );
    let junit = std::fs::read_to_string(dir.join("expectations.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(
        (suite.attribute("tests"), suite.attribute("failures")),
        (Some("1"), Some("0")),
        "{junit}"
    );
}
