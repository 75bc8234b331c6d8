//! A background thread that checkpoints the store's WAL, so that copying
//! pages into the main file never happens inside a command; and, after a
//! purge, empties the log altogether, so that the pages that held a deleted
//! guest (zeroed in the main file by `secure_delete`) are gone from the log
//! too.
//!
//! A store written to without pause (a desk importing, a device catching
//! up on a busy day) never leaves the thread a quiet moment: each copy ends
//! with new commits behind it, the log never starts over, and SQLite's own
//! limit then copies the whole log inside a command (120-300 ms). So when
//! the log grows long the thread copies it again and again until only a
//! short tail is left, and the store's next command copies that tail
//! itself ([`Checkpointer::take_short_tail`]): with nothing left behind,
//! the command after it starts the log over.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// A log this long (in pages) when the thread looks is growing fast: it
/// looks after [`FAST_INTERVAL`] instead of [`INTERVAL`] for [`FAST_FOR`].
const FAST_LOG: u32 = 2_000;

/// How long the thread keeps looking often after it last found the log
/// growing fast: a log that just started over is short again, but not for
/// long (a store importing writes 10,000 pages a second).
const FAST_FOR: Duration = Duration::from_secs(3);

/// How often a fast-growing log is looked at (a read of 100 bytes of the
/// log's index, no lock).
const FAST_INTERVAL: Duration = Duration::from_millis(100);

/// A log this long is copied until a short tail is left (16 MB, a fifth
/// of `wal_autocheckpoint`, where SQLite copies it inside a command).
const CATCH_UP_LOG: u32 = 4_000;

/// Pages a command may be left to copy: with two fsyncs, a few ms.
const SHORT_TAIL: u32 = 256;

/// Copies in a row before giving up until the next look: each is shorter
/// than the one before unless commits come as fast as pages are copied.
const CATCH_UP_PASSES: usize = 8;

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
    /// Set by the thread when it left only a short tail of a long log.
    short_tail: Arc<AtomicBool>,
}

