//! A frame from an enrolled device as the server handles it: decoded, each
//! sync message checked before Automerge sees it, applied to a store that
//! holds a document of every kind, and judged by the write rules of a
//! reception desk, a kiosk or a worker's phone. Nothing may panic or take
//! more memory than the run's limit.
#![no_main]

use std::sync::{LazyLock, Mutex};

use libfuzzer_sys::fuzz_target;
use lodge_core::sync::{ClientMessage, MAX_FRAME_DOCS, Writer, judge};
use lodge_core::{DeviceId, PersonId, Role};

mod seed_store;

static STORE: LazyLock<Mutex<seed_store::Seeded>> = LazyLock::new(|| Mutex::new(seed_store::Seeded::open()));

fuzz_target!(|data: &[u8]| {
    let Ok(ClientMessage::Sync { docs }) = ClientMessage::decode(data) else { return };
    if docs.len() > MAX_FRAME_DOCS {
        return;
    }
    let mut seeded = STORE.lock().unwrap();
    let site = seeded.site;
    let role = [Role::Reception, Role::Kiosk, Role::Worker][data.len() % 3];
    let actor = seeded.store.actor_id().to_hex_string();
    let writer = Writer { role, device: DeviceId::new(), person: Some(PersonId::new()), site, actor: &actor };
    let batch: Vec<_> = docs.into_iter().map(|d| (d.doc, d.message)).collect();
    let accept = |doc: &lodge_core::DocId, incoming: &lodge_core::Incoming<'_>| judge(&writer, doc, incoming);
    seeded.store.receive_sync_messages_checked("device", &batch, &accept).expect("the store itself does not fail");
});
