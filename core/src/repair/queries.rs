//! Reading tickets from the projections.

use rusqlite::{OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::RepairState;
use crate::ids::{ItemId, PersonId, TicketId};
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// A ticket as the repair board shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Ticket {
    /// Id.
    pub id: TicketId,
    /// The item.
    pub item: ItemId,
    /// Its asset number.
    pub asset_number: String,
    /// Its name.
    pub item_name: String,
    /// Category id.
    pub category: String,
    /// Where it stands.
    pub state: RepairState,
    /// Who opened it (person id or actor tag).
    pub opened_by: String,
    /// Their name, as a screen shows it.
    pub opened_by_name: String,
    /// When.
    pub opened_at: Timestamp,
    /// Last note or state change.
    pub updated_at: Timestamp,
    /// How many notes.
    pub notes: u32,
    /// The first note.
    pub summary: String,
}

/// A note or a state change, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RepairLogEntry {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// A note's text.
    pub note: Option<String>,
    /// A state change's new state.
    pub state: Option<RepairState>,
}

const TICKET_SELECT: &str = "SELECT r.ticket_id, r.item_id, coalesce(e.asset_number, ''), coalesce(e.name, ''), r.category, r.state, r.opened_by, r.opened_at, r.updated_at, r.notes, r.summary, p.name
     FROM repairs r LEFT JOIN equipment e ON e.item_id = r.item_id LEFT JOIN people p ON p.person_id = r.opened_by";

fn ticket_row(r: &Row<'_>) -> rusqlite::Result<Ticket> {
    let state: String = r.get(5)?;
    Ok(Ticket {
        id: r.get(0)?,
        item: r.get(1)?,
        asset_number: r.get(2)?,
        item_name: r.get(3)?,
        category: r.get(4)?,
        state: RepairState::parse(&state).unwrap_or(RepairState::New),
        opened_by: r.get(6)?,
        opened_at: r.get(7)?,
        updated_at: r.get(8)?,
        notes: r.get(9)?,
        summary: r.get(10)?,
        opened_by_name: match r.get::<_, Option<String>>(11)? {
            Some(name) => name,
            // Not a person here: an actor's tag, said by its name.
            None => crate::actor::Actor::name_in_tag(&r.get::<_, String>(6)?).to_owned(),
        },
    })
}

impl Store {
    /// Tickets not yet resolved, oldest first.
    pub fn open_repairs(&self) -> Result<Vec<Ticket>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{TICKET_SELECT} WHERE r.state != 'resolved' ORDER BY r.opened_at, r.ticket_id"))?;
        let rows = stmt.query_map([], ticket_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Tickets in one state, most recently updated first.
    pub fn repairs_in_state(&self, state: RepairState) -> Result<Vec<Ticket>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{TICKET_SELECT} WHERE r.state = ?1 ORDER BY r.updated_at DESC, r.ticket_id"))?;
        let rows = stmt.query_map([state.as_str()], ticket_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Tickets a person opened, newest first.
    pub fn tickets_opened_by(&self, person: PersonId) -> Result<Vec<Ticket>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{TICKET_SELECT} WHERE r.opened_by = ?1 ORDER BY r.opened_at DESC, r.ticket_id"))?;
        let rows = stmt.query_map([person.to_string()], ticket_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One ticket.
    pub fn ticket(&self, id: TicketId) -> Result<Option<Ticket>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{TICKET_SELECT} WHERE r.ticket_id = ?1"))?;
        Ok(stmt.query_row([id], ticket_row).optional()?)
    }

    /// A ticket's notes and state changes, in time order.
    pub fn repair_log(&self, id: TicketId) -> Result<Vec<RepairLogEntry>, Error> {
        let mut stmt = self.conn().prepare_cached("SELECT at, by, note, state FROM repair_log WHERE ticket_id = ?1 ORDER BY at, entry_id")?;
        let rows = stmt.query_map([id], |r| {
            let state: Option<String> = r.get(3)?;
            let by: String = r.get(1)?;
            let by = crate::actor::Actor::name_in_tag(&by).to_owned();
            Ok(RepairLogEntry { at: r.get(0)?, by, note: r.get(2)?, state: state.as_deref().and_then(RepairState::parse) })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
