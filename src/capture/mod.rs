//! `outatime capture`: a window of a live Timestream table written to a CSV
//! file that a `csv` source reads, and the `source` blocks that read it.
//!
//! ```text
//! DESCRIBE "db"."t"                  → the columns and what each is (columns.rs)
//! for each slice [a, b) of --from .. --to:
//!   SELECT * FROM "db"."t" WHERE time >= from_nanoseconds(a)
//!     AND time < from_nanoseconds(b) [AND (--where)] ORDER BY time
//!   page by page (NextToken) → rows → CSV cells (redacted) → .FILE.XXXXXX.partial
//! rename .FILE.XXXXXX.partial → FILE; print the source blocks (block.rs)
//! ```
//!
//! Nothing holds more than one page. Throttling and server errors are
//! retried by the SDK's standard retry strategy (exponential backoff with
//! jitter), with more attempts than its default.

mod block;
mod columns;
pub(crate) mod error;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_timestreamquery::Client;
use aws_sdk_timestreamquery::operation::query::QueryOutput;

use crate::output_file::{Complete, OutputFile};
use crate::sources::redact::Redactor;
use crate::targets::timestream::TimestreamTarget;
use crate::targets::timestream::query::{identifier, query_client};
use columns::{Cells, PageLayout, Schema};
pub(crate) use error::CaptureError;

/// The environment variable holding the redaction salt, unless
/// `--salt-env` names another: the one the language's `redact` reads.
pub(crate) const SALT_ENV: &str = "OUTATIME_REDACT_SALT";

/// Attempts of one Query call (the first and its retries).
const ATTEMPTS: u32 = 8;

/// What to capture, checked.
pub(crate) struct Request {
    /// The table's name as it exists in the target's database.
    pub table: String,
    pub from: i64,
    pub to: i64,
    /// A SQL predicate added to every query with `AND`.
    pub predicate: Option<String>,
    /// Nanoseconds a query covers, at most.
    pub slice: i64,
    pub redact: Vec<String>,
    /// Present exactly when `redact` is not empty.
    pub redactor: Option<Redactor>,
    pub output: PathBuf,
    /// The output as the printed source block names it.
    pub output_text: String,
}

/// What a capture wrote.
pub(crate) struct Summary {
    pub rows: u64,
    pub slices: u64,
    /// Pages answered, the description's included (retried attempts are
    /// the SDK's and not counted).
    pub pages: u64,
    /// `blake3:` and the file's digest, as a plan pins a source.
    pub digest: String,
    pub blocks: String,
}

/// Captures `request.table` of `target` into `request.output`.
pub(crate) fn capture(
    target: &TimestreamTarget,
    request: &Request,
) -> Result<Summary, CaptureError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| CaptureError::RuntimeNotStarted { error })?;
    let fail = |reason: String| CaptureError::Timestream {
        table: request.table.clone(),
        reason,
    };
    let retry = aws_config::retry::RetryConfig::standard()
        .with_max_attempts(ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(500));
    let client = runtime
        .block_on(query_client(target, Some(retry)))
        .map_err(|e| fail(e.to_string()))?;
    let mut session = Session {
        client,
        runtime,
        pages: 0,
    };
    let table_text = format!(
        "{}.{}",
        identifier(&target.database),
        identifier(&request.table)
    );
    let description = session
        .pages(&format!("DESCRIBE {table_text}"))
        .map_err(fail)?;
    let not_capturable = |reason: String| CaptureError::Table {
        table: request.table.clone(),
        reason,
    };
    let schema = Schema::from_description(&description).map_err(not_capturable)?;
    check_redact(&schema, &request.redact)?;

    let output_error = |error: std::io::Error| CaptureError::Output {
        file: request.output.clone(),
        error,
    };
    if let Some(folder) = request
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder).map_err(output_error)?;
    }
    // A temporary file beside the output, removed on every way out but
    // the rename, Ctrl-C included; a link at either name is never
    // written through.
    let file = OutputFile::create(&request.output).map_err(output_error)?;
    let (rows, slices, cells, digest, complete) =
        write(&mut session, &schema, request, &table_text, file)?;
    complete.commit().map_err(output_error)?;
    let all = vec![true; schema.columns.len()];
    let stem = request
        .output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "captured".into());
    let name = block::source_name(&stem);
    let blocks = block::source_blocks(&block::Captured {
        name: &name,
        path: &request.output_text,
        schema: &schema,
        seen: if rows == 0 { &all } else { &cells.seen },
        multi_names: &cells.multi_names,
    });
    Ok(Summary {
        rows,
        slices,
        pages: session.pages,
        digest,
        blocks,
    })
}

