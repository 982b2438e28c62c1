//! The strict Timestream endpoint (`tests/it/fakes/strict/`) against the real
//! `aws-sdk-timestreamwrite` client: the write rules it enforces, and each
//! injected fault as the error the SDK reports.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use aws_sdk_timestreamwrite::Client;
use aws_sdk_timestreamwrite::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_timestreamwrite::operation::write_records::{WriteRecordsError, WriteRecordsOutput};
use aws_sdk_timestreamwrite::types::{
    Dimension, MagneticStoreWriteProperties, MeasureValueType, Record, RetentionProperties,
    TableStatus, TimeUnit,
};

use crate::fakes::strict::{self, Faults, Retention, StoredValue, StrictEndpoint, ValueKind};

const DATABASE: &str = "db";
const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

async fn client(endpoint: &StrictEndpoint) -> Client {
    client_timing_out(endpoint, None).await
}

async fn client_timing_out(endpoint: &StrictEndpoint, timeout: Option<Duration>) -> Client {
    endpoint.sdk_client(timeout).await
}

/// An endpoint with table `t` of the given retention in DATABASE.
fn endpoint_with_table(retention: Retention) -> StrictEndpoint {
    let endpoint = StrictEndpoint::start();
    endpoint.create_table(DATABASE, "t", retention);
    endpoint
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn dimension(name: &str, value: &str) -> Dimension {
    Dimension::builder()
        .name(name)
        .value(value)
        .build()
        .unwrap()
}

fn double(device: &str, value: &str, time_ms: i64) -> Record {
    Record::builder()
        .dimensions(dimension("device", device))
        .measure_name("v")
        .measure_value(value)
        .measure_value_type(MeasureValueType::Double)
        .time(time_ms.to_string())
        .build()
}

fn versioned(value: &str, time_ms: i64, version: i64) -> Record {
    let mut record = double("a", value, time_ms);
    record.version = Some(version);
    record
}

async fn write(
    client: &Client,
    records: Vec<Record>,
) -> Result<WriteRecordsOutput, SdkError<WriteRecordsError>> {
    client
        .write_records()
        .database_name(DATABASE)
        .table_name("t")
        .set_records(Some(records))
        .send()
        .await
}

/// The rejected records of a RejectedRecordsException: index, reason and
/// existing version.
fn rejected(error: SdkError<WriteRecordsError>) -> Vec<(i32, String, Option<i64>)> {
    match error.into_service_error() {
        WriteRecordsError::RejectedRecordsException(error) => error
            .rejected_records()
            .iter()
            .map(|r| {
                (
                    r.record_index(),
                    r.reason().unwrap_or_default().to_owned(),
                    r.existing_version(),
                )
            })
            .collect(),
        other => panic!("expected RejectedRecordsException, got {other:?}"),
    }
}

fn single(text: &str) -> StoredValue {
    StoredValue::Single(ValueKind::Double, text.to_owned())
}

#[tokio::test]
async fn create_and_describe_round_trip_with_retention() {
    let endpoint = StrictEndpoint::start();
    let client = client(&endpoint).await;
    client
        .create_database()
        .database_name(DATABASE)
        .send()
        .await
        .unwrap();
    client
        .create_table()
        .database_name(DATABASE)
        .table_name("kept")
        .retention_properties(
            RetentionProperties::builder()
                .memory_store_retention_period_in_hours(12)
                .magnetic_store_retention_period_in_days(30)
                .build()
                .unwrap(),
        )
        .magnetic_store_write_properties(
            MagneticStoreWriteProperties::builder()
                .enable_magnetic_store_writes(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    client
        .create_table()
        .database_name(DATABASE)
        .table_name("defaults")
        .send()
        .await
        .unwrap();

    let described = client
        .describe_table()
        .database_name(DATABASE)
        .table_name("kept")
        .send()
        .await
        .unwrap();
    let table = described.table().unwrap();
    assert_eq!(table.table_status(), Some(&TableStatus::Active));
    let retention = table.retention_properties().unwrap();
    assert_eq!(retention.memory_store_retention_period_in_hours(), 12);
    assert_eq!(retention.magnetic_store_retention_period_in_days(), 30);
    assert!(
        table
            .magnetic_store_write_properties()
            .unwrap()
            .enable_magnetic_store_writes()
    );
    assert_eq!(
        table.arn(),
        Some("arn:aws:timestream:us-east-1:000000000000:database/db/table/kept")
    );

    let defaults = client
        .describe_table()
        .database_name(DATABASE)
        .table_name("defaults")
        .send()
        .await
        .unwrap();
    let defaults = defaults.table().unwrap();
    let retention = defaults.retention_properties().unwrap();
    assert_eq!(retention.memory_store_retention_period_in_hours(), 6);
    assert_eq!(retention.magnetic_store_retention_period_in_days(), 73000);
    assert!(
        !defaults
            .magnetic_store_write_properties()
            .unwrap()
            .enable_magnetic_store_writes()
    );

    let database = client
        .describe_database()
        .database_name(DATABASE)
        .send()
        .await
        .unwrap();
    assert_eq!(database.database().unwrap().table_count(), 2);

    let again = client
        .create_database()
        .database_name(DATABASE)
        .send()
        .await
        .unwrap_err();
    assert!(again.into_service_error().is_conflict_exception());
    let again = client
        .create_table()
        .database_name(DATABASE)
        .table_name("kept")
        .send()
        .await
        .unwrap_err();
    assert!(again.into_service_error().is_conflict_exception());
    let missing = client
        .describe_table()
        .database_name(DATABASE)
        .table_name("nope")
        .send()
        .await
        .unwrap_err();
    assert!(
        missing
            .into_service_error()
            .is_resource_not_found_exception()
    );
    let out_of_range = client
        .create_table()
        .database_name(DATABASE)
        .table_name("bad")
        .retention_properties(
            RetentionProperties::builder()
                .memory_store_retention_period_in_hours(0)
                .magnetic_store_retention_period_in_days(1)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(out_of_range.into_service_error().is_validation_exception());

    let endpoints = client.describe_endpoints().send().await.unwrap();
    let first = &endpoints.endpoints()[0];
    assert_eq!(
        first.address(),
        endpoint.url().trim_start_matches("http://")
    );
    assert_eq!(first.cache_period_in_minutes(), 1440);
    let operations = endpoint.stats().operations;
    assert_eq!(operations["CreateTable"], 4);
    assert_eq!(operations["DescribeEndpoints"], 1);
}

#[tokio::test]
async fn writes_to_an_unknown_database_or_table_are_not_found() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    for (database, table) in [("nope", "t"), (DATABASE, "nope")] {
        let error = client
            .write_records()
            .database_name(database)
            .table_name(table)
            .records(double("a", "1", now_ms()))
            .send()
            .await
            .unwrap_err();
        assert!(error.into_service_error().is_resource_not_found_exception());
    }
}

#[tokio::test]
async fn more_than_100_records_is_a_validation_error_that_stores_nothing() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    let now = now_ms();
    let records = (0..101).map(|i| double("a", "1", now - i)).collect();
    let error = write(&client, records).await.unwrap_err();
    let error = error.into_service_error();
    assert!(error.is_validation_exception(), "{error:?}");
    assert!(
        error
            .message()
            .unwrap()
            .contains("less than or equal to 100")
    );
    assert!(endpoint.stored(DATABASE, "t").is_empty());

    let records = (0..100).map(|i| double("a", "1", now - i)).collect();
    let output = write(&client, records).await.unwrap();
    assert_eq!(output.records_ingested().unwrap().total(), 100);
    assert_eq!(endpoint.stats().largest_batch, 101);
}

#[tokio::test]
async fn future_and_too_old_records_are_rejected_by_index_and_the_rest_stored() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    let now = now_ms();
    let records = vec![
        double("a", "1", now),
        double("b", "2", now + 20 * MINUTE_MS),
        double("c", "3", now - 7 * HOUR_MS),
        double("d", "4", now - 5 * HOUR_MS),
        double("e", "5", now + 10 * MINUTE_MS),
    ];
    let rejected = rejected(write(&client, records).await.unwrap_err());
    let indexes: Vec<i32> = rejected.iter().map(|r| r.0).collect();
    assert_eq!(indexes, [1, 2]);
    for (_, reason, existing) in &rejected {
        assert!(
            reason.starts_with("The record timestamp is outside the time range [")
                && reason.ends_with(") of the memory store."),
            "{reason}"
        );
        assert_eq!(*existing, None);
    }
    let devices: Vec<String> = endpoint
        .stored(DATABASE, "t")
        .iter()
        .map(|s| s.dimensions["device"].clone())
        .collect();
    assert_eq!(devices, ["a", "d", "e"]);
    let stats = endpoint.stats();
    assert_eq!((stats.records_ingested, stats.records_rejected), (3, 2));
}

#[tokio::test]
async fn magnetic_writes_accept_records_older_than_the_memory_store() {
    let endpoint = endpoint_with_table(Retention {
        memory_hours: 1,
        magnetic_days: 1,
        magnetic_writes: true,
    });
    let client = client(&endpoint).await;
    let now = now_ms();
    let output = write(
        &client,
        vec![double("a", "1", now - 5 * HOUR_MS), double("b", "1", now)],
    )
    .await
    .unwrap();
    let ingested = output.records_ingested().unwrap();
    assert_eq!((ingested.memory_store(), ingested.magnetic_store()), (1, 1));

    // Memory and magnetic retention add up: 25 hours.
    let rejected = rejected(
        write(
            &client,
            vec![
                double("c", "1", now - 24 * HOUR_MS),
                double("d", "1", now - 26 * HOUR_MS),
            ],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0, 1);
    assert!(
        rejected[0].1.ends_with("of the data ingestion window."),
        "{}",
        rejected[0].1
    );
    assert_eq!(endpoint.stored(DATABASE, "t").len(), 3);
}

#[tokio::test]
async fn an_identical_rewrite_is_accepted_and_counted() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    let now = now_ms();
    let batch = vec![double("a", "1.5", now), double("b", "2", now)];
    write(&client, batch.clone()).await.unwrap();
    write(&client, batch).await.unwrap();
    // The same DOUBLE written another way is the same value.
    write(&client, vec![double("a", "1.50", now)])
        .await
        .unwrap();
    let stored = endpoint.stored(DATABASE, "t");
    assert_eq!(stored.len(), 2);
    assert_eq!((stored[0].writes, stored[0].version), (3, 1));
    assert_eq!(stored[0].value, single("1.5"));
    assert_eq!(stored[1].writes, 2);
    assert_eq!(stored[0].time_ns, now * 1_000_000);
}

#[tokio::test]
async fn versions_decide_whether_a_different_value_replaces_the_stored_one() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    let now = now_ms();
    write(&client, vec![versioned("1", now, 5)]).await.unwrap();

    let equal = rejected(
        write(&client, vec![versioned("2", now, 5)])
            .await
            .unwrap_err(),
    );
    assert_eq!(equal.len(), 1);
    assert!(
        equal[0]
            .1
            .starts_with("A record already exists with the same time")
    );
    assert_eq!(equal[0].2, Some(5));

    let lower = rejected(
        write(&client, vec![double("a", "2", now)])
            .await
            .unwrap_err(),
    );
    assert_eq!(
        lower[0].1,
        "The record version 1 is lower than the existing version 5. \
         A higher version is required to update the measure value."
    );
    assert_eq!(lower[0].2, Some(5));
    assert_eq!(endpoint.stored(DATABASE, "t")[0].value, single("1"));

    write(&client, vec![versioned("2", now, 6)]).await.unwrap();
    let stored = endpoint.stored(DATABASE, "t");
    assert_eq!((&stored[0].value, stored[0].version), (&single("2"), 6));

    // The same value with a higher version raises the version; a lower one
    // is accepted and changes nothing.
    write(&client, vec![versioned("2", now, 9)]).await.unwrap();
    write(&client, vec![versioned("2", now, 3)]).await.unwrap();
    let stored = endpoint.stored(DATABASE, "t");
    assert_eq!((stored[0].version, stored[0].writes), (9, 4));

    let zero = write(&client, vec![versioned("2", now, 0)])
        .await
        .unwrap_err();
    assert!(zero.into_service_error().is_validation_exception());
}

