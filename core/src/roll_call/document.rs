//! The roll call document and its projection.
//!
//! Who is expected is written once, by the change that starts the roll
//! call; after that only `marks` grows and `ended` is set. A person's
//! standing is their latest mark by (time, id): the same on every replica
//! whatever order the marks merged in.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::conflict::Affected;
use crate::document::{DocId, DocKind, Header, Model};
use crate::ids::{CardNumber, EventId, PersonId, RollCallId, VisitId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct RollCallDoc {
    pub header: Header,
    pub id: RollCallId,
    pub started_at: Timestamp,
    /// The starter's actor tag.
    pub started_by: String,
    /// Everyone to account for, as the starting device knew them.
    pub expected: Vec<Expected>,
    pub marks: Vec<Mark>,
    pub ended: Option<Ended>,
}

/// One person to account for.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct Expected {
    /// `person:<id>` or `visit:<id>`.
    #[key]
    pub subject: String,
    pub name: String,
    /// A member of staff's department (its name), none for a guest.
    pub department: Option<String>,
    /// A guest's company.
    pub company: Option<String>,
    /// A guest's card.
    pub card: Option<CardNumber>,
    /// A guest's host.
    pub host_name: Option<String>,
}

/// A marshal's word on one person.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct Mark {
    #[key]
    pub id: EventId,
    pub subject: String,
    pub standing: Standing,
    pub at: Timestamp,
    /// The marshal's actor tag.
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct Ended {
    pub at: Timestamp,
    pub by: String,
}

/// Where a person stands in a roll call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// Not yet accounted for (or a mark taken back).
    Missing,
    /// Seen at the assembly point.
    Safe,
    /// Known not to be in the building today (left without signing out,
    /// working from home).
    NotHere,
}

impl Standing {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Missing => "missing",
            Standing::Safe => "safe",
            Standing::NotHere => "not-here",
        }
    }

    /// From its stored form.
    pub fn from_stored(text: &str) -> Option<Self> {
        [Standing::Missing, Standing::Safe, Standing::NotHere].into_iter().find(|s| s.as_str() == text)
    }
}

/// Who a roll call expects: a member of staff or a guest's visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Accountable {
    /// Staff or a worker signed in.
    Staff {
        /// Who.
        person: PersonId,
    },
    /// A guest admitted.
    Guest {
        /// Their visit.
        visit: VisitId,
    },
}

impl Accountable {
    /// The key it has in the document (`person:<id>`, `visit:<id>`).
    pub fn key(&self) -> String {
        match self {
            Accountable::Staff { person } => format!("person:{person}"),
            Accountable::Guest { visit } => format!("visit:{visit}"),
        }
    }

    /// From its key; `None` for anything else.
    pub fn parse(key: &str) -> Option<Self> {
        let (kind, id) = key.split_once(':')?;
        match kind {
            "person" => PersonId::parse(id).ok().map(|person| Accountable::Staff { person }),
            "visit" => VisitId::parse(id).ok().map(|visit| Accountable::Guest { visit }),
            _ => None,
        }
    }
}

impl RollCallDoc {
    /// Each subject's latest mark, by (time, id).
    pub(crate) fn latest_marks(&self) -> BTreeMap<&str, &Mark> {
        let mut latest: BTreeMap<&str, &Mark> = BTreeMap::new();
        for m in &self.marks {
            let entry = latest.entry(m.subject.as_str()).or_insert(m);
            if (m.at, m.id) > (entry.at, entry.id) {
                *entry = m;
            }
        }
        latest
    }
}

impl Model for RollCallDoc {
    const KIND: DocKind = DocKind::RollCall;

    fn header(&self) -> &Header {
        &self.header
    }

    fn project(&self, id: &DocId, conn: &Connection, _affected: &mut Affected) -> rusqlite::Result<()> {
        super::clear_projection(id, conn)?;
        conn.prepare_cached(
            "INSERT OR REPLACE INTO roll_calls (roll_call_id, doc_id, started_at, started_by, ended_at, ended_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            self.id,
            id,
            self.started_at,
            self.started_by,
            self.ended.as_ref().map(|e| e.at),
            self.ended.as_ref().map(|e| e.by.as_str())
        ])?;
        let latest = self.latest_marks();
        let mut insert = conn.prepare_cached(
            "INSERT OR REPLACE INTO roll_call_people (roll_call_id, subject, doc_id, kind, name, department, company, card, host_name, status, marked_at, marked_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for e in &self.expected {
            let kind = if e.subject.starts_with("visit:") { "guest" } else { "staff" };
            let mark = latest.get(e.subject.as_str());
            insert.execute(params![
                self.id,
                e.subject,
                id,
                kind,
                e.name,
                e.department,
                e.company,
                e.card,
                e.host_name,
                mark.map_or(Standing::Missing, |m| m.standing).as_str(),
                mark.map(|m| m.at),
                mark.map(|m| m.by.as_str())
            ])?;
        }
        Ok(())
    }
}
