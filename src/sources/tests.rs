//! Reading whole files through `read_rows`.
//!
//! Each test writes its input into a scratch folder as a [`Fixture`], reads
//! it, and compares the rows (built with [`row`]) or an error's [`place`].

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use super::*;
use crate::lang::literal::parse_timestamp;
use crate::lang::literal::{Ambiguous, Nonexistent};
use crate::model::Scalar::{Bigint, Boolean, Double, Varchar};
use crate::model::{CsvDialect, EpochUnit, MeasureDef, MeasureType, SourceMeasures, TimeFormat};

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

    fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
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

/// The wide measures of the fleet files, in declaration order.
const FLEET_MEASURES: &[(&str, MeasureType)] = &[
    ("temperature", MeasureType::Double),
    ("door_open", MeasureType::Boolean),
    ("battery", MeasureType::Bigint),
];

fn wide(measures: &[(&str, MeasureType)]) -> SourceMeasures {
    SourceMeasures::Wide(
        measures
            .iter()
            .map(|(name, ty)| MeasureDef {
                name: name.to_string(),
                table_name: name.to_string(),
                ty: *ty,
            })
            .collect(),
    )
}

fn long(name_column: &str, value_column: &str, ty: MeasureType) -> SourceMeasures {
    SourceMeasures::Long {
        name_column: name_column.into(),
        value_column: value_column.into(),
        ty,
    }
}

/// A source named `fleet` timed by an RFC 3339 column `ts` in UTC.
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
        line: 1,
        ambiguous_line: None,
        dimensions: dimensions.iter().map(|d| d.to_string()).collect(),
        dimension_names: dimensions.iter().map(|d| d.to_string()).collect(),
        measures,
        dialect: CsvDialect::default_for(kind),
        redact: None,
    }
}

fn read(source: &Source, max_bad_rows: u64) -> (Vec<SourceRow>, Result<ReadSummary, DataError>) {
    let mut rows = Vec::new();
    let result = read_rows(
        source,
        &ReadOptions {
            max_bad_rows,
            ..Default::default()
        },
        &mut |row| rows.push(row.clone()),
    );
    (rows, result)
}

/// One file written into a scratch folder and the source that reads it; the
/// folder lives as long as the fixture.
struct Fixture {
    dir: Scratch,
    source: Source,
}

impl Fixture {
    /// `text` as `file`, read with `dimensions` and the fleet measures.
    fn new(
        test: &str,
        kind: SourceKind,
        file: &str,
        text: impl AsRef<[u8]>,
        dimensions: &[&str],
    ) -> Fixture {
        let dir = Scratch::new(test);
        let path = dir.write(file, text);
        let source = source(kind, &path, dimensions, wide(FLEET_MEASURES));
        Fixture { dir, source }
    }

    /// `text` as `fleet.csv`.
    fn csv(test: &str, text: impl AsRef<[u8]>, dimensions: &[&str]) -> Fixture {
        Fixture::new(test, SourceKind::Csv, "fleet.csv", text, dimensions)
    }

    /// `rows` under the header `ts,site,temperature,door_open,battery`,
    /// with the dimension `site`.
    fn site_csv(test: &str, rows: &str) -> Fixture {
        let text = format!("ts,site,temperature,door_open,battery\n{rows}");
        Fixture::csv(test, text, &["site"])
    }

    /// `text` as `fleet.jsonl`.
    fn jsonl(test: &str, text: &str, dimensions: &[&str]) -> Fixture {
        Fixture::new(test, SourceKind::Jsonl, "fleet.jsonl", text, dimensions)
    }

    /// A manifest at `manifest_file`, read as Timestream exports a table:
    /// `time`, the dimension `device_id`, long `double` measures. The tests
    /// write its result files with `write`.
    fn unload(test: &str, manifest_file: &str, manifest_text: &str) -> Fixture {
        let mut export = Fixture::new(
            test,
            SourceKind::Unload,
            manifest_file,
            manifest_text,
            &["device_id"],
        )
        .with_measures(long(
            "measure_name",
            "measure_value::double",
            MeasureType::Double,
        ));
        export.source.time_column = "time".into();
        export
    }

    fn with_dimensions(mut self, dimensions: &[&str]) -> Fixture {
        self.source.dimensions = dimensions.iter().map(|d| d.to_string()).collect();
        self
    }

    fn with_measures(mut self, measures: SourceMeasures) -> Fixture {
        self.source.measures = measures;
        self
    }

    fn with_time_format(mut self, time_format: TimeFormat) -> Fixture {
        self.source.time_format = time_format;
        self
    }

    fn path(&self) -> &Path {
        &self.source.path
    }

    /// Writes another file into the fixture's folder (`name` relative to it).
    fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        self.dir.write(name, text)
    }

    fn read(&self, max_bad_rows: u64) -> (Vec<SourceRow>, Result<ReadSummary, DataError>) {
        read(&self.source, max_bad_rows)
    }

    /// Reads a file that must read.
    fn rows(&self, max_bad_rows: u64) -> (Vec<SourceRow>, ReadSummary) {
        let (rows, result) = self.read(max_bad_rows);
        (rows, result.expect("the file should read"))
    }

    /// Reads a file that must fail.
    fn error(&self, max_bad_rows: u64) -> DataError {
        self.read(max_bad_rows)
            .1
            .expect_err("the file should fail to read")
    }
}

fn at(text: &str) -> Instant {
    parse_timestamp(text).unwrap()
}

