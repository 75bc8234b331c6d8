//! The admin's screens: the dashboard's numbers, equipment and its printable
//! QR labels, the repair board, keys, and badge cards registered by tapping
//! them on the reader.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use lodge_core::equipment::{Item, NewItem};
use lodge_core::key_loan::LoanFilter;
use lodge_core::repair::{RepairLogEntry, RepairState, Ticket};
use lodge_core::site::CardInfo;
use lodge_core::{CardNumber, CardUid, ItemId, KeyId, KeyTypeId, TicketId};

use crate::codes::labels::{self, Label};
use crate::desk::Desk;
use crate::error::{Answer, Refusal};
use crate::events::Area;

/// The main dashboard: each number opens its list.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Dashboard {
    /// Staff signed in.
    pub people_in: u32,
    /// Guests in the building now.
    pub guests_in: u32,
    /// Guests registered today (site time is not known here: the last 24 hours).
    pub guests_today: u32,
    /// Keys out.
    pub keys_out: u32,
    /// Of them overdue.
    pub keys_overdue: u32,
    /// Items out with someone.
    pub items_out: u32,
    /// Repair tickets not resolved.
    pub open_repairs: u32,
    /// Conflicts waiting for a person.
    pub open_conflicts: u32,
}

fn count<T>(v: Vec<T>) -> u32 {
    u32::try_from(v.len()).unwrap_or(u32::MAX)
}

/// The dashboard's numbers.
#[tauri::command(async, rename_all = "snake_case")]
pub fn dashboard(desk: State<'_, Desk>) -> Answer<Dashboard> {
    let store = desk.store();
    let day_ago = lodge_core::Timestamp::from_millis(store.now().millis() - 86_400_000);
    let today = store.visit_history(&lodge_core::visit::VisitSearch { from: Some(day_ago), limit: Some(10_000), ..Default::default() })?;
    Ok(Dashboard {
        people_in: count(store.people_in()?),
        guests_in: count(store.guests_in()?),
        guests_today: count(today),
        keys_out: count(store.loans(LoanFilter::Out)?),
        keys_overdue: count(store.loans(LoanFilter::Overdue)?),
        items_out: count(store.equipment_held()?),
        open_repairs: count(store.open_repairs()?),
        open_conflicts: count(store.conflicts()?),
    })
}

/// Every item, out ones first.
#[tauri::command(async, rename_all = "snake_case")]
pub fn equipment(desk: State<'_, Desk>) -> Answer<Vec<Item>> {
    let store = desk.store();
    let mut items = store.equipment_held()?;
    items.extend(store.free_equipment()?);
    Ok(items)
}

/// A fault on an item that has no label yet: the item is added with the
/// code its new label will carry, and its ticket opened.
#[tauri::command(async, rename_all = "snake_case")]
pub fn report_fault_on_new_item(
    desk: State<'_, Desk>,
    item: lodge_core::equipment::NewItem,
    category: lodge_core::RepairCategoryId,
    note: String,
) -> Answer<(lodge_core::ItemId, lodge_core::TicketId)> {
    desk.write(&[Area::Repairs, Area::Equipment], |s, actor| s.report_fault_on_new_item(actor, item, category, &note))
}

/// Retire an item: it is never taken again (refused while someone holds it).
#[tauri::command(async, rename_all = "snake_case")]
pub fn retire_item(desk: State<'_, Desk>, item: lodge_core::ItemId) -> Answer<()> {
    desk.write(&[Area::Equipment], |s, actor| s.retire_item(actor, item))
}

/// Who had a key when, newest first.
#[tauri::command(async, rename_all = "snake_case")]
pub fn key_history(desk: State<'_, Desk>, key: KeyId) -> Answer<Vec<lodge_core::key_loan::Loan>> {
    desk.read(|s| s.loans_of_key(key))
}

/// Who had an item when, newest first.
#[tauri::command(async, rename_all = "snake_case")]
pub fn item_history(desk: State<'_, Desk>, item: lodge_core::ItemId) -> Answer<Vec<lodge_core::equipment::CustodyPeriod>> {
    desk.read(|s| s.custody_history(item))
}

