//! A frame as either side decodes it: never a panic, and what decodes
//! encodes back to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lodge_core::sync::{ClientMessage, ServerMessage};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = ClientMessage::decode(data) {
        assert_eq!(ClientMessage::decode(&m.encode()).expect("a decoded frame encodes"), m);
    }
    if let Ok(m) = ServerMessage::decode(data) {
        assert_eq!(ServerMessage::decode(&m.encode()).expect("a decoded frame encodes"), m);
    }
});
