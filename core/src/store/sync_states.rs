//! The sync states of the current sessions, in memory: bounded, small
//! once both sides are in step, and written to the `sync_states` table
//! (their shared heads) once in a while rather than with every frame.

use std::time::{Duration, Instant};

use automerge::ChangeHash;
use automerge::sync::{self, Capability};
// Not std's SipHash: keyed by (device, document), these sets are touched
// several times for every device a change reaches, and SipHash was 5 % of
// a busy server's instructions. foldhash is seeded per process too.
use foldhash::{HashMap, HashMapExt, HashSet};
use lru::LruCache;
use rusqlite::params;

use super::Error;
use crate::document::DocId;

/// How many (peer, document) sync states stay in memory (under 1 KB
/// each). A state that falls out is the persisted one next time (the
/// shared heads), which costs one more round of messages for that
/// document: too small a bound, and two desks catching up on a year of
/// documents (120,000 states) spent minutes on those rounds.
const STATES_IN_MEMORY: usize = 150_000;

/// How often states moved by received messages, and the feed number, are
/// written to the file on a device: with each received frame, they were two
/// of the ten pages a device wrote for every change pushed to it. A server
/// sets its own (see [`crate::Store::set_sync_state_interval`]).
pub(super) const WRITE_INTERVAL: Duration = Duration::from_secs(1);

/// The sync states of the current sessions with each peer. Only the shared
/// heads outlive a session (that is all [`sync::State::encode`] keeps), and
/// only receiving moves them. They are written to `sync_states` at most
/// every `interval` ([`WRITE_INTERVAL`] unless set), inside the
/// transaction of a received frame, and when the session ends: shared
/// heads that lag after a crash only cost the next session a longer
/// exchange (the protocol starts from any heads both sides had), never a
/// change.
pub(crate) struct SyncStates {
    states: LruCache<(String, DocId), Kept>,
    /// The documents of each peer's states in `states`: a session's end
    /// finds its own without looking through every other peer's (200
    /// devices leaving a site of 150,000 states looked through 30 million).
    by_peer: HashMap<String, HashSet<DocId>>,
    /// States moved since they were last written.
    pub(super) unwritten: HashSet<(String, DocId)>,
    /// The highest change-feed number received and not yet written.
    pub(super) feed: Option<(String, u64)>,
    pub(super) written_at: Instant,
    pub(super) interval: Duration,
}

/// A session's sync state for one document, kept small once both sides
/// are in step: a server with two desks holding a year of documents keeps
/// 120,000 of them, and a full state is several times the size.
pub(super) enum Kept {
    /// Messages are going back and forth.
    Exchanging(Box<sync::State>),
    /// Both sides have exactly these heads and nothing is in flight.
    InStep { heads: Vec<ChangeHash>, capabilities: Option<Vec<Capability>> },
}

impl Kept {
    /// `state` as kept, given this side's heads of the document.
    pub(super) fn of(state: sync::State, ours: &[ChangeHash]) -> Self {
        let in_step = !state.in_flight
            && !state.read_only
            && !state.peer_read_only
            && state.shared_heads == ours
            && state.their_heads.as_deref() == Some(ours)
            && state.last_sent_heads == ours;
        if in_step {
            Kept::InStep { heads: state.shared_heads, capabilities: state.their_capabilities }
        } else {
            Kept::Exchanging(Box::new(state))
        }
    }

    /// The full state. An in-step one is what the protocol holds after the
    /// last exchange, with the peer's summary of what it has reduced to
    /// "everything up to the shared heads": the next message carries just
    /// the changes made since.
    pub(super) fn into_state(self) -> sync::State {
        match self {
            Kept::Exchanging(state) => *state,
            Kept::InStep { heads, capabilities } => sync::State {
                shared_heads: heads.clone(),
                last_sent_heads: heads.clone(),
                their_heads: Some(heads.clone()),
                their_need: Some(Vec::new()),
                their_have: Some(vec![sync::Have { last_sync: heads, bloom: sync::BloomFilter::default() }]),
                their_capabilities: capabilities,
                have_responded: true,
                ..Default::default()
            },
        }
    }

    /// What is persisted: the shared heads.
    fn encode(&self) -> Vec<u8> {
        match self {
            Kept::Exchanging(state) => state.encode(),
            Kept::InStep { heads, .. } => sync::State { shared_heads: heads.clone(), ..Default::default() }.encode(),
        }
    }

