//! Reading equipment from the projections: who holds what, what is free,
//! an item by its code, its custody history, and flagged custody.

use rusqlite::{OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::CustodyOutcome;
use crate::ids::{ItemId, PersonId};
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// The state of the repair ticket that keeps an item in the workshop (in
/// progress or stalled), as stored (`in-progress`), if any.
pub(crate) fn workshop_state(conn: &rusqlite::Connection, item: ItemId) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT state FROM repairs WHERE item_id = ?1 AND state IN ('in-progress', 'stalled') ORDER BY opened_at LIMIT 1")?
        .query_row([item], |r| r.get(0))
        .optional()
}

impl Store {
    /// Whether an item is in the workshop (a ticket in progress or
    /// stalled): it cannot be taken.
    pub fn in_workshop(&self, item: ItemId) -> Result<bool, Error> {
        Ok(workshop_state(self.conn(), item)?.is_some())
    }
}

/// An item and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Item {
    /// Id.
    pub id: ItemId,
    /// Inventory number.
    pub asset_number: String,
    /// Printed code.
    pub activation_code: String,
    /// Name.
    pub name: String,
    /// Type.
    pub item_type: String,
    /// `false` once retired.
    pub active: bool,
    /// Who holds it.
    pub holder: Option<PersonId>,
    /// Their name.
    pub holder_name: Option<String>,
    /// Since when.
    pub held_since: Option<Timestamp>,
    /// The state of an open repair ticket, if any.
    pub repair_state: Option<String>,
}

/// One stretch of custody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CustodyPeriod {
    /// The item.
    pub item: ItemId,
    /// Its asset number.
    pub asset_number: String,
    /// Who had it.
    pub holder: PersonId,
    /// Their name (the id where the person is not on this device).
    pub holder_name: String,
    /// Taken at.
    pub taken_at: Timestamp,
    /// Ended at.
    pub ended_at: Option<Timestamp>,
    /// How it ended.
    pub outcome: CustodyOutcome,
    /// Closed by someone else's scan: worth a look.
    pub flagged: bool,
}

const ITEM_SELECT: &str = "SELECT e.item_id, e.asset_number, e.activation_code, e.name, e.item_type, e.active, e.holder, p.name, e.held_since,
        (SELECT state FROM repairs r WHERE r.item_id = e.item_id AND r.state != 'resolved' ORDER BY r.opened_at LIMIT 1)
     FROM equipment e LEFT JOIN people p ON p.person_id = e.holder";

fn item_row(r: &Row<'_>) -> rusqlite::Result<Item> {
    Ok(Item {
        id: r.get(0)?,
        asset_number: r.get(1)?,
        activation_code: r.get(2)?,
        name: r.get(3)?,
        item_type: r.get(4)?,
        active: r.get(5)?,
        holder: r.get(6)?,
        holder_name: r.get(7)?,
        held_since: r.get(8)?,
        repair_state: r.get(9)?,
    })
}

const PERIOD_SELECT: &str = "SELECT c.item_id, e.asset_number, c.holder, c.taken_at, c.ended_at, c.outcome, c.flagged, coalesce(p.name, c.holder)
     FROM custody c JOIN equipment e ON e.item_id = c.item_id LEFT JOIN people p ON p.person_id = c.holder";

fn period_row(r: &Row<'_>) -> rusqlite::Result<CustodyPeriod> {
    let outcome: String = r.get(5)?;
    Ok(CustodyPeriod {
        item: r.get(0)?,
        asset_number: r.get(1)?,
        holder: r.get(2)?,
        taken_at: r.get(3)?,
        ended_at: r.get(4)?,
        outcome: match outcome.as_str() {
            "held" => CustodyOutcome::Held,
            "returned" => CustodyOutcome::Returned,
            _ => CustodyOutcome::ReturnedUnscanned,
        },
        flagged: r.get(6)?,
        holder_name: r.get(7)?,
    })
}

impl Store {
    /// Items held by someone now, by holder then asset number.
    pub fn equipment_held(&self) -> Result<Vec<Item>, Error> {
        let mut stmt =
            self.conn().prepare_cached(&format!("{ITEM_SELECT} WHERE e.holder IS NOT NULL ORDER BY p.name, e.asset_number"))?;
        let rows = stmt.query_map([], item_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Items a person holds now.
    pub fn equipment_held_by(&self, person: PersonId) -> Result<Vec<Item>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{ITEM_SELECT} WHERE e.holder = ?1 ORDER BY e.held_since, e.asset_number"))?;
        let rows = stmt.query_map([person], item_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Active items nobody holds, by asset number.
    pub fn free_equipment(&self) -> Result<Vec<Item>, Error> {
        let mut stmt =
            self.conn().prepare_cached(&format!("{ITEM_SELECT} WHERE e.holder IS NULL AND e.active = 1 ORDER BY e.asset_number"))?;
        let rows = stmt.query_map([], item_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The item with this printed code: what a scan shows before Take/Return.
    pub fn item_by_code(&self, code: &str) -> Result<Option<Item>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "{ITEM_SELECT} WHERE e.activation_code = ?1 ORDER BY e.active DESC, e.item_id LIMIT 1"
        ))?;
        Ok(stmt.query_row([code.trim()], item_row).optional()?)
    }

    /// An item's custody, newest first.
    pub fn custody_history(&self, item: ItemId) -> Result<Vec<CustodyPeriod>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{PERIOD_SELECT} WHERE c.item_id = ?1 ORDER BY c.seq DESC"))?;
        let rows = stmt.query_map([item], period_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every item a person held, newest first.
    pub fn custody_of(&self, holder: PersonId) -> Result<Vec<CustodyPeriod>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{PERIOD_SELECT} WHERE c.holder = ?1 ORDER BY c.taken_at DESC, c.seq DESC"))?;
        let rows = stmt.query_map([holder], period_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Custody closed by someone else's scan, newest first.
    pub fn flagged_custody(&self) -> Result<Vec<CustodyPeriod>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{PERIOD_SELECT} WHERE c.flagged = 1 ORDER BY c.ended_at DESC, c.item_id"))?;
        let rows = stmt.query_map([], period_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
