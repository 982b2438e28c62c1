//! `outatime clean`: after a run, drop the tables a scenario wrote on a
//! target, and only those outatime created.
//!
//! The tables are the scenario's, named as `apply` names them (the target's
//! `table_prefix` and `table_suffix`). Each is described first; one that is
//! missing is skipped (so cleaning twice succeeds), one without outatime's
//! tag (`managed-by=outatime`) is skipped and never dropped, whatever
//! `allow_untagged_tables` says. Tables the scenario does not name are
//! never looked at, and the database is never dropped.
//!
//! InfluxDB ([`influxdb`]): a measurement is outatime's when outatime's
//! marker names it (`crate::targets::influxdb::marker`); v1 and v2 drop it
//! and its marker, v3 is refused (it deletes no points).

pub(crate) mod error;
pub(crate) mod influxdb;

use serde::Serialize;

use crate::targets::Backend as _;
use crate::targets::timestream::client::{self, Deleted, Described};
use crate::targets::timestream::{Timestream, TimestreamTarget};
use crate::targets::{Kind, Owner};
use error::CleanError;

/// What clean does with one table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    /// outatime's: deleted (or, with `--dry-run`, would be).
    Delete,
    /// Not there: nothing to do.
    SkipMissing,
    /// Not outatime's: never deleted.
    SkipUntagged,
}

/// One table of the scenario on the target.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Row {
    /// `database.table`.
    pub table: String,
    #[serde(skip)]
    pub name: String,
    /// What kind of target holds it: how its mark is worded.
    #[serde(skip)]
    pub kind: Kind,
    pub action: Action,
    /// The `outatime-scenario` tag of a table outatime created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// Whether it was deleted (false in a dry run, or before a failure).
    pub deleted: bool,
}

impl Row {
    /// One line of what clean prints.
    pub(crate) fn line(&self, dry_run: bool) -> String {
        match self.action {
            Action::Delete if self.deleted => format!("deleted `{}`", self.table),
            Action::Delete => {
                let verb = if dry_run {
                    "would delete"
                } else {
                    "will delete"
                };
                let scenario = self
                    .scenario
                    .as_deref()
                    .map(|s| format!(" (created by outatime for `{s}`)"))
                    .unwrap_or_else(|| " (created by outatime)".into());
                format!("{verb} `{}`{scenario}", self.table)
            }
            Action::SkipMissing => format!("skip `{}`: it does not exist", self.table),
            Action::SkipUntagged => format!(
                "skip `{}`: not created by outatime ({}); never deleted",
                self.table,
                match self.kind {
                    Kind::Timestream => "no `managed-by=outatime` tag",
                    Kind::Influxdb => "no marker in `outatime_managed`",
                }
            ),
        }
    }
}

/// What `--report` holds.
#[derive(Debug, Serialize)]
pub(crate) struct CleanReport {
    pub target: String,
    pub dry_run: bool,
    pub tables: Vec<Row>,
    /// Tables deleted by this run.
    pub deleted: usize,
}

/// The tables of a target, described: what clean would do.
pub(crate) struct Survey {
    runtime: tokio::runtime::Runtime,
    backend: Backend,
    pub rows: Vec<Row>,
}

/// What deletes a table.
enum Backend {
    Timestream {
        client: aws_sdk_timestreamwrite::Client,
        database: String,
    },
    Influxdb(Box<crate::targets::influxdb::client::Client>),
}

/// A runtime for clean's calls, one at a time.
fn runtime() -> Result<tokio::runtime::Runtime, CleanError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CleanError::Target {
            reason: format!("cannot start the async runtime: {e}"),
            deleted: Vec::new(),
        })
}

/// Describes each table `target_names` (the scenario's) resolves to on a
/// Timestream target.
pub(crate) fn survey_timestream(
    settings: &TimestreamTarget,
    target_names: &[String],
    timeout: std::time::Duration,
) -> Result<Survey, CleanError> {
    let failed = |reason: String| CleanError::Target {
        reason,
        deleted: Vec::new(),
    };
    let names = Timestream::new(settings.clone(), timeout);
    let tables: Vec<String> = target_names.iter().map(|t| names.table_name(t)).collect();
    let runtime = runtime()?;
    let (client, described) = runtime
        .block_on(async {
            let client = client::client(settings, timeout).await?;
            let described = client::describe(&client, &settings.database, &tables).await?;
            Ok::<_, client::TimestreamError>((client, described))
        })
        .map_err(|e| failed(e.to_string()))?;
    let rows = tables
        .iter()
        .zip(described)
        .map(|(name, described)| {
            let (action, scenario) = match described {
                Described::Missing => (Action::SkipMissing, None),
                Described::Present {
                    owner: Owner::Outatime,
                    scenario,
                    ..
                } => (Action::Delete, scenario),
                Described::Present { .. } => (Action::SkipUntagged, None),
            };
            Row {
                table: names.qualified(name),
                name: name.clone(),
                kind: Kind::Timestream,
                action,
                scenario,
                deleted: false,
            }
        })
        .collect();
    Ok(Survey {
        runtime,
        backend: Backend::Timestream {
            client,
            database: settings.database.clone(),
        },
        rows,
    })
}

impl Survey {
    /// How many tables clean would delete.
    pub(crate) fn to_delete(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.action == Action::Delete)
            .count()
    }

    /// Deletes the tables marked [`Action::Delete`], one by one, telling
    /// `said` a line about each as it goes (the command line prints it);
    /// stops at the first failure with what was deleted before.
    pub(crate) fn delete(&mut self, said: &mut dyn FnMut(&str)) -> Result<usize, CleanError> {
        let mut deleted = Vec::new();
        for row in &mut self.rows {
            if row.action != Action::Delete {
                continue;
            }
            let failed = |reason: String| CleanError::Target {
                reason,
                deleted: deleted.clone(),
            };
            let done = match &self.backend {
                Backend::Timestream { client, database } => self
                    .runtime
                    .block_on(client::delete(client, database, &row.name))
                    .map_err(|e| failed(e.to_string()))?,
                Backend::Influxdb(client) => {
                    self.runtime
                        .block_on(client.drop_measurement(&row.name))
                        .map_err(|e| failed(format!("cannot drop `{}`: {e}", row.table)))?;
                    Deleted::Deleted
                }
            };
            row.deleted = true;
            said(&match done {
                Deleted::Deleted => format!("deleted `{}`", row.table),
                Deleted::Missing => format!("`{}` was gone already", row.table),
            });
            deleted.push(row.table.clone());
        }
        Ok(deleted.len())
    }
}