#[tokio::test]
async fn common_attributes_merge_into_each_record() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    let now = now_ms();
    let common = Record::builder()
        .dimensions(dimension("site", "lab"))
        .dimensions(dimension("device", "common"))
        .measure_name("temperature")
        .measure_value_type(MeasureValueType::Bigint)
        .time(now.to_string())
        .build();
    let own_device = Record::builder()
        .dimensions(dimension("device", "own"))
        .dimensions(dimension("rack", "r1"))
        .measure_value("7")
        .build();
    let own_time = Record::builder()
        .measure_value("8")
        .time((now / 1000 - 60).to_string())
        .time_unit(TimeUnit::Seconds)
        .build();
    client
        .write_records()
        .database_name(DATABASE)
        .table_name("t")
        .common_attributes(common)
        .records(own_device)
        .records(own_time)
        .send()
        .await
        .unwrap();
    let stored = endpoint.stored(DATABASE, "t");
    assert_eq!(stored.len(), 2);
    let dimensions = |i: usize| -> Vec<(&str, &str)> {
        stored[i]
            .dimensions
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    };
    assert_eq!(dimensions(0), [("device", "common"), ("site", "lab")]);
    assert_eq!(stored[0].time_ns, (now / 1000 - 60) * 1_000_000_000);
    assert_eq!(
        dimensions(1),
        [("device", "own"), ("rack", "r1"), ("site", "lab")]
    );
    assert_eq!(stored[1].time_ns, now * 1_000_000);
    assert_eq!(stored[1].measure_name, "temperature");
    assert_eq!(
        stored[1].value,
        StoredValue::Single(ValueKind::Bigint, "7".into())
    );
}

