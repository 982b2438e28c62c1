//! Defects a new user hits reading sources (issue 11): the line a bad row
//! is reported on in files with Windows line endings, a logger's repeated
//! autumn hour in a local-time source, and a misspelt source column.

use crate::common::Run;

/// A scenario replaying `file` (a CSV or JSONL source) into one table.
fn scenario(kind: &str, file: &str, clauses: &str) -> String {
    format!(
        "scenario \"defects\"\n\
         source logger {kind} \"{file}\" {{\n  time ts\n{clauses}  dimensions dev\n  measures v double\n}}\n\
         table telemetry\n\
         replay logger into telemetry {{\n  shift end to now\n}}\n"
    )
}

/// `plan`'s first line of stderr for a source whose data is `data`.
fn first_error(name: &str, kind: &str, clauses: &str, data: &str) -> String {
    let file = format!("data.{kind}");
    let (code, _, stderr) = Run::new(name)
        .file("s.scenario", scenario(kind, &file, clauses))
        .file(&file, data)
        .args(&["plan", "s.scenario"])
        .run();
    assert_eq!(code, 1, "{stderr}");
    stderr.lines().next().unwrap_or_default().to_string()
}

/// Every kind of row error names the line the row is on, whatever the
/// file's line endings: the csv crate counts the line where its read began,
/// which in a CRLF file is the line before (the `\n` of the previous row is
/// read with the next one).
#[test]
fn bad_rows_name_their_line_with_lf_and_crlf() {
    let berlin = "  timezone \"Europe/Berlin\"\n  nonexistent error\n";
    let cases = [
        (
            "number",
            "",
            "2025-01-01T00:00Z,a,BAD",
            "column `v`: `BAD` is not a number",
        ),
        (
            "time",
            "",
            "yesterday,a,1",
            "column `ts`: `yesterday` is not an RFC 3339",
        ),
        (
            "gap",
            berlin,
            "2025-03-30T02:30:00,a,1",
            "falls in a daylight-saving gap",
        ),
        (
            "missing",
            "",
            "2025-01-01T00:02Z,a",
            "the row has 2 fields but the header has 3",
        ),
    ];
    for (what, clauses, bad, reason) in cases {
        for (ending, eol) in [("lf", "\n"), ("crlf", "\r\n")] {
            let data = [
                "ts,dev,v",
                "2025-01-01T00:01Z,a,1",
                bad,
                "2025-01-01T00:03Z,a,2",
            ]
            .map(|row| format!("{row}{eol}"))
            .concat();
            let line = first_error(&format!("crlf-{what}-{ending}"), "csv", clauses, &data);
            assert!(line.contains("data.csv:3"), "{what}, {ending}: {line}");
            assert!(line.contains(reason), "{what}, {ending}: {line}");
        }
    }
}

/// The example of the issue: the first data row of a CRLF file is line 2,
/// and like any row it may be skipped with `--max-bad-rows`.
#[test]
fn the_first_row_of_a_crlf_file_is_line_2() {
    let (code, _, stderr) = Run::new("crlf-first")
        .file("s.scenario", scenario("csv", "data.csv", ""))
        .file("data.csv", "ts,dev,v\r\n2025-01-01T00:00Z,a,BAD\r\n")
        .args(&["plan", "s.scenario"])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("data.csv:2, column `v`"), "{stderr}");
    assert!(stderr.contains("--max-bad-rows N"), "{stderr}");
}

/// Blank lines are lines: a row after them is reported where it is.
#[test]
fn rows_after_blank_lines_name_their_line() {
    for eol in ["\n", "\r\n"] {
        let data =
            format!("ts,dev,v{eol}{eol}2025-01-01T00:01Z,a,1{eol}{eol}{eol}yesterday,a,1{eol}");
        let line = first_error("blank-lines", "csv", "", &data);
        assert!(line.contains("data.csv:6, column `ts`"), "{eol:?}: {line}");
    }
}

