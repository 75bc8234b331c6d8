//! The presence document and its projection.

use autosurgeon::{Hydrate, Reconcile};
use rusqlite::{Connection, params};

use crate::conflict::Affected;
use crate::document::{DocId, DocKind, Header, Model};
use crate::ids::{EventId, PersonId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct PresenceDoc {
    pub header: Header,
    pub person: PersonId,
    /// `YYYY-MM`.
    pub month: String,
    pub events: Vec<PresenceEvent>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct PresenceEvent {
    #[key]
    pub id: EventId,
    pub at: Timestamp,
    pub by: String,
    pub change: PresenceChange,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) enum PresenceChange {
    In,
    Out,
    /// A duplicate sign-in set aside when a conflict was resolved.
    Void { event: EventId },
}

impl PresenceDoc {
    /// A person's month before anything happened in it: what every device
    /// that creates it writes, as the shared first change.
    pub(crate) fn empty(site: crate::ids::SiteId, person: PersonId, month: &str) -> Self {
        Self { header: Header::new(DocKind::Presence, site, Some(format!("person:{person}"))), person, month: month.to_owned(), events: Vec::new() }
    }
}

/// The hash of the one change any device may write to a presence month
/// under the shared actor: its empty creation, the same on every device.
/// `None` when the id is not a presence month's.
pub(crate) fn shared_creation_hash(id: &DocId, site: crate::ids::SiteId) -> Option<automerge::ChangeHash> {
    let rest = id.as_str().strip_prefix("presence:")?;
    let (person, month) = rest.split_once(':')?;
    let person = PersonId::parse(person).ok()?;
    let mut doc = crate::store::shared_first_change(id, &PresenceDoc::empty(site, person, month)).ok()?;
    doc.get_heads().first().copied()
}

pub(crate) fn clear_projection(id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
    let person: Option<PersonId> = conn
        .prepare_cached("SELECT person_id FROM presence_events WHERE doc_id = ?1 LIMIT 1")?
        .query_row([id], |r| r.get(0))
        .ok();
    if let Some(p) = person {
        affected.presence.insert(p);
    }
    conn.prepare_cached("DELETE FROM presence_events WHERE doc_id = ?1")?.execute([id])?;
    Ok(())
}

impl Model for PresenceDoc {
    const KIND: DocKind = DocKind::Presence;

    fn header(&self) -> &Header {
        &self.header
    }

    fn project(&self, id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
        let rows = PresenceRows {
            person: self.person,
            events: self.events.iter().map(|e| EventRow { id: e.id, at: e.at, change: e.change.clone() }).collect(),
        };
        rows.project(id, conn, affected)
    }
}

/// What the projection reads of a presence document, and what a merged
/// one is read as: without its header, month and who recorded each event,
/// fields a receiving device otherwise looked up in Automerge one by one
/// (reading whole documents was a fifth of its time for each change).
#[derive(Debug, Hydrate)]
pub(crate) struct PresenceRows {
    person: PersonId,
    events: Vec<EventRow>,
}

#[derive(Debug, Hydrate)]
struct EventRow {
    id: EventId,
    at: Timestamp,
    change: PresenceChange,
}

impl PresenceRows {
    /// Rewrite the document's rows in `presence_events`.
    pub(crate) fn project(&self, id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
        // Only rows that differ are written: a document takes one event at
        // a time, and rewriting all of its rows cost every device that
        // received it a dozen pages in its log.
        type Row = (PersonId, Timestamp, i64, String, bool);
        let mut existing: foldhash::HashMap<EventId, Row> = conn
            .prepare_cached("SELECT event_id, person_id, at, seq, kind, voided FROM presence_events WHERE doc_id = ?1")?
            .query_map([id], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))))?
            .collect::<rusqlite::Result<_>>()?;
        affected.presence.extend(existing.values().map(|row| row.0));
        affected.presence.insert(self.person);
        let voided: Vec<EventId> = self
            .events
            .iter()
            .filter_map(|e| match e.change {
                PresenceChange::Void { event } => Some(event),
                _ => None,
            })
            .collect();
        let mut insert = conn.prepare_cached(
            "INSERT OR REPLACE INTO presence_events (event_id, doc_id, person_id, at, seq, kind, voided) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (seq, e) in self.events.iter().enumerate() {
            let kind = match e.change {
                PresenceChange::In => "in",
                PresenceChange::Out => "out",
                PresenceChange::Void { .. } => continue,
            };
            let row: Row = (self.person, e.at, seq as i64, kind.to_owned(), voided.contains(&e.id));
            if existing.remove(&e.id).as_ref() == Some(&row) {
                continue;
            }
            insert.execute(params![e.id, id, row.0, row.1, row.2, row.3, row.4])?;
        }
        // Rows of events the document no longer has.
        let mut delete = conn.prepare_cached("DELETE FROM presence_events WHERE doc_id = ?1 AND event_id = ?2")?;
        for gone in existing.keys() {
            delete.execute(params![id, gone])?;
        }
        Ok(())
    }
}
