//! Reading the site's settings and badge cards from the projections.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::ids::{AffiliationId, CardNumber, CardTypeId, CardUid, DepartmentId, KeyTypeId, RepairCategoryId, SiteId, VisitId};
use crate::store::{Error, Store};

/// The site's settings as the app shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteSettings {
    /// The site.
    pub site: SiteId,
    /// Its name.
    pub name: String,
    /// Its IANA time zone.
    pub time_zone: String,
    /// Days guest data is kept.
    pub retention_days: u32,
    /// Sign-out reminder time, `HH:MM`.
    pub reminder_time: String,
    /// Whether guests must leave an e-mail or phone.
    pub contact_required: bool,
    /// Whether guests must give a purpose.
    pub purpose_required: bool,
    /// What guests consent to.
    pub consent_text: String,
    /// The consent text in other languages, by language code.
    pub consent_texts: std::collections::BTreeMap<String, String>,
    /// Days a key may be overdue before its borrower's department contact
    /// is told as well.
    pub overdue_contact_after_days: u32,
    /// Days sign-in records are kept after their month ends.
    pub presence_retention_days: u32,
    /// The language of the site's messages: `en`, `pl`, `uk` or `ru`.
    pub language: String,
}

/// A badge card type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CardType {
    /// Its id.
    pub id: CardTypeId,
    /// Its name.
    pub label: String,
    /// First number.
    pub first: u32,
    /// Last number.
    pub last: u32,
    /// Whether guests may get it.
    pub for_guests: bool,
}

/// A key type and its loan term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyType {
    /// Its id.
    pub id: KeyTypeId,
    /// Its name.
    pub name: String,
    /// Default loan term in days.
    pub loan_days: u32,
}

/// A department people belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Department {
    /// Its id.
    pub id: DepartmentId,
    /// Its name.
    pub name: String,
    /// The e-mail address of its administrative contact, if it has one.
    pub contact: Option<String>,
}

/// An affiliation (employee, student, contractor…), which may require a
/// user id before keys are lent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Affiliation {
    /// Its id.
    pub id: AffiliationId,
    /// Its name.
    pub name: String,
    /// Whether key loans need the person's user id.
    pub requires_user_id: bool,
}

/// A repair category a fault report picks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RepairCategory {
    /// Its id.
    pub id: RepairCategoryId,
    /// Its name.
    pub name: String,
}

/// Where a badge card is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum CardStatus {
    /// In the drawer.
    Free,
    /// Out of use.
    Inactive,
    /// With a guest.
    WithGuest {
        /// The visit.
        visit: VisitId,
        /// Since when.
        since: crate::time::Timestamp,
    },
}

/// A badge card and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CardInfo {
    /// Its number.
    pub number: CardNumber,
    /// Its type.
    pub card_type: CardTypeId,
    /// Its registered UID, if any.
    pub uid: Option<CardUid>,
    /// Where it is.
    pub status: CardStatus,
}

impl SiteSettings {
    /// The consent text a guest reads in `language`: its translation when
    /// the admin wrote one, else the site's own.
    pub fn consent_for(&self, language: Option<&str>) -> &str {
        language.and_then(|l| self.consent_texts.get(l)).map_or(&self.consent_text, String::as_str)
    }
}

/// The site's settings read inside a transaction as outside one.
pub(crate) fn settings_in(conn: &rusqlite::Connection) -> Result<Option<SiteSettings>, Error> {
    Ok(conn
        .query_row(
            "SELECT site_id, name, time_zone, retention_days, reminder_time, contact_required, purpose_required, consent_text, coalesce(presence_retention_days, ?1), overdue_contact_after_days, language, consent_texts FROM sites LIMIT 1",
            [crate::retention::DEFAULT_PRESENCE_RETENTION_DAYS],
            |r| {
                Ok(SiteSettings {
                    site: r.get(0)?,
                    name: r.get(1)?,
                    time_zone: r.get(2)?,
                    retention_days: r.get(3)?,
                    reminder_time: r.get(4)?,
                    contact_required: r.get(5)?,
                    purpose_required: r.get(6)?,
                    consent_text: r.get(7)?,
                    presence_retention_days: r.get(8)?,
                    overdue_contact_after_days: r.get(9)?,
                    language: r.get(10)?,
                    consent_texts: serde_json::from_str(&r.get::<_, String>(11)?).unwrap_or_default(),
                })
            },
        )
        .optional()?)
}

