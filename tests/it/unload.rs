//! `unload` sources through the binary: a default Timestream UNLOAD export
//! (gzip, no header, metadata beside the manifest, partition folders, a
//! partition over two files) and the same rows as Parquet replay exactly as
//! they do from a plain CSV file; each broken export names its file and
//! what to do.

use std::io::Write;
use std::sync::Arc;

use crate::common::Run;

/// A replay of `SOURCE_PATH` read as `KIND`; the rest is the same for all.
fn scenario(kind: &str, path: &str) -> String {
    format!(
        "scenario \"unload\"\n\
         source fridges {kind} \"{path}\" {{\n  time time\n  dimensions device_id, site\n  \
         measures from measure_name value measure_value double\n}}\n\
         table fridge_metrics {{ layout single }}\n\
         replay fridges into fridge_metrics {{\n  window 2024-02-01T05:00Z .. 2024-02-01T06:00Z\n  \
         measures temperature, humidity\n  shift end to now\n}}\n"
    )
}

const ANCHOR: &str = "2026-11-27T18:00:00Z";

/// The rows of every form below: device, measure, time, value, site.
const ROWS: &[(&str, &str, &str, Option<f64>, &str)] = &[
    (
        "fridge-7",
        "temperature",
        "2024-02-01 05:33:50.000000000",
        Some(4.1),
        "oslo-1",
    ),
    (
        "fridge-7",
        "humidity",
        "2024-02-01 05:33:50.000000000",
        Some(61.0),
        "oslo-1",
    ),
    (
        "fridge-7",
        "temperature",
        "2024-02-01 05:34:50.000000000",
        Some(4.3),
        "oslo-1",
    ),
    (
        "fridge,8",
        "temperature",
        "2024-02-01 05:33:50.500000000",
        Some(3.9),
        "bergen",
    ),
    (
        "fridge,8",
        "humidity",
        "2024-02-01 05:34:50.000000000",
        None,
        "bergen",
    ),
];

const METADATA: &str = r#"{"ColumnInfo":[
  {"Name":"device_id","Type":{"ScalarType":"VARCHAR"}},
  {"Name":"measure_name","Type":{"ScalarType":"VARCHAR"}},
  {"Name":"time","Type":{"ScalarType":"TIMESTAMP"}},
  {"Name":"measure_value","Type":{"ScalarType":"DOUBLE"}},
  {"Name":"site","Type":{"ScalarType":"VARCHAR"}}],
  "Author":{"Name":"Amazon Timestream","MetadataFileVersion":"1.0"}}"#;

