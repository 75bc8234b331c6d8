//! Reading announcements from the projections: what this device has not
//! yet acknowledged, and for the desks, who each one has reached.

use rusqlite::{OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::document::reader_key;
use super::{Audience, Kind};
use crate::actor::{Actor, Role};
use crate::ids::{AnnouncementId, DepartmentId, DeviceId, PersonId};
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// An announcement as a banner shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Announcement {
    /// Id.
    pub id: AnnouncementId,
    /// Announcement or emergency.
    pub kind: Kind,
    /// Whom it is for.
    pub audience: Audience,
    /// The department's name, for a department's announcement.
    pub department_name: Option<String>,
    /// Its title (may be empty).
    pub title: String,
    /// What it says.
    pub text: String,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// Who sent it.
    pub sender_name: String,
}

/// One reader of an announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Reader {
    /// The person's or the device's name.
    pub name: String,
    /// The person, when a person read it (a phone).
    pub person: Option<PersonId>,
    /// The device it was read on.
    pub device: Option<DeviceId>,
    /// When (its first read there).
    pub at: Timestamp,
}

/// Who an announcement has reached: the sender's "read by N of M".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Reach {
    /// The announcement.
    pub announcement: Announcement,
    /// Everyone and every device that said "I have seen this", earliest first.
    pub readers: Vec<Reader>,
    /// How many of the audience's people have read it (on any device).
    pub people_read: u32,
    /// How many active people the audience holds.
    pub audience_size: u32,
}

const SELECT: &str = "SELECT a.announcement_id, a.kind, a.audience, a.department, d.name, a.title, a.body, a.sent_at, a.sender_name,
            a.sender_device, a.sender_person, a.sent_by, a.person_id
     FROM announcements a LEFT JOIN departments d ON d.department_id = a.department";

/// An announcement and the reader key of its sender.
fn row(r: &Row<'_>) -> rusqlite::Result<(Announcement, String)> {
    let kind: String = r.get(1)?;
    let audience: String = r.get(2)?;
    let department: Option<DepartmentId> = r.get(3)?;
    let sender_device: Option<DeviceId> = r.get(9)?;
    let sender_person: Option<PersonId> = r.get(10)?;
    let sent_by: String = r.get(11)?;
    let person: Option<PersonId> = r.get(12)?;
    let announcement = Announcement {
        id: r.get(0)?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Announcement),
        // A department's announcement whose id no longer parses is still
        // shown, to everyone rather than to no one.
        audience: Audience::from_stored(&audience, department, person).unwrap_or(Audience::Everyone),
        department_name: r.get(4)?,
        title: r.get(5)?,
        text: r.get(6)?,
        sent_at: r.get(7)?,
        sender_name: r.get(8)?,
    };
    Ok((announcement, reader_key(sender_device, sender_person, &sent_by)))
}

/// Which active people an audience holds, as a condition on `people p`
/// whose department or person, if it needs one, is parameter `?{n}` (see
/// [`audience_parameter`]).
fn audience_condition(audience: &Audience, n: usize) -> String {
    match audience {
        Audience::Everyone => "p.active = 1".to_owned(),
        Audience::AllStaff => "p.active = 1 AND p.roles != ''".to_owned(),
        Audience::Department { .. } => format!("p.active = 1 AND p.department = ?{n}"),
        Audience::Person { .. } => format!("p.active = 1 AND p.person_id = ?{n}"),
    }
}

/// The parameter [`audience_condition`] names, if any.
fn audience_parameter(audience: &Audience) -> Option<String> {
    match audience {
        Audience::Department { department } => Some(department.to_string()),
        Audience::Person { person } => Some(person.to_string()),
        Audience::Everyone | Audience::AllStaff => None,
    }
}

