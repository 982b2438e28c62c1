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

// Issue 18: an export is data from elsewhere. Links, FIFOs, repeated or
// countless entries, huge lines and codecs that are not built in are
// refused naming the file, before anything of them is read.

/// Runs `records` on `export.scenario`, killing it if it has not ended
/// within a minute (a FIFO opened for reading waits for a writer forever).
fn records_within_a_minute(run: &Run) -> (i32, String, String) {
    use std::io::Read;
    let mut child = run
        .again(&["records", "export.scenario", "--anchor", ANCHOR])
        .command()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("`records` still runs after a minute: it blocks");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code().unwrap_or(-1), stdout, unwrapped(&stderr))
}

#[test]
fn a_result_file_that_links_outside_the_export_is_refused() {
    let private = "fridge-9,temperature,2024-02-01 05:40:00.000000000,99.5\n";
    let run = default_export("unload-link-out").file("outside/private.gz", gzip(private));
    let link = run.dir.join("export/results/site=oslo-1/Q_b.gz");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("../../../outside/private.gz", &link).unwrap();
    let (code, stdout, stderr) = records(&run, "export.scenario");
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(!stdout.contains("fridge-9"), "{stdout}");
    let stderr = unwrapped(&stderr);
    for words in [
        "export/Q_manifest.json",
        "results/site=oslo-1/Q_b.gz",
        "a symbolic link that leads outside the export folder",
        "export the data again",
    ] {
        assert!(stderr.contains(words), "no `{words}` in:\n{stderr}");
    }
}

#[test]
fn a_result_file_that_links_inside_the_export_is_read() {
    let run = default_export("unload-link-in");
    let file = run.dir.join("export/results/site=oslo-1/Q_b.gz");
    std::fs::create_dir_all(run.dir.join("export/store")).unwrap();
    std::fs::rename(&file, run.dir.join("export/store/Q_b.gz")).unwrap();
    std::os::unix::fs::symlink("../../store/Q_b.gz", &file).unwrap();
    let (code, exported, stderr) = records(&run, "export.scenario");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(exported, records(&run, "plain.scenario").1);
}

/// `mkfifo PATH`.
fn fifo(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let _ = std::fs::remove_file(path);
    let name = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
}

#[test]
fn a_result_file_that_is_a_fifo_is_named_for_what_it_is() {
    let run = default_export("unload-fifo");
    fifo(&run.dir.join("export/results/site=oslo-1/Q_b.gz"));
    let (code, stdout, stderr) = records_within_a_minute(&run);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("`results/site=oslo-1/Q_b.gz`"), "{stderr}");
    assert!(stderr.contains("is a FIFO, not a regular file"), "{stderr}");
    assert!(!stderr.contains("not on disk"), "{stderr}");
}

#[test]
fn a_metadata_file_that_is_a_fifo_does_not_block() {
    let run = default_export("unload-fifo-metadata");
    fifo(&run.dir.join("export/Q_metadata.json"));
    let (code, stdout, stderr) = records_within_a_minute(&run);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("export/Q_metadata.json"), "{stderr}");
    assert!(stderr.contains("is a FIFO, not a regular file"), "{stderr}");
}

#[test]
fn a_manifest_listing_a_file_twice_is_refused() {
    let run = default_export("unload-twice").file(
        "export/Q_manifest.json",
        manifest(
            "CSV",
            &[
                "results/site=oslo-1/Q_a.gz",
                "results/site=oslo-1/Q_b.gz",
                "results/site=oslo-1/Q_a.gz",
            ],
        ),
    );
    fails(
        &run,
        "export/Q_manifest.json",
        "is listed twice",
        "export the data again",
    );
}

#[test]
fn a_manifest_listing_more_files_than_the_limit_is_refused() {
    let names: Vec<String> = (0..=100_000)
        .map(|i| format!("results/site=oslo-1/Q_{i}.gz"))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let run =
        default_export("unload-countless").file("export/Q_manifest.json", manifest("CSV", &names));
    fails(
        &run,
        "export/Q_manifest.json",
        "lists 100001 result files; outatime reads at most 100000",
        "docs/limits.md",
    );
}

