//! The compiler's promises, through the library: determinism, purity of
//! randomness, shifts and windows, DST, extrapolation, anomalies, conflicts.

use std::path::{Path, PathBuf};

use outatime::JsonLines;
use outatime::render::Style;
use proptest::prelude::*;
use tempfile::TempDir;

use crate::common::{read_options, scratch};

/// A scratch folder with a scenario and its data files, removed when
/// dropped.
struct Scratch {
    dir: PathBuf,
    _folder: TempDir,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let folder = scratch(&format!("compile-{name}"));
        Scratch {
            dir: folder.path().to_path_buf(),
            _folder: folder,
        }
    }

    fn file(&self, name: &str, text: &str) -> &Scratch {
        std::fs::write(self.dir.join(name), text).unwrap();
        self
    }

    fn load(&self, scenario: &str) -> Result<outatime::Loaded, String> {
        self.file("s.scenario", scenario);
        outatime::load(&self.dir.join("s.scenario"), read_options(), Style::PLAIN)
            .map_err(|f| f.text)
    }

    /// The record stream at `anchor`, as JSON lines.
    fn records(&self, scenario: &str, anchor: &str) -> Result<String, String> {
        let loaded = self.load(scenario)?;
        let anchor = outatime::parse_timestamp(anchor).unwrap().0;
        let anchor = outatime::align(anchor, loaded.prepared.anchor_align);
        let mut sink = JsonLines::new(Vec::new(), &loaded.prepared.catalog);
        loaded
            .prepared
            .run(anchor, &mut sink)
            .map_err(|e| e.to_string())?;
        Ok(String::from_utf8(sink.finish().unwrap()).unwrap())
    }

    fn plan(&self, scenario: &str) -> String {
        let loaded = self.load(scenario).unwrap();
        let plan = outatime::compile_plan(&loaded, &self.dir)
            .map_err(|f| f.text)
            .unwrap();
        outatime::to_yaml(&plan).unwrap()
    }
}

const ANCHOR: &str = "2026-11-27T18:00:00Z";

fn lines_of<'a>(stream: &'a str, table: &str) -> Vec<&'a str> {
    let needle = format!("{{\"table\":\"{table}\"");
    stream.lines().filter(|l| l.starts_with(&needle)).collect()
}

fn value(line: &str, measure: &str) -> f64 {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    v["measures"][measure].as_f64().unwrap_or(f64::NAN)
}

fn time(line: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    v["time"].as_str().unwrap().to_string()
}

const TWO_STEPS: &str = r#"scenario "two steps"
seed 9
table alpha
table bravo

generate into alpha {
  series device = "a1"
  series device = "a2"
  from now - 2h to now every 1m
  measure v double = noise(sigma: 1) + random_walk(start: 5, step: 1)
  measure b boolean = bernoulli(p: 0.3)
}

generate into bravo {
  series device = "b1"
  from now - 1h to now every 5m
  measure w double = uniform(min: 0, max: 10)
}
"#;

#[test]
fn the_same_scenario_gives_the_same_plan_and_stream_twice() {
    let s = Scratch::new("twice");
    assert_eq!(s.plan(TWO_STEPS), s.plan(TWO_STEPS));
    assert_eq!(s.records(TWO_STEPS, ANCHOR), s.records(TWO_STEPS, ANCHOR));
}

