//! `clean` on an InfluxDB target: the scenario's measurements, each judged
//! by outatime's marker (`crate::targets::influxdb::marker`): marked ones
//! are dropped with their marker, unmarked ones skipped, missing ones
//! skipped. Never the database or bucket.

use std::time::Duration;

use super::error::CleanError;
use super::{Action, Backend, Row, Survey, runtime};
use crate::targets::Kind;
use crate::targets::influxdb::client::{BuildError, Client};
use crate::targets::influxdb::marker::Found;
use crate::targets::influxdb::{Destination, InfluxTarget};

/// Describes each measurement `target_names` (the scenario's) names.
pub(crate) fn survey(
    settings: &InfluxTarget,
    target_names: &[String],
    timeout: Duration,
) -> Result<Survey, CleanError> {
    let failed = |reason: String| CleanError::Target {
        reason,
        deleted: Vec::new(),
    };
    let destination = &settings.destination;
    let (noun, name) = (destination.noun(), destination.name());
    let runtime = runtime()?;
    let client = Client::new(settings.clone(), timeout).map_err(|e| match e {
        BuildError::NoRootCertificates(error) => failed(format!(
            "cannot reach {} over https: no root certificates: {error}",
            settings.url
        )),
    })?;
    let survey = runtime.block_on(async {
        client
            .ping()
            .await
            .map_err(|e| format!("InfluxDB at {} does not answer: {e}", settings.url))?;
        let exists = client
            .database()
            .await
            .map_err(|e| format!("cannot look up the {noun} `{name}`: {e}"))?
            .is_some();
        if !exists {
            return Ok(None);
        }
        client.survey().await.map(Some).map_err(|e| {
            format!(
                "cannot read the measurements and outatime's markers in the {noun} `{name}`: {e}"
            )
        })
    });
    let survey = survey.map_err(failed)?;
    let rows = target_names
        .iter()
        .map(|measurement| {
            let (action, scenario) = match survey.as_ref().map(|s| s.found(measurement)) {
                Some(Found::Marked(scenario)) => (Action::Delete, Some(scenario)),
                Some(Found::Unmarked) => (Action::SkipUntagged, None),
                Some(Found::Missing) | None => (Action::SkipMissing, None),
            };
            Row {
                table: format!("{name}.{measurement}"),
                name: measurement.clone(),
                kind: Kind::Influxdb,
                action,
                scenario: scenario.filter(|s| !s.is_empty()),
                deleted: false,
            }
        })
        .collect();
    Ok(Survey {
        runtime,
        backend: Backend::Influxdb(Box::new(client)),
        rows,
    })
}

/// Why clean cannot clean this InfluxDB target, if it cannot.
pub(crate) fn unsupported(settings: &InfluxTarget) -> Option<&'static str> {
    match settings.destination {
        Destination::V3 { .. } => Some("an InfluxDB 3 target"),
        Destination::V1 { .. } | Destination::V2 { .. } => None,
    }
}
