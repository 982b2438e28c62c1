//! Reading whole files through `read_rows`.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use super::*;
use crate::lang::literal::parse_timestamp;
use crate::lang::literal::{Ambiguous, Nonexistent};
use crate::validate::model::{EpochUnit, MeasureDef, MeasureType, SourceMeasures, TimeFormat};

/// A folder of its own under the temp dir, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("outatime-sources-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn wide(measures: &[(&str, MeasureType)]) -> SourceMeasures {
    SourceMeasures::Wide(
        measures
            .iter()
            .map(|(name, ty)| MeasureDef {
                name: name.to_string(),
                ty: *ty,
            })
            .collect(),
    )
}

fn fleet_measures() -> SourceMeasures {
    wide(&[
        ("temperature", MeasureType::Double),
        ("door_open", MeasureType::Boolean),
        ("battery", MeasureType::Bigint),
    ])
}

fn source(kind: SourceKind, path: &Path, dimensions: &[&str], measures: SourceMeasures) -> Source {
    Source {
        name: "fleet".into(),
        kind,
        path_written: path.display().to_string(),
        path: path.to_path_buf(),
        time_column: "ts".into(),
        time_format: TimeFormat::Rfc3339,
        timezone: Tz::UTC,
        nonexistent: Nonexistent::Shift,
        ambiguous: Ambiguous::Earlier,
        dimensions: dimensions.iter().map(|d| d.to_string()).collect(),
        measures,
    }
}

fn read(source: &Source, max_bad_rows: u64) -> (Vec<SourceRow>, Result<ReadSummary, DataError>) {
    let mut rows = Vec::new();
    let result = read_rows(source, ReadOptions { max_bad_rows }, &mut |row| {
        rows.push(row.clone())
    });
    (rows, result)
}

fn at(text: &str) -> Instant {
    parse_timestamp(text).unwrap()
}

fn row(time: &str, dimensions: &[&str], measures: &[(&str, Scalar)]) -> SourceRow {
    SourceRow {
        time: at(time),
        dimensions: dimensions.iter().map(|d| d.to_string()).collect(),
        measures: measures
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
    }
}

const FLEET_CSV: &str = "\
ts,device_id,site,temperature,door_open,battery
2024-03-12T08:00:00Z,fridge-7,oslo-1,4.1,false,97
2024-03-12T08:01:00Z,fridge-8,oslo-1,5.5,TRUE,-3
";

#[test]
fn csv_wide_rows_in_declaration_order() {
    let dir = Scratch::new("csv-wide");
    let path = dir.write("fleet.csv", FLEET_CSV);
    let (rows, summary) = read(
        &source(
            SourceKind::Csv,
            &path,
            &["site", "device_id"],
            fleet_measures(),
        ),
        0,
    );
    let summary = summary.unwrap();
    assert_eq!(
        rows,
        vec![
            row(
                "2024-03-12T08:00:00Z",
                &["oslo-1", "fridge-7"],
                &[
                    ("temperature", Scalar::Double(4.1)),
                    ("door_open", Scalar::Boolean(false)),
                    ("battery", Scalar::Bigint(97)),
                ]
            ),
            row(
                "2024-03-12T08:01:00Z",
                &["oslo-1", "fridge-8"],
                &[
                    ("temperature", Scalar::Double(5.5)),
                    ("door_open", Scalar::Boolean(true)),
                    ("battery", Scalar::Bigint(-3)),
                ]
            ),
        ]
    );
    assert_eq!(summary.rows, 2);
    assert_eq!(summary.bad_rows, 0);
    assert!(summary.skipped.is_empty());
    let expected = blake3::hash(FLEET_CSV.as_bytes()).to_hex();
    assert_eq!(summary.digest, format!("blake3:{expected}"));
}

