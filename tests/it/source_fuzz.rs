//! The source readers take files from elsewhere: whatever their bytes,
//! reading them ends in rows or in an error naming the file, never in a
//! panic, a hang or an unbounded read. Beside `no_panic`'s scenario
//! mutator, this mutates valid sources (CSV, JSON lines, an UNLOAD export
//! of gzip CSV files, an UNLOAD export of Parquet files) byte by byte and
//! structurally (a line past the limit, a manifest entry twice or leading
//! out, a result file turned into a FIFO or a link out of the export, a cut
//! gzip file, a Parquet footer with bytes flipped), then checks and reads
//! them through the library, with no bad row allowed and with many.
//!
//! `OUTATIME_FUZZ_CASES` sets the number of cases (64 by default, what the
//! test command runs); for a longer run by hand:
//!
//! ```sh
//! OUTATIME_FUZZ_CASES=20000 cargo test --release --test it -- source_fuzz::
//! ```
//!
//! A failure is kept in `proptest-regressions/` beside this file (commit
//! it) and tried first on every later run.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;

use outatime::{Catalog, ReadOptions, Record, Sink};

/// One file of a seed: its path under the case's folder and what it holds.
#[derive(Clone)]
enum Content {
    /// Text read as it is (a CSV or JSON lines file, a manifest, metadata).
    Text(String),
    /// Text stored gzip-compressed (an export's `.gz` result file): mutated
    /// as text and compressed again, or as the compressed bytes.
    Gzip(String),
    /// Bytes (a Parquet file).
    Binary(Vec<u8>),
}

#[derive(Clone)]
struct Seed {
    scenario: &'static str,
    files: Vec<(&'static str, Content)>,
}

const CSV_SCENARIO: &str = "scenario \"fuzz\"\n\
source s csv \"d.csv\" {\n  time ts\n  dimensions dev\n  measures v double, n varchar\n}\n\
table telemetry\n\
replay s into telemetry {\n  shift end to now\n}\n";

const JSONL_SCENARIO: &str = "scenario \"fuzz\"\n\
source s jsonl \"d.jsonl\" {\n  time ts\n  dimensions dev\n  measures v double, n varchar\n}\n\
table telemetry\n\
replay s into telemetry {\n  shift end to now\n}\n";

/// An export whose measure type is left to its metadata.
const UNLOAD_SCENARIO: &str = "scenario \"fuzz\"\n\
source s unload \"export/Q_manifest.json\" {\n  time time\n  dimensions device_id, site\n  \
measures from measure_name value measure_value\n}\n\
table telemetry\n\
replay s into telemetry {\n  shift end to now\n}\n";

const METADATA: &str = r#"{"ColumnInfo":[
  {"Name":"device_id","Type":{"ScalarType":"VARCHAR"}},
  {"Name":"measure_name","Type":{"ScalarType":"VARCHAR"}},
  {"Name":"time","Type":{"ScalarType":"TIMESTAMP"}},
  {"Name":"measure_value","Type":{"ScalarType":"DOUBLE"}},
  {"Name":"site","Type":{"ScalarType":"VARCHAR"}}]}"#;