#[tokio::test]
async fn time_units_all_reach_nanoseconds() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    let seconds = now_ms() / 1000;
    let at = |device: &str, time: i64, unit: TimeUnit| {
        let mut record = double(device, "1", 0);
        record.time = Some(time.to_string());
        record.time_unit = Some(unit);
        record
    };
    write(
        &client,
        vec![
            at("s", seconds, TimeUnit::Seconds),
            at("ms", seconds * 1000, TimeUnit::Milliseconds),
            at("us", seconds * 1_000_000, TimeUnit::Microseconds),
            at("ns", seconds * 1_000_000_000, TimeUnit::Nanoseconds),
        ],
    )
    .await
    .unwrap();
    let stored = endpoint.stored(DATABASE, "t");
    assert_eq!(stored.len(), 4);
    assert!(stored.iter().all(|s| s.time_ns == seconds * 1_000_000_000));
}

#[tokio::test]
async fn multi_measure_records_and_malformed_values() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    let now = now_ms();
    let measure = strict::measure;
    let multi = Record::builder()
        .dimensions(dimension("device", "a"))
        .measure_name("metrics")
        .measure_value_type(MeasureValueType::Multi)
        .measure_values(measure("temp", "21.5", MeasureValueType::Double))
        .measure_values(measure("on", "true", MeasureValueType::Boolean))
        .measure_values(measure("count", "3", MeasureValueType::Bigint))
        .time(now.to_string())
        .build();
    write(&client, vec![multi.clone()]).await.unwrap();
    let stored = endpoint.stored(DATABASE, "t");
    let StoredValue::Multi(measures) = &stored[0].value else {
        panic!("expected a MULTI value, got {:?}", stored[0].value);
    };
    assert_eq!(
        measures.keys().map(String::as_str).collect::<Vec<_>>(),
        ["count", "on", "temp"]
    );
    assert_eq!(measures["on"], (ValueKind::Boolean, "true".into()));

    let mut with_measure_value = multi.clone();
    with_measure_value.measure_value = Some("1".into());
    let mut without_values = multi;
    without_values.measure_values = None;
    let bad_double = double("a", "abc", now);
    let mut bad_bigint = double("a", "1.5", now);
    bad_bigint.measure_value_type = Some(MeasureValueType::Bigint);
    let mut bad_boolean = double("a", "yes", now);
    bad_boolean.measure_value_type = Some(MeasureValueType::Boolean);
    let mut no_value = double("a", "1", now);
    no_value.measure_value = None;
    let infinite = double("a", "inf", now);
    let empty_dimension = Record::builder()
        .dimensions(dimension("device", ""))
        .measure_name("v")
        .measure_value("1")
        .time(now.to_string())
        .build();
    let mut no_name = double("a", "1", now);
    no_name.measure_name = None;
    for record in [
        with_measure_value,
        without_values,
        bad_double,
        bad_bigint,
        bad_boolean,
        no_value,
        infinite,
        empty_dimension,
        no_name,
    ] {
        let batch = vec![double("z", "1", now), record.clone()];
        let error = write(&client, batch).await.unwrap_err();
        let error = error.into_service_error();
        assert!(error.is_validation_exception(), "{record:?}: {error:?}");
        assert!(
            error.message().unwrap().starts_with("Record 1: "),
            "{error:?}"
        );
    }
    // A ValidationException stores nothing, not even the valid record.
    assert_eq!(endpoint.stored(DATABASE, "t").len(), 1);
}

