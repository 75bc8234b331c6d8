//! One change, many listeners: the sync messages for every peer of one
//! document, each made once per distinct sync state.
//!
//! A server pushing a change to 200 devices asked Automerge for 200
//! messages, and Automerge rebuilt the change from its operations for each
//! one (most of the server's work per change delivered). Peers that are in
//! step with the server hold equal sync states, and Automerge's answer is a
//! function of the document and the state alone, so the message is made
//! for the first of them and handed to the rest.
//!
//! The one part of a state that differs between otherwise equal peers is
//! the set of change hashes already sent to each in this session, which
//! only filters what goes out. So the message is made for the state with
//! that set empty; a peer gets it when none of the changes it carries was
//! sent to that peer before (then the filter would have removed nothing),
//! and its own message is made as before otherwise.

use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};

/// The messages made so far for one document. Peers in step share a
/// state, so there are only a few: a list, searched without copying the
/// state or hashing its bloom filter for each peer.
#[derive(Default)]
pub(super) struct Broadcast {
    /// The document's heads the messages were made at: they are made
    /// again if it changed since.
    heads: Vec<automerge::ChangeHash>,
    made: Vec<Made>,
}

/// A message made for a state (kept with no sent hashes), and the state
/// it left behind.
struct Made {
    before: sync::State,
    message: Option<Vec<u8>>,
    after: sync::State,
}

impl Broadcast {
    /// The encoded message `doc` sends to a peer whose state is `state`,
    /// with `state` moved as [`SyncDoc::generate_sync_message`] moves it.
    pub(super) fn message(&mut self, doc: &mut AutoCommit, state: &mut sync::State) -> Option<Vec<u8>> {
        let heads = doc.get_heads();
        if heads != self.heads {
            self.made.clear();
            self.heads = heads;
        }
        let index = match self.made.iter().position(|m| equal_but_sent(&m.before, state)) {
            Some(index) => index,
            None => {
                let mut before = state.clone();
                before.sent_hashes.clear();
                let mut after = before.clone();
                let message = doc.sync().generate_sync_message(&mut after).map(sync::Message::encode);
                self.made.push(Made { before, message, after });
                self.made.len() - 1
            }
        };
        let made = &self.made[index];
        if !made.after.sent_hashes.is_disjoint(&state.sent_hashes) {
            // Some of it went to this peer already: Automerge leaves that out.
            return doc.sync().generate_sync_message(state).map(sync::Message::encode);
        }
        let mut sent = std::mem::take(&mut state.sent_hashes);
        sent.extend(made.after.sent_hashes.iter().copied());
        state.clone_from(&made.after);
        state.sent_hashes = sent;
        made.message.clone()
    }
}

/// Two states that are equal but for the hashes sent in their sessions.
/// (Every field is named, so that one Automerge adds stops the build
/// here instead of being left out of the comparison.)
fn equal_but_sent(a: &sync::State, b: &sync::State) -> bool {
    let sync::State {
        shared_heads,
        last_sent_heads,
        their_heads,
        their_need,
        their_have,
        sent_hashes: _,
        in_flight,
        have_responded,
        their_capabilities,
        read_only,
        peer_read_only,
        needs_reset,
    } = a;
    *shared_heads == b.shared_heads
        && *last_sent_heads == b.last_sent_heads
        && *their_heads == b.their_heads
        && *their_need == b.their_need
        && *their_have == b.their_have
        && *in_flight == b.in_flight
        && *have_responded == b.have_responded
        && *their_capabilities == b.their_capabilities
        && *read_only == b.read_only
        && *peer_read_only == b.peer_read_only
        && *needs_reset == b.needs_reset
}

#[cfg(test)]
pub(super) mod tests {
    use automerge::transaction::Transactable;
    use automerge::ROOT;
    use proptest::prelude::*;

    use super::*;

    /// A step of a random history between the server's document and
    /// three peers.
    #[derive(Debug, Clone)]
    pub(in crate::store) enum Step {
        /// The server's document changes.
        ServerEdits(u8),
        /// A peer changes its own copy.
        PeerEdits(usize, u8),
        /// The server sends a peer its next message, and the peer takes it
        /// (or the message is lost on the way).
        ServerSends { peer: usize, delivered: bool },
        /// A peer sends the server its next message.
        PeerSends(usize),
        /// Broadcast to every peer at once, the way the server fans out.
        Broadcast { delivered: [bool; 3] },
    }

