//! Timestream for LiveAnalytics, through `aws-sdk-timestreamwrite`: its
//! naming rules ([`names`]), and what the apply engine drives: the client
//! with create and describe ([`client`]), a batch as a WriteRecords request
//! ([`encode`]), what it refuses whatever a record's time ([`limits`]),
//! and what an answer means ([`answer`]).
//!
//! Every record carries the apply's Version. Re-applying the same plan at
//! the same anchor writes identical records, which Timestream accepts; an
//! edited plan applied later carries a higher Version, so its values
//! replace the old.

mod answer;
pub(crate) mod client;
mod encode;
pub(crate) mod limits;
pub(crate) mod names;
pub(crate) mod query;

use std::ops::Range;
use std::time::Duration;

use aws_sdk_timestreamwrite::Client;
use aws_sdk_timestreamwrite::types::Record;

use crate::record::Catalog;
use crate::targets::endpoint::Endpoint;
use crate::targets::{
    Answer, Backend, Batch, BatchLimits, Item, Made, Mark, Refusal, TableSpec, TableState,
    TargetError, Window, Words,
};
use client::Described;
use encode::Shapes;

/// Timestream refuses records more than this far ahead of its clock, ns.
pub(crate) const FUTURE_LIMIT: i64 = 15 * 60 * 1_000_000_000;
/// The WriteRecords limit.
const MAX_RECORDS: usize = 100;
const HOUR: i64 = 3_600 * 1_000_000_000;

/// A table's retention: what it keeps, and whether it takes records older
/// than its memory store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Retention {
    pub memory_hours: i64,
    pub magnetic_days: i64,
    pub magnetic_writes: bool,
}

impl Retention {
    /// Timestream's, for a table created without one.
    pub(crate) const DEFAULT: Retention = Retention {
        memory_hours: 6,
        magnetic_days: 73_000,
        magnetic_writes: false,
    };

    /// What a table of this retention accepts, in the engine's terms.
    pub(crate) fn window(self) -> Window {
        let memory = self.memory_hours.saturating_mul(HOUR);
        let magnetic = self.magnetic_days.saturating_mul(24 * HOUR);
        let (max_age, too_old) = if self.magnetic_writes {
            (
                memory.max(magnetic),
                Words {
                    why: "older than the magnetic store keeps".into(),
                    fix: "shift the window closer to now, or keep the magnetic store longer".into(),
                },
            )
        } else {
            (
                memory,
                Words {
                    why: "older than the memory store keeps".into(),
                    fix: "enable magnetic-store writes on the table (`magnetic_writes: true` in the target's retention, for tables created with --create), or shift the window closer to now".into(),
                },
            )
        };
        Window {
            max_age: Some(max_age),
            max_ahead: Some(FUTURE_LIMIT),
            retention: format!(
                "the memory store keeps {} h, magnetic-store writes are {}",
                self.memory_hours,
                if self.magnetic_writes {
                    format!("on (kept {} days)", self.magnetic_days)
                } else {
                    "off".into()
                }
            ),
            too_old,
            too_new: Words {
                why: "more than 15 minutes in the future".into(),
                fix: "keep `--lead` at 15 minutes or less".into(),
            },
        }
    }
}

/// A Timestream target as `outatime.yaml` names it, `${ENV}` expanded.
#[derive(Clone, Debug)]
pub struct TimestreamTarget {
    pub(crate) region: String,
    pub(crate) database: String,
    /// A local emulator; `None`: endpoint discovery.
    pub(crate) endpoint_url: Option<Endpoint>,
    pub(crate) table_prefix: String,
    pub(crate) table_suffix: String,
    /// For tables `--create` makes; `None`: Timestream's default.
    pub(crate) retention: Option<Retention>,
}

/// The Timestream target: its settings, and once described, its client
/// and what encoding needs.
pub(crate) struct Timestream {
    settings: TimestreamTarget,
    /// Each attempt gives up after this long (`--request-timeout`).
    request_timeout: Duration,
    client: Option<Client>,
    /// The tables' names, by catalogue index.
    names: Vec<String>,
    shapes: Shapes,
}

impl Timestream {
    pub(crate) fn new(settings: TimestreamTarget, request_timeout: Duration) -> Timestream {
        Timestream {
            settings,
            request_timeout,
            client: None,
            names: Vec::new(),
            shapes: Shapes {
                version: 0,
                tables: Vec::new(),
            },
        }
    }
}

/// One WriteRecords request: the table, CommonAttributes and records.
pub(crate) struct Request {
    table: String,
    common: Record,
    records: Vec<Record>,
}

