//! A host's "your guest is here" on their own phone: one person's notice,
//! written by the server when it tells the host (rule `host-told-in-app`),
//! at most once per visit, and erased with the visit wherever the visit is
//! erased (see [`notices_of_visit`]).

use rusqlite::Connection;

use super::{AnnouncementDoc, Audience, Kind, MAX_TEXT_CHARS, MAX_TITLE_CHARS};
use crate::actor::Actor;
use crate::document::{DocId, DocKind, Header};
use crate::ids::{AnnouncementId, PersonId, VisitId};
use crate::store::{Error as StoreError, Store};

/// The name a notice Lodge writes itself is sent under.
pub const LODGE: &str = "Lodge";

impl Store {
    /// Write the notice to `host` that their guest of `visit` is here,
    /// unless one was written already (a job taken again after a crash):
    /// returns the new document, which only the host's phones (and the
    /// admin) may read.
    pub fn notify_host(&mut self, visit: VisitId, host: PersonId, title: &str, text: &str) -> Result<Option<DocId>, StoreError> {
        let actor = Actor::site_founder(LODGE);
        let title: String = title.trim().chars().take(MAX_TITLE_CHARS).collect();
        let text: String = text.trim().chars().take(MAX_TEXT_CHARS).collect();
        self.run("notify host", &actor, |work| {
            if !notices_of_visit(work.conn(), &DocId::visit(visit))?.is_empty() {
                return Ok(None);
            }
            let site = crate::store::current_site(work.conn())?;
            let id = AnnouncementId::new();
            let doc = AnnouncementDoc {
                // Owned by the host: what the access table reads to give it
                // to their phones only, and to tell only them of its erasure.
                header: Header::new(DocKind::Announcement, site, Some(format!("person:{host}"))),
                id,
                kind: Kind::Announcement,
                audience: Audience::Person { person: host }.as_str().to_owned(),
                department: None,
                person: Some(host),
                visit: Some(visit),
                title,
                text,
                sent_at: work.now(),
                sent_by: actor.tag(),
                sender_name: actor.name.clone(),
                sender_device: None,
                sender_person: None,
                reads: Vec::new(),
            };
            let doc_id = DocId::announcement(id);
            work.create(&doc_id, &doc)?;
            Ok(Some(doc_id))
        })
    }
}

/// The notices about a visit (its host's "your guest is here"), which go
/// wherever the visit goes when it is erased.
pub(crate) fn notices_of_visit(conn: &Connection, visit: &DocId) -> rusqlite::Result<Vec<DocId>> {
    let Some(id) = visit.as_str().strip_prefix("visit:") else { return Ok(Vec::new()) };
    conn.prepare_cached("SELECT doc_id FROM announcements WHERE visit_id = ?1")?.query_map([id], |r| r.get(0))?.collect()
}