impl Checkpointer {
    /// Start checkpointing `path` (see [`INTERVAL`] and [`BUSY_INTERVAL`]);
    /// `None` if the second connection cannot be opened (the store then
    /// relies on SQLite's own automatic checkpoints).
    pub(super) fn start(path: &Path) -> Option<Self> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX).ok()?;
        let wal = beside(path, "-wal");
        let index = beside(path, "-shm");
        let main_file = path.to_owned();
        let short_tail = Arc::new(AtomicBool::new(false));
        let tail = short_tail.clone();
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
                // Opened once the first connection made it.
                let mut log_index: Option<File> = None;
                // A store just opened may be about to take a burst (a
                // catch-up, an import): look often at first.
                let mut fast_since: Option<Instant> = Some(Instant::now());
                loop {
                    let wait = match fast_since {
                        Some(t) if t.elapsed() < FAST_FOR => FAST_INTERVAL,
                        _ => INTERVAL,
                    };
                    match incoming.recv_timeout(wait) {
                        Ok(Request::Truncate) => truncate = true,
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                    if truncate {
                        truncate = !truncate_log(&conn);
                        last = Instant::now();
                        continue;
                    }
                    if log_index.is_none() {
                        log_index = File::open(&index).ok();
                    }
                    let log = log_index.as_ref().and_then(read_log);
                    let frames = log.map_or(0, |log| log.frames);
                    if frames >= FAST_LOG {
                        fast_since = Some(Instant::now());
                    }
                    // A log copied whole starts over at the next commit.
                    if frames >= CATCH_UP_LOG && log.is_some_and(|log| log.copied < log.frames) {
                        catch_up(&conn, log_index.as_ref(), &main_file, &tail);
                        checkpointed = None;
                        last = Instant::now();
                        busy_for = busy_interval();
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
        Some(Self { requests: Some(requests), thread: Some(thread), short_tail })
    }

    /// Whether the thread left a long log with only a short tail to copy,
    /// which the caller (the store, before a command) then copies itself;
    /// asked once.
    pub(super) fn take_short_tail(&self) -> bool {
        self.short_tail.swap(false, Ordering::Relaxed)
    }

    /// Empty the log soon (see [`Request::Truncate`]).
    pub(super) fn truncate(&self) {
        if let Some(r) = &self.requests {
            // The thread only stops when this is dropped.
            let _ = r.send(Request::Truncate);
        }
    }
}

/// The file SQLite keeps beside the store under `suffix`.
fn beside(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// The log as its index (the `-shm` file) says it is: pages in the log and
/// pages of it copied into the main file. The index's layout is part of
/// SQLite's file format: a 48-byte header written twice, with `mxFrame` at
/// its byte 16, then `nBackfill` at byte 96. It is read without a lock, so
/// a header being rewritten (the two copies differ) reads as `None`.
#[derive(Clone, Copy)]
struct Log {
    frames: u32,
    copied: u32,
}

fn read_log(mut index: &File) -> Option<Log> {
    let mut header = [0u8; 100];
    index.seek(SeekFrom::Start(0)).ok()?;
    index.read_exact(&mut header).ok()?;
    let word = |at: usize| u32::from_ne_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
    (header[..48] == header[48..96]).then(|| Log { frames: word(16), copied: word(96) })
}

/// Copy a long log again and again while commits keep landing behind each
/// copy, until only a short tail is left, then say so to the store.
fn catch_up(conn: &Connection, index: Option<&File>, main_file: &Path, short_tail: &AtomicBool) {
    for _ in 0..CATCH_UP_PASSES {
        // busy = 1 when another connection is checkpointing (then it does
        // this work).
        let Ok(busy) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0)) else {
            return;
        };
        if busy != 0 {
            return;
        }
        // The pages committed while it copied are what is left.
        match index.and_then(read_log) {
            Some(log) if log.frames.saturating_sub(log.copied) <= SHORT_TAIL => {
                // SQLite syncs the main file only in the copy that reaches
                // the end of the log: all the pages copied since the last
                // one. Sync them here, so that the store's copy of the tail
                // syncs only the tail's pages. (Opened here, not kept: a
                // server keeps a store open per site.)
                if let Ok(file) = File::open(main_file) {
                    let _ = file.sync_data();
                }
                short_tail.store(true, Ordering::Relaxed);
                return;
            }
            Some(_) => {}
            None => return,
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A log index's first 100 bytes: the header twice, then `nBackfill`.
    fn index_with(first_frames: u32, second_frames: u32, copied: u32) -> File {
        let mut header = [0u8; 48];
        header[16..20].copy_from_slice(&first_frames.to_ne_bytes());
        let mut bytes = header.to_vec();
        header[16..20].copy_from_slice(&second_frames.to_ne_bytes());
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(&copied.to_ne_bytes());
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        file
    }

    #[test]
    fn the_log_is_read_from_its_index_and_a_header_being_rewritten_is_not() {
        let log = read_log(&index_with(5_000, 5_000, 4_800)).expect("a whole header");
        assert_eq!((log.frames, log.copied), (5_000, 4_800));
        assert!(read_log(&index_with(5_000, 5_001, 4_800)).is_none(), "two copies that differ");
        let mut short = tempfile::tempfile().unwrap();
        short.write_all(&[0u8; 60]).unwrap();
        assert!(read_log(&short).is_none(), "an index shorter than its header");
    }

    #[test]
    fn the_index_of_a_real_store_says_how_long_its_log_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute_batch("CREATE TABLE t (x BLOB); INSERT INTO t VALUES (zeroblob(100000));").unwrap();
        let index = File::open(dir.path().join("log.sqlite-shm")).unwrap();
        let before = read_log(&index).unwrap();
        assert!(before.frames > 20 && before.copied == 0, "{} pages, {} copied", before.frames, before.copied);
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).unwrap();
        let after = read_log(&index).unwrap();
        assert_eq!((after.frames, after.copied), (before.frames, before.frames));
    }
}