impl Backend for Timestream {
    type Request = Request;
    type Response = answer::Response;

    fn label(&self) -> String {
        format!("timestream {}", self.settings.database)
    }

    fn kind(&self) -> crate::targets::Kind {
        crate::targets::Kind::Timestream
    }

    fn identity(&self) -> Vec<(String, String)> {
        vec![
            ("region".into(), self.settings.region.clone()),
            // Redacted: a journal is a file anyone may read, and a
            // password changed between an apply and its resume is the
            // same target.
            (
                "endpoint_url".into(),
                self.settings
                    .endpoint_url
                    .as_ref()
                    .map(Endpoint::to_string)
                    .unwrap_or_default(),
            ),
            ("database".into(), self.settings.database.clone()),
        ]
    }

    fn table_name(&self, target_name: &str) -> String {
        format!(
            "{}{target_name}{}",
            self.settings.table_prefix, self.settings.table_suffix
        )
    }

    fn qualified(&self, name: &str) -> String {
        format!("{}.{name}", self.settings.database)
    }

    fn limits(&self) -> BatchLimits {
        BatchLimits {
            max_records: MAX_RECORDS,
            max_bytes: None,
        }
    }

    fn record_size(&self, _table: u16, _item: &Item) -> usize {
        // WriteRecords limits records, not bytes.
        0
    }

    fn refusal(&self, table: u16, item: &Item) -> Option<Refusal> {
        limits::check(self.shapes.tables.get(table as usize)?, item)
    }

    fn created_window(&self) -> Window {
        self.settings
            .retention
            .unwrap_or(Retention::DEFAULT)
            .window()
    }

    async fn describe(
        &mut self,
        tables: &[String],
        create: Option<&Mark>,
    ) -> Result<Vec<TableState>, TargetError> {
        let client = client::client(&self.settings, self.request_timeout).await?;
        if let Some(mark) = create {
            client::create(&client, &self.settings, tables, mark).await?;
        }
        let described = client::describe(&client, &self.settings.database, tables).await?;
        self.client = Some(client);
        Ok(described
            .into_iter()
            .map(|d| match d {
                Described::Missing => TableState::Missing,
                Described::Present {
                    retention,
                    owner,
                    created,
                    ..
                } => TableState::Present(
                    retention.window(),
                    owner,
                    created.map_or(Made::Unknown, Made::At),
                ),
            })
            .collect())
    }

    fn start(&mut self, catalog: &Catalog, tables: &[TableSpec], version: i64) {
        self.names = tables.iter().map(|t| t.name.clone()).collect();
        self.shapes = Shapes::new(catalog, tables, version);
    }

    fn encode(&self, batch: &Batch, items: Range<usize>) -> Request {
        let (common, records) = self.shapes.request(batch.table, &batch.items[items]);
        Request {
            table: self.names[batch.table as usize].clone(),
            common,
            records,
        }
    }

    async fn send(&self, request: Request) -> answer::Response {
        let client = self.client.as_ref()?;
        Some(
            client
                .write_records()
                .database_name(&self.settings.database)
                .table_name(request.table)
                .common_attributes(request.common)
                .set_records(Some(request.records))
                .send()
                .await,
        )
    }

    fn classify(&self, response: answer::Response) -> Answer {
        answer::classify(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_is_a_window_with_timestreams_words() {
        let memory_only = Retention {
            memory_hours: 24,
            magnetic_days: 10,
            magnetic_writes: false,
        };
        let window = memory_only.window();
        assert_eq!(window.max_age, Some(24 * HOUR));
        assert_eq!(window.max_ahead, Some(FUTURE_LIMIT));
        assert_eq!(window.too_old.why, "older than the memory store keeps");
        assert_eq!(
            window.retention,
            "the memory store keeps 24 h, magnetic-store writes are off"
        );
        let magnetic = Retention {
            magnetic_writes: true,
            ..memory_only
        }
        .window();
        assert_eq!(magnetic.max_age, Some(240 * HOUR));
        assert_eq!(magnetic.too_old.why, "older than the magnetic store keeps");
        assert_eq!(
            magnetic.retention,
            "the memory store keeps 24 h, magnetic-store writes are on (kept 10 days)"
        );
        // A magnetic store shorter than the memory store keeps what the
        // memory store does.
        let short = Retention {
            memory_hours: 48,
            magnetic_days: 1,
            magnetic_writes: true,
        };
        assert_eq!(short.window().max_age, Some(48 * HOUR));
    }
}
