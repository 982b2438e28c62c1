//! `outatime clean` and the refusals that keep production clean, through
//! the real binary and SDK against the strict endpoint (and moto, when the
//! test command runs it): tables `apply --create` makes are tagged as
//! outatime's; `apply` refuses read-only targets and untagged tables;
//! `clean` deletes only the scenario's tagged tables. InfluxDB's side is
//! `tests/it/clean_influxdb.rs`.

use crate::common::{self, Run};
use crate::fakes::strict::{Retention, StrictEndpoint};

const DATABASE: &str = "db";

const CREDS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// Two tables, written over the last ten minutes (within any retention).
const SCENARIO: &str = "scenario \"clean demo\"\ntable alpha\ntable bravo\ngenerate into alpha {\n  series device = \"a1\"\n  from now - 10m to now every 1m\n  measure v double = noise(sigma: 1)\n}\ngenerate into bravo {\n  series device = \"b1\"\n  from now - 10m to now every 1m\n  measure w bigint = constant(value: 3)\n}\n";

/// Another scenario's table, on the same target.
const OTHER: &str = "scenario \"other: run #2\"\ntable charlie\ngenerate into charlie {\n  series device = \"c1\"\n  from now - 5m to now every 1m\n  measure v double = noise(sigma: 1)\n}\n";

/// A folder with both scenarios and an `outatime.yaml` naming the endpoint
/// as `e2e`, and as `e2e_open` (`allow_untagged_tables`) and `prod`
/// (`read_only`).
fn workspace(name: &str, url: &str) -> Run {
    let target = |name: &str, extra: &str| {
        format!(
            "  {name}:\n    kind: timestream\n    region: us-east-1\n    database: {DATABASE}\n    endpoint_url: {url}\n    table_prefix: t_\n{extra}"
        )
    };
    let config = format!(
        "targets:\n{}{}{}",
        target("e2e", ""),
        target("e2e_open", "    allow_untagged_tables: true\n"),
        target("prod", "    read_only: true\n"),
    );
    Run::new(name)
        .file("s.scenario", SCENARIO)
        .file("other.scenario", OTHER)
        .file("outatime.yaml", config)
}

fn run(work: &Run, args: &[&str]) -> (i32, String, String) {
    work.again(args).run_with(&CREDS)
}

const OURS: [(&str, &str); 1] = [("managed-by", "outatime")];

