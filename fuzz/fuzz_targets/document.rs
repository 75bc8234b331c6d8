//! Saved document bytes (a backup, a fixture) imported into a store: damaged
//! or hostile bytes are refused, never a panic or a runaway allocation.
#![no_main]

use std::sync::{LazyLock, Mutex};

use libfuzzer_sys::fuzz_target;

mod seed_store;

static STORE: LazyLock<Mutex<seed_store::Seeded>> = LazyLock::new(|| Mutex::new(seed_store::Seeded::open()));

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let mut seeded = STORE.lock().unwrap();
    let doc = seeded.pick(pick);
    let _ = seeded.store.import_document(&doc, bytes);
});
