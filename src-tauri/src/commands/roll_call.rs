//! The roll call on every device that takes part (the desks, the admin, a
//! fire marshal's phone): start it, mark people, end it, read the reports.

use tauri::State;

use lodge_core::RollCallId;
use lodge_core::roll_call::{Accountable, RollCall, RollCallSummary, Standing, StartRollCall};

use crate::desk::Desk;
use crate::error::Answer;
use crate::events::Area;

/// The roll call running now, with everyone on it.
#[tauri::command(async, rename_all = "snake_case")]
pub fn running_roll_call(desk: State<'_, Desk>) -> Answer<Option<RollCall>> {
    desk.read(|s| s.running_roll_call())
}

/// One roll call (a past one's report).
#[tauri::command(async, rename_all = "snake_case")]
pub fn roll_call(desk: State<'_, Desk>, id: RollCallId) -> Answer<Option<RollCall>> {
    desk.read(|s| s.roll_call(id))
}

/// Every roll call, newest first.
#[tauri::command(async, rename_all = "snake_case")]
pub fn roll_calls(desk: State<'_, Desk>) -> Answer<Vec<RollCallSummary>> {
    desk.read(|s| s.roll_calls())
}

/// "Start roll call".
#[tauri::command(async, rename_all = "snake_case")]
pub fn start_roll_call(desk: State<'_, Desk>, start: StartRollCall) -> Answer<RollCallId> {
    desk.write(&[Area::RollCalls, Area::Announcements], |s, actor| s.start_roll_call(actor, start))
}

/// "Start roll call" on a fire marshal's phone: the server, which knows who
/// is in, starts it in the marshal's name; it arrives here as any roll call.
#[tauri::command(rename_all = "snake_case")]
pub async fn start_roll_call_from_phone(desk: State<'_, Desk>, start: StartRollCall) -> Answer<RollCallId> {
    let j = super::admin::joined(&desk)?;
    lodge_core::sync::admin::start_roll_call(&j.url, &j.token, &start).await.map_err(crate::error::Refusal::from)
}

/// Mark one person safe, not here today, or missing again.
#[tauri::command(async, rename_all = "snake_case")]
pub fn mark_roll_call(desk: State<'_, Desk>, roll_call: RollCallId, who: Accountable, standing: Standing) -> Answer<()> {
    desk.write(&[Area::RollCalls], |s, actor| s.mark_roll_call(actor, roll_call, who, standing))
}

/// End the roll call: it stays as the site's report.
#[tauri::command(async, rename_all = "snake_case")]
pub fn end_roll_call(desk: State<'_, Desk>, roll_call: RollCallId) -> Answer<()> {
    desk.write(&[Area::RollCalls], |s, actor| s.end_roll_call(actor, roll_call))
}