#[test]
fn csv_long_rows_one_measure_a_row() {
    let dir = Scratch::new("csv-long");
    let path = dir.write(
        "long.csv",
        "device,ts,measure_name,measure_value::double\n\
         a,2024-03-12T08:00:00Z,temperature,4.5\n\
         a,2024-03-12T08:00:00Z,humidity,40\n\
         a,2024-03-12T08:01:00Z,humidity,\n",
    );
    let measures = SourceMeasures::Long {
        name_column: "measure_name".into(),
        value_column: "measure_value::double".into(),
        ty: MeasureType::Double,
    };
    let (rows, summary) = read(&source(SourceKind::Csv, &path, &["device"], measures), 0);
    summary.unwrap();
    assert_eq!(
        rows,
        vec![
            row(
                "2024-03-12T08:00:00Z",
                &["a"],
                &[("temperature", Scalar::Double(4.5))]
            ),
            row(
                "2024-03-12T08:00:00Z",
                &["a"],
                &[("humidity", Scalar::Double(40.0))]
            ),
            row("2024-03-12T08:01:00Z", &["a"], &[]),
        ]
    );
}

#[test]
fn csv_empty_cells_give_empty_dimension_and_no_measure() {
    let dir = Scratch::new("csv-empty");
    let path = dir.write(
        "fleet.csv",
        "ts,device_id,site,temperature,door_open,battery,note\n\
         2024-03-12T08:00:00Z,,oslo-1,,true,  ,\n\
         2024-03-12T08:00:00Z,\"\",\"\",\"\",,,\" \"\n",
    );
    let mut measures = fleet_measures();
    if let SourceMeasures::Wide(defs) = &mut measures {
        defs.push(MeasureDef {
            name: "note".into(),
            ty: MeasureType::Varchar,
        });
    }
    let (rows, summary) = read(
        &source(SourceKind::Csv, &path, &["device_id", "site"], measures),
        0,
    );
    summary.unwrap();
    assert_eq!(
        rows,
        vec![
            row(
                "2024-03-12T08:00:00Z",
                &["", "oslo-1"],
                &[("door_open", Scalar::Boolean(true))]
            ),
            row(
                "2024-03-12T08:00:00Z",
                &["", ""],
                &[("note", Scalar::Varchar(" ".into()))]
            ),
        ]
    );
}

#[test]
fn csv_missing_column_names_it_and_lists_the_header() {
    let dir = Scratch::new("csv-missing");
    let path = dir.write("fleet.csv", "ts,device_id,temprature,door_open,battery\n");
    let (_, result) = read(
        &source(
            SourceKind::Csv,
            &path,
            &["device_id", "site"],
            fleet_measures(),
        ),
        0,
    );
    let error = result.unwrap_err();
    assert_eq!(error.file, path);
    assert_eq!(error.line, 1);
    assert_eq!(error.column.as_deref(), Some("site"));
    assert_eq!(
        error.reason,
        "column `site` is not in the header (nor is `temperature`); \
         the header has `ts`, `device_id`, `temprature`, `door_open`, `battery`"
    );
    assert!(
        error
            .help
            .unwrap()
            .contains("name columns of the first row")
    );
}

#[test]
fn csv_missing_column_suggests_a_near_name() {
    let dir = Scratch::new("csv-near");
    let path = dir.write(
        "fleet.csv",
        "ts,device_id,site,temprature,door_open,battery\n",
    );
    let (_, result) = read(
        &source(SourceKind::Csv, &path, &["site"], fleet_measures()),
        0,
    );
    let error = result.unwrap_err();
    assert_eq!(error.column.as_deref(), Some("temperature"));
    assert!(
        error
            .help
            .unwrap()
            .starts_with("did you mean `temprature`?")
    );
}

#[test]
fn csv_empty_file_has_no_header() {
    let dir = Scratch::new("csv-no-header");
    let path = dir.write("fleet.csv", "");
    let (_, result) = read(&source(SourceKind::Csv, &path, &[], fleet_measures()), 0);
    let error = result.unwrap_err();
    assert_eq!((error.line, error.column), (0, None));
    assert_eq!(
        error.reason,
        "the file has no header row naming its columns"
    );
}