#[tokio::test]
async fn a_request_without_authorization_is_forbidden() {
    let endpoint = StrictEndpoint::start();
    let address = endpoint.url().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {address}\r\nX-Amz-Target: Timestream_20181101.DescribeEndpoints\r\n\
         Content-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 403 "), "{response}");
    assert!(response.contains("MissingAuthenticationTokenException"));
}

/// A chunked request, then a Content-Length one, on one keep-alive connection.
#[tokio::test]
async fn chunked_bodies_and_keep_alive() {
    let endpoint = StrictEndpoint::start();
    let address = endpoint.url().trim_start_matches("http://").to_owned();
    let head = |operation: &str| {
        format!(
            "POST / HTTP/1.1\r\nHost: {address}\r\nX-Amz-Target: Timestream_20181101.{operation}\r\n\
             Content-Type: application/x-amz-json-1.0\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-1/timestream/aws4_request, \
             SignedHeaders=host, Signature=0\r\n"
        )
    };
    let body = r#"{"DatabaseName":"chunky"}"#;
    let (first, rest) = body.split_at(10);
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "{}Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n{:x}\r\n{rest}\r\n0\r\n\r\n",
        head("CreateDatabase"),
        first.len(),
        rest.len()
    )
    .unwrap();
    write!(
        stream,
        "{}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        head("DescribeDatabase"),
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert_eq!(response.matches("HTTP/1.1 200 OK").count(), 2, "{response}");
    assert_eq!(
        response
            .matches("arn:aws:timestream:eu-west-1:000000000000:database/chunky")
            .count(),
        2,
        "{response}"
    );
}

