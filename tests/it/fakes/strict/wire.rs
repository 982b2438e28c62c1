//! The Timestream Write JSON protocol (awsJson1_0): request and response
//! shapes, and errors as the SDK parses them.
//!
//! Member names are the service model's (botocore
//! `timestream-write/2018-11-01/service-2.json`). The SDK reads an error's
//! code from `__type`, keeping what follows `#`, and its message from
//! `message`, `Message` or `errorMessage` (`json_errors.rs` of
//! aws-sdk-timestreamwrite); the modeled exceptions read `Message`.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};

/// A JSON string that borrows from the request body unless it had escapes.
/// serde's own `Cow<str>` support does not reach inside `Option` or `Vec`.
pub(super) struct Text<'a>(Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<'a>, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(value)))
            }
            fn visit_str<E>(self, value: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(value.to_owned())))
            }
            fn visit_string<E>(self, value: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct WriteRecordsRequest<'a> {
    #[serde(borrow)]
    pub database_name: Text<'a>,
    #[serde(borrow)]
    pub table_name: Text<'a>,
    #[serde(borrow, default)]
    pub common_attributes: Option<Record<'a>>,
    #[serde(borrow, default)]
    pub records: Vec<Record<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Record<'a> {
    #[serde(borrow, default)]
    pub dimensions: Option<Vec<Dimension<'a>>>,
    #[serde(borrow, default)]
    pub measure_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub measure_value: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub measure_value_type: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub time: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub time_unit: Option<Text<'a>>,
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(borrow, default)]
    pub measure_values: Option<Vec<MeasureValue<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Dimension<'a> {
    #[serde(borrow)]
    pub name: Text<'a>,
    #[serde(borrow)]
    pub value: Text<'a>,
    #[serde(borrow, default)]
    pub dimension_value_type: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MeasureValue<'a> {
    #[serde(borrow)]
    pub name: Text<'a>,
    #[serde(borrow)]
    pub value: Text<'a>,
    #[serde(borrow, rename = "Type")]
    pub kind: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DatabaseRequest {
    pub database_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TableRequest {
    pub database_name: String,
    pub table_name: String,
    #[serde(default)]
    pub retention_properties: Option<RetentionProperties>,
    #[serde(default)]
    pub magnetic_store_write_properties: Option<MagneticStoreWriteProperties>,
    #[serde(default)]
    pub tags: Option<Vec<Tag>>,
}

#[derive(Deserialize, Serialize, Clone, Debug)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Deserialize)]
pub(super) struct TagsRequest {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: String,
    #[serde(rename = "Tags", default)]
    pub tags: Vec<Tag>,
}

#[derive(Deserialize, Serialize, Clone, Copy)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RetentionProperties {
    pub memory_store_retention_period_in_hours: i64,
    pub magnetic_store_retention_period_in_days: i64,
}

#[derive(Deserialize, Serialize, Clone, Copy)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MagneticStoreWriteProperties {
    pub enable_magnetic_store_writes: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DatabaseDescription<'a> {
    pub arn: String,
    pub database_name: &'a str,
    pub table_count: usize,
    /// Epoch seconds: the protocol's timestamp format.
    pub creation_time: f64,
    pub last_updated_time: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TableDescription<'a> {
    pub arn: String,
    pub table_name: &'a str,
    pub database_name: &'a str,
    pub table_status: &'static str,
    pub retention_properties: RetentionProperties,
    pub magnetic_store_write_properties: MagneticStoreWriteProperties,
    pub creation_time: f64,
    pub last_updated_time: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RecordsIngested {
    pub total: usize,
    pub memory_store: usize,
    pub magnetic_store: usize,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RejectedRecord {
    pub record_index: usize,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_version: Option<i64>,
}

/// An error response: its HTTP status, exception name, message and, for
/// RejectedRecordsException, the rejected records.
#[derive(Debug)]
pub(super) struct ApiError {
    pub status: u16,
    pub exception: &'static str,
    pub message: String,
    pub rejected: Vec<RejectedRecord>,
}

impl ApiError {
    /// The modeled client errors carry no `@httpError` code in the service
    /// model, so they take awsJson's default, 400.
    pub fn client(exception: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            exception,
            message: message.into(),
            rejected: Vec::new(),
        }
    }

    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::client("ValidationException", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::client("ResourceNotFoundException", message)
    }

    /// The message and the status 419 are the real service's, as reported
    /// in dpattmann/prometheus-timestream-adapter#87 (Go SDK
    /// `RespMetadata.StatusCode: 419`).
    pub fn rejected(rejected: Vec<RejectedRecord>) -> ApiError {
        ApiError {
            status: 419,
            exception: "RejectedRecordsException",
            message: "One or more records have been rejected. See RejectedRecords for details."
                .into(),
            rejected,
        }
    }

    pub fn body(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Body<'a> {
            #[serde(rename = "__type")]
            kind: String,
            #[serde(rename = "Message")]
            message: &'a str,
            #[serde(rename = "RejectedRecords", skip_serializing_if = "<[_]>::is_empty")]
            rejected: &'a [RejectedRecord],
        }
        let namespace = if self.exception == "MissingAuthenticationTokenException" {
            "com.amazon.coral.service"
        } else {
            "com.amazonaws.timestream.v20181101"
        };
        serde_json::to_vec(&Body {
            kind: format!("{namespace}#{}", self.exception),
            message: &self.message,
            rejected: &self.rejected,
        })
        .expect("an error body always serializes")
    }
}