/// Every `--redact` column is a VARCHAR column of the table.
fn check_redact(schema: &Schema, redact: &[String]) -> Result<(), CaptureError> {
    let redactable = schema.redactable();
    for column in redact {
        let reason = match schema.position(column) {
            None => "the table has no such column".to_string(),
            Some(at) if !redactable.contains(column) => {
                format!("it is a {} column, not VARCHAR", schema.columns[at].ty)
            }
            Some(_) => continue,
        };
        return Err(CaptureError::Redact {
            column: column.clone(),
            reason,
            columns: redactable,
        });
    }
    Ok(())
}

/// `data/day.csv` → `data/day.csv.partial`: the file is renamed into place
/// only once complete.
/// The client and the pages it was answered.
struct Session {
    client: Client,
    runtime: tokio::runtime::Runtime,
    pages: u64,
}

impl Session {
    /// Every page of `query`, each handed to `each` as it arrives.
    fn each_page(
        &mut self,
        query: &str,
        each: &mut dyn FnMut(&QueryOutput) -> Result<(), CaptureError>,
    ) -> Result<Result<(), CaptureError>, String> {
        let mut next_token: Option<String> = None;
        loop {
            let request = self
                .client
                .query()
                .query_string(query)
                .set_next_token(next_token.take());
            let page = self
                .runtime
                .block_on(request.send())
                .map_err(|e| crate::targets::timestream::client::error_text(&e))?;
            self.pages += 1;
            if let Err(error) = each(&page) {
                return Ok(Err(error));
            }
            match page.next_token() {
                Some(token) => next_token = Some(token.to_string()),
                None => return Ok(Ok(())),
            }
        }
    }

    /// Every page of a small answer (the description).
    fn pages(&mut self, query: &str) -> Result<Vec<QueryOutput>, String> {
        let mut pages = Vec::new();
        let mut keep = |page: &QueryOutput| {
            pages.push(page.clone());
            Ok(())
        };
        // `keep` cannot fail.
        let _ = self.each_page(query, &mut keep)?;
        Ok(pages)
    }
}

/// The query of one slice.
fn select(table: &str, from: i64, to: i64, predicate: Option<&str>) -> String {
    let mut query = format!(
        "SELECT * FROM {table} WHERE time >= from_nanoseconds({from}) AND time < from_nanoseconds({to})"
    );
    if let Some(predicate) = predicate {
        query.push_str(&format!(" AND ({predicate})"));
    }
    query.push_str(" ORDER BY time");
    query
}