#[test]
fn the_stream_is_sorted_by_table_time_then_dimensions_with_sorted_keys() {
    let s = Scratch::new("sorted");
    let stream = s.records(TWO_STEPS, ANCHOR).unwrap();
    let keys: Vec<(String, String, String)> = stream
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["table"].to_string(),
                v["time"].to_string(),
                v["dimensions"].to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(lines_of(&stream, "alpha").len(), 2 * 120);
    assert_eq!(lines_of(&stream, "bravo").len(), 12);
    assert!(stream.starts_with(r#"{"table":"alpha","time":"2026-11-27T16:00:00.000Z","dimensions":{"device":"a1"},"measures":{"b":"#));
}

#[test]
fn editing_one_step_leaves_the_other_steps_records_byte_identical() {
    let s = Scratch::new("edit");
    let before = s.records(TWO_STEPS, ANCHOR).unwrap();
    let edited = TWO_STEPS.replace(
        "uniform(min: 0, max: 10)",
        "uniform(min: 5, max: 6) + noise(sigma: 2)",
    );
    let after = s.records(&edited, ANCHOR).unwrap();
    assert_eq!(lines_of(&before, "alpha"), lines_of(&after, "alpha"));
    assert_ne!(lines_of(&before, "bravo"), lines_of(&after, "bravo"));
    // Moving a step or inserting one above it changes nothing either.
    let inserted = TWO_STEPS.replace(
        "generate into alpha {",
        "generate into bravo {\n  series device = \"b9\"\n  from now to now + 1m every 1m\n  measure w double = noise(sigma: 1)\n}\n\ngenerate into alpha {",
    );
    let after = s.records(&inserted, ANCHOR).unwrap();
    assert_eq!(lines_of(&before, "alpha"), lines_of(&after, "alpha"));
}

#[test]
fn narrowing_a_window_keeps_every_remaining_value() {
    let s = Scratch::new("narrow");
    let wide = "scenario \"n\"\ntable gamma\ngenerate into gamma {\n  series d = \"x\"\n  from now - 2h to now every 1m\n  measure v double = noise(sigma: 1) + uniform(min: 0, max: 1)\n}\n";
    let narrow = wide.replace("now - 2h", "now - 30m");
    let a = s.records(wide, ANCHOR).unwrap();
    let b = s.records(&narrow, ANCHOR).unwrap();
    assert_eq!(b.lines().count(), 30);
    assert!(
        b.lines().all(|line| a.lines().any(|l| l == line)),
        "every narrowed record is in the wide stream"
    );
}

#[test]
fn another_anchor_only_moves_relative_times() {
    let s = Scratch::new("anchor");
    let a = s.records(TWO_STEPS, ANCHOR).unwrap();
    let b = s.records(TWO_STEPS, "2027-01-01T00:00:00Z").unwrap();
    let strip = |stream: &str| -> Vec<String> {
        stream
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["time"] = serde_json::Value::Null;
                v.to_string()
            })
            .collect()
    };
    assert_eq!(
        strip(&a),
        strip(&b),
        "values are phased from now, not from the calendar"
    );
}

#[test]
fn the_anchor_is_rounded_down_to_anchor_align() {
    let s = Scratch::new("align");
    let text = "scenario \"a\"\nanchor align 1h\ntable delta\ngenerate into delta {\n  series d = \"x\"\n  from now to now + 1m every 1m\n  measure v double = constant(value: 1)\n}\n";
    let stream = s.records(text, "2026-11-27T18:42:17.5Z").unwrap();
    assert_eq!(
        time(stream.lines().next().unwrap()),
        "2026-11-27T18:00:00.000Z"
    );
}

