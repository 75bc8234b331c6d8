//! Reception: the waiting queue, who is in, admit with a card, reject,
//! release, a guest's badge, conflicts, and the evacuation list.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use lodge_core::presence::PresentPerson;
use lodge_core::site::CardInfo;
use lodge_core::visit::{AdmitRequest, CardFix, LongWait, RejectReason, Visit, VisitState};
use lodge_core::{CardNumber, Conflict, EvacuationList, Timestamp, VisitId};

use crate::desk::Desk;
use crate::error::{Answer, Refusal};
use crate::events::Area;

/// The reception screen in one read.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeskBoard {
    /// Guests expected today who have not come yet, by name.
    pub expected: Vec<Visit>,
    /// Waiting guests, newest first.
    pub waiting: Vec<Visit>,
    /// Guests in the building.
    pub guests_in: Vec<Visit>,
    /// Staff signed in.
    pub staff_in: Vec<PresentPerson>,
    /// Open conflicts, for the inbox badge.
    pub conflicts: usize,
    /// Waiting guests who have waited too long, longest first: reception
    /// is told.
    pub long_waits: Vec<LongWait>,
}

/// The evacuation list with how fresh it is.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Evacuation {
    /// Everyone in the building by this device's store.
    pub list: EvacuationList,
    /// When this device was last up to date with the server; `None` for a
    /// device with no server or that never synced.
    pub synced_at: Option<Timestamp>,
    /// The device the list was made on.
    pub device_name: String,
}

pub(crate) fn board(desk: &Desk) -> Answer<DeskBoard> {
    let store = desk.store();
    let mut waiting = store.waiting_guests()?;
    waiting.sort_by(|a, b| b.registered_at.cmp(&a.registered_at));
    let long_waits = lodge_core::visit::long_waits(&waiting, store.now());
    let expected = store.expected_today()?;
    Ok(DeskBoard { expected, waiting, guests_in: store.guests_in()?, staff_in: store.people_in()?, conflicts: store.conflicts()?.len(), long_waits })
}

/// The waiting queue, who is in, and the count of conflicts.
#[tauri::command(async, rename_all = "snake_case")]
pub fn desk_board(desk: State<'_, Desk>) -> Answer<DeskBoard> {
    board(&desk)
}

/// Free cards of the types guests may get, lowest number first.
#[tauri::command(async, rename_all = "snake_case")]
pub fn guest_cards(desk: State<'_, Desk>) -> Answer<Vec<CardInfo>> {
    desk.read(|s| -> Result<_, lodge_core::StoreError> {
        let mut cards = Vec::new();
        for t in s.card_types()?.into_iter().filter(|t| t.for_guests) {
            cards.extend(s.free_cards(Some(&t.id))?);
        }
        cards.sort_by_key(|c| c.number);
        Ok(cards)
    })
}

/// Admit a waiting guest with a card.
#[tauri::command(async, rename_all = "snake_case")]
pub fn admit(desk: State<'_, Desk>, request: AdmitRequest) -> Answer<()> {
    desk.write(&[Area::Visits, Area::Site], |s, actor| s.admit(actor, request))
}

/// Reject an entry: the whole entry is deleted everywhere.
#[tauri::command(async, rename_all = "snake_case")]
pub fn reject(desk: State<'_, Desk>, visit: VisitId, reason: RejectReason) -> Answer<()> {
    if let RejectReason::Other(text) = &reason
        && text.trim().is_empty()
    {
        return Err(Refusal::new("Say in a few words why the entry is rejected."));
    }
    desk.write(&[Area::Visits], |s, actor| s.reject(actor, visit, reason))
}

/// The guest left: record the time and free their card.
#[tauri::command(async, rename_all = "snake_case")]
pub fn release(desk: State<'_, Desk>, visit: VisitId) -> Answer<()> {
    desk.write(&[Area::Visits, Area::Site], |s, actor| s.release(actor, visit))
}

