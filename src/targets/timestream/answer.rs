//! What a WriteRecords answer means for the engine: written, records
//! rejected (mapped by their RecordIndex), throttled, worth retrying, or
//! refused for good.

use aws_config::retry::ErrorKind;
use aws_sdk_timestreamwrite::error::SdkError;
use aws_sdk_timestreamwrite::operation::write_records::{WriteRecordsError, WriteRecordsOutput};

use super::client::error_text;
use crate::targets::{Answer, RecordRejection};

/// What sending one request gave back; `None` when there was no client to
/// send with (the tables were not described first).
pub(crate) type Response = Option<
    Result<
        WriteRecordsOutput,
        SdkError<WriteRecordsError, aws_sdk_timestreamwrite::config::http::HttpResponse>,
    >,
>;

pub(crate) fn classify(response: Response) -> Answer {
    match response {
        Some(Ok(_)) => Answer::Written,
        Some(Err(error)) => classify_error(error),
        None => Answer::Failed("no Timestream client: the tables were not described".into()),
    }
}

fn retry(reason: String) -> Answer {
    Answer::Retry {
        after: None,
        reason,
    }
}

fn throttled(reason: String) -> Answer {
    Answer::Throttled {
        after: None,
        reason,
    }
}

fn classify_error(
    error: SdkError<WriteRecordsError, aws_sdk_timestreamwrite::config::http::HttpResponse>,
) -> Answer {
    let text = error_text(&error);
    match &error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            match service.err() {
                WriteRecordsError::RejectedRecordsException(r) => Answer::Rejected(
                    r.rejected_records()
                        .iter()
                        .map(|r| RecordRejection {
                            index: r.record_index().max(0) as usize,
                            reason: r.reason().unwrap_or("rejected").to_string(),
                            existing_version: r.existing_version(),
                        })
                        .collect(),
                ),
                WriteRecordsError::ThrottlingException(_) => throttled(text),
                _ if status == 429 => throttled(text),
                WriteRecordsError::InternalServerException(_) => retry(text),
                _ if status >= 500 => retry(text),
                _ => Answer::Failed(text),
            }
        }
        SdkError::TimeoutError(_) => retry("the request timed out".into()),
        SdkError::ResponseError(_) => retry(text),
        SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
            retry(text)
        }
        // A connection closed before the response ("connection closed before
        // message completed") is neither: the connector marks it transient.
        SdkError::DispatchFailure(failure) => match failure.as_other() {
            Some(ErrorKind::ThrottlingError) => throttled(text),
            Some(ErrorKind::TransientError | ErrorKind::ServerError) => retry(text),
            _ => Answer::Failed(text),
        },
        _ => Answer::Failed(text),
    }
}
