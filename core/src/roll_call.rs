//! Roll calls: in an emergency, everyone the site believes is in the
//! building (staff signed in, guests admitted) is listed once, and fire
//! marshals mark each person safe or "not here today" from their phones
//! and the desks. Marks are events appended to the roll call's document,
//! so marks made on offline devices merge without conflict: where two
//! marshals marked the same person, the latest mark (by time, then id)
//! stands on every replica. An ended roll call stays as the site's report.

mod commands;
mod document;
mod error;
mod queries;

pub use commands::StartRollCall;
pub(crate) use document::RollCallDoc;
pub use document::{Accountable, Standing};
pub use error::Error;
pub use queries::{RollCall, RollCallEntry, RollCallSummary};

pub(crate) fn clear_projection(id: &crate::document::DocId, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM roll_calls WHERE doc_id = ?1")?.execute([id])?;
    conn.prepare_cached("DELETE FROM roll_call_people WHERE doc_id = ?1")?.execute([id])?;
    Ok(())
}
