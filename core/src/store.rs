//! The local store: one SQLite file per device holding every document this
//! device may see (a snapshot plus incremental changes each) and the SQL
//! projections that every query reads.
//!
//! A command runs as one [`Work`]: an immediate SQLite transaction in which
//! documents are read, changed (one Automerge change each, named after the
//! command and its actor), persisted, re-projected and checked for broken
//! invariants. A refused command returns before commit, so nothing changes.

mod attention;
mod broadcast;
mod cache;
mod checkpoint;
mod error;
mod file_check;
mod history;
mod migrations;
pub use migrations::apply_up_to as apply_migrations_up_to;
mod persist;
mod replication;
mod sync_states;
mod work;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use automerge::ActorId;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

pub use attention::{RefusedChange, SetAside};
pub use error::Error;
pub use history::DocChange;
pub use replication::{AcceptChanges, Incoming, Received, exchange};
pub(crate) use work::{Work, hydrate};
pub use work::shared_actor;
pub(crate) use work::shared_first_change;

use crate::ids::SiteId;
use crate::time::{Clock, Timestamp};
use cache::DocCache;

/// How many documents stay loaded by default (measured 33-45 KB each for
/// visits and presence months).
pub const DEFAULT_CACHE_DOCS: usize = 1_000;

/// One device's store.
pub struct Store {
    conn: Connection,
    cache: DocCache,
    actor: ActorId,
    clock: Arc<dyn Clock>,
    path: PathBuf,
    sync: sync_states::SyncStates,
    checkpointer: Option<checkpoint::Checkpointer>,
    /// The server's store: facts that call for a message queue a job in
    /// the transaction that brings them (see [`crate::notice`]).
    acts: bool,
    /// The wait before a failed job's first retry (doubling after).
    first_retry: std::time::Duration,
}

/// See [`Store::write_mark`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteMark {
    /// Rows this store's connection wrote.
    own: u64,
    /// Moves when another connection commits (SQLite's `data_version`).
    others: i64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).field("actor", &self.actor).finish()
    }
}