/// Writes every slice to `file`: the rows, the slices, the cells' tally,
/// the file's digest, and the file complete, to be renamed into place.
fn write(
    session: &mut Session,
    schema: &Schema,
    request: &Request,
    table_text: &str,
    file: OutputFile,
) -> Result<(u64, u64, Cells, String, Complete), CaptureError> {
    let output_error = |error: std::io::Error| CaptureError::Output {
        file: request.output.clone(),
        error,
    };
    let hashed = Hashing {
        inner: std::io::BufWriter::with_capacity(1 << 16, file),
        hasher: blake3::Hasher::new(),
    };
    let mut csv = ::csv::Writer::from_writer(hashed);
    csv.write_record(schema.header())
        .map_err(|e| output_error(e.into()))?;
    let mut cells = Cells::new(schema, &request.redact, request.redactor.clone());
    let width = i128::from(request.to) - i128::from(request.from);
    let slices = (width + i128::from(request.slice) - 1) / i128::from(request.slice);
    let slices = u64::try_from(slices).unwrap_or(u64::MAX).max(1);
    let mut progress = Progress::new(slices);
    let mut rows = 0u64;
    let mut last_time = i64::MIN;
    for (index, from) in (request.from..request.to)
        .step_by(request.slice as usize)
        .enumerate()
    {
        let to = from.saturating_add(request.slice).min(request.to);
        let query = select(table_text, from, to, request.predicate.as_deref());
        let table_error = |reason: String| CaptureError::Table {
            table: request.table.clone(),
            reason,
        };
        let mut each = |page: &QueryOutput| {
            let layout = PageLayout::new(page, schema).map_err(table_error)?;
            for row in page.rows() {
                cells.fill(row, &layout).map_err(table_error)?;
                if cells.time < last_time {
                    return Err(table_error(
                        "the rows of a query came out of time order, although it says ORDER BY time"
                            .into(),
                    ));
                }
                last_time = cells.time;
                csv.write_record(&cells.cells)
                    .map_err(|e| output_error(e.into()))?;
                rows += 1;
            }
            progress.update(index as u64, rows, from);
            Ok(())
        };
        session
            .each_page(&query, &mut each)
            .map_err(|reason| CaptureError::Timestream {
                table: request.table.clone(),
                reason,
            })??;
    }
    progress.clear();
    let hashed = csv
        .into_inner()
        .map_err(|e| output_error(std::io::Error::other(e.to_string())))?;
    let Hashing { inner, hasher } = hashed;
    let file = inner
        .into_inner()
        .map_err(|e| output_error(std::io::Error::other(e.to_string())))?;
    let complete = file.finish().map_err(output_error)?;
    Ok((
        rows,
        slices,
        cells,
        format!("blake3:{}", hasher.finalize().to_hex()),
        complete,
    ))
}

/// A writer whose every byte written goes to a hasher too.
struct Hashing<W> {
    inner: W,
    hasher: blake3::Hasher,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Progress on stderr: a line redrawn in place on a terminal, a plain
/// line every ten seconds otherwise (CI logs), as `apply` does. A write
/// that fails (stderr closed, its reader gone) is dropped: the progress
/// is not worth stopping, let alone panicking, as `eprint!` would.
struct Progress {
    slices: u64,
    terminal: bool,
    started: Instant,
    last_line: Instant,
    drawn: bool,
}

const LOG_EVERY: Duration = Duration::from_secs(10);

impl Progress {
    fn new(slices: u64) -> Progress {
        Progress {
            slices,
            terminal: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last_line: Instant::now(),
            drawn: false,
        }
    }

    /// After each page of slice `index` (from 0), which starts at `from`.
    fn update(&mut self, index: u64, rows: u64, from: i64) {
        let seconds = self.started.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 {
            rows as f64 / seconds
        } else {
            0.0
        };
        let line = format!(
            "slice {}/{} (from {}), {rows} rows, {rate:.0} rows/s",
            index + 1,
            self.slices,
            crate::lang::literal::Instant(from)
        );
        if self.terminal {
            let _ = write!(std::io::stderr(), "\r\x1b[2K{line}");
            let _ = std::io::stderr().flush();
            self.drawn = true;
        } else if self.last_line.elapsed() >= LOG_EVERY {
            let _ = writeln!(std::io::stderr(), "progress: {line}");
            self.last_line = Instant::now();
        }
    }

    fn clear(&mut self) {
        if self.drawn {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            self.drawn = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_query_names_the_window_and_the_predicate() {
        assert_eq!(
            select("\"db\".\"t\"", 10, 20, Some("site = 'oslo-1'")),
            "SELECT * FROM \"db\".\"t\" WHERE time >= from_nanoseconds(10) AND time < from_nanoseconds(20) AND (site = 'oslo-1') ORDER BY time"
        );
        assert_eq!(
            select("\"db\".\"t\"", 10, 20, None),
            "SELECT * FROM \"db\".\"t\" WHERE time >= from_nanoseconds(10) AND time < from_nanoseconds(20) ORDER BY time"
        );
    }
}