/// An expected row without measures; add them with `with` or `fleet`.
fn row(time: &str, dimensions: &[&str]) -> SourceRow {
    SourceRow {
        time: at(time),
        dimensions: dimensions.iter().map(|d| d.to_string()).collect(),
        measures: Vec::new(),
        repeated_local: None,
    }
}

/// Builders for expected rows (test-only methods).
impl SourceRow {
    fn with(mut self, measure: &str, value: Scalar) -> SourceRow {
        self.measures.push((measure.into(), value));
        self
    }

    /// All three fleet measures, in declaration order.
    fn fleet(self, temperature: f64, door_open: bool, battery: i64) -> SourceRow {
        self.with("temperature", Double(temperature))
            .with("door_open", Boolean(door_open))
            .with("battery", Bigint(battery))
    }
}

/// An error's line, column and reason, to compare in one go.
fn place(error: &DataError) -> (u64, Option<&str>, &str) {
    (error.line, error.column.as_deref(), &error.reason)
}

/// The digest `read_rows` reports for files holding `parts`, in order.
fn blake3_of<T: AsRef<[u8]>>(parts: &[T]) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in parts {
        hasher.update(part.as_ref());
    }
    format!("blake3:{}", hasher.finalize().to_hex())
}

const FLEET_CSV: &str = "\
ts,device_id,site,temperature,door_open,battery
2024-03-12T08:00:00Z,fridge-7,oslo-1,4.1,false,97
2024-03-12T08:01:00Z,fridge-8,oslo-1,5.5,TRUE,-3
";

#[test]
fn csv_wide_rows_in_declaration_order() {
    let (rows, summary) = Fixture::csv("csv-wide", FLEET_CSV, &["site", "device_id"]).rows(0);
    assert_eq!(
        rows,
        vec![
            row("2024-03-12T08:00:00Z", &["oslo-1", "fridge-7"]).fleet(4.1, false, 97),
            row("2024-03-12T08:01:00Z", &["oslo-1", "fridge-8"]).fleet(5.5, true, -3),
        ]
    );
    assert_eq!((summary.rows, summary.bad_rows), (2, 0));
    assert!(summary.skipped.is_empty());
    assert_eq!(summary.digest, blake3_of(&[FLEET_CSV]));
}

#[test]
fn csv_long_rows_one_measure_a_row() {
    let file = Fixture::csv(
        "csv-long",
        "device,ts,measure_name,measure_value::double\n\
         a,2024-03-12T08:00:00Z,temperature,4.5\n\
         a,2024-03-12T08:00:00Z,humidity,40\n\
         a,2024-03-12T08:01:00Z,humidity,\n",
        &["device"],
    )
    .with_measures(long(
        "measure_name",
        "measure_value::double",
        MeasureType::Double,
    ));
    let (rows, _) = file.rows(0);
    assert_eq!(
        rows,
        vec![
            row("2024-03-12T08:00:00Z", &["a"]).with("temperature", Double(4.5)),
            row("2024-03-12T08:00:00Z", &["a"]).with("humidity", Double(40.0)),
            row("2024-03-12T08:01:00Z", &["a"]),
        ]
    );
}

#[test]
fn csv_empty_cells_give_empty_dimension_and_no_measure() {
    let note = [FLEET_MEASURES, &[("note", MeasureType::Varchar)]].concat();
    let file = Fixture::csv(
        "csv-empty",
        "ts,device_id,site,temperature,door_open,battery,note\n\
         2024-03-12T08:00:00Z,,oslo-1,,true,  ,\n\
         2024-03-12T08:00:00Z,\"\",\"\",\"\",,,\" \"\n",
        &["device_id", "site"],
    )
    .with_measures(wide(&note));
    let (rows, _) = file.rows(0);
    assert_eq!(
        rows,
        vec![
            row("2024-03-12T08:00:00Z", &["", "oslo-1"]).with("door_open", Boolean(true)),
            row("2024-03-12T08:00:00Z", &["", ""]).with("note", Varchar(" ".into())),
        ]
    );
}

#[test]
fn csv_missing_column_names_it_and_lists_the_header() {
    let header = "ts,device_id,temprature,door_open,battery\n";
    let file = Fixture::csv("csv-missing", header, &["device_id", "site"]);
    let error = file.error(0);
    assert_eq!(error.file, file.path());
    assert_eq!(
        place(&error),
        (
            1,
            Some("site"),
            "column `site` is not in the header (nor is `temperature`); \
             the header has `ts`, `device_id`, `temprature`, `door_open`, `battery`"
        )
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
    let header = "ts,device_id,site,temprature,door_open,battery\n";
    let error = Fixture::csv("csv-near", header, &["site"]).error(0);
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
    let error = Fixture::csv("csv-no-header", "", &[]).error(0);
    assert_eq!(
        place(&error),
        (0, None, "the file has no header row naming its columns")
    );
}

#[test]
fn csv_header_only_gives_no_rows_and_bom_is_ignored() {
    let header = "\u{feff}ts,site,temperature,door_open,battery\r\n";
    let (rows, summary) = Fixture::csv("csv-bom", header, &["site"]).rows(0);
    assert_eq!(summary.rows, 0);
    assert!(rows.is_empty());
}

#[test]
fn csv_blank_lines_and_padded_header_names() {
    let text =
        "ts, site ,temperature,door_open,battery\r\n\r\n2024-03-12T08:00:00Z,a,1,1,1\r\n\r\n";
    let (rows, summary) = Fixture::csv("csv-blank", text, &["site"]).rows(0);
    assert_eq!(summary.rows, 1);
    assert_eq!(rows[0].dimensions, vec!["a"]);
}

#[test]
fn jsonl_skips_a_byte_order_mark() {
    let text = "\u{feff}{\"ts\":\"2024-03-12T08:00:00Z\"}\n";
    let (rows, _) = Fixture::jsonl("jsonl-bom", text, &[]).rows(0);
    assert_eq!(rows, vec![row("2024-03-12T08:00:00Z", &[])]);
}

#[test]
fn csv_bad_value_has_exact_line_and_column() {
    // A quoted field spanning two lines moves every later line number.
    let file = Fixture::site_csv(
        "csv-bad-value",
        "2024-03-12T08:00:00Z,\"oslo\n1\",4.1,false,97\n\
         2024-03-12T08:01:00Z,oslo-1,4.1,false,97.5\n",
    );
    let (rows, result) = file.read(0);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].dimensions, vec!["oslo\n1"]);
    let error = result.unwrap_err();
    assert_eq!(
        error,
        DataError {
            file: file.path().to_path_buf(),
            line: 4,
            column: Some("battery".into()),
            reason: "`97.5` has a fraction, so it is not a bigint".into(),
            help: Some(
                "a bigint is a whole number such as `42`; declare the measure `double` if it has fractions"
                    .into()
            ),
            refused: false,
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "{}:4: column `battery`: `97.5` has a fraction, so it is not a bigint",
            file.path().display()
        )
    );
}