fn manifest(format: &str, files: &[&str]) -> String {
    let files: Vec<String> = files
        .iter()
        .map(|f| format!(r#"{{"url":"s3://b/day1/{f}"}}"#))
        .collect();
    format!(
        r#"{{"result_files":[{}],"query_metadata":{{"result_format":"{format}"}}}}"#,
        files.join(",")
    )
}

/// The rows of every seed: device, measure, time, value.
const ROWS: &[(&str, &str, &str, f64)] = &[
    (
        "fridge-7",
        "temperature",
        "2024-02-01 05:33:50.000000000",
        4.1,
    ),
    (
        "fridge-7",
        "humidity",
        "2024-02-01 05:33:50.000000000",
        61.0,
    ),
    (
        "fridge-8",
        "temperature",
        "2024-02-01 05:34:50.500000000",
        3.9,
    ),
];

fn seeds() -> Vec<Seed> {
    let csv = ROWS.iter().fold(String::from("ts,dev,v,n\n"), |out, r| {
        out + &format!("{},{},{},{}\n", r.2.replace(' ', "T") + "Z", r.0, r.3, r.1)
    });
    let jsonl = ROWS.iter().fold(String::new(), |out, r| {
        out + &format!(
            "{{\"ts\":\"{}Z\",\"dev\":\"{}\",\"v\":{},\"n\":\"{}\"}}\n",
            r.2.replace(' ', "T"),
            r.0,
            r.3,
            r.1
        )
    });
    let unload_line = |r: &(&str, &str, &str, f64)| format!("{},{},{},{}\n", r.0, r.1, r.2, r.3);
    vec![
        Seed {
            scenario: CSV_SCENARIO,
            files: vec![("d.csv", Content::Text(csv))],
        },
        Seed {
            scenario: JSONL_SCENARIO,
            files: vec![("d.jsonl", Content::Text(jsonl))],
        },
        Seed {
            scenario: UNLOAD_SCENARIO,
            files: vec![
                (
                    "export/Q_manifest.json",
                    Content::Text(manifest(
                        "CSV",
                        &["results/site=oslo/Q_1.gz", "results/site=bergen/Q_1.gz"],
                    )),
                ),
                ("export/Q_metadata.json", Content::Text(METADATA.into())),
                (
                    "export/results/site=oslo/Q_1.gz",
                    Content::Gzip(ROWS[..2].iter().map(unload_line).collect()),
                ),
                (
                    "export/results/site=bergen/Q_1.gz",
                    Content::Gzip(unload_line(&ROWS[2])),
                ),
            ],
        },
        Seed {
            scenario: UNLOAD_SCENARIO,
            files: vec![
                (
                    "export/Q_manifest.json",
                    Content::Text(manifest("PARQUET", &["results/site=oslo/Q_1.parquet"])),
                ),
                ("export/Q_metadata.json", Content::Text(METADATA.into())),
                (
                    "export/results/site=oslo/Q_1.parquet",
                    Content::Binary(parquet(ROWS)),
                ),
            ],
        },
    ]
}

/// `rows` as an UNLOAD Parquet result file (without the partition column).
fn parquet(rows: &[(&'static str, &'static str, &str, f64)]) -> Vec<u8> {
    use parquet::basic::{Compression, GzipLevel};
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let schema = parse_message_type(
        "message schema {
           REQUIRED BYTE_ARRAY device_id (STRING);
           REQUIRED BYTE_ARRAY measure_name (STRING);
           REQUIRED INT64 time (TIMESTAMP(NANOS, true));
           OPTIONAL DOUBLE measure_value;
         }",
    )
    .unwrap();
    let properties = WriterProperties::builder()
        .set_compression(Compression::GZIP(GzipLevel::default()))
        .build();
    let mut bytes = Vec::new();
    let mut writer =
        SerializedFileWriter::new(&mut bytes, Arc::new(schema), Arc::new(properties)).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let mut index = 0;
    while let Some(mut column) = group.next_column().unwrap() {
        let texts = |pick: fn(&(&'static str, &'static str, &str, f64)) -> &'static str| {
            rows.iter()
                .map(|r| ByteArray::from(pick(r)))
                .collect::<Vec<_>>()
        };
        match index {
            0 => column
                .typed::<ByteArrayType>()
                .write_batch(&texts(|r| r.0), None, None),
            1 => column
                .typed::<ByteArrayType>()
                .write_batch(&texts(|r| r.1), None, None),
            2 => {
                let times: Vec<i64> = rows
                    .iter()
                    .map(|r| {
                        chrono::NaiveDateTime::parse_from_str(r.2, "%Y-%m-%d %H:%M:%S%.f")
                            .unwrap()
                            .and_utc()
                            .timestamp_nanos_opt()
                            .unwrap()
                    })
                    .collect();
                column.typed::<Int64Type>().write_batch(&times, None, None)
            }
            _ => {
                let values: Vec<f64> = rows.iter().map(|r| r.3).collect();
                column
                    .typed::<DoubleType>()
                    .write_batch(&values, Some(&vec![1; rows.len()]), None)
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

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// What mutations insert: the characters and words readers decide on.
const FRAGMENTS: &[&[u8]] = &[
    b",",
    b"\"",
    b"\\",
    b"\n",
    b"\r\n",
    b"\r",
    "\u{feff}".as_bytes(),
    b"\0",
    b"\xff\xfe",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"null",
    b"true",
    b"1e999",
    b"-0",
    b"NaN",
    b"9223372036854775808",
    b"2262-04-12T00:00:00Z",
    b"1677-01-01 00:00:00.000000000",
    b"..",
    b"%2e%2e",
    b"%2F",
    b"/",
    b"=",
    b"s3://",
    b"results/",
    b"\"url\":\"s3://b/day1/results/site=oslo/Q_1.gz\"",
    b"{\"url\":\"s3://b/day1/../../x\"},",
    b"\"ScalarType\":\"BIGINT\"",
    "é".as_bytes(),
    b"PAR1",
];

/// Byte edits, as `no_panic::mutate` makes them: insert a fragment,
/// delete, truncate, duplicate a range, flip a byte.
fn mutate(bytes: &mut Vec<u8>, edits: &[(usize, usize, usize)]) {
    for &(kind, at, what) in edits {
        let at = at % (bytes.len() + 1);
        match kind % 5 {
            0 => {
                let fragment = FRAGMENTS[what % FRAGMENTS.len()];
                bytes.splice(at..at, fragment.iter().copied());
            }
            1 => {
                let end = (at + what % 40).min(bytes.len());
                bytes.drain(at..end);
            }
            2 => bytes.truncate(at),
            3 => {
                let end = (at + what % 60).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            _ => {
                if let Some(byte) = bytes.get_mut(at) {
                    *byte ^= 1 << (what % 8);
                }
            }
        }
    }
}

/// A change to a seed's shape, beyond bytes; each says what reading must
/// then end in.
#[derive(Clone, Copy, Debug)]
enum Structural {
    None,
    /// 2 MiB without a line break inserted into a data file's text: a line
    /// past the limit, refused, not read.
    LongLine,
    /// The manifest's first entry listed once more.
    DuplicateEntry,
    /// A manifest entry whose URL leads out of the export.
    EntryLeadingOut,
    /// A result file replaced by a FIFO: refused, and nothing blocks.
    Fifo,
    /// A result file replaced by a link to a file outside the export.
    LinkOut,
    /// A gzip result file cut in half.
    CutGzip,
    /// A byte of a Parquet file's last 64 flipped (its footer).
    FlipFooter,
}

const STRUCTURAL: [Structural; 8] = [
    Structural::None,
    Structural::LongLine,
    Structural::DuplicateEntry,
    Structural::EntryLeadingOut,
    Structural::Fifo,
    Structural::LinkOut,
    Structural::CutGzip,
    Structural::FlipFooter,
];

/// What a case must end in, besides no panic.
#[derive(Debug, PartialEq)]
enum Expect {
    /// Rows or an error, whichever.
    Anything,
    /// An error (at `check` or reading) holding these words.
    Refused(&'static str),
}

/// Writes `seed` into `dir` with `structural` applied to its `target`th
/// file, and `edits` (as text or as stored bytes, by `raw`) unless the
/// change says what reading must end in (an edit could end it sooner).
fn write_case(
    dir: &Path,
    seed: &Seed,
    target: usize,
    raw: bool,
    edits: &[(usize, usize, usize)],
    structural: Structural,
    at: usize,
) -> Expect {
    let target = target % seed.files.len();
    let mut expect = Expect::Anything;
    let edits = match structural {
        Structural::None | Structural::CutGzip | Structural::FlipFooter => edits,
        _ => &[],
    };
    let outside = dir.join("outside.csv");
    std::fs::write(&outside, "fridge-9,temperature,2024-02-01 05:40:00,99.5\n").unwrap();
    for (index, (name, content)) in seed.files.iter().enumerate() {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mine = index == target;
        let mut content = content.clone();
        if mine {
            // Structural changes first, on the valid file, so that what
            // they must end in holds.
            match (structural, &mut content) {
                (Structural::LongLine, Content::Text(text) | Content::Gzip(text))
                    if !name.ends_with(".json") =>
                {
                    // Inside or at the end of a line, whichever `at` picks.
                    let mut at = at % (text.len() + 1);
                    while !text.is_char_boundary(at) {
                        at -= 1;
                    }
                    text.insert_str(at, &"x".repeat(2 << 20));
                    expect = Expect::Refused("longer than 1 MiB");
                }
                (Structural::DuplicateEntry, Content::Text(text))
                    if name.ends_with("manifest.json") =>
                {
                    let first = text.find("{\"url\"").unwrap();
                    let end = first + text[first..].find('}').unwrap() + 1;
                    let entry = text[first..end].to_string();
                    text.insert_str(first, &format!("{entry},"));
                    expect = Expect::Refused("is listed twice");
                }
                (Structural::EntryLeadingOut, Content::Text(text))
                    if name.ends_with("manifest.json") =>
                {
                    *text = text.replacen("/Q_1.", "/../../Q_1.", 1);
                    expect = Expect::Refused("lead outside the export folder");
                }
                (Structural::CutGzip, Content::Gzip(text)) => {
                    let bytes = gzip(text.as_bytes());
                    content = Content::Binary(bytes[..bytes.len() / 2].to_vec());
                }
                (Structural::FlipFooter, Content::Binary(bytes)) if bytes.len() > 64 => {
                    let len = bytes.len();
                    bytes[len - 1 - at % 64] ^= 1 << (at % 8);
                }
                _ => {}
            }
        }
        let mut bytes = match &content {
            Content::Text(text) => text.clone().into_bytes(),
            Content::Gzip(text) if mine && !raw => {
                let mut text = text.clone().into_bytes();
                mutate(&mut text, edits);
                gzip(&text)
            }
            Content::Gzip(text) => gzip(text.as_bytes()),
            Content::Binary(bytes) => bytes.clone(),
        };
        if mine && (raw || !matches!(content, Content::Gzip(_))) {
            mutate(&mut bytes, edits);
        }
        let result_file = name.contains("/results/");
        match structural {
            Structural::Fifo if mine && result_file => {
                fifo(&path);
                expect = Expect::Refused("is a FIFO, not a regular file");
            }
            Structural::LinkOut if mine && result_file => {
                std::os::unix::fs::symlink(&outside, &path).unwrap();
                expect = Expect::Refused("a symbolic link that leads outside the export folder");
            }
            _ => std::fs::write(&path, bytes).unwrap(),
        }
    }
    expect
}

fn fifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
}

/// A sink that stops after a bounded number of records.
struct Bounded(u64);

impl Sink for Bounded {
    fn record(&mut self, _: &Record, _: &Catalog) -> std::io::Result<()> {
        self.0 += 1;
        if self.0 > 10_000 {
            return Err(std::io::Error::other("enough"));
        }
        Ok(())
    }
}

/// Checks and reads the case in `dir`: no panic (proptest reports one),
/// a data error names a file of the case, and `expect` holds. Returns
/// whether rows were read.
fn read_case(dir: &Path, scenario: &str, expect: &Expect) -> bool {
    let checked = outatime::check_text(scenario, dir);
    let Some(scenario) = checked.scenario else {
        let _ = outatime::render::human(
            "s.scenario",
            scenario,
            &checked.diagnostics,
            outatime::render::Style::PLAIN,
        );
        let rendered: Vec<String> = checked.diagnostics.iter().map(|d| d.message()).collect();
        let rendered = rendered.join("\n");
        if let Expect::Refused(words) = expect {
            // `check` reads an export's manifest and metadata, not its rows.
            assert!(
                !words.contains("longer than") && !words.contains("listed twice"),
                "`check` stopped a case only reading finds: {rendered}"
            );
            assert!(rendered.contains(words), "no `{words}` in: {rendered}");
        }
        return false;
    };
    let mut read = false;
    for max_bad_rows in [0, 1_000] {
        let options = ReadOptions {
            max_bad_rows,
            ..Default::default()
        };
        match outatime::prepare(&scenario, options) {
            Ok(prepared) => {
                assert_eq!(*expect, Expect::Anything, "read without an error");
                for summary in prepared.sources.values() {
                    for skipped in &summary.skipped {
                        assert!(skipped.file.starts_with(dir), "{skipped:?}");
                    }
                }
                let _ = prepared.run(0, &mut Bounded(0));
                read = true;
            }
            Err(error) => {
                let text = error.to_string();
                let code = miette::Diagnostic::code(&error).map(|c| c.to_string());
                if code.as_deref() == Some("outatime::data::bad_row") {
                    assert!(
                        text.contains(&*dir.to_string_lossy()),
                        "a data error names no file of the case: {text}"
                    );
                }
                if let Expect::Refused(words) = expect {
                    assert!(text.contains(words), "no `{words}` in: {text}");
                }
            }
        }
    }
    read
}

fn cases() -> u32 {
    std::env::var("OUTATIME_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64)
}

#[test]
fn mutated_sources_end_in_rows_or_an_error_naming_the_file() {
    let seeds = seeds();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: cases(),
        source_file: Some(file!()),
        ..ProptestConfig::default()
    });
    let strategy = (
        0..seeds.len(),
        0usize..8,
        any::<bool>(),
        proptest::collection::vec((0usize..5, 0usize..100_000, 0usize..1_000), 0..6),
        0..STRUCTURAL.len(),
        0usize..100_000,
    );
    let read = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |(seed, target, raw, edits, structural, at)| {
            let dir = crate::common::scratch("source-fuzz");
            let seed = &seeds[seed];
            let expect = write_case(
                dir.path(),
                seed,
                target,
                raw,
                &edits,
                STRUCTURAL[structural],
                at,
            );
            if read_case(dir.path(), seed.scenario, &expect) {
                read.set(read.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    // Most cases with few edits still read: enough to mean anything.
    assert!(
        read.get() >= cases() / 8,
        "only {} of {} cases read rows",
        read.get(),
        cases()
    );
}

/// Every seed reads as it is: the harness starts from valid sources.
#[test]
fn the_seeds_read() {
    for seed in seeds() {
        let dir = crate::common::scratch("source-fuzz-seed");
        let expect = write_case(dir.path(), &seed, 0, false, &[], Structural::None, 0);
        assert!(read_case(dir.path(), seed.scenario, &expect));
    }
}
