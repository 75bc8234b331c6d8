//! What it costs a server's store when many devices' sessions end at once
//! (a building's Wi-Fi drops, and every device leaves and comes back):
//! 200 devices each hold a sync state for 750 documents, 150,000 states in
//! memory, the most a store keeps, and every session ends.
//!
//!     cargo run --release -p lodge-core --example session_end
//!
//! Each end runs with the site's store held, so every other device of the
//! site waits for it.

use std::sync::Arc;
use std::time::Instant;

use lodge_core::{DocId, ManualClock, Store, Timestamp, VisitId};

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Timestamp::from_millis(1_767_600_000_000));
    let mut store = Store::open(dir.path().join("server.sqlite"), Arc::new(clock)).unwrap();
    let docs: Vec<DocId> = (0..750).map(|_| DocId::visit(VisitId::new())).collect();
    let peers: Vec<String> = (0..200).map(|i| format!("device-{i}")).collect();
    for peer in &peers {
        for doc in &docs {
            // Brings the session's state for (peer, doc) into memory.
            store.generate_sync_message(peer, doc).unwrap();
        }
    }
    let started = Instant::now();
    for peer in &peers {
        store.end_sync_session(peer);
    }
    let took = started.elapsed();
    println!("{} session ends over {} states: {took:.1?} ({:.2?} each)", peers.len(), peers.len() * docs.len(), took / peers.len() as u32);
}
