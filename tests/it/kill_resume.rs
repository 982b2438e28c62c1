//! The rule of issue 18: no command exits 0 while the target holds less
//! than the plan says it wrote. For each kind of target an apply is killed
//! (SIGKILL) at points a seeded generator picks, then resumed (a resume
//! may be killed too), sometimes after the target lost a table; every
//! command that exits 0 is followed by an exact check of the target, and
//! the last resume must exit 0 and leave the target exact:
//!
//! - the strict Timestream endpoint (in-process, fast: many points), with
//!   `outatime verify`;
//! - moto and a real influxd (`./scripts/test` starts both), fewer points;
//!   influxd with `outatime verify`, moto by its stored records (moto has
//!   no Query API to verify with);
//! - files, which take no `--resume`: a killed apply leaves each final file
//!   either as it was or whole, and running it again gives the exact files.
//!
//! Failures name the seed: `OUTATIME_KILL_SEED=N` replays one,
//! `OUTATIME_KILL_POINTS=N` runs more points.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::kill::{self, KillPoint, Rng};
use crate::common::{self, Run, influxdb_url};
use crate::fakes::strict::{Faults, Retention, StrictEndpoint};

/// Credentials the strict endpoint and moto accept, and no
/// instance-metadata look-up.
pub(crate) const AWS_ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// Two tables, both layouts: 6,000 multi-measure records (60 batches) and
/// 3,000 single-measure ones (30 batches), all in the last five hours.
pub(crate) const TWO_TABLES: &str = "scenario \"kill\"\ntable alpha\ntable bravo { layout single }\ngenerate into alpha {\n  series device = \"a{00..19}\"\n  from now - 300m to now every 1m\n  measure v double = noise(sigma: 1)\n}\ngenerate into bravo {\n  series device = \"b{0..4}\"\n  from now - 300m to now every 1m\n  measure w bigint = ramp(from: 0, to: 1000)\n  measure z varchar = choice(\"x\", \"y\")\n}\n";

/// The current minute, as `--anchor` takes it: the scenarios' records are
/// then inside a day's memory store.
pub(crate) fn this_minute() -> String {
    let now = chrono::Utc::now().timestamp();
    chrono::DateTime::from_timestamp(now - now.rem_euclid(60), 0)
        .unwrap()
        .to_rfc3339()
}

/// A strict endpoint and a folder holding `s.scenario` and an
/// `outatime.yaml` whose target `strict` is the endpoint: database `db`,
/// tables `t_<name>`, a day in the memory store.
pub(crate) struct Strict {
    pub endpoint: StrictEndpoint,
    pub run: Run,
}

impl Strict {
    pub(crate) fn new(name: &str, scenario: &str) -> Strict {
        let endpoint = StrictEndpoint::start();
        let config = format!(
            "targets:\n  strict:\n    kind: timestream\n    region: us-east-1\n    database: db\n    endpoint_url: {}\n    table_prefix: \"t_\"\n    retention: {{ memory_store_hours: 24, magnetic_store_days: 30, magnetic_writes: false }}\n",
            endpoint.url()
        );
        let run = Run::new(name)
            .file("s.scenario", scenario)
            .file("outatime.yaml", config);
        Strict { endpoint, run }
    }

