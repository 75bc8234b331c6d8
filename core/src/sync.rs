//! Sync with the `lodge-sync` server: the wire protocol both sides speak,
//! the access rules the server enforces, and the device's sync client.
//!
//! Documents travel as plain `automerge::sync` messages, several documents'
//! messages batched into one binary frame (CBOR, with a protocol version).
//! The server numbers every change of a document's heads with a per-site
//! sequence, so a device that reconnects asks only for what changed since
//! the last number it saw.

mod access;
pub mod admin;
mod client;
mod enrol;
pub(crate) mod incoming;
mod protocol;
mod refusal;
pub mod tls;
mod write_rules;

pub use access::{Access, may_purge, may_purge_unseen, may_read, may_write};
pub use incoming::{DEVICE_LIMITS, MAX_INFLATED_FRAME, MessageLimits, SERVER_LIMITS, check_message, check_saved};
pub use refusal::{Counted, Measured, Refusal};
pub use write_rules::{Known, MAX_FIELD_BYTES, MAX_LIST_ITEMS, Writer, judge};
pub use admin::{AdminError, EnrolmentCode, SiteDevice};
pub use tls::{TlsError, trust_certificates};
pub use enrol::{EnrolError, Enrolment, enrol};
pub use client::{ClientError, Connection, SERVER_PEER, SyncHandle, SyncStatus, spawn};
pub use protocol::{
    ClientMessage, DocMessage, FrameError, MAX_FRAME_BYTES, MAX_FRAME_DOCS, MAX_HELLO_BYTES, MAX_HELLO_PENDING, PROTOCOL_VERSION, ServerMessage, SyncErrorKind,
};
