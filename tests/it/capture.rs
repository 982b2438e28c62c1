//! `outatime capture` through the real binary against the strict
//! in-process Timestream endpoint (`tests/it/fakes/strict/`): records written by
//! `outatime apply` are captured page by page and slice by slice (a
//! throttled page retried), and the printed source blocks replay the file
//! into another table holding exactly the same records. Also `--where`,
//! `--redact` and the arguments refused before any query. Everything
//! stays on 127.0.0.1.

use std::collections::BTreeSet;

use crate::common::Run;
use crate::fakes::strict::{Faults, Retention, StoredValue, StrictEndpoint};

/// Credentials the strict endpoint accepts (it checks the signature's
/// shape, not the secret), and no instance-metadata look-up.
const AWS_ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

const MINUTE_NS: i64 = 60_000_000_000;

/// Two series, a record a minute for 90 minutes, every measure type; the
/// multi-measure table and the single-measure one.
const LIVE: &str = r#"scenario "live"
table multi { name "live_multi" }
table single { name "live_single" layout single }
generate into multi {
  series device = "d1", site = "lab"
  series device = "d2", site = "dock"
  from now - 90m to now every 1m
  measure v double = noise(sigma: 1)
  measure on boolean = bernoulli(p: 0.5)
  measure n bigint = ramp(from: 0, to: 1000)
  measure z varchar = choice("x", "y")
}
generate into single {
  series device = "d1", site = "lab"
  series device = "d2", site = "dock"
  from now - 90m to now every 1m
  measure v double = noise(sigma: 1)
  measure n bigint = ramp(from: 0, to: 1000)
}
"#;

/// The endpoint with the live tables written by an apply at `anchor`, and
/// the folder with `outatime.yaml` naming it `ts`, and an InfluxDB target.
struct Live {
    endpoint: StrictEndpoint,
    run: Run,
    anchor_ns: i64,
}

fn time(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339()
}

fn live(name: &str) -> Live {
    let endpoint = StrictEndpoint::start();
    let retention = Retention {
        memory_hours: 24,
        magnetic_days: 30,
        magnetic_writes: false,
    };
    // Untagged, as production's tables are: the target below allows
    // writing into them, standing in for the system that fills production.
    for table in ["live_multi", "live_single", "copy_multi", "copy_single"] {
        endpoint.create_table("db", table, retention);
    }
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
    let anchor_ns = now - now.rem_euclid(MINUTE_NS);
    let run = Run::new(&format!("capture-{name}"))
        .file("live.scenario", LIVE)
        .file(
            "outatime.yaml",
            format!(
                "targets:\n  ts:\n    kind: timestream\n    region: us-east-1\n    database: db\n    endpoint_url: {}\n    allow_untagged_tables: true\n  influx:\n    kind: influxdb\n    api: v1\n    url: http://127.0.0.1:9\n    database: x\n",
                endpoint.url()
            ),
        );
    let (code, _, stderr) = run
        .again(&[
            "apply",
            "live.scenario",
            "--target",
            "ts",
            "--anchor",
            &time(anchor_ns),
        ])
        .run_with(&AWS_ENV);
    assert_eq!(code, 0, "{stderr}");
    Live {
        endpoint,
        run,
        anchor_ns,
    }
}

impl Live {
    /// `capture --target ts --table TABLE` over the whole written window
    /// (and a minute more) with `extra`.
    fn capture(&self, table: &str, extra: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
        let from = time(self.anchor_ns - 120 * MINUTE_NS);
        let to = time(self.anchor_ns + MINUTE_NS);
        let mut args = vec![
            "capture", "--target", "ts", "--table", table, "--from", &from, "--to", &to,
        ];
        args.extend_from_slice(extra);
        let mut all = AWS_ENV.to_vec();
        all.extend_from_slice(env);
        self.run.again(&args).run_with(&all)
    }

    fn queries(&self) -> u64 {
        self.endpoint
            .stats()
            .operations
            .get("Query")
            .copied()
            .unwrap_or(0)
    }

    /// Applies `scenario` (the printed blocks and a replay) at the anchor.
    fn replay(&self, scenario: &str) {
        let run = self.run.again(&[]).file("replay.scenario", scenario);
        let (code, _, stderr) = run
            .again(&[
                "apply",
                "replay.scenario",
                "--target",
                "ts",
                "--anchor",
                &time(self.anchor_ns),
            ])
            .run_with(&AWS_ENV);
        assert_eq!(code, 0, "{stderr}\n{scenario}");
    }

