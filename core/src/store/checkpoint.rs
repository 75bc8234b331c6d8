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

/// Copy the log into the main file so that the next write starts the log
/// over instead of growing it. PASSIVE never blocks the writer, but a
/// commit that lands while it runs leaves frames behind, and a log that is
/// not wholly copied is never started over: on a store written to without
/// pause it then grew by every page written (measured: 1 to 3 MB over ten
/// seconds of W1 at 200 devices), and writing new blocks of a file costs
/// the kernel several times what rewriting cached ones does (13 % of a
/// device's time went to zeroing them). The few frames left are copied
/// by RESTART, which holds the writer off only for them.
fn checkpoint(conn: &Connection) {
    let passive = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)));
    if let Ok((log, copied)) = passive
        && copied < log
    {
        // Busy (the writer held on longer than the busy timeout): the next
        // round tries again.
        let _ = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
    }
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
                            checkpoint(&conn);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_len(path: &Path) -> u64 {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        std::fs::metadata(std::path::PathBuf::from(wal)).map_or(0, |m| m.len())
    }

    /// A commit that lands while the copy runs (here: a reader that holds
    /// an older snapshot through PASSIVE, as a commit in the middle would
    /// leave frames behind) must not keep the log from starting over.
    #[test]
    fn a_log_left_with_frames_behind_still_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer.execute_batch("CREATE TABLE t (v BLOB); INSERT INTO t VALUES (zeroblob(20000));").unwrap();
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN; SELECT count(*) FROM t;").unwrap();
        writer.execute_batch("INSERT INTO t VALUES (zeroblob(20000));").unwrap();
        let copier = Connection::open(&path).unwrap();
        copier.busy_timeout(Duration::from_secs(5)).unwrap();
        // The reader lets go while the tail is being waited for.
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            reader.execute_batch("COMMIT").unwrap();
        });
        checkpoint(&copier);
        release.join().unwrap();
        let before = wal_len(&path);
        writer.execute_batch("INSERT INTO t VALUES (zeroblob(20000));").unwrap();
        assert_eq!(wal_len(&path), before, "the next write went to the end of the log instead of its start");
    }
}
