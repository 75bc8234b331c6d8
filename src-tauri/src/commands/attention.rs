//! "Needs attention": the changes the server refused, each with its typed
//! reason (the UI words it in the person's language), and the two ways
//! out: discard the change and take the server's version, or do it again.

use tauri::State;

use lodge_core::sync::SERVER_PEER;
use lodge_core::{DocId, RefusedChange};

use crate::desk::Desk;
use crate::error::Answer;
use crate::events::Area;

/// Every refused change on this device, oldest first.
#[tauri::command(async, rename_all = "snake_case")]
pub fn needs_attention(desk: State<'_, Desk>) -> Answer<Vec<RefusedChange>> {
    desk.read(|s| s.needs_attention())
}

/// Throw away this device's refused changes to `doc`; the server's version
/// comes back with the next sync.
#[tauri::command(async, rename_all = "snake_case")]
pub fn discard_refused(desk: State<'_, Desk>, doc: DocId) -> Answer<()> {
    desk.write(&Area::of(doc.kind()), |s, _| s.discard_refused(SERVER_PEER, &doc))
}

/// Send the refused changes to `doc` again.
#[tauri::command(async, rename_all = "snake_case")]
pub fn retry_refused(desk: State<'_, Desk>, doc: DocId) -> Answer<()> {
    desk.write(&Area::of(doc.kind()), |s, _| s.retry_refused(SERVER_PEER, &doc))
}
