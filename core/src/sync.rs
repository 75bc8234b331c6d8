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
mod protocol;
pub mod tls;

pub use access::{Access, may_read, may_write};
pub use admin::{AdminError, EnrolmentCode, SiteDevice};
pub use tls::{TlsError, trust_certificates};
pub use enrol::{EnrolError, Enrolment, enrol};
pub use client::{ClientError, ClientOptions, Connection, Heartbeat, SERVER_PEER, SyncHandle, SyncStatus, spawn, spawn_with};
pub use protocol::{ClientMessage, DocMessage, FrameError, MAX_FRAME_BYTES, PROTOCOL_VERSION, ServerMessage, SyncErrorKind};