/// UNLOAD's CSV line for a row: no partition column, `"` around a comma.
fn csv_line(row: &(&str, &str, &str, Option<f64>, &str)) -> String {
    let device = if row.0.contains(',') {
        format!("\"{}\"", row.0)
    } else {
        row.0.to_string()
    };
    let value = row.3.map(|v| v.to_string()).unwrap_or_default();
    format!("{device},{},{},{value}\n", row.1, row.2)
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

fn manifest(format: &str, files: &[&str]) -> String {
    let files = files
        .iter()
        .map(|f| {
            format!(
                r#"{{"url":"s3://prod-unloads/e2e/{f}","file_metadata":{{"content_length_in_bytes":100,"row_count":2}}}}"#
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    format!(
        r#"{{"result_files":[{files}],"query_metadata":{{"content_length_in_bytes":300,"total_row_count":5,"result_format":"{format}","result_version":"Amazon Timestream version 1.0.0"}},"author":{{"name":"Amazon Timestream","manifest_file_version":"1.0"}}}}"#
    )
}

/// The files: `oslo-1` split over `Q_a.gz` and `Q_b.gz`, `bergen` in its
/// own `Q_a.gz`; and the same rows as a plain CSV with a header.
fn default_export(name: &str) -> Run {
    let lines: Vec<String> = ROWS.iter().map(csv_line).collect();
    let mut plain = String::from("device_id,measure_name,time,measure_value,site\n");
    for (line, row) in lines.iter().zip(ROWS) {
        plain.push_str(&format!("{},{}\n", line.trim_end(), row.4));
    }
    Run::new(name)
        .file(
            "export.scenario",
            scenario("unload", "export/Q_manifest.json"),
        )
        .file("plain.scenario", scenario("csv", "plain.csv"))
        .file("plain.csv", plain)
        .file(
            "export/Q_manifest.json",
            manifest(
                "CSV",
                &[
                    "results/site=oslo-1/Q_a.gz",
                    "results/site=oslo-1/Q_b.gz",
                    "results/site=bergen/Q_a.gz",
                ],
            ),
        )
        .file("export/Q_metadata.json", METADATA)
        .file(
            "export/results/site=oslo-1/Q_a.gz",
            gzip(&lines[..2].concat()),
        )
        .file("export/results/site=oslo-1/Q_b.gz", gzip(&lines[2]))
        .file(
            "export/results/site=bergen/Q_a.gz",
            gzip(&lines[3..].concat()),
        )
}

fn records(run: &Run, scenario: &str) -> (i32, String, String) {
    run.again(&["records", scenario, "--anchor", ANCHOR]).run()
}

#[test]
fn a_default_export_replays_like_the_same_rows_in_a_plain_csv() {
    let run = default_export("unload-default");
    let (code, plain, stderr) = records(&run, "plain.scenario");
    assert_eq!(code, 0, "{stderr}");
    // fridge-7's two measures at 05:33:50 make one record.
    assert_eq!(plain.lines().count(), 3, "{plain}");
    let (code, exported, stderr) = records(&run, "export.scenario");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(exported, plain);
    assert!(exported.contains("\"site\":\"bergen\""), "{exported}");
    assert!(
        exported.contains("\"device_id\":\"fridge,8\""),
        "{exported}"
    );
}

/// `rows` as Parquet: UNLOAD's columns less the partition column.
fn parquet(rows: &[&(&str, &str, &str, Option<f64>, &str)]) -> Vec<u8> {
    use parquet::basic::{
        Compression, GzipLevel, LogicalType, Repetition, TimeUnit, Type as Physical,
    };
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::types::Type;

    let column = |name: &str, physical, logical, repetition| {
        Arc::new(
            Type::primitive_type_builder(name, physical)
                .with_repetition(repetition)
                .with_logical_type(logical)
                .build()
                .unwrap(),
        )
    };
    let schema = Type::group_type_builder("schema")
        .with_fields(vec![
            column(
                "device_id",
                Physical::BYTE_ARRAY,
                Some(LogicalType::String),
                Repetition::REQUIRED,
            ),
            column(
                "measure_name",
                Physical::BYTE_ARRAY,
                Some(LogicalType::String),
                Repetition::REQUIRED,
            ),
            column(
                "time",
                Physical::INT64,
                Some(LogicalType::timestamp(true, TimeUnit::NANOS)),
                Repetition::REQUIRED,
            ),
            column(
                "measure_value",
                Physical::DOUBLE,
                None,
                Repetition::OPTIONAL,
            ),
        ])
        .build()
        .unwrap();
    let properties = WriterProperties::builder()
        .set_compression(Compression::GZIP(GzipLevel::default()))
        .build();
    let nanos = |text: &str| {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
            .unwrap()
            .and_utc()
            .timestamp_nanos_opt()
            .unwrap()
    };
    let mut bytes = Vec::new();
    let mut writer =
        SerializedFileWriter::new(&mut bytes, Arc::new(schema), Arc::new(properties)).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let mut index = 0;
    while let Some(mut column) = group.next_column().unwrap() {
        match index {
            0 | 1 => {
                let texts: Vec<ByteArray> = rows
                    .iter()
                    .map(|r| ByteArray::from(if index == 0 { r.0 } else { r.1 }))
                    .collect();
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&texts, None, None)
            }
            2 => {
                let times: Vec<i64> = rows.iter().map(|r| nanos(r.2)).collect();
                column.typed::<Int64Type>().write_batch(&times, None, None)
            }
            _ => {
                let values: Vec<f64> = rows.iter().filter_map(|r| r.3).collect();
                let defined: Vec<i16> = rows.iter().map(|r| i16::from(r.3.is_some())).collect();
                column
                    .typed::<DoubleType>()
                    .write_batch(&values, Some(&defined), None)
            }
        }
        .unwrap();
        column.close().unwrap();
        index += 1;
    }
    group.close().unwrap();
    writer.close().unwrap();
    bytes
}

#[test]
fn a_parquet_export_replays_like_the_same_rows_in_a_plain_csv() {
    let rows: Vec<_> = ROWS.iter().collect();
    let run = default_export("unload-parquet")
        .file(
            "parquet/Q_manifest.json",
            manifest(
                "PARQUET",
                &[
                    "results/site=oslo-1/Q_a.parquet",
                    "results/site=bergen/Q_a.parquet",
                ],
            ),
        )
        .file("parquet/Q_metadata.json", METADATA)
        .file(
            "parquet/results/site=oslo-1/Q_a.parquet",
            parquet(&rows[..3]),
        )
        .file(
            "parquet/results/site=bergen/Q_a.parquet",
            parquet(&rows[3..]),
        )
        .file(
            "parquet.scenario",
            scenario("unload", "parquet/Q_manifest.json"),
        );
    let (_, plain, _) = records(&run, "plain.scenario");
    let (code, exported, stderr) = records(&run, "parquet.scenario");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(exported, plain);
}

/// Diagnostic text as one line: each line's indentation and `│` gutter
/// dropped, lines joined by a space.
fn unwrapped(text: &str) -> String {
    text.lines()
        .map(|l| l.trim_start_matches([' ', '│', '×']).trim_end())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `records` on the broken export and returns stderr, which must name
/// `file` and say `what` and `help`.
fn fails(run: &Run, file: &str, what: &str, help: &str) {
    let (code, stdout, stderr) = records(run, "export.scenario");
    assert_eq!(code, 1, "{stdout}{stderr}");
    // A diagnostic from `check` is wrapped to the terminal's width: the
    // words are compared with its line breaks and gutters taken out.
    let stderr = unwrapped(&stderr);
    assert!(stderr.contains(file), "no `{file}` in:\n{stderr}");
    assert!(stderr.contains(what), "no `{what}` in:\n{stderr}");
    assert!(stderr.contains(help), "no `{help}` in:\n{stderr}");
}

#[test]
fn a_missing_metadata_file_is_named_with_what_to_do() {
    let run = default_export("unload-no-metadata");
    std::fs::remove_file(run.dir.join("export/Q_metadata.json")).unwrap();
    fails(
        &run,
        "export/Q_metadata.json",
        "the export's metadata file is missing",
        "include_header = 'true'",
    );
}

#[test]
fn a_header_that_disagrees_with_the_metadata_names_the_column() {
    let run = default_export("unload-header").file(
        "export/results/site=oslo-1/Q_b.gz",
        gzip(&format!(
            "device_id,measure,time,measure_value\n{}",
            csv_line(&ROWS[2])
        )),
    );
    fails(
        &run,
        "export/results/site=oslo-1/Q_b.gz",
        "the header's column 2 is `measure` but the export's metadata names it `measure_name`",
        "sync the whole export again",
    );
    // An agreeing header (`include_header = 'true'`) is skipped.
    let run = run.file(
        "export/results/site=oslo-1/Q_b.gz",
        gzip(&format!(
            "device_id,measure_name,time,measure_value\n{}",
            csv_line(&ROWS[2])
        )),
    );
    let (code, exported, stderr) = records(&run, "export.scenario");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(exported, records(&run, "plain.scenario").1);
}

#[test]
fn a_missing_result_file_is_named_with_what_to_do() {
    let run = default_export("unload-missing");
    std::fs::remove_file(run.dir.join("export/results/site=oslo-1/Q_b.gz")).unwrap();
    fails(
        &run,
        "export/Q_manifest.json",
        "result file `results/site=oslo-1/Q_b.gz`",
        "aws s3 sync s3://prod-unloads/e2e/",
    );
}

#[test]
fn a_corrupt_gzip_file_is_named_with_what_to_do() {
    let mut cut = gzip(&csv_line(&ROWS[2]));
    cut.truncate(cut.len() / 2);
    let run = default_export("unload-corrupt").file("export/results/site=oslo-1/Q_b.gz", cut);
    fails(
        &run,
        "export/results/site=oslo-1/Q_b.gz",
        "the file is not valid gzip data",
        "download it again",
    );
}

#[test]
fn a_url_leading_outside_the_export_is_refused() {
    let run = default_export("unload-escape").file(
        "export/Q_manifest.json",
        manifest("CSV", &["results/site=oslo-1/../../../plain.csv"]),
    );
    fails(
        &run,
        "export/Q_manifest.json",
        "has the segment `..`, which would lead outside the export folder",
        "export the data again",
    );
}