/// JSON lines count lines alike with either ending.
#[test]
fn jsonl_bad_rows_name_their_line_with_lf_and_crlf() {
    for eol in ["\n", "\r\n"] {
        let data = [
            r#"{"ts": "2025-01-01T00:00Z", "dev": "a", "v": 1}"#,
            "",
            r#"{"ts": "2025-01-01T00:01Z", "dev": "a", "v": "BAD"}"#,
        ]
        .map(|row| format!("{row}{eol}"))
        .concat();
        let line = first_error("jsonl-lines", "jsonl", "", &data);
        assert!(line.contains("data.jsonl:3, column `v`"), "{eol:?}: {line}");
    }
}

/// A replay of `kind` source `file` naming `dimensions device`, where the
/// file has `device_id`, with a `where` on the file's real column.
fn misspelt(kind: &str, file: &str, extra: &str) -> String {
    format!(
        "scenario \"misspelt\"\n\
         source fleet {kind} \"{file}\" {{\n  time ts\n{extra}  dimensions device\n  measures temp double\n}}\n\
         table telemetry\n\
         replay fleet into telemetry {{\n  where device_id == \"a\"\n  shift end to now\n}}\n"
    )
}

#[test]
fn a_misspelt_csv_column_is_reported_at_the_source_with_the_header() {
    let (code, stdout, stderr) = Run::new("misspelt-csv")
        .file("s.scenario", misspelt("csv", "fleet.csv", ""))
        .file(
            "fleet.csv",
            "ts,device_id,temp\r\n2025-01-01T00:00Z,a,1\r\n",
        )
        .args(&["check", "s.scenario"])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("1 error, 0 warnings"), "{stdout}");
    assert!(
        stderr.contains("outatime::source::column_missing"),
        "{stderr}"
    );
    assert!(
        stderr.contains("column `device` is not in the header of `fleet.csv`"),
        "{stderr}"
    );
    assert!(stderr.contains("s.scenario:4:14"), "{stderr}");
    assert!(stderr.contains("did you mean `device_id`?"), "{stderr}");
    assert!(!stderr.contains("unknown dimension"), "{stderr}");
}

/// The header is read in the source's dialect; a column padded with
/// spaces is found, as reading the data finds it.
#[test]
fn the_header_is_read_in_the_source_dialect() {
    let text =
        misspelt("csv", "fleet.csv", "  delimiter \";\"\n").replace("device\n", "device_id\n");
    let (code, _, stderr) = Run::new("header-dialect")
        .file("s.scenario", text)
        .file("fleet.csv", "ts; device_id ;temp\n2025-01-01T00:00Z;a;1\n")
        .args(&["check", "s.scenario"])
        .run();
    assert_eq!(code, 0, "{stderr}");
}

