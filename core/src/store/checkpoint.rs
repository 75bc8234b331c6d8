//! A background thread that checkpoints the store's WAL, so that copying
//! pages into the main file never happens inside a command.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How often. A second keeps the WAL small (a busy desk writes a few
/// hundred pages a second) without waking a sleeping phone four times
/// a second for nothing.
const INTERVAL: Duration = Duration::from_secs(1);

/// Runs until dropped.
pub(super) struct Checkpointer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Start checkpointing `path` every [`INTERVAL`]; `None` if the second
    /// connection cannot be opened (the store then relies on SQLite's own
    /// automatic checkpoints).
    pub(super) fn start(path: &Path) -> Option<Self> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX).ok()?;
        conn.busy_timeout(Duration::from_millis(50)).ok()?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("lodge-checkpoint".into())
            .spawn(move || {
                loop {
                    match stopped.recv_timeout(INTERVAL) {
                        Err(RecvTimeoutError::Timeout) => {
                            // PASSIVE never blocks the writer.
                            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                        }
                        _ => return,
                    }
                }
            })
            .ok()?;
        Some(Self { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
