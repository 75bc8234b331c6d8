//! A sync message from the server as a device handles it (trusted, but
//! held to bounds): the first byte picks a document the device holds (or
//! one it does not), the rest is the message.
#![no_main]

use std::sync::{LazyLock, Mutex};

use libfuzzer_sys::fuzz_target;

mod seed_store;

static STORE: LazyLock<Mutex<seed_store::Seeded>> = LazyLock::new(|| Mutex::new(seed_store::Seeded::open()));

fuzz_target!(|data: &[u8]| {
    let Some((&pick, message)) = data.split_first() else { return };
    let mut seeded = STORE.lock().unwrap();
    let doc = seeded.pick(pick);
    seeded
        .store
        .receive_sync_frame("server", &[(doc, message.to_vec())], None, Some(("feed_seq", 1)))
        .expect("the store itself does not fail");
});
