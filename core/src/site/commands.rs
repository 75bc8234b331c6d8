//! Site commands: creating a site on this device and changing its settings.
//! All but creation need the admin role.

use std::collections::BTreeMap;

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::document::{AffiliationEntry, CardEntry, CardTypeEntry, GuestPolicy, KeyTypeEntry};
use super::{DirectoryDoc, Error, SiteDoc};
use crate::actor::{Actor, Role};
use crate::document::{DocId, DocKind, Header};
use crate::ids::{AffiliationId, CardNumber, CardTypeId, CardUid, DepartmentId, Email, KeyTypeId, RepairCategoryId, SiteId};
use crate::store::{Store, Work};

/// What a new site needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewSite {
    /// The building's name, shown on the kiosk's welcome.
    pub name: String,
    /// IANA time zone, e.g. `Europe/Warsaw`.
    pub time_zone: String,
}

/// A badge card type and its number range.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CardTypeSpec {
    /// Its id (`guest`).
    pub id: CardTypeId,
    /// Its name as people read it.
    pub label: String,
    /// First card number.
    pub first: u32,
    /// Last card number.
    pub last: u32,
    /// Whether guests may get these cards.
    pub for_guests: bool,
}

const DEFAULT_CONSENT: &str = "I agree that my name, company and contact details are kept for this visit and deleted after the retention period.";

fn default_card_types() -> BTreeMap<String, CardTypeEntry> {
    [
        ("guest", "Guest", 100, 199, true),
        ("full-service", "Full service", 200, 299, true),
        ("admin", "Admin", 700, 799, false),
    ]
    .into_iter()
    .map(|(id, label, first, last, for_guests)| {
        (id.to_owned(), CardTypeEntry { label: label.to_owned(), first, last, for_guests })
    })
    .collect()
}

fn admin_only(actor: &Actor, action: &'static str) -> Result<(), Error> {
    actor.require(&[Role::Admin], action).map_err(Error::from)
}

/// Read the site document inside a command.
pub(crate) fn read_site(work: &mut Work<'_>) -> Result<(DocId, SiteDoc), Error> {
    let site = crate::store::current_site(work.conn())?;
    let id = DocId::site(site);
    let doc = work.read::<SiteDoc>(&id)?.ok_or(crate::store::Error::NoSite)?;
    Ok((id, doc))
}

/// Read the directory inside a command.
pub(crate) fn read_directory(work: &mut Work<'_>) -> Result<(DocId, DirectoryDoc), crate::store::Error> {
    let site = crate::store::current_site(work.conn())?;
    let id = DocId::directory(site);
    let doc = work.read::<DirectoryDoc>(&id)?.ok_or(crate::store::Error::NoSite)?;
    Ok((id, doc))
}

impl Store {
    /// Start a new site on this device, with default card types (100-199
    /// guest, 200-299 full service, 700-799 admin). Works with no server.
    pub fn create_site(&mut self, actor: &Actor, new: NewSite) -> Result<SiteId, Error> {
        admin_only(actor, "create a site")?;
        let name = new.name.trim().to_owned();
        if name.is_empty() {
            return Err(Error::Empty { field: "site name" });
        }
        let time_zone = new.time_zone.trim().to_owned();
        if time_zone.is_empty() {
            return Err(Error::Empty { field: "time zone" });
        }
        self.run("create_site", actor, |work| {
            let existing: Option<String> = work
                .conn()
                .query_row("SELECT name FROM sites LIMIT 1", [], |r| r.get(0))
                .optional()
                .map_err(crate::store::Error::from)?;
            if let Some(name) = existing {
                return Err(Error::AlreadyHasSite { name });
            }
            let site = SiteId::new();
            crate::store::set_current_site(work.conn(), site)?;
            let doc = SiteDoc {
                header: Header::new(DocKind::Site, site, None),
                name,
                time_zone,
                card_types: default_card_types(),
                cards: BTreeMap::new(),
                departments: BTreeMap::new(),
                affiliations: BTreeMap::new(),
                key_types: BTreeMap::new(),
                repair_categories: BTreeMap::new(),
                retention_days: 30,
                presence_retention_days: Some(crate::retention::DEFAULT_PRESENCE_RETENTION_DAYS),
                reminder_time: "18:00".into(),
                guest_policy: GuestPolicy {
                    contact_required: false,
                    purpose_required: false,
                    consent_text: DEFAULT_CONSENT.into(),
                    consent_texts: None,
                },
                department_contacts: Some(BTreeMap::new()),
                overdue_contact_after_days: None,
                language: None,
            };
            work.create(&DocId::site(site), &doc)?;
            let directory = DirectoryDoc { header: Header::new(DocKind::Directory, site, None), people: BTreeMap::new() };
            work.create(&DocId::directory(site), &directory)?;
            Ok(site)
        })
    }

    /// Make this store part of an existing site (before its documents arrive
    /// by sync).
    pub fn join_site(&mut self, site: SiteId) -> Result<(), Error> {
        crate::store::set_current_site(self.conn(), site)?;
        Ok(())
    }