    /// A table's records as a set of (series, time, measure name, value),
    /// leaving out what only says how they were written.
    fn records(&self, table: &str) -> BTreeSet<String> {
        self.endpoint
            .stored("db", table)
            .into_iter()
            .map(|r| {
                format!(
                    "{:?} {} {} {:?}",
                    r.dimensions, r.time_ns, r.measure_name, r.value
                )
            })
            .collect()
    }
}

/// The file's lines.
fn lines(run: &Run, file: &str) -> Vec<String> {
    std::fs::read_to_string(run.dir.join(file))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_multi_measure_table_is_captured_across_pages_slices_and_a_throttled_page_and_replays_exactly()
{
    let live = live("multi");
    // 180 rows: 25 a page, 30-minute slices (4 of them hold rows, one
    // more is empty), and every fourth Query throttled once.
    live.endpoint.set_query_page_size(25);
    live.endpoint.set_faults(Faults {
        throttle_query_every: Some(4),
        ..Faults::default()
    });
    let before = live.queries();
    let (code, stdout, stderr) = live.capture(
        "live_multi",
        &["--slice", "30m", "-o", "cap/multi.csv"],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("(blake3:"), "{stderr}");
    // The DESCRIBE, then pages of 25: the slices from now - 120m hold 0,
    // 60, 60, 60 and 0 rows, so 1 + 3 + 3 + 3 + 1 pages: 12 answers, and
    // each fourth request throttled and sent again, 15 requests.
    assert_eq!(live.endpoint.stats().throttled, 3);
    assert_eq!(live.queries() - before, 15, "{stderr}");
    assert!(
        stderr.contains("captured 180 rows in 5 slices (12 pages)"),
        "{stderr}"
    );
    assert_eq!(
        partials(&live.run.dir.join("cap"), "multi.csv"),
        Vec::<String>::new()
    );
    let file = lines(&live.run, "cap/multi.csv");
    assert_eq!(file[0], "time,device,site,measure_name,n,on,v,z");
    assert_eq!(file.len(), 181);
    let times: Vec<&str> = file[1..]
        .iter()
        .map(|l| &l[..l.find(',').unwrap()])
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "rows in time order");
    assert_eq!(
        stdout,
        "# multi-measure records named \"metrics\": replay them into a table with `measure_name \"metrics\"` (layout multi)\n\
         source multi csv \"cap/multi.csv\" {\n  time time\n  dimensions device, site\n  measures n bigint, on boolean, v double, z varchar\n}\n"
    );
    live.replay(&format!(
        "scenario \"replayed\"\n{stdout}table copy {{ name \"copy_multi\" }}\nreplay multi into copy\n"
    ));
    let original = live.records("live_multi");
    assert_eq!(original.len(), 180);
    assert_eq!(live.records("copy_multi"), original);
}

#[test]
fn a_single_measure_table_gets_a_source_a_value_type_and_replays_exactly() {
    let live = live("single");
    live.endpoint.set_query_page_size(50);
    let (code, stdout, stderr) = live.capture("live_single", &["-o", "single.csv"], &[]);
    assert_eq!(code, 0, "{stderr}");
    // 2 series × 90 minutes × 2 measures; the window is 2h01m: 3 slices.
    assert!(stderr.contains("captured 360 rows in 3 slices"), "{stderr}");
    let file = lines(&live.run, "single.csv");
    assert_eq!(
        file[0],
        "time,device,site,measure_name,measure_value::double,measure_value::bigint"
    );
    let block = |ty: &str| {
        format!(
            "source single_{ty} csv \"single.csv\" {{\n  time time\n  dimensions device, site\n  measures from measure_name value \"measure_value::{ty}\" {ty}\n}}\n"
        )
    };
    assert!(stdout.contains(&block("bigint")), "{stdout}");
    assert!(stdout.contains(&block("double")), "{stdout}");
    assert!(stdout.contains("`layout single`"), "{stdout}");
    live.replay(&format!(
        "scenario \"replayed\"\n{}table copy {{ name \"copy_single\" layout single }}\nreplay single_bigint into copy\nreplay single_double into copy\n",
        stdout
    ));
    let original = live.records("live_single");
    assert_eq!(original.len(), 360);
    assert!(
        live.endpoint
            .stored("db", "live_single")
            .iter()
            .all(|r| matches!(r.value, StoredValue::Single(..)))
    );
    assert_eq!(live.records("copy_single"), original);
}

