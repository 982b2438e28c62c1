//! The encoder against hand-written lines, and against a small parser that
//! reads line protocol the way InfluxDB 1.x does.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::measure_type::MeasureType;
use crate::record::{SeriesInfo, TableCatalog};

fn catalog(target: &str, dims: &[(&str, &str)], measures: &[(&str, MeasureType)]) -> Catalog {
    Catalog {
        tables: vec![TableCatalog {
            name: "t".into(),
            target: target.into(),
            series: vec![SeriesInfo {
                dims: dims
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                key: 0,
            }],
            measures: measures.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
        }],
    }
}

fn record(time: i64, measures: Vec<(u16, Value)>) -> Record {
    Record {
        time,
        writers: vec![7; measures.len()],
        measures,
        steps: vec![7],
        ..Record::default()
    }
}

fn encode(catalog: &Catalog, records: &[Record]) -> Result<Encoded, Box<Unwritable>> {
    Encoder::new(catalog).encode(catalog, records)
}

fn text(catalog: &Catalog, records: &[Record]) -> String {
    String::from_utf8(encode(catalog, records).unwrap().body).unwrap()
}

const T: i64 = 1_764_000_000_000_000_000;

#[test]
fn a_record_is_a_line_of_measurement_sorted_tags_fields_and_time() {
    let c = catalog(
        "cpu",
        &[("host", "a"), ("region", "eu")],
        &[
            ("busy", MeasureType::Boolean),
            ("count", MeasureType::Bigint),
            ("load", MeasureType::Double),
            ("state", MeasureType::Varchar),
        ],
    );
    let r = record(
        T,
        vec![
            (0, Value::Boolean(true)),
            (1, Value::Bigint(-42)),
            (2, Value::Double(1.0)),
            (3, Value::Varchar("ok".into())),
        ],
    );
    assert_eq!(
        text(&c, &[r]),
        "cpu,host=a,region=eu busy=true,count=-42i,load=1.0,state=\"ok\" 1764000000\n"
    );
}

#[test]
fn doubles_round_trip_and_stay_floats() {
    let c = catalog("m", &[], &[("v", MeasureType::Double)]);
    for (v, written) in [
        (1.0, "1.0"),
        (-0.5, "-0.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e21, "1e21"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
    ] {
        let line = text(&c, &[record(0, vec![(0, Value::Double(v))])]);
        assert_eq!(line, format!("m v={written} 0\n"));
        assert_eq!(written.parse::<f64>().unwrap(), v);
    }
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = encode(&c, &[record(0, vec![(0, Value::Double(v))])]).unwrap_err();
        assert!(matches!(err.problem, Problem::NotFinite { .. }), "{err:?}");
        assert_eq!(err.measure.as_deref(), Some("v"));
    }
    assert_eq!(
        text(&c, &[record(0, vec![(0, Value::Bigint(i64::MIN))])]),
        "m v=-9223372036854775808i 0\n"
    );
}