#[test]
fn a_manifest_or_metadata_larger_than_the_limit_is_refused_unread() {
    // 33 MiB of spaces before the JSON: valid JSON, and too large.
    let padding = " ".repeat(33 << 20);
    for file in ["export/Q_manifest.json", "export/Q_metadata.json"] {
        let run = default_export("unload-huge-json");
        let text = std::fs::read_to_string(run.dir.join(file)).unwrap();
        let run = run.file(file, format!("{padding}{text}"));
        fails(
            &run,
            file,
            "is larger than 32 MiB, the most outatime reads of an export's manifest or metadata",
            // A diagnostic's help may be wrapped at the `/`.
            "limits.md",
        );
    }
}

#[test]
fn a_gzip_result_line_longer_than_the_limit_is_refused() {
    // One 3 MiB cell in the second file's first line: a few KB gzipped.
    let long = format!(
        "fridge-7,temperature,2024-02-01 05:34:50.000000000,{}\n",
        "9".repeat(3 << 20)
    );
    let run =
        default_export("unload-long-line").file("export/results/site=oslo-1/Q_b.gz", gzip(&long));
    fails(
        &run,
        "export/results/site=oslo-1/Q_b.gz:1",
        "the line is longer than 1 MiB",
        "docs/limits.md",
    );
}

/// A Parquet file of `rows` rows of UNLOAD's four columns (every row alike),
/// compressed with `compression`, `group_rows` rows a row group, each
/// column chunk one page (written a batch at a time, so that the test holds
/// no more than a batch and a page).
fn parquet_of(rows: usize, group_rows: usize, compression: parquet::basic::Compression) -> Vec<u8> {
    parquet_of_device(b"fridge-7", rows, group_rows, compression, 0)
}

/// [`parquet_of`] with `device` as every row's `device_id` (which may be
/// bytes that are not UTF-8), and row k at 05:33:50 + k × `step` ns (0:
/// every row at one instant, which compresses to nothing and is refused
/// as a conflict should it ever be read).
fn parquet_of_device(
    device: &[u8],
    rows: usize,
    group_rows: usize,
    compression: parquet::basic::Compression,
    step: i64,
) -> Vec<u8> {
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    const BATCH: usize = 100_000;
    let schema = parse_message_type(
        "message schema {
           REQUIRED BYTE_ARRAY device_id (STRING);
           REQUIRED BYTE_ARRAY measure_name (STRING);
           REQUIRED INT64 time (TIMESTAMP(NANOS, true));
           REQUIRED DOUBLE measure_value;
         }",
    )
    .unwrap();
    let properties = WriterProperties::builder()
        .set_compression(compression)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(parquet::file::properties::EnabledStatistics::None)
        .set_data_page_size_limit(usize::MAX)
        .set_data_page_row_count_limit(usize::MAX)
        .build();
    let devices = vec![ByteArray::from(device.to_vec()); BATCH.min(group_rows)];
    let names = vec![ByteArray::from("temperature"); BATCH.min(group_rows)];
    // 2024-02-01 05:33:50
    let time = |row: usize| 1_706_765_630_000_000_000_i64 + row as i64 * step;
    let values = vec![4.1; BATCH.min(group_rows)];
    let mut bytes = Vec::new();
    let mut writer =
        SerializedFileWriter::new(&mut bytes, Arc::new(schema), Arc::new(properties)).unwrap();
    let mut left = rows;
    while left > 0 {
        let in_group = left.min(group_rows);
        let group_start = rows - left;
        left -= in_group;
        let mut group = writer.next_row_group().unwrap();
        let mut index = 0;
        while let Some(mut column) = group.next_column().unwrap() {
            let mut written = 0;
            while written < in_group {
                let n = (in_group - written).min(BATCH);
                let first = group_start + written;
                written += n;
                match index {
                    0 => column
                        .typed::<ByteArrayType>()
                        .write_batch(&devices[..n], None, None),
                    1 => column
                        .typed::<ByteArrayType>()
                        .write_batch(&names[..n], None, None),
                    2 => column.typed::<Int64Type>().write_batch(
                        &(first..first + n).map(time).collect::<Vec<_>>(),
                        None,
                        None,
                    ),
                    _ => column
                        .typed::<DoubleType>()
                        .write_batch(&values[..n], None, None),
                }
                .unwrap();
            }
            column.close().unwrap();
            index += 1;
        }
        group.close().unwrap();
    }
    writer.close().unwrap();
    bytes
}

