//! The guest kiosk: the welcome, the host search, the form's field checks
//! and sending the form. Nothing here returns another guest's data.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use lodge_core::PersonId;
use lodge_core::visit::{FieldError, GuestForm};

use crate::desk::Desk;
use crate::error::{Answer, Refusal};
use crate::events::Area;

/// What the kiosk's first screen and form need from the site.
#[derive(Debug, Clone, Serialize, TS)]
pub struct KioskWelcome {
    /// The building's name.
    pub site_name: String,
    /// Whether e-mail or phone is required.
    pub contact_required: bool,
    /// Whether a purpose is required.
    pub purpose_required: bool,
    /// The consent text shown beside the checkbox, in the site's own
    /// language.
    pub consent_text: String,
    /// The consent text in other languages, by language code: the kiosk
    /// shows the one of the guest's language when there is one.
    pub consent_texts: std::collections::BTreeMap<String, String>,
}

/// A person a guest may ask for: a name only.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Host {
    /// Id.
    pub id: PersonId,
    /// Name.
    pub name: String,
}

/// The fewest letters the host search answers to, so that the kiosk never
/// lists the whole directory.
pub const HOST_SEARCH_MIN: usize = 2;

/// The site as the kiosk shows it.
#[tauri::command(async, rename_all = "snake_case")]
pub fn kiosk_welcome(desk: State<'_, Desk>) -> Answer<KioskWelcome> {
    welcome(&desk)
}

pub(crate) fn welcome(desk: &Desk) -> Answer<KioskWelcome> {
    let site = desk.read(|s| s.site_settings())?.ok_or_else(|| Refusal::new("This kiosk has not received its site yet. Ask at the desk."))?;
    Ok(KioskWelcome {
        site_name: site.name,
        contact_required: site.contact_required,
        purpose_required: site.purpose_required,
        consent_text: site.consent_text,
        consent_texts: site.consent_texts,
    })
}

/// Hosts whose name matches what the guest typed (at least two letters).
#[tauri::command(async, rename_all = "snake_case")]
pub fn find_hosts(desk: State<'_, Desk>, text: String) -> Answer<Vec<Host>> {
    hosts(&desk, &text)
}

pub(crate) fn hosts(desk: &Desk, text: &str) -> Answer<Vec<Host>> {
    let text = text.trim();
    if text.chars().count() < HOST_SEARCH_MIN {
        return Ok(Vec::new());
    }
    let people = desk.read(|s| s.directory(text))?;
    Ok(people.into_iter().take(8).map(|p| Host { id: p.id, name: p.name }).collect())
}

/// The form's problems, field by field, by the same rules the core applies
/// when it is sent. The kiosk shows those of the fields the guest has left.
#[tauri::command(async, rename_all = "snake_case")]
pub fn check_guest_form(desk: State<'_, Desk>, form: GuestForm) -> Answer<Vec<FieldError>> {
    let site = welcome(&desk)?;
    Ok(lodge_core::visit::check_guest_form(&form, site.contact_required, site.purpose_required).err().unwrap_or_default())
}

/// Send the form. The kiosk learns only that it was received.
#[tauri::command(async, rename_all = "snake_case")]
pub fn register_guest(desk: State<'_, Desk>, form: GuestForm) -> Answer<()> {
    desk.write(&[Area::Visits], |s, actor| s.register_guest(actor, form)).map(|_| ())
}
