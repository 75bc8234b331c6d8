//! Card reads the page produces: a typed number, and a UID from the phone's
//! NFC chip or a keyboard-wedge reader. Each is resolved to the site's card
//! and announced as the same `card-read` event a PC/SC reader gives.

use tauri::State;

use crate::badge;
use crate::desk::Desk;
use crate::error::Answer;
use crate::events::{CardRead, CardSource};

/// A card number typed at the desk.
#[tauri::command(async, rename_all = "snake_case")]
pub fn card_typed(desk: State<'_, Desk>, number: String) -> Answer<CardRead> {
    Ok(badge::read_number(&desk, &number))
}

/// A UID read in the page (NFC plugin or keyboard wedge).
#[tauri::command(async, rename_all = "snake_case")]
pub fn card_tapped(desk: State<'_, Desk>, uid: String, source: CardSource) -> Answer<CardRead> {
    let read = badge::read_uid(&desk, source, &uid);
    if let Some(app) = desk.app() {
        badge::announce(app, read.clone());
    }
    Ok(read)
}

/// The PC/SC readers this computer has (none on a phone).
#[tauri::command(async, rename_all = "snake_case")]
pub fn badge_readers(desk: State<'_, Desk>) -> Answer<Vec<String>> {
    let _ = desk;
    #[cfg(desktop)]
    return Ok(badge::pcsc::readers());
    #[cfg(mobile)]
    return Ok(Vec::new());
}