    /// `outatime apply s.scenario --target strict ARGS`, not waited for.
    pub(crate) fn spawn(&self, args: &[&str]) -> Child {
        self.run
            .again(&["apply", "s.scenario", "--target", "strict"])
            .args(args)
            .envs(AWS_ENV)
            .command()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The same, run to the end: (exit code, stderr).
    pub(crate) fn apply(&self, args: &[&str]) -> (i32, String) {
        let (code, _, stderr) = self
            .run
            .again(&["apply", "s.scenario", "--target", "strict"])
            .args(args)
            .run_with(&AWS_ENV);
        (code, stderr)
    }

    /// `outatime verify` at `anchor`: (exit code, stdout and stderr).
    pub(crate) fn verify(&self, anchor: &str) -> (i32, String) {
        let (code, stdout, stderr) = self
            .run
            .again(&[
                "verify",
                "s.scenario",
                "--target",
                "strict",
                "--anchor",
                anchor,
            ])
            .run_with(&AWS_ENV);
        (code, format!("{stdout}{stderr}"))
    }

    /// The default journal of `apply s.scenario --target strict`.
    pub(crate) fn journal(&self) -> PathBuf {
        self.run.dir.join("outatime-out/journal/s.strict.jsonl")
    }

    /// The scenario's tables as the endpoint names them.
    pub(crate) fn tables(&self) -> Vec<String> {
        let scenario = std::fs::read_to_string(self.run.dir.join("s.scenario")).unwrap();
        scenario
            .lines()
            .filter_map(|l| l.strip_prefix("table "))
            .map(|rest| format!("t_{}", rest.split_whitespace().next().unwrap()))
            .collect()
    }
}

/// The output of a finished child: (exit code, stderr).
pub(crate) fn finished(child: Child) -> (i32, String) {
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A kill point for an apply of about `batches` batches taking about
/// `millis`.
fn draw_point(rng: &mut Rng, batches: u64, millis: u64) -> KillPoint {
    if rng.chance(35) {
        KillPoint::After(Duration::from_millis(rng.below(millis)))
    } else {
        KillPoint::AfterBatches(rng.below(batches) as usize)
    }
}

/// What happens to the target between a kill and the resume.
#[derive(Clone, Copy, Debug)]
enum Mishap {
    None,
    /// A table deleted (moto restarted empty, someone tidying up).
    TableDeleted,
    /// `outatime clean --yes`.
    Cleaned,
    /// Every table deleted and made again, tagged, by someone else.
    TablesMadeAgain,
}

fn draw_mishap(rng: &mut Rng) -> Mishap {
    match rng.below(100) {
        0..55 => Mishap::None,
        55..75 => Mishap::TableDeleted,
        75..87 => Mishap::Cleaned,
        _ => Mishap::TablesMadeAgain,
    }
}

/// One strict kill point: apply, kill, a mishap, resumes killed or not,
/// then the last resume, each success checked with `verify`.
fn strict_point(seed: u64, point: usize, rng: &mut Rng) {
    let work = Strict::new(&format!("kill-strict-{point}"), TWO_TABLES);
    let anchor = this_minute();
    let at = |what: &str| format!("seed {seed}, point {point}: {what}");
    let concurrency = (1 + rng.below(4)).to_string();
    work.endpoint.set_faults(Faults {
        latency: Duration::from_millis(rng.below(12)),
        ..Faults::default()
    });
    let verified = |why: &str| {
        let (code, out) = work.verify(&anchor);
        assert_eq!(code, 0, "{}\n{out}", at(why));
    };
    let kill_point = draw_point(rng, 90, 1500);
    let mut child = work.spawn(&[
        "--create",
        "--anchor",
        &anchor,
        "--concurrency",
        &concurrency,
    ]);
    let ended = kill::kill_at(&mut child, kill_point, &work.journal());
    let mut history = format!("apply killed at {kill_point:?}: {ended:?}");
    if ended == Some(0) {
        verified(&format!("{history}; the apply exited 0"));
    }
    let mishap = draw_mishap(rng);
    history.push_str(&format!("; {mishap:?}"));
    match mishap {
        Mishap::None => {}
        Mishap::TableDeleted => {
            work.endpoint.delete_table("db", "t_alpha");
        }
        Mishap::Cleaned => {
            let (code, _, stderr) = work
                .run
                .again(&["clean", "s.scenario", "--target", "strict", "--yes"])
                .run_with(&AWS_ENV);
            assert_eq!(code, 0, "{}\n{stderr}", at(&history));
        }
        Mishap::TablesMadeAgain => {
            for table in work.tables() {
                if work.endpoint.delete_table("db", &table) {
                    let day = Retention {
                        memory_hours: 24,
                        magnetic_days: 30,
                        magnetic_writes: false,
                    };
                    work.endpoint.create_tagged_table(
                        "db",
                        &table,
                        day,
                        &[("managed-by", "outatime")],
                    );
                }
            }
        }
    }
    // Resumes killed at random points, then one run to its end. An apply
    // killed before it started its journal has nothing to resume: it is
    // run again.
    let resume_or_again = || -> Vec<String> {
        let mut args = vec!["--create".to_string(), "--concurrency".into()];
        args.push(concurrency.clone());
        if work.journal().exists() {
            args.push("--resume".into());
        } else {
            args.extend(["--anchor".to_string(), anchor.clone()]);
        }
        args
    };
    while rng.chance(40) {
        let args = resume_or_again();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let point = draw_point(rng, 90, 1500);
        let mut child = work.spawn(&args);
        let ended = kill::kill_at(&mut child, point, &work.journal());
        history.push_str(&format!("; {args:?} killed at {point:?}: {ended:?}"));
        if ended == Some(0) {
            verified(&format!("{history}; it exited 0"));
        }
    }
    let args = resume_or_again();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stderr) = work.apply(&args);
    history.push_str(&format!("; {args:?} to the end"));
    assert_eq!(code, 0, "{}\n{stderr}", at(&history));
    verified(&history);
}

#[test]
fn strict_apply_killed_at_random_points_and_resumed_leaves_the_target_exact() {
    let seed = kill::seed();
    let mut rng = Rng::new(seed);
    for point in 0..kill::points(16) {
        strict_point(seed, point, &mut rng);
    }
}

// ------------------------------------------------------------------- moto

/// One table, 10 series × 300 minutes: 3,000 multi-measure records, 30
/// batches.
const MOTO_SCENARIO: &str = "scenario \"kill\"\ntable alpha\ngenerate into alpha {\n  series device = \"a{0..9}\"\n  from now - 300m to now every 1m\n  measure v double = noise(sigma: 1)\n  measure on boolean = bernoulli(p: 0.5)\n}\n";

/// moto's records of table `name`, as (time in ms, device) → measures,
/// each record once (a resume sends in-flight batches again, and moto
/// keeps every copy); two copies that differ fail.
fn moto_rows(url: &str, name: &str, why: &str) -> BTreeMap<(i64, String), serde_json::Value> {
    let records = crate::timestream_moto::moto_records(url)
        .remove(name)
        .unwrap_or_default();
    let mut rows = BTreeMap::new();
    for r in records {
        let device = r["Dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["Name"] == "device")
            .map(|d| d["Value"].as_str().unwrap().to_string())
            .unwrap();
        let mut measures = serde_json::Map::new();
        for m in r["MeasureValues"].as_array().unwrap() {
            let text = m["Value"].as_str().unwrap();
            measures.insert(
                m["Name"].as_str().unwrap().into(),
                serde_json::from_str(text).unwrap(),
            );
        }
        let time: i64 = r["Time"].as_str().unwrap().parse().unwrap();
        let measures = serde_json::Value::from(measures);
        if let Some(earlier) = rows.insert((time, device), measures.clone()) {
            assert_eq!(earlier, measures, "{why}: two copies differ");
        }
    }
    rows
}

/// `outatime records` at `anchor`, as [`moto_rows`] gives them.
fn expected_rows(run: &Run, anchor: &str) -> BTreeMap<(i64, String), serde_json::Value> {
    let (code, stdout, stderr) = run
        .again(&["records", "s.scenario", "--anchor", anchor])
        .run();
    assert_eq!(code, 0, "{stderr}");
    stdout
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let ms = outatime::parse_timestamp(v["time"].as_str().unwrap())
                .unwrap()
                .0
                / 1_000_000;
            let device = v["dimensions"]["device"].as_str().unwrap().to_string();
            ((ms, device), v["measures"].clone())
        })
        .collect()
}

