//! The announcement document and its projection.
//!
//! What was sent never changes after the creating change; only `reads`
//! grows. A device may read twice on two offline copies of itself only in
//! theory, and a person may read on several devices: the projection keeps
//! each reader's earliest read, chosen by (time, id) so every replica keeps
//! the same one whatever order the copies merged in.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::conflict::Affected;
use crate::document::{DocId, DocKind, Header, Model};
use crate::ids::{AnnouncementId, DepartmentId, DeviceId, EventId, PersonId, VisitId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct AnnouncementDoc {
    pub header: Header,
    pub id: AnnouncementId,
    pub kind: Kind,
    /// `everyone`, `all-staff`, `department` or `person` (see [`Audience`]).
    pub audience: String,
    pub department: Option<DepartmentId>,
    /// For one person's notice: the person.
    #[autosurgeon(missing = "Option::default")]
    pub person: Option<PersonId>,
    /// For a host's "your guest is here": the visit, erased with it.
    #[autosurgeon(missing = "Option::default")]
    pub visit: Option<VisitId>,
    pub title: String,
    pub text: String,
    pub sent_at: Timestamp,
    /// The sender's actor tag.
    pub sent_by: String,
    pub sender_name: String,
    pub sender_device: Option<DeviceId>,
    pub sender_person: Option<PersonId>,
    pub reads: Vec<Read>,
}

/// One device's (or person's) "I have seen this".
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct Read {
    #[key]
    pub id: EventId,
    pub at: Timestamp,
    /// The reader's actor tag.
    pub by: String,
    pub name: String,
    pub device: Option<DeviceId>,
    pub person: Option<PersonId>,
}

impl Read {
    /// Who read, as one key: the device, or the person where no device is
    /// known, or the actor's tag.
    pub(crate) fn reader(&self) -> String {
        reader_key(self.device, self.person, &self.by)
    }
}

pub(crate) fn reader_key(device: Option<DeviceId>, person: Option<PersonId>, by: &str) -> String {
    match (device, person) {
        (Some(d), _) => format!("device:{d}"),
        (None, Some(p)) => format!("person:{p}"),
        (None, None) => format!("actor:{by}"),
    }
}

/// An everyday announcement or an emergency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "AnnouncementKind"))]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// News for the building.
    Announcement,
    /// Something to act on now (a fire, a gas leak): shown as an alert.
    Emergency,
}

impl Kind {
    /// The kind's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Announcement => "announcement",
            Kind::Emergency => "emergency",
        }
    }

    /// The kind from its stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Kind::Announcement, Kind::Emergency].into_iter().find(|k| k.as_str() == s)
    }
}

/// Whom an announcement is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case", tag = "to")]
pub enum Audience {
    /// Everyone in the building: every device, the lobby kiosk included.
    Everyone,
    /// Every member of staff (every device but the kiosk).
    AllStaff,
    /// One department's people (and the desks).
    Department {
        /// The department.
        department: DepartmentId,
    },
    /// One person, on their own phone only (a host told that their guest
    /// is here): written by the server, never sent from a desk.
    Person {
        /// The person.
        person: PersonId,
    },
}

impl Audience {
    /// The audience's stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Audience::Everyone => "everyone",
            Audience::AllStaff => "all-staff",
            Audience::Department { .. } => "department",
            Audience::Person { .. } => "person",
        }
    }

    /// The audience from its stored name, department and person.
    pub fn from_stored(name: &str, department: Option<DepartmentId>, person: Option<PersonId>) -> Option<Self> {
        match (name, department, person) {
            ("everyone", ..) => Some(Audience::Everyone),
            ("all-staff", ..) => Some(Audience::AllStaff),
            ("department", Some(department), _) => Some(Audience::Department { department }),
            ("person", _, Some(person)) => Some(Audience::Person { person }),
            _ => None,
        }
    }

    pub(crate) fn department(&self) -> Option<&DepartmentId> {
        match self {
            Audience::Department { department } => Some(department),
            _ => None,
        }
    }

    pub(crate) fn person(&self) -> Option<PersonId> {
        match self {
            Audience::Person { person } => Some(*person),
            _ => None,
        }
    }
}

impl AnnouncementDoc {
    /// Each reader's earliest read, by (time, id): the same on every replica.
    pub(crate) fn first_reads(&self) -> BTreeMap<String, &Read> {
        let mut first: BTreeMap<String, &Read> = BTreeMap::new();
        for r in &self.reads {
            let entry = first.entry(r.reader()).or_insert(r);
            if (r.at, r.id) < (entry.at, entry.id) {
                *entry = r;
            }
        }
        first
    }
}

impl Model for AnnouncementDoc {
    const KIND: DocKind = DocKind::Announcement;

    fn header(&self) -> &Header {
        &self.header
    }

    fn project(&self, id: &DocId, conn: &Connection, _affected: &mut Affected) -> rusqlite::Result<()> {
        super::clear_projection(id, conn)?;
        conn.prepare_cached(
            "INSERT OR REPLACE INTO announcements (announcement_id, doc_id, kind, audience, department, title, body, sent_at, sent_by, sender_name, sender_device, sender_person, person_id, visit_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?
        .execute(params![
            self.id,
            id,
            self.kind.as_str(),
            self.audience,
            self.department,
            self.title,
            self.text,
            self.sent_at,
            self.sent_by,
            self.sender_name,
            self.sender_device,
            self.sender_person,
            self.person,
            self.visit
        ])?;
        let mut insert = conn.prepare_cached(
            "INSERT OR REPLACE INTO announcement_reads (announcement_id, reader, doc_id, name, device_id, person_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (reader, read) in self.first_reads() {
            insert.execute(params![self.id, reader, id, read.name, read.device, read.person, read.at])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(device: Option<DeviceId>, person: Option<PersonId>, at: i64) -> Read {
        Read { id: EventId::new(), at: Timestamp::from_millis(at), by: "x".into(), name: "x".into(), device, person }
    }

    #[test]
    fn a_reader_is_its_device_else_its_person() {
        let d = DeviceId::new();
        let p = PersonId::new();
        assert_eq!(read(Some(d), Some(p), 0).reader(), format!("device:{d}"));
        assert_eq!(read(None, Some(p), 0).reader(), format!("person:{p}"));
        assert_eq!(read(None, None, 0).reader(), "actor:x");
    }

    #[test]
    fn audiences_round_trip_through_their_stored_names() {
        let kitchen = DepartmentId::parse("kitchen").unwrap();
        let anna = PersonId::new();
        for a in [Audience::Everyone, Audience::AllStaff, Audience::Department { department: kitchen.clone() }, Audience::Person { person: anna }] {
            assert_eq!(Audience::from_stored(a.as_str(), a.department().cloned(), a.person()), Some(a));
        }
        assert_eq!(Audience::from_stored("department", None, None), None);
        assert_eq!(Audience::from_stored("person", None, None), None);
        assert_eq!(Kind::parse("emergency"), Some(Kind::Emergency));
    }
}
