//! One command's unit of work: an immediate SQLite transaction in which
//! documents are read and changed, persisted and re-projected, and after
//! which broken invariants are checked. Dropped without `commit`, it rolls
//! back and forgets the loaded documents it changed.

use std::collections::BTreeSet;

use automerge::{ActorId, AutoCommit, transaction::CommitOptions};
use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::Error;
use super::cache::DocCache;
use super::persist::{self, Loaded};
use crate::conflict::{self, Affected};
use crate::document::{DocId, Model};
use crate::time::Timestamp;

/// See the module documentation.
pub(crate) struct Work<'s> {
    tx: Transaction<'s>,
    cache: &'s mut DocCache,
    actor: &'s ActorId,
    now: Timestamp,
    message: String,
    written: BTreeSet<DocId>,
    /// Documents loaded for a merge that has not said yet whether it
    /// changed them: forgotten on failure like written ones.
    merging: BTreeSet<DocId>,
    /// Documents changed here (not merged in): the sync client sends them.
    local: BTreeSet<DocId>,
    /// Whether a document was deleted for good (the store then empties its
    /// log after commit).
    purged: bool,
    affected: Affected,
    /// The server's store: queue the jobs that what was written calls for.
    acts: bool,
}

impl<'s> Work<'s> {
    pub(super) fn begin(
        conn: &'s mut Connection,
        cache: &'s mut DocCache,
        actor: &'s ActorId,
        now: Timestamp,
        message: String,
    ) -> Result<Self, Error> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok(Self { tx, cache, actor, now, message, written: BTreeSet::new(), merging: BTreeSet::new(), local: BTreeSet::new(), purged: false, affected: Affected::default(), acts: false })
    }

    /// Queue jobs for facts at commit (the server's store).
    pub(super) fn acting(mut self, acts: bool) -> Self {
        self.acts = acts;
        self
    }

    /// Whether a document was deleted for good in this work.
    pub(super) fn purged(&self) -> bool {
        self.purged
    }

    /// The command's time.
    pub(crate) fn now(&self) -> Timestamp {
        self.now
    }

    /// The transaction, for queries of projections.
    pub(crate) fn conn(&self) -> &Connection {
        &self.tx
    }

    /// Read a document, or `None` if this device does not have it.
    pub(crate) fn read<M: Model>(&mut self, id: &DocId) -> Result<Option<M>, Error> {
        let Some(loaded) = load(self.cache, &self.tx, self.actor, id)? else {
            return Ok(None);
        };
        hydrate::<M>(id, &loaded.doc).map(Some)
    }

    /// Create a new document holding `value`.
    pub(crate) fn create<M: Model>(&mut self, id: &DocId, value: &M) -> Result<(), Error> {
        let mut doc = AutoCommit::new().with_actor(self.actor.clone());
        self.written.insert(id.clone());
        self.local.insert(id.clone());
        autosurgeon::reconcile(&mut doc, value).map_err(|e| Error::corrupt(id, e))?;
        doc.commit_with(self.options());
        let loaded = persist::insert(&self.tx, id, M::KIND, doc, self.now)?;
        self.cache.insert(id.clone(), loaded);
        value.project(id, &self.tx, &mut self.affected)?;
        Ok(())
    }

    /// Read a document that several devices may each create on their own
    /// (a person's presence in a month), creating it if missing with a
    /// first change every device makes byte for byte the same, so that the
    /// copies merge as one.
    pub(crate) fn read_or_create_shared<M: Model>(&mut self, id: &DocId, initial: impl FnOnce() -> M) -> Result<M, Error> {
        if let Some(existing) = self.read::<M>(id)? {
            return Ok(existing);
        }
        let value = initial();
        let mut doc = shared_first_change(id, &value)?;
        doc.set_actor(self.actor.clone());
        self.written.insert(id.clone());
        self.local.insert(id.clone());
        let loaded = persist::insert(&self.tx, id, M::KIND, doc, self.now)?;
        self.cache.insert(id.clone(), loaded);
        value.project(id, &self.tx, &mut self.affected)?;
        Ok(value)
    }

    /// Write `value` over a stored document as one change named after the
    /// command, then re-project it.
    pub(crate) fn write<M: Model>(&mut self, id: &DocId, value: &M) -> Result<(), Error> {
        let options = self.options();
        let loaded = load(self.cache, &self.tx, self.actor, id)?.ok_or_else(|| Error::corrupt(id, "it is missing"))?;
        self.written.insert(id.clone());
        self.local.insert(id.clone());
        let before = loaded.doc.get_heads();
        autosurgeon::reconcile(&mut loaded.doc, value).map_err(|e| Error::corrupt(id, e))?;
        if loaded.doc.commit_with(options).is_none() {
            return Ok(());
        }
        persist::append(&self.tx, id, loaded, &before, self.now)?;
        value.project(id, &self.tx, &mut self.affected)?;
        Ok(())
    }

    /// Append items to lists of a stored document as one change named after
    /// the command, then re-project it from `projected` (the document as it
    /// is with the items added). Each insert names the list by its path from
    /// the root (`["events"]`, `["loans", 3, "events"]`).
    ///
    /// Cheaper than [`Work::write`] for event logs: it touches only the new
    /// items instead of diffing the whole list.
    pub(crate) fn append<M: Model, E: autosurgeon::Reconcile>(
        &mut self,
        id: &DocId,
        inserts: &[(&[automerge::Prop], &E)],
        projected: &M,
    ) -> Result<(), Error> {
        use automerge::ReadDoc;
        let options = self.options();
        let loaded = load(self.cache, &self.tx, self.actor, id)?.ok_or_else(|| Error::corrupt(id, "it is missing"))?;
        self.written.insert(id.clone());
        self.local.insert(id.clone());
        let before = loaded.doc.get_heads();
        for (path, item) in inserts {
            let mut obj = automerge::ROOT;
            for prop in path.iter() {
                obj = match loaded.doc.get(&obj, prop.clone()).map_err(|e| Error::corrupt(id, e))? {
                    Some((automerge::Value::Object(_), child)) => child,
                    _ => return Err(Error::corrupt(id, format!("it has no list at {prop}"))),
                };
            }
            let end = loaded.doc.length(&obj);
            autosurgeon::reconcile_insert(&mut loaded.doc, obj, end, *item).map_err(|e| Error::corrupt(id, e))?;
        }
        if loaded.doc.commit_with(options).is_none() {
            return Ok(());
        }
        persist::append(&self.tx, id, loaded, &before, self.now)?;
        projected.project(id, &self.tx, &mut self.affected)?;
        Ok(())
    }

    /// Set one field at the root of a stored document, as a change of its
    /// own, without re-projecting it: for a field no projection reads
    /// (when a key's loans last changed), which is written to make the
    /// document travel again, not to change what it shows.
    pub(crate) fn stamp<V: autosurgeon::Reconcile>(&mut self, id: &DocId, field: &str, value: &V) -> Result<(), Error> {
        let options = self.options();
        let loaded = load(self.cache, &self.tx, self.actor, id)?.ok_or_else(|| Error::corrupt(id, "it is missing"))?;
        self.written.insert(id.clone());
        self.local.insert(id.clone());
        let before = loaded.doc.get_heads();
        autosurgeon::reconcile_prop(&mut loaded.doc, automerge::ROOT, field, value).map_err(|e| Error::corrupt(id, e))?;
        if loaded.doc.commit_with(options).is_none() {
            return Ok(());
        }
        persist::append(&self.tx, id, loaded, &before, self.now)
    }

    /// Delete a document with all its history and projections, for good,
    /// and what goes with it (a visit's notices to its host): returns
    /// those others, for whoever must tell the devices.
    pub(crate) fn purge(&mut self, id: &DocId) -> Result<Vec<DocId>, Error> {
        let with_it = crate::announcement::notices_of_visit(&self.tx, id)?;
        for other in &with_it {
            self.purge_one(other)?;
        }
        self.purge_one(id)?;
        Ok(with_it)
    }

    fn purge_one(&mut self, id: &DocId) -> Result<(), Error> {
        self.written.insert(id.clone());
        self.local.insert(id.clone());
        self.purged = true;
        let mut owner = None;
        if let Some(loaded) = load(self.cache, &self.tx, self.actor, id)? {
            // A shared first change is every device's (a presence month's
            // creation): only the document's own changes are barred.
            let shared = shared_actor(id);
            let hashes: Vec<_> =
                loaded.doc.get_changes(&[]).iter().filter(|c| *c.actor_id() != shared).map(|c| c.hash()).collect();
            persist::remember_purged_changes(&self.tx, &hashes)?;
            owner = autosurgeon::hydrate_prop::<_, crate::document::Header, _, _>(&loaded.doc, automerge::ROOT, "header")
                .ok()
                .and_then(|h| h.owner);
        }
        self.cache.evict(id);
        crate::projection::clear(id, &self.tx, &mut self.affected)?;
        persist::purge(&self.tx, id, self.now, owner.as_deref())
    }

    /// Forget this device's copy of a document, with its projections and
    /// sync states: not a deletion (no tombstone, nothing to announce), so
    /// the document may come back from the server whole.
    pub(super) fn forget(&mut self, id: &DocId) -> Result<(), Error> {
        self.written.insert(id.clone());
        self.cache.evict(id);
        crate::projection::clear(id, &self.tx, &mut self.affected)?;
        persist::forget(&self.tx, id)
    }

    /// The loaded document, for merges.
    pub(super) fn loaded(&mut self, id: &DocId) -> Result<Option<&mut Loaded>, Error> {
        // A merge changes the loaded document before it is checked: forget
        // it if the merge is refused.
        self.merging.insert(id.clone());
        load(self.cache, &self.tx, self.actor, id)
    }

    /// A merge into `id` brought nothing new: the loaded copy is as it
    /// was, and so is its header kept for access checks (a server answering
    /// 200 devices' acknowledgements of one change re-read it for each).
    /// (A message before it in the same frame may have changed it: then it
    /// stays among the written.)
    pub(super) fn unchanged(&mut self, id: &DocId) {
        self.merging.remove(id);
    }

    /// Store a document first received from another replica.
    pub(super) fn insert_received(&mut self, id: &DocId, mut doc: AutoCommit) -> Result<(), Error> {
        // Later local changes must carry this device's actor id.
        doc.set_actor(self.actor.clone());
        self.written.insert(id.clone());
        let loaded = persist::insert(&self.tx, id, id.kind(), doc, self.now)?;
        let loaded = self.cache.insert(id.clone(), loaded);
        crate::projection::project_document(id, &loaded.doc, &self.tx, &mut self.affected)
    }

    /// Persist and re-project what a merge added to a stored document.
    /// `received` are the change chunks the merge applied, kept as they
    /// came (see [`persist::append_bytes`]); without them the changes
    /// since `before` are encoded from the document.
    pub(super) fn merged(&mut self, id: &DocId, before: &[automerge::ChangeHash], received: Option<Vec<u8>>) -> Result<(), Error> {
        self.written.insert(id.clone());
        let loaded = load(self.cache, &self.tx, self.actor, id)?.ok_or_else(|| Error::corrupt(id, "it is missing"))?;
        match received {
            Some(bytes) => persist::append_bytes(&self.tx, id, loaded, bytes, self.now)?,
            None => persist::append(&self.tx, id, loaded, before, self.now)?,
        }
        crate::projection::project_document(id, &loaded.doc, &self.tx, &mut self.affected)
    }

    /// Re-project a stored document without changing it.
    pub(super) fn reproject(&mut self, id: &DocId) -> Result<(), Error> {
        let loaded = load(self.cache, &self.tx, self.actor, id)?.ok_or_else(|| Error::corrupt(id, "it is missing"))?;
        crate::projection::project_document(id, &loaded.doc, &self.tx, &mut self.affected)
    }

    /// Start a savepoint for one document of a batch.
    pub(super) fn savepoint(&self) -> Result<(), Error> {
        // Cached: parsed once, not for every document of every frame.
        self.tx.prepare_cached("SAVEPOINT lodge_doc")?.execute([])?;
        Ok(())
    }

    /// Keep what the savepoint's document did.
    pub(super) fn release(&self) {
        if let Err(e) = self.tx.prepare_cached("RELEASE lodge_doc").and_then(|mut s| s.execute([])) {
            tracing::error!(error = %e, "releasing a savepoint failed");
        }
    }

    /// Undo what the savepoint's document did, and forget its loaded copy.
    pub(super) fn rollback_to(&mut self, doc: &DocId) {
        if let Err(e) = self.tx.execute_batch("ROLLBACK TO lodge_doc; RELEASE lodge_doc") {
            tracing::error!(error = %e, "rolling back a savepoint failed");
        }
        self.cache.evict(doc);
        self.cache.forget_header(doc);
        self.written.remove(doc);
        self.merging.remove(doc);
        self.local.remove(doc);
    }

    /// The reply to a peer after receiving its message for `id`, with this
    /// side's heads of the document; if the peer now has every change of
    /// it here, it leaves the outbox in this transaction.
    pub(super) fn answer(
        &mut self,
        id: &DocId,
        state: &mut automerge::sync::State,
    ) -> Result<(Answer, Vec<automerge::ChangeHash>), Error> {
        use automerge::sync::{MessageFlags, SyncDoc};
        let (reply, peer_has_all, heads) = match load(self.cache, &self.tx, self.actor, id)? {
            Some(loaded) => {
                let reply = loaded.doc.sync().generate_sync_message(state);
                (reply, loaded.doc.has_our_changes(state), loaded.doc.get_heads())
            }
            None => (AutoCommit::new().sync().generate_sync_message(state), true, Vec::new()),
        };
        if peer_has_all {
            self.tx.prepare_cached("DELETE FROM outbox WHERE doc_id = ?1")?.execute([id])?;
        }
        // Carrying no changes and asking for none, a reply only tells the
        // peer our heads: nothing waits for it.
        let reply_can_wait = reply.as_ref().is_none_or(|m| {
            m.changes.is_empty() && m.need.is_empty() && !m.flags.is_some_and(|f| f.contains(MessageFlags::SYNC_RESET))
        });
        Ok((Answer { reply: reply.map(automerge::sync::Message::encode), reply_can_wait, peer_has_all }, heads))
    }

    pub(super) fn is_tombstoned(&self, id: &DocId) -> Result<bool, Error> {
        persist::is_tombstoned(&self.tx, id)
    }

    /// Whether a change belonged to a document deleted for good.
    pub(super) fn is_purged_change(&self, hash: &automerge::ChangeHash) -> Result<bool, Error> {
        persist::is_purged_change(&self.tx, hash)
    }

    /// Check invariants of everything touched, then commit. On failure the
    /// transaction rolls back and changed documents are forgotten.
    pub(super) fn commit(self) -> Result<(), Error> {
        let Work { tx, cache, mut written, merging, local, affected, acts, now, .. } = self;
        written.extend(merging);
        for id in &written {
            cache.forget_header(id);
        }
        let result = conflict::recheck(&tx, &affected)
            .and_then(|()| if acts { crate::notice::enqueue_for(&tx, &written, now) } else { Ok(()) })
            .and_then(|()| {
                let mut outbox = tx.prepare_cached(
                    "INSERT INTO outbox (doc_id, purged) VALUES (?1, NOT EXISTS (SELECT 1 FROM documents WHERE doc_id = ?1))
                     ON CONFLICT (doc_id) DO UPDATE SET purged = excluded.purged",
                )?;
                for id in &local {
                    outbox.execute([id])?;
                }
                Ok(())
            })
            .map_err(Error::from)
            .and_then(|()| tx.commit().map_err(Error::from));
        if result.is_err() {
            for id in &written {
                cache.evict(id);
            }
        }
        result
    }

    /// Roll back and forget loaded documents that were changed.
    pub(super) fn abandon(self) {
        for id in self.written.iter().chain(&self.merging) {
            self.cache.evict(id);
            self.cache.forget_header(id);
        }
    }

    fn options(&self) -> CommitOptions {
        CommitOptions::default().with_message(self.message.clone()).with_time(self.now.millis() / 1000)
    }
}