#[test]
fn csv_header_only_gives_no_rows_and_bom_is_ignored() {
    let dir = Scratch::new("csv-bom");
    let path = dir.write(
        "fleet.csv",
        "\u{feff}ts,site,temperature,door_open,battery\r\n",
    );
    let (rows, summary) = read(
        &source(SourceKind::Csv, &path, &["site"], fleet_measures()),
        0,
    );
    assert_eq!(summary.unwrap().rows, 0);
    assert!(rows.is_empty());
}

#[test]
fn csv_blank_lines_and_padded_header_names() {
    let dir = Scratch::new("csv-blank");
    let path = dir.write(
        "fleet.csv",
        "ts, site ,temperature,door_open,battery\r\n\r\n2024-03-12T08:00:00Z,a,1,1,1\r\n\r\n",
    );
    let (rows, summary) = read(
        &source(SourceKind::Csv, &path, &["site"], fleet_measures()),
        0,
    );
    assert_eq!(summary.unwrap().rows, 1);
    assert_eq!(rows[0].dimensions, vec!["a"]);
}

#[test]
fn jsonl_skips_a_byte_order_mark() {
    let dir = Scratch::new("jsonl-bom");
    let path = dir.write("fleet.jsonl", "\u{feff}{\"ts\":\"2024-03-12T08:00:00Z\"}\n");
    let (rows, summary) = read(&source(SourceKind::Jsonl, &path, &[], fleet_measures()), 0);
    summary.unwrap();
    assert_eq!(rows, vec![row("2024-03-12T08:00:00Z", &[], &[])]);
}

#[test]
fn csv_bad_value_has_exact_line_and_column() {
    let dir = Scratch::new("csv-bad-value");
    // A quoted field spanning two lines moves every later line number.
    let path = dir.write(
        "fleet.csv",
        "ts,site,temperature,door_open,battery\n\
         2024-03-12T08:00:00Z,\"oslo\n1\",4.1,false,97\n\
         2024-03-12T08:01:00Z,oslo-1,4.1,false,97.5\n",
    );
    let (rows, result) = read(
        &source(SourceKind::Csv, &path, &["site"], fleet_measures()),
        0,
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].dimensions, vec!["oslo\n1"]);
    let error = result.unwrap_err();
    assert_eq!(
        error,
        DataError {
            file: path.clone(),
            line: 4,
            column: Some("battery".into()),
            reason: "`97.5` has a fraction, so it is not a bigint".into(),
            help: Some(
                "a bigint is a whole number such as `42`; declare the measure `double` if it has fractions"
                    .into()
            ),
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "{}:4: column `battery`: `97.5` has a fraction, so it is not a bigint",
            path.display()
        )
    );
}

#[test]
fn csv_bad_time_quotes_the_text() {
    let dir = Scratch::new("csv-bad-time");
    let path = dir.write(
        "fleet.csv",
        "ts,site,temperature,door_open,battery\n12/03/2024 08:00,oslo-1,4.1,false,97\n,oslo-1,4.1,false,97\n",
    );
    let (_, result) = read(
        &source(SourceKind::Csv, &path, &["site"], fleet_measures()),
        5,
    );
    let summary = result.unwrap();
    let reasons: Vec<_> = summary
        .skipped
        .iter()
        .map(|e| (e.line, e.column.clone(), e.reason.clone()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                2,
                Some("ts".into()),
                "`12/03/2024 08:00` is not an RFC 3339 timestamp: the date is not of the form `YYYY-MM-DD`"
                    .into()
            ),
            (3, Some("ts".into()), "the time is empty".into()),
        ]
    );
}

