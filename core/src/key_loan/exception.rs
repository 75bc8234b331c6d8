//! Loan exceptions: a grant that lets one customer hold up to `max_keys`
//! keys of a type until it expires or is revoked.

use autosurgeon::{Hydrate, Reconcile};
use rusqlite::{Connection, params};

use crate::conflict::Affected;
use crate::document::{DocId, DocKind, Header, Model};
use crate::ids::{ExceptionId, KeyTypeId, PersonId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct ExceptionDoc {
    pub header: Header,
    pub id: ExceptionId,
    pub customer: PersonId,
    pub key_type: KeyTypeId,
    pub max_keys: u32,
    pub expires_at: Timestamp,
    pub granted_by: String,
    pub granted_at: Timestamp,
    pub revoked: Option<Revocation>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct Revocation {
    pub at: Timestamp,
    pub by: String,
}

/// How many keys of `key_type` the customer may hold at time `at`: one, or
/// more while an unexpired, unrevoked exception allows it.
pub(crate) fn allowance(conn: &Connection, customer: PersonId, key_type: &KeyTypeId, at: Timestamp) -> rusqlite::Result<u32> {
    let extra: Option<u32> = conn
        .prepare_cached(
            "SELECT max(max_keys) FROM loan_exceptions WHERE customer = ?1 AND type_id = ?2 AND revoked = 0 AND expires_at > ?3",
        )?
        .query_row(params![customer, key_type, at], |r| r.get(0))?;
    Ok(extra.unwrap_or(1).max(1))
}

pub(crate) fn clear_projection(id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
    let row: Option<(PersonId, KeyTypeId)> = conn
        .prepare_cached("SELECT customer, type_id FROM loan_exceptions WHERE doc_id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .ok();
    if let Some(limit) = row {
        affected.limits.insert(limit);
    }
    conn.prepare_cached("DELETE FROM loan_exceptions WHERE doc_id = ?1")?.execute([id])?;
    Ok(())
}

impl Model for ExceptionDoc {
    const KIND: DocKind = DocKind::LoanException;

    fn header(&self) -> &Header {
        &self.header
    }

    fn project(&self, id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
        clear_projection(id, conn, affected)?;
        conn.prepare_cached(
            "INSERT OR REPLACE INTO loan_exceptions (exception_id, doc_id, customer, type_id, max_keys, expires_at, revoked)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![self.id, id, self.customer, self.key_type, self.max_keys, self.expires_at, self.revoked.is_some()])?;
        affected.limits.insert((self.customer, self.key_type.clone()));
        Ok(())
    }
}
