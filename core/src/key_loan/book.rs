//! A key's loan book: the loans of one key that began in one month.
//!
//! A key lent every day for years would otherwise hold thousands of loans
//! in one document, read and projected whole by every command on it. A
//! command now reads only the books that hold the key's open loans, and a
//! new loan goes to the book of its month. Desks create a month's book on
//! their own, offline too, with the same first change, so that two books
//! of one key and month merge as one and a key lent twice offline is still
//! seen as a conflict.

use autosurgeon::{Hydrate, Reconcile};
use rusqlite::{Connection, OptionalExtension};

use super::document::{LoanRecord, clear_projection, project_loans};
use crate::conflict::Affected;
use crate::document::{DocId, DocKind, Header, Model};
use crate::ids::{KeyId, KeyTypeId, SiteId};

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct LoanBook {
    pub header: Header,
    pub key: KeyId,
    /// `YYYY-MM` (UTC) when its loans began.
    pub month: String,
    pub loans: Vec<LoanRecord>,
}

impl LoanBook {
    /// A key's month before any loan in it: what every desk that creates it
    /// writes, as the shared first change.
    pub(crate) fn empty(site: SiteId, key: KeyId, month: &str) -> Self {
        Self { header: Header::new(DocKind::LoanBook, site, None), key, month: month.to_owned(), loans: Vec::new() }
    }
}

/// The hash of the one change any desk may write to a loan book under the
/// shared actor: its empty creation. `None` when the id is not a book's.
pub(crate) fn shared_creation_hash(id: &DocId, site: SiteId) -> Option<automerge::ChangeHash> {
    let rest = id.as_str().strip_prefix("loan-book:")?;
    let (key, month) = rest.split_once(':')?;
    let key = KeyId::parse(key).ok()?;
    let mut doc = crate::store::shared_first_change(id, &LoanBook::empty(site, key, month)).ok()?;
    doc.get_heads().first().copied()
}

impl Model for LoanBook {
    const KIND: DocKind = DocKind::LoanBook;

    fn header(&self) -> &Header {
        &self.header
    }

    fn project(&self, id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
        clear_projection(id, conn, affected)?;
        affected.keys.insert(self.key);
        // The type is the key's. A book may arrive before its key does: its
        // loans then wait with no type, and the key's projection gives it
        // to them.
        let key_type: Option<KeyTypeId> =
            conn.prepare_cached("SELECT type_id FROM keys WHERE key_id = ?1")?.query_row([self.key], |r| r.get(0)).optional()?;
        project_loans(id, self.key, key_type.as_ref(), &self.loans, conn, affected)
    }
}
