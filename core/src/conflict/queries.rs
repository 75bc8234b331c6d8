//! Listing open conflicts for the people who resolve them.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::ConflictKind;
use crate::store::{Error, Store};

/// One broken invariant with its provisional winner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Conflict {
    /// Stable id (`card:105`, `key:…`, `limit:…`, `presence:…`, `visit:…`).
    pub id: String,
    /// What is broken.
    pub kind: ConflictKind,
    /// The resource (card number, key id, …).
    pub subject: String,
    /// Every party (visit, loan or event ids), winner first.
    pub parties: Vec<String>,
    /// The provisional winner(s), the same on every replica.
    pub winner: String,
    /// What happened and how to fix it, in words.
    pub summary: String,
}

impl Store {
    /// Every open conflict, by id.
    pub fn conflicts(&self) -> Result<Vec<Conflict>, Error> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT conflict_id, kind, subject, parties, winner, summary FROM conflicts ORDER BY conflict_id")?;
        let rows = stmt.query_map([], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One conflict by id.
    pub fn conflict(&self, id: &str) -> Result<Option<Conflict>, Error> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT conflict_id, kind, subject, parties, winner, summary FROM conflicts WHERE conflict_id = ?1")?;
        Ok(stmt.query_row([id], row).optional()?)
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Conflict> {
    let kind: String = r.get(1)?;
    let parties: String = r.get(3)?;
    Ok(Conflict {
        id: r.get(0)?,
        kind: ConflictKind::parse(&kind).ok_or_else(|| rusqlite::Error::InvalidColumnType(1, kind.clone(), rusqlite::types::Type::Text))?,
        subject: r.get(2)?,
        parties: parties.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        winner: r.get(4)?,
        summary: r.get(5)?,
    })
}
