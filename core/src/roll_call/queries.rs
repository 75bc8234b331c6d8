//! Reading roll calls from the projections: the running one with everyone
//! on it (missing people first), and the reports of past ones.

use rusqlite::{OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::{Accountable, Standing};
use crate::actor::Actor;
use crate::ids::{CardNumber, RollCallId};
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// A roll call at a glance: when, by whom, how many accounted for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RollCallSummary {
    /// Which.
    pub id: RollCallId,
    /// When it started.
    pub started_at: Timestamp,
    /// Who started it (their name).
    pub started_by: String,
    /// When it ended; `None` while it runs.
    pub ended_at: Option<Timestamp>,
    /// Who ended it.
    pub ended_by: Option<String>,
    /// How many people it expects.
    pub expected: u32,
    /// How many were marked safe.
    pub safe: u32,
    /// How many were marked not here today.
    pub not_here: u32,
}

impl RollCallSummary {
    /// Safe or known not to be here: the "N" of "N of M accounted for".
    pub fn accounted(&self) -> u32 {
        self.safe + self.not_here
    }
}

/// One person on a roll call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RollCallEntry {
    /// Who.
    pub who: Accountable,
    /// Their name.
    pub name: String,
    /// A member of staff's department.
    pub department: Option<String>,
    /// A guest's company.
    pub company: Option<String>,
    /// A guest's card.
    pub card: Option<CardNumber>,
    /// A guest's host.
    pub host_name: Option<String>,
    /// Where they stand.
    pub standing: Standing,
    /// When the standing mark was made.
    pub marked_at: Option<Timestamp>,
    /// Who made it (their name).
    pub marked_by: Option<String>,
}

/// A roll call with everyone on it: missing people first, then by
/// department (staff) and company (guests), then by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RollCall {
    /// The counts.
    pub summary: RollCallSummary,
    /// Everyone.
    pub entries: Vec<RollCallEntry>,
}

const SUMMARY_SELECT: &str = "SELECT r.roll_call_id, r.started_at, r.started_by, r.ended_at, r.ended_by,
        (SELECT count(*) FROM roll_call_people p WHERE p.roll_call_id = r.roll_call_id),
        (SELECT count(*) FROM roll_call_people p WHERE p.roll_call_id = r.roll_call_id AND p.status = 'safe'),
        (SELECT count(*) FROM roll_call_people p WHERE p.roll_call_id = r.roll_call_id AND p.status = 'not-here')
    FROM roll_calls r";

fn summary_row(r: &Row<'_>) -> rusqlite::Result<RollCallSummary> {
    Ok(RollCallSummary {
        id: r.get(0)?,
        started_at: r.get(1)?,
        started_by: Actor::name_in_tag(&r.get::<_, String>(2)?).to_owned(),
        ended_at: r.get(3)?,
        ended_by: r.get::<_, Option<String>>(4)?.map(|t| Actor::name_in_tag(&t).to_owned()),
        expected: r.get(5)?,
        safe: r.get(6)?,
        not_here: r.get(7)?,
    })
}

fn entry_row(r: &Row<'_>) -> rusqlite::Result<Option<RollCallEntry>> {
    let Some(who) = Accountable::parse(&r.get::<_, String>(0)?) else { return Ok(None) };
    Ok(Some(RollCallEntry {
        who,
        name: r.get(1)?,
        department: r.get(2)?,
        company: r.get(3)?,
        card: r.get(4)?,
        host_name: r.get(5)?,
        standing: Standing::from_stored(&r.get::<_, String>(6)?).unwrap_or(Standing::Missing),
        marked_at: r.get(7)?,
        marked_by: r.get::<_, Option<String>>(8)?.map(|t| Actor::name_in_tag(&t).to_owned()),
    }))
}

impl Store {
    /// The roll call running now, if any (the newest, should two devices
    /// have started one each while offline).
    pub fn running_roll_call(&self) -> Result<Option<RollCall>, Error> {
        let id: Option<RollCallId> = self
            .conn()
            .prepare_cached("SELECT roll_call_id FROM roll_calls WHERE ended_at IS NULL ORDER BY started_at DESC, roll_call_id LIMIT 1")?
            .query_row([], |r| r.get(0))
            .optional()?;
        id.map(|id| self.roll_call(id)).transpose().map(Option::flatten)
    }

    /// One roll call with everyone on it.
    pub fn roll_call(&self, id: RollCallId) -> Result<Option<RollCall>, Error> {
        let summary =
            self.conn().prepare_cached(&format!("{SUMMARY_SELECT} WHERE r.roll_call_id = ?1"))?.query_row([id], summary_row).optional()?;
        let Some(summary) = summary else { return Ok(None) };
        let mut stmt = self.conn().prepare_cached(
            "SELECT subject, name, department, company, card, host_name, status, marked_at, marked_by
             FROM roll_call_people WHERE roll_call_id = ?1
             ORDER BY status <> 'missing', kind DESC, coalesce(department, company) IS NULL, coalesce(department, company), name, subject",
        )?;
        let entries = stmt.query_map([id], entry_row)?.filter_map(Result::transpose).collect::<Result<_, _>>()?;
        Ok(Some(RollCall { summary, entries }))
    }

    /// Every roll call on this device, newest first: the site's reports.
    pub fn roll_calls(&self) -> Result<Vec<RollCallSummary>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{SUMMARY_SELECT} ORDER BY r.started_at DESC, r.roll_call_id"))?;
        let rows = stmt.query_map([], summary_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