/// A JSON lines file's fields come from its first objects: a field none of
/// them has is a warning (a later object may have it), at the source.
#[test]
fn a_misspelt_jsonl_field_is_a_warning_at_the_source() {
    let (code, stdout, stderr) = Run::new("misspelt-jsonl")
        .file("s.scenario", misspelt("jsonl", "fleet.jsonl", ""))
        .file(
            "fleet.jsonl",
            "{\"ts\": \"2025-01-01T00:00Z\", \"device_id\": \"a\", \"temp\": 1}\n",
        )
        .args(&["check", "s.scenario"])
        .run();
    assert!(
        stderr.contains("outatime::source::column_missing"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no object in the first 1 lines of `fleet.jsonl` has a field `device`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `device_id`?"), "{stderr}");
    // The source stays usable, so the `where` is checked against it.
    assert_eq!(code, 1, "{stdout}{stderr}");
}

/// A missing file keeps its own diagnostic, and nothing else about it.
#[test]
fn a_missing_file_keeps_todays_diagnostic() {
    let (code, _, stderr) = Run::new("misspelt-missing")
        .file("s.scenario", misspelt("csv", "nowhere.csv", ""))
        .args(&["check", "s.scenario"])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("source::file_missing"), "{stderr}");
    assert!(!stderr.contains("column_missing"), "{stderr}");
}

/// A logger's export in Berlin local time through the autumn change: the
/// hour 02:00–02:59 comes twice.
const AUTUMN: &str = "ts,dev,v\n\
    2024-10-27 01:30,a,1\n2024-10-27 02:00,a,2\n2024-10-27 02:30,a,3\n\
    2024-10-27 02:00,b,7\n\
    2024-10-27 02:00,a,4\n2024-10-27 02:30,a,5\n2024-10-27 03:00,a,6\n";

fn autumn(ambiguous: &str, args: &[&str]) -> (i32, String, String) {
    let text = format!(
        "scenario \"autumn\"\n\
         source logger csv \"autumn.csv\" {{\n  time ts format \"%Y-%m-%d %H:%M\"\n  \
         timezone \"Europe/Berlin\"\n  ambiguous {ambiguous}\n  dimensions dev\n  measures v double\n}}\n\
         table telemetry\n\
         replay logger into telemetry {{\n  shift by 0s\n}}\n"
    );
    Run::new(&format!("autumn-{ambiguous}"))
        .file("s.scenario", text)
        .file("autumn.csv", AUTUMN)
        .args(
            &[
                &["records", "--anchor", "2025-01-01T00:00:00Z"],
                args,
                &["s.scenario"],
            ]
            .concat(),
        )
        .run()
}

#[test]
fn ambiguous_in_order_reads_the_repeated_hour_as_the_logger_wrote_it() {
    let (code, stdout, stderr) = autumn("in_order", &[]);
    assert_eq!(code, 0, "{stderr}");
    let times: Vec<(&str, &str)> = stdout
        .lines()
        .map(|l| {
            let time = l
                .split("\"time\":\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let dev = l
                .split("\"dev\":\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (time, dev)
        })
        .collect();
    assert_eq!(
        times,
        vec![
            ("2024-10-26T23:30:00.000Z", "a"),
            ("2024-10-27T00:00:00.000Z", "a"),
            // Series `b` passes 02:00 once: the first pass, the earlier offset.
            ("2024-10-27T00:00:00.000Z", "b"),
            ("2024-10-27T00:30:00.000Z", "a"),
            ("2024-10-27T01:00:00.000Z", "a"),
            ("2024-10-27T01:30:00.000Z", "a"),
            ("2024-10-27T02:00:00.000Z", "a"),
        ]
    );
}

#[test]
fn ambiguous_earlier_collides_and_error_names_the_repeated_hour() {
    let (code, _, stderr) = autumn("earlier", &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("outatime::compile::conflict"), "{stderr}");
    // Skipped rows say why they were skipped, and the error offers in_order.
    let (code, _, stderr) = autumn("error", &["--max-bad-rows", "10"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(
            "autumn.csv:3: column `ts`: `2024-10-27 02:00` occurs twice in Europe/Berlin"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = autumn("error", &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("`ambiguous in_order`"), "{stderr}");
}

/// `plan` of a Berlin local-time source; `clause` is the source's
/// `ambiguous` line (or nothing), `steps` what follows the table.
fn autumn_plan(name: &str, clause: &str, data: &str, extra: &str) -> (i32, String) {
    let text = format!(
        "scenario \"autumn\"\n\
         source logger csv \"autumn.csv\" {{\n  time ts format \"%Y-%m-%d %H:%M\"\n  \
         timezone \"Europe/Berlin\"\n{clause}  dimensions dev\n  measures v double\n}}\n\
         table telemetry\n\
         replay logger into telemetry {{\n  shift by 0s\n}}\n{extra}"
    );
    let (code, _, stderr) = Run::new(name)
        .file("s.scenario", text)
        .file("autumn.csv", data)
        .file("other.csv", "ts,dev,v\n2024-10-27 02:00,a,9\n")
        .args(&["plan", "s.scenario"])
        .run();
    (code, stderr)
}

const TODAYS_HELP: &str = "help: narrow one step's window or `where`, or write the steps into different series with `set`";

/// The conflict `ambiguous earlier` or `later` makes of a logger's repeated
/// hour names the two rows, the clause that chose, and `in_order`.
#[test]
fn a_conflict_in_the_repeated_hour_names_its_rows_and_the_ambiguous_clause() {
    for policy in ["earlier", "later"] {
        let clause = format!("  ambiguous {policy}\n");
        let (code, stderr) = autumn_plan(&format!("repeated-{policy}"), &clause, AUTUMN, "");
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains("outatime::compile::conflict"), "{stderr}");
        assert!(
            stderr.contains("lines 3 and 6 of `autumn.csv` hold one local time of the hour Europe/Berlin repeats when daylight saving ends"),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("`ambiguous {policy}` (line 5) puts both passes")),
            "{stderr}"
        );
        assert!(
            stderr.contains("write `ambiguous in_order` there"),
            "{stderr}"
        );
        assert!(!stderr.contains(TODAYS_HELP), "{stderr}");
    }
}

/// Without an `ambiguous` clause the default chose: the help names the
/// source statement instead.
#[test]
fn without_an_ambiguous_clause_the_help_names_the_source() {
    let (code, stderr) = autumn_plan("repeated-default", "", AUTUMN, "");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("lines 3 and 6 of `autumn.csv`"), "{stderr}");
    assert!(
        stderr.contains("source `logger` (line 2) has no `ambiguous` clause, so `ambiguous earlier` puts both passes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("add `ambiguous in_order` to it"),
        "{stderr}"
    );
}

/// JSON lines count their lines from the first object (no header).
#[test]
fn a_json_lines_source_names_its_repeated_rows_too() {
    let data = "{\"ts\":\"2024-10-27 02:00\",\"dev\":\"a\",\"v\":2}\n\
                {\"ts\":\"2024-10-27 02:30\",\"dev\":\"a\",\"v\":3}\n\
                {\"ts\":\"2024-10-27 02:00\",\"dev\":\"a\",\"v\":4}\n";
    let text = "scenario \"autumn\"\n\
         source logger jsonl \"autumn.jsonl\" {\n  time ts format \"%Y-%m-%d %H:%M\"\n  \
         timezone \"Europe/Berlin\"\n  dimensions dev\n  measures v double\n}\n\
         table telemetry\n\
         replay logger into telemetry {\n  shift by 0s\n}\n";
    let (code, _, stderr) = Run::new("repeated-jsonl")
        .file("s.scenario", text)
        .file("autumn.jsonl", data)
        .args(&["plan", "s.scenario"])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("lines 1 and 3 of `autumn.jsonl`"),
        "{stderr}"
    );
    assert!(stderr.contains("`ambiguous in_order`"), "{stderr}");
}

/// A conflict the repeated hour does not explain keeps today's help: two
/// rows at 01:30 (once in Berlin) in a file that also repeats 02:00, and
/// two sources each giving one copy of 02:00 (each source's own order
/// cannot part them).
#[test]
fn a_conflict_the_repeated_hour_does_not_explain_keeps_its_help() {
    let data = "ts,dev,v\n2024-10-27 01:30,a,1\n2024-10-27 01:30,a,8\n\
                2024-10-27 02:00,a,2\n2024-10-27 02:00,a,4\n";
    let (code, stderr) = autumn_plan("repeated-not-cause", "  ambiguous earlier\n", data, "");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("as 1.0 and as 8.0"), "{stderr}");
    assert!(stderr.contains(TODAYS_HELP), "{stderr}");
    assert!(!stderr.contains("daylight saving"), "{stderr}");

    let other = "source other csv \"other.csv\" {\n  time ts format \"%Y-%m-%d %H:%M\"\n  \
                 timezone \"Europe/Berlin\"\n  dimensions dev\n  measures v double\n}\n\
                 replay other into telemetry {\n  shift by 0s\n}\n";
    let data = "ts,dev,v\n2024-10-27 02:00,a,2\n";
    let (code, stderr) = autumn_plan("repeated-two-sources", "", data, other);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("as 2.0 and as 9.0"), "{stderr}");
    assert!(stderr.contains(TODAYS_HELP), "{stderr}");
}

// Issue 18, item 12: no error or warning shows a redacted column's
// original value, however the row is broken.

/// A JSON lines source redacting `device_id`, whose rows hold `SECRETDEV…`
/// originals: line 2 is not JSON, line 3 gives the dimension as an object.
const REDACTED_JSONL: &str = concat!(
    r#"{"device_id":"SECRETDEVALPHA","ts":"2024-01-01T00:00:00Z","v":1.0}"#,
    "\n",
    r#"{"device_id":"SECRETDEVALPHA","ts":"2024-01-01T00:01:00Z","v":oops}"#,
    "\n",
    r#"{"device_id":{"id":"SECRETDEVBRAVO"},"ts":"2024-01-01T00:02:00Z","v":2.0}"#,
    "\n",
    r#"{"device_id":"SECRETDEVALPHA","ts":"2024-01-01T00:03:00Z","v":3.0}"#,
    "\n",
);

fn redacted_jsonl(name: &str) -> Run {
    Run::new(name)
        .file(
            "s.scenario",
            "scenario \"redacted\"\n\
             source s jsonl \"d.jsonl\" {\n  time ts\n  dimensions device_id\n  \
             measures v double\n  redact device_id\n}\n\
             table telemetry\n\
             replay s into telemetry {\n  shift end to now\n}\n",
        )
        .file("d.jsonl", REDACTED_JSONL)
        .env("OUTATIME_REDACT_SALT", "k")
}

#[test]
fn a_bad_jsonl_row_never_shows_a_redacted_original() {
    let anchor = ["--anchor", "2026-01-01T00:00:00Z"];
    let commands: [&[&str]; 3] = [
        &["plan", "s.scenario"],
        &["records", "s.scenario", anchor[0], anchor[1]],
        &["apply", "s.scenario", anchor[0], anchor[1]],
    ];
    for command in commands {
        for budget in [None, Some("5")] {
            let mut args = command.to_vec();
            if let Some(budget) = budget {
                args.extend(["--max-bad-rows", budget]);
            }
            let run = redacted_jsonl("redacted-jsonl");
            let (code, stdout, stderr) = run.clone().args(&args).run();
            let expected = if budget.is_some() { 0 } else { 1 };
            assert_eq!(code, expected, "{args:?}: {stderr}");
            assert!(stderr.contains("d.jsonl:2"), "{args:?}: {stderr}");
            if budget.is_some() {
                // Both bad rows are listed in the warning.
                assert!(stderr.contains("d.jsonl:3"), "{args:?}: {stderr}");
                assert!(
                    stderr.contains("column `device_id`: the value is an object, not text"),
                    "{args:?}: {stderr}"
                );
            }
            for text in [&stdout, &stderr] {
                assert!(!text.contains("SECRETDEV"), "{args:?}: {text}");
            }
            let written = run.dir.join("outatime-out/telemetry.jsonl");
            if let Ok(records) = std::fs::read_to_string(written) {
                assert!(!records.contains("SECRETDEV"), "{records}");
            }
        }
    }
}

/// Without `redact`, the bad line is still quoted: it helps find it.
#[test]
fn a_bad_jsonl_row_of_a_source_without_redaction_is_quoted() {
    let (code, _, stderr) = Run::new("unredacted-jsonl")
        .file(
            "s.scenario",
            scenario("jsonl", "d.jsonl", "").replace("dimensions dev", "dimensions device_id"),
        )
        .file("d.jsonl", REDACTED_JSONL)
        .args(&["plan", "s.scenario"])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("d.jsonl:2"), "{stderr}");
    assert!(stderr.contains("the line is not valid JSON"), "{stderr}");
    assert!(
        stderr.contains("`{\"device_id\":\"SECRETDEVALPHA\""),
        "{stderr}"
    );
}

