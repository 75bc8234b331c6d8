//! The trait that ties a Rust document type to its kind and its projection.

use autosurgeon::{Hydrate, Reconcile};
use rusqlite::Connection;

use super::{DocId, DocKind, Header};
use crate::conflict::Affected;

/// A kind of document: mapped to Automerge by `autosurgeon`, projected to SQL.
pub(crate) trait Model: Hydrate + Reconcile + Sized {
    /// The kind every document of this type has.
    const KIND: DocKind;

    /// The document's immutable header.
    fn header(&self) -> &Header;

    /// Rewrite this document's rows in the projection tables (deleting the
    /// old ones first), noting which resources' invariants must be checked.
    fn project(&self, id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()>;
}