#[test]
fn csv_epoch_beyond_i128_is_a_bad_row() {
    let dir = Scratch::new("csv-epoch-overflow");
    let path = dir.write(
        "fleet.csv",
        "ts,site,temperature,door_open,battery\n170141183460469231731687303715.999999999,oslo-1,1,1,1\n",
    );
    let mut epoch = source(SourceKind::Csv, &path, &["site"], fleet_measures());
    epoch.time_format = TimeFormat::Epoch(EpochUnit::Seconds);
    let (_, result) = read(&epoch, 0);
    let error = result.unwrap_err();
    assert_eq!((error.line, error.column.as_deref()), (2, Some("ts")));
    assert!(
        error.reason.contains("outside the instants"),
        "{}",
        error.reason
    );
}

#[test]
fn csv_wrong_field_count_is_a_bad_row() {
    let dir = Scratch::new("csv-fields");
    let path = dir.write(
        "fleet.csv",
        "ts,site,temperature,door_open,battery\n2024-03-12T08:00:00Z,oslo-1,4.1,false\n",
    );
    let (_, result) = read(
        &source(SourceKind::Csv, &path, &["site"], fleet_measures()),
        0,
    );
    let error = result.unwrap_err();
    assert_eq!((error.line, error.column), (2, None));
    assert_eq!(error.reason, "the row has 4 fields but the header has 5");
}

#[test]
fn csv_invalid_utf8_is_a_bad_cell() {
    let dir = Scratch::new("csv-utf8");
    let path = dir.0.join("fleet.csv");
    fs::write(
        &path,
        b"ts,site,temperature,door_open,battery\n2024-03-12T08:00:00Z,osl\xff,4.1,false,1\n",
    )
    .unwrap();
    let (_, result) = read(
        &source(SourceKind::Csv, &path, &["site"], fleet_measures()),
        0,
    );
    let error = result.unwrap_err();
    assert_eq!((error.line, error.column.as_deref()), (2, Some("site")));
    assert_eq!(error.reason, "the cell is not UTF-8 text");
}

#[test]
fn missing_file_is_a_file_error() {
    let dir = Scratch::new("missing-file");
    let path = dir.0.join("nope.csv");
    let (_, result) = read(&source(SourceKind::Csv, &path, &[], fleet_measures()), 3);
    let error = result.unwrap_err();
    assert_eq!((error.file, error.line), (path, 0));
    assert!(error.reason.starts_with("cannot open the file"));
}

#[test]
fn csv_other_time_formats() {
    let dir = Scratch::new("csv-formats");
    let path = dir.write(
        "fleet.csv",
        "ts,site,temperature,door_open,battery\n1710230400.5,oslo-1,1,1,1\n",
    );
    let mut epoch = source(SourceKind::Csv, &path, &["site"], fleet_measures());
    epoch.time_format = TimeFormat::Epoch(EpochUnit::Seconds);
    let (rows, summary) = read(&epoch, 0);
    summary.unwrap();
    assert_eq!(rows[0].time, at("2024-03-12T08:00:00.500Z"));

    let path = dir.write(
        "oslo.csv",
        "ts,site,temperature,door_open,battery\n31.03.2024 02:30,oslo-1,1,1,1\n",
    );
    let mut local = source(SourceKind::Csv, &path, &["site"], fleet_measures());
    local.time_format = TimeFormat::Strftime("%d.%m.%Y %H:%M".into());
    local.timezone = chrono_tz::Europe::Oslo;
    let (rows, summary) = read(&local, 0);
    summary.unwrap();
    assert_eq!(rows[0].time, at("2024-03-31T01:30:00Z"));
    local.nonexistent = Nonexistent::Error;
    let (_, result) = read(&local, 0);
    let error = result.unwrap_err();
    assert_eq!((error.line, error.column.as_deref()), (2, Some("ts")));
    assert!(error.reason.contains("daylight-saving gap"));
}