#[tokio::test]
async fn latency_delays_every_response() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    endpoint.set_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let started = Instant::now();
    client
        .describe_table()
        .database_name(DATABASE)
        .table_name("t")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn every_nth_throttle_is_a_throttling_exception_that_stores_nothing() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    endpoint.set_faults(Faults {
        throttle_every: Some(2),
        ..Faults::default()
    });
    let now = now_ms();
    write(&client, vec![double("a", "1", now)]).await.unwrap();
    let error = write(&client, vec![double("b", "1", now)])
        .await
        .unwrap_err();
    let error = error.into_service_error();
    assert!(error.is_throttling_exception(), "{error:?}");
    write(&client, vec![double("c", "1", now)]).await.unwrap();
    assert_eq!(endpoint.stored(DATABASE, "t").len(), 2);
    let stats = endpoint.stats();
    assert_eq!((stats.throttled, stats.write_requests), (1, 3));
    assert_eq!(stats.throttled_requests, [1]);
}

#[tokio::test]
async fn every_nth_server_error_is_an_internal_server_exception() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    endpoint.set_faults(Faults {
        server_error_every: Some(1),
        ..Faults::default()
    });
    let error = write(&client, vec![double("a", "1", now_ms())])
        .await
        .unwrap_err();
    assert_eq!(error.raw_response().unwrap().status().as_u16(), 500);
    assert!(error.into_service_error().is_internal_server_exception());
    assert!(endpoint.stored(DATABASE, "t").is_empty());
    assert_eq!(endpoint.stats().server_errors, 1);
}

