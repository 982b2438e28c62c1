//! The SDK client and the table calls around the writes: create (tagged as
//! outatime's), wait until ACTIVE, describe (with the tags), and delete, for
//! `clean`.

use std::time::Duration;

use aws_sdk_timestreamwrite::Client;
use aws_sdk_timestreamwrite::error::ProvideErrorMetadata;
use aws_sdk_timestreamwrite::types::{
    MagneticStoreWriteProperties, RetentionProperties, TableStatus, Tag,
};
use aws_smithy_http_client::tls;

use super::{Retention, TimestreamTarget};
use crate::targets::{MANAGED_BY, Mark, OUTATIME, Owner, SCENARIO_TAG};

/// A table as DescribeTable and ListTagsForResource tell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Described {
    Missing,
    Present {
        retention: Retention,
        owner: Owner,
        /// The `outatime-scenario` tag, when there is one.
        scenario: Option<String>,
    },
}

/// A Timestream SDK client, write or query, from a loaded config: the plain
/// client at `endpoint_url` when one is given (local emulators such as
/// moto), else real AWS through endpoint discovery, which both Timestream
/// APIs require. A macro, since the two SDK crates share no client type.
macro_rules! timestream_client {
    ($sdk:ident, $shared:expr, $endpoint_url:expr) => {
        match $endpoint_url {
            Some(url) => Ok($sdk::Client::from_conf(
                $sdk::config::Builder::from($shared)
                    .endpoint_url(url.clone())
                    .build(),
            )),
            None => match $sdk::Client::new($shared)
                .with_endpoint_discovery_enabled()
                .await
            {
                Ok((client, reload)) => {
                    tokio::spawn(reload.reload_task());
                    Ok(client)
                }
                Err(e) => Err(format!(
                    "endpoint discovery failed: {}",
                    crate::diagnostics::error_chain(e.as_ref())
                )),
            },
        }
    };
}
pub(crate) use timestream_client;

/// The shared config of every SDK client outatime makes, for `region`, on
/// one HTTPS client: rustls with ring, trusting the system's root
/// certificates (or `SSL_CERT_FILE`/`SSL_CERT_DIR` when set). aws-config
/// builds its own clients (STS for assume-role and web identity, SSO,
/// SSO-OIDC) and its ECS and IMDS calls on this config's HTTP client too.
pub(crate) fn sdk_config(region: &str) -> aws_config::ConfigLoader {
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .http_client(https)
}

/// With `endpoint_url` (a local emulator) the plain client; against AWS,
/// endpoint discovery, whose reload task runs for the apply's lifetime.
/// Every attempt times out after `timeout`; outatime retries batches itself
/// (and counts the retries), so the SDK's own retries are off.
pub(crate) async fn client(target: &TimestreamTarget, timeout: Duration) -> Result<Client, String> {
    let shared = sdk_config(&target.region)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(10)))
                .build(),
        )
        .load()
        .await;
    timestream_client!(aws_sdk_timestreamwrite, &shared, &target.endpoint_url)
}

/// The code and message of an SDK error, or its chain of causes.
pub(crate) fn error_text<E: std::error::Error + ProvideErrorMetadata>(error: &E) -> String {
    match error.code() {
        Some(code) => format!("{code}: {}", error.message().unwrap_or("(no message)")),
        None => crate::diagnostics::error_chain(error),
    }
}

/// The tags a table `--create` makes carries.
fn tags(mark: &Mark) -> Result<Vec<Tag>, String> {
    [
        (MANAGED_BY, OUTATIME),
        (SCENARIO_TAG, mark.scenario.as_str()),
    ]
    .into_iter()
    .map(|(key, value)| {
        Tag::builder()
            .key(key)
            .value(value)
            .build()
            .map_err(|e| format!("tag `{key}`: {e}"))
    })
    .collect()
}