/// What [`Work::answer`] made: see [`super::Received`].
pub(super) struct Answer {
    pub(super) reply: Option<Vec<u8>>,
    pub(super) reply_can_wait: bool,
    pub(super) peer_has_all: bool,
}

/// A document from the cache, loading it from the store on a miss.
pub(super) fn load<'c>(cache: &'c mut DocCache, conn: &Connection, actor: &ActorId, id: &DocId) -> Result<Option<&'c mut Loaded>, Error> {
    if cache.get_mut(id).is_some() {
        return Ok(cache.get_mut(id));
    }
    match persist::load(conn, id, actor)? {
        Some(loaded) => Ok(Some(cache.insert(id.clone(), loaded))),
        None => Ok(None),
    }
}

pub(crate) fn hydrate<M: Model>(id: &DocId, doc: &AutoCommit) -> Result<M, Error> {
    let value: M = crate::document::hydrate(doc).map_err(|e| Error::corrupt(id, e))?;
    if value.header().kind != M::KIND {
        return Err(Error::WrongKind { doc: id.clone(), expected: M::KIND, found: value.header().kind });
    }
    Ok(value)
}

/// A shared document's first change, written under [`shared_actor`] with no
/// time: every device that creates `value` makes it byte for byte the same.
pub(crate) fn shared_first_change<M: Model>(id: &DocId, value: &M) -> Result<AutoCommit, Error> {
    let mut doc = AutoCommit::new().with_actor(shared_actor(id));
    autosurgeon::reconcile(&mut doc, value).map_err(|e| Error::corrupt(id, e))?;
    doc.commit_with(CommitOptions::default().with_message(format!("create {id}")).with_time(0));
    Ok(doc)
}

/// The actor id under which a shared document's first change is written:
/// derived from the document id, so every device writes the same change.
pub fn shared_actor(id: &DocId) -> ActorId {
    let mut bytes = [0u8; 16];
    // FNV-1a over the id, twice with different seeds: stable, no extra crate.
    for (half, seed) in [(0usize, 0xcbf2_9ce4_8422_2325u64), (8, 0x8422_2325_cbf2_9ce4)] {
        let mut h = seed;
        for b in id.as_str().bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        bytes[half..half + 8].copy_from_slice(&h.to_be_bytes());
    }
    ActorId::from(bytes)
}
