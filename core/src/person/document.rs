//! The person document's shape and its projection row.

use autosurgeon::{Hydrate, Reconcile};
use rusqlite::{Connection, params};

use crate::actor::Role;
use crate::conflict::Affected;
use crate::document::{DocId, DocKind, Header, Model};
use crate::ids::{CardNumber, Email, PersonId};

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct PersonDoc {
    pub header: Header,
    pub id: PersonId,
    pub name: String,
    pub email: Option<Email>,
    pub phone: Option<String>,
    pub department: Option<String>,
    pub affiliation: Option<String>,
    /// Institution user id (student number…), required by some affiliations.
    pub user_id: Option<String>,
    pub roles: Vec<Role>,
    /// The person's own badge card, for the key desk's "tap your badge".
    pub badge_card: Option<CardNumber>,
    /// Whether guests may name this person as their host.
    pub hosts_guests: bool,
    pub active: bool,
    /// How they would rather be reminded; absent from people made before
    /// it (then e-mail where they have one).
    #[autosurgeon(missing = "Option::default")]
    pub preferred_contact: Option<ContactChannel>,
    /// A fire marshal: their phone takes part in roll calls. Absent from
    /// people made before it.
    #[autosurgeon(missing = "bool::default")]
    pub marshal: bool,
}

/// A way to reach a person with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum ContactChannel {
    /// E-mail.
    Email,
    /// A text message to their phone.
    Sms,
}

impl ContactChannel {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactChannel::Email => "email",
            ContactChannel::Sms => "sms",
        }
    }

    /// From its stored form (`None` for anything else).
    pub fn from_stored(text: &str) -> Option<Self> {
        [ContactChannel::Email, ContactChannel::Sms].into_iter().find(|c| c.as_str() == text)
    }
}

impl Model for PersonDoc {
    const KIND: DocKind = DocKind::Person;

    fn header(&self) -> &Header {
        &self.header
    }

    fn project(&self, id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
        super::clear_projection(id, conn)?;
        let roles: Vec<&str> = self.roles.iter().map(|r| r.label()).collect();
        conn.prepare_cached(
            "INSERT OR REPLACE INTO people (person_id, doc_id, name, email, phone, department, affiliation, user_id, roles, badge_card, active, preferred_contact, marshal)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            self.id,
            id,
            self.name,
            self.email,
            self.phone,
            self.department,
            self.affiliation,
            self.user_id,
            roles.join(","),
            self.badge_card,
            self.active,
            self.preferred_contact.map(ContactChannel::as_str),
            self.marshal
        ])?;
        // Conflicts about this person name them: rewritten with the name
        // now, or a replica that checked them before a rename merged would
        // keep the old name while the others show the new one.
        affected.presence.insert(self.id);
        let mut open = conn.prepare_cached("SELECT DISTINCT key_id, type_id FROM loans WHERE customer = ?1 AND state = 'out' AND type_id <> ''")?;
        for row in open.query_map([self.id], |r| Ok((r.get::<_, crate::ids::KeyId>(0)?, r.get::<_, crate::ids::KeyTypeId>(1)?)))? {
            let (key, key_type) = row?;
            affected.keys.insert(key);
            affected.limits.insert((self.id, key_type));
        }
        let mut held = conn.prepare_cached("SELECT item_id FROM equipment WHERE holder = ?1")?;
        for item in held.query_map([self.id], |r| r.get::<_, crate::ids::ItemId>(0))? {
            affected.items.insert(item?);
        }
        Ok(())
    }
}