#[test]
fn where_narrows_every_query_and_redact_writes_pseudonyms_only() {
    let live = live("redact");
    let (code, _, stderr) = live.capture(
        "live_multi",
        &["--where", "device = 'd1'", "-o", "d1.csv"],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let file = lines(&live.run, "d1.csv");
    assert_eq!(file.len(), 91);
    assert!(file[1..].iter().all(|l| l.contains(",d1,lab,")), "{file:?}");

    // Without the salt: refused before any query.
    let before = live.queries();
    let (code, _, stderr) = live.capture("live_multi", &["--redact", "device", "-o", "r.csv"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("error[outatime::capture::salt]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`OUTATIME_REDACT_SALT` is not set"),
        "{stderr}"
    );
    assert_eq!(live.queries(), before);
    assert!(!live.run.dir.join("r.csv").exists());

    let salt = [("CAPTURE_SALT", "s3cret")];
    let redacted = |file: &str| {
        let (code, stdout, stderr) = live.capture(
            "live_multi",
            &[
                "--redact",
                "device",
                "--redact",
                "site",
                "--salt-env",
                "CAPTURE_SALT",
                "-o",
                file,
            ],
            &salt,
        );
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("dimensions device, site"), "{stdout}");
        std::fs::read_to_string(live.run.dir.join(file)).unwrap()
    };
    let text = redacted("r.csv");
    for original in [",d1,", ",d2,", ",lab,", ",dock,", "d1", "dock"] {
        assert!(!text.contains(original), "{original} in {text}");
    }
    let devices: BTreeSet<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(devices.len(), 2, "{devices:?}");
    assert!(
        devices
            .iter()
            .all(|d| d.starts_with("anon-") && d.len() == 21)
    );
    // The same salt, the same pseudonyms.
    assert_eq!(redacted("again.csv"), text);

    // Only text can be redacted.
    let (code, _, stderr) = live.capture(
        "live_multi",
        &["--redact", "v", "--salt-env", "CAPTURE_SALT", "-o", "x.csv"],
        &salt,
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("error[outatime::capture::redact]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot redact `v`: it is a DOUBLE column"),
        "{stderr}"
    );
    assert!(!live.run.dir.join("x.csv").exists());
}

#[test]
fn bad_arguments_are_refused_before_any_query() {
    let live = live("arguments");
    let before = live.queries();
    let refused = |args: &[&str]| {
        let mut all = vec!["capture"];
        all.extend_from_slice(args);
        live.run.again(&all).run_with(&AWS_ENV)
    };
    let window = |from: &str, to: &str| -> Vec<String> {
        [
            "--table",
            "live_multi",
            "--from",
            from,
            "--to",
            to,
            "-o",
            "o.csv",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let with = |target: &str, rest: Vec<String>| {
        let mut args = vec!["--target".to_string(), target.to_string()];
        args.extend(rest);
        args
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args)
    };
    let (code, _, stderr) = run(with(
        "ts",
        window("2026-11-28T20:00:00Z", "2026-11-28T20:00:00Z"),
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("error[outatime::capture::arguments]: the window is empty"),
        "{stderr}"
    );
    let (code, _, stderr) = run(with("ts", window("yesterday", "2026-11-28T20:00:00Z")));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--from yesterday: not an RFC 3339 time"),
        "{stderr}"
    );
    let mut slice = with("ts", window("2026-11-28T19:00:00Z", "2026-11-28T20:00:00Z"));
    slice.extend(["--slice".to_string(), "0s".to_string()]);
    let (code, _, stderr) = run(slice);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--slice 0s: not a positive duration"),
        "{stderr}"
    );
    let (code, _, stderr) = run(with(
        "influx",
        window("2026-11-28T19:00:00Z", "2026-11-28T20:00:00Z"),
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("target `influx` is an InfluxDB target, not a Timestream one"),
        "{stderr}"
    );
    let (code, _, stderr) = run(with(
        "prod",
        window("2026-11-28T19:00:00Z", "2026-11-28T20:00:00Z"),
    ));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("prod"), "{stderr}");
    assert_eq!(live.queries(), before);

    // A table that is not there: the description is refused, exit 3.
    let (code, _, stderr) = live.capture("nope", &["-o", "o.csv"], &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("error[outatime::capture::timestream]"),
        "{stderr}"
    );
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(!live.run.dir.join("o.csv").exists());

    // A predicate the endpoint does not serve, and a column the table
    // lacks: the service's refusal, named, and no file.
    for (predicate, answer) in [
        ("v > 1", "The strict endpoint answers only"),
        ("rack = 'r9'", "Column 'rack' does not exist"),
    ] {
        let (code, _, stderr) =
            live.capture("live_multi", &["--where", predicate, "-o", "o.csv"], &[]);
        assert_eq!(code, 3, "{stderr}");
        assert!(stderr.contains("ValidationException"), "{stderr}");
        assert!(stderr.contains(answer), "{stderr}");
        assert!(!live.run.dir.join("o.csv").exists());
        assert_eq!(partials(&live.run.dir, "o.csv"), Vec::<String>::new());
    }
}

#[test]
fn ctrl_c_during_a_capture_leaves_neither_the_file_nor_its_partial() {
    let live = live("sigint");
    // Pages of 5 rows, each answered after 200 ms: the capture takes
    // seconds, with its temporary file open the whole time.
    live.endpoint.set_query_page_size(5);
    live.endpoint.set_faults(Faults {
        latency: std::time::Duration::from_millis(200),
        ..Faults::default()
    });
    let from = time(live.anchor_ns - 120 * MINUTE_NS);
    let to = time(live.anchor_ns + MINUTE_NS);
    let mut child = live
        .run
        .again(&[
            "capture",
            "--target",
            "ts",
            "--table",
            "live_multi",
            "--from",
            &from,
            "--to",
            &to,
            "-o",
            "cut.csv",
        ])
        .envs(AWS_ENV)
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The temporary file, `.cut.csv.XXXXXX.partial` beside the output.
    let partial = || partials(&live.run.dir, "cut.csv");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while partial().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(partial().len(), 1, "the capture never began writing");
    // A page or two in.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(child.try_wait().unwrap(), None, "still capturing");
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let ended = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(ended.signal(), Some(2), "ended by SIGINT");
    assert_eq!(
        partial(),
        Vec::<String>::new(),
        "a partial file left behind"
    );
    assert!(!live.run.dir.join("cut.csv").exists());
}

/// The temporary files of the output `name` in `folder`.
fn partials(folder: &std::path::Path, name: &str) -> Vec<String> {
    std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{name}.")) && n.ends_with(".partial"))
        .filter(|n| !folder.join(n).is_symlink())
        .collect()
}

#[test]
fn a_capture_never_writes_through_a_link_at_its_temporary_or_final_name() {
    let live = live("links");
    const PRECIOUS: &str = "precious: not outatime's to write\n";
    let elsewhere = live.run.dir.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(live.run.dir.join("cap")).unwrap();
    // The temporary name outatime once used, a guess at a hidden one,
    // and the final name.
    let links = [
        "cap/multi.csv.partial",
        "cap/.multi.csv.partial",
        "cap/multi.csv",
    ];
    for (i, link) in links.iter().enumerate() {
        let victim = elsewhere.join(format!("victim-{i}.txt"));
        std::fs::write(&victim, PRECIOUS).unwrap();
        std::os::unix::fs::symlink(&victim, live.run.dir.join(link)).unwrap();
    }
    let (code, _, stderr) = live.capture("live_multi", &["-o", "cap/multi.csv"], &[]);
    assert_eq!(code, 0, "{stderr}");
    for (i, link) in links.iter().enumerate() {
        assert_eq!(
            std::fs::read_to_string(elsewhere.join(format!("victim-{i}.txt"))).unwrap(),
            PRECIOUS,
            "written through the link at {link}"
        );
    }
    let captured = live.run.dir.join("cap/multi.csv");
    assert!(std::fs::symlink_metadata(&captured).unwrap().is_file());
    assert_eq!(lines(&live.run, "cap/multi.csv").len(), 181);
    assert_eq!(
        partials(&live.run.dir.join("cap"), "multi.csv"),
        Vec::<String>::new()
    );
}
