//! Projection dispatch: rewrite or clear any document's rows by its kind.
//! Each kind's rows are a pure function of the document, written by its own
//! module; this file only routes by kind (used for merges and purges, where
//! the Rust type is not known statically).

use automerge::AutoCommit;
use rusqlite::Connection;

use crate::conflict::Affected;
use crate::document::{DocId, DocKind, Model};
use crate::store::Error;

/// Re-project a document whose type is known only from its id.
pub(crate) fn project_document(id: &DocId, doc: &AutoCommit, conn: &Connection, affected: &mut Affected) -> Result<(), Error> {
    fn go<M: Model>(id: &DocId, doc: &AutoCommit, conn: &Connection, affected: &mut Affected) -> Result<(), Error> {
        let value: M = crate::store::hydrate(id, doc)?;
        value.project(id, conn, affected)?;
        Ok(())
    }
    match id.kind() {
        DocKind::Site => go::<crate::site::SiteDoc>(id, doc, conn, affected),
        DocKind::Directory => go::<crate::site::DirectoryDoc>(id, doc, conn, affected),
        DocKind::Person => go::<crate::person::PersonDoc>(id, doc, conn, affected),
        DocKind::Visit => go::<crate::visit::VisitDoc>(id, doc, conn, affected),
        // Read as only what its rows need: presence documents are the ones
        // every device takes a change of many times a day.
        DocKind::Presence => {
            let rows: crate::presence::PresenceRows = crate::document::hydrate(doc).map_err(|e| Error::corrupt(id, e))?;
            Ok(rows.project(id, conn, affected)?)
        }
        DocKind::Key => go::<crate::key_loan::KeyDoc>(id, doc, conn, affected),
        DocKind::LoanBook => go::<crate::key_loan::LoanBook>(id, doc, conn, affected),
        DocKind::LoanException => go::<crate::key_loan::ExceptionDoc>(id, doc, conn, affected),
        DocKind::Equipment => go::<crate::equipment::EquipmentDoc>(id, doc, conn, affected),
        DocKind::Repair => go::<crate::repair::RepairDoc>(id, doc, conn, affected),
        DocKind::Announcement => go::<crate::announcement::AnnouncementDoc>(id, doc, conn, affected),
        DocKind::RollCall => go::<crate::roll_call::RollCallDoc>(id, doc, conn, affected),
    }
}

/// Remove a document's rows (it is being purged).
pub(crate) fn clear(id: &DocId, conn: &Connection, affected: &mut Affected) -> Result<(), Error> {
    match id.kind() {
        DocKind::Site => crate::site::clear_projection(id, conn, affected)?,
        DocKind::Directory => crate::site::clear_directory(id, conn)?,
        DocKind::Person => crate::person::clear_projection(id, conn)?,
        DocKind::Visit => crate::visit::clear_projection(id, conn, affected)?,
        DocKind::Presence => crate::presence::clear_projection(id, conn, affected)?,
        DocKind::Key | DocKind::LoanBook => crate::key_loan::clear_key_projection(id, conn, affected)?,
        DocKind::LoanException => crate::key_loan::clear_exception_projection(id, conn, affected)?,
        DocKind::Equipment => crate::equipment::clear_projection(id, conn, affected)?,
        DocKind::Repair => crate::repair::clear_projection(id, conn, affected)?,
        DocKind::Announcement => crate::announcement::clear_projection(id, conn)?,
        DocKind::RollCall => crate::roll_call::clear_projection(id, conn)?,
    }
    Ok(())
}
