//! The worker's phone: an item by its code (scanned or typed), take it,
//! return it, my items, report a fault, my tickets. An item in repair
//! cannot be taken, and the core's refusal says why.

use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use lodge_core::equipment::{Activation, Item};
use lodge_core::repair::{Ticket, RepairState};
use lodge_core::site::RepairCategory;
use lodge_core::{ItemId, PersonId, RepairCategoryId, TicketId};

use crate::codes::decode;
use crate::desk::Desk;
use crate::error::{Answer, Refusal};
use crate::events::Area;

/// An item as the worker sees it after a scan.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ItemView {
    /// The item.
    pub item: Item,
    /// Whether this worker holds it.
    pub mine: bool,
    /// Its open repair ticket, if any.
    pub repair: Option<Ticket>,
}

/// A code read from a picture.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ReadCode {
    /// The text.
    pub text: String,
    /// The symbology (`QR_CODE`, `CODE_128`, …).
    pub format: String,
}

fn me(desk: &Desk) -> Answer<PersonId> {
    desk.actor()?.person.ok_or_else(|| Refusal::new("This device is not a person's phone; join with a worker's code to take items."))
}

/// The item with this code.
#[tauri::command(async, rename_all = "snake_case")]
pub fn item_by_code(desk: State<'_, Desk>, code: String) -> Answer<ItemView> {
    view(&desk, &code)
}

pub(crate) fn view(desk: &Desk, code: &str) -> Answer<ItemView> {
    let person = desk.actor()?.person;
    let store = desk.store();
    let item = store.item_by_code(code.trim())?.ok_or_else(|| Refusal::new(format!("No item has the code “{}”. Check the label, or type the code again.", code.trim())))?;
    let repair = store.open_repairs()?.into_iter().find(|t| t.item == item.id);
    Ok(ItemView { mine: person.is_some() && item.holder == person, item, repair })
}

/// Take the item with this code.
#[tauri::command(async, rename_all = "snake_case")]
pub fn take_item(desk: State<'_, Desk>, code: String) -> Answer<Activation> {
    desk.write(&[Area::Equipment], |s, actor| s.activate_equipment(actor, code.trim()))
}

/// Return the item with this code.
#[tauri::command(async, rename_all = "snake_case")]
pub fn return_item(desk: State<'_, Desk>, code: String) -> Answer<ItemId> {
    desk.write(&[Area::Equipment], |s, actor| s.deactivate_equipment(actor, code.trim()))
}

/// What this worker holds.
#[tauri::command(async, rename_all = "snake_case")]
pub fn my_items(desk: State<'_, Desk>) -> Answer<Vec<Item>> {
    let person = me(&desk)?;
    desk.read(|s| s.equipment_held_by(person))
}

/// What is on the shelf: active items nobody holds.
#[tauri::command(async, rename_all = "snake_case")]
pub fn free_items(desk: State<'_, Desk>) -> Answer<Vec<Item>> {
    desk.read(|s| s.free_equipment())
}

/// The categories a fault report picks from.
#[tauri::command(async, rename_all = "snake_case")]
pub fn repair_categories(desk: State<'_, Desk>) -> Answer<Vec<RepairCategory>> {
    desk.read(|s| s.repair_categories())
}

/// Report a fault on an item: opens a repair ticket.
#[tauri::command(async, rename_all = "snake_case")]
pub fn report_fault(desk: State<'_, Desk>, item: ItemId, category: RepairCategoryId, note: String) -> Answer<TicketId> {
    desk.write(&[Area::Repairs, Area::Equipment], |s, actor| s.open_ticket(actor, item, category, &note))
}

/// Tickets this worker opened, newest first.
#[tauri::command(async, rename_all = "snake_case")]
pub fn my_tickets(desk: State<'_, Desk>) -> Answer<Vec<Ticket>> {
    let person = me(&desk)?;
    let mut tickets = desk.read(|s| s.tickets_opened_by(person))?;
    tickets.sort_by(|a, b| b.opened_at.cmp(&a.opened_at));
    Ok(tickets)
}

/// Read a code from a camera frame or a photo (a `data:` URL of a PNG or
/// JPEG). `None` when no code is in the picture.
#[tauri::command(async, rename_all = "snake_case")]
pub fn read_code(desk: State<'_, Desk>, image: String) -> Answer<Option<ReadCode>> {
    let _ = desk;
    let found = decode::decode_data_url(&image).map_err(|e| Refusal::new(e.to_string()))?;
    Ok(found.map(|d| ReadCode { text: d.text, format: d.format }))
}

/// Whether a state keeps an item in the workshop.
pub fn in_workshop(state: RepairState) -> bool {
    matches!(state, RepairState::InProgress | RepairState::Stalled)
}
