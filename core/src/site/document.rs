//! The site document's shape.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use crate::document::{DocId, DocKind, Header, Model};

/// The building's settings.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct SiteDoc {
    pub header: Header,
    pub name: String,
    pub time_zone: String,
    /// Keyed by card type id.
    pub card_types: BTreeMap<String, CardTypeEntry>,
    /// Registered physical cards, keyed by card number: their NFC UID and
    /// whether they are in use. A number in a type's range is a card even
    /// before its UID is registered, so a typed number always works.
    pub cards: BTreeMap<String, CardEntry>,
    /// Department id to name.
    pub departments: BTreeMap<String, String>,
    pub affiliations: BTreeMap<String, AffiliationEntry>,
    pub key_types: BTreeMap<String, KeyTypeEntry>,
    /// Repair category id to name.
    pub repair_categories: BTreeMap<String, String>,
    pub retention_days: u32,
    /// Days a person's sign-in records (a presence month) are kept after
    /// the month ends. Absent from sites made before it existed: those
    /// keep [`crate::retention::DEFAULT_PRESENCE_RETENTION_DAYS`] (a
    /// missing field hydrates as `None`, not as an error).
    #[autosurgeon(missing = "Option::default")]
    pub presence_retention_days: Option<u32>,
    /// Local time of day (`HH:MM`, site time zone) for the sign-out reminder.
    pub reminder_time: String,
    pub guest_policy: GuestPolicy,
    /// Department id to the e-mail address of its administrative contact,
    /// told of a key overdue for long. Absent from sites made before it.
    #[autosurgeon(missing = "Option::default")]
    pub department_contacts: Option<BTreeMap<String, String>>,
    /// Days a key may be overdue before the department's contact is told
    /// too (`None`: [`crate::site::DEFAULT_OVERDUE_CONTACT_DAYS`]).
    #[autosurgeon(missing = "Option::default")]
    pub overdue_contact_after_days: Option<u32>,
    /// The language of the site's messages (`en`, `pl`, `uk`, `ru`);
    /// absent from sites made before it (English).
    #[autosurgeon(missing = "Option::default")]
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct CardTypeEntry {
    pub label: String,
    pub first: u32,
    pub last: u32,
    /// Whether guests may be admitted with cards of this type.
    pub for_guests: bool,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct CardEntry {
    pub uid: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct AffiliationEntry {
    pub name: String,
    pub requires_user_id: bool,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct KeyTypeEntry {
    pub name: String,
    /// Days a key of this type is lent for by default.
    pub loan_days: u32,
}

/// What the guest form asks.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct GuestPolicy {
    pub contact_required: bool,
    pub purpose_required: bool,
    pub consent_text: String,
    /// The consent text in other languages, by language code (`pl`…); a
    /// guest reads the one of the kiosk's language, else `consent_text`.
    /// Absent from sites made before it.
    #[autosurgeon(missing = "Option::default")]
    pub consent_texts: Option<BTreeMap<String, String>>,
}

impl Model for SiteDoc {
    const KIND: DocKind = DocKind::Site;

    fn header(&self) -> &Header {
        &self.header
    }

    fn project(&self, id: &DocId, conn: &rusqlite::Connection, affected: &mut crate::conflict::Affected) -> rusqlite::Result<()> {
        super::projection::write(self, id, conn, affected)
    }
}
