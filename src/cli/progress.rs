//! What an apply says while it runs ([`crate::apply::progress`]), drawn on
//! stderr through [`say!`], which drops what cannot be written: a bar
//! redrawn in place on a terminal, a plain line every ten seconds
//! otherwise (CI logs), and each notice on a line of its own (under the
//! bar).

use std::io::IsTerminal;
use std::time::Duration;

use super::output::{say, sayln};
use crate::apply::progress::{Progress, Said};

/// How often a progress line is logged when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(10);

pub(super) struct Drawing {
    terminal: bool,
    /// When the last progress line was logged, in the writes' time.
    logged: Duration,
    /// Whether a bar is on the screen.
    drawn: bool,
}

impl Drawing {
    pub(super) fn new() -> Drawing {
        Drawing {
            terminal: std::io::stderr().is_terminal(),
            logged: Duration::ZERO,
            drawn: false,
        }
    }

    pub(super) fn show(&mut self, said: Said<'_>) {
        match said {
            Said::Progress(progress) => self.progress(&progress),
            Said::Notice(notice) => {
                self.clear();
                sayln!("{notice}");
            }
            Said::Done => self.clear(),
        }
    }

    fn progress(&mut self, progress: &Progress) {
        if self.terminal {
            let percent = progress.percent();
            let filled = (percent / 5) as usize;
            let bar = format!(
                "[{}{}]",
                "#".repeat(filled),
                " ".repeat(20 - filled.min(20))
            );
            say!("\r\x1b[2K{bar} {percent:>3}% {progress}");
            self.drawn = true;
        } else if progress.elapsed >= self.logged + LOG_EVERY {
            sayln!("progress: {progress}");
            self.logged = progress.elapsed;
        }
    }

    /// Clears the bar, before a line of its own or the summary.
    fn clear(&mut self) {
        if self.drawn {
            say!("\r\x1b[2K");
            self.drawn = false;
        }
    }
}