/// Creates the database and tables, tagged as outatime's, then waits until
/// every table is ACTIVE. Ones that exist already are fine and keep their
/// retention and tags (the preflight then asks whose they are).
pub(crate) async fn create(
    client: &Client,
    target: &TimestreamTarget,
    tables: &[String],
    mark: &Mark,
) -> Result<(), String> {
    let tags = tags(mark)?;
    if let Err(e) = client
        .create_database()
        .database_name(&target.database)
        .send()
        .await
        && e.code() != Some("ConflictException")
    {
        return Err(format!(
            "cannot create database `{}`: {}",
            target.database,
            error_text(&e)
        ));
    }
    for table in tables {
        let mut request = client
            .create_table()
            .database_name(&target.database)
            .table_name(table)
            .set_tags(Some(tags.clone()));
        if let Some(r) = &target.retention {
            let retention = RetentionProperties::builder()
                .memory_store_retention_period_in_hours(r.memory_hours)
                .magnetic_store_retention_period_in_days(r.magnetic_days)
                .build()
                .map_err(|e| format!("retention: {e}"))?;
            let magnetic = MagneticStoreWriteProperties::builder()
                .enable_magnetic_store_writes(r.magnetic_writes)
                .build()
                .map_err(|e| format!("magnetic writes: {e}"))?;
            request = request
                .retention_properties(retention)
                .magnetic_store_write_properties(magnetic);
        }
        if let Err(e) = request.send().await
            && e.code() != Some("ConflictException")
        {
            return Err(format!("cannot create table `{table}`: {}", error_text(&e)));
        }
    }
    for table in tables {
        wait_active(client, &target.database, table).await?;
    }
    Ok(())
}

/// A new table is CREATING for a moment; writes need it ACTIVE.
async fn wait_active(client: &Client, database: &str, table: &str) -> Result<(), String> {
    for _ in 0..120 {
        let described = client
            .describe_table()
            .database_name(database)
            .table_name(table)
            .send()
            .await
            .map_err(|e| format!("cannot describe table `{table}`: {}", error_text(&e)))?;
        let status = described.table().and_then(|t| t.table_status());
        // moto leaves the status out: a table it describes is usable.
        if matches!(status, None | Some(TableStatus::Active)) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!(
        "table `{table}` did not become ACTIVE within a minute"
    ))
}

/// What each table accepts and whose it is (its tags); a table that does
/// not exist is `Missing`.
pub(crate) async fn describe(
    client: &Client,
    database: &str,
    tables: &[String],
) -> Result<Vec<Described>, String> {
    let mut states = Vec::with_capacity(tables.len());
    for table in tables {
        let described = client
            .describe_table()
            .database_name(database)
            .table_name(table)
            .send()
            .await;
        let state = match described {
            Ok(output) => {
                let t = output.table();
                let retention = t.and_then(|t| t.retention_properties());
                let arn = t.and_then(|t| t.arn()).unwrap_or_default();
                let (owner, scenario) = owner(client, arn).await.map_err(|e| {
                    format!("cannot read the tags of table `{table}` in `{database}`: {e}")
                })?;
                let retention = Retention {
                    // Timestream's defaults when a table says nothing.
                    memory_hours: retention
                        .map(|r| r.memory_store_retention_period_in_hours())
                        .unwrap_or(6),
                    magnetic_days: retention
                        .map(|r| r.magnetic_store_retention_period_in_days())
                        .unwrap_or(73_000),
                    magnetic_writes: t
                        .and_then(|t| t.magnetic_store_write_properties())
                        .is_some_and(|m| m.enable_magnetic_store_writes()),
                };
                Described::Present {
                    retention,
                    owner,
                    scenario,
                }
            }
            Err(e) if e.code() == Some("ResourceNotFoundException") => Described::Missing,
            Err(e) => {
                return Err(format!(
                    "cannot describe table `{table}` in `{database}`: {}",
                    error_text(&e)
                ));
            }
        };
        states.push(state);
    }
    Ok(states)
}

/// Whose the table of `arn` is, by its tags, and the scenario that made it.
async fn owner(client: &Client, arn: &str) -> Result<(Owner, Option<String>), String> {
    if arn.is_empty() {
        return Err("DescribeTable did not give the table's ARN".into());
    }
    let listed = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| error_text(&e))?;
    let tag = |key: &str| {
        listed
            .tags()
            .iter()
            .find(|t| t.key() == key)
            .map(|t| t.value().to_string())
    };
    let owner = if tag(MANAGED_BY).as_deref() == Some(OUTATIME) {
        Owner::Outatime
    } else {
        Owner::Other
    };
    Ok((owner, tag(SCENARIO_TAG)))
}

/// What DeleteTable did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deleted {
    Deleted,
    /// Gone already (deleted meanwhile): what `clean` wanted.
    Missing,
}

/// Deletes one table (`clean`); the caller has checked it is outatime's.
pub(crate) async fn delete(
    client: &Client,
    database: &str,
    table: &str,
) -> Result<Deleted, String> {
    match client
        .delete_table()
        .database_name(database)
        .table_name(table)
        .send()
        .await
    {
        Ok(_) => Ok(Deleted::Deleted),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(Deleted::Missing),
        Err(e) => Err(format!(
            "cannot delete table `{table}` in `{database}`: {}",
            error_text(&e)
        )),
    }
}
