//! Announcement commands: send one (a desk), and say "I have seen this"
//! (any device that has it).

use serde::{Deserialize, Serialize};

use super::document::{Read, reader_key};
use super::{AnnouncementDoc, Audience, Error, Kind, MAX_TEXT_CHARS, MAX_TITLE_CHARS};
use crate::actor::{Actor, Role};
use crate::document::{DocId, DocKind, Header};
use crate::ids::{AnnouncementId, EventId};
use crate::store::Store;

/// What the "Send an announcement" form sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewAnnouncement {
    /// An everyday announcement or an emergency.
    pub kind: Kind,
    /// Whom it is for.
    pub audience: Audience,
    /// A short title; may be empty (the banner then names the kind).
    pub title: String,
    /// What it says.
    pub text: String,
}

fn checked(text: &str, field: &'static str, max: usize) -> Result<String, Error> {
    let t = text.trim();
    if t.chars().count() > max { Err(Error::TooLong { field, max }) } else { Ok(t.to_owned()) }
}

impl Store {
    /// Send an announcement or an emergency to its audience: every device
    /// that may see it gets it when it next syncs.
    pub fn announce(&mut self, actor: &Actor, new: NewAnnouncement) -> Result<AnnouncementId, Error> {
        actor.require(&[Role::Reception, Role::Admin], "send announcements")?;
        let title = checked(&new.title, "title", MAX_TITLE_CHARS)?;
        let text = checked(&new.text, "text", MAX_TEXT_CHARS)?;
        if text.is_empty() {
            return Err(Error::EmptyText);
        }
        if new.audience.person().is_some() {
            return Err(Error::NotForOnePerson);
        }
        self.run("announce", actor, |work| {
            if let Some(department) = new.audience.department() {
                let known = work
                    .conn()
                    .prepare_cached("SELECT 1 FROM departments WHERE department_id = ?1")
                    .and_then(|mut s| s.exists([department]))
                    .map_err(crate::store::Error::from)?;
                if !known {
                    return Err(Error::UnknownDepartment(department.clone()));
                }
            }
            let site = crate::store::current_site(work.conn())?;
            let id = AnnouncementId::new();
            let doc = AnnouncementDoc {
                header: Header::new(DocKind::Announcement, site, None),
                id,
                kind: new.kind,
                audience: new.audience.as_str().to_owned(),
                department: new.audience.department().cloned(),
                person: None,
                visit: None,
                title,
                text,
                sent_at: work.now(),
                sent_by: actor.tag(),
                sender_name: actor.name.clone(),
                sender_device: actor.device,
                sender_person: actor.person,
                reads: Vec::new(),
            };
            work.create(&DocId::announcement(id), &doc)?;
            Ok(id)
        })
    }

    /// "I have seen this": records that this device (or, without one, this
    /// person) has read the announcement. Saying it again changes nothing.
    pub fn acknowledge(&mut self, actor: &Actor, announcement: AnnouncementId) -> Result<(), Error> {
        self.run("acknowledge", actor, |work| {
            let id = DocId::announcement(announcement);
            let mut doc = work.read::<AnnouncementDoc>(&id)?.ok_or(Error::UnknownAnnouncement(announcement))?;
            let tag = actor.tag();
            let me = reader_key(actor.device, actor.person, &tag);
            if doc.reads.iter().any(|r| r.reader() == me) {
                return Ok(());
            }
            let read = Read { id: EventId::new(), at: work.now(), by: tag, name: actor.name.clone(), device: actor.device, person: actor.person };
            doc.reads.push(read.clone());
            work.append(&id, &[(&["reads".into()], &read)], &doc)?;
            Ok(())
        })
    }
}