#[test]
fn bad_strftime_pattern_fails_before_reading() {
    let dir = Scratch::new("bad-pattern");
    let path = dir.write("fleet.csv", FLEET_CSV);
    let mut s = source(SourceKind::Csv, &path, &[], fleet_measures());
    s.time_format = TimeFormat::Strftime("%Q".into());
    let (_, result) = read(&s, 0);
    let error = result.unwrap_err();
    assert_eq!((error.line, error.column.as_deref()), (0, Some("ts")));
}

const FLEET_JSONL: &str = r#"{"ts":"2024-03-12T08:00:00Z","device_id":"fridge-7","site":7,"temperature":4.1,"door_open":false,"battery":97}

{"ts":"2024-03-12T08:01:00Z","device_id":null,"temperature":"5.5","door_open":"true","battery":"12","extra":[1]}
  {"ts":"2024-03-12T08:02:00Z","device_id":"x","site":"s","temperature":null,"door_open":1}
"#;

#[test]
fn jsonl_rows_from_strings_numbers_and_bools() {
    let dir = Scratch::new("jsonl");
    let path = dir.write("fleet.jsonl", FLEET_JSONL);
    let (rows, summary) = read(
        &source(
            SourceKind::Jsonl,
            &path,
            &["device_id", "site"],
            fleet_measures(),
        ),
        0,
    );
    let summary = summary.unwrap();
    assert_eq!(
        rows,
        vec![
            row(
                "2024-03-12T08:00:00Z",
                &["fridge-7", "7"],
                &[
                    ("temperature", Scalar::Double(4.1)),
                    ("door_open", Scalar::Boolean(false)),
                    ("battery", Scalar::Bigint(97)),
                ]
            ),
            row(
                "2024-03-12T08:01:00Z",
                &["", ""],
                &[
                    ("temperature", Scalar::Double(5.5)),
                    ("door_open", Scalar::Boolean(true)),
                    ("battery", Scalar::Bigint(12)),
                ]
            ),
            row(
                "2024-03-12T08:02:00Z",
                &["x", "s"],
                &[("door_open", Scalar::Boolean(true))]
            ),
        ]
    );
    assert_eq!(summary.rows, 3);
    assert_eq!(
        summary.digest,
        format!("blake3:{}", blake3::hash(FLEET_JSONL.as_bytes()).to_hex())
    );
}

#[test]
fn jsonl_long_rows_and_epoch_numbers() {
    let dir = Scratch::new("jsonl-long");
    let path = dir.write(
        "long.jsonl",
        "{\"ts\":1710230400000,\"name\":\"mode\",\"value\":\"eco\"}\n\
         {\"ts\":1710230400001,\"name\":\"mode\",\"value\":null}\n",
    );
    let mut s = source(
        SourceKind::Jsonl,
        &path,
        &[],
        SourceMeasures::Long {
            name_column: "name".into(),
            value_column: "value".into(),
            ty: MeasureType::Varchar,
        },
    );
    s.time_format = TimeFormat::Epoch(EpochUnit::Millis);
    let (rows, summary) = read(&s, 0);
    summary.unwrap();
    assert_eq!(
        rows,
        vec![
            row(
                "2024-03-12T08:00:00Z",
                &[],
                &[("mode", Scalar::Varchar("eco".into()))]
            ),
            row("2024-03-12T08:00:00.001Z", &[], &[]),
        ]
    );
}

