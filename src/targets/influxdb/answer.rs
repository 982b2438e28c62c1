//! What an answer from InfluxDB means for the engine: written, some lines
//! rejected (mapped back to the batch's records), retry (when), too large
//! (split), or failed for good.

use std::time::{Duration, SystemTime};

pub(crate) use crate::targets::MAX_RETRY_AFTER;

use bytes::Bytes;
use http::StatusCode;
use http::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;

/// The most characters of an answer kept in a message.
const MAX_MESSAGE_CHARS: usize = 500;

/// What became of a write, for the engine to act on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WriteAnswer {
    /// 204 (or 200): every line was written.
    Written,
    /// 400 naming a partial write: the lines InfluxDB refused (the others
    /// were written). Not to be retried.
    Rejected {
        /// The refused lines, by index into the batch (0 is the first).
        lines: Vec<RejectedLine>,
        /// The answer's message.
        message: String,
    },
    /// Throttled (429), unavailable (5xx), timed out or cut off: the same
    /// batch may be sent again, after `after` when the server said so.
    Retry {
        after: Option<Duration>,
        reason: RetryReason,
    },
    /// 413: the body is over the server's limit; split the batch.
    TooLarge,
    /// Refused for good (401, 403, 404, a 400 that names no line).
    Failed(Failure),
}

/// A line InfluxDB refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RejectedLine {
    /// Index into the batch: the record the engine sent as this line.
    pub index: usize,
    /// InfluxDB's words about the line, when it gave some.
    pub reason: String,
}

/// Why a request may be sent again, in the words the engine reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RetryReason {
    /// 429, 500, 502, 503, 504, with the answer's message.
    #[error("{status}: {message}")]
    Status { status: u16, message: String },
    /// No answer within the client's timeout.
    #[error("no answer within --request-timeout")]
    Timeout,
    /// The connection could not be made or was dropped, or the answer was
    /// cut off: the client's exchange error, worded. A retry reason is a
    /// value the engine compares and reports, so it keeps the words.
    #[error("{0}")]
    Connection(String),
}

/// Why a request failed for good: what the server answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Failure {
    /// 401 or 403: the token is missing, wrong, or may not do this.
    #[error("{status}: the token was refused: {message}")]
    Unauthorized { status: u16, message: String },
    /// 404: the database, bucket or organisation does not exist (or the
    /// URL is not InfluxDB's).
    #[error("404: {message}")]
    NotFound { message: String },
    /// Any other answer that retrying would not change.
    #[error("{status}: {message}")]
    Status { status: u16, message: String },
    /// The answer was not what the API documents; `message` says what it
    /// lacked.
    #[error("an answer that is not InfluxDB's: {message}")]
    Unreadable { message: String },
}

/// An answer read whole.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The answer's message: InfluxDB's JSON `message` or `error`, else
    /// the body's text, cut short.
    pub(crate) fn message(&self) -> String {
        #[derive(Deserialize)]
        struct Message {
            message: Option<String>,
            error: Option<String>,
        }
        let text = match serde_json::from_slice::<Message>(&self.body) {
            Ok(Message {
                message: Some(m), ..
            })
            | Ok(Message { error: Some(m), .. }) => m,
            _ => String::from_utf8_lossy(&self.body).trim().to_string(),
        };
        if text.chars().count() > MAX_MESSAGE_CHARS {
            let cut: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
            format!("{cut}…")
        } else {
            text
        }
    }
}

/// A write's answer as the engine needs it; `lines` is the body sent, to
/// find the lines a v1 server quotes.
pub(crate) fn classify_write(answer: &Answer, lines: &[u8]) -> WriteAnswer {
    if answer.status.is_success() {
        return WriteAnswer::Written;
    }
    if answer.status == StatusCode::BAD_REQUEST {
        let message = answer.message();
        let rejected = rejected_lines(&answer.body, &message, lines);
        let partial = message.contains("partial write") || !rejected.is_empty();
        if partial {
            return WriteAnswer::Rejected {
                lines: rejected,
                message,
            };
        }
    }
    classify_status(answer)
}

/// A status that is not a success, and not a partial write.
pub(crate) fn classify_status(answer: &Answer) -> WriteAnswer {
    let status = answer.status.as_u16();
    match status {
        413 => WriteAnswer::TooLarge,
        429 | 500 | 502 | 503 | 504 => WriteAnswer::Retry {
            after: answer
                .headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, SystemTime::now())),
            reason: RetryReason::Status {
                status,
                message: answer.message(),
            },
        },
        401 | 403 => WriteAnswer::Failed(Failure::Unauthorized {
            status,
            message: answer.message(),
        }),
        404 => WriteAnswer::Failed(Failure::NotFound {
            message: answer.message(),
        }),
        _ => WriteAnswer::Failed(Failure::Status {
            status,
            message: answer.message(),
        }),
    }
}

/// The lines a 400 names, sorted, each once: v3's `data[].line_number`,
/// v2's `line N:` in the message, or v1's `unable to parse '<line>'`.
fn rejected_lines(body: &[u8], message: &str, lines: &[u8]) -> Vec<RejectedLine> {
    #[derive(Deserialize)]
    struct V3 {
        data: Vec<V3Line>,
    }
    #[derive(Deserialize)]
    struct V3Line {
        line_number: usize,
        #[serde(default)]
        error_message: String,
    }
    let mut found: Vec<RejectedLine> = Vec::new();
    if let Ok(v3) = serde_json::from_slice::<V3>(body) {
        found.extend(v3.data.into_iter().filter_map(|l| {
            Some(RejectedLine {
                index: l.line_number.checked_sub(1)?,
                reason: l.error_message,
            })
        }));
    }
    if found.is_empty() {
        found = numbered_lines(message);
    }
    if found.is_empty() && message.contains("unable to parse '") {
        let text = String::from_utf8_lossy(lines);
        for (index, line) in text.lines().enumerate() {
            let quoted = format!("unable to parse '{line}'");
            if let Some(at) = message.find(&quoted) {
                let reason = message[at + quoted.len()..]
                    .trim_start_matches(':')
                    .split('\n')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                found.push(RejectedLine { index, reason });
            }
        }
    }
    let line_count = lines.iter().filter(|&&b| b == b'\n').count();
    found.retain(|l| l.index < line_count.max(1));
    found.sort_by_key(|l| l.index);
    found.dedup_by_key(|l| l.index);
    found
}

/// `line 3: bad timestamp` (each occurrence) → line index 2.
fn numbered_lines(message: &str) -> Vec<RejectedLine> {
    let mut found = Vec::new();
    let mut rest = message;
    while let Some(at) = rest.find("line ") {
        rest = &rest[at + 5..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            continue;
        }
        let Ok(number) = rest[..digits].parse::<usize>() else {
            continue;
        };
        let after = &rest[digits..];
        if !after.starts_with(':') {
            continue;
        }
        let reason = after[1..]
            .split(['\n', ';'])
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        if let Some(index) = number.checked_sub(1) {
            found.push(RejectedLine { index, reason });
        }
    }
    found
}

/// `Retry-After`: seconds, or an HTTP date (how long from `now`); at most
/// [`MAX_RETRY_AFTER`], so that a server's `2^64-1` seconds cannot
/// overflow the wait.
fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
            let at = SystemTime::from(at.with_timezone(&chrono::Utc));
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests;
