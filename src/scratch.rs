//! Files the process makes for itself and must not leave behind: a
//! replay's spilled rows, `capture`'s `FILE.partial`.
//!
//! A `Scratch` is removed when it is dropped, which covers returning and
//! failing. Ctrl-C and `kill` do not run destructors, so every live scratch
//! path is also listed here, and the first scratch made starts a thread that
//! waits for SIGINT and SIGTERM: it removes what is listed, then lets the
//! signal end the process as it would have (so a shell still sees "killed by
//! SIGINT"). A command that stops gracefully on a signal itself (`apply`
//! writes its report, then returns and drops its scratch) says so with
//! `signals_handled`, and the thread then leaves the signal to it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, Once};

/// Paths of the live scratches, removed on a signal.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static LISTENING: Once = Once::new();
/// Set while a command handles SIGINT and SIGTERM itself.
static HANDLED: AtomicBool = AtomicBool::new(false);
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A scratch file or folder: removed (with what it holds) when dropped,
/// and on SIGINT or SIGTERM.
#[derive(Debug)]
pub(crate) struct Scratch {
    path: PathBuf,
    kept: bool,
}

impl Scratch {
    /// A new, empty folder under `parent`: `outatime-<what>-<pid>-<n>`.
    pub(crate) fn folder(parent: &Path, what: &str) -> std::io::Result<Scratch> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = parent.join(format!("outatime-{what}-{}-{n}", std::process::id()));
        let scratch = Scratch::listed(path);
        std::fs::create_dir(&scratch.path)?;
        Ok(scratch)
    }

    /// `path`, which the caller is about to create, as a scratch file.
    pub(crate) fn file(path: PathBuf) -> Scratch {
        Scratch::listed(path)
    }

    fn listed(path: PathBuf) -> Scratch {
        LISTENING.call_once(listen);
        if let Ok(mut live) = LIVE.lock() {
            live.push(path.clone());
        }
        Scratch { path, kept: false }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// No longer scratch: the file was renamed into place, or is wanted.
    pub(crate) fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(mut live) = LIVE.lock()
            && let Some(i) = live.iter().position(|p| *p == self.path)
        {
            live.swap_remove(i);
        }
        if !self.kept {
            remove(&self.path);
        }
    }
}

fn remove(path: &Path) {
    if path.is_dir() {
        let _ = std::fs::remove_dir_all(path);
    } else {
        let _ = std::fs::remove_file(path);
    }
}

/// While the returned guard lives, SIGINT and SIGTERM are the caller's to
/// handle: it stops, returns, and its scratches are dropped on the way.
pub(crate) fn signals_handled() -> SignalsHandled {
    HANDLED.store(true, Ordering::SeqCst);
    SignalsHandled(())
}

pub(crate) struct SignalsHandled(());

impl Drop for SignalsHandled {
    fn drop(&mut self) {
        HANDLED.store(false, Ordering::SeqCst);
    }
}

/// Starts the thread that clears the scratches on SIGINT or SIGTERM. If it
/// cannot start, scratches are still removed on every other exit path.
fn listen() {
    let started = std::thread::Builder::new()
        .name("outatime-signals".into())
        .spawn(|| {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut interrupt), Ok(mut terminate)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) else {
                    return;
                };
                loop {
                    let number = tokio::select! {
                        _ = interrupt.recv() => libc::SIGINT,
                        _ = terminate.recv() => libc::SIGTERM,
                    };
                    if HANDLED.load(Ordering::SeqCst) {
                        continue;
                    }
                    clear_and_die(number);
                }
            });
        });
    drop(started);
}

/// Removes every live scratch, then ends the process by `number` with its
/// default action.
fn clear_and_die(number: libc::c_int) {
    let paths = LIVE.lock().map(|live| live.clone()).unwrap_or_default();
    for path in &paths {
        remove(path);
    }
    // SAFETY: restoring the default action and raising the signal are
    // async-signal-safe, and this is a plain thread, not a handler.
    unsafe {
        libc::signal(number, libc::SIG_DFL);
        libc::raise(number);
    }
    // Only if the default action did not end the process.
    std::process::exit(128 + number);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_folder_is_removed_when_dropped_and_a_kept_file_is_not() {
        let folder = Scratch::folder(&std::env::temp_dir(), "test").unwrap();
        let path = folder.path().to_path_buf();
        std::fs::write(path.join("run-0"), b"rows").unwrap();
        assert!(LIVE.lock().unwrap().contains(&path));
        drop(folder);
        assert!(!path.exists());
        assert!(!LIVE.lock().unwrap().contains(&path));

        let file = std::env::temp_dir().join(format!("outatime-kept-{}", std::process::id()));
        let scratch = Scratch::file(file.clone());
        std::fs::write(&file, b"done").unwrap();
        scratch.keep();
        assert!(file.exists());
        std::fs::remove_file(&file).unwrap();
    }
}
