//! Answers classified without a server: the HTTP paths are the client's
//! tests.

use super::*;

fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> Answer {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(*k, v.parse().unwrap());
    }
    Answer {
        status: StatusCode::from_u16(status).unwrap(),
        headers: map,
        body: Bytes::from(body.to_string()),
    }
}

const LINES: &[u8] = b"a v=1i 1\nb v=2i 2\nc v=3i 3\n";

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
    assert_eq!(retry_after("30", now), Some(Duration::from_secs(30)));
    // RFC 9110's example date, 60 s after `now`.
    assert_eq!(
        retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        retry_after("Sun, 06 Nov 1994 08:40:37 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(retry_after("soon", now), None);
    assert_eq!(retry_after("-5", now), None);
}

#[test]
fn successes_are_written_and_statuses_map_to_what_the_engine_does() {
    for status in [200, 204] {
        assert_eq!(
            classify_write(&answer(status, &[], ""), LINES),
            WriteAnswer::Written
        );
    }
    for status in [429, 500, 502, 503, 504] {
        let classified = classify_write(&answer(status, &[("retry-after", "3")], ""), LINES);
        assert_eq!(
            classified,
            WriteAnswer::Retry {
                after: Some(Duration::from_secs(3)),
                reason: RetryReason::Status {
                    status,
                    message: String::new()
                }
            }
        );
    }
    assert_eq!(
        classify_write(&answer(413, &[], ""), LINES),
        WriteAnswer::TooLarge
    );
    assert!(matches!(
        classify_write(&answer(405, &[], "no"), LINES),
        WriteAnswer::Failed(Failure::Status { status: 405, .. })
    ));
}

#[test]
fn line_numbers_out_of_the_batch_or_malformed_are_ignored() {
    let body = r#"{"code":"invalid","message":"partial write: line 9: out of range; line 0: zero; line x: no; line 2: bad; line 2: again"}"#;
    let WriteAnswer::Rejected { lines, .. } = classify_write(&answer(400, &[], body), LINES) else {
        panic!("not rejected")
    };
    assert_eq!(
        lines,
        [RejectedLine {
            index: 1,
            reason: "bad".into()
        }]
    );
}

#[test]
fn long_messages_are_cut_and_plain_text_is_kept() {
    let long = "x".repeat(MAX_MESSAGE_CHARS + 10);
    let message = answer(500, &[], &long).message();
    assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
    assert!(message.ends_with('…'));
    assert_eq!(answer(500, &[], " busy \n").message(), "busy");
    assert_eq!(
        answer(400, &[], r#"{"error":"database not found: \"x\""}"#).message(),
        "database not found: \"x\""
    );
}

#[test]
fn a_retry_after_beyond_the_bound_waits_the_bound() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
    // A hostile server's u64::MAX seconds, and a date in the year 9999.
    assert_eq!(
        retry_after("18446744073709551615", now),
        Some(MAX_RETRY_AFTER)
    );
    assert_eq!(
        retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
        Some(MAX_RETRY_AFTER)
    );
    assert_eq!(retry_after("300", now), Some(Duration::from_secs(300)));
}