    /// Add or change a badge card type and its range.
    pub fn set_card_type(&mut self, actor: &Actor, spec: CardTypeSpec) -> Result<(), Error> {
        admin_only(actor, "change card types")?;
        let label = spec.label.trim().to_owned();
        if label.is_empty() {
            return Err(Error::Empty { field: "card type name" });
        }
        if spec.first == 0 || spec.first > spec.last || spec.last - spec.first >= 10_000 || spec.last > CardNumber::MAX {
            return Err(Error::InvalidRange { first: spec.first, last: spec.last });
        }
        self.run("set_card_type", actor, |work| {
            let (id, mut site) = read_site(work)?;
            for (other_id, other) in &site.card_types {
                if other_id != spec.id.as_str() && spec.first <= other.last && other.first <= spec.last {
                    return Err(Error::RangeOverlaps {
                        first: spec.first,
                        last: spec.last,
                        other: other.label.clone(),
                        other_first: other.first,
                        other_last: other.last,
                    });
                }
            }
            site.card_types.insert(
                spec.id.to_string(),
                CardTypeEntry { label, first: spec.first, last: spec.last, for_guests: spec.for_guests },
            );
            work.write(&id, &site)?;
            Ok(())
        })
    }

    /// Register the NFC UID of the physical card with this number.
    pub fn register_card(&mut self, actor: &Actor, number: CardNumber, uid: CardUid) -> Result<(), Error> {
        admin_only(actor, "register cards")?;
        self.run("register_card", actor, |work| {
            let (id, mut site) = read_site(work)?;
            if !in_some_range(&site, number) {
                return Err(Error::UnknownCard(number));
            }
            for (other, entry) in &site.cards {
                if entry.uid.as_deref() == Some(uid.as_str()) && *other != number.to_string() {
                    let other = CardNumber::parse(other)?;
                    return Err(Error::UidInUse { uid, number: other });
                }
            }
            let entry = site.cards.entry(number.to_string()).or_insert(CardEntry { uid: None, active: true });
            entry.uid = Some(uid.to_string());
            work.write(&id, &site)?;
            Ok(())
        })
    }

    /// Take a card out of use (lost, broken) or back into use.
    pub fn set_card_active(&mut self, actor: &Actor, number: CardNumber, active: bool) -> Result<(), Error> {
        admin_only(actor, "take cards out of use")?;
        self.run("set_card_active", actor, |work| {
            let (id, mut site) = read_site(work)?;
            if !in_some_range(&site, number) {
                return Err(Error::UnknownCard(number));
            }
            site.cards.entry(number.to_string()).or_insert(CardEntry { uid: None, active: true }).active = active;
            work.write(&id, &site)?;
            Ok(())
        })
    }

    /// Add or rename a department.
    pub fn set_department(&mut self, actor: &Actor, dep: DepartmentId, name: &str) -> Result<(), Error> {
        admin_only(actor, "change departments")?;
        let name = non_empty(name, "department name")?;
        self.edit_site("set_department", actor, move |site| {
            site.departments.insert(dep.to_string(), name);
            Ok(())
        })
    }

    /// Set or clear the e-mail address of a department's administrative
    /// contact, who is told of its people's keys long overdue.
    pub fn set_department_contact(&mut self, actor: &Actor, dep: DepartmentId, contact: Option<&str>) -> Result<(), Error> {
        admin_only(actor, "change departments")?;
        let contact = contact.map(str::trim).filter(|c| !c.is_empty()).map(Email::parse).transpose()?;
        self.edit_site("set_department_contact", actor, move |site| {
            if !site.departments.contains_key(dep.as_str()) {
                return Err(Error::UnknownDepartment(dep));
            }
            let contacts = site.department_contacts.get_or_insert_with(BTreeMap::new);
            match contact {
                Some(email) => contacts.insert(dep.to_string(), email.as_str().to_owned()),
                None => contacts.remove(dep.as_str()),
            };
            Ok(())
        })
    }

    /// After how many days overdue a key's borrower's department contact
    /// is told too (1 to 365).
    pub fn set_overdue_contact_after_days(&mut self, actor: &Actor, days: u32) -> Result<(), Error> {
        admin_only(actor, "change when departments are told of overdue keys")?;
        if !(1..=365).contains(&days) {
            return Err(Error::BadOverdueDays(days));
        }
        self.edit_site("set_overdue_contact_after_days", actor, move |site| {
            site.overdue_contact_after_days = Some(days);
            Ok(())
        })
    }

    /// The language the site's messages are written in.
    pub fn set_site_language(&mut self, actor: &Actor, language: &str) -> Result<(), Error> {
        admin_only(actor, "change the site's language")?;
        let language = language.trim().to_lowercase();
        if !super::LANGUAGES.contains(&language.as_str()) {
            return Err(Error::UnknownLanguage(language));
        }
        self.edit_site("set_site_language", actor, move |site| {
            site.language = Some(language);
            Ok(())
        })
    }