#[test]
fn moto_apply_killed_at_random_points_and_resumed_stores_every_record() {
    let Some(url) = std::env::var("OUTATIME_MOTO_URL").ok() else {
        common::skip_unless_required("OUTATIME_MOTO_URL is not set");
        return;
    };
    let seed = kill::seed();
    let mut rng = Rng::new(seed);
    let pid = std::process::id();
    for point in 0..kill::points(4) {
        let prefix = format!("k{pid}_{point}_");
        let config = format!(
            "targets:\n  moto:\n    kind: timestream\n    region: us-east-1\n    database: outatime_kill_{pid}\n    endpoint_url: {url}\n    table_prefix: \"{prefix}\"\n    retention: {{ memory_store_hours: 24, magnetic_store_days: 7, magnetic_writes: false }}\n"
        );
        let run = Run::new(&format!("kill-moto-{point}"))
            .file("s.scenario", MOTO_SCENARIO)
            .file("outatime.yaml", config);
        let anchor = this_minute();
        let table = format!("{prefix}alpha");
        let at = |what: &str| format!("seed {seed}, point {point}: {what}");
        let apply = |args: &[&str]| {
            run.again(&["apply", "s.scenario", "--target", "moto", "--create"])
                .args(args)
                .envs(AWS_ENV)
        };
        let journal = run.dir.join("outatime-out/journal/s.moto.jsonl");
        let concurrency = (1 + rng.below(2)).to_string();
        // The first point is killed midway, with batches journaled.
        let kill_point = match point {
            0 => KillPoint::AfterBatches(10),
            _ => draw_point(&mut rng, 30, 1200),
        };
        let mut child = apply(&["--anchor", &anchor, "--concurrency", &concurrency])
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let ended = kill::kill_at(&mut child, kill_point, &journal);
        let mut history = format!("apply killed at {kill_point:?}: {ended:?}");
        // The first point always loses its table, as when moto restarts
        // empty or `clean` ran, before it resumes.
        if point == 0 {
            let (code, _, stderr) = run
                .again(&["clean", "s.scenario", "--target", "moto", "--yes"])
                .run_with(&AWS_ENV);
            assert_eq!(code, 0, "{}\n{stderr}", at(&history));
            history.push_str("; cleaned");
        }
        let (code, _, stderr) = if journal.exists() {
            apply(&["--resume", "--concurrency", &concurrency]).run()
        } else {
            apply(&["--anchor", &anchor, "--concurrency", &concurrency]).run()
        };
        assert_eq!(code, 0, "{}\n{stderr}", at(&history));
        let got = moto_rows(&url, &table, &at(&history));
        let want = expected_rows(&run, &anchor);
        let missing = want.keys().filter(|k| !got.contains_key(*k)).count();
        assert!(
            got == want,
            "{}: moto holds {} of {} records ({missing} missing)\n{stderr}",
            at(&history),
            got.len(),
            want.len()
        );
    }
}