    /// The full state, to generate or receive a message with.
    pub(super) fn state(&mut self) -> &mut sync::State {
        if let Kept::InStep { .. } = self {
            *self = Kept::Exchanging(Box::new(self.take().into_state()));
        }
        match self {
            Kept::Exchanging(state) => state,
            Kept::InStep { .. } => unreachable!("made full above"),
        }
    }

    /// Whether Automerge would have nothing to send, known without asking
    /// it (which builds a summary of the document's changes first): we have
    /// answered before, sent our heads as they are, and the peer said it
    /// has exactly them. A peer with exactly our heads has every change we
    /// have, so no change is owed, and with our heads already sent there is
    /// nothing to tell it. This is what a server finds after nearly every
    /// answer to a change it pushed.
    pub(super) fn nothing_to_say(&self, ours: &[ChangeHash]) -> bool {
        match self {
            Kept::InStep { heads, .. } => heads == ours,
            Kept::Exchanging(state) => {
                state.have_responded && state.last_sent_heads == ours && state.their_heads.as_deref() == Some(ours)
            }
        }
    }

    /// Kept small again if the two sides turned out to be in step.
    pub(super) fn settle(&mut self, ours: &[ChangeHash]) {
        *self = Kept::of(self.take().into_state(), ours);
    }

    fn take(&mut self) -> Kept {
        std::mem::replace(self, Kept::InStep { heads: Vec::new(), capabilities: None })
    }
}

impl Default for SyncStates {
    fn default() -> Self {
        // Unbounded with the bound kept by hand: `LruCache::new` reserves
        // room for the whole bound at once, megabytes on every phone.
        Self {
            states: LruCache::unbounded(),
            by_peer: HashMap::new(),
            unwritten: Default::default(),
            feed: None,
            written_at: Instant::now(),
            interval: WRITE_INTERVAL,
        }
    }
}

impl SyncStates {
    pub(super) fn put(&mut self, key: (String, DocId), state: Kept) {
        // Cloned only when not listed yet.
        match self.by_peer.get_mut(&key.0) {
            Some(docs) if docs.contains(&key.1) => {}
            Some(docs) => {
                docs.insert(key.1.clone());
            }
            None => {
                self.by_peer.insert(key.0.clone(), HashSet::from_iter([key.1.clone()]));
            }
        }
        self.states.put(key, state);
        if self.states.len() > STATES_IN_MEMORY
            && let Some((gone, _)) = self.states.pop_lru()
        {
            self.unlist(&gone);
            // Not written: the persisted one is older, which is allowed.
            self.unwritten.remove(&gone);
        }
    }

    pub(super) fn contains(&self, key: &(String, DocId)) -> bool {
        self.states.contains(key)
    }

    /// The state, made the most recently used.
    pub(super) fn get_mut(&mut self, key: &(String, DocId)) -> Option<&mut Kept> {
        self.states.get_mut(key)
    }

    /// The state, leaving the order of use as it is.
    pub(super) fn peek(&self, key: &(String, DocId)) -> Option<&Kept> {
        self.states.peek(key)
    }

    /// Take the state out (it stays unwritten if it was).
    pub(super) fn pop(&mut self, key: &(String, DocId)) -> Option<Kept> {
        let kept = self.states.pop(key);
        if kept.is_some() {
            self.unlist(key);
        }
        kept
    }

    /// The keys of `peer`'s states in memory.
    pub(super) fn of_peer(&self, peer: &str) -> Vec<(String, DocId)> {
        self.by_peer.get(peer).map_or_else(Vec::new, |docs| docs.iter().map(|d| (peer.to_owned(), d.clone())).collect())
    }

    fn unlist(&mut self, (peer, doc): &(String, DocId)) {
        if let Some(docs) = self.by_peer.get_mut(peer) {
            docs.remove(doc);
            if docs.is_empty() {
                self.by_peer.remove(peer);
            }
        }
    }

    /// Drop every session state of `doc` (its copy here was forgotten):
    /// unwritten ones are not written, the persisted ones go with the rows.
    pub(super) fn forget_document(&mut self, doc: &DocId) {
        let keys: Vec<_> = self.states.iter().filter(|((_, d), _)| d == doc).map(|(k, _)| k.clone()).collect();
        for key in keys {
            self.unwritten.remove(&key);
            self.pop(&key);
        }
    }

    /// Whether what is unwritten is due to be written.
    pub(super) fn due(&self) -> bool {
        self.written_at.elapsed() >= self.interval
    }

    /// Keep the larger feed number.
    pub(super) fn note_feed(&mut self, key: &str, value: u64) {
        match &mut self.feed {
            Some((k, v)) if k == key => *v = (*v).max(value),
            _ => self.feed = Some((key.to_owned(), value)),
        }
    }

