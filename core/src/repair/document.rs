//! The repair ticket document and its projection.

use autosurgeon::{Hydrate, Reconcile};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::conflict::Affected;
use crate::document::{DocId, DocKind, Header, Model};
use crate::ids::{EventId, ItemId, PersonId, TicketId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct RepairDoc {
    pub header: Header,
    pub id: TicketId,
    pub item: ItemId,
    pub category: String,
    pub opened_by: Option<PersonId>,
    pub opened_by_tag: String,
    pub opened_at: Timestamp,
    pub notes: Vec<Note>,
    pub states: Vec<StateChange>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct Note {
    #[key]
    pub id: EventId,
    pub at: Timestamp,
    pub by: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct StateChange {
    #[key]
    pub id: EventId,
    pub at: Timestamp,
    pub by: String,
    pub state: RepairState,
}

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum RepairState {
    /// Reported, not yet looked at.
    New,
    /// Being worked on; the item is in the workshop.
    InProgress,
    /// Waiting (for parts…); the item stays in the workshop.
    Stalled,
    /// Done.
    Resolved,
}

impl RepairState {
    /// The state's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RepairState::New => "new",
            RepairState::InProgress => "in-progress",
            RepairState::Stalled => "stalled",
            RepairState::Resolved => "resolved",
        }
    }

    /// The state from its stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [RepairState::New, RepairState::InProgress, RepairState::Stalled, RepairState::Resolved].into_iter().find(|r| r.as_str() == s)
    }
}

impl RepairDoc {
    /// The latest state change by (time, list position), or `New`.
    pub(crate) fn state(&self) -> RepairState {
        // The last of equal times in list order (the same on every replica) wins.
        self.states.iter().max_by_key(|s| s.at).map(|s| s.state).unwrap_or(RepairState::New)
    }

    fn updated_at(&self) -> Timestamp {
        let notes = self.notes.iter().map(|n| n.at);
        let states = self.states.iter().map(|s| s.at);
        notes.chain(states).max().unwrap_or(self.opened_at).max(self.opened_at)
    }
}

impl Model for RepairDoc {
    const KIND: DocKind = DocKind::Repair;

    fn header(&self) -> &Header {
        &self.header
    }

    fn project(&self, id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
        super::clear_projection(id, conn, affected)?;
        // A ticket entering or leaving the workshop may make or mend a
        // conflict with whoever holds the item.
        affected.items.insert(self.item);
        let first_note = self.notes.iter().min_by_key(|n| n.at).map(|n| n.text.clone()).unwrap_or_default();
        conn.prepare_cached(
            "INSERT OR REPLACE INTO repairs (ticket_id, doc_id, item_id, category, state, opened_by, opened_at, updated_at, notes, summary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            self.id,
            id,
            self.item,
            self.category,
            self.state().as_str(),
            self.opened_by.map(|p| p.to_string()).unwrap_or_else(|| self.opened_by_tag.clone()),
            self.opened_at,
            self.updated_at(),
            self.notes.len() as i64,
            first_note
        ])?;
        let mut log = conn.prepare_cached(
            "INSERT OR REPLACE INTO repair_log (ticket_id, entry_id, doc_id, at, by, note, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for n in &self.notes {
            log.execute(params![self.id, n.id, id, n.at, n.by, n.text, Option::<String>::None])?;
        }
        for s in &self.states {
            log.execute(params![self.id, s.id, id, s.at, s.by, Option::<String>::None, s.state.as_str()])?;
        }
        Ok(())
    }
}