#[test]
fn csv_bad_time_quotes_the_text() {
    let rows = "12/03/2024 08:00,oslo-1,4.1,false,97\n,oslo-1,4.1,false,97\n";
    let (_, summary) = Fixture::site_csv("csv-bad-time", rows).rows(5);
    let places: Vec<_> = summary.skipped.iter().map(place).collect();
    assert_eq!(
        places,
        vec![
            (
                2,
                Some("ts"),
                "`12/03/2024 08:00` is not an RFC 3339 timestamp: the date is not of the form `YYYY-MM-DD`"
            ),
            (3, Some("ts"), "the time is empty"),
        ]
    );
}

#[test]
fn csv_epoch_beyond_i128_is_a_bad_row() {
    let rows = "170141183460469231731687303715.999999999,oslo-1,1,1,1\n";
    let error = Fixture::site_csv("csv-epoch-overflow", rows)
        .with_time_format(TimeFormat::Epoch(EpochUnit::Seconds))
        .error(0);
    assert_eq!((error.line, error.column.as_deref()), (2, Some("ts")));
    assert!(
        error.reason.contains("outside the instants"),
        "{}",
        error.reason
    );
}

#[test]
fn csv_wrong_field_count_is_a_bad_row() {
    let rows = "2024-03-12T08:00:00Z,oslo-1,4.1,false\n";
    let error = Fixture::site_csv("csv-fields", rows).error(0);
    assert_eq!(
        place(&error),
        (2, None, "the row has 4 fields but the header has 5")
    );
}

#[test]
fn csv_invalid_utf8_is_a_bad_cell() {
    let text = b"ts,site,temperature,door_open,battery\n2024-03-12T08:00:00Z,osl\xff,4.1,false,1\n";
    let error = Fixture::csv("csv-utf8", text, &["site"]).error(0);
    assert_eq!(
        place(&error),
        (2, Some("site"), "the cell is not UTF-8 text")
    );
}

#[test]
fn missing_file_is_a_file_error() {
    let dir = Scratch::new("missing-file");
    let path = dir.0.join("nope.csv");
    let (_, result) = read(
        &source(SourceKind::Csv, &path, &[], wide(FLEET_MEASURES)),
        3,
    );
    let error = result.unwrap_err();
    assert_eq!((error.file, error.line), (path, 0));
    assert!(error.reason.starts_with("cannot open the file"));
}

#[test]
fn csv_other_time_formats() {
    let epoch = Fixture::site_csv("csv-formats-epoch", "1710230400.5,oslo-1,1,1,1\n")
        .with_time_format(TimeFormat::Epoch(EpochUnit::Seconds));
    let (rows, _) = epoch.rows(0);
    assert_eq!(rows[0].time, at("2024-03-12T08:00:00.500Z"));

    let mut local = Fixture::site_csv("csv-formats-local", "31.03.2024 02:30,oslo-1,1,1,1\n")
        .with_time_format(TimeFormat::Strftime("%d.%m.%Y %H:%M".into()));
    local.source.timezone = chrono_tz::Europe::Oslo;
    let (rows, _) = local.rows(0);
    assert_eq!(rows[0].time, at("2024-03-31T01:30:00Z"));
    local.source.nonexistent = Nonexistent::Error;
    let error = local.error(0);
    assert_eq!((error.line, error.column.as_deref()), (2, Some("ts")));
    assert!(error.reason.contains("daylight-saving gap"));
}

#[test]
fn bad_strftime_pattern_fails_before_reading() {
    let error = Fixture::csv("bad-pattern", FLEET_CSV, &[])
        .with_time_format(TimeFormat::Strftime("%Q".into()))
        .error(0);
    assert_eq!((error.line, error.column.as_deref()), (0, Some("ts")));
}

const FLEET_JSONL: &str = r#"{"ts":"2024-03-12T08:00:00Z","device_id":"fridge-7","site":7,"temperature":4.1,"door_open":false,"battery":97}

{"ts":"2024-03-12T08:01:00Z","device_id":null,"temperature":"5.5","door_open":"true","battery":"12","extra":[1]}
  {"ts":"2024-03-12T08:02:00Z","device_id":"x","site":"s","temperature":null,"door_open":1}
