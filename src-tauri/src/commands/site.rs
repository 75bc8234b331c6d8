//! The site's settings and people, for the admin: card types and ranges,
//! departments and their contacts, affiliations, key types, repair
//! categories; the end-of-day reminder, how long records are kept, the
//! language of messages, the guest form; people added, listed and
//! deactivated.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use lodge_core::person::{Person, PersonForm};
use lodge_core::site::{Affiliation, CardType, CardTypeSpec, Department, KeyType, RepairCategory, SiteSettings};
use lodge_core::{AffiliationId, DepartmentId, KeyTypeId, PersonId, RepairCategoryId};

use crate::desk::Desk;
use crate::error::Answer;
use crate::events::Area;

/// Everything the settings screen shows.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SiteSetup {
    /// Name, time zone, guest policy.
    pub settings: Option<SiteSettings>,
    /// Badge card types and their ranges.
    pub card_types: Vec<CardType>,
    /// Departments.
    pub departments: Vec<Department>,
    /// Affiliations.
    pub affiliations: Vec<Affiliation>,
    /// Key types and their loan terms.
    pub key_types: Vec<KeyType>,
    /// Repair categories.
    pub repair_categories: Vec<RepairCategory>,
}

/// The site's settings.
#[tauri::command(async, rename_all = "snake_case")]
pub fn site_setup(desk: State<'_, Desk>) -> Answer<SiteSetup> {
    let s = desk.store();
    Ok(SiteSetup {
        settings: s.site_settings()?,
        card_types: s.card_types()?,
        departments: s.departments()?,
        affiliations: s.affiliations()?,
        key_types: s.key_types()?,
        repair_categories: s.repair_categories()?,
    })
}

/// Who a department's overdue keys are told to, after the site's number
/// of days (`None`: nobody).
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_department_contact(desk: State<'_, Desk>, id: DepartmentId, contact: Option<String>) -> Answer<()> {
    desk.write(&[Area::Site], |s, actor| s.set_department_contact(actor, id, contact.as_deref()))
}

/// When staff still in are reminded to sign out (`HH:MM`, site time).
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_reminder_time(desk: State<'_, Desk>, time: String) -> Answer<()> {
    desk.write(&[Area::Site], |s, actor| s.set_reminder_time(actor, &time))
}

/// How many days guests' visits are kept after they leave.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_retention_days(desk: State<'_, Desk>, days: u32) -> Answer<()> {
    desk.write(&[Area::Site], |s, actor| s.set_retention_days(actor, days))
}

/// How many days sign-in records are kept after their month ends.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_presence_retention_days(desk: State<'_, Desk>, days: u32) -> Answer<()> {
    desk.write(&[Area::Site], |s, actor| s.set_presence_retention_days(actor, days))
}

/// The language the server writes the site's messages in.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_site_language(desk: State<'_, Desk>, language: String) -> Answer<()> {
    desk.write(&[Area::Site], |s, actor| s.set_site_language(actor, &language))
}

/// After how many days overdue a department's contact is told too.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_overdue_contact_after_days(desk: State<'_, Desk>, days: u32) -> Answer<()> {
    desk.write(&[Area::Site], |s, actor| s.set_overdue_contact_after_days(actor, days))
}

/// What the guest form requires, and the consent text guests accept.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_guest_policy(desk: State<'_, Desk>, contact_required: bool, purpose_required: bool, consent_text: String) -> Answer<()> {
    desk.write(&[Area::Site], |s, actor| s.set_guest_policy(actor, contact_required, purpose_required, &consent_text))
}

/// The consent text in one language; empty removes it.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_consent_text(desk: State<'_, Desk>, language: String, text: String) -> Answer<()> {
    desk.write(&[Area::Site], |s, actor| s.set_consent_text(actor, &language, &text))
}

/// Add or change a card type and its number range.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_card_type(desk: State<'_, Desk>, spec: CardTypeSpec) -> Answer<()> {
    desk.write(&[Area::Site], |s, actor| s.set_card_type(actor, spec))
}

/// Add or rename a department.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_department(desk: State<'_, Desk>, id: DepartmentId, name: String) -> Answer<()> {
    desk.write(&[Area::Site, Area::People], |s, actor| s.set_department(actor, id, &name))
}

/// Add or change an affiliation.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_affiliation(desk: State<'_, Desk>, id: AffiliationId, name: String, requires_user_id: bool) -> Answer<()> {
    desk.write(&[Area::Site, Area::People], |s, actor| s.set_affiliation(actor, id, &name, requires_user_id))
}

/// Add or change a key type and its loan term.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_key_type(desk: State<'_, Desk>, id: KeyTypeId, name: String, loan_days: u32) -> Answer<()> {
    desk.write(&[Area::Site, Area::Keys], |s, actor| s.set_key_type(actor, id, &name, loan_days))
}

/// Add or rename a repair category.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_repair_category(desk: State<'_, Desk>, id: RepairCategoryId, name: String) -> Answer<()> {
    desk.write(&[Area::Site], |s, actor| s.set_repair_category(actor, id, &name))
}

/// People whose name or e-mail contains `search`.
#[tauri::command(async, rename_all = "snake_case")]
pub fn people_list(desk: State<'_, Desk>, search: String) -> Answer<Vec<Person>> {
    desk.read(|s| s.people(search.trim()))
}

/// Add a person.
#[tauri::command(async, rename_all = "snake_case")]
pub fn create_person(desk: State<'_, Desk>, form: PersonForm) -> Answer<PersonId> {
    desk.write(&[Area::People], |s, actor| s.create_person(actor, form))
}

/// Change a person's details, roles and badge (admin).
#[tauri::command(async, rename_all = "snake_case")]
pub fn update_person(desk: State<'_, Desk>, id: PersonId, form: PersonForm) -> Answer<()> {
    desk.write(&[Area::People], |s, actor| s.update_person(actor, id, form))
}

/// What a person did here: sign-ins of the last 90 days, every key loan,
/// every item held.
#[tauri::command(async, rename_all = "snake_case")]
pub fn person_history(desk: State<'_, Desk>, id: PersonId) -> Answer<lodge_core::person::PersonHistory> {
    desk.read(|s| {
        let from = lodge_core::Timestamp::from_millis(s.now().millis() - 90 * 86_400_000);
        s.person_history(id, from)
    })
}

/// A person left: they can no longer sign in, borrow or be visited.
#[tauri::command(async, rename_all = "snake_case")]
pub fn deactivate_person(desk: State<'_, Desk>, id: PersonId) -> Answer<()> {
    desk.write(&[Area::People], |s, actor| s.deactivate_person(actor, id))
}
