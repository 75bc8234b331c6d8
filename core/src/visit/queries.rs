//! Reading visits from the projections: the waiting queue, one visit, a
//! visit by its card, and history search.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::{Error, VisitState};
use crate::ids::{CardNumber, CardUid, PersonId, VisitId};
use crate::store::Store;
use crate::time::Timestamp;

/// A visit as the desk sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Visit {
    /// Id.
    pub id: VisitId,
    /// Where it stands.
    pub state: VisitState,
    /// Guest's name.
    pub guest_name: String,
    /// Guest's company.
    pub company: String,
    /// Guest's e-mail.
    pub email: Option<String>,
    /// Guest's phone.
    pub phone: Option<String>,
    /// Host.
    pub host: PersonId,
    /// Host's name.
    pub host_name: String,
    /// Purpose.
    pub purpose: String,
    /// When they registered (an expected guest: when they came, or were
    /// expected).
    pub registered_at: Timestamp,
    /// The day an expected guest is expected, `YYYY-MM-DD`; none for a walk-in.
    #[serde(default)]
    pub expected_on: Option<String>,
    /// An expected guest's invitation code, for the desk to read out.
    #[serde(default)]
    pub invitation: Option<String>,
}

/// Filters for visit history; every filter is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VisitSearch {
    /// Part of the guest's name or company.
    pub text: Option<String>,
    /// Part of the host's name.
    pub host: Option<String>,
    /// Registered at or after.
    pub from: Option<Timestamp>,
    /// Registered before.
    pub to: Option<Timestamp>,
    /// At most this many (default 200).
    pub limit: Option<u32>,
}

pub(crate) const VISIT_SELECT: &str = "SELECT visit_id, state, guest_name, company, email, phone, host_id, host_name, purpose, registered_at, card, admitted_at, left_at, expected_on, invitation FROM visits";

pub(crate) fn visit_row(r: &Row<'_>) -> rusqlite::Result<Visit> {
    let state: String = r.get(1)?;
    let card: Option<CardNumber> = r.get(10)?;
    let admitted_at: Option<Timestamp> = r.get(11)?;
    let left_at: Option<Timestamp> = r.get(12)?;
    let state = match (state.as_str(), card, admitted_at, left_at) {
        ("admitted", Some(card), Some(since), _) => VisitState::Admitted { card, since },
        ("left", Some(card), Some(admitted_at), Some(left_at)) => VisitState::Left { card, admitted_at, left_at },
        ("expected", ..) => VisitState::Expected,
        _ => VisitState::Waiting,
    };
    Ok(Visit {
        id: r.get(0)?,
        state,
        guest_name: r.get(2)?,
        company: r.get(3)?,
        email: r.get(4)?,
        phone: r.get(5)?,
        host: r.get(6)?,
        host_name: r.get(7)?,
        purpose: r.get(8)?,
        registered_at: r.get(9)?,
        expected_on: r.get(13)?,
        invitation: r.get(14)?,
    })
}

fn like(text: &Option<String>) -> Option<String> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(|t| {
        format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
    })
}

impl Store {
    /// Guests waiting at the desk, newest first.
    pub fn waiting_guests(&self) -> Result<Vec<Visit>, crate::store::Error> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("{VISIT_SELECT} WHERE state = 'waiting' ORDER BY registered_at DESC, visit_id"))?;
        let rows = stmt.query_map([], visit_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Guests in the building now, by admission time.
    pub fn guests_in(&self) -> Result<Vec<Visit>, crate::store::Error> {
        Ok(guests_in(self.conn())?)
    }

    /// One visit, if it is on this device.
    pub fn visit(&self, id: VisitId) -> Result<Option<Visit>, crate::store::Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{VISIT_SELECT} WHERE visit_id = ?1"))?;
        Ok(stmt.query_row([id], visit_row).optional()?)
    }

    /// The open visit whose card was just tapped on the reader.
    pub fn find_visit_by_card_uid(&self, uid: &CardUid) -> Result<Visit, Error> {
        let card = self.card_by_uid(uid)?.ok_or_else(|| Error::UnknownCardUid(uid.clone()))?;
        let mut stmt = self.conn().prepare_cached(&format!(
            "{VISIT_SELECT} WHERE state = 'admitted' AND card = ?1 ORDER BY admitted_at, visit_id LIMIT 1"
        )).map_err(crate::store::Error::from)?;
        stmt.query_row([card.number], visit_row)
            .optional()
            .map_err(crate::store::Error::from)?
            .ok_or(Error::CardNotOut(card.number))
    }

    /// Past and present visits matching the filters, newest first.
    pub fn visit_history(&self, search: &VisitSearch) -> Result<Vec<Visit>, crate::store::Error> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "{VISIT_SELECT}
             WHERE (?1 IS NULL OR guest_name LIKE ?1 ESCAPE '\\' OR company LIKE ?1 ESCAPE '\\')
               AND (?2 IS NULL OR host_name LIKE ?2 ESCAPE '\\')
               AND (?3 IS NULL OR registered_at >= ?3)
               AND (?4 IS NULL OR registered_at < ?4)
             ORDER BY registered_at DESC, visit_id LIMIT ?5"
        ))?;
        let rows = stmt.query_map(
            params![like(&search.text), like(&search.host), search.from, search.to, search.limit.unwrap_or(200)],
            visit_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Guests in the building now (see [`Store::guests_in`]), for a command's
/// transaction as well.
pub(crate) fn guests_in(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<Visit>> {
    let mut stmt = conn.prepare_cached(&format!("{VISIT_SELECT} WHERE state = 'admitted' ORDER BY admitted_at, visit_id"))?;
    let rows = stmt.query_map([], visit_row)?;
    rows.collect()
}