"#;

#[test]
fn jsonl_rows_from_strings_numbers_and_bools() {
    let (rows, summary) = Fixture::jsonl("jsonl", FLEET_JSONL, &["device_id", "site"]).rows(0);
    assert_eq!(
        rows,
        vec![
            row("2024-03-12T08:00:00Z", &["fridge-7", "7"]).fleet(4.1, false, 97),
            row("2024-03-12T08:01:00Z", &["", ""]).fleet(5.5, true, 12),
            row("2024-03-12T08:02:00Z", &["x", "s"]).with("door_open", Boolean(true)),
        ]
    );
    assert_eq!(summary.rows, 3);
    assert_eq!(summary.digest, blake3_of(&[FLEET_JSONL]));
}

#[test]
fn jsonl_long_rows_and_epoch_numbers() {
    let file = Fixture::jsonl(
        "jsonl-long",
        "{\"ts\":1710230400000,\"name\":\"mode\",\"value\":\"eco\"}\n\
         {\"ts\":1710230400001,\"name\":\"mode\",\"value\":null}\n",
        &[],
    )
    .with_measures(long("name", "value", MeasureType::Varchar))
    .with_time_format(TimeFormat::Epoch(EpochUnit::Millis));
    let (rows, _) = file.rows(0);
    assert_eq!(
        rows,
        vec![
            row("2024-03-12T08:00:00Z", &[]).with("mode", Varchar("eco".into())),
            row("2024-03-12T08:00:00.001Z", &[]),
        ]
    );
}

