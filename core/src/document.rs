//! Documents: the unit of sync, conflict, access and deletion.
//!
//! Every document starts with an immutable [`Header`] (kind, site, schema
//! version, owner). A [`DocId`] names a document the same way on every device
//! and on the server. Each kind of document is a Rust type that implements
//! [`Model`]: mapped to Automerge with `autosurgeon`, and projected into SQL.

mod header;
mod id;
mod model;
mod reader;

pub use header::{DocKind, Header, SCHEMA_VERSION};
pub use id::DocId;
pub(crate) use model::Model;
pub(crate) use reader::hydrate;