#[tokio::test]
async fn every_nth_drop_closes_the_connection_without_a_reply() {
    let endpoint = endpoint_with_table(Retention::default());
    // A timeout, so that an endpoint that keeps the connection open fails
    // the test instead of hanging it.
    let client = client_timing_out(&endpoint, Some(Duration::from_secs(5))).await;
    endpoint.set_faults(Faults {
        drop_every: Some(1),
        ..Faults::default()
    });
    let error = write(&client, vec![double("a", "1", now_ms())])
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
        ),
        "{error:?}"
    );
    assert!(endpoint.stored(DATABASE, "t").is_empty());
    assert_eq!(endpoint.stats().dropped, 1);
}

#[tokio::test]
async fn a_slow_reply_times_out_after_the_records_were_stored() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client_timing_out(&endpoint, Some(Duration::from_millis(200))).await;
    endpoint.set_faults(Faults {
        slow_every: Some((1, Duration::from_secs(2))),
        ..Faults::default()
    });
    let error = write(&client, vec![double("a", "1", now_ms())])
        .await
        .unwrap_err();
    assert!(matches!(error, SdkError::TimeoutError(_)), "{error:?}");
    assert_eq!(endpoint.stored(DATABASE, "t").len(), 1);
    assert_eq!(endpoint.stats().slowed, 1);
}

#[tokio::test]
async fn throttling_above_the_in_flight_limit_is_recorded_per_arrival() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    endpoint.set_faults(Faults {
        throttle_above_in_flight: Some(1),
        ..Faults::default()
    });
    // Replies wait until all four requests have arrived, so all four are in
    // flight at once however slow the machine.
    endpoint.hold_writes();
    let now = now_ms();
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(
                async move { write(&client, vec![double(&i.to_string(), "1", now)]).await },
            )
        })
        .collect();
    endpoint.wait_for_write_requests(4).await;
    endpoint.release_writes();
    let mut throttled = 0;
    for task in tasks {
        if let Err(error) = task.await.unwrap() {
            assert!(error.into_service_error().is_throttling_exception());
            throttled += 1;
        }
    }
    assert_eq!(throttled, 3);
    // One at a time is under the limit again.
    write(&client, vec![double("after", "1", now)])
        .await
        .unwrap();
    let stats = endpoint.stats();
    assert_eq!(stats.in_flight_at_arrival, [1, 2, 3, 4, 1]);
    assert_eq!(stats.throttled_requests, [1, 2, 3]);
    assert_eq!(stats.max_in_flight, 4);
    assert_eq!(endpoint.stored(DATABASE, "t").len(), 2);
}

/// A MULTI record of device `a` at `time_ms` with these measures.
fn multi(time_ms: i64, measures: Vec<aws_sdk_timestreamwrite::types::MeasureValue>) -> Record {
    Record::builder()
        .dimensions(dimension("device", "a"))
        .measure_name("m")
        .measure_value_type(MeasureValueType::Multi)
        .set_measure_values(Some(measures))
        .time(time_ms.to_string())
        .build()
}

fn varchar(device: &str, name: &str, text: &str, time_ms: i64) -> Record {
    Record::builder()
        .dimensions(dimension("device", device))
        .measure_name(name)
        .measure_value(text)
        .measure_value_type(MeasureValueType::Varchar)
        .time(time_ms.to_string())
        .build()
}