    /// After `keys` and the pending feed number were written and committed.
    pub(super) fn written(&mut self, keys: &[(String, DocId)]) {
        for key in keys {
            self.unwritten.remove(key);
        }
        self.feed = None;
        self.written_at = Instant::now();
    }

    /// Write the states of `keys` still in memory, then `more`, then the
    /// pending feed number with `feed` (the larger). A purged document's
    /// state is never written back.
    pub(super) fn write<'k>(
        &self,
        conn: &rusqlite::Connection,
        keys: &[(String, DocId)],
        more: impl Iterator<Item = (&'k str, &'k DocId, &'k Kept)>,
        feed: Option<(&str, u64)>,
    ) -> Result<(), Error> {
        let mut insert = conn.prepare_cached(
            "INSERT INTO sync_states (peer, doc_id, state) VALUES (?1, ?2, ?3)
             ON CONFLICT (peer, doc_id) DO UPDATE SET state = excluded.state",
        )?;
        // Tombstones are looked up once per document, not once per state
        // in the statement: that was a third of the cost of writing a
        // state, and a busy server writes one for nearly every device a
        // change reaches.
        let mut purged: HashMap<DocId, bool> = HashMap::new();
        let mut write = |peer: &str, doc: &DocId, kept: &Kept| -> Result<(), Error> {
            let gone = match purged.get(doc) {
                Some(gone) => *gone,
                None => {
                    let gone = super::persist::is_tombstoned(conn, doc)?;
                    purged.insert(doc.clone(), gone);
                    gone
                }
            };
            if !gone {
                insert.execute(params![peer, doc, kept.encode()])?;
            }
            Ok(())
        };
        for key in keys {
            if let Some(kept) = self.states.peek(key) {
                write(&key.0, &key.1, kept)?;
            }
        }
        for (peer, doc, kept) in more {
            write(peer, doc, kept)?;
        }
        let pending = self.feed.as_ref().map(|(k, v)| (k.as_str(), *v));
        for (key, value) in [pending, feed].into_iter().flatten() {
            conn.prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
            )?
            .execute(params![key, value.to_string()])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::VisitId;

    fn in_step() -> Kept {
        Kept::InStep { heads: Vec::new(), capabilities: None }
    }

    fn sorted(mut keys: Vec<(String, DocId)>) -> Vec<(String, DocId)> {
        keys.sort();
        keys
    }

    #[test]
    fn a_purged_documents_state_is_not_written_back_and_the_others_are() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(dir.path().join("s.sqlite"), std::sync::Arc::new(crate::SystemClock)).unwrap();
        let (kept, purged) = (DocId::visit(VisitId::new()), DocId::visit(VisitId::new()));
        store.conn.execute("INSERT INTO tombstones (doc_id, purged_at) VALUES (?1, 0)", [&purged]).unwrap();
        let mut states = SyncStates::default();
        let keys: Vec<(String, DocId)> = ["desk", "phone"].into_iter().flat_map(|p| [kept.clone(), purged.clone()].map(|d| (p.to_owned(), d))).collect();
        for key in &keys {
            states.put(key.clone(), in_step());
        }
        let frame = [("kiosk", &purged, in_step()), ("kiosk", &kept, in_step())];
        states.write(&store.conn, &keys, frame.iter().map(|(p, d, k)| (*p, *d, k)), None).unwrap();
        let written: Vec<(String, DocId)> = store
            .conn
            .prepare("SELECT peer, doc_id FROM sync_states ORDER BY peer")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(written, ["desk", "kiosk", "phone"].map(|p| (p.to_owned(), kept.clone())));
    }

    #[test]
    fn a_peers_states_are_found_by_the_peer_whichever_way_they_left() {
        let mut states = SyncStates::default();
        let docs: Vec<DocId> = (0..3).map(|_| DocId::visit(VisitId::new())).collect();
        for doc in &docs {
            states.put(("desk".into(), doc.clone()), in_step());
        }
        states.put(("phone".into(), docs[0].clone()), in_step());
        assert_eq!(sorted(states.of_peer("desk")), sorted(docs.iter().map(|d| ("desk".to_owned(), d.clone())).collect()));
        assert_eq!(states.of_peer("phone"), vec![("phone".to_owned(), docs[0].clone())]);
        // Taken out one by one, and with a document forgotten.
        assert!(states.pop(&("desk".into(), docs[1].clone())).is_some());
        states.forget_document(&docs[0]);
        assert_eq!(states.of_peer("desk"), vec![("desk".to_owned(), docs[2].clone())]);
        assert!(states.of_peer("phone").is_empty() && !states.by_peer.contains_key("phone"), "an empty peer is not kept");
        // Pushed out by the bound: the least recently used go, and are not
        // found any more.
        let crowd: Vec<(String, DocId)> = (0..STATES_IN_MEMORY).map(|_| ("hoarder".to_owned(), DocId::visit(VisitId::new()))).collect();
        for key in &crowd {
            states.put(key.clone(), in_step());
        }
        assert!(states.of_peer("desk").is_empty(), "the oldest state was pushed out");
        assert_eq!(states.of_peer("hoarder").len(), STATES_IN_MEMORY);
        states.put(("desk".into(), docs[2].clone()), in_step());
        assert_eq!(states.of_peer("hoarder").len(), STATES_IN_MEMORY - 1);
        assert!(!states.contains(&crowd[0]) && !states.of_peer("hoarder").contains(&crowd[0]));
    }

