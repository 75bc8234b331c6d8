//! A background thread that checkpoints the store's WAL, so that copying
//! pages into the main file never happens inside a command; and, after a
//! purge, empties the log altogether, so that the pages that held a deleted
//! guest (zeroed in the main file by `secure_delete`) are gone from the log
//! too.

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

/// How long a log-emptying checkpoint waits for a writer to finish before
/// it tries again at the next [`INTERVAL`]: it holds new writers back while
/// it runs, so it must not queue behind a long one.
const TRUNCATE_WAIT: Duration = Duration::from_millis(200);

fn busy_interval() -> Duration {
    BUSY_INTERVAL / 2 + BUSY_INTERVAL.mul_f64(rand::random::<f64>() / 2.0)
}

/// What the store asks of the thread.
enum Request {
    /// Something was deleted for good: copy the log into the main file and
    /// truncate the log to nothing, as soon as no writer is in the way.
    Truncate,
}

/// Runs until dropped.
pub(super) struct Checkpointer {
    requests: Option<Sender<Request>>,
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
        // Like the store's own connection (it deletes nothing, but every
        // connection to a store says so).
        conn.pragma_update(None, "secure_delete", "ON").ok()?;
        let (requests, incoming) = mpsc::channel::<Request>();
        let thread = std::thread::Builder::new()
            .name("lodge-checkpoint".into())
            .spawn(move || {
                let mut last = Instant::now();
                let mut busy_for = busy_interval();
                // A purge asked for the log to be emptied and it was not yet.
                let mut truncate = false;
                // The log as it was when last checkpointed: a store nobody
                // wrote to since is left alone (a server of a thousand
                // quiet sites has a thousand of these threads).
                let mut checkpointed: Option<std::time::SystemTime> = None;
                loop {
                    match incoming.recv_timeout(INTERVAL) {
                        Ok(Request::Truncate) => truncate = true,
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                    if truncate {
                        truncate = !truncate_log(&conn);
                        last = Instant::now();
                        continue;
                    }
                    // Written to in the last second: busy, unless it has
                    // been busy for long.
                    let modified = std::fs::metadata(&wal).and_then(|m| m.modified()).ok();
                    let busy = modified.is_some_and(|t| t.elapsed().is_ok_and(|e| e < INTERVAL));
                    if busy && last.elapsed() < busy_for || modified.is_some() && modified == checkpointed {
                        continue;
                    }
                    // PASSIVE never blocks the writer. A commit that
                    // lands while it copies keeps the log from starting
                    // over (it grows instead, to wal_autocheckpoint at
                    // most); copying that tail with RESTART holds the
                    // writer through two fsyncs, and W1's p99 at 200
                    // devices went from 69-75 ms to 101-251 ms with it.
                    // (busy, frames in the log, frames copied): a reader in
                    // the way leaves some for the next look.
                    let copied = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok(r.get::<_, i64>(1)? == r.get::<_, i64>(2)?));
                    checkpointed = if copied.unwrap_or(false) { modified } else { None };
                    last = Instant::now();
                    busy_for = busy_interval();
                }
            })
            .ok()?;
        Some(Self { requests: Some(requests), thread: Some(thread) })
    }

    /// Empty the log soon (see [`Request::Truncate`]).
    pub(super) fn truncate(&self) {
        if let Some(r) = &self.requests {
            // The thread only stops when this is dropped.
            let _ = r.send(Request::Truncate);
        }
    }
}

/// Copy the whole log into the main file and truncate it to nothing;
/// whether that was done (not if a writer or a reader held it up).
/// Purges are rare, so holding writers back for its two fsyncs is paid
/// rarely (unlike after every busy stretch, see the PASSIVE above).
fn truncate_log(conn: &Connection) -> bool {
    let _ = conn.busy_timeout(TRUNCATE_WAIT);
    // (busy, log frames, frames checkpointed); busy = 1 when it could not
    // finish.
    let done = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)).is_ok_and(|busy| busy == 0);
    let _ = conn.busy_timeout(Duration::from_millis(50));
    done
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
