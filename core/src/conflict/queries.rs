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

/// One side of a conflict the desk can choose to keep: the visit, loan or
/// sign-in, whose it is and when it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConflictChoice {
    /// The party's id (a visit, loan or sign-in event).
    pub party: String,
    /// Whose it is: the guest, the borrower or the person signed in.
    pub name: String,
    /// When it happened: admitted, lent or signed in.
    pub at: crate::time::Timestamp,
}

impl Store {
    /// The sides of a conflict that one is kept of, in the conflict's order
    /// (the provisional winner first): the visits holding a card, the loans
    /// of a key, the sign-ins of a person. Empty for a conflict fixed another
    /// way (a key over the limit, an item taken in the workshop).
    pub fn conflict_choices(&self, conflict: &Conflict) -> Result<Vec<ConflictChoice>, Error> {
        let sql = match conflict.kind {
            ConflictKind::CardOnTwoVisits => "SELECT guest_name, admitted_at FROM visits WHERE visit_id = ?1",
            ConflictKind::KeyLentTwice => {
                "SELECT coalesce(p.name, l.customer), l.out_at FROM loans l LEFT JOIN people p ON p.person_id = l.customer WHERE l.loan_id = ?1"
            }
            ConflictKind::SignedInTwice => {
                "SELECT coalesce(p.name, e.person_id), e.at FROM presence_events e LEFT JOIN people p ON p.person_id = e.person_id WHERE e.event_id = ?1"
            }
            ConflictKind::VisitAdmittedTwice | ConflictKind::OverKeyLimit | ConflictKind::TakenInWorkshop => return Ok(Vec::new()),
        };
        let mut stmt = self.conn().prepare_cached(sql)?;
        let mut choices = Vec::new();
        for party in &conflict.parties {
            if let Some((name, at)) = stmt.query_row([party], |r| Ok((r.get(0)?, r.get(1)?))).optional()? {
                choices.push(ConflictChoice { party: party.clone(), name, at });
            }
        }
        Ok(choices)
    }

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
