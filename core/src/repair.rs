//! Repair tickets: a fault reported on an item becomes a ticket (new, in
//! progress, stalled, resolved) with notes and a history of state changes.
//! A resolved ticket refuses every change except reopening; an item with a
//! ticket in progress or stalled is in the workshop and cannot be taken.

mod commands;
mod document;
mod error;
mod queries;

pub(crate) use document::RepairDoc;
pub use document::RepairState;
pub use error::Error;
pub use queries::{RepairLogEntry, Ticket};

pub(crate) fn clear_projection(
    id: &crate::document::DocId,
    conn: &rusqlite::Connection,
    affected: &mut crate::conflict::Affected,
) -> rusqlite::Result<()> {
    let item: Option<crate::ids::ItemId> =
        conn.prepare_cached("SELECT item_id FROM repairs WHERE doc_id = ?1")?.query_row([id], |r| r.get(0)).ok();
    affected.items.extend(item);
    conn.prepare_cached("DELETE FROM repairs WHERE doc_id = ?1")?.execute([id])?;
    conn.prepare_cached("DELETE FROM repair_log WHERE doc_id = ?1")?.execute([id])?;
    Ok(())
}