#[test]
fn jsonl_bad_lines_have_their_line_numbers() {
    let file = Fixture::jsonl(
        "jsonl-bad",
        "{\"ts\":\"2024-03-12T08:00:00Z\"}\n\
         \n\
         {\"ts\":\"2024-03-12T08:00:00Z\",\n\
         [1,2]\n\
         {\"site\":\"a\"}\n\
         {\"ts\":\"2024-03-12T08:00:00Z\",\"battery\":true}\n\
         {\"ts\":\"2024-03-12T08:00:00Z\",\"site\":{\"a\":1}}\n",
        &["site"],
    );
    let (rows, summary) = file.rows(10);
    assert_eq!(rows.len(), 1);
    assert_eq!(summary.bad_rows, 5);
    let places: Vec<_> = summary.skipped.iter().map(place).collect();
    assert_eq!(places[0].0, 3);
    assert!(
        places[0].2.starts_with("the line is not valid JSON"),
        "{}",
        places[0].2
    );
    assert_eq!(
        places[1..],
        [
            (4, None, "the line is an array, not a JSON object"),
            (5, Some("ts"), "the time is empty"),
            (6, Some("battery"), "`true` is a boolean, not a bigint"),
            (7, Some("site"), "`{\"a\":1}` is an object, not text"),
        ]
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

#[test]
fn unload_manifest_names_files_beside_it() {
    let manifest_text = manifest(&[
        "s3://bucket/exports/results/AEDQ_1_part1.csv",
        "s3://bucket/exports/results/AEDQ_1_part2.csv",
    ]);
    let export = Fixture::unload("unload-beside", "AEDQ_1_manifest.json", &manifest_text);
    export.write("AEDQ_1_part1.csv", UNLOAD_PART_1);
    export.write("AEDQ_1_part2.csv", UNLOAD_PART_2);
    let (rows, summary) = export.rows(0);
    assert_eq!(
        rows,
        vec![
            row("2024-02-01T05:33:50Z", &["fridge-7"]).with("temperature", Double(4.1)),
            row("2024-02-01T05:33:50Z", &["fridge-7"]),
            row("2024-02-01T05:34:00.125Z", &["fridge-8"]).with("temperature", Double(3.9)),
        ]
    );
    // The digest covers the manifest, then each file, in that order.
    assert_eq!(
        summary.digest,
        blake3_of(&[manifest_text.as_str(), UNLOAD_PART_1, UNLOAD_PART_2])
    );
}

#[test]
fn unload_result_files_lie_under_results_beside_the_manifest() {
    // The layout `aws s3 sync` gives: ROOT/Q_manifest.json, ROOT/results/...
    let export = Fixture::unload(
        "unload-results",
        "export/Q_manifest.json",
        &manifest(&[
            "s3://b/export/results/Q_part1.csv.gz",
            "s3://b/export/results/Q_part2.csv",
        ]),
    );
    // A file gunzipped in place (`x.gz` → `x`) is read as it is.
    export.write("export/results/Q_part1.csv", UNLOAD_PART_1);
    export.write("export/results/Q_part2.csv", UNLOAD_PART_2);
    let (rows, summary) = export.rows(0);
    assert_eq!(summary.rows, 3);
    assert_eq!(rows[2].dimensions, vec!["fridge-8"]);
}

#[test]
fn unload_missing_or_corrupt_result_file() {
    let manifest_text = manifest(&["s3://b/p/results/Q_part9.csv"]);
    let missing = Fixture::unload("unload-missing", "Q_manifest.json", &manifest_text);
    let (rows, result) = missing.read(5);
    assert!(rows.is_empty());
    let error = result.unwrap_err();
    assert_eq!((error.file.as_path(), error.line), (missing.path(), 0));
    assert_eq!(
        error.reason,
        "result file `results/Q_part9.csv` (from `s3://b/p/results/Q_part9.csv`) is not on disk"
    );
    assert!(error.help.unwrap().contains("aws s3 sync s3://b/p/"));

    let manifest_text = manifest(&["s3://b/p/results/G_part1.gz"]);
    let corrupt = Fixture::unload("unload-corrupt", "G_manifest.json", &manifest_text);
    let part = corrupt.write("results/G_part1.gz", "\u{1f}binary");
    let error = corrupt.error(0);
    assert_eq!(error.file, part);
    assert!(
        error.reason.starts_with("the file is not valid gzip data"),
        "{}",
        error.reason
    );
    assert!(error.help.unwrap().contains("aws s3 sync"));
}

#[test]
fn unload_manifest_errors() {
    let not_a_manifest = "{\"result_files\": 3}";
    let error = Fixture::unload("unload-manifest", "X_manifest.json", not_a_manifest).error(0);
    assert!(
        error
            .reason
            .starts_with("the file is not an UNLOAD manifest")
    );
    let orc = manifest(&[]).replace("\"CSV\"", "\"ORC\"");
    let error = Fixture::unload("unload-orc", "P_manifest.json", &orc).error(0);
    assert_eq!(
        error.reason,
        "the export is in ORC; only CSV and Parquet exports can be read"
    );
}

#[test]
fn unload_without_header_or_metadata_names_the_metadata_file() {
    let manifest_text = manifest(&["s3://b/p/results/Q_part1.csv"]);
    let export = Fixture::unload("unload-no-header", "Q_manifest.json", &manifest_text);
    export.write(
        "results/Q_part1.csv",
        "fridge-7,temperature,2024-02-01 05:33:50.000000000,4.1\n",
    );
    let error = export.error(0);
    assert_eq!(error.file, export.dir.0.join("Q_metadata.json"));
    assert!(
        error
            .reason
            .starts_with("the export's metadata file is missing")
    );
    let help = error.help.unwrap();
    assert!(help.contains("copy `Q_metadata.json`"), "{help}");
    assert!(help.contains("include_header = 'true'"), "{help}");
}

/// The metadata UNLOAD writes beside a manifest, for `columns` (name, type).
fn metadata(columns: &[(&str, &str)]) -> String {
    let columns = columns
        .iter()
        .map(|(name, ty)| format!(r#"{{"Name":"{name}","Type":{{"ScalarType":"{ty}"}}}}"#))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        r#"{{"ColumnInfo":[{columns}],"Author":{{"Name":"Amazon Timestream","MetadataFileVersion":"1.0"}}}}"#
    )
}

/// `text` gzip-compressed, as UNLOAD writes a result file.
fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

/// The columns of the default export below: `site` is its partition column.
const EXPORT_COLUMNS: &[(&str, &str)] = &[
    ("device_id", "VARCHAR"),
    ("measure_name", "VARCHAR"),
    ("time", "TIMESTAMP"),
    ("measure_value::double", "DOUBLE"),
    ("site", "VARCHAR"),
];

/// A default UNLOAD export (`partitioned_by = ARRAY['site']`): gzip, no
/// header, two partitions, `oslo-1` split over two files, one of which has
/// the same name as `bergen`'s.
fn default_export(test: &str) -> Fixture {
    let export = Fixture::unload(
        test,
        "Q_manifest.json",
        &manifest(&[
            "s3://bucket/e2e/results/site=oslo-1/Q_a.gz",
            "s3://bucket/e2e/results/site=oslo-1/Q_b.gz",
            "s3://bucket/e2e/results/site=bergen%20v%C3%A5g/Q_a.gz",
        ]),
    )
    .with_dimensions(&["device_id", "site"]);
    export.write("Q_metadata.json", metadata(EXPORT_COLUMNS));
    export.write(
        "results/site=oslo-1/Q_a.gz",
        gzip("fridge-7,temperature,2024-02-01 05:33:50.000000000,4.1\n"),
    );
    export.write(
        "results/site=oslo-1/Q_b.gz",
        gzip("fridge-7,temperature,2024-02-01 05:34:50.000000000,4.3\n"),
    );
    export.write(
        "results/site=bergen%20v%C3%A5g/Q_a.gz",
        gzip("\"fridge,8\",temperature,2024-02-01 05:33:50.000000000,3.9\n"),
    );
    export
}

#[test]
fn a_default_export_reads_like_the_same_rows_in_a_plain_csv() {
    let export = default_export("unload-default");
    let (rows, summary) = export.rows(0);
    let plain = Fixture::new(
        "unload-default-plain",
        SourceKind::Csv,
        "plain.csv",
        "device_id,measure_name,time,measure_value::double,site\n\
         fridge-7,temperature,2024-02-01 05:33:50.000000000,4.1,oslo-1\n\
         fridge-7,temperature,2024-02-01 05:34:50.000000000,4.3,oslo-1\n\
         \"fridge,8\",temperature,2024-02-01 05:33:50.000000000,3.9,bergen våg\n",
        &["device_id", "site"],
    )
    .with_measures(export.source.measures.clone());
    let mut plain = plain;
    plain.source.time_column = "time".into();
    let (plain_rows, _) = plain.rows(0);
    assert_eq!(rows, plain_rows);
    assert_eq!(rows[2].dimensions, vec!["fridge,8", "bergen våg"]);
    // The digest covers the manifest, the metadata and each file as stored.
    let stored = |name: &str| fs::read(export.dir.0.join(name)).unwrap();
    assert_eq!(
        summary.digest,
        blake3_of(&[
            stored("Q_manifest.json"),
            stored("Q_metadata.json"),
            stored("results/site=oslo-1/Q_a.gz"),
            stored("results/site=oslo-1/Q_b.gz"),
            stored("results/site=bergen%20v%C3%A5g/Q_a.gz"),
        ])
    );
}

#[test]
fn an_export_header_must_agree_with_its_metadata() {
    let export = default_export("unload-header");
    let header = "device_id,measure_name,time,measure_value::double\n";
    let line = "fridge-7,temperature,2024-02-01 05:33:50.000000000,4.1\n";
    export.write(
        "results/site=oslo-1/Q_a.gz",
        gzip(&format!("{header}{line}")),
    );
    let (rows, _) = export.rows(0);
    assert_eq!(rows.len(), 3, "an agreeing header is skipped");

    let part = export.write(
        "results/site=oslo-1/Q_a.gz",
        gzip(&format!(
            "device_id,measure,time,measure_value::double\n{line}"
        )),
    );
    let error = export.error(0);
    assert_eq!(error.file, part);
    assert_eq!(
        place(&error),
        (
            1,
            Some("measure_name"),
            "the header's column 2 is `measure` but the export's metadata names it `measure_name`"
        )
    );
    assert!(error.help.unwrap().contains("`Q_metadata.json`"));
}

#[test]
fn export_columns_come_from_the_metadata_with_partitions_marked() {
    let export = default_export("unload-columns");
    let Some(FileColumns::Export(columns)) = file_columns(&export.source).unwrap() else {
        panic!("an export's columns are its metadata's");
    };
    let seen: Vec<(&str, &str, bool)> = columns
        .iter()
        .map(|c| (c.name.as_str(), c.timestream_type.as_str(), c.partition))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("device_id", "VARCHAR", false),
            ("measure_name", "VARCHAR", false),
            ("time", "TIMESTAMP", false),
            ("measure_value::double", "DOUBLE", false),
            ("site", "VARCHAR", true),
        ]
    );
    fs::remove_file(export.dir.0.join("Q_metadata.json")).unwrap();
    assert_eq!(file_columns(&export.source).unwrap(), None);
}

#[test]
fn metadata_whose_last_columns_are_not_the_partitions_is_refused() {
    let export = default_export("unload-partitions");
    let path = export.write("Q_metadata.json", metadata(&EXPORT_COLUMNS[..4]));
    let error = export.error(0);
    assert_eq!(error.file, path);
    assert!(
        error
            .reason
            .starts_with("the result files are partitioned by `site`"),
        "{}",
        error.reason
    );
}

#[test]
fn urls_leading_outside_the_export_are_refused() {
    for (url, why) in [
        ("s3://b/p/results/../../secret.gz", "has the segment `..`"),
        ("s3://b/p/results/%2e%2e/x.gz", "has the segment `%2e%2e`"),
        ("s3://b/p/results/site=a%2F..%2Fb/x.gz", "has the segment"),
        ("/etc/passwd", "is not an `s3://` URL"),
        ("s3://b/p/site=a/x.gz", "does not follow UNLOAD's layout"),
        ("s3://b/p/results/", "does not follow UNLOAD's layout"),
        ("s3://b", "does not follow UNLOAD's layout"),
    ] {
        let export = Fixture::unload("unload-refused", "Q_manifest.json", &manifest(&[url]));
        let error = export.error(0);
        assert_eq!(error.file, export.path(), "{url}");
        assert!(error.reason.contains(why), "{url}: {}", error.reason);
        assert!(error.help.unwrap().contains("export the data again"));
    }
    let two_buckets = manifest(&["s3://b/p/results/x.csv", "s3://other/p/results/y.csv"]);
    let export = Fixture::unload("unload-two-buckets", "Q_manifest.json", &two_buckets);
    let error = export.error(0);
    assert!(
        error
            .reason
            .ends_with("is not in the export of the first result file (`s3://b/p/`)"),
        "{}",
        error.reason
    );
}

#[test]
fn the_dialect_sets_delimiter_and_escape() {
    // UNLOAD's default escape: `\"` is a quote inside a quoted field.
    let export = default_export("unload-escape");
    export.write(
        "results/site=oslo-1/Q_b.gz",
        gzip("\"fridge \\\"7\\\"\",temperature,2024-02-01 05:34:50.000000000,4.3\n"),
    );
    let (rows, _) = export.rows(0);
    assert_eq!(rows[1].dimensions[0], "fridge \"7\"");

    let mut semicolons = Fixture::site_csv("dialect", "");
    semicolons.write(
        "fleet.csv",
        "ts;site;temperature;door_open;battery\n\
         2024-03-12T08:00:00Z;\"oslo;1\";4,1;false;97\n",
    );
    semicolons.source.dialect = CsvDialect {
        delimiter: b';',
        escape: None,
    };
    let (_, result) = semicolons.read(0);
    // `4,1` is not a number in outatime: the cell shows the split was right.
    assert_eq!(
        place(&result.unwrap_err()),
        (2, Some("temperature"), "`4,1` is not a number")
    );
}

/// A fleet CSV of `rows` rows a millisecond apart, whose battery is `x`
/// on every `bad_every`th row (0: none).
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
    // Every 5th row of 60 is bad: 12 bad rows, on lines 6, 11, ..., 61.
    let file = Fixture::csv("max-bad", fleet_rows(60, 5), &["device_id", "site"]);

    let (rows, summary) = file.rows(12);
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

    let (rows, result) = file.read(11);
    assert_eq!(
        place(&result.unwrap_err()),
        (61, Some("battery"), "`x` is not a whole number")
    );
    assert_eq!(rows.len(), 48);

    let (rows, result) = file.read(0);
    assert_eq!(result.unwrap_err().line, 6);
    assert_eq!(rows.len(), 4);
}

