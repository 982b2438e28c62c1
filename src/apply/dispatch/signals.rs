//! SIGINT and SIGTERM while the writes run.

use crate::apply::report::Signal;

/// SIGINT and SIGTERM: apply stops gracefully, so scratch files (a
/// replay's spilled rows) are dropped on the way out, not by the signal.
pub(super) struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    _handled: crate::scratch::SignalsHandled,
}

impl Signals {
    pub(super) fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            _handled: crate::scratch::signals_handled(),
        })
    }

    pub(super) async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.interrupt.recv() => Signal::Interrupt,
            _ = self.terminate.recv() => Signal::Terminate,
        }
    }
}