    /// Add or change an affiliation and whether it requires a user id.
    pub fn set_affiliation(&mut self, actor: &Actor, aff: AffiliationId, name: &str, requires_user_id: bool) -> Result<(), Error> {
        admin_only(actor, "change affiliations")?;
        let name = non_empty(name, "affiliation name")?;
        self.edit_site("set_affiliation", actor, move |site| {
            site.affiliations.insert(aff.to_string(), AffiliationEntry { name, requires_user_id });
            Ok(())
        })
    }

    /// Add or change a key type and its loan term in days.
    pub fn set_key_type(&mut self, actor: &Actor, key_type: KeyTypeId, name: &str, loan_days: u32) -> Result<(), Error> {
        admin_only(actor, "change key types")?;
        let name = non_empty(name, "key type name")?;
        if !(1..=3650).contains(&loan_days) {
            return Err(Error::BadLoanTerm(loan_days));
        }
        self.edit_site("set_key_type", actor, move |site| {
            site.key_types.insert(key_type.to_string(), KeyTypeEntry { name, loan_days });
            Ok(())
        })
    }

    /// Add or rename a repair category.
    pub fn set_repair_category(&mut self, actor: &Actor, category: RepairCategoryId, name: &str) -> Result<(), Error> {
        admin_only(actor, "change repair categories")?;
        let name = non_empty(name, "repair category name")?;
        self.edit_site("set_repair_category", actor, move |site| {
            site.repair_categories.insert(category.to_string(), name);
            Ok(())
        })
    }

    /// How many days guests' data is kept after they leave.
    pub fn set_retention_days(&mut self, actor: &Actor, days: u32) -> Result<(), Error> {
        admin_only(actor, "change retention")?;
        if !(1..=3650).contains(&days) {
            return Err(Error::BadRetention(days));
        }
        self.edit_site("set_retention_days", actor, move |site| {
            site.retention_days = days;
            Ok(())
        })
    }

    /// How many days people's sign-in records are kept after their month
    /// ends (then erased with their month, its counts kept).
    pub fn set_presence_retention_days(&mut self, actor: &Actor, days: u32) -> Result<(), Error> {
        admin_only(actor, "change retention")?;
        if !(31..=3650).contains(&days) {
            return Err(Error::BadPresenceRetention(days));
        }
        self.edit_site("set_presence_retention_days", actor, move |site| {
            site.presence_retention_days = Some(days);
            Ok(())
        })
    }

    /// When staff are reminded to sign out (`HH:MM`, site time).
    pub fn set_reminder_time(&mut self, actor: &Actor, time: &str) -> Result<(), Error> {
        admin_only(actor, "change the reminder time")?;
        let t = time.trim();
        if chrono::NaiveTime::parse_from_str(t, "%H:%M").is_err() || t.len() != 5 {
            return Err(Error::BadTimeOfDay(time.to_owned()));
        }
        let t = t.to_owned();
        self.edit_site("set_reminder_time", actor, move |site| {
            site.reminder_time = t;
            Ok(())
        })
    }

    /// What the guest form requires, and the consent text guests accept.
    pub fn set_guest_policy(&mut self, actor: &Actor, contact_required: bool, purpose_required: bool, consent_text: &str) -> Result<(), Error> {
        admin_only(actor, "change the guest form")?;
        let consent_text = non_empty(consent_text, "consent text")?;
        self.edit_site("set_guest_policy", actor, move |site| {
            let translations = site.guest_policy.consent_texts.take();
            site.guest_policy = GuestPolicy { contact_required, purpose_required, consent_text, consent_texts: translations };
            Ok(())
        })
    }

    /// The consent text guests read in one language (`en`, `pl`, `uk`,
    /// `ru`); an empty text removes it, and guests of that language read
    /// the site's own consent text.
    pub fn set_consent_text(&mut self, actor: &Actor, language: &str, text: &str) -> Result<(), Error> {
        admin_only(actor, "change the guest form")?;
        let language = language.trim().to_lowercase();
        if !super::LANGUAGES.contains(&language.as_str()) {
            return Err(Error::UnknownLanguage(language));
        }
        let text = text.trim().to_owned();
        self.edit_site("set_consent_text", actor, move |site| {
            let texts = site.guest_policy.consent_texts.get_or_insert_with(BTreeMap::new);
            if text.is_empty() {
                texts.remove(&language);
            } else {
                texts.insert(language, text);
            }
            Ok(())
        })
    }

    fn edit_site(&mut self, command: &str, actor: &Actor, edit: impl FnOnce(&mut SiteDoc) -> Result<(), Error>) -> Result<(), Error> {
        self.run(command, actor, |work| {
            let (id, mut site) = read_site(work)?;
            edit(&mut site)?;
            work.write(&id, &site)?;
            Ok(())
        })
    }
}

fn non_empty(text: &str, field: &'static str) -> Result<String, Error> {
    let t = text.trim();
    if t.is_empty() { Err(Error::Empty { field }) } else { Ok(t.to_owned()) }
}

fn in_some_range(site: &SiteDoc, number: CardNumber) -> bool {
    site.card_types.values().any(|t| (t.first..=t.last).contains(&number.get()))
}