// ----------------------------------------------------------- real influxd

const INFLUX_ANCHOR: &str = "2026-11-28T20:00:00Z";

/// An InfluxQL statement to the test influxd, which must succeed.
fn influxql(url: &str, database: &str, statement: &str) {
    let target = format!(
        "/query?db={}&q={}",
        common::http::escape(database),
        common::http::escape(statement)
    );
    let answer = common::http::request(url, "POST", &target, &[], b"").unwrap();
    assert_eq!(answer.status, 200, "{statement}: {}", answer.text());
    assert!(
        !answer.text().contains("\"error\""),
        "{statement}: {}",
        answer.text()
    );
}

#[test]
fn influxd_apply_killed_at_random_points_and_resumed_verifies_exact() {
    let Some(url) = influxdb_url() else { return };
    let seed = kill::seed();
    let mut rng = Rng::new(seed);
    let pid = std::process::id();
    // 40 series × 1,000 minutes: 40,000 records, 8 writes of 5,000.
    let series = (0..40).map(|i| format!("device = \"d{i:02}\""));
    let scenario = common::bulk_scenario(series, 1000, &["v double = noise(sigma: 1)"]);
    for point in 0..kill::points(4) {
        let database = format!("outatime_kill_{point}_{pid}");
        influxql(&url, "", &format!("DROP DATABASE \"{database}\""));
        let config = format!(
            "targets:\n  influx:\n    kind: influxdb\n    api: v1\n    url: {url}\n    database: {database}\n"
        );
        let run = Run::new(&format!("kill-influx-{point}"))
            .file("s.scenario", &scenario)
            .file("outatime.yaml", config);
        let at = |what: &str| format!("seed {seed}, point {point}: {what}");
        let apply = |args: &[&str]| {
            run.again(&["apply", "s.scenario", "--target", "influx", "--create"])
                .args(args)
        };
        let verify = |why: &str| {
            let (code, stdout, stderr) = run
                .again(&[
                    "verify",
                    "s.scenario",
                    "--target",
                    "influx",
                    "--anchor",
                    INFLUX_ANCHOR,
                ])
                .run();
            assert_eq!(code, 0, "{}\n{stdout}{stderr}", at(why));
        };
        let journal = run.dir.join("outatime-out/journal/s.influx.jsonl");
        // The first point is killed midway, with batches journaled.
        let kill_point = match point {
            0 => KillPoint::AfterBatches(3),
            _ => draw_point(&mut rng, 8, 1500),
        };
        let mut child = apply(&["--anchor", INFLUX_ANCHOR, "--concurrency", "1"])
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let ended = kill::kill_at(&mut child, kill_point, &journal);
        let mut history = format!("apply killed at {kill_point:?}: {ended:?}");
        if ended == Some(0) {
            verify(&format!("{history}; the apply exited 0"));
        }
        // The first point always loses its points before it resumes: a
        // DROP MEASUREMENT keeps outatime's marker, so the marker alone
        // cannot vouch for them.
        if point == 0 {
            influxql(&url, &database, "DROP MEASUREMENT \"bulk\"");
            history.push_str("; DROP MEASUREMENT");
        }
        let (code, _, stderr) = if journal.exists() {
            apply(&["--resume", "--concurrency", "2"]).run()
        } else {
            apply(&["--anchor", INFLUX_ANCHOR]).run()
        };
        assert_eq!(code, 0, "{}\n{stderr}", at(&history));
        verify(&history);
        influxql(&url, "", &format!("DROP DATABASE \"{database}\""));
    }
}