/// A guest's badge, ready to print: an SVG the size of a card in the
/// screen's words. Only a guest in the building has one.
#[tauri::command(async, rename_all = "snake_case")]
pub fn guest_badge(desk: State<'_, Desk>, visit: VisitId, words: crate::codes::guest_badge::BadgeWords) -> Answer<String> {
    let badge = desk.read(|s| s.guest_badge(visit))?;
    crate::codes::guest_badge::svg(&badge, &words).map_err(|e| Refusal::new(e.to_string()))
}

/// A card came back to the desk: release whoever has it.
#[tauri::command(async, rename_all = "snake_case")]
pub fn release_card(desk: State<'_, Desk>, card: CardNumber) -> Answer<Visit> {
    let visit = desk.write(&[Area::Visits, Area::Site], |s, actor| s.release_card(actor, card))?;
    desk.read(|s| s.visit(visit))?.ok_or_else(|| Refusal::new("The visit is no longer here."))
}

/// The open visit a card is on, if any.
#[tauri::command(async, rename_all = "snake_case")]
pub fn visit_by_card(desk: State<'_, Desk>, card: CardNumber) -> Answer<Option<Visit>> {
    let guests = desk.read(|s| s.guests_in())?;
    Ok(guests.into_iter().find(|v| matches!(v.state, VisitState::Admitted { card: c, .. } if c == card)))
}

/// An open conflict with the sides the desk can keep.
#[derive(Debug, Clone, Serialize, TS)]
pub struct InboxEntry {
    /// The conflict.
    pub conflict: Conflict,
    /// The sides one is kept of (the provisional winner first); empty for
    /// a conflict fixed where it belongs (a key over the limit, an item in
    /// the workshop).
    pub choices: Vec<lodge_core::ConflictChoice>,
}

/// The conflict inbox: every open conflict and its choices.
#[tauri::command(async, rename_all = "snake_case")]
pub fn conflict_inbox(desk: State<'_, Desk>) -> Answer<Vec<InboxEntry>> {
    desk.read(|s| {
        s.conflicts()?.into_iter().map(|conflict| Ok(InboxEntry { choices: s.conflict_choices(&conflict)?, conflict })).collect::<Result<Vec<_>, lodge_core::StoreError>>()
    })
}

/// Say who really has a key lent twice: that loan stays, the others end.
#[tauri::command(async, rename_all = "snake_case")]
pub fn resolve_key_conflict(desk: State<'_, Desk>, key: lodge_core::KeyId, keep: lodge_core::LoanId) -> Answer<()> {
    desk.write(&[Area::Keys, Area::Conflicts], |s, actor| s.resolve_key_conflict(actor, key, keep))
}

/// Keep one sign-in of a person signed in twice; the others are voided.
#[tauri::command(async, rename_all = "snake_case")]
pub fn resolve_presence_conflict(desk: State<'_, Desk>, person: lodge_core::PersonId, keep: lodge_core::EventId) -> Answer<()> {
    desk.write(&[Area::Presence, Area::Conflicts], |s, actor| s.resolve_presence_conflict(actor, person, keep))
}

/// Keep one guest on a card given twice; fix the others.
#[tauri::command(async, rename_all = "snake_case")]
pub fn resolve_card_conflict(desk: State<'_, Desk>, card: CardNumber, keep: VisitId, fixes: Vec<(VisitId, CardFix)>) -> Answer<()> {
    desk.write(&[Area::Visits, Area::Site], |s, actor| s.resolve_card_conflict(actor, card, keep, &fixes))
}

/// Everyone in the building now.
#[tauri::command(async, rename_all = "snake_case")]
pub fn evacuation(desk: State<'_, Desk>) -> Answer<Evacuation> {
    let list = desk.read(|s| s.evacuation_list())?;
    let synced_at = desk.sync_status().and_then(|s| s.last_sync);
    let device_name = desk.setup().map(|s| s.device_name).unwrap_or_default();
    Ok(Evacuation { list, synced_at, device_name })
}