#[test]
fn digest_changes_when_one_byte_changes() {
    let file = Fixture::csv("digest", FLEET_CSV, &["site"]);
    let first = file.rows(0).1.digest;
    assert_eq!(first, file.rows(0).1.digest);
    assert!(first.starts_with("blake3:") && first.len() == "blake3:".len() + 64);
    file.write("fleet.csv", FLEET_CSV.replace("4.1", "4.2"));
    assert_ne!(first, file.rows(0).1.digest);
}

#[test]
fn a_large_file_streams() {
    let file = Fixture::csv("large", fleet_rows(200_000, 0), &["device_id", "site"]);
    let mut count = 0u64;
    let mut last = Instant(i64::MIN);
    let summary = read_rows(&file.source, &ReadOptions::default(), &mut |row| {
        assert!(row.time > last);
        last = row.time;
        assert_eq!(row.measures.len(), 3);
        count += 1;
    })
    .unwrap();
    assert_eq!((count, summary.rows), (200_000, 200_000));
    assert_eq!(summary.digest, blake3_of(&[fs::read(file.path()).unwrap()]));
}

/// `cargo test --release -- --ignored --nocapture sources` prints rows/s.
#[test]
#[ignore = "a benchmark: run it in release"]
fn bench_csv_rows_per_second() {
    const ROWS: usize = 1_000_000;
    let file = Fixture::csv("bench", fleet_rows(ROWS, 0), &["device_id", "site"]);
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let mut measures = 0usize;
        let summary = read_rows(&file.source, &ReadOptions::default(), &mut |row| {
            measures += row.measures.len();
        })
        .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(summary.rows, ROWS as u64);
        println!(
            "sources: {ROWS} CSV rows ({} MB, {measures} measures) in {seconds:.3}s: {:.0} rows/s",
            fs::metadata(file.path()).unwrap().len() / 1_000_000,
            ROWS as f64 / seconds
        );
    }
}