/// Add an item.
#[tauri::command(async, rename_all = "snake_case")]
pub fn add_item(desk: State<'_, Desk>, item: NewItem) -> Answer<ItemId> {
    desk.write(&[Area::Equipment], |s, actor| s.add_item(actor, item))
}

/// A printable sheet of QR labels for these items (all when empty): SVG
/// pages of 24.
#[tauri::command(async, rename_all = "snake_case")]
pub fn item_labels(desk: State<'_, Desk>, items: Vec<ItemId>) -> Answer<Vec<String>> {
    let store = desk.store();
    let mut all = store.equipment_held()?;
    all.extend(store.free_equipment()?);
    all.sort_by(|a, b| a.asset_number.cmp(&b.asset_number));
    let chosen: Vec<Label> = all
        .into_iter()
        .filter(|i| items.is_empty() || items.contains(&i.id))
        .map(|i| Label { code: i.activation_code, asset_number: i.asset_number, name: i.name })
        .collect();
    if chosen.is_empty() {
        return Err(Refusal::new("There are no items to label."));
    }
    labels::sheet(&chosen).map_err(|e| Refusal::new(e.to_string()))
}

/// Every ticket, by state.
#[tauri::command(async, rename_all = "snake_case")]
pub fn repair_board(desk: State<'_, Desk>) -> Answer<Vec<Ticket>> {
    let store = desk.store();
    let mut all = Vec::new();
    for state in [RepairState::New, RepairState::InProgress, RepairState::Stalled, RepairState::Resolved] {
        all.extend(store.repairs_in_state(state)?);
    }
    Ok(all)
}

/// Move a ticket.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_repair_state(desk: State<'_, Desk>, ticket: TicketId, state: RepairState) -> Answer<()> {
    desk.write(&[Area::Repairs, Area::Equipment], |s, actor| s.set_repair_state(actor, ticket, state))
}

/// Add a note to a ticket.
#[tauri::command(async, rename_all = "snake_case")]
pub fn add_repair_note(desk: State<'_, Desk>, ticket: TicketId, note: String) -> Answer<()> {
    desk.write(&[Area::Repairs], |s, actor| s.add_repair_note(actor, ticket, &note))
}

/// A ticket's log.
#[tauri::command(async, rename_all = "snake_case")]
pub fn repair_log(desk: State<'_, Desk>, ticket: TicketId) -> Answer<Vec<RepairLogEntry>> {
    desk.read(|s| s.repair_log(ticket))
}

/// Add a key.
#[tauri::command(async, rename_all = "snake_case")]
pub fn add_key(desk: State<'_, Desk>, key_type: KeyTypeId, label: String) -> Answer<KeyId> {
    desk.write(&[Area::Keys], |s, actor| s.add_key(actor, key_type, &label))
}

/// Retire a key: it is never lent again.
#[tauri::command(async, rename_all = "snake_case")]
pub fn retire_key(desk: State<'_, Desk>, key: KeyId) -> Answer<()> {
    desk.write(&[Area::Keys], |s, actor| s.retire_key(actor, key))
}

/// Register a card's UID (read from the reader) under its printed number.
#[tauri::command(async, rename_all = "snake_case")]
pub fn register_card(desk: State<'_, Desk>, number: CardNumber, uid: CardUid) -> Answer<CardInfo> {
    desk.write(&[Area::Site], |s, actor| s.register_card(actor, number, uid))?;
    desk.read(|s| s.card(number))?.ok_or_else(|| Refusal::new(format!("Card {number} is not one of this site's cards.")))
}

/// A new enrolment code and its QR, for a new device to scan.
#[derive(Debug, Clone, Serialize, TS)]
pub struct NewCode {
    /// The one-time code.
    pub code: String,
    /// Until when.
    pub expires_at: lodge_core::Timestamp,
    /// An SVG QR of `SERVER/enrol?code=CODE`, which the first-run screen scans.
    pub qr_svg: String,
}

pub(crate) fn joined(desk: &Desk) -> Answer<crate::setup::Joined> {
    desk.setup()
        .and_then(|s| s.server)
        .ok_or_else(|| Refusal::new("This device has no server: devices and enrolment codes live on the server it joins."))
}

