//! A background thread that checkpoints the store's WAL, so that copying
//! pages into the main file never happens inside a command.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

/// How often it looks. A second keeps the WAL small (a busy desk writes a
/// few hundred pages a second) without waking a sleeping phone four times
/// a second for nothing.
const INTERVAL: Duration = Duration::from_secs(1);

/// A store written to without a second's pause is checkpointed about this
/// often (between half of it and all of it, at random, so that the stores of
/// devices busy since the same moment do not all checkpoint in the same
/// second): a checkpoint costs two fsyncs however few pages it copies, and
/// the pages a busy store rewrites (indexes, who-is-in) are copied once.
const BUSY_INTERVAL: Duration = Duration::from_secs(10);

fn busy_interval() -> Duration {
    BUSY_INTERVAL / 2 + BUSY_INTERVAL.mul_f64(rand::random::<f64>() / 2.0)
}

/// Runs until dropped.
pub(super) struct Checkpointer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Start checkpointing `path` (see [`INTERVAL`] and [`BUSY_INTERVAL`]);
    /// `None` if the second connection cannot be opened (the store then
    /// relies on SQLite's own automatic checkpoints).
    pub(super) fn start(path: &Path) -> Option<Self> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX).ok()?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let wal = std::path::PathBuf::from(wal);
        conn.busy_timeout(Duration::from_millis(50)).ok()?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("lodge-checkpoint".into())
            .spawn(move || {
                let mut last = Instant::now();
                let mut busy_for = busy_interval();
                loop {
                    match stopped.recv_timeout(INTERVAL) {
                        Err(RecvTimeoutError::Timeout) => {
                            // Written to in the last second: busy, unless
                            // it has been busy for long.
                            let busy = std::fs::metadata(&wal)
                                .and_then(|m| m.modified())
                                .is_ok_and(|t| t.elapsed().is_ok_and(|e| e < INTERVAL));
                            if busy && last.elapsed() < busy_for {
                                continue;
                            }
                            // PASSIVE never blocks the writer. A commit that
                            // lands while it copies keeps the log from starting
                            // over (it grows instead, to wal_autocheckpoint at
                            // most); copying that tail with RESTART holds the
                            // writer through two fsyncs, and W1's p99 at 200
                            // devices went from 69-75 ms to 101-251 ms with it.
                            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                            last = Instant::now();
                            busy_for = busy_interval();
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