impl Store {
    /// Open (or create) the store at `path`, upgrading an older schema.
    ///
    /// A file that is not a Lodge store, is cut short, or comes from a newer
    /// Lodge is refused with a clear error and left untouched.
    pub fn open(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let exists = file_check::check(&path)?;
        let flags = if exists {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let mut conn = Connection::open_with_flags(&path, flags).map_err(|e| Error::open(&path, e))?;
        migrations::check_version(&conn, &path)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| Error::open(&path, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(|e| Error::open(&path, e))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(|e| Error::open(&path, e))?;
        // A rejected guest is deleted for good: SQLite overwrites deleted
        // rows and freed pages with zeros instead of leaving them readable
        // in the file (a purge then empties the log, see `Store::run`).
        conn.pragma_update(None, "secure_delete", "ON").map_err(|e| Error::open(&path, e))?;
        // A received frame applies each document in a savepoint: keep their
        // journals in memory instead of a temporary file opened per frame.
        conn.pragma_update(None, "temp_store", "MEMORY").map_err(|e| Error::open(&path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| Error::open(&path, e))?;
        // 16 MB of page cache keeps a year of projections' hot pages in memory.
        conn.pragma_update(None, "cache_size", -16_000).map_err(|e| Error::open(&path, e))?;
        // Every command uses a few dozen distinct statements; keep them all.
        conn.set_prepared_statement_cache_capacity(256);
        let upgraded = migrations::apply(&mut conn, &path)?;
        let actor = persist::device_actor(&conn)?;
        // WAL checkpoints copy pages into the main file; done on a thread of
        // their own so that no command waits for one.
        conn.pragma_update(None, "wal_autocheckpoint", 20_000).map_err(|e| Error::open(&path, e))?;
        let checkpointer = checkpoint::Checkpointer::start(&path);
        let mut store = Self {
            conn,
            cache: DocCache::new(DEFAULT_CACHE_DOCS),
            actor,
            clock,
            path,
            sync: Default::default(),
            checkpointer,
            acts: false,
            first_retry: crate::notice::FIRST_RETRY,
        };
        if upgraded {
            // A newer schema may project documents differently: rebuild.
            let n = store.rebuild_projections()?;
            tracing::info!(documents = n, "store upgraded; projections rebuilt");
        }
        Ok(store)
    }

    /// Make this the server's store of a site: from now on, facts that
    /// call for a message queue a job (see [`crate::notice`]).
    pub fn act_on_facts(&mut self) {
        self.acts = true;
    }

    /// Change the wait before a failed job's first retry (tests make it
    /// short; each next wait doubles it, up to an hour).
    pub fn set_first_retry(&mut self, wait: std::time::Duration) {
        self.first_retry = wait;
    }

    pub(crate) fn first_retry(&self) -> std::time::Duration {
        self.first_retry
    }

    /// Change how many documents stay loaded at once.
    pub fn set_cache_capacity(&mut self, docs: usize) {
        self.cache.resize(docs);
    }

    /// How many documents are loaded now.
    pub fn loaded_documents(&self) -> usize {
        self.cache.len()
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The Automerge actor id this device writes under.
    pub fn actor_id(&self) -> &ActorId {
        &self.actor
    }

    /// The current time by this store's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Where the store's writes stand now: two equal marks mean nothing
    /// was written in between, by this store or by another process on the
    /// same file (such as `lodge-sync jobs run` beside a running server).
    /// Cheap: two counters SQLite keeps in memory and in the shared log
    /// index.
    pub fn write_mark(&self) -> Result<WriteMark, Error> {
        let others: i64 = self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        Ok(WriteMark { own: self.conn.total_changes(), others })
    }

    /// The site this store belongs to, once a site was created or joined.
    pub fn site(&self) -> Result<Option<SiteId>, Error> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'site'", [], |r| r.get(0))
            .optional()?;
        Ok(text.and_then(|t| SiteId::parse(&t).ok()))
    }

    /// A document, loaded into the bounded cache if it was not there.
    fn loaded(&mut self, doc: &crate::document::DocId) -> Result<Option<&mut persist::Loaded>, Error> {
        work::load(&mut self.cache, &self.conn, &self.actor, doc)
    }

    /// Read-only access for queries.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, for a transaction of a kind of its own (the job
    /// queue's), outside documents.
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Run one command: `f` reads and writes documents through a [`Work`];
    /// on `Ok` everything commits together, on `Err` nothing changes.
    pub(crate) fn run<T, E: From<Error>>(
        &mut self,
        command: &str,
        actor: &crate::actor::Actor,
        f: impl FnOnce(&mut Work<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let message = format!("{command} by {}", actor.tag());
        let now = self.clock.now();
        let mut work = self.work(now, message)?;
        match f(&mut work) {
            Ok(value) => {
                let purged = work.purged();
                work.commit()?;
                if purged {
                    self.empty_log();
                }
                Ok(value)
            }
            Err(e) => {
                work.abandon();
                Err(e)
            }
        }
    }
}

impl Store {
    /// Begin a unit of work (after [`Store::copy_short_tail`]).
    pub(crate) fn work(&mut self, now: crate::time::Timestamp, message: String) -> Result<Work<'_>, Error> {
        self.copy_short_tail();
        let acts = self.acts;
        Ok(Work::begin(&mut self.conn, &mut self.cache, &self.actor, now, message)?.acting(acts))
    }

    /// If the checkpoint thread left a long log with a short tail, copy
    /// that tail here, between two units of work, so that the next one
    /// starts the log over (see `checkpoint`).
    pub(crate) fn copy_short_tail(&self) {
        if self.checkpointer.as_ref().is_some_and(|c| c.take_short_tail()) {
            // PASSIVE: it never waits; a checkpoint already running elsewhere
            // leaves it to that one.
            if let Err(e) = self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "the log's tail was not copied");
            }
        }
    }

    /// After a purge: the deleted rows were zeroed in their pages, but the
    /// log still holds the pages as they were before. Copy it into the main
    /// file and truncate it, on the checkpoint thread (which retries while
    /// a writer is in the way), or here if there is none.
    fn empty_log(&self) {
        match &self.checkpointer {
            Some(c) => c.truncate(),
            None => {
                if let Err(e) = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "the log was not emptied after a purge");
                }
            }
        }
    }

    /// Documents changed or deleted here that the server has not confirmed:
    /// how many (what a device shows as "3 changes waiting").
    pub fn outbox_len(&self) -> Result<usize, Error> {
        let n: i64 = self.conn.prepare_cached("SELECT count(*) FROM outbox")?.query_row([], |r| r.get(0))?;
        Ok(n as usize)
    }

    /// Delete this store's files and start over with an empty store in the
    /// same place: what a device removed from its site does (see
    /// [`Store::wipe_files`]). The new store has a new actor id and no site.
    /// Nothing else may have the file open (the sync client must have
    /// stopped).
    pub fn wipe(&mut self) -> Result<(), Error> {
        let path = self.path.clone();
        // Close both connections before their files go.
        self.checkpointer = None;
        let placeholder = Connection::open_in_memory()?;
        let conn = std::mem::replace(&mut self.conn, placeholder);
        self.cache = DocCache::new(DEFAULT_CACHE_DOCS);
        self.sync = Default::default();
        conn.close().map_err(|(_, e)| Error::Sqlite(e))?;
        Self::wipe_files(&path)?;
        *self = Self::open(&path, self.clock.clone())?;
        Ok(())
    }

    /// Delete the store at `path` with its log, shared-memory and journal
    /// files. No connection may have it open. Files already gone are fine.
    pub fn wipe_files(path: &Path) -> Result<(), Error> {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = PathBuf::from(file);
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::Wipe { path: file, source }),
            }
        }
        Ok(())
    }
}

/// The site this store belongs to, read inside a transaction.
pub(crate) fn current_site(conn: &Connection) -> Result<SiteId, Error> {
    let text: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'site'", [], |r| r.get(0)).optional()?;
    text.and_then(|t| SiteId::parse(&t).ok()).ok_or(Error::NoSite)
}

/// Record the site this store belongs to.
pub(crate) fn set_current_site(conn: &Connection, site: SiteId) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('site', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [site.to_string()],
    )?;
    Ok(())
}