/// The site's devices, as the server knows them.
#[tauri::command(rename_all = "snake_case")]
pub async fn site_devices(desk: State<'_, Desk>) -> Answer<Vec<lodge_core::sync::SiteDevice>> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::devices(&j.url, &j.token).await.map_err(Refusal::from)
}

/// Remove a device: disconnected at once, told to wipe its store.
#[tauri::command(rename_all = "snake_case")]
pub async fn revoke_device(desk: State<'_, Desk>, device: lodge_core::DeviceId) -> Answer<lodge_core::sync::SiteDevice> {
    let j = joined(&desk)?;
    if device == j.device {
        return Err(Refusal::new("This is the device you are using; remove it from another admin device."));
    }
    lodge_core::sync::admin::revoke(&j.url, &j.token, device).await.map_err(Refusal::from)
}

/// A one-time code for a new device of `role` (a staff or worker phone
/// names its person), valid for an hour.
#[tauri::command(rename_all = "snake_case")]
pub async fn create_code(desk: State<'_, Desk>, role: lodge_core::Role, person: Option<lodge_core::PersonId>) -> Answer<NewCode> {
    let j = joined(&desk)?;
    let made = lodge_core::sync::admin::create_code(&j.url, &j.token, role, person, 60).await.map_err(Refusal::from)?;
    let link = format!("{}/enrol?code={}", j.url.trim_end_matches('/'), made.code);
    let qr_svg = labels::qr_svg(&link).map_err(|e| Refusal::new(e.to_string()))?;
    Ok(NewCode { code: made.code, expires_at: made.expires_at, qr_svg })
}

/// "Send a test": one message through one of the site's channels, sent by
/// the server now (its secrets stay there); what became of it.
#[tauri::command(rename_all = "snake_case")]
pub async fn test_channel(desk: State<'_, Desk>, test: lodge_core::sync::api::ChannelTest) -> Answer<Vec<lodge_core::sync::api::ChannelTried>> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::test_channel(&j.url, &j.token, &test).await.map_err(Refusal::from)
}

/// The site's Slack webhooks, as the server shows them (never their URLs).
#[tauri::command(rename_all = "snake_case")]
pub async fn slack_hooks(desk: State<'_, Desk>) -> Answer<Vec<lodge_core::sync::api::SlackHookShown>> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::slack_hooks(&j.url, &j.token).await.map_err(Refusal::from)
}

/// Add a Slack webhook: the server keeps its URL; the list after.
#[tauri::command(rename_all = "snake_case")]
pub async fn add_slack_hook(desk: State<'_, Desk>, hook: lodge_core::sync::api::NewSlackHook) -> Answer<Vec<lodge_core::sync::api::SlackHookShown>> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::add_slack_hook(&j.url, &j.token, &hook).await.map_err(Refusal::from)
}

/// Remove a Slack webhook; the list left.
#[tauri::command(rename_all = "snake_case")]
pub async fn remove_slack_hook(desk: State<'_, Desk>, number: i64) -> Answer<Vec<lodge_core::sync::api::SlackHookShown>> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::remove_slack_hook(&j.url, &j.token, number).await.map_err(Refusal::from)
}

/// The site's own mail relay (none: the server's), without its password.
#[tauri::command(rename_all = "snake_case")]
pub async fn mail_relay(desk: State<'_, Desk>) -> Answer<Option<lodge_core::sync::api::MailRelayShown>> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::mail_relay(&j.url, &j.token).await.map_err(Refusal::from)
}

/// Set the site's own mail relay, kept on the server.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_mail_relay(desk: State<'_, Desk>, relay: lodge_core::sync::api::NewMailRelay) -> Answer<Option<lodge_core::sync::api::MailRelayShown>> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::set_mail_relay(&j.url, &j.token, &relay).await.map_err(Refusal::from)
}

/// Go back to the server's mail relay.
#[tauri::command(rename_all = "snake_case")]
pub async fn clear_mail_relay(desk: State<'_, Desk>) -> Answer<Option<lodge_core::sync::api::MailRelayShown>> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::clear_mail_relay(&j.url, &j.token).await.map_err(Refusal::from)
}