/// One row of the default export: device, measure, time (ns), value, site.
type ExportRow<'a> = (&'a str, &'a str, i64, Option<f64>);

/// `rows` as a Parquet file of UNLOAD's columns (less the partition
/// column), GZIP-compressed inside, in row groups of `group` rows.
fn parquet_file(rows: &[ExportRow], group: usize) -> Vec<u8> {
    use ::parquet::basic::{
        Compression, GzipLevel, LogicalType, Repetition, TimeUnit, Type as Physical,
    };
    use ::parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
    use ::parquet::file::properties::WriterProperties;
    use ::parquet::file::writer::SerializedFileWriter;
    use ::parquet::schema::types::Type;
    use std::sync::Arc;

    let text = |name: &str| {
        Arc::new(
            Type::primitive_type_builder(name, Physical::BYTE_ARRAY)
                .with_repetition(Repetition::REQUIRED)
                .with_logical_type(Some(LogicalType::String))
                .build()
                .unwrap(),
        )
    };
    let time = Type::primitive_type_builder("time", Physical::INT64)
        .with_repetition(Repetition::REQUIRED)
        .with_logical_type(Some(LogicalType::timestamp(true, TimeUnit::NANOS)))
        .build()
        .unwrap();
    let value = Type::primitive_type_builder("measure_value::double", Physical::DOUBLE)
        .with_repetition(Repetition::OPTIONAL)
        .build()
        .unwrap();
    let schema = Type::group_type_builder("schema")
        .with_fields(vec![
            text("device_id"),
            text("measure_name"),
            Arc::new(time),
            Arc::new(value),
        ])
        .build()
        .unwrap();
    let properties = WriterProperties::builder()
        .set_compression(Compression::GZIP(GzipLevel::default()))
        .build();
    let mut bytes = Vec::new();
    let mut writer =
        SerializedFileWriter::new(&mut bytes, Arc::new(schema), Arc::new(properties)).unwrap();
    for chunk in rows.chunks(group) {
        let mut row_group = writer.next_row_group().unwrap();
        let strings = |first: bool| -> Vec<ByteArray> {
            chunk
                .iter()
                .map(|r| ByteArray::from(if first { r.0 } else { r.1 }))
                .collect()
        };
        let mut column = 0;
        while let Some(mut writer) = row_group.next_column().unwrap() {
            match column {
                0 => writer
                    .typed::<ByteArrayType>()
                    .write_batch(&strings(true), None, None),
                1 => writer
                    .typed::<ByteArrayType>()
                    .write_batch(&strings(false), None, None),
                2 => {
                    let times: Vec<i64> = chunk.iter().map(|r| r.2).collect();
                    writer.typed::<Int64Type>().write_batch(&times, None, None)
                }
                _ => {
                    let values: Vec<f64> = chunk.iter().filter_map(|r| r.3).collect();
                    let defined: Vec<i16> =
                        chunk.iter().map(|r| i16::from(r.3.is_some())).collect();
                    writer
                        .typed::<DoubleType>()
                        .write_batch(&values, Some(&defined), None)
                }
            }
            .unwrap();
            writer.close().unwrap();
            column += 1;
        }
        row_group.close().unwrap();
    }
    writer.close().unwrap();
    bytes
}

/// 2024-02-01 05:33:50 UTC in nanoseconds, and a minute later.
const T0: i64 = 1_706_765_630_000_000_000;
const T1: i64 = T0 + 60_000_000_000;

