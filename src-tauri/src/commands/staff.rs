//! The staff phone: one button to sign in or out, what the person still
//! holds, and their recent days. A phone acts for its own person; an admin
//! device may act for anyone it picks.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use lodge_core::person::DirectoryPerson;
use lodge_core::presence::{PresenceEntry, SignOutReceipt};
use lodge_core::{Holdings, PersonId, Timestamp};

use crate::desk::Desk;
use crate::error::{Answer, Refusal};
use crate::events::Area;

/// The history shown under the button.
pub const HISTORY_DAYS: u32 = 7;

/// One person's state, for the staff screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MyPresence {
    /// Who.
    pub person: PersonId,
    /// Their name.
    pub name: String,
    /// Signed in since, or not in.
    pub signed_in_since: Option<Timestamp>,
    /// The last days, newest first.
    pub history: Vec<PresenceEntry>,
    /// Keys, items and badge they hold.
    pub holdings: Holdings,
}

fn whom(desk: &Desk, person: Option<PersonId>) -> Answer<PersonId> {
    let own = desk.setup().and_then(|s| s.person);
    match (own, person) {
        (Some(own), _) => Ok(own),
        (None, Some(p)) => Ok(p),
        (None, None) => Err(Refusal::new("Pick whose sign-in this is.")),
    }
}

pub(crate) fn presence_of(desk: &Desk, person: Option<PersonId>) -> Answer<MyPresence> {
    let person = whom(desk, person)?;
    let store = desk.store();
    let name = store.person(person)?.map(|p| p.name).ok_or_else(|| Refusal::new("This person is not on this device yet; wait for it to sync."))?;
    let from = Timestamp::from_millis(store.now().millis() - i64::from(HISTORY_DAYS) * 86_400_000);
    let mut history = store.presence_history(person, from)?;
    history.reverse();
    Ok(MyPresence { person, name, signed_in_since: store.signed_in_since(person)?, history, holdings: store.holdings(person)? })
}

/// The person's state.
#[tauri::command(async, rename_all = "snake_case")]
pub fn my_presence(desk: State<'_, Desk>, person: Option<PersonId>) -> Answer<MyPresence> {
    presence_of(&desk, person)
}

/// Sign in.
#[tauri::command(async, rename_all = "snake_case")]
pub fn sign_in(desk: State<'_, Desk>, person: Option<PersonId>) -> Answer<Timestamp> {
    let person = whom(&desk, person)?;
    desk.write(&[Area::Presence], |s, actor| s.sign_in(actor, person))
}

/// Sign out; the receipt lists what the person still holds.
#[tauri::command(async, rename_all = "snake_case")]
pub fn sign_out(desk: State<'_, Desk>, person: Option<PersonId>) -> Answer<SignOutReceipt> {
    let person = whom(&desk, person)?;
    desk.write(&[Area::Presence], |s, actor| s.sign_out(actor, person))
}

/// People an admin device may sign in and out.
#[tauri::command(async, rename_all = "snake_case")]
pub fn staff_people(desk: State<'_, Desk>) -> Answer<Vec<DirectoryPerson>> {
    let people = desk.read(|s| s.people(""))?;
    Ok(people.into_iter().filter(|p| p.active).map(|p| DirectoryPerson { id: p.id, name: p.name, department: p.department }).collect())
}