#[test]
fn apply_create_tags_the_tables_it_makes_with_the_scenario() {
    let endpoint = StrictEndpoint::start();
    let work = workspace("clean-tags", &endpoint.url());
    let (code, _, stderr) = run(
        &work,
        &["apply", "s.scenario", "--target", "e2e", "--create"],
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(
        &work,
        &["apply", "other.scenario", "--target", "e2e", "--create"],
    );
    assert_eq!(code, 0, "{stderr}");
    let tags = endpoint.table_tags(DATABASE, "t_alpha").unwrap();
    assert_eq!(tags["managed-by"], "outatime");
    assert_eq!(tags["outatime-scenario"], "clean demo");
    // `#` is not a Timestream tag character: it becomes `-`.
    let tags = endpoint.table_tags(DATABASE, "t_charlie").unwrap();
    assert_eq!(tags["outatime-scenario"], "other: run -2");
    // A second apply into its own tables goes through.
    let (code, _, stderr) = run(&work, &["apply", "s.scenario", "--target", "e2e"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn clean_deletes_only_the_scenarios_tagged_tables_and_twice_is_fine() {
    let endpoint = StrictEndpoint::start();
    let work = workspace("clean-only-ours", &endpoint.url());
    // bravo exists untagged: written through `allow_untagged_tables`,
    // never deleted. delta is nobody's business.
    endpoint.create_table(DATABASE, "t_bravo", Retention::default());
    endpoint.create_table(DATABASE, "t_delta", Retention::default());
    let (code, _, stderr) = run(
        &work,
        &["apply", "s.scenario", "--target", "e2e_open", "--create"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!endpoint.stored(DATABASE, "t_bravo").is_empty());
    let (code, _, stderr) = run(
        &work,
        &["apply", "other.scenario", "--target", "e2e", "--create"],
    );
    assert_eq!(code, 0, "{stderr}");

    // A dry run lists and deletes nothing.
    let (code, stdout, stderr) = run(
        &work,
        &["clean", "s.scenario", "--target", "e2e", "--dry-run"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("would delete `db.t_alpha` (created by outatime for `clean demo`)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("skip `db.t_bravo`: not created by outatime"),
        "{stdout}"
    );
    assert!(endpoint.has_table(DATABASE, "t_alpha"));
    assert!(!endpoint.stats().operations.contains_key("DeleteTable"));

    // Without --yes and without a terminal: exit 2, nothing deleted.
    let (code, _, stderr) = run(&work, &["clean", "s.scenario", "--target", "e2e"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("outatime::clean::needs_yes"), "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert!(endpoint.has_table(DATABASE, "t_alpha"));

    let (code, stdout, stderr) = run(
        &work,
        &[
            "clean",
            "s.scenario",
            "--target",
            "e2e",
            "--yes",
            "--report",
            "clean.json",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!endpoint.has_table(DATABASE, "t_alpha"));
    for kept in ["t_bravo", "t_charlie", "t_delta"] {
        assert!(endpoint.has_table(DATABASE, kept), "{kept} was deleted");
    }
    assert_eq!(endpoint.stats().operations["DeleteTable"], 1);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.dir.join("clean.json")).unwrap()).unwrap();
    assert_eq!(report["deleted"], 1);
    assert_eq!(report["tables"][0]["table"], "db.t_alpha");
    assert_eq!(report["tables"][0]["action"], "delete");
    assert_eq!(report["tables"][1]["action"], "skip_untagged");

    // Again: nothing left to delete, and that is a success.
    let (code, stdout, stderr) = run(&work, &["clean", "s.scenario", "--target", "e2e", "--yes"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("skip `db.t_alpha`: it does not exist"),
        "{stdout}"
    );
    assert!(stdout.contains("nothing to delete"), "{stdout}");
    assert_eq!(endpoint.stats().operations["DeleteTable"], 1);
}

#[test]
fn apply_refuses_an_untagged_table_unless_the_target_allows_it() {
    let endpoint = StrictEndpoint::start();
    let work = workspace("clean-untagged", &endpoint.url());
    endpoint.create_table(DATABASE, "t_alpha", Retention::default());
    for extra in [&["--create"][..], &["--create", "--dry-run"]] {
        let mut args = vec!["apply", "s.scenario", "--target", "e2e"];
        args.extend_from_slice(extra);
        let (code, _, stderr) = run(&work, &args);
        assert_eq!(code, 1, "{extra:?}: {stderr}");
        assert!(
            stderr.contains(
                "error[outatime::apply::untagged_table]: `db.t_alpha` was not created by outatime"
            ),
            "{stderr}"
        );
        assert!(!stderr.contains("`db.t_bravo`"), "{stderr}");
        assert!(stderr.contains("allow_untagged_tables: true"), "{stderr}");
        assert!(stderr.contains("--create"), "{stderr}");
    }
    // Refused before anything was created or written.
    assert!(!endpoint.has_table(DATABASE, "t_bravo"));
    assert!(!endpoint.stats().operations.contains_key("CreateTable"));
    assert_eq!(endpoint.stats().write_requests, 0);
    // The flag lets it through; a tagged table needs no flag.
    let (code, _, stderr) = run(
        &work,
        &["apply", "s.scenario", "--target", "e2e_open", "--create"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!endpoint.stored(DATABASE, "t_alpha").is_empty());
    let endpoint = StrictEndpoint::start();
    let work = workspace("clean-tagged", &endpoint.url());
    endpoint.create_tagged_table(DATABASE, "t_alpha", Retention::default(), &OURS);
    endpoint.create_tagged_table(DATABASE, "t_bravo", Retention::default(), &OURS);
    let (code, _, stderr) = run(&work, &["apply", "s.scenario", "--target", "e2e"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_read_only_target_is_refused_by_apply_and_clean_before_any_request() {
    let endpoint = StrictEndpoint::start();
    let work = workspace("clean-read-only", &endpoint.url());
    for args in [
        &["apply", "s.scenario", "--target", "prod", "--create"][..],
        &["apply", "s.scenario", "--target", "prod", "--dry-run"],
        &["clean", "s.scenario", "--target", "prod", "--yes"],
        &["clean", "s.scenario", "--target", "prod", "--dry-run"],
    ] {
        let (code, _, stderr) = run(&work, args);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("error[outatime::target::read_only]: the target `prod` is read-only"),
            "{stderr}"
        );
        assert!(stderr.contains("read_only: true"), "{stderr}");
    }
    assert_eq!(endpoint.stats().requests, 0);
}

#[test]
fn clean_refuses_targets_it_cannot_clean() {
    let work = Run::new("clean-files").file("s.scenario", SCENARIO).file(
        "outatime.yaml",
        "targets:\n  local:\n    kind: file\n    directory: out\n",
    );
    let (code, _, stderr) = run(
        &work,
        &["clean", "s.scenario", "--target", "local", "--yes"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("outatime::clean::not_supported"),
        "{stderr}"
    );
}

#[test]
fn moto_keeps_the_tags_and_clean_deletes_the_tables() {
    let Ok(url) = std::env::var("OUTATIME_MOTO_URL") else {
        common::skip_unless_required("OUTATIME_MOTO_URL is not set");
        return;
    };
    let database = format!("clean_{}", std::process::id());
    let config = format!(
        "targets:\n  moto:\n    kind: timestream\n    region: us-east-1\n    database: {database}\n    endpoint_url: {url}\n    table_prefix: t_\n"
    );
    let work = Run::new("clean-moto")
        .file("s.scenario", SCENARIO)
        .file("outatime.yaml", config);
    let (code, _, stderr) = run(
        &work,
        &["apply", "s.scenario", "--target", "moto", "--create"],
    );
    assert_eq!(code, 0, "{stderr}");
    // The tags moto keeps let a second apply through.
    let (code, _, stderr) = run(&work, &["apply", "s.scenario", "--target", "moto"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(&work, &["clean", "s.scenario", "--target", "moto", "--yes"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("deleted `{database}.t_alpha`")),
        "{stdout}{stderr}"
    );
    assert!(
        stderr.contains(&format!("deleted `{database}.t_bravo`")),
        "{stdout}{stderr}"
    );
    let (code, stdout, stderr) = run(&work, &["clean", "s.scenario", "--target", "moto", "--yes"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("nothing to delete"), "{stdout}");
}
