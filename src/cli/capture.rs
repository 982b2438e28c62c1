//! `outatime capture`: its arguments, checked before anything is asked of
//! the table, the target, and the summary and source blocks it prints.

use std::path::PathBuf;

use super::exit::Exit;
use super::input::config_target;
use super::output::sayln;
use super::output::{self, Failure};
use crate::capture::{CaptureError, Request, SALT_ENV};
use crate::sources::redact::Redactor;
use crate::targets::config::Target;

#[derive(clap::Args)]
pub(super) struct CaptureArgs {
    /// A `kind: timestream` target named in the configuration (capture only
    /// reads: a `read_only` target is fine)
    #[arg(long, value_name = "NAME")]
    target: String,
    /// The table's name as it exists in the target's database: the target's
    /// `table_prefix` and `table_suffix` are not added
    #[arg(long, value_name = "TABLE")]
    table: String,
    /// The first instant captured, RFC 3339 (`2026-11-28T00:00:00Z`)
    #[arg(long, value_name = "RFC3339")]
    from: String,
    /// The end of the window, not captured, RFC 3339
    #[arg(long, value_name = "RFC3339")]
    to: String,
    /// A SQL predicate every query adds with AND, e.g. "site = 'oslo-1'"
    #[arg(long = "where", value_name = "SQL")]
    predicate: Option<String>,
    /// The window is read one query a slice of this length, so that no
    /// query runs into the service's timeout
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    slice: String,
    /// Write pseudonyms instead of this VARCHAR column's values (repeatable)
    #[arg(long, value_name = "COLUMN")]
    redact: Vec<String>,
    /// The environment variable holding the redaction salt
    #[arg(long, value_name = "NAME", default_value = SALT_ENV)]
    salt_env: String,
    /// The configuration that names targets
    #[arg(long, value_name = "FILE", default_value = crate::targets::config::CONFIG_FILE)]
    config: PathBuf,
    /// The CSV file to write (replaced only once the capture is complete)
    #[arg(short, long, value_name = "FILE.csv")]
    output: PathBuf,
}

pub(super) fn capture(args: &CaptureArgs) -> Result<Exit, Failure> {
    let request = request(args)?;
    let target = match config_target(&args.config, &args.target)? {
        Target::Timestream(ts) => ts,
        Target::File { .. } => return Err(not_timestream(args, "a file").into()),
        Target::Influxdb(_) => return Err(not_timestream(args, "an InfluxDB").into()),
    };
    sayln!(
        "capturing `{}` of Timestream database `{}` in {}{}, {} .. {}",
        request.table,
        target.database,
        target.region,
        target
            .endpoint_url
            .as_ref()
            .map(|u| format!(" at {u}"))
            .unwrap_or_default(),
        args.from,
        args.to
    );
    let summary = crate::capture::capture(&target, &request)?;
    sayln!(
        "captured {} rows in {} slices ({} pages) into {} ({})",
        summary.rows,
        summary.slices,
        summary.pages,
        request.output.display(),
        summary.digest
    );
    output::print(&summary.blocks)?;
    Ok(Exit::Success)
}

fn not_timestream(args: &CaptureArgs, kind: &'static str) -> CaptureError {
    CaptureError::TargetNotTimestream {
        target: args.target.clone(),
        kind,
    }
}

/// The arguments, checked: nothing is asked of the target before.
fn request(args: &CaptureArgs) -> Result<Request, CaptureError> {
    let time = |flag: &'static str, text: &str| {
        crate::lang::literal::parse_timestamp(text)
            .map(|instant| instant.0)
            .map_err(|e| CaptureError::TimeNotRfc3339 {
                flag,
                text: text.into(),
                reason: e.timestamp_reason(),
            })
    };
    let from = time("--from", &args.from)?;
    let to = time("--to", &args.to)?;
    if from >= to {
        return Err(CaptureError::EmptyWindow {
            from: args.from.clone(),
            to: args.to.clone(),
        });
    }
    let slice = match crate::lang::literal::parse_duration(&args.slice) {
        Ok(d) if d.nanos() > 0 => d.nanos(),
        _ => {
            return Err(CaptureError::SliceNotADuration {
                slice: args.slice.clone(),
            });
        }
    };
    let redactor = if args.redact.is_empty() {
        None
    } else {
        let salt = std::env::var_os(&args.salt_env)
            .filter(|salt| !salt.is_empty())
            .ok_or_else(|| CaptureError::SaltUnset {
                env: args.salt_env.clone(),
            })?;
        Some(Redactor::new(salt.as_encoded_bytes()))
    };
    Ok(Request {
        table: args.table.clone(),
        from,
        to,
        predicate: args.predicate.clone(),
        slice,
        redact: args.redact.clone(),
        redactor,
        output: args.output.clone(),
        output_text: args.output.to_string_lossy().into_owned(),
    })
}