#[test]
fn jsonl_bad_lines_have_their_line_numbers() {
    let dir = Scratch::new("jsonl-bad");
    let path = dir.write(
        "fleet.jsonl",
        "{\"ts\":\"2024-03-12T08:00:00Z\"}\n\
         \n\
         {\"ts\":\"2024-03-12T08:00:00Z\",\n\
         [1,2]\n\
         {\"site\":\"a\"}\n\
         {\"ts\":\"2024-03-12T08:00:00Z\",\"battery\":true}\n\
         {\"ts\":\"2024-03-12T08:00:00Z\",\"site\":{\"a\":1}}\n",
    );
    let (rows, summary) = read(
        &source(SourceKind::Jsonl, &path, &["site"], fleet_measures()),
        10,
    );
    let summary = summary.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(summary.bad_rows, 5);
    let places: Vec<_> = summary
        .skipped
        .iter()
        .map(|e| (e.line, e.column.as_deref(), e.reason.as_str()))
        .collect();
    assert_eq!(places[0].0, 3);
    assert!(
        places[0].2.starts_with("the line is not valid JSON"),
        "{}",
        places[0].2
    );
    assert_eq!(
        places[1],
        (4, None, "the line is an array, not a JSON object")
    );
    assert_eq!(places[2], (5, Some("ts"), "the time is empty"));
    assert_eq!(
        places[3],
        (6, Some("battery"), "`true` is a boolean, not a bigint")
    );
    assert_eq!(
        places[4],
        (7, Some("site"), "`{\"a\":1}` is an object, not text")
    );
}