    mod nothing_to_say {
        use automerge::AutoCommit;
        use automerge::sync::{self, SyncDoc};
        use proptest::prelude::*;

        use super::super::Kept;
        // The broadcast's random histories: edits on either side, the
        // server's messages delivered or lost, fan-outs.
        use crate::store::broadcast::tests::{History, edit, step};

        /// What Automerge would send, asked on a copy of the state.
        fn automerge_says(server: &mut AutoCommit, state: &sync::State) -> Option<sync::Message> {
            server.sync().generate_sync_message(&mut state.clone())
        }

        proptest! {
            /// Whenever the shortcut says "nothing to send", Automerge,
            /// asked, sends nothing either: for the state as it is, and as
            /// it is kept once in step.
            #[test]
            fn nothing_to_say_is_said_only_when_automerge_would_say_nothing(steps in prop::collection::vec(step(), 1..40)) {
                let mut history = History::new();
                for step in steps {
                    // A broadcast as Automerge alone makes it, peer by peer.
                    if let Some(delivered) = history.take(step) {
                        for (p, delivered) in delivered.into_iter().enumerate() {
                            let message = history.server.sync().generate_sync_message(&mut history.to_peer[p]);
                            if let Some(m) = message && delivered {
                                history.deliver(p, m);
                            }
                        }
                    }
                    let History { server, to_peer, .. } = &mut history;
                    let ours = server.get_heads();
                    for state in to_peer.iter() {
                        if Kept::Exchanging(Box::new(state.clone())).nothing_to_say(&ours) {
                            prop_assert!(automerge_says(server, state).is_none(), "the shortcut said nothing, Automerge would send");
                        }
                        let kept = Kept::of(state.clone(), &ours);
                        if kept.nothing_to_say(&ours) {
                            let full = kept.into_state();
                            prop_assert!(automerge_says(server, &full).is_none(), "in step, yet Automerge would send");
                        }
                    }
                }
            }
        }

        /// The case it is for: the server pushed a change and the device
        /// answered with its new heads. Nothing more is owed, and the
        /// shortcut knows it without Automerge.
        #[test]
        fn a_devices_answer_to_a_pushed_change_leaves_nothing_to_say() {
            let mut server = AutoCommit::new();
            let mut device = AutoCommit::new();
            let (mut to_device, mut from_server) = (sync::State::new(), sync::State::new());
            // In step first (the device's first sync).
            for _ in 0..4 {
                if let Some(m) = server.sync().generate_sync_message(&mut to_device) {
                    device.sync().receive_sync_message(&mut from_server, m).unwrap();
                }
                if let Some(m) = device.sync().generate_sync_message(&mut from_server) {
                    server.sync().receive_sync_message(&mut to_device, m).unwrap();
                }
            }
            edit(&mut server, 7);
            let ours = server.get_heads();
            assert!(!Kept::Exchanging(Box::new(to_device.clone())).nothing_to_say(&ours), "a new change is owed");
            let push = server.sync().generate_sync_message(&mut to_device).expect("the change is pushed");
            device.sync().receive_sync_message(&mut from_server, push).unwrap();
            let answer = device.sync().generate_sync_message(&mut from_server).expect("the device answers");
            assert!(answer.changes.is_empty(), "an answer with no changes");
            server.sync().receive_sync_message(&mut to_device, answer).unwrap();
            let kept = Kept::Exchanging(Box::new(to_device.clone()));
            assert!(kept.nothing_to_say(&ours), "after the answer nothing is owed");
            assert!(Kept::of(to_device.clone(), &ours).nothing_to_say(&ours), "and the state kept small says so too");
            assert!(automerge_says(&mut server, &to_device).is_none());
        }
    }
}
