//! Who is in now, and a person's recent history.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::custody::Holdings;
use crate::ids::PersonId;
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// A person in the building.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PresentPerson {
    /// Who.
    pub person: PersonId,
    /// Name.
    pub name: String,
    /// Department id.
    pub department: Option<String>,
    /// Signed in since.
    pub since: Timestamp,
}

/// One sign-in or sign-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PresenceEntry {
    /// When.
    pub at: Timestamp,
    /// `true` for a sign-in.
    pub signed_in: bool,
}

/// What a sign-out returns: when, and what the person still holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignOutReceipt {
    /// When they signed out.
    pub at: Timestamp,
    /// Keys and items they still hold.
    pub still_holding: Holdings,
}

impl Store {
    /// Everyone signed in now, by name, with their department's name (its
    /// id when the department is not known here).
    pub fn people_in(&self) -> Result<Vec<PresentPerson>, Error> {
        Ok(people_in(self.conn())?)
    }

    /// Since when the person is signed in, if they are.
    pub fn signed_in_since(&self, person: PersonId) -> Result<Option<Timestamp>, Error> {
        Ok(self
            .conn()
            .prepare_cached("SELECT since FROM presence_now WHERE person_id = ?1")?
            .query_row([person], |r| r.get(0))
            .optional()?)
    }

    /// A person's sign-ins and sign-outs since `from`, newest first.
    pub fn presence_history(&self, person: PersonId, from: Timestamp) -> Result<Vec<PresenceEntry>, Error> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT at, kind FROM presence_events WHERE person_id = ?1 AND at >= ?2 AND voided = 0 ORDER BY at DESC, seq DESC, event_id DESC",
        )?;
        let rows = stmt.query_map(params![person, from], |r| {
            let kind: String = r.get(1)?;
            Ok(PresenceEntry { at: r.get(0)?, signed_in: kind == "in" })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Everyone signed in now (see [`Store::people_in`]), for a command's
/// transaction as well.
pub(crate) fn people_in(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<PresentPerson>> {
    let mut stmt = conn.prepare_cached(
        "SELECT n.person_id, coalesce(p.name, n.person_id), coalesce(d.name, p.department), n.since
         FROM presence_now n LEFT JOIN people p ON p.person_id = n.person_id
         LEFT JOIN departments d ON d.department_id = p.department
         ORDER BY 2, n.person_id",
    )?;
    let rows = stmt.query_map([], |r| Ok(PresentPerson { person: r.get(0)?, name: r.get(1)?, department: r.get(2)?, since: r.get(3)? }))?;
    rows.collect()
}