/// A manifest as Timestream UNLOAD writes it.
fn manifest(urls: &[&str]) -> String {
    let files = urls
        .iter()
        .map(|url| {
            format!(
                r#"{{"url":"{url}","file_metadata":{{"content_length_in_bytes":100,"row_count":2}}}}"#
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    format!(
        r#"{{"result_files":[{files}],"query_metadata":{{"content_length_in_bytes":200,"total_row_count":4,"result_format":"CSV","result_version":"Amazon Timestream version 1.0.0"}},"author":{{"name":"Amazon Timestream","manifest_file_version":"1.0"}}}}"#
    )
}

const UNLOAD_PART_1: &str = "\
device_id,measure_name,time,measure_value::double
fridge-7,temperature,2024-02-01 05:33:50.000000000,4.1
fridge-7,humidity,2024-02-01 05:33:50.000000000,
";
const UNLOAD_PART_2: &str = "\
device_id,measure_name,time,measure_value::double
fridge-8,temperature,2024-02-01 05:34:00.125000000,3.9
";

fn unload_source(manifest_path: &Path) -> Source {
    let mut s = source(
        SourceKind::Unload,
        manifest_path,
        &["device_id"],
        SourceMeasures::Long {
            name_column: "measure_name".into(),
            value_column: "measure_value::double".into(),
            ty: MeasureType::Double,
        },
    );
    s.time_column = "time".into();
    s
}

#[test]
fn unload_manifest_names_files_beside_it() {
    let dir = Scratch::new("unload-beside");
    let manifest_text = manifest(&[
        "s3://bucket/exports/results/AEDQ_1_part1.csv",
        "s3://bucket/exports/results/AEDQ_1_part2.csv",
    ]);
    let manifest_path = dir.write("AEDQ_1_manifest.json", &manifest_text);
    dir.write("AEDQ_1_part1.csv", UNLOAD_PART_1);
    dir.write("AEDQ_1_part2.csv", UNLOAD_PART_2);
    let (rows, summary) = read(&unload_source(&manifest_path), 0);
    let summary = summary.unwrap();
    assert_eq!(
        rows,
        vec![
            row(
                "2024-02-01T05:33:50Z",
                &["fridge-7"],
                &[("temperature", Scalar::Double(4.1))]
            ),
            row("2024-02-01T05:33:50Z", &["fridge-7"], &[]),
            row(
                "2024-02-01T05:34:00.125Z",
                &["fridge-8"],
                &[("temperature", Scalar::Double(3.9))]
            ),
        ]
    );
    // The digest covers the manifest, then each file, in that order.
    let mut hasher = blake3::Hasher::new();
    for part in [manifest_text.as_str(), UNLOAD_PART_1, UNLOAD_PART_2] {
        hasher.update(part.as_bytes());
    }
    assert_eq!(
        summary.digest,
        format!("blake3:{}", hasher.finalize().to_hex())
    );
}

#[test]
fn unload_manifest_finds_results_folders() {
    let dir = Scratch::new("unload-results");
    // The S3 layout: PREFIX/metadata/..._manifest.json, PREFIX/results/...
    let manifest_path = dir.write(
        "export/metadata/Q_manifest.json",
        &manifest(&[
            "s3://b/export/results/Q_part1.csv.gz",
            "s3://b/export/results/Q_part2.csv",
        ]),
    );
    dir.write("export/results/Q_part1.csv", UNLOAD_PART_1);
    dir.write("export/metadata/results/Q_part2.csv", UNLOAD_PART_2);
    let (rows, summary) = read(&unload_source(&manifest_path), 0);
    assert_eq!(summary.unwrap().rows, 3);
    assert_eq!(rows[2].dimensions, vec!["fridge-8"]);
}

#[test]
fn unload_missing_or_compressed_result_file() {
    let dir = Scratch::new("unload-missing");
    let manifest_path = dir.write(
        "Q_manifest.json",
        &manifest(&["s3://b/p/results/Q_part9.csv"]),
    );
    let (rows, result) = read(&unload_source(&manifest_path), 5);
    assert!(rows.is_empty());
    let error = result.unwrap_err();
    assert_eq!((&error.file, error.line), (&manifest_path, 0));
    assert_eq!(
        error.reason,
        "result file `Q_part9.csv` (from `s3://b/p/results/Q_part9.csv`) is not on disk"
    );

    let manifest_path = dir.write(
        "G_manifest.json",
        &manifest(&["s3://b/p/results/G_part1.gz"]),
    );
    dir.write("results/G_part1.gz", "\u{1f}binary");
    let (_, result) = read(&unload_source(&manifest_path), 0);
    let error = result.unwrap_err();
    assert!(error.reason.contains("compressed"), "{}", error.reason);
}

#[test]
fn unload_manifest_errors() {
    let dir = Scratch::new("unload-manifest");
    let path = dir.write("X_manifest.json", "{\"result_files\": 3}");
    let (_, result) = read(&unload_source(&path), 0);
    assert!(
        result
            .unwrap_err()
            .reason
            .starts_with("the file is not an UNLOAD manifest")
    );
    let parquet = manifest(&[]).replace("\"CSV\"", "\"PARQUET\"");
    let path = dir.write("P_manifest.json", &parquet);
    let (_, result) = read(&unload_source(&path), 0);
    assert_eq!(
        result.unwrap_err().reason,
        "the export is in PARQUET; only CSV exports can be read"
    );
}

#[test]
fn unload_without_header_says_how_to_get_one() {
    let dir = Scratch::new("unload-no-header");
    let manifest_path = dir.write("Q_manifest.json", &manifest(&["s3://b/p/Q_part1.csv"]));
    dir.write(
        "Q_part1.csv",
        "fridge-7,temperature,2024-02-01 05:33:50.000000000,4.1\n",
    );
    let (_, result) = read(&unload_source(&manifest_path), 0);
    let error = result.unwrap_err();
    assert_eq!(error.file, dir.0.join("Q_part1.csv"));
    assert!(error.help.unwrap().contains("include_header = 'true'"));
}

fn fleet_rows(rows: usize, bad_every: usize) -> String {
    let mut text = String::from("ts,device_id,site,temperature,door_open,battery\n");
    for i in 0..rows {
        let battery = if bad_every > 0 && i % bad_every == bad_every - 1 {
            "x".to_string()
        } else {
            (i % 100).to_string()
        };
        writeln!(
            text,
            "2024-03-12T{:02}:{:02}:{:02}.{:03}Z,dev-{},site-{},{}.{},{},{battery}",
            (i / 3_600_000) % 24,
            (i / 60_000) % 60,
            (i / 1000) % 60,
            i % 1000,
            i % 50,
            i % 3,
            i % 40,
            i % 10,
            i % 2 == 0,
        )
        .unwrap();
    }
    text
}

#[test]
fn max_bad_rows_skips_and_counts_then_fails() {
    let dir = Scratch::new("max-bad");
    // Every 5th row of 60 is bad: 12 bad rows, on lines 6, 11, ..., 61.
    let path = dir.write("fleet.csv", &fleet_rows(60, 5));
    let s = source(
        SourceKind::Csv,
        &path,
        &["device_id", "site"],
        fleet_measures(),
    );

    let (rows, summary) = read(&s, 12);
    let summary = summary.unwrap();
    assert_eq!((rows.len(), summary.rows, summary.bad_rows), (48, 48, 12));
    assert_eq!(summary.skipped.len(), 10);
    let lines: Vec<u64> = summary.skipped.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![6, 11, 16, 21, 26, 31, 36, 41, 46, 51]);
    assert!(
        summary
            .skipped
            .iter()
            .all(|e| e.column.as_deref() == Some("battery"))
    );

    let (rows, result) = read(&s, 11);
    let error = result.unwrap_err();
    assert_eq!((error.line, error.column.as_deref()), (61, Some("battery")));
    assert_eq!(error.reason, "`x` is not a whole number");
    assert_eq!(rows.len(), 48);

    let (rows, result) = read(&s, 0);
    assert_eq!(result.unwrap_err().line, 6);
    assert_eq!(rows.len(), 4);
}

#[test]
fn digest_changes_when_one_byte_changes() {
    let dir = Scratch::new("digest");
    let path = dir.write("fleet.csv", FLEET_CSV);
    let s = source(SourceKind::Csv, &path, &["site"], fleet_measures());
    let (_, first) = read(&s, 0);
    let (_, again) = read(&s, 0);
    let first = first.unwrap().digest;
    assert_eq!(first, again.unwrap().digest);
    assert!(first.starts_with("blake3:") && first.len() == "blake3:".len() + 64);
    dir.write("fleet.csv", &FLEET_CSV.replace("4.1", "4.2"));
    let (_, changed) = read(&s, 0);
    assert_ne!(first, changed.unwrap().digest);
}

#[test]
fn a_large_file_streams() {
    let dir = Scratch::new("large");
    let path = dir.write("fleet.csv", &fleet_rows(200_000, 0));
    let s = source(
        SourceKind::Csv,
        &path,
        &["device_id", "site"],
        fleet_measures(),
    );
    let mut count = 0u64;
    let mut last = Instant(i64::MIN);
    let summary = read_rows(&s, ReadOptions::default(), &mut |row| {
        assert!(row.time > last);
        last = row.time;
        assert_eq!(row.measures.len(), 3);
        count += 1;
    })
    .unwrap();
    assert_eq!((count, summary.rows), (200_000, 200_000));
    let bytes = fs::read(&path).unwrap();
    assert_eq!(
        summary.digest,
        format!("blake3:{}", blake3::hash(&bytes).to_hex())
    );
}

/// `cargo test --release -- --ignored --nocapture sources` prints rows/s.
#[test]
#[ignore = "a benchmark: run it in release"]
fn bench_csv_rows_per_second() {
    const ROWS: usize = 1_000_000;
    let dir = Scratch::new("bench");
    let path = dir.0.join("fleet.csv");
    let mut file = std::io::BufWriter::new(fs::File::create(&path).unwrap());
    file.write_all(fleet_rows(ROWS, 0).as_bytes()).unwrap();
    file.flush().unwrap();
    drop(file);
    let s = source(
        SourceKind::Csv,
        &path,
        &["device_id", "site"],
        fleet_measures(),
    );
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let mut measures = 0usize;
        let summary = read_rows(&s, ReadOptions::default(), &mut |row| {
            measures += row.measures.len();
        })
        .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(summary.rows, ROWS as u64);
        println!(
            "sources: {ROWS} CSV rows ({} MB, {measures} measures) in {seconds:.3}s: {:.0} rows/s",
            fs::metadata(&path).unwrap().len() / 1_000_000,
            ROWS as f64 / seconds
        );
    }
}