fn minute_csv(start: &str, minutes: i64) -> String {
    let t0 = outatime::parse_timestamp(start).unwrap().0;
    let mut out = String::from("ts,device,v\n");
    for i in 0..minutes {
        let t = outatime::Instant(t0 + i * 60_000_000_000);
        out.push_str(&format!("{t},d1,{i}\n"));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// A shifted window keeps its count and spacing; bounds are half-open.
    #[test]
    fn a_shifted_window_keeps_count_and_spacing(
        from in 0i64..600,
        length in 1i64..300,
        shift_minutes in -5_000i64..5_000,
    ) {
        let s = Scratch::new(&format!("prop-{from}-{length}-{shift_minutes}"));
        s.file("m.csv", &minute_csv("2024-03-12T00:00:00Z", 1000));
        let start = outatime::Instant(
            outatime::parse_timestamp("2024-03-12T00:00:00Z").unwrap().0 + from * 60_000_000_000,
        );
        let end = outatime::Instant(start.0 + length * 60_000_000_000);
        let scenario = format!(
            "scenario \"p\"\nsource m csv \"m.csv\" {{\n  time ts\n  dimensions device\n  measures v bigint\n}}\ntable epsilon\nreplay m into epsilon {{\n  window {start} .. {end}\n  shift by {}{}m\n}}\n",
            if shift_minutes < 0 { "-" } else { "" },
            shift_minutes.abs()
        );
        let stream = s.records(&scenario, ANCHOR).unwrap();
        let available = (1000 - from).clamp(0, length);
        prop_assert_eq!(stream.lines().count() as i64, available);
        for (i, line) in stream.lines().enumerate() {
            prop_assert_eq!(value(line, "v") as i64, from + i as i64, "value order");
            let t = outatime::parse_timestamp(&time(line)).unwrap().0;
            prop_assert_eq!(t, start.0 + (i as i64 + shift_minutes) * 60_000_000_000);
        }
    }
}

#[test]
fn shift_end_to_now_puts_the_window_end_at_now_and_speed_compresses_it() {
    let s = Scratch::new("shift-end");
    s.file("m.csv", &minute_csv("2024-03-12T00:00:00Z", 120));
    let base = "scenario \"e\"\nsource m csv \"m.csv\" {\n  time ts\n  dimensions device\n  measures v bigint\n}\ntable zeta\nreplay m into zeta {\n  window 2024-03-12T00:00Z .. 2024-03-12T01:00Z\n  shift end to now\nSPEED}\n";
    let stream = s.records(&base.replace("SPEED", ""), ANCHOR).unwrap();
    assert_eq!(stream.lines().count(), 60);
    assert_eq!(
        time(stream.lines().next().unwrap()),
        "2026-11-27T17:00:00.000Z"
    );
    assert_eq!(
        time(stream.lines().last().unwrap()),
        "2026-11-27T17:59:00.000Z"
    );
    let fast = s
        .records(&base.replace("SPEED", "  speed 4\n"), ANCHOR)
        .unwrap();
    assert_eq!(fast.lines().count(), 60);
    assert_eq!(
        time(fast.lines().next().unwrap()),
        "2026-11-27T17:45:00.000Z"
    );
    assert_eq!(
        time(fast.lines().nth(1).unwrap()),
        "2026-11-27T17:45:15.000Z"
    );
    // Without a window: the window ends one sampling interval (1m) after
    // the last record, which lands one interval before now, as with a
    // written window.
    let all = s
        .records(
            &base
                .replace("  window 2024-03-12T00:00Z .. 2024-03-12T01:00Z\n", "")
                .replace("SPEED", ""),
            ANCHOR,
        )
        .unwrap();
    assert_eq!(
        time(all.lines().last().unwrap()),
        "2026-11-27T17:59:00.000Z"
    );
}

fn local_csv(zone: chrono_tz::Tz, day: &str, hours: &[&str]) -> String {
    use chrono::TimeZone;
    let mut out = String::from("ts,device,v\n");
    for (i, h) in hours.iter().enumerate() {
        let naive =
            chrono::NaiveDateTime::parse_from_str(&format!("{day} {h}"), "%Y-%m-%d %H:%M").unwrap();
        let t = zone.from_local_datetime(&naive).earliest().unwrap();
        out.push_str(&format!("{},d1,{i}\n", t.to_rfc3339()));
    }
    out
}

fn calendar_scenario(zone: &str, window: &str) -> String {
    format!(
        "scenario \"c\"\nsource m csv \"m.csv\" {{\n  time ts\n  dimensions device\n  measures v bigint\n}}\ntable eta\nreplay m into eta {{\n  window {window}\n  shift by 7 days in \"{zone}\"\n}}\n"
    )
}

/// Replays records taken at local `hours` on `day` in `zone`, shifted by 7
/// calendar days there: the UTC times of the stream, or the error.
fn shifted_a_week(
    name: &str,
    zone: chrono_tz::Tz,
    day: &str,
    hours: &[&str],
    window: &str,
) -> Result<Vec<String>, String> {
    let s = Scratch::new(name);
    s.file("m.csv", &local_csv(zone, day, hours));
    let stream = s.records(&calendar_scenario(zone.name(), window), ANCHOR)?;
    Ok(stream.lines().map(time).collect())
}

#[test]
fn calendar_shift_keeps_wall_time_across_oslo_spring_forward() {
    // A week before the change (31 March 2024, 02:00 → 03:00).
    let times = shifted_a_week(
        "oslo-spring",
        chrono_tz::Europe::Oslo,
        "2024-03-24",
        &["00:30", "01:30", "04:30"],
        "2024-03-23T00:00Z .. 2024-03-25T00:00Z",
    )
    .unwrap();
    // 00:30 and 01:30 are still +01:00; 04:30 is +02:00 after the change.
    assert_eq!(
        times,
        [
            "2024-03-30T23:30:00.000Z",
            "2024-03-31T00:30:00.000Z",
            "2024-03-31T02:30:00.000Z"
        ]
    );
}

#[test]
fn calendar_shift_into_a_gap_moves_forward_and_a_fold_is_a_named_conflict() {
    // 02:30 does not exist on 31 March: it moves forward to 03:30, where
    // the week-old 03:30 record also lands.
    let err = shifted_a_week(
        "oslo-gap",
        chrono_tz::Europe::Oslo,
        "2024-03-24",
        &["02:30", "03:30"],
        "2024-03-23T00:00Z .. 2024-03-25T00:00Z",
    )
    .unwrap_err();
    assert!(
        err.contains(
            "writes `v` of {device=\"d1\"} in table `eta` at 2024-03-31T01:30:00.000Z twice"
        ),
        "{err}"
    );
}

#[test]
fn calendar_shift_across_los_angeles_fall_back_takes_the_earlier_time() {
    // 3 November 2024: 01:00–02:00 happens twice; 01:30 takes PDT (-07:00).
    let times = shifted_a_week(
        "la-fall",
        chrono_tz::America::Los_Angeles,
        "2024-10-27",
        &["00:30", "01:30", "03:30"],
        "2024-10-27T00:00Z .. 2024-10-29T00:00Z",
    )
    .unwrap();
    assert_eq!(
        times,
        [
            "2024-11-03T07:30:00.000Z",
            "2024-11-03T08:30:00.000Z",
            "2024-11-03T11:30:00.000Z"
        ]
    );
}

#[test]
fn calendar_shift_across_oslo_fall_back_and_los_angeles_spring_forward() {
    let times = shifted_a_week(
        "oslo-fall",
        chrono_tz::Europe::Oslo,
        "2024-10-20",
        &["01:30", "02:30", "03:30"],
        "2024-10-19T00:00Z .. 2024-10-21T00:00Z",
    )
    .unwrap();
    // 27 October: 02:30 occurs twice and takes the earlier (+02:00).
    assert_eq!(
        times,
        [
            "2024-10-26T23:30:00.000Z",
            "2024-10-27T00:30:00.000Z",
            "2024-10-27T02:30:00.000Z"
        ]
    );
    let times = shifted_a_week(
        "la-spring",
        chrono_tz::America::Los_Angeles,
        "2024-03-03",
        &["01:30", "03:30"],
        "2024-03-03T00:00Z .. 2024-03-05T00:00Z",
    )
    .unwrap();
    // 10 March 2024: 01:30 is PST (-08:00), 03:30 is PDT (-07:00).
    assert_eq!(
        times,
        ["2024-03-10T09:30:00.000Z", "2024-03-10T10:30:00.000Z"]
    );
}

#[test]
fn extrapolation_continues_a_known_trend_without_a_seam() {
    let s = Scratch::new("trend");
    // v = 100 + 2·hour, hourly, for two days.
    let mut csv = String::from("ts,device,v\n");
    let t0 = outatime::parse_timestamp("2024-03-01T00:00:00Z").unwrap().0;
    for h in 0..48 {
        let t = outatime::Instant(t0 + h * 3_600_000_000_000);
        csv.push_str(&format!("{t},d1,{}\n", 100 + 2 * h));
    }
    s.file("m.csv", &csv);
    let scenario = "scenario \"t\"\nsource m csv \"m.csv\" {\n  time ts\n  dimensions device\n  measures v double\n}\ntable theta\nreplay m into theta {\n  shift end to now\n}\nextrapolate m.v into theta {\n  learn 2024-03-01T00:00Z .. 2024-03-03T00:00Z\n  from now + 1h for 3h every 1h\n}\n";
    let stream = s
        .records(
            &scenario.replace("every 1h\n}", "every 1h\n  model trend\n}"),
            ANCHOR,
        )
        .unwrap();
    let values: Vec<f64> = stream.lines().map(|l| value(l, "v")).collect();
    // The replay ends at now with 194 (hour 47); the extrapolation goes on
    // from the learned window's end (hour 48) mapped to now + 1h.
    assert_eq!(values[47], 194.0);
    for (i, v) in values[48..].iter().enumerate() {
        let expected = 196.0 + 2.0 * i as f64;
        assert!((v - expected).abs() < 1e-6, "hour {i}: {v} vs {expected}");
    }
}

const ANOMALIES: &str = r#"scenario "anomalies"
seed 3
table iota

generate into iota {
  series d = "x"
  series d = "y"
  from now to now + 60m every 1m
  measure v double = constant(value: 10)
  measure n bigint = constant(value: 100)
}
"#;

fn with(anomaly: &str) -> String {
    format!("{ANOMALIES}\n{anomaly}\n")
}

fn v_series(stream: &str, series: &str, measure: &str) -> Vec<f64> {
    stream
        .lines()
        .filter(|l| l.contains(&format!("\"d\":\"{series}\"")))
        .map(|l| value(l, measure))
        .collect()
}

#[test]
fn value_anomalies_change_only_their_window_series_and_measure() {
    let s = Scratch::new("anomalies");
    let run = |a: &str| s.records(&with(a), ANCHOR).unwrap();
    let spike = run(
        "anomaly spike on iota.v {\n  where d == \"x\"\n  at now + 10m for 5m\n  magnitude 2.5\n}",
    );
    let x = v_series(&spike, "x", "v");
    assert_eq!(&x[9..16], &[10.0, 12.5, 12.5, 12.5, 12.5, 12.5, 10.0]);
    assert!(v_series(&spike, "y", "v").iter().all(|v| *v == 10.0));
    assert!(v_series(&spike, "x", "n").iter().all(|v| *v == 100.0));

    let scale = run("anomaly scale on iota.n {\n  at now for 2m\n  factor 1.5\n}");
    assert_eq!(&v_series(&scale, "y", "n")[..3], &[150.0, 150.0, 100.0]);

    let offset = run("anomaly offset on iota.v {\n  at now + 59m for 1h\n  delta -3\n}");
    assert_eq!(*v_series(&offset, "x", "v").last().unwrap(), 7.0);

    let drift = run("anomaly drift on iota.v {\n  at now + 10m for 10m\n  rate 1 per 1m\n}");
    assert_eq!(&v_series(&drift, "x", "v")[10..13], &[10.0, 11.0, 12.0]);

    let clip = run("anomaly clip on iota.v {\n  at now for 1h\n  max 4\n}");
    assert!(v_series(&clip, "x", "v").iter().all(|v| *v == 4.0));

    let flat = run("anomaly flatline on iota.v {\n  at now + 5m for 5m\n  value 1\n}");
    assert_eq!(
        &v_series(&flat, "x", "v")[4..11],
        &[10.0, 1.0, 1.0, 1.0, 1.0, 1.0, 10.0]
    );

    let point = run("anomaly spike on iota.v {\n  at now + 90s\n  magnitude 1\n}");
    let x = v_series(&point, "x", "v");
    assert_eq!(
        x.iter().filter(|v| **v == 11.0).count(),
        1,
        "only the first record at or after T"
    );
    assert_eq!(x[2], 11.0);
}

#[test]
fn noise_and_outliers_are_random_but_repeatable() {
    let s = Scratch::new("noise");
    let noisy = with("anomaly noise on iota.v {\n  at now for 30m\n  sigma 1\n}");
    let a = s.records(&noisy, ANCHOR).unwrap();
    assert_eq!(a, s.records(&noisy, ANCHOR).unwrap());
    let x = v_series(&a, "x", "v");
    assert!(x[..30].iter().filter(|v| **v != 10.0).count() == 30);
    assert!(x[30..].iter().all(|v| *v == 10.0));
    let outliers =
        with("anomaly outliers on iota.v {\n  at now for 1h\n  rate 0.5 magnitude 20\n}");
    let o = s.records(&outliers, ANCHOR).unwrap();
    let changed: Vec<f64> = v_series(&o, "x", "v")
        .into_iter()
        .chain(v_series(&o, "y", "v"))
        .filter(|v| *v != 10.0)
        .collect();
    assert!(
        (30..=90).contains(&changed.len()),
        "about half of 120 records: {}",
        changed.len()
    );
    assert!(changed.iter().all(|v| *v == 30.0 || *v == -10.0));
}

#[test]
fn dropout_removes_records_or_one_measure_and_late_changes_nothing() {
    let s = Scratch::new("dropout");
    let whole = s
        .records(
            &with("anomaly dropout on iota {\n  where d == \"y\"\n  at now for 10m\n}"),
            ANCHOR,
        )
        .unwrap();
    assert_eq!(v_series(&whole, "y", "v").len(), 50);
    assert_eq!(v_series(&whole, "x", "v").len(), 60);
    let one = s
        .records(
            &with("anomaly dropout on iota.n {\n  at now for 10m\n}"),
            ANCHOR,
        )
        .unwrap();
    assert_eq!(one.lines().count(), 120);
    assert_eq!(one.lines().filter(|l| !l.contains("\"n\":")).count(), 20);
    let plain = s.records(ANOMALIES, ANCHOR).unwrap();
    let late = s
        .records(
            &with("anomaly late on iota {\n  at now for 10m\n  delay 5m\n}"),
            ANCHOR,
        )
        .unwrap();
    assert_eq!(plain, late);
}

#[test]
fn identical_records_from_two_steps_are_kept_once_and_different_ones_are_named() {
    let s = Scratch::new("dupes");
    let twice = format!(
        "{ANOMALIES}\ngenerate into iota {{\n  series d = \"x\"\n  from now to now + 5m every 1m\n  measure v double = constant(value: 10)\n}}\n"
    );
    assert_eq!(
        s.records(&twice, ANCHOR).unwrap(),
        s.records(ANOMALIES, ANCHOR).unwrap()
    );
    let merged = format!(
        "{ANOMALIES}\ngenerate into iota {{\n  series d = \"x\"\n  from now to now + 5m every 1m\n  measure w double = constant(value: 1)\n}}\n"
    );
    let stream = s.records(&merged, ANCHOR).unwrap();
    assert!(
        stream
            .lines()
            .next()
            .unwrap()
            .contains(r#""measures":{"n":100,"v":10.0,"w":1.0}"#),
        "{stream}"
    );
    let clash = format!(
        "{ANOMALIES}\ngenerate into iota {{\n  series d = \"x\"\n  from now to now + 5m every 1m\n  measure v double = constant(value: 11)\n}}\n"
    );
    let err = s.records(&clash, ANCHOR).unwrap_err();
    assert!(
        err.contains("the steps at lines 5 and 13 both write `v`"),
        "{err}"
    );
}

#[test]
fn a_plan_holds_offsets_and_summaries_not_records() {
    let s = Scratch::new("plan");
    let plan = s.plan(TWO_STEPS);
    assert!(plan.contains("schedule: now-2h .. now every 1m"), "{plan}");
    assert!(plan.contains("records: 252"), "{plan}");
    assert!(plan.contains("stream_digest: blake3:"), "{plan}");
    let bigger = TWO_STEPS.replace("now - 2h", "now - 200h");
    assert!(
        s.plan(&bigger).len() < plan.len() + 64,
        "the plan does not grow with records"
    );
}

#[test]
fn bad_source_rows_are_errors_with_their_place_or_skipped_when_allowed() {
    let s = Scratch::new("bad-rows");
    s.file("m.csv", "ts,device,v\n2024-03-12T00:00:00Z,d1,1\n2024-03-12T00:01:00Z,d1,oops\n2024-03-12T00:02:00Z,d1,3\n");
    let scenario = "scenario \"b\"\nsource m csv \"m.csv\" {\n  time ts\n  dimensions device\n  measures v bigint\n}\ntable kappa\nreplay m into kappa {\n  shift end to now\n}\n";
    let err = s.records(scenario, ANCHOR).unwrap_err();
    assert!(err.contains("m.csv:3"), "{err}");
    assert!(err.contains("column `v`"), "{err}");
    assert!(err.contains("oops"), "{err}");
    s.file("s.scenario", scenario);
    let options = outatime::ReadOptions {
        max_bad_rows: 1,
        ..read_options()
    };
    let loaded = outatime::load(&s.dir.join("s.scenario"), options, Style::PLAIN)
        .map_err(|f| f.text)
        .unwrap();
    assert_eq!(loaded.prepared.sources["m"].bad_rows, 1);
    let plan = outatime::to_yaml(
        &outatime::compile_plan(&loaded, Path::new(&s.dir))
            .map_err(|f| f.text)
            .unwrap(),
    )
    .unwrap();
    assert!(plan.contains("bad_rows: 1"), "{plan}");
    assert!(plan.contains("records: 2"), "{plan}");
}

#[test]
fn anomaly_draws_do_not_depend_on_which_other_series_exist() {
    let s = Scratch::new("noise-keys");
    let noisy =
        with("anomaly noise on iota.v {\n  where d == \"x\"\n  at now for 30m\n  sigma 1\n}");
    let before = v_series(&s.records(&noisy, ANCHOR).unwrap(), "x", "v");
    // A series that sorts before `x` moves x's rank; its draws stay.
    let more = noisy.replace(
        "  series d = \"x\"\n",
        "  series d = \"a\"\n  series d = \"x\"\n",
    );
    let after = v_series(&s.records(&more, ANCHOR).unwrap(), "x", "v");
    assert_eq!(before, after);
}

#[test]
fn a_conflict_names_the_step_that_wrote_the_measure() {
    let s = Scratch::new("conflict-lines");
    let text = format!(
        "{ANOMALIES}\ngenerate into iota {{\n  series d = \"x\"\n  from now to now + 1m every 1m\n  measure w double = constant(value: 7)\n}}\n\ngenerate into iota {{\n  series d = \"x\"\n  from now to now + 1m every 1m\n  measure n bigint = constant(value: 5)\n}}\n"
    );
    let err = s.records(&text, ANCHOR).unwrap_err();
    assert!(
        err.contains("the steps at lines 5 and 19 both write `n`"),
        "{err}"
    );
}

#[test]
fn an_extrapolation_shift_of_the_wrong_kind_is_refused_by_check() {
    let s = Scratch::new("extrapolate-shift");
    s.file("m.csv", &minute_csv("2024-03-12T00:00:00Z", 60));
    let text = "scenario \"x\"\nsource m csv \"m.csv\" {\n  time ts\n  dimensions device\n  measures v double\n}\ntable muon\nextrapolate m.v into muon {\n  learn 2024-03-12T00:00Z .. 2024-03-12T01:00Z\n  from now for 30m every 10m\n  SHIFT\n  model trend\n}\n";
    for bad in [
        "shift by 1d",
        "shift by 1 days in \"Europe/Oslo\"",
        "shift end to 2024-03-13T00:00Z",
    ] {
        let checked = outatime::check_text(&text.replace("SHIFT", bad), &s.dir);
        let codes: Vec<String> = checked.diagnostics.iter().map(|d| d.code()).collect();
        assert_eq!(codes, ["outatime::extrapolate::shift"], "{bad}");
    }
    let ok = s
        .records(&text.replace("SHIFT", "shift end to now - 1h"), ANCHOR)
        .unwrap();
    // v = minute of the learned hour; the learned end (01:00, where the
    // trend gives 60) maps to now - 1h, so now reads 02:00: 120.
    let first = value(ok.lines().next().unwrap(), "v");
    assert!((first - 120.0).abs() < 1e-6, "{first}");
}

#[test]
fn two_threads_write_byte_for_byte_what_one_thread_writes() {
    let s = Scratch::new("threads");
    s.file("m.csv", &minute_csv("2024-03-12T00:00:00Z", 5_000));
    let scenario = format!(
        "{TWO_STEPS}\nsource m csv \"m.csv\" {{\n  time ts\n  dimensions device\n  measures v double\n}}\nreplay m into alpha {{\n  shift end to now - 3h\n}}\n"
    );
    let loaded = s.load(&scenario).unwrap();
    let anchor = outatime::parse_timestamp(ANCHOR).unwrap().0;
    let mut one = JsonLines::new(Vec::new(), &loaded.prepared.catalog);
    loaded.prepared.run(anchor, &mut one).unwrap();
    let one = one.finish().unwrap();
    let two = JsonLines::new(Vec::new(), &loaded.prepared.catalog);
    let (two, _) = outatime::run_on_two_threads(&loaded.prepared, anchor, two).unwrap();
    let two = two.finish().unwrap();
    assert!(one.len() > 100_000);
    assert_eq!(one, two);
}

#[test]
fn a_point_anomaly_label_contains_the_record_it_changed_and_no_other() {
    let s = Scratch::new("point-label");
    // Between two samples: the spike lands on the record at now+3m.
    let text =
        with("anomaly spike on iota.v {\n  where d == \"x\"\n  at now + 2m30s\n  magnitude 5\n}");
    let stream = s.records(&text, ANCHOR).unwrap();
    let loaded = s.load(&text).unwrap();
    let anchor = outatime::parse_timestamp(ANCHOR).unwrap().0;
    let labels: serde_json::Value = serde_json::from_str(
        &outatime::labels(&loaded, anchor)
            .map_err(|f| f.text)
            .unwrap(),
    )
    .unwrap();
    let label = &labels[0];
    let instant = |text: &str| outatime::parse_timestamp(text).unwrap().0;
    let (from, to) = (
        instant(label["from"].as_str().unwrap()),
        instant(label["to"].as_str().unwrap()),
    );
    // A detector test checks `from <= t < to`: the changed record must
    // pass, and every other record of the series must not.
    let mut spiked_records = 0;
    for line in stream.lines().filter(|l| l.contains("\"d\":\"x\"")) {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let t = instant(record["time"].as_str().unwrap());
        let spiked = value(line, "v") == 15.0;
        spiked_records += usize::from(spiked);
        assert_eq!(from <= t && t < to, spiked, "{line} against {label}");
    }
    assert_eq!(spiked_records, 1, "{stream}");
    let plan = s.plan(&text);
    assert!(plan.contains("from: now+3m\n  to: now+3m1ns\n"), "{plan}");
}

/// An `unload` source whose measures leave their types to the export's
/// `*_metadata.json`, and one that disagrees with it.
#[test]
fn unload_measure_types_come_from_the_export_metadata() {
    let folder = scratch("types");
    let dir = folder.path();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ok/data");
    let untyped = r#"scenario "types"
source pumps unload "PATH/pumps_manifest.json" {
  time time
  dimensions device_id, site
  measures from measure_name value measure_value
}
table pumps_out
replay pumps into pumps_out { shift end to now }
"#
    .replace("PATH", &fixtures.display().to_string());
    let checked = outatime::check_text(&untyped, dir);
    assert!(checked.scenario.is_some(), "{:#?}", checked.diagnostics);
    let disagreeing = untyped.replace("value measure_value", "value measure_value bigint");
    let checked = outatime::check_text(&disagreeing, dir);
    let codes: Vec<String> = checked.diagnostics.iter().map(|d| d.code()).collect();
    assert_eq!(codes, ["outatime::source::measure_type"]);
}