impl Store {
    /// The announcements this device shows as banners: those for its
    /// audience that it has not acknowledged and did not send itself;
    /// emergencies first, then the newest.
    ///
    /// A kiosk shows only what is for everyone in the building; a key desk
    /// what is for everyone or all staff; a phone also its person's
    /// department's and its person's own; reception and admin desks
    /// everything but one person's notices, which are that person's only.
    pub fn active_announcements(&self, actor: &Actor) -> Result<Vec<Announcement>, Error> {
        let me = reader_key(actor.device, actor.person, &actor.tag());
        let department: Option<DepartmentId> = match actor.person {
            Some(p) => self
                .conn()
                .prepare_cached("SELECT department FROM people WHERE person_id = ?1")?
                .query_row([p], |r| r.get::<_, Option<DepartmentId>>(0))
                .optional()?
                .flatten(),
            None => None,
        };
        let mut stmt = self.conn().prepare_cached(&format!(
            "{SELECT} WHERE NOT EXISTS (SELECT 1 FROM announcement_reads r WHERE r.announcement_id = a.announcement_id AND r.reader = ?1)
             ORDER BY a.kind = 'emergency' DESC, a.sent_at DESC, a.announcement_id"
        ))?;
        let rows = stmt.query_map([&me], row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter(|(_, sender)| *sender != me)
            .map(|(a, _)| a)
            .filter(|a| match (&a.audience, actor.role) {
                (Audience::Person { person }, _) => actor.person == Some(*person),
                (_, Role::Reception | Role::Admin) => true,
                (Audience::Everyone, _) => true,
                (_, Role::Kiosk) => false,
                (Audience::AllStaff, _) => true,
                (Audience::Department { department: d }, Role::Staff | Role::Worker) => department.as_ref() == Some(d),
                (Audience::Department { .. }, _) => false,
            })
            .collect())
    }

    /// Every announcement sent from a desk with who it has reached, newest
    /// first (one person's notices, which Lodge sends itself, are not in
    /// it).
    pub fn announcements_reach(&self) -> Result<Vec<Reach>, Error> {
        let mut stmt =
            self.conn().prepare_cached(&format!("{SELECT} WHERE a.audience != 'person' ORDER BY a.sent_at DESC, a.announcement_id"))?;
        let all = stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
        all.into_iter().map(|(a, _)| self.reach_of(a)).collect()
    }

    /// Whether the announcement stored as `doc` is for everyone in the
    /// building (the server's access check for a kiosk).
    pub fn announcement_for_everyone(&self, doc: &crate::document::DocId) -> Result<bool, Error> {
        let audience: Option<String> =
            self.conn().prepare_cached("SELECT audience FROM announcements WHERE doc_id = ?1")?.query_row([doc], |r| r.get(0)).optional()?;
        Ok(audience.as_deref() == Some("everyone"))
    }

    /// Who one announcement has reached.
    pub fn announcement_reach(&self, id: AnnouncementId) -> Result<Option<Reach>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{SELECT} WHERE a.announcement_id = ?1"))?;
        match stmt.query_row([id], row).optional()? {
            Some((a, _)) => self.reach_of(a).map(Some),
            None => Ok(None),
        }
    }

    fn reach_of(&self, announcement: Announcement) -> Result<Reach, Error> {
        let readers = self
            .conn()
            .prepare_cached("SELECT name, person_id, device_id, at FROM announcement_reads WHERE announcement_id = ?1 ORDER BY at, reader")?
            .query_map([announcement.id], |r| Ok(Reader { name: r.get(0)?, person: r.get(1)?, device: r.get(2)?, at: r.get(3)? }))?
            .collect::<Result<Vec<_>, _>>()?;
        let department = audience_parameter(&announcement.audience);
        let size_sql = format!("SELECT count(*) FROM people p WHERE {}", audience_condition(&announcement.audience, 1));
        let read_sql = format!(
            "SELECT count(DISTINCT r.person_id) FROM announcement_reads r JOIN people p ON p.person_id = r.person_id
             WHERE r.announcement_id = ?1 AND {}",
            audience_condition(&announcement.audience, 2)
        );
        let id = announcement.id.to_string();
        let size_params: Vec<&dyn rusqlite::ToSql> = department.iter().map(|d| d as &dyn rusqlite::ToSql).collect();
        let mut read_params: Vec<&dyn rusqlite::ToSql> = vec![&id];
        read_params.extend(department.iter().map(|d| d as &dyn rusqlite::ToSql));
        let audience_size: u32 = self.conn().prepare_cached(&size_sql)?.query_row(size_params.as_slice(), |r| r.get(0))?;
        let people_read: u32 = self.conn().prepare_cached(&read_sql)?.query_row(read_params.as_slice(), |r| r.get(0))?;
        Ok(Reach { announcement, readers, people_read, audience_size })
    }
}