    pub(in crate::store) fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            any::<u8>().prop_map(Step::ServerEdits),
            (0..3usize, any::<u8>()).prop_map(|(p, v)| Step::PeerEdits(p, v)),
            (0..3usize, any::<bool>()).prop_map(|(peer, delivered)| Step::ServerSends { peer, delivered }),
            (0..3usize).prop_map(Step::PeerSends),
            any::<[bool; 3]>().prop_map(|delivered| Step::Broadcast { delivered }),
        ]
    }

    pub(in crate::store) fn edit(doc: &mut AutoCommit, value: u8) {
        let key = format!("k{}", value % 5);
        doc.put(ROOT, key, i64::from(value)).unwrap();
        doc.commit();
    }

    /// A server's document, three peers' copies, and both sides' sync
    /// states, as a random history leaves them.
    pub(in crate::store) struct History {
        pub server: AutoCommit,
        pub peers: Vec<AutoCommit>,
        /// The server's state with each peer, and each peer's with the server.
        pub to_peer: Vec<sync::State>,
        pub from_peer: Vec<sync::State>,
    }

    impl History {
        pub(in crate::store) fn new() -> Self {
            Self {
                server: AutoCommit::new(),
                peers: (0..3).map(|_| AutoCommit::new()).collect(),
                to_peer: vec![sync::State::new(); 3],
                from_peer: vec![sync::State::new(); 3],
            }
        }

        /// Take a step; a broadcast is the caller's, and comes back (which
        /// peers its messages reach).
        pub(in crate::store) fn take(&mut self, step: Step) -> Option<[bool; 3]> {
            match step {
                Step::ServerEdits(v) => edit(&mut self.server, v),
                Step::PeerEdits(p, v) => edit(&mut self.peers[p], v),
                Step::ServerSends { peer, delivered } => {
                    let message = self.server.sync().generate_sync_message(&mut self.to_peer[peer]);
                    if let Some(m) = message
                        && delivered
                    {
                        self.deliver(peer, m);
                    }
                }
                Step::PeerSends(p) => {
                    if let Some(m) = self.peers[p].sync().generate_sync_message(&mut self.from_peer[p]) {
                        self.server.sync().receive_sync_message(&mut self.to_peer[p], m).unwrap();
                    }
                }
                Step::Broadcast { delivered } => return Some(delivered),
            }
            None
        }

        /// A message of the server's reaches peer `p`.
        pub(in crate::store) fn deliver(&mut self, p: usize, m: sync::Message) {
            self.peers[p].sync().receive_sync_message(&mut self.from_peer[p], m).unwrap();
        }
    }

    proptest! {
        /// Whatever the peers' states, the broadcast gives each peer the
        /// message, and leaves it the state, that Automerge alone would.
        #[test]
        fn a_broadcast_gives_each_peer_what_automerge_would(steps in prop::collection::vec(step(), 1..40)) {
            let mut history = History::new();
            for step in steps {
                let Some(delivered) = history.take(step) else { continue };
                let mut alone = history.to_peer.clone();
                let expected: Vec<_> = alone
                    .iter_mut()
                    .map(|s| history.server.sync().generate_sync_message(s).map(sync::Message::encode))
                    .collect();
                let mut broadcast = Broadcast::default();
                let History { server, to_peer, .. } = &mut history;
                let got: Vec<_> = to_peer.iter_mut().map(|s| broadcast.message(server, s)).collect();
                prop_assert_eq!(&got, &expected);
                prop_assert_eq!(&history.to_peer, &alone);
                for (p, message) in got.into_iter().enumerate() {
                    if let Some(m) = message
                        && delivered[p]
                    {
                        history.deliver(p, sync::Message::decode(&m).unwrap());
                    }
                }
            }
            let History { mut server, mut peers, mut to_peer, mut from_peer } = history;
            // Then ten rounds of reconnect-free exchange, twice from here:
            // by one broadcast kept throughout (the server's document
            // changing between its messages, so it must make them again),
            // and by Automerge alone. Every replica ends the same in both.
            let mut twin = (server.clone(), peers.clone(), to_peer.clone(), from_peer.clone());
            let mut broadcast = Broadcast::default();
            for _ in 0..10 {
                for p in 0..3 {
                    if let Some(m) = broadcast.message(&mut server, &mut to_peer[p]) {
                        peers[p].sync().receive_sync_message(&mut from_peer[p], sync::Message::decode(&m).unwrap()).unwrap();
                    }
                    if let Some(m) = peers[p].sync().generate_sync_message(&mut from_peer[p]) {
                        server.sync().receive_sync_message(&mut to_peer[p], m).unwrap();
                    }
                    let (server, peers, to_peer, from_peer) = &mut twin;
                    if let Some(m) = server.sync().generate_sync_message(&mut to_peer[p]) {
                        peers[p].sync().receive_sync_message(&mut from_peer[p], m).unwrap();
                    }
                    if let Some(m) = peers[p].sync().generate_sync_message(&mut from_peer[p]) {
                        server.sync().receive_sync_message(&mut to_peer[p], m).unwrap();
                    }
                }
            }
            prop_assert_eq!(server.get_heads(), twin.0.get_heads());
            for (peer, alone) in peers.iter_mut().zip(&mut twin.1) {
                prop_assert_eq!(peer.get_heads(), alone.get_heads());
            }
            prop_assert_eq!(&to_peer, &twin.2);
        }
    }

    /// Peers in step share one message: the change is built once.
    #[test]
    fn peers_in_step_share_one_message() {
        let mut server = AutoCommit::new();
        edit(&mut server, 1);
        let mut peers: Vec<AutoCommit> = (0..3).map(|_| server.fork()).collect();
        let mut states: Vec<sync::State> = Vec::new();
        for peer in &mut peers {
            let (mut ours, mut theirs) = (sync::State::new(), sync::State::new());
            for _ in 0..5 {
                if let Some(m) = server.sync().generate_sync_message(&mut ours) {
                    peer.sync().receive_sync_message(&mut theirs, m).unwrap();
                }
                if let Some(m) = peer.sync().generate_sync_message(&mut theirs) {
                    server.sync().receive_sync_message(&mut ours, m).unwrap();
                }
            }
            states.push(ours);
        }
        edit(&mut server, 2);
        let mut broadcast = Broadcast::default();
        let messages: Vec<_> = states.iter_mut().map(|s| broadcast.message(&mut server, s)).collect();
        assert_eq!(broadcast.made.len(), 1, "one message made for three peers in step");
        assert!(messages.iter().all(|m| m.is_some() && m == &messages[0]));
    }
}
