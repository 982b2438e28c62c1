//! Files the process makes for itself and must not leave behind: a
//! replay's spilled rows, and every output file's temporary file until it
//! is renamed into place (`output_file.rs`). Only what this process made
//! is ever listed, so only that is removed.
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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

/// Paths of the live scratches, removed on a signal.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static LISTENING: Once = Once::new();
/// How many parts of a command handle SIGINT and SIGTERM themselves (an
/// apply's engine, `outatime test`'s expectations, at once under live
/// pacing).
static HANDLED: AtomicUsize = AtomicUsize::new(0);

/// A scratch file or folder: removed (with what it holds) when dropped,
/// and on SIGINT or SIGTERM.
#[derive(Debug)]
pub(crate) struct Scratch {
    path: PathBuf,
    kept: bool,
}

impl Scratch {
    /// A new, empty folder under `parent`: `outatime-<what>-XXXXXX`, with
    /// a random name, made exclusively (another name is tried while one
    /// exists), and readable only by its owner. The name does not trust
    /// the pid, which another run in another PID namespace (a container
    /// sharing the temp dir) can share; and only a folder this call made is
    /// ever listed, so none that another run made is removed.
    pub(crate) fn folder(parent: &Path, what: &str) -> std::io::Result<Scratch> {
        use std::os::unix::fs::DirBuilderExt;
        // `make_in`: the errors are the system's own, without the random
        // name (see output_file.rs).
        let ((), path) = tempfile::Builder::new()
            .prefix(&format!("outatime-{what}-"))
            .make_in(parent, |path| {
                std::fs::DirBuilder::new().mode(0o700).create(path)
            })?
            .keep()
            .map_err(|e| e.error)?;
        Ok(Scratch::listed(path))
    }

    /// `path`, a file this process has just created exclusively (so it is
    /// its own to remove), as a scratch file.
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

/// Removes `path`; a link there is removed, never what it points at.
fn remove(path: &Path) {
    let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_dir());
    if is_dir {
        let _ = std::fs::remove_dir_all(path);
    } else {
        let _ = std::fs::remove_file(path);
    }
}

/// While the returned guard lives, SIGINT and SIGTERM are the caller's to
/// handle: it stops, returns, and its scratches are dropped on the way.
pub(crate) fn signals_handled() -> SignalsHandled {
    HANDLED.fetch_add(1, Ordering::SeqCst);
    SignalsHandled(())
}

pub(crate) struct SignalsHandled(());

impl Drop for SignalsHandled {
    fn drop(&mut self) {
        HANDLED.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether some part of the command handles SIGINT and SIGTERM itself.
pub(crate) fn signals_are_handled() -> bool {
    HANDLED.load(Ordering::SeqCst) > 0
}

/// Ends the process by SIGINT (`terminate` false) or SIGTERM, as if it
/// had no handler, the live scratches removed first: for a signal that
/// arrives where no part of the command handles it.
pub(crate) fn die_of(terminate: bool) {
    clear_and_die(if terminate {
        libc::SIGTERM
    } else {
        libc::SIGINT
    });
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
                    if signals_are_handled() {
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
        std::fs::write(&file, b"done").unwrap();
        let scratch = Scratch::file(file.clone());
        scratch.keep();
        assert!(file.exists());
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn a_folder_another_run_made_under_a_name_this_one_might_pick_is_left_alone() {
        // Another run in another PID namespace (a container sharing
        // `--temp-dir`) can have this process's pid: it made folders under
        // every name `outatime-collide-<pid>-<n>` this one might choose.
        let parent = std::env::temp_dir().join(format!(
            "outatime-scratch-collide-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&parent);
        std::fs::create_dir_all(&parent).unwrap();
        let theirs: Vec<PathBuf> = (0..256)
            .map(|n| {
                let folder = parent.join(format!("outatime-collide-{}-{n}", std::process::id()));
                std::fs::create_dir(&folder).unwrap();
                std::fs::write(folder.join("live"), b"another run's rows").unwrap();
                folder
            })
            .collect();
        let ours = Scratch::folder(&parent, "collide");
        for folder in &theirs {
            assert!(
                folder.join("live").exists(),
                "{} was removed, and it was not ours",
                folder.display()
            );
        }
        let ours = ours.expect("a name of its own, whatever the pid");
        assert!(!theirs.contains(&ours.path().to_path_buf()));
        assert!(ours.path().is_dir());
        drop(ours);
        assert_eq!(std::fs::read_dir(&parent).unwrap().count(), theirs.len());
        std::fs::remove_dir_all(&parent).unwrap();
    }
}