// Issue 18, item 13: one line or cell is bounded; a longer one is refused
// naming its file and line, before it is read whole.

#[test]
fn a_jsonl_line_longer_than_the_limit_is_refused() {
    let mut data = String::from("{\"ts\": \"2025-01-01T00:00Z\", \"dev\": \"a\", \"v\": 1}\n");
    data.push_str(&format!(
        "{{\"ts\": \"2025-01-01T00:01Z\", \"dev\": \"{}\", \"v\": 2}}\n",
        "x".repeat(2 << 20)
    ));
    for budget in ["0", "5"] {
        let (code, _, stderr) = Run::new("jsonl-long-line")
            .file("s.scenario", scenario("jsonl", "data.jsonl", ""))
            .file("data.jsonl", &data)
            .args(&["plan", "s.scenario", "--max-bad-rows", budget])
            .run();
        assert_eq!(code, 1, "{stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.contains("data.jsonl:2"), "{first}");
        assert!(first.contains("the line is longer than 1 MiB"), "{first}");
        assert!(stderr.contains("docs/limits.md"), "{stderr}");
    }
}

#[test]
fn a_csv_record_longer_than_the_limit_is_refused() {
    // A cell of 2 MiB, quoted, with line breaks in it: one record.
    let cell = "y\n".repeat(1 << 20);
    let data = format!("ts,dev,v\n2025-01-01T00:00Z,a,1\n2025-01-01T00:01Z,\"{cell}\",2\n");
    let line = first_error("csv-long-cell", "csv", "", &data);
    assert!(line.contains("data.csv:3"), "{line}");
    assert!(line.contains("the line is longer than 1 MiB"), "{line}");
    // A header as long is refused as well, by `check` too.
    let data = format!("ts,dev,v,{}\n2025-01-01T00:00Z,a,1,\n", "h".repeat(2 << 20));
    let (code, _, stderr) = Run::new("csv-long-header")
        .file("s.scenario", scenario("csv", "data.csv", ""))
        .file("data.csv", &data)
        .args(&["plan", "s.scenario"])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("data.csv:1"), "{stderr}");
    assert!(stderr.contains("the line is longer than 1 MiB"), "{stderr}");
}