#[test]
fn commas_spaces_equals_quotes_backslashes_and_unicode_are_escaped() {
    let c = catalog(
        "my table,x=1",
        &[("a b,c=d", "v 1,2=3"), ("ort", "Zürich 日本")],
        &[("f=1 2,3", MeasureType::Varchar)],
    );
    let r = record(
        T,
        vec![(0, Value::Varchar(r#"say "hi" \ C:\dir, a=b ü"#.into()))],
    );
    assert_eq!(
        text(&c, &[r]),
        "my\\ table\\,x=1,a\\ b\\,c\\=d=v\\ 1\\,2\\=3,ort=Zürich\\ 日本 \
         f\\=1\\ 2\\,3=\"say \\\"hi\\\" \\\\ C:\\\\dir, a=b ü\" 1764000000\n"
    );
    // A lone backslash before an ordinary character is written as it is.
    let c = catalog("m", &[("path", r"C:\dir")], &[("v", MeasureType::Bigint)]);
    assert_eq!(
        text(&c, &[record(0, vec![(0, Value::Bigint(1))])]),
        "m,path=C:\\dir v=1i 0\n"
    );
}

fn problem_of(c: &Catalog, value: Value) -> Box<Unwritable> {
    encode(c, &[record(T, vec![(0, value)])]).unwrap_err()
}

#[test]
fn what_line_protocol_cannot_carry_is_refused_naming_the_record() {
    let bigint = [("v", MeasureType::Bigint)];
    let cases: Vec<(Catalog, Problem)> = vec![
        (
            catalog("m", &[("site", "")], &bigint),
            Problem::Empty {
                part: Part::TagValue,
            },
        ),
        (
            catalog("m", &[("_site", "a")], &bigint),
            Problem::Reserved {
                part: Part::TagKey,
                name: "_site".into(),
            },
        ),
        (
            catalog("m", &[("time", "a")], &bigint),
            Problem::Reserved {
                part: Part::TagKey,
                name: "time".into(),
            },
        ),
        (
            catalog("m", &[("site", "a\nb")], &bigint),
            Problem::Newline {
                part: Some(Part::TagValue),
                text: "a\nb".into(),
            },
        ),
        (
            catalog("m", &[("si\rte", "a")], &bigint),
            Problem::Newline {
                part: Some(Part::TagKey),
                text: "si\rte".into(),
            },
        ),
        (
            catalog("m\nx", &[], &bigint),
            Problem::Newline {
                part: Some(Part::Measurement),
                text: "m\nx".into(),
            },
        ),
        (
            catalog("m", &[("site", "a\\")], &bigint),
            Problem::Backslash {
                part: Part::TagValue,
                text: "a\\".into(),
            },
        ),
        (
            catalog("m", &[("site", "a\\,b")], &bigint),
            Problem::Backslash {
                part: Part::TagValue,
                text: "a\\,b".into(),
            },
        ),
        (
            catalog("m", &[], &[("_value", MeasureType::Bigint)]),
            Problem::Reserved {
                part: Part::FieldKey,
                name: "_value".into(),
            },
        ),
        (
            catalog("m", &[], &[("a\nb", MeasureType::Bigint)]),
            Problem::Newline {
                part: Some(Part::FieldKey),
                text: "a\nb".into(),
            },
        ),
    ];
    for (c, expected) in cases {
        let err = problem_of(&c, Value::Bigint(1));
        assert_eq!(err.problem, expected);
        assert_eq!(err.table, c.tables[0].target);
        assert_eq!(err.series, c.tables[0].series[0].dims);
        assert_eq!(err.time, T);
        assert_eq!(err.step, Some(7));
    }
    let c = catalog("m", &[("site", "a")], &[("note", MeasureType::Varchar)]);
    let long: Arc<str> = "x".repeat(MAX_STRING_FIELD_BYTES + 1).into();
    let err = problem_of(&c, Value::Varchar(long));
    assert_eq!(
        err.problem,
        Problem::StringTooLong {
            bytes: MAX_STRING_FIELD_BYTES + 1
        }
    );
    assert_eq!(err.measure.as_deref(), Some("note"));
    assert!(
        err.to_string().starts_with(
            "record of `m` at 2025-11-24T16:00:00.000Z in series {site=\"a\"} (step on line 7), measure `note`: a string of 65537 bytes"
        ),
        "{err}"
    );
    let at_limit: Arc<str> = "x".repeat(MAX_STRING_FIELD_BYTES).into();
    assert!(encode(&c, &[record(T, vec![(0, Value::Varchar(at_limit))])]).is_ok());
    let err = problem_of(&c, Value::Varchar("two\nlines".into()));
    assert!(matches!(err.problem, Problem::Newline { part: None, .. }));
    let err = encode(&c, &[record(T, vec![])]).unwrap_err();
    assert_eq!(err.problem, Problem::NoFields);
    // One bad record refuses the batch; check() finds it alone.
    let encoder = Encoder::new(&c);
    let good = record(T, vec![(0, Value::Varchar("a".into()))]);
    let bad = record(T + 1, vec![(0, Value::Varchar("a\nb".into()))]);
    assert!(encoder.check(&c, &good).is_ok());
    assert_eq!(encoder.check(&c, &bad).unwrap_err().time, T + 1);
    assert!(encoder.encode(&c, [&good, &bad]).is_err());
}

#[test]
fn the_precision_is_the_coarsest_that_keeps_every_time_of_the_batch() {
    assert_eq!(
        Precision::coarsest([T, T + 1_000_000_000]),
        Precision::Seconds
    );
    assert_eq!(
        Precision::coarsest([T, T + 5_000_000]),
        Precision::Milliseconds
    );
    assert_eq!(Precision::coarsest([T + 7_000, T]), Precision::Microseconds);
    assert_eq!(Precision::coarsest([T, T + 1]), Precision::Nanoseconds);
    assert_eq!(
        Precision::coarsest([-1_500_000_000]),
        Precision::Milliseconds
    );
    assert_eq!(Precision::coarsest([]), Precision::Seconds);
    let c = catalog("m", &[], &[("v", MeasureType::Bigint)]);
    let batch = [
        record(T, vec![(0, Value::Bigint(1))]),
        record(T + 250_000_000, vec![(0, Value::Bigint(2))]),
        record(-1_750_000_000, vec![(0, Value::Bigint(3))]),
    ];
    let encoded = encode(&c, &batch).unwrap();
    assert_eq!(encoded.precision, Precision::Milliseconds);
    assert_eq!(encoded.lines, 3);
    assert_eq!(
        String::from_utf8(encoded.body).unwrap(),
        "m v=1i 1764000000000\nm v=2i 1764000000250\nm v=3i -1750\n"
    );
}

#[test]
fn a_batch_stops_at_the_line_and_byte_limits() {
    let c = catalog("m", &[], &[("v", MeasureType::Varchar)]);
    let batch: Vec<Record> = (0..5)
        .map(|i| {
            record(
                i * 1_000_000,
                vec![(0, Value::Varchar("x".repeat(10).into()))],
            )
        })
        .collect();
    // `m v="xxxxxxxxxx" N\n` is 19 bytes with a one-digit time.
    let encoder = Encoder::new(&c);
    let within = |lines, bytes| {
        encoder
            .encode_within(&c, &batch, Limits { lines, bytes })
            .unwrap()
    };
    let all = within(10, 1_000);
    assert_eq!(all.lines, 5);
    assert_eq!(all.precision, Precision::Milliseconds);
    assert_eq!(within(3, 1_000).lines, 3);
    let cut = within(10, 45);
    assert_eq!(cut.lines, 2);
    assert_eq!(cut.body.len(), 38);
    assert_eq!(
        String::from_utf8(cut.body).unwrap(),
        "m v=\"xxxxxxxxxx\" 0\nm v=\"xxxxxxxxxx\" 1\n"
    );
    // One record always goes, however small the byte limit.
    assert_eq!(within(10, 1).lines, 1);
    assert_eq!(Limits::WRITE.lines, 5_000);
    // Far below InfluxDB's default max-body-size of 25 MB.
    const { assert!(Limits::WRITE.bytes <= 25_000_000 / 2) };
}

/// A point read back: measurement, tags, fields, time in the batch's unit.
#[derive(Debug, PartialEq)]
struct Point {
    measurement: String,
    tags: Vec<(String, String)>,
    fields: Vec<(String, Value)>,
    time: i64,
}

/// Reads one line the way InfluxDB 1.x does: in names a `\` escapes the
/// separators of its part and is literal before anything else; in strings
/// it escapes `"` and `\`.
fn parse(line: &str) -> Point {
    let bytes = line.as_bytes();
    let mut i = 0;
    // Up to (not past) an unescaped byte of `stops`.
    let name = |i: &mut usize, stops: &[u8], escapes: &[u8]| {
        let mut out = Vec::new();
        while *i < bytes.len() && !stops.contains(&bytes[*i]) {
            if bytes[*i] == b'\\' && *i + 1 < bytes.len() && escapes.contains(&bytes[*i + 1]) {
                out.push(bytes[*i + 1]);
                *i += 2;
            } else {
                out.push(bytes[*i]);
                *i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    let measurement = name(&mut i, b", ", b", ");
    let mut tags = Vec::new();
    while bytes[i] == b',' {
        i += 1;
        let key = name(&mut i, b"=", b", =");
        i += 1;
        let value = name(&mut i, b", ", b", =");
        tags.push((key, value));
    }
    assert_eq!(bytes[i], b' ');
    let mut fields = Vec::new();
    loop {
        i += 1;
        let key = name(&mut i, b"=", b", =");
        i += 1;
        let value = if bytes[i] == b'"' {
            i += 1;
            let mut out = Vec::new();
            while bytes[i] != b'"' {
                if bytes[i] == b'\\' && matches!(bytes[i + 1], b'"' | b'\\') {
                    i += 1;
                }
                out.push(bytes[i]);
                i += 1;
            }
            i += 1;
            Value::Varchar(String::from_utf8(out).unwrap().into())
        } else {
            let start = i;
            while bytes[i] != b',' && bytes[i] != b' ' {
                i += 1;
            }
            let raw = &line[start..i];
            match raw {
                "true" => Value::Boolean(true),
                "false" => Value::Boolean(false),
                _ => match raw.strip_suffix('i') {
                    Some(int) => Value::Bigint(int.parse().unwrap()),
                    None => {
                        // A float keeps a `.` or an exponent.
                        assert!(raw.contains(['.', 'e']), "{raw}");
                        Value::Double(raw.parse().unwrap())
                    }
                },
            }
        };
        fields.push((key, value));
        if bytes[i] == b' ' {
            break;
        }
    }
    let time = line[i + 1..].parse().unwrap();
    Point {
        measurement,
        tags,
        fields,
        time,
    }
}

/// Whether the encoder may refuse `text` as `part`.
fn unwritable(part: Part, text: &str) -> bool {
    let b = text.as_bytes();
    text.is_empty()
        || text.contains(['\n', '\r'])
        || (part != Part::Measurement && part != Part::TagValue && text.starts_with('_'))
        || (part != Part::Measurement && part != Part::TagValue && text == "time")
        || b.iter()
            .enumerate()
            .any(|(i, &c)| c == b'\\' && b.get(i + 1).is_none_or(|n| b"\\, =".contains(n)))
}

fn word() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('a'),
            Just('z'),
            Just('_'),
            Just(','),
            Just(' '),
            Just('='),
            Just('"'),
            Just('\\'),
            Just('\n'),
            Just('ü'),
            Just('日'),
            Just('😀'),
        ],
        0..6,
    )
    .prop_map(|c| c.into_iter().collect())
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<f64>().prop_map(Value::Double),
        any::<i64>().prop_map(Value::Bigint),
        any::<bool>().prop_map(Value::Boolean),
        word().prop_map(|s| Value::Varchar(s.into())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn what_is_written_reads_back_as_it_was(
        measurement in word(),
        tags in proptest::collection::btree_map(word(), word(), 0..3),
        fields in proptest::collection::btree_map(word(), value(), 1..4),
        times in proptest::collection::vec(-4_000_000_000_000_000_000i64..4_000_000_000_000_000_000, 1..4),
    ) {
        let dims: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let measures: Vec<(&str, MeasureType)> =
            fields.keys().map(|k| (k.as_str(), MeasureType::Double)).collect();
        let c = catalog(&measurement, &dims, &measures);
        let values: Vec<(u16, Value)> =
            fields.values().cloned().enumerate().map(|(i, v)| (i as u16, v)).collect();
        let records: Vec<Record> = times.iter().map(|t| record(*t, values.clone())).collect();
        let refusable = unwritable(Part::Measurement, &measurement)
            || tags.iter().any(|(k, v)| unwritable(Part::TagKey, k) || unwritable(Part::TagValue, v))
            || fields.iter().any(|(k, v)| unwritable(Part::FieldKey, k) || match v {
                Value::Double(d) => !d.is_finite(),
                Value::Varchar(s) => s.contains(['\n', '\r']),
                _ => false,
            });
        match encode(&c, &records) {
            Err(e) => prop_assert!(refusable, "refused {e}"),
            Ok(encoded) => {
                prop_assert!(!refusable);
                let body = String::from_utf8(encoded.body).unwrap();
                prop_assert_eq!(body.lines().count(), records.len());
                for (line, time) in body.lines().zip(&times) {
                    let point = parse(line);
                    prop_assert_eq!(&point.measurement, &measurement);
                    prop_assert_eq!(&point.tags, &tags.clone().into_iter().collect::<Vec<_>>());
                    prop_assert_eq!(&point.fields, &fields.clone().into_iter().collect::<Vec<_>>());
                    prop_assert_eq!(point.time * encoded.precision.nanos(), *time);
                }
            }
        }
    }
}
