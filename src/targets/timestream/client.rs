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
use crate::diagnostics::error_chain;
use crate::targets::{MANAGED_BY, Mark, OUTATIME, Owner, SCENARIO_TAG};

/// Why a Timestream call before or after the writes failed (endpoint
/// discovery, creating, describing or deleting a table).
#[derive(Debug, thiserror::Error)]
pub(crate) enum TimestreamError {
    /// DescribeEndpoints failed: credentials, region, or no network.
    #[error("endpoint discovery failed: {}", error_chain(.0.as_ref()))]
    EndpointDiscovery(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A tag `--create` puts on a table cannot be built.
    #[error("tag `{key}`: {error}")]
    Tag {
        key: &'static str,
        #[source]
        error: aws_sdk_timestreamwrite::error::BuildError,
    },
    /// The target's `retention` cannot be built into a request.
    #[error("retention: {0}")]
    Retention(#[source] aws_sdk_timestreamwrite::error::BuildError),
    /// The target's `magnetic_writes` cannot be built into a request.
    #[error("magnetic writes: {0}")]
    MagneticWrites(#[source] aws_sdk_timestreamwrite::error::BuildError),
    #[error("cannot create database `{database}`: {error}")]
    DatabaseNotCreated {
        database: String,
        #[source]
        error: SdkFailure,
    },
    #[error("cannot create table `{table}`: {error}")]
    TableNotCreated {
        table: String,
        #[source]
        error: SdkFailure,
    },
    /// A table just created could not be described while waiting for it.
    #[error("cannot describe table `{table}`: {error}")]
    NewTableNotDescribed {
        table: String,
        #[source]
        error: SdkFailure,
    },
    #[error("table `{table}` did not become ACTIVE within a minute")]
    NotActive { table: String },
    #[error("cannot describe table `{table}` in `{database}`: {error}")]
    NotDescribed {
        table: String,
        database: String,
        #[source]
        error: SdkFailure,
    },
    #[error(
        "cannot read the tags of table `{table}` in `{database}`: DescribeTable did not give the table's ARN"
    )]
    NoArn { table: String, database: String },
    #[error("cannot read the tags of table `{table}` in `{database}`: {error}")]
    TagsNotRead {
        table: String,
        database: String,
        #[source]
        error: SdkFailure,
    },
    #[error("cannot delete table `{table}` in `{database}`: {error}")]
    NotDeleted {
        table: String,
        database: String,
        #[source]
        error: SdkFailure,
    },
}

/// An SDK call's failure, kept whole, worded as the service's code and
/// message (or, without a code, the chain of causes): each operation has
/// an error type of its own, so the error is boxed.
#[derive(Debug, thiserror::Error)]
#[error("{words}")]
pub(crate) struct SdkFailure {
    words: String,
    #[source]
    error: Box<dyn std::error::Error + Send + Sync>,
}

impl SdkFailure {
    pub(crate) fn new<E>(error: E) -> SdkFailure
    where
        E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    {
        SdkFailure {
            words: error_text(&error),
            error: Box::new(error),
        }
    }
}

/// A table as DescribeTable and ListTagsForResource tell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Described {
    Missing,
    Present {
        retention: Retention,
        owner: Owner,
        /// The `outatime-scenario` tag, when there is one.
        scenario: Option<String>,
        /// The table's CreationTime, ns; `None` when the endpoint leaves it
        /// out (moto does).
        created: Option<i64>,
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
                    .endpoint_url(url.expose())
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
                Err(e) => {
                    Err($crate::targets::timestream::client::TimestreamError::EndpointDiscovery(e))
                }
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
pub(crate) async fn client(
    target: &TimestreamTarget,
    timeout: Duration,
) -> Result<Client, TimestreamError> {
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
fn tags(mark: &Mark) -> Result<Vec<Tag>, TimestreamError> {
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
            .map_err(|error| TimestreamError::Tag { key, error })
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
) -> Result<(), TimestreamError> {
    let tags = tags(mark)?;
    if let Err(e) = client
        .create_database()
        .database_name(&target.database)
        .send()
        .await
        && e.code() != Some("ConflictException")
    {
        return Err(TimestreamError::DatabaseNotCreated {
            database: target.database.clone(),
            error: SdkFailure::new(e),
        });
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
                .map_err(TimestreamError::Retention)?;
            let magnetic = MagneticStoreWriteProperties::builder()
                .enable_magnetic_store_writes(r.magnetic_writes)
                .build()
                .map_err(TimestreamError::MagneticWrites)?;
            request = request
                .retention_properties(retention)
                .magnetic_store_write_properties(magnetic);
        }
        if let Err(e) = request.send().await
            && e.code() != Some("ConflictException")
        {
            return Err(TimestreamError::TableNotCreated {
                table: table.clone(),
                error: SdkFailure::new(e),
            });
        }
    }
    for table in tables {
        wait_active(client, &target.database, table).await?;
    }
    Ok(())
}

/// A new table is CREATING for a moment; writes need it ACTIVE.
async fn wait_active(client: &Client, database: &str, table: &str) -> Result<(), TimestreamError> {
    for _ in 0..120 {
        let described = client
            .describe_table()
            .database_name(database)
            .table_name(table)
            .send()
            .await
            .map_err(|e| TimestreamError::NewTableNotDescribed {
                table: table.to_string(),
                error: SdkFailure::new(e),
            })?;
        let status = described.table().and_then(|t| t.table_status());
        // moto leaves the status out: a table it describes is usable.
        if matches!(status, None | Some(TableStatus::Active)) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(TimestreamError::NotActive {
        table: table.to_string(),
    })
}

/// What each table accepts and whose it is (its tags); a table that does
/// not exist is `Missing`.
pub(crate) async fn describe(
    client: &Client,
    database: &str,
    tables: &[String],
) -> Result<Vec<Described>, TimestreamError> {
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
                let (owner, scenario) = owner(client, database, table, arn).await?;
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
                    created: t.and_then(|t| t.creation_time()).and_then(nanos),
                }
            }
            Err(e) if e.code() == Some("ResourceNotFoundException") => Described::Missing,
            Err(e) => {
                return Err(TimestreamError::NotDescribed {
                    table: table.clone(),
                    database: database.to_string(),
                    error: SdkFailure::new(e),
                });
            }
        };
        states.push(state);
    }
    Ok(states)
}

/// A time the SDK read, in ns since the epoch; `None` past 2262.
fn nanos(time: &aws_sdk_timestreamwrite::primitives::DateTime) -> Option<i64> {
    time.secs()
        .checked_mul(1_000_000_000)?
        .checked_add(i64::from(time.subsec_nanos()))
}

/// Whose `table` (of `arn`) is, by its tags, and the scenario that made it.
async fn owner(
    client: &Client,
    database: &str,
    table: &str,
    arn: &str,
) -> Result<(Owner, Option<String>), TimestreamError> {
    if arn.is_empty() {
        return Err(TimestreamError::NoArn {
            table: table.to_string(),
            database: database.to_string(),
        });
    }
    let listed = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| TimestreamError::TagsNotRead {
            table: table.to_string(),
            database: database.to_string(),
            error: SdkFailure::new(e),
        })?;
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
) -> Result<Deleted, TimestreamError> {
    match client
        .delete_table()
        .database_name(database)
        .table_name(table)
        .send()
        .await
    {
        Ok(_) => Ok(Deleted::Deleted),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(Deleted::Missing),
        Err(e) => Err(TimestreamError::NotDeleted {
            table: table.to_string(),
            database: database.to_string(),
            error: SdkFailure::new(e),
        }),
    }
}