/// Two rows of one series on one instant never vanish, whatever their
/// values: the repeated hour read with the default `ambiguous earlier`,
/// every value equal (a stuck sensor), is the conflict it is with
/// different values, not 12 records of 18 rows.
#[test]
fn equal_values_in_the_repeated_hour_are_a_conflict_not_a_silent_merge() {
    let data = "ts,dev,v\n\
                2024-10-27 01:30,a,-18.0\n2024-10-27 02:00,a,-18.0\n2024-10-27 02:30,a,-18.0\n\
                2024-10-27 02:00,a,-18.0\n2024-10-27 02:30,a,-18.0\n2024-10-27 03:00,a,-18.0\n";
    let (code, stderr) = autumn_plan("repeated-equal", "", data, "");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("outatime::compile::conflict"), "{stderr}");
    assert!(
        stderr.contains(
            "twice, as -18.0 both times: two rows of one series at one instant are never merged"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "lines 3 and 5 of `autumn.csv` hold one local time of the hour Europe/Berlin repeats"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("add `ambiguous in_order` to it"),
        "{stderr}"
    );
}

/// An exact duplicate row of one series is a conflict too, not one record.
#[test]
fn an_exact_duplicate_row_is_a_conflict() {
    let (code, _, stderr) = Run::new("duplicate-row")
        .file(
            "s.scenario",
            "scenario \"dup\"\nsource m csv \"m.csv\" {\n  time ts\n  dimensions dev\n  measures v double\n}\ntable telemetry\nreplay m into telemetry {\n}\n",
        )
        .file(
            "m.csv",
            "ts,dev,v\n2024-03-12T00:00:00Z,a,1.5\n2024-03-12T00:01:00Z,a,2\n2024-03-12T00:01:00Z,a,2\n",
        )
        .args(&["records", "s.scenario", "--anchor", "2025-01-01T00:00:00Z"])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "the step at line 8 writes `v` of {dev=\"a\"} in table `telemetry` at 2024-03-12T00:01:00.000Z twice, as 2.0 both times"
        ),
        "{stderr}"
    );
}

/// A vendor export sorted by local time interleaves the two passes through
/// the repeated hour; `ambiguous in_order` cannot part them, and the
/// conflict's help says why instead of today's generic one.
#[test]
fn an_export_sorted_by_local_time_gets_the_in_order_help() {
    let data = "ts,dev,v\n\
                2024-10-27 01:30,a,1\n2024-10-27 02:00,a,2\n2024-10-27 02:00,a,4\n\
                2024-10-27 02:30,a,3\n2024-10-27 02:30,a,5\n2024-10-27 03:00,a,6\n";
    let (code, stderr) = autumn_plan("repeated-sorted", "  ambiguous in_order\n", data, "");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("outatime::compile::conflict"), "{stderr}");
    assert!(!stderr.contains(TODAYS_HELP), "{stderr}");
    assert!(
        stderr.contains("lines 5 and 6 of `autumn.csv` hold one local time of the hour Europe/Berlin repeats when daylight saving ends"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`ambiguous in_order` (line 5) reads each series' passes through that hour in file order, but this file interleaves them (it is sorted by local time)"),
        "{stderr}"
    );
}
