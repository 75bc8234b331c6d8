//! Expected guests: a desk expects anyone's guest and marks arrivals; a
//! staff phone expects its own person's guest through the server (it holds
//! no visits, so it checks by the same rules first and sends); a kiosk turns
//! an invitation code into a filled form and checks the guest in, online
//! only: it holds nobody's data but the guest's in front of it.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use lodge_core::sync::admin::AdminError;
use lodge_core::sync::api::{ApiErrorKind, InvitedArrival};
use lodge_core::visit::{ExpectedGuest, GuestForm, Invitation, InvitedGuest};
use lodge_core::VisitId;

use super::admin::joined;
use crate::desk::Desk;
use crate::error::{Answer, Refusal};
use crate::events::Area;

/// What a kiosk learned from an invitation code.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum InvitationLookup {
    /// The guest it names, to fill the form.
    Found {
        /// The guest.
        guest: InvitedGuest,
    },
    /// No guest is expected today with this code.
    Unknown,
    /// Too many wrong codes from here: wait a while.
    TooManyTries,
    /// The server cannot be reached: the form can still be filled by hand.
    Offline,
}

/// Expect a guest from a desk (reception, admin): written here, sent with
/// the rest; the server e-mails the invitation when it has the visit.
#[tauri::command(async, rename_all = "snake_case")]
pub fn expect_guest(desk: State<'_, Desk>, guest: ExpectedGuest) -> Answer<Invitation> {
    desk.write(&[Area::Visits], |s, actor| s.expect_guest(actor, guest))
}

/// Expect one's own guest from a phone: checked here by the core's rules
/// (in the screen's language), then made by the server.
#[tauri::command(rename_all = "snake_case")]
pub async fn expect_my_guest(desk: State<'_, Desk>, guest: ExpectedGuest) -> Answer<Invitation> {
    let actor = desk.actor()?;
    let (store, checked) = (desk.store_handle(), guest.clone());
    tauri::async_runtime::spawn_blocking(move || {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        store.check_expected_guest(&actor, &checked).map_err(Refusal::from)
    })
    .await
    .map_err(|e| Refusal::new(e.to_string()))??;
    let j = joined(&desk)?;
    lodge_core::sync::admin::expect_guest(&j.url, &j.token, &guest).await.map_err(Refusal::from)
}

/// The people guests may visit, by name (the first 50: a desk picks its
/// host from them).
#[tauri::command(async, rename_all = "snake_case")]
pub fn guest_hosts(desk: State<'_, Desk>) -> Answer<Vec<lodge_core::person::DirectoryPerson>> {
    desk.read(|s| s.directory(""))
}

/// An expected guest came to the desk: they join the queue.
#[tauri::command(async, rename_all = "snake_case")]
pub fn guest_arrived(desk: State<'_, Desk>, visit: VisitId) -> Answer<()> {
    desk.write(&[Area::Visits], |s, actor| s.guest_arrived(actor, visit))
}

/// The guest an invitation code names, asked of the server.
#[tauri::command(rename_all = "snake_case")]
pub async fn find_invitation(desk: State<'_, Desk>, code: String) -> Answer<InvitationLookup> {
    let Ok(j) = joined(&desk) else { return Ok(InvitationLookup::Offline) };
    Ok(match lodge_core::sync::admin::invited_guest(&j.url, &j.token, &code).await {
        Ok(guest) => InvitationLookup::Found { guest },
        Err(AdminError::Refused { kind: ApiErrorKind::UnknownInvitation, .. }) => InvitationLookup::Unknown,
        Err(AdminError::Refused { kind: ApiErrorKind::TooManyAttempts, .. }) => InvitationLookup::TooManyTries,
        Err(AdminError::Unreachable { .. }) => InvitationLookup::Offline,
        Err(e) => return Err(e.into()),
    })
}

/// The invited guest checked their form and agreed: the server puts them
/// in the queue.
#[tauri::command(rename_all = "snake_case")]
pub async fn arrive_with_invitation(desk: State<'_, Desk>, code: String, form: GuestForm) -> Answer<()> {
    let j = joined(&desk)?;
    match lodge_core::sync::admin::arrive_with_invitation(&j.url, &j.token, &InvitedArrival { code, form }).await {
        Ok(_) => Ok(()),
        // Said in the kiosk's language, as the core's own refusal.
        Err(AdminError::Refused { kind: ApiErrorKind::UnknownInvitation, .. }) => Err(lodge_core::visit::Error::UnknownInvitation.into()),
        Err(e) => Err(e.into()),
    }
}
