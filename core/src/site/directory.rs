//! The directory: the people a guest may ask for, with nothing but a display
//! name and department, so a kiosk can offer hosts without holding anyone's
//! contact details. Kept by the commands that change people.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use crate::document::{DocId, DocKind, Header, Model};

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct DirectoryDoc {
    pub header: Header,
    /// Person id to entry; only active people who may host guests.
    pub people: BTreeMap<String, DirectoryEntry>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct DirectoryEntry {
    pub name: String,
    pub department: Option<String>,
}

impl Model for DirectoryDoc {
    const KIND: DocKind = DocKind::Directory;

    fn header(&self) -> &Header {
        &self.header
    }

    fn project(&self, id: &DocId, conn: &rusqlite::Connection, _affected: &mut crate::conflict::Affected) -> rusqlite::Result<()> {
        super::projection::clear_directory(id, conn)?;
        let mut insert =
            conn.prepare_cached("INSERT OR REPLACE INTO directory (person_id, doc_id, name, department) VALUES (?1, ?2, ?3, ?4)")?;
        for (person, entry) in &self.people {
            insert.execute(rusqlite::params![person, id, entry.name, entry.department])?;
        }
        Ok(())
    }
}
