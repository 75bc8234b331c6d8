//! Equipment: items with a printed code that workers take and return by
//! scanning it. Each item's document holds its custody log; who holds it is
//! a fold over the scans in (time, list position) order, by the physical rule: the latest
//! scan is where the item is. Taking an item the ledger shows with someone
//! else closes that custody as "returned unscanned" and flags it.

mod commands;
mod document;
mod error;
mod queries;

pub use commands::{Activation, NewItem};
pub(crate) use commands::{check_new_item, create_item};
pub(crate) use document::EquipmentDoc;
pub use document::CustodyOutcome;
pub use error::Error;
pub use queries::{CustodyPeriod, Item};

pub(crate) fn clear_projection(
    id: &crate::document::DocId,
    conn: &rusqlite::Connection,
    affected: &mut crate::conflict::Affected,
) -> rusqlite::Result<()> {
    let item: Option<crate::ids::ItemId> =
        conn.prepare_cached("SELECT item_id FROM equipment WHERE doc_id = ?1")?.query_row([id], |r| r.get(0)).ok();
    if let Some(item) = item {
        conn.prepare_cached("DELETE FROM custody WHERE item_id = ?1")?.execute([item])?;
        affected.items.insert(item);
    }
    conn.prepare_cached("DELETE FROM equipment WHERE doc_id = ?1")?.execute([id])?;
    Ok(())
}
