//! Progress of an apply on stderr: a bar redrawn in place on a terminal,
//! a plain line every ten seconds otherwise (CI logs).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const LOG_EVERY: Duration = Duration::from_secs(10);

pub(crate) struct Progress {
    total: u64,
    started: Instant,
    terminal: bool,
    last_line: Instant,
    drawn: bool,
}

impl Progress {
    /// For an apply of `total` records.
    pub(crate) fn new(total: u64) -> Progress {
        Progress {
            total,
            started: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
            last_line: Instant::now(),
            drawn: false,
        }
    }

    fn line(&self, written: u64, batches: u64, next_due: Option<i64>) -> String {
        let seconds = self.started.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 {
            written as f64 / seconds
        } else {
            0.0
        };
        let mut line = format!(
            "{written}/{} records, {batches} batches, {rate:.0} records/s",
            self.total
        );
        if rate > 0.0 && written < self.total && next_due.is_none() {
            let left = (self.total - written) as f64 / rate;
            line.push_str(&format!(", about {left:.0} s left"));
        }
        if let Some(due) = next_due {
            let due = crate::record::time_string(due);
            line.push_str(&format!(", next due {due}"));
        }
        line
    }

    /// Called twice a second.
    pub(crate) fn update(&mut self, written: u64, batches: u64, next_due: Option<i64>) {
        let line = self.line(written, batches, next_due);
        if self.terminal {
            let percent = (written * 100).checked_div(self.total).unwrap_or(100);
            let filled = (percent / 5) as usize;
            let bar = format!(
                "[{}{}]",
                "#".repeat(filled),
                " ".repeat(20 - filled.min(20))
            );
            eprint!("\r\x1b[2K{bar} {percent:>3}% {line}");
            let _ = std::io::stderr().flush();
            self.drawn = true;
        } else if self.last_line.elapsed() >= LOG_EVERY {
            eprintln!("progress: {line}");
            self.last_line = Instant::now();
        }
    }

    /// A message between updates; on a terminal, under the bar.
    pub(crate) fn note(&mut self, text: &str) {
        self.clear();
        eprintln!("{text}");
    }

    /// Clears the bar, before the summary.
    pub(crate) fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            self.drawn = false;
        }
    }
}