// ------------------------------------------------------------------ files

/// Two tables of 20,000 records each: large enough that a kill lands
/// while the files are written.
const FILES_SCENARIO: &str = "scenario \"files\"\ntable alpha\ntable bravo\ngenerate into alpha {\n  series device = \"a{00..19}\"\n  from now - 1000m to now every 1m\n  measure v double = noise(sigma: 1)\n}\ngenerate into bravo {\n  series device = \"b{00..19}\"\n  from now - 1000m to now every 1m\n  measure w bigint = ramp(from: 0, to: 1000)\n}\n";

const FILES_BEFORE: &str = "2026-11-28T18:00:00Z";
const FILES_AFTER: &str = "2026-11-28T20:00:00Z";

/// The final files of the folder: name → bytes. Hidden files (temporary
/// ones) are left out: they are not the target's.
fn final_files(run: &Run) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(run.dir.join("outatime-out")) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().into_string().unwrap())
        .filter(|name| !name.starts_with('.'))
        .map(|name| {
            let bytes = std::fs::read(run.dir.join("outatime-out").join(&name)).unwrap();
            (name, bytes)
        })
        .collect()
}

#[test]
fn a_killed_file_apply_leaves_each_file_whole_and_running_it_again_gives_the_exact_files() {
    let seed = kill::seed();
    let mut rng = Rng::new(seed);
    let run = Run::new("kill-files").file("s.scenario", FILES_SCENARIO);
    let apply = |anchor: &str| run.again(&["apply", "s.scenario", "--anchor", anchor]);
    // The files of each anchor, whole.
    let (code, _, stderr) = apply(FILES_AFTER).run();
    assert_eq!(code, 0, "{stderr}");
    let after = final_files(&run);
    let started = Instant::now();
    let (code, _, stderr) = apply(FILES_BEFORE).run();
    let took = started.elapsed().as_millis() as u64;
    assert_eq!(code, 0, "{stderr}");
    let before = final_files(&run);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        ["alpha.jsonl", "bravo.jsonl"]
    );
    for point in 0..kill::points(12) {
        let at = |what: &str| format!("seed {seed}, point {point}: {what}");
        // The folder as the earlier apply left it.
        for (name, bytes) in &before {
            std::fs::write(run.dir.join("outatime-out").join(name), bytes).unwrap();
        }
        let after_ms = rng.below(took + took / 4 + 1);
        let mut child = apply(FILES_AFTER)
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let ended = kill::kill_at(
            &mut child,
            KillPoint::After(Duration::from_millis(after_ms)),
            &run.dir.join("no-journal"),
        );
        let history = format!("killed after {after_ms} ms: {ended:?}");
        // Each final file is the earlier apply's or this one's, whole.
        for (name, bytes) in final_files(&run) {
            let whole = before.get(&name) == Some(&bytes) || after.get(&name) == Some(&bytes);
            assert!(
                whole,
                "{}: `{name}` is neither whole file ({} bytes)",
                at(&history),
                bytes.len()
            );
        }
        if ended == Some(0) {
            assert_eq!(final_files(&run), after, "{}", at(&history));
        }
        let (code, _, stderr) = apply(FILES_AFTER).run();
        assert_eq!(code, 0, "{}\n{stderr}", at(&history));
        assert_eq!(final_files(&run), after, "{}", at(&history));
        let (code, stdout, stderr) = run
            .again(&["verify", "s.scenario", "--anchor", FILES_AFTER])
            .run();
        assert_eq!(code, 0, "{}\n{stdout}{stderr}", at(&history));
    }
}