#[tokio::test]
async fn records_over_the_size_limits_are_rejected_by_index() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    let now = now_ms();
    // 8 (time) + 7 ("device" + "a") + 1 ("v") + the text: 2032 bytes of
    // text make a record of 2048 bytes exactly, the largest accepted.
    let long_dimension = "x".repeat(2_043);
    let records = vec![
        varchar("a", "v", &"t".repeat(2_032), now),
        varchar("a", "v", &"t".repeat(2_033), now - 1),
        varchar(&long_dimension, "v", "t", now),
        multi(
            now,
            (0..257)
                .map(|i| strict::measure(&format!("b{i}"), "true", MeasureValueType::Boolean))
                .collect(),
        ),
        multi(
            now - 2,
            vec![
                strict::measure("x", &"t".repeat(1_025), MeasureValueType::Varchar),
                strict::measure("y", &"t".repeat(1_024), MeasureValueType::Varchar),
            ],
        ),
    ];
    let rejected = rejected(write(&client, records).await.unwrap_err());
    let reasons: Vec<(i32, &str)> = rejected.iter().map(|r| (r.0, r.1.as_str())).collect();
    assert_eq!(
        reasons,
        vec![
            (
                1,
                "Maximum record size exceeds the limit of 2048 bytes: 2049 bytes."
            ),
            (
                2,
                "Dimension name dimension value pair size per series exceeds the limit of 2048 \
                 bytes: 2049 bytes."
            ),
            (
                3,
                "Measures per multi-measure record exceed the limit of 256: 257 measures."
            ),
            (
                4,
                "Measure value size per multi-measure record exceeds the limit of 2048 bytes: \
                 2049 bytes."
            ),
        ]
    );
    let stored = endpoint.stored(DATABASE, "t");
    assert_eq!(stored.len(), 1, "only the record of 2048 bytes is stored");
    // 256 measures in one record are accepted.
    let at_limit = multi(
        now,
        (0..256)
            .map(|i| strict::measure(&format!("b{i}"), "true", MeasureValueType::Boolean))
            .collect(),
    );
    write(&client, vec![at_limit]).await.unwrap();
}

#[tokio::test]
async fn a_table_holds_at_most_8192_measure_names_and_1024_multi_measures() {
    let endpoint = endpoint_with_table(Retention::default());
    let client = client(&endpoint).await;
    let now = now_ms();
    let named = |from: i64, to: i64| -> Vec<Record> {
        (from..to)
            .map(|i| {
                let mut r = double("a", "1", now - i);
                r.measure_name = Some(format!("n{i}"));
                r
            })
            .collect()
    };
    for chunk in 0..81 {
        write(&client, named(chunk * 100, chunk * 100 + 100))
            .await
            .unwrap();
    }
    write(&client, named(8_100, 8_192)).await.unwrap();
    // 8192 names held: ten more are refused.
    let last = named(8_192, 8_202);
    let refused = rejected(write(&client, last).await.unwrap_err());
    assert_eq!(refused.len(), 10);
    assert_eq!(
        refused[0].1,
        "Measure names per table exceed the limit of 8192."
    );
    // A name the table holds is still accepted.
    let mut again = double("a", "2", now - 1);
    again.measure_name = Some("n0".into());
    write(&client, vec![again]).await.unwrap();

    let endpoint = endpoint_with_table(Retention::default());
    let client = self::client(&endpoint).await;
    let record = |from: usize, time: i64| {
        multi(
            time,
            (from..from + 256)
                .map(|i| strict::measure(&format!("m{i}"), "true", MeasureValueType::Boolean))
                .collect(),
        )
    };
    let four: Vec<Record> = (0..4).map(|i| record(i * 256, now - i as i64)).collect();
    write(&client, four).await.unwrap();
    // 1024 measures held; one more, in a record that fits, is refused.
    let refused = rejected(
        write(&client, vec![record(769, now - 10)])
            .await
            .unwrap_err(),
    );
    assert_eq!(
        refused,
        vec![(
            0,
            "Unique measures across multi-measure records per table exceed the limit of 1024."
                .to_owned(),
            None
        )]
    );
    write(&client, vec![record(0, now - 11)]).await.unwrap();
}