/// A Parquet file of one BOOLEAN column and `rows` rows in one row group:
/// what a row count is checked on, before any column is looked at.
fn parquet_of_booleans(rows: usize) -> Vec<u8> {
    use parquet::data_type::BoolType;
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let schema = parse_message_type("message schema { REQUIRED BOOLEAN flag; }").unwrap();
    let properties = WriterProperties::builder()
        .set_statistics_enabled(parquet::file::properties::EnabledStatistics::None)
        .build();
    let flags = vec![true; 1 << 20];
    let mut bytes = Vec::new();
    let mut writer =
        SerializedFileWriter::new(&mut bytes, Arc::new(schema), Arc::new(properties)).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let mut column = group.next_column().unwrap().unwrap();
    let mut left = rows;
    while left > 0 {
        let n = left.min(flags.len());
        left -= n;
        column
            .typed::<BoolType>()
            .write_batch(&flags[..n], None, None)
            .unwrap();
    }
    column.close().unwrap();
    group.close().unwrap();
    writer.close().unwrap();
    bytes
}

/// `export.scenario` reading one Parquet result file `bytes`.
fn parquet_export(name: &str, bytes: Vec<u8>) -> Run {
    default_export(name)
        .file(
            "export/Q_manifest.json",
            manifest("PARQUET", &["results/site=oslo-1/Q_a.parquet"]),
        )
        .file("export/results/site=oslo-1/Q_a.parquet", bytes)
}

#[test]
fn a_parquet_page_that_decompresses_past_the_limit_is_refused() {
    use parquet::basic::{Compression, GzipLevel};
    // 2.2 M rows in one page a column: 17.6 MB of `time` once gunzipped,
    // a few dozen KB as stored.
    let bytes = parquet_of(
        2_200_000,
        2_200_000,
        Compression::GZIP(GzipLevel::default()),
    );
    assert!(bytes.len() < 1 << 20, "{} bytes", bytes.len());
    let run = parquet_export("unload-parquet-page", bytes);
    fails(
        &run,
        "export/results/site=oslo-1/Q_a.parquet",
        // The first column read is the first one past the limit.
        "a page of column `device_id` in row group 0 holds more than 16 MiB once decompressed",
        "limits.md",
    );
}

#[test]
fn a_parquet_row_group_of_more_rows_than_the_limit_is_refused_before_reading() {
    let bytes = parquet_of_booleans(10_000_001);
    let run = parquet_export("unload-parquet-rows", bytes);
    fails(
        &run,
        "export/results/site=oslo-1/Q_a.parquet",
        "row group 0 holds 10000001 rows; outatime reads at most 10000000 rows a row group",
        "docs/limits.md",
    );
}

#[test]
fn small_parquet_pages_and_row_groups_read_as_before() {
    use parquet::basic::{Compression, GzipLevel};
    // A tenth of a second apart, inside the replay's window.
    let bytes = parquet_of_device(
        b"fridge-7",
        5_000,
        1_000,
        Compression::GZIP(GzipLevel::default()),
        100_000_000,
    );
    let run = parquet_export("unload-parquet-small", bytes);
    let (code, stdout, stderr) = records(&run, "export.scenario");
    assert_eq!(code, 0, "{stderr}");
    // Every row is a record: fridge-7's temperature.
    assert_eq!(stdout.lines().count(), 5_000, "{stdout}");
}

