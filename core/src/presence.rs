//! Presence: staff and workers sign in and out of the building. One document
//! per person and month holds their events; every device may create that
//! document on its own (its first change is the same everywhere). Who is in
//! now is derived from the latest events across months.

mod commands;
mod document;
mod error;
mod queries;

pub(crate) use document::{PresenceChange, PresenceDoc, PresenceRows, shared_creation_hash};
pub use error::Error;
pub use queries::{PresenceEntry, PresentPerson, SignOutReceipt};
pub(crate) use queries::people_in;

pub(crate) use document::clear_projection;