impl Store {
    /// The site's settings, once a site exists here.
    pub fn site_settings(&self) -> Result<Option<SiteSettings>, Error> {
        settings_in(self.conn())
    }

    /// The badge card types, by first number.
    pub fn card_types(&self) -> Result<Vec<CardType>, Error> {
        let mut stmt = self.conn().prepare_cached("SELECT type_id, label, first, last, for_guests FROM card_types ORDER BY first")?;
        let rows = stmt.query_map([], |r| {
            Ok(CardType { id: r.get(0)?, label: r.get(1)?, first: r.get(2)?, last: r.get(3)?, for_guests: r.get(4)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Key types and their loan terms.
    pub fn key_types(&self) -> Result<Vec<KeyType>, Error> {
        let mut stmt = self.conn().prepare_cached("SELECT key_type_id, name, loan_days FROM key_types ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok(KeyType { id: r.get(0)?, name: r.get(1)?, loan_days: r.get(2)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Departments, by name.
    pub fn departments(&self) -> Result<Vec<Department>, Error> {
        let mut stmt = self.conn().prepare_cached("SELECT department_id, name, contact FROM departments ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok(Department { id: r.get(0)?, name: r.get(1)?, contact: r.get(2)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Affiliations, by name.
    pub fn affiliations(&self) -> Result<Vec<Affiliation>, Error> {
        let mut stmt = self.conn().prepare_cached("SELECT affiliation_id, name, requires_user_id FROM affiliations ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok(Affiliation { id: r.get(0)?, name: r.get(1)?, requires_user_id: r.get(2)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Repair categories, by name.
    pub fn repair_categories(&self) -> Result<Vec<RepairCategory>, Error> {
        let mut stmt = self.conn().prepare_cached("SELECT category_id, name FROM repair_categories ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok(RepairCategory { id: r.get(0)?, name: r.get(1)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Cards in the drawer (active, on no open visit), of one type or all,
    /// lowest number first.
    pub fn free_cards(&self, card_type: Option<&CardTypeId>) -> Result<Vec<CardInfo>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "{CARD_SELECT} WHERE c.active = 1 AND v.visit_id IS NULL AND (?1 IS NULL OR c.type_id = ?1) ORDER BY c.number"
        ))?;
        let rows = stmt.query_map(params![card_type], card_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One card and where it is.
    pub fn card(&self, number: CardNumber) -> Result<Option<CardInfo>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{CARD_SELECT} WHERE c.number = ?1"))?;
        Ok(stmt.query_row([number], card_row).optional()?)
    }

    /// The card with this NFC UID, if registered.
    pub fn card_by_uid(&self, uid: &CardUid) -> Result<Option<CardInfo>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{CARD_SELECT} WHERE c.uid = ?1 ORDER BY c.number LIMIT 1"))?;
        Ok(stmt.query_row([uid], card_row).optional()?)
    }
}

// The earliest admission keeps a card that is (by conflict) on two visits.
const CARD_SELECT: &str = "SELECT c.number, c.type_id, c.uid, c.active, v.visit_id, v.admitted_at FROM cards c
     LEFT JOIN visits v ON v.visit_id = (SELECT visit_id FROM visits WHERE state = 'admitted' AND card = c.number ORDER BY admitted_at, visit_id LIMIT 1)";

fn card_row(r: &Row<'_>) -> rusqlite::Result<CardInfo> {
    let active: bool = r.get(3)?;
    let visit: Option<VisitId> = r.get(4)?;
    let status = match (visit, active) {
        (Some(visit), _) => CardStatus::WithGuest { visit, since: r.get(5)? },
        (None, false) => CardStatus::Inactive,
        (None, true) => CardStatus::Free,
    };
    Ok(CardInfo { number: r.get(0)?, card_type: r.get(1)?, uid: r.get(2)?, status })
}
