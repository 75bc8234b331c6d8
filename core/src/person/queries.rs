//! Reading people and the directory from the projections.

use rusqlite::{OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::ContactChannel;
use crate::ids::{CardNumber, CardUid, Email, PersonId};
use crate::store::{Error, Store};

/// A person as lists show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Person {
    /// Id.
    pub id: PersonId,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: Option<Email>,
    /// Phone.
    pub phone: Option<String>,
    /// Department id.
    pub department: Option<String>,
    /// Affiliation id.
    pub affiliation: Option<String>,
    /// Institution user id.
    pub user_id: Option<String>,
    /// Their badge card.
    pub badge_card: Option<CardNumber>,
    /// Whether active.
    pub active: bool,
    /// How they would rather be reminded (`None`: e-mail where they have one).
    pub preferred_contact: Option<ContactChannel>,
    /// What they do here.
    pub roles: Vec<crate::actor::Role>,
    /// Whether guests may ask for them at the kiosk.
    pub hosts_guests: bool,
    /// Whether they are a fire marshal.
    pub marshal: bool,
}

/// Someone a guest may ask for: name and department, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DirectoryPerson {
    /// Id.
    pub id: PersonId,
    /// Display name.
    pub name: String,
    /// Department id.
    pub department: Option<String>,
}

const PERSON_SELECT: &str =
    "SELECT person_id, name, email, phone, department, affiliation, user_id, badge_card, active, preferred_contact, roles,
            EXISTS (SELECT 1 FROM directory d WHERE d.person_id = people.person_id), marshal FROM people";

fn person_row(r: &Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        phone: r.get(3)?,
        department: r.get(4)?,
        affiliation: r.get(5)?,
        user_id: r.get(6)?,
        badge_card: r.get(7)?,
        active: r.get(8)?,
        preferred_contact: r.get::<_, Option<String>>(9)?.as_deref().and_then(ContactChannel::from_stored),
        roles: r.get::<_, String>(10)?.split(',').filter_map(crate::actor::Role::from_label).collect(),
        hosts_guests: r.get(11)?,
        marshal: r.get(12)?,
    })
}

fn like(search: &str) -> String {
    let escaped = search.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

impl Store {
    /// People whose name or e-mail contains `search` (all when empty), by name.
    pub fn people(&self, search: &str) -> Result<Vec<Person>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "{PERSON_SELECT} WHERE name LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\' ORDER BY name, person_id"
        ))?;
        let rows = stmt.query_map([like(search)], person_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether the person is an active fire marshal (the server asks, for
    /// what their phone may see of roll calls).
    pub fn is_marshal(&self, person: PersonId) -> Result<bool, Error> {
        Ok(self
            .conn()
            .prepare_cached("SELECT marshal FROM people WHERE person_id = ?1 AND active")?
            .query_row([person], |r| r.get(0))
            .optional()?
            .unwrap_or(false))
    }

    /// One person.
    pub fn person(&self, id: PersonId) -> Result<Option<Person>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{PERSON_SELECT} WHERE person_id = ?1"))?;
        Ok(stmt.query_row([id], person_row).optional()?)
    }

    /// The active person with this e-mail.
    pub fn person_by_email(&self, email: &Email) -> Result<Option<Person>, Error> {
        let mut stmt =
            self.conn().prepare_cached(&format!("{PERSON_SELECT} WHERE email = ?1 AND active = 1 ORDER BY person_id LIMIT 1"))?;
        Ok(stmt.query_row([email], person_row).optional()?)
    }

    /// The active person whose own badge card was tapped.
    pub fn person_by_card_uid(&self, uid: &CardUid) -> Result<Option<Person>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "{PERSON_SELECT} WHERE active = 1 AND badge_card = (SELECT number FROM cards WHERE uid = ?1 ORDER BY number LIMIT 1) ORDER BY person_id LIMIT 1"
        ))?;
        Ok(stmt.query_row([uid], person_row).optional()?)
    }

    /// Hosts whose name contains `search`, for the kiosk's host picker.
    pub fn directory(&self, search: &str) -> Result<Vec<DirectoryPerson>, Error> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT person_id, name, department FROM directory WHERE name LIKE ?1 ESCAPE '\\' ORDER BY name, person_id LIMIT 50",
        )?;
        let rows = stmt.query_map([like(search)], |r| Ok(DirectoryPerson { id: r.get(0)?, name: r.get(1)?, department: r.get(2)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