#[test]
fn a_parquet_export_reads_like_the_same_rows_in_csv() {
    let csv_rows = default_export("unload-parquet-csv").rows(0).0;
    let export = Fixture::unload(
        "unload-parquet-export",
        "Q_manifest.json",
        &manifest(&[
            "s3://bucket/e2e/results/site=oslo-1/Q_a.parquet",
            "s3://bucket/e2e/results/site=bergen%20v%C3%A5g/Q_a.parquet",
        ])
        .replace("\"CSV\"", "\"PARQUET\""),
    )
    .with_dimensions(&["device_id", "site"]);
    export.write("Q_metadata.json", metadata(EXPORT_COLUMNS));
    // Two row groups in the first file: read one after the other.
    export.write(
        "results/site=oslo-1/Q_a.parquet",
        parquet_file(
            &[
                ("fridge-7", "temperature", T0, Some(4.1)),
                ("fridge-7", "temperature", T1, Some(4.3)),
            ],
            1,
        ),
    );
    export.write(
        "results/site=bergen%20v%C3%A5g/Q_a.parquet",
        parquet_file(&[("fridge,8", "temperature", T0, Some(3.9))], 10),
    );
    let (rows, summary) = export.rows(0);
    assert_eq!(rows, csv_rows);
    let stored = |name: &str| fs::read(export.dir.0.join(name)).unwrap();
    assert_eq!(
        summary.digest,
        blake3_of(&[
            stored("Q_manifest.json"),
            stored("Q_metadata.json"),
            stored("results/site=oslo-1/Q_a.parquet"),
            stored("results/site=bergen%20v%C3%A5g/Q_a.parquet"),
        ])
    );

    // A null value is no measure, as an empty CSV cell is.
    export.write(
        "results/site=oslo-1/Q_a.parquet",
        parquet_file(&[("fridge-7", "humidity", T0, None)], 1),
    );
    let (rows, _) = export.rows(0);
    assert!(rows[0].measures.is_empty());

    let part = export.write("results/site=oslo-1/Q_a.parquet", "PAR1 not really");
    let error = export.error(0);
    assert_eq!(error.file, part);
    assert!(
        error.reason.starts_with("the file is not readable Parquet"),
        "{}",
        error.reason
    );
}

#[test]
fn a_url_without_results_names_a_file_beside_the_manifest() {
    // The AWS docs' sample manifest: files right under the export folder.
    let export = Fixture::unload(
        "unload-flat",
        "Q_manifest.json",
        &manifest(&["s3://my_timestream_unloads/ec2_metrics/Q_1448466917_sz.gz"]),
    );
    export.write("Q_1448466917_sz.gz", gzip(UNLOAD_PART_2));
    let (rows, _) = export.rows(0);
    assert_eq!(rows[0].dimensions, vec!["fridge-8"]);
}

/// A record of `bytes` bytes, its line break counted, in `fleet.csv`'s
/// shape: the padding is a quoted `site` holding line breaks.
fn fleet_record(bytes: usize) -> String {
    let head = "2024-03-12T08:00:00Z,\"";
    let tail = "\",4.1,false,97\n";
    let padding = bytes - head.len() - tail.len();
    format!(
        "{head}{}{tail}",
        "ab\n".repeat(padding / 3) + &"a".repeat(padding % 3)
    )
}

#[test]
fn a_csv_record_of_the_limit_reads_and_one_byte_more_is_refused() {
    let limit = limits::MAX_RECORD_BYTES as usize;
    let header = "ts,site,temperature,door_open,battery\n";
    let good = Fixture::csv(
        "csv-record-limit",
        format!("{header}{}", fleet_record(limit)),
        &["site"],
    );
    assert_eq!(good.rows(0).0.len(), 1);
    for text in [
        format!("{header}{}", fleet_record(limit + 1)),
        // CRLF and blank lines before the record: its own bytes count.
        format!("{header}\r\n\r\n{}", fleet_record(limit + 1)),
    ] {
        let bad = Fixture::csv("csv-record-past-limit", text.as_str(), &["site"]);
        let error = bad.error(100);
        let line = if text.contains('\r') { 4 } else { 2 };
        assert_eq!(
            place(&error),
            (
                line,
                None,
                "the line is longer than 1 MiB, the most outatime reads of one line"
            )
        );
    }
    // Blank lines alone are no record.
    let blank = format!("{header}{}{}", "\n".repeat(3 << 20), fleet_record(64));
    assert_eq!(
        Fixture::csv("csv-blank-lines", blank.as_str(), &["site"])
            .rows(0)
            .0
            .len(),
        1
    );
}

#[test]
fn a_json_line_of_the_limit_reads_and_one_byte_more_is_refused() {
    let limit = limits::MAX_RECORD_BYTES as usize;
    let line = |bytes: usize| {
        let head = r#"{"ts":"2024-03-12T08:00:00Z","temperature":4.1,"site":""#;
        let tail = "\"}\n";
        format!(
            "{head}{}{tail}",
            "s".repeat(bytes - head.len() - tail.len())
        )
    };
    let good = Fixture::jsonl("jsonl-line-limit", &line(limit), &["site"]);
    assert_eq!(good.rows(0).0.len(), 1);
    let bad = Fixture::jsonl("jsonl-line-past-limit", &line(limit + 1), &["site"]);
    // Not a bad row to skip: the rest of the line would have to be read.
    assert_eq!(
        place(&bad.error(100)),
        (
            1,
            None,
            "the line is longer than 1 MiB, the most outatime reads of one line"
        )
    );
}
