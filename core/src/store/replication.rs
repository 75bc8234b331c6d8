//! Merging with other replicas through `automerge::sync` messages, one
//! `sync::State` per (peer, document), persisted so that a reconnect resumes.
//! Every merged change is stored, re-projected and checked for broken
//! invariants in the same transaction, exactly like a local command.

use std::collections::{BTreeSet, HashMap};

use automerge::sync::{self, Capability, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use rusqlite::{OptionalExtension, params};

use super::sync_states::Kept;
use super::{Error, Store, Work};
use crate::document::DocId;
use crate::sync::incoming::{DEVICE_LIMITS, MAX_INFLATED_FRAME, SERVER_LIMITS, check_message, check_saved};
use crate::sync::{Measured, Refusal};

/// One document's part of a received frame: whether it changed here, the
/// answer to send back (if the protocol wants one), and whether the peer is
/// now known to have every change of it this store has.
#[derive(Debug)]
pub struct Received {
    /// New changes were kept.
    pub changed: bool,
    /// The sync message to answer with.
    pub reply: Option<Vec<u8>>,
    /// The reply carries no changes and asks for none: it only tells the
    /// peer our heads, so it may wait and go with later ones.
    pub reply_can_wait: bool,
    /// The peer has all of this store's changes of the document (so it
    /// left the outbox).
    pub peer_has_all: bool,
}

/// Per message of a frame: whether it changed the document, and the answer
/// when replies were asked for.
type Outcome = Result<(bool, Option<super::work::Answer>), Error>;

impl Store {
    /// Every document stored here.
    pub fn documents(&self) -> Result<Vec<DocId>, Error> {
        let mut stmt = self.conn.prepare_cached("SELECT doc_id FROM documents ORDER BY doc_id")?;
        let rows = stmt.query_map([], |r| r.get::<_, DocId>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether `doc` was deleted here for good.
    pub fn tombstones_contain(&self, doc: &DocId) -> Result<bool, Error> {
        super::persist::is_tombstoned(&self.conn, doc)
    }

    /// The owner a document deleted here for good had, from its header.
    pub fn tombstone_owner(&self, doc: &DocId) -> Result<Option<String>, Error> {
        super::persist::tombstone_owner(&self.conn, doc)
    }

    /// Every document deleted here for good.
    pub fn tombstones(&self) -> Result<Vec<DocId>, Error> {
        let mut stmt = self.conn.prepare_cached("SELECT doc_id FROM tombstones ORDER BY doc_id")?;
        let rows = stmt.query_map([], |r| r.get::<_, DocId>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Make sure the sync state with `peer` for `doc` is in memory (the
    /// session's, else the persisted one) and return its key. (Not the
    /// state itself: callers also need the document cache while holding it.)
    fn sync_state_key(&mut self, peer: &str, doc: &DocId) -> Result<(String, DocId), Error> {
        let key = (peer.to_owned(), doc.clone());
        if !self.sync.contains(&key) {
            let state = load_sync_state(&self.conn, peer, doc)?;
            self.sync.put(key.clone(), Kept::Exchanging(Box::new(state)));
        }
        Ok(key)
    }

    /// The next sync message for `doc` to send to `peer`, or `None` when the
    /// peer is known to be up to date. Nothing is written: generating a
    /// message does not move the shared heads.
    pub fn generate_sync_message(&mut self, peer: &str, doc: &DocId) -> Result<Option<Vec<u8>>, Error> {
        let key = self.sync_state_key(peer, doc)?;
        let kept = self.sync.get_mut(&key).expect("loaded above");
        let message = match super::work::load(&mut self.cache, &self.conn, &self.actor, doc)? {
            Some(loaded) => {
                let ours = loaded.doc.get_heads();
                if kept.nothing_to_say(&ours) {
                    if let Kept::Exchanging(_) = kept {
                        kept.settle(&ours);
                    }
                    return Ok(None);
                }
                let message = loaded.doc.sync().generate_sync_message(kept.state());
                if message.is_none() {
                    // Nothing to say: the two may be in step.
                    kept.settle(&ours);
                }
                message
            }
            None => AutoCommit::new().sync().generate_sync_message(kept.state()),
        };
        Ok(message.map(|m| m.encode()))
    }

    /// Like [`Store::generate_sync_message`], for a peer that has never
    /// synced `doc` with this store (no state, in memory or persisted):
    /// it is taken to have nothing of it, so the first message carries the
    /// whole document instead of asking first. This is the message the
    /// protocol itself sends once the peer has answered "I have nothing";
    /// a peer that did have the document merges it as a no-op.
    pub fn generate_first_sync_message(&mut self, peer: &str, doc: &DocId) -> Result<Option<Vec<u8>>, Error> {
        let (_, known) = self.first_sync_state(peer, doc)?;
        let message = self.generate_sync_message(peer, doc)?;
        if !known {
            // Saving a whole document leaves large caches in it.
            self.cache.evict(doc);
        }
        Ok(message)
    }

    /// The sync state with `peer` for `doc` in memory (the session's, the
    /// persisted one, or that of a peer with nothing) and its key, and
    /// whether one was known.
    fn first_sync_state(&mut self, peer: &str, doc: &DocId) -> Result<((String, DocId), bool), Error> {
        let key = (peer.to_owned(), doc.clone());
        if self.sync.contains(&key) {
            return Ok((key, true));
        }
        let known = self.has_sync_state(peer, doc)?;
        let state = if known { load_sync_state(&self.conn, peer, doc)? } else { never_synced() };
        self.sync.put(key.clone(), Kept::Exchanging(Box::new(state)));
        Ok((key, known))
    }

    /// [`Store::generate_first_sync_message`] for each of `peers` at once,
    /// as a server pushes one change to its listeners: peers in the same
    /// state get the same message, made once (see [`super::broadcast`]).
    pub fn generate_first_sync_messages(&mut self, peers: &[String], doc: &DocId) -> Result<Vec<Option<Vec<u8>>>, Error> {
        let mut keys = Vec::with_capacity(peers.len());
        let mut unknown = false;
        for peer in peers {
            let (key, known) = self.first_sync_state(peer, doc)?;
            unknown |= !known;
            keys.push(key);
        }
        let mut messages = Vec::with_capacity(peers.len());
        let mut broadcast = super::broadcast::Broadcast::default();
        let mut empty = None;
        let mut loaded = super::work::load(&mut self.cache, &self.conn, &self.actor, doc)?;
        for key in &keys {
            let kept = self.sync.get_mut(key).expect("loaded above");
            let message = match loaded.as_deref_mut() {
                Some(loaded) => {
                    let message = broadcast.message(&mut loaded.doc, kept.state());
                    if message.is_none() {
                        kept.settle(&loaded.doc.get_heads());
                    }
                    message
                }
                None => broadcast.message(empty.get_or_insert_with(AutoCommit::new), kept.state()),
            };
            messages.push(message);
        }
        if unknown {
            // Saving a whole document leaves large caches in it.
            self.cache.evict(doc);
        }
        Ok(messages)
    }

    /// Apply a sync message for `doc` from `peer`: new changes are stored,
    /// projected and checked. Returns whether the document changed here.
    pub fn receive_sync_message(&mut self, peer: &str, doc: &DocId, message: &[u8]) -> Result<bool, Error> {
        self.receive_sync_message_checked(peer, doc, message, &|_, _| Ok(()))
    }

    /// Like [`Store::receive_sync_message`], but the new changes and the
    /// document's header are shown to `accept` before anything is kept; a
    /// refusal rolls the merge back and returns [`Error::Refused`].
    pub fn receive_sync_message_checked(
        &mut self,
        peer: &str,
        doc: &DocId,
        message: &[u8],
        accept: AcceptChanges<'_>,
    ) -> Result<bool, Error> {
        let batch = [(doc.clone(), message.to_vec())];
        self.receive_sync_messages_checked(peer, &batch, accept)?.pop().expect("one result per message")
    }

    /// Apply a whole frame of sync messages in one SQLite transaction, each
    /// document in a savepoint of its own: a refused or broken message
    /// leaves that document as it was and the others applied. Returns one
    /// result per message, in order; the outer error is the store failing.
    pub fn receive_sync_messages_checked(
        &mut self,
        peer: &str,
        messages: &[(DocId, Vec<u8>)],
        accept: AcceptChanges<'_>,
    ) -> Result<Vec<Result<bool, Error>>, Error> {
        let results = self.receive(peer, messages, Some(accept), None)?;
        Ok(results.into_iter().map(|r| r.map(|(changed, _)| changed)).collect())
    }

    /// A frame from `peer`, answered: like
    /// [`Store::receive_sync_messages_checked`], and in the same
    /// transaction each document's reply is made, a document the peer now
    /// has all of leaves the outbox, and `feed` (a meta number and its new
    /// value, kept if larger) is recorded, so that one frame costs one
    /// commit. With `accept` `None` the peer is trusted (a device trusts its
    /// server, which checked every change): its changes are kept without
    /// working out what they touch.
    pub fn receive_sync_frame(
        &mut self,
        peer: &str,
        messages: &[(DocId, Vec<u8>)],
        accept: Option<AcceptChanges<'_>>,
        feed: Option<(&str, u64)>,
    ) -> Result<Vec<Result<Received, Error>>, Error> {
        let results = self.receive(peer, messages, accept, Some(feed))?;
        Ok(results
            .into_iter()
            .map(|r| {
                r.map(|(changed, answer)| {
                    let answer = answer.expect("replies were asked for");
                    Received { changed, reply: answer.reply, reply_can_wait: answer.reply_can_wait, peer_has_all: answer.peer_has_all }
                })
            })
            .collect())
    }

    /// The shared part of receiving a frame; `answer` is `Some` when
    /// replies are wanted (with the meta number to record).
    fn receive(
        &mut self,
        peer: &str,
        messages: &[(DocId, Vec<u8>)],
        accept: Option<AcceptChanges<'_>>,
        answer: Option<Option<(&str, u64)>>,
    ) -> Result<Vec<Outcome>, Error> {
        if messages.is_empty() {
            // Only a feed number (the server's "nothing more"): noted, and
            // written with the sync states.
            if let Some(Some((key, value))) = answer {
                self.sync.note_feed(key, value);
            }
            return Ok(Vec::new());
        }
        let decoded = decode_frame(messages, accept.is_some());
        // A device's answer to a change it was sent carries no changes: only
        // its heads. Such a frame moves sync states and nothing else, so it
        // is taken without a transaction (one for every device a change
        // went to, on the server).
        if answer.is_none() && decoded.iter().all(|m| m.as_ref().map_or(true, |m| m.changes.is_empty())) {
            return Ok(self.take_heads(peer, messages, decoded));
        }
        let now = self.clock.now();
        // Not `self.work`: the sync states are borrowed beside the work.
        self.copy_short_tail();
        let mut work = Work::begin(&mut self.conn, &mut self.cache, &self.actor, now, String::new())?.acting(self.acts);
        let mut results = Vec::with_capacity(messages.len());
        // States moved by this frame, by document: a document may come more
        // than once (frames that waited on the socket are applied together,
        // see the sync client), and each message goes on from the state the
        // one before it left.
        let mut kept: HashMap<DocId, Kept> = HashMap::new();
        for ((doc, _), message) in messages.iter().zip(decoded) {
            let message = match message {
                Ok(m) => m,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let key = (peer.to_owned(), doc.clone());
            let state = match kept.remove(doc).or_else(|| self.sync.pop(&key)) {
                Some(s) => Ok(s.into_state()),
                None => load_sync_state(work.conn(), peer, doc),
            };
            let mut state = match state {
                Ok(s) => s,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let outcome = work.savepoint().and_then(|()| receive(&mut work, &mut state, doc, message, accept));
            match outcome {
                Ok(changed) => {
                    work.release();
                    let (reply, state) = match answer {
                        Some(_) => {
                            let (answer, heads) = work.answer(doc, &mut state)?;
                            (Some(answer), Kept::of(state, &heads))
                        }
                        None => (None, Kept::Exchanging(Box::new(state))),
                    };
                    kept.insert(doc.clone(), state);
                    results.push(Ok((changed, reply)));
                }
                Err(e) => {
                    // The state is dropped: the next message starts from the
                    // persisted shared heads.
                    work.rollback_to(doc);
                    results.push(Err(e));
                }
            }
        }
        let feed = answer.flatten();
        // States and the feed number go with this frame's changes once in a
        // while (see `SyncStates::interval`).
        let write = self.sync.due();
        let batch: Vec<(String, DocId)> = if write { self.sync.unwritten.iter().cloned().collect() } else { Vec::new() };
        if write {
            let frame = kept.iter().map(|(doc, state)| (peer, doc, state));
            self.sync.write(work.conn(), &batch, frame, feed)?;
        }
        work.commit()?;
        // Only now, with the changes kept, do states and the feed number
        // say they were received.
        if write {
            self.sync.written(&batch);
        } else if let Some((key, value)) = feed {
            self.sync.note_feed(key, value);
        }
        for (doc, state) in kept {
            let key = (peer.to_owned(), doc);
            if !write {
                self.sync.unwritten.insert(key.clone());
            }
            self.sync.put(key, state);
        }
        Ok(results)
    }

    /// A frame of messages that carry no changes (see `receive`): each
    /// moves its sync state only. No transaction is begun and nothing is
    /// written now; the states are written as the others are (with a later
    /// frame's changes, or in a quiet moment: `SyncStates::interval`).
    fn take_heads(&mut self, peer: &str, messages: &[(DocId, Vec<u8>)], decoded: Vec<Result<sync::Message, Error>>) -> Vec<Outcome> {
        let mut results = Vec::with_capacity(messages.len());
        for ((doc, _), message) in messages.iter().zip(decoded) {
            // The state is moved where it is kept, not taken out and put back.
            let taken = message.and_then(|message| {
                let key = self.sync_state_key(peer, doc)?;
                let kept = self.sync.get_mut(&key).expect("loaded above");
                acknowledged(&self.conn, &mut self.cache, &self.actor, kept.state(), doc, message)?;
                Ok(key)
            });
            match taken {
                Ok(key) => {
                    self.sync.unwritten.insert(key);
                    results.push(Ok((false, None)));
                }
                Err(e) => {
                    // As a rolled-back merge: the state is dropped (the next
                    // message starts from the persisted shared heads) and the
                    // copy Automerge may have left half-read is forgotten.
                    self.sync.pop(&(peer.to_owned(), doc.clone()));
                    self.cache.evict(doc);
                    self.cache.forget_header(doc);
                    results.push(Err(e));
                }
            }
        }
        results
    }

    /// Write the sync states and the feed number that frames left unwritten
    /// (see `SyncStates::interval`), in a quiet moment: otherwise the first frame
    /// after one carries them all (a device's after a catch-up of thousands
    /// of documents). Returns how many states were written.
    pub fn write_sync_states(&mut self) -> Result<usize, Error> {
        if self.sync.unwritten.is_empty() && self.sync.feed.is_none() {
            return Ok(0);
        }
        let keys: Vec<(String, DocId)> = self.sync.unwritten.iter().cloned().collect();
        let tx = self.conn.transaction()?;
        self.sync.write(&tx, &keys, std::iter::empty(), None)?;
        tx.commit()?;
        self.sync.written(&keys);
        Ok(keys.len())
    }

    /// [`Self::write_sync_states`] once the interval since the last write
    /// has passed: a server's writer looks every second, and writes
    /// at its own pace (see [`Self::set_sync_state_interval`]).
    pub fn write_sync_states_when_due(&mut self) -> Result<usize, Error> {
        if !self.sync.due() {
            return Ok(0);
        }
        self.write_sync_states()
    }

    /// Write the sync states moved by received frames at most this often
    /// (and when a session ends). A device keeps a second. A server, which
    /// moves a state for nearly every device each change reaches, takes
    /// longer: a state moved several times in the interval is written once,
    /// and a crash only makes the next exchange longer.
    pub fn set_sync_state_interval(&mut self, interval: std::time::Duration) {
        self.sync.interval = interval;
    }

    /// Forget the sessions' sync states with `peer` (its connection ended):
    /// what was in flight may never have arrived, so the next session
    /// starts from the persisted shared heads, as Automerge asks.
    /// Its states not written yet, and the feed number, are written first.
    pub fn end_sync_session(&mut self, peer: &str) {
        let stale = self.sync.of_peer(peer);
        let unwritten: Vec<_> = stale.iter().filter(|k| self.sync.unwritten.contains(*k)).cloned().collect();
        if !unwritten.is_empty() || self.sync.feed.is_some() {
            let written = self.conn.transaction().map_err(Error::from).and_then(|tx| {
                self.sync.write(&tx, &unwritten, std::iter::empty(), None)?;
                Ok(tx.commit()?)
            });
            match written {
                Ok(()) => self.sync.written(&unwritten),
                // Only a longer exchange next time.
                Err(e) => tracing::warn!(%peer, error = %e, "sync states were not written"),
            }
        }
        for key in stale {
            self.sync.unwritten.remove(&key);
            self.sync.pop(&key);
        }
    }

    /// Delete a document that was deleted for good elsewhere, with what
    /// goes with it (see [`crate::store::Work::purge`]): returns those
    /// others, which the server numbers as deletions too.
    pub fn apply_tombstone(&mut self, doc: &DocId) -> Result<Vec<DocId>, Error> {
        let actor = crate::actor::Actor::site_founder("sync");
        let with_it = self.run("purge", &actor, |work| work.purge(doc))?;
        // Learnt from elsewhere: nothing to announce.
        for gone in with_it.iter().chain([doc]) {
            self.conn.execute("DELETE FROM outbox WHERE doc_id = ?1", [gone])?;
        }
        Ok(with_it)
    }

    /// Drop documents this device may no longer see (told by the server):
    /// no tombstone, so they may come again. Nothing of ours is lost: a
    /// document is only dropped when nothing of it waits to be sent.
    pub fn forget(&mut self, docs: &[DocId]) -> Result<(), Error> {
        let waiting: std::collections::HashSet<DocId> = self.outbox()?.into_iter().map(|(d, _)| d).collect();
        let docs: Vec<&DocId> = docs.iter().filter(|d| !waiting.contains(*d)).collect();
        if docs.is_empty() {
            return Ok(());
        }
        let actor = crate::actor::Actor::site_founder("sync");
        self.run("forget", &actor, |work| docs.iter().try_for_each(|doc| work.forget(doc)))?;
        for doc in docs {
            self.sync.forget_document(doc);
        }
        Ok(())
    }

    /// Documents changed or deleted here that the server has not confirmed:
    /// `(document, deleted)`.
    pub fn outbox(&self) -> Result<Vec<(DocId, bool)>, Error> {
        let mut stmt = self.conn.prepare_cached("SELECT doc_id, purged FROM outbox ORDER BY doc_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The server confirmed it has everything of `doc`.
    pub fn clear_outbox(&mut self, doc: &DocId) -> Result<(), Error> {
        self.conn.execute("DELETE FROM outbox WHERE doc_id = ?1", [doc])?;
        Ok(())
    }

    /// Whether `peer` is known to have every change of `doc` this store has.
    pub fn peer_has_all(&mut self, peer: &str, doc: &DocId) -> Result<bool, Error> {
        let key = self.sync_state_key(peer, doc)?;
        let state = self.sync.get_mut(&key).expect("loaded above").state();
        let Some(loaded) = super::work::load(&mut self.cache, &self.conn, &self.actor, doc)? else {
            return Ok(true);
        };
        Ok(loaded.doc.has_our_changes(state))
    }

    /// A number kept in the store's meta table (the last change-feed
    /// sequence seen, for the sync client).
    pub fn meta_number(&self, key: &str) -> Result<u64, Error> {
        let v: Option<String> = self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?;
        let stored = v.and_then(|v| v.parse().ok()).unwrap_or(0);
        // A feed number received and not written yet counts.
        let pending = self.sync.feed.as_ref().filter(|(k, _)| k == key).map_or(0, |(_, v)| *v);
        Ok(stored.max(pending))
    }

    /// Set a number in the store's meta table.
    pub fn set_meta_number(&mut self, key: &str, value: u64) -> Result<(), Error> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value.to_string()],
        )?;
        Ok(())
    }

    /// A text kept in the store's meta table (the server's other
    /// addresses, for the sync client), if set.
    pub fn meta_text(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self.conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?.query_row([key], |r| r.get(0)).optional()?)
    }

    /// Set a text in the store's meta table.
    pub fn set_meta_text(&mut self, key: &str, value: &str) -> Result<(), Error> {
        self.conn
            .prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")?
            .execute(params![key, value])?;
        Ok(())
    }

    /// The header of a stored document, read from it (for access checks);
    /// kept in memory until the document is written again.
    pub fn header(&mut self, doc: &DocId) -> Result<Option<crate::document::Header>, Error> {
        if let Some(header) = self.cache.header(doc) {
            return Ok(Some(header));
        }
        let Some(loaded) = self.loaded(doc)? else {
            return Ok(None);
        };
        let header: crate::document::Header =
            autosurgeon::hydrate_prop(&loaded.doc, automerge::ROOT, "header").map_err(|e| Error::corrupt(doc, e))?;
        self.cache.keep_header(doc, header.clone());
        Ok(Some(header))
    }

    /// Forget a peer's sync states, so the next exchange starts afresh.
    pub fn forget_peer(&mut self, peer: &str) -> Result<(), Error> {
        self.end_sync_session(peer);
        self.conn.execute("DELETE FROM sync_states WHERE peer = ?1", [peer])?;
        Ok(())
    }

    fn has_sync_state(&self, peer: &str, doc: &DocId) -> Result<bool, Error> {
        let found: Option<i64> = self
            .conn
            .prepare_cached("SELECT 1 FROM sync_states WHERE peer = ?1 AND doc_id = ?2")?
            .query_row(params![peer, doc], |r| r.get(0))
            .optional()?;
        Ok(found.is_some())
    }

}

/// The persisted sync state with `peer` for `doc` (its shared heads), or a
/// fresh one.
pub(super) fn load_sync_state(conn: &rusqlite::Connection, peer: &str, doc: &DocId) -> Result<sync::State, Error> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT state FROM sync_states WHERE peer = ?1 AND doc_id = ?2")?
        .query_row(params![peer, doc], |r| r.get(0))
        .optional()?;
    Ok(bytes.and_then(|b| sync::State::decode(&b).ok()).unwrap_or_default())
}

/// Judges changes from another replica before they are kept, given the
/// document's header and the new changes; `Err` refuses them with the rule
/// they break. A store given one treats the peer as untrusted: its sync
/// messages are also checked against [`DEVICE_LIMITS`] before Automerge
/// reads them, and changes of documents deleted for good are refused.
pub type AcceptChanges<'a> = &'a dyn Fn(&DocId, &Incoming<'_>) -> Result<(), Refusal>;

/// What a peer's changes to one document would do, worked out on the
/// document with the changes applied but not yet kept: who may accept
/// them can check the actors, and which fields they touch.
pub struct Incoming<'a> {
    /// The document's header.
    pub header: &'a crate::document::Header,
    /// The new changes.
    pub changes: &'a [automerge::Change],
    /// The top-level fields the changes touch (`custody`, `email`, …).
    pub touched: &'a BTreeSet<String>,
    /// Whether the changes create the document.
    pub creates: bool,
    /// The document before the changes (`None` when they create it).
    pub before: Option<&'a automerge::hydrate::Value>,
    /// The document with the changes.
    pub after: &'a automerge::hydrate::Value,
}
type Accept<'a> = Option<AcceptChanges<'a>>;

/// Whether changes merged into `am` may stay: the document must still be of
/// its id's kind, and `accept` (if any) must take them. A trusted peer's
/// changes to a document already here are not looked at.
fn check(doc: &DocId, am: &mut AutoCommit, before: &[ChangeHash], accept: Accept<'_>) -> Result<(), Error> {
    if accept.is_none() && !before.is_empty() {
        return Ok(());
    }
    let header: crate::document::Header =
        autosurgeon::hydrate_prop(&*am, automerge::ROOT, "header").map_err(|e| Error::corrupt(doc, e))?;
    if header.kind != doc.kind() {
        return Err(Error::WrongKind { doc: doc.clone(), expected: doc.kind(), found: header.kind });
    }
    let Some(accept) = accept else { return Ok(()) };
    let refused = |reason| Error::Refused { doc: doc.clone(), reason };
    let changes = am.get_changes(before);
    let after = am.get_heads();
    let touched = touched_fields(am, before, &after);
    let (before_value, after_value) = {
        let whole = am.document();
        ((!before.is_empty()).then(|| whole.hydrate(Some(before))), whole.hydrate(None))
    };
    let incoming = Incoming {
        header: &header,
        changes: &changes,
        touched: &touched,
        creates: before.is_empty(),
        before: before_value.as_ref(),
        after: &after_value,
    };
    accept(doc, &incoming).map_err(refused)
}

/// The top-level fields of the document that differ between two heads.
fn touched_fields(am: &mut AutoCommit, before: &[ChangeHash], after: &[ChangeHash]) -> BTreeSet<String> {
    use automerge::Prop;
    let mut fields = BTreeSet::new();
    for patch in am.diff(before, after) {
        let root_prop = match patch.path.first() {
            Some((_, Prop::Map(key))) => Some(key.clone()),
            Some((_, Prop::Seq(_))) => None,
            None => match &patch.action {
                automerge::PatchAction::PutMap { key, .. } | automerge::PatchAction::DeleteMap { key } => Some(key.clone()),
                automerge::PatchAction::Increment { prop: Prop::Map(key), .. } => Some(key.clone()),
                automerge::PatchAction::Conflict { prop: Prop::Map(key) } => Some(key.clone()),
                automerge::PatchAction::Mark { .. } => None,
                _ => None,
            },
        };
        fields.insert(root_prop.unwrap_or_else(|| "?".to_owned()));
    }
    fields
}

fn receive(work: &mut Work<'_>, state: &mut sync::State, doc: &DocId, message: sync::Message, accept: Accept<'_>) -> Result<bool, Error> {
    if work.is_tombstoned(doc)? {
        return Err(Error::Purged { doc: doc.clone() });
    }
    match work.loaded(doc)? {
        Some(loaded) => {
            let before = loaded.doc.get_heads();
            // A change whose dependency has not come yet waits in Automerge's
            // queue, and is applied with the message that brings it. Then the
            // changes applied are not this message's: they are encoded from
            // the document, or the waiting change would never reach the file.
            let waited = holds_back(&mut loaded.doc);
            let received: Vec<u8> = message.changes.iter().flatten().copied().collect();
            merge(doc, &mut loaded.doc, state, message)?;
            if loaded.doc.get_heads() == before {
                work.unchanged(doc);
                return Ok(false);
            }
            let received = (!waited && !holds_back(&mut loaded.doc)).then_some(received);
            let new: Vec<ChangeHash> =
                if accept.is_some() { loaded.doc.get_changes(&before).iter().map(|c| c.hash()).collect() } else { Vec::new() };
            refuse_purged_changes(work, doc, &new)?;
            let loaded = work.loaded(doc)?.ok_or_else(|| Error::corrupt(doc, "it vanished during a merge"))?;
            check(doc, &mut loaded.doc, &before, accept)?;
            work.merged(doc, &before, received)?;
            Ok(true)
        }
        None => {
            let mut fresh = AutoCommit::new();
            merge(doc, &mut fresh, state, message)?;
            if fresh.get_heads().is_empty() {
                return Ok(false);
            }
            if accept.is_some() {
                let new: Vec<ChangeHash> = fresh.get_changes(&[]).iter().map(|c| c.hash()).collect();
                refuse_purged_changes(work, doc, &new)?;
            }
            check(doc, &mut fresh, &[], accept)?;
            work.insert_received(doc, fresh)?;
            Ok(true)
        }
    }
}

/// Screen and decode a frame's messages, each on its own: an untrusted
/// peer's (`untrusted`) are held to the device limits, and together to
/// what a frame may inflate to.
fn decode_frame(messages: &[(DocId, Vec<u8>)], untrusted: bool) -> Vec<Result<sync::Message, Error>> {
    // A trusted peer (the server, for a device) is held to wider bounds, but
    // held: no message may take the device's memory.
    let limits = if untrusted { &DEVICE_LIMITS } else { &SERVER_LIMITS };
    let mut inflated = 0u64;
    messages
        .iter()
        .map(|(doc, bytes)| {
            let screened = check_message(bytes, limits).and_then(|n| {
                inflated += n;
                if untrusted && inflated > MAX_INFLATED_FRAME {
                    Err(Refusal::TooLarge { what: Measured::InflatedFrame, bytes: inflated, max: MAX_INFLATED_FRAME })
                } else {
                    Ok(())
                }
            });
            match screened {
                Ok(()) => sync::Message::decode(bytes).map_err(|e| Error::BadSyncMessage { doc: doc.clone(), reason: e.to_string() }),
                // Unreadable is unreadable, whoever sent it.
                Err(Refusal::Malformed { reason }) => Err(Error::BadSyncMessage { doc: doc.clone(), reason }),
                Err(reason) => Err(Error::Refused { doc: doc.clone(), reason }),
            }
        })
        .collect()
}

/// Take a message that carries no changes for `doc`: only the sync state
/// moves (the peer's heads, what it needs and has).
fn acknowledged(
    conn: &rusqlite::Connection,
    cache: &mut super::cache::DocCache,
    actor: &automerge::ActorId,
    state: &mut sync::State,
    doc: &DocId,
    message: sync::Message,
) -> Result<(), Error> {
    // A document in the cache is not deleted for good (deleting one takes
    // it out, and only a stored one comes back in): reading the tombstones
    // outside a transaction takes SQLite's read lock, two system calls, for
    // every device a change went to.
    if cache.get_mut(doc).is_none() && super::persist::is_tombstoned(conn, doc)? {
        return Err(Error::Purged { doc: doc.clone() });
    }
    match super::work::load(cache, conn, actor, doc)? {
        Some(loaded) => merge(doc, &mut loaded.doc, state, message),
        None => merge(doc, &mut AutoCommit::new(), state, message),
    }
}

/// Whether changes of the document wait for a dependency that has not
/// come (nothing to look through when none waits).
fn holds_back(doc: &mut AutoCommit) -> bool {
    !doc.get_missing_deps(&[]).is_empty()
}

/// Apply a sync message to a document. A panic inside Automerge (a message
/// it did not expect) is a refused message, not a dead connection or
/// server: the caller rolls the document back and forgets its copy.
fn merge(doc: &DocId, am: &mut AutoCommit, state: &mut sync::State, message: sync::Message) -> Result<(), Error> {
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| am.sync().receive_sync_message(state, message)));
    match applied {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Error::BadSyncMessage { doc: doc.clone(), reason: e.to_string() }),
        Err(_) => {
            tracing::warn!(%doc, "Automerge panicked on a sync message; refused");
            Err(Error::Refused { doc: doc.clone(), reason: Refusal::Unreadable })
        }
    }
}

/// Changes of a document deleted for good are refused under any id.
fn refuse_purged_changes(work: &Work<'_>, doc: &DocId, hashes: &[ChangeHash]) -> Result<(), Error> {
    for hash in hashes {
        if work.is_purged_change(hash)? {
            return Err(Error::Refused { doc: doc.clone(), reason: Refusal::PurgedChanges });
        }
    }
    Ok(())
}

/// Bring two stores on this machine to the same state: every document and
/// every tombstone of either goes to the other, through the same sync
/// messages a network peer would send. Returns how many messages were sent.
pub fn exchange(a: &mut Store, a_name: &str, b: &mut Store, b_name: &str) -> Result<usize, Error> {
    for dead in a.tombstones()? {
        if !b.tombstones()?.contains(&dead) {
            b.apply_tombstone(&dead)?;
        }
    }
    for dead in b.tombstones()? {
        if !a.tombstones()?.contains(&dead) {
            a.apply_tombstone(&dead)?;
        }
    }
    let docs: BTreeSet<DocId> = a.documents()?.into_iter().chain(b.documents()?).collect();
    let mut sent = 0;
    for doc in docs {
        for _round in 0..64 {
            let mut quiet = true;
            if let Some(m) = a.generate_sync_message(b_name, &doc)? {
                b.receive_sync_message(a_name, &doc, &m)?;
                sent += 1;
                quiet = false;
            }
            if let Some(m) = b.generate_sync_message(a_name, &doc)? {
                a.receive_sync_message(b_name, &doc, &m)?;
                sent += 1;
                quiet = false;
            }
            if quiet {
                break;
            }
        }
    }
    Ok(sent)
}

impl Store {
    /// A document's full saved bytes (for backups and fixtures), or `None`.
    pub fn export_document(&mut self, doc: &DocId) -> Result<Option<Vec<u8>>, Error> {
        let Some(loaded) = self.loaded(doc)? else {
            return Ok(None);
        };
        let bytes = loaded.doc.save();
        // Saving leaves large caches in the document: drop it from memory.
        self.cache.evict(doc);
        Ok(Some(bytes))
    }

    /// Merge a document's saved bytes into this store (a backup, a fixture):
    /// stored, projected and checked like any merge. Damaged bytes or a
    /// document of another kind than its id says are refused, changing nothing.
    pub fn import_document(&mut self, doc: &DocId, bytes: &[u8]) -> Result<(), Error> {
        // Read before Automerge loads them: a file can be a deflate bomb too.
        check_saved(bytes, &SERVER_LIMITS).map_err(|e| Error::corrupt(doc, e))?;
        let mut incoming = AutoCommit::load(bytes).map_err(|e| Error::corrupt(doc, e))?;
        let header: crate::document::Header = autosurgeon::hydrate_prop(&incoming, automerge::ROOT, "header")
            .map_err(|e| Error::corrupt(doc, e))?;
        if header.kind != doc.kind() {
            return Err(Error::WrongKind { doc: doc.clone(), expected: doc.kind(), found: header.kind });
        }
        let now = self.clock.now();
        let mut work = self.work(now, String::new())?;
        let result = (|| {
            if work.is_tombstoned(doc)? {
                return Err(Error::Purged { doc: doc.clone() });
            }
            match work.loaded(doc)? {
                Some(loaded) => {
                    let before = loaded.doc.get_heads();
                    loaded.doc.merge(&mut incoming).map_err(|e| Error::corrupt(doc, e))?;
                    if loaded.doc.get_heads() != before {
                        work.merged(doc, &before, None)?;
                    }
                    Ok(())
                }
                None => work.insert_received(doc, incoming),
            }
        })();
        match result {
            Ok(()) => work.commit(),
            Err(e) => {
                work.abandon();
                Err(e)
            }
        }
    }

    /// The changes of `doc` that `heads` do not include, for another copy
    /// of this store to merge ([`Store::merge_changes`]: a server instance
    /// telling the others), and the document's heads now; all of it when
    /// `heads` is empty. `None` for a document not here.
    pub fn changes_since(&mut self, doc: &DocId, heads: &[ChangeHash]) -> Result<Option<(Vec<u8>, Vec<ChangeHash>)>, Error> {
        let Some(loaded) = self.loaded(doc)? else {
            return Ok(None);
        };
        let now = loaded.doc.get_heads();
        if heads.is_empty() {
            let bytes = loaded.doc.save();
            // Saving leaves large caches in the document (as in
            // `export_document`).
            self.cache.evict(doc);
            return Ok(Some((bytes, now)));
        }
        Ok(Some((loaded.doc.save_after(heads), now)))
    }

    /// Merge changes another copy of this store made ([`Store::changes_since`]),
    /// `(document, bytes)` in order, in one transaction: stored, projected
    /// and acted on like any merge. Whether each document changed, or why
    /// its bytes were set aside: bytes that are not Automerge changes, or a
    /// new document of another kind than its id says, change nothing, and
    /// the other documents are merged all the same (one bad change must not
    /// keep a whole site from opening). A document deleted for good here
    /// takes nothing. The outer error is the store failing: then nothing
    /// is merged.
    pub fn merge_changes(&mut self, changes: &[(DocId, &[u8])]) -> Result<Vec<Result<bool, Error>>, Error> {
        let now = self.clock.now();
        let mut work = self.work(now, String::new())?;
        let mut results = Vec::with_capacity(changes.len());
        for (doc, bytes) in changes {
            match work.savepoint().and_then(|()| merge_one(&mut work, doc, bytes)) {
                Ok(changed) => {
                    work.release();
                    results.push(Ok(changed));
                }
                Err(e) if e.is_the_documents() => {
                    work.rollback_to(doc);
                    results.push(Err(e));
                }
                Err(e) => {
                    work.abandon();
                    return Err(e);
                }
            }
        }
        work.commit().map(|()| results)
    }

    /// Rewrite every projection from the stored documents: after a schema
    /// upgrade, or to repair a store. One transaction.
    pub fn rebuild_projections(&mut self) -> Result<usize, Error> {
        let docs = self.documents()?;
        let now = self.clock.now();
        let mut work = self.work(now, String::new())?;
        let result = docs.iter().try_for_each(|doc| work.reproject(doc));
        match result {
            Ok(()) => work.commit().map(|()| docs.len()),
            Err(e) => {
                work.abandon();
                Err(e)
            }
        }
    }
}

/// One document's share of [`Store::merge_changes`].
fn merge_one(work: &mut Work<'_>, doc: &DocId, bytes: &[u8]) -> Result<bool, Error> {
    // Read before Automerge loads them, which passes over what it cannot
    // read: damaged bytes are refused, not half taken.
    check_saved(bytes, &SERVER_LIMITS).map_err(|e| Error::corrupt(doc, e))?;
    if work.is_tombstoned(doc)? {
        return Ok(false);
    }
    match work.loaded(doc)? {
        Some(loaded) => {
            let before = loaded.doc.get_heads();
            loaded.doc.load_incremental(bytes).map_err(|e| Error::corrupt(doc, e))?;
            if loaded.doc.get_heads() == before {
                return Ok(false);
            }
            work.merged(doc, &before, None)?;
            Ok(true)
        }
        None => {
            let mut incoming = AutoCommit::new();
            incoming.load_incremental(bytes).map_err(|e| Error::corrupt(doc, e))?;
            let header: crate::document::Header = autosurgeon::hydrate_prop(&incoming, automerge::ROOT, "header").map_err(|e| Error::corrupt(doc, e))?;
            if header.kind != doc.kind() {
                return Err(Error::WrongKind { doc: doc.clone(), expected: doc.kind(), found: header.kind });
            }
            work.insert_received(doc, incoming)?;
            Ok(true)
        }
    }
}

/// The state of a peer that has never synced a document with this store:
/// it has nothing, so the first message carries the whole document.
fn never_synced() -> sync::State {
    sync::State {
        their_heads: Some(Vec::new()),
        their_need: Some(Vec::new()),
        their_have: Some(Vec::new()),
        their_capabilities: Some(vec![Capability::MessageV2]),
        ..Default::default()
    }
}
