//! Events the shell sends to the UI. Each has a fixed name and a payload
//! type whose TypeScript twin is generated ([`crate::bindings`]).

use serde::Serialize;
use tauri::{AppHandle, Emitter};
use ts_rs::TS;

use lodge_core::DocKind;
use lodge_core::site::CardInfo;
use lodge_core::sync::SyncStatus;

/// What a screen shows, so that a change refreshes only the screens that
/// show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    /// Site settings: card types, cards, key types, categories.
    Site,
    /// People and the directory.
    People,
    /// Guests' visits.
    Visits,
    /// Staff sign-ins.
    Presence,
    /// Keys and loans.
    Keys,
    /// Equipment and custody.
    Equipment,
    /// Repair tickets.
    Repairs,
    /// Open conflicts.
    Conflicts,
    /// Announcements and who has read them.
    Announcements,
    /// Roll calls and their marks.
    RollCalls,
}

impl Area {
    /// The areas a change to a document of `kind` shows in. Any change can
    /// open or close a conflict.
    pub fn of(kind: DocKind) -> [Area; 2] {
        let area = match kind {
            DocKind::Site => Area::Site,
            DocKind::Directory | DocKind::Person => Area::People,
            DocKind::Visit => Area::Visits,
            DocKind::Presence => Area::Presence,
            DocKind::Key | DocKind::LoanBook | DocKind::LoanException => Area::Keys,
            DocKind::Equipment => Area::Equipment,
            DocKind::Repair => Area::Repairs,
            DocKind::Announcement => Area::Announcements,
            DocKind::RollCall => Area::RollCalls,
        };
        [area, Area::Conflicts]
    }
}

/// `store-changed`: documents changed, here or from the server.
#[derive(Debug, Clone, Serialize, TS)]
pub struct StoreChanged {
    /// What to refresh.
    pub areas: Vec<Area>,
    /// Whether the change came from another device.
    pub remote: bool,
}

/// How a badge card reached the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum CardSource {
    /// The phone's NFC chip.
    Nfc,
    /// A USB reader through PC/SC.
    Pcsc,
    /// A keyboard-wedge reader typing the UID.
    Wedge,
    /// A person typing the card's number.
    Typed,
}

/// `card-read`: a badge card was tapped or typed.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CardRead {
    /// Where it came from.
    pub source: CardSource,
    /// The UID read from the card, if it was read rather than typed.
    pub uid: Option<String>,
    /// The site's card it is, if known.
    pub card: Option<CardInfo>,
    /// Why it is not a usable card, as any refusal is (a kind the screen
    /// says in its language).
    pub problem: Option<crate::error::Refusal>,
}

/// Event names, shared with the UI through the generated bindings.
pub const STORE_CHANGED: &str = "store-changed";
/// See [`CardRead`].
pub const CARD_READ: &str = "card-read";
/// Carries a [`SyncStatus`].
pub const SYNC_STATUS: &str = "sync-status";

/// Tell the UI what changed.
pub fn store_changed(app: &AppHandle, areas: Vec<Area>, remote: bool) {
    if let Err(e) = app.emit(STORE_CHANGED, StoreChanged { areas, remote }) {
        tracing::warn!(error = %e, "could not tell the UI about a change");
    }
}

/// Tell the UI a card was read.
pub fn card_read(app: &AppHandle, read: CardRead) {
    if let Err(e) = app.emit(CARD_READ, read) {
        tracing::warn!(error = %e, "could not tell the UI about a card");
    }
}

/// Tell the UI where sync stands.
pub fn sync_status(app: &AppHandle, status: &SyncStatus) {
    if let Err(e) = app.emit(SYNC_STATUS, status) {
        tracing::warn!(error = %e, "could not tell the UI about sync");
    }
}