/// `bytes` (a Parquet file) with every column chunk's codec in the footer
/// said to be `codec`; the pages are left as they are.
fn with_codec(bytes: &[u8], codec: parquet::basic::Compression) -> Vec<u8> {
    use parquet::file::metadata::{ParquetMetaDataReader, ParquetMetaDataWriter, RowGroupMetaData};
    let data = bytes::Bytes::copy_from_slice(bytes);
    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(&data)
        .unwrap();
    let footer = u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap());
    let start = bytes.len() - 8 - footer as usize;
    let groups: Vec<RowGroupMetaData> = metadata
        .row_groups()
        .iter()
        .map(|group| {
            let columns = group
                .columns()
                .iter()
                .map(|c| {
                    c.clone()
                        .into_builder()
                        .set_compression(codec)
                        .build()
                        .unwrap()
                })
                .collect();
            group
                .clone()
                .into_builder()
                .set_column_metadata(columns)
                .build()
                .unwrap()
        })
        .collect();
    let metadata = metadata.into_builder().set_row_groups(groups).build();
    let mut out = bytes[..start].to_vec();
    ParquetMetaDataWriter::new(&mut out, &metadata)
        .finish()
        .unwrap();
    out
}

#[test]
fn a_parquet_codec_that_is_not_built_in_is_named() {
    use parquet::basic::{Compression, ZstdLevel};
    let bytes = with_codec(
        &parquet_of(10, 10, Compression::UNCOMPRESSED),
        Compression::ZSTD(ZstdLevel::default()),
    );
    let run = parquet_export("unload-parquet-zstd", bytes);
    let (code, stdout, stderr) = records(&run, "export.scenario");
    assert_eq!(code, 1, "{stdout}{stderr}");
    let stderr = unwrapped(&stderr);
    for words in [
        "export/results/site=oslo-1/Q_a.parquet",
        "column `device_id` is compressed with ZSTD, a codec this outatime does not build in \
         (it reads uncompressed, GZIP and Snappy Parquet)",
        "compression = 'GZIP'",
    ] {
        assert!(stderr.contains(words), "no `{words}` in:\n{stderr}");
    }
    assert!(!stderr.contains("download it again"), "{stderr}");
}

/// `check` of an export whose types come from its metadata, with a URL
/// that leads outside it: the refusal has a code of its own.
#[test]
fn a_refused_url_is_not_reported_as_a_measure_type() {
    let text = scenario("unload", "export/Q_manifest.json")
        .replace("measure_value double", "measure_value");
    let run = default_export("unload-refused-check")
        .file("export.scenario", text)
        .file(
            "export/Q_manifest.json",
            manifest("CSV", &["results/site=oslo-1/../../../plain.csv"]),
        );
    let (code, stdout, stderr) = run.again(&["check", "export.scenario"]).run();
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("outatime::source::export_refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("source::measure_type"), "{stderr}");
    let stderr = unwrapped(&stderr);
    assert!(
        stderr.contains("has the segment `..`, which would lead outside the export folder"),
        "{stderr}"
    );
}

/// A Parquet row the crate cannot read (a string that is not UTF-8) in a
/// redacted column: the crate's words quote its bytes, and are not shown.
#[test]
fn a_bad_parquet_row_never_shows_a_redacted_original() {
    use parquet::basic::Compression;
    let secret = b"SECRETDEV\xff";
    let bytes = parquet_of_device(secret, 3, 3, Compression::UNCOMPRESSED, 0);
    let text = scenario("unload", "export/Q_manifest.json").replace(
        "measures from measure_name value measure_value double\n",
        "measures from measure_name value measure_value double\n  redact device_id\n",
    );
    let run = parquet_export("unload-parquet-redacted", bytes).file("export.scenario", text);
    // The bytes as the crate's `{:?}` of a byte slice writes them.
    let listed = format!("{:?}", &secret[..6]);
    let listed = listed.trim_matches(['[', ']']);
    for budget in ["0", "5"] {
        let (code, stdout, stderr) = run
            .again(&[
                "records",
                "export.scenario",
                "--anchor",
                ANCHOR,
                "--max-bad-rows",
                budget,
            ])
            .env("OUTATIME_REDACT_SALT", "k")
            .run();
        assert!(stderr.contains("Q_a.parquet"), "{stderr}");
        for text in [&stdout, &stderr] {
            assert!(!text.contains("SECRETDEV"), "{text}");
            assert!(!text.contains(listed), "{code}: {text}");
        }
    }
}
