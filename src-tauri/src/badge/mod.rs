//! Badge cards reach the app four ways and leave it as one `card-read`
//! event: the phone's NFC chip (the Tauri NFC plugin, read in the page and
//! passed to [`card_tapped`](crate::commands::badge::card_tapped)), a USB
//! reader through PC/SC ([`pcsc`], desktop only), a keyboard-wedge reader
//! (told apart from typing in the page) and a typed card number.

#[cfg(desktop)]
pub mod pcsc;
pub mod uid;

use tauri::{AppHandle, Manager};

use lodge_core::{CardNumber, CardUid, InvalidId};

use crate::desk::Desk;
use crate::events::{self, CardRead, CardSource};

/// Resolve a UID read from a card to the site's card.
pub fn read_uid(desk: &Desk, source: CardSource, uid: &str) -> CardRead {
    let parsed = match CardUid::parse(uid) {
        Ok(u) => u,
        Err(_) => {
            let problem = InvalidId { what: "badge card's UID", value: uid.to_owned() };
            return CardRead { source, uid: Some(uid.to_owned()), card: None, problem: Some(problem.into()) };
        }
    };
    match desk.read(|s| s.card_by_uid(&parsed)) {
        Ok(Some(card)) => CardRead { source, uid: Some(parsed.to_string()), card: Some(card), problem: None },
        Ok(None) => CardRead {
            source,
            uid: Some(parsed.to_string()),
            card: None,
            problem: Some(lodge_core::visit::Error::UnknownCardUid(parsed).into()),
        },
        Err(e) => CardRead { source, uid: Some(parsed.to_string()), card: None, problem: Some(e) },
    }
}

/// Resolve a typed card number.
pub fn read_number(desk: &Desk, text: &str) -> CardRead {
    let source = CardSource::Typed;
    let number = text.trim().parse::<u32>().ok().and_then(|n| CardNumber::new(n).ok());
    let Some(number) = number else {
        let problem = InvalidId { what: "card number", value: text.trim().to_owned() };
        return CardRead { source, uid: None, card: None, problem: Some(problem.into()) };
    };
    match desk.read(|s| s.card(number)) {
        Ok(Some(card)) => CardRead { source, uid: None, card: Some(card), problem: None },
        Ok(None) => CardRead { source, uid: None, card: None, problem: Some(lodge_core::visit::Error::UnknownCard(number).into()) },
        Err(e) => CardRead { source, uid: None, card: None, problem: Some(e) },
    }
}

/// Announce a read to the UI.
pub fn announce(app: &AppHandle, read: CardRead) {
    events::card_read(app, read);
}

/// Start the readers this platform has: PC/SC on desktop. (On a phone the
/// page asks the NFC plugin.)
pub fn start_readers(app: AppHandle) {
    #[cfg(desktop)]
    pcsc::spawn(move |uid| {
        let desk = app.state::<Desk>();
        let read = read_uid(&desk, CardSource::Pcsc, uid.as_str());
        announce(&app, read);
    });
    #[cfg(mobile)]
    let _ = app;
}
