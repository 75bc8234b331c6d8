//! Sync with the `lodge-sync` server: the wire protocol both sides speak,
//! the access rules the server enforces, and the device's sync client.
//!
//! Documents travel as plain `automerge::sync` messages, several documents'
//! messages batched into one binary frame (CBOR, with a protocol version).
//! The server numbers every change of a document's heads with a per-site
//! sequence, so a device that reconnects asks only for what changed since
//! the last number it saw.

mod access;
pub mod api;
#[cfg(feature = "client")]
pub mod admin;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
mod enrol;
pub(crate) mod incoming;
mod protocol;
mod refusal;
#[cfg(feature = "client")]
pub mod tls;
mod write_rules;

pub use access::{Access, may_purge, may_purge_unseen, may_read, may_write};
pub use incoming::{DEVICE_LIMITS, MAX_INFLATED_FRAME, MessageLimits, SERVER_LIMITS, check_message, check_saved};
pub use refusal::{Counted, Measured, Refusal};
pub use write_rules::{MAX_FIELD_BYTES, MAX_LIST_ITEMS, Writer, judge};
#[cfg(feature = "client")]
pub use admin::AdminError;
pub use api::{ApiErrorKind, EnrolmentCode, SiteDevice};
#[cfg(feature = "client")]
pub use tls::{TlsError, trust_certificates};
#[cfg(feature = "client")]
pub use enrol::{EnrolError, Enrolment, enrol, enrol_by_invite, enrol_by_sign_in_code};
#[cfg(feature = "client")]
pub use client::{ClientError, ClientOptions, Connection, Heartbeat, SERVER_PEER, SyncHandle, SyncStatus, spawn, spawn_with};
pub use protocol::{
    ClientMessage, DocMessage, FrameError, MAX_APP_CHARS, MAX_FRAME_BYTES, MAX_FRAME_DOCS, MAX_HELLO_BYTES, MAX_HELLO_PENDING, PROTOCOL_VERSION, ServerMessage, SyncErrorKind,
};
