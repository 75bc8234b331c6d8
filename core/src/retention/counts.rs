//! Anonymous daily counts: what an erased document added to the site's
//! statistics, per day in the site's time zone, kept after the document
//! is gone. A count holds a day, a measure and a number: no name, no id,
//! nothing that says who.
//!
//! The measures are what a statistics screen of the front desk shows per
//! day: guests registered, guests admitted, sign-ins, and people who
//! signed in (a person has one presence document per month, so each
//! erased month adds one for each day its person signed in). The counts
//! are those of erased documents only; a screen adds the documents still
//! kept, which its projections hold.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::presence::{PresenceChange, PresenceDoc};
use crate::store::{Error, Store};
use crate::time::Timestamp;
use crate::visit::{VisitDoc, VisitState};

/// What a daily count counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// Guests registered (at the kiosk or the desk) that day.
    VisitsRegistered,
    /// Guests admitted with a card that day.
    VisitsAdmitted,
    /// Sign-ins that day (voided duplicates not counted).
    SignIns,
    /// People who signed in at least once that day.
    PeopleSignedIn,
}

impl Measure {
    /// Its name in the store and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::VisitsRegistered => "visits-registered",
            Measure::VisitsAdmitted => "visits-admitted",
            Measure::SignIns => "sign-ins",
            Measure::PeopleSignedIn => "people-signed-in",
        }
    }

    /// The measure of its name (see [`Measure::as_str`]), if this build knows it.
    pub fn parse(text: &str) -> Option<Self> {
        [Measure::VisitsRegistered, Measure::VisitsAdmitted, Measure::SignIns, Measure::PeopleSignedIn].into_iter().find(|m| m.as_str() == text)
    }
}

/// One day's count of one measure, from erased documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DailyCount {
    /// `YYYY-MM-DD` in the site's time zone.
    pub day: String,
    /// What is counted.
    pub measure: Measure,
    /// How many.
    pub count: u64,
}

/// Turns instants into the site's calendar days.
pub(crate) struct Days(chrono_tz::Tz);

impl Days {
    /// The site's time zone (UTC if the site names none that is known).
    pub(crate) fn of_site(conn: &Connection) -> Result<Self, Error> {
        let zone: Option<String> = conn.prepare_cached("SELECT time_zone FROM sites LIMIT 1")?.query_row([], |r| r.get(0)).optional()?;
        Ok(Self(zone.and_then(|z| z.parse().ok()).unwrap_or(chrono_tz::UTC)))
    }

    fn day(&self, at: Timestamp) -> String {
        at.to_utc().with_timezone(&self.0).format("%Y-%m-%d").to_string()
    }
}

/// What an erased visit adds.
pub(crate) fn of_visit(visit: &VisitDoc, days: &Days) -> Vec<(String, Measure)> {
    let folded = visit.fold();
    // An expected guest who never came was never registered.
    if folded.state == VisitState::Expected {
        return Vec::new();
    }
    let mut out = vec![(days.day(folded.arrived_at.unwrap_or(visit.registered_at)), Measure::VisitsRegistered)];
    let admitted = match folded.state {
        VisitState::Admitted { since, .. } => Some(since),
        VisitState::Left { admitted_at, .. } => Some(admitted_at),
        VisitState::Expected | VisitState::Waiting => None,
    };
    if let Some(at) = admitted {
        out.push((days.day(at), Measure::VisitsAdmitted));
    }
    out
}

/// What an erased presence month adds.
pub(crate) fn of_presence(month: &PresenceDoc, days: &Days) -> Vec<(String, Measure)> {
    let voided: HashSet<_> = month
        .events
        .iter()
        .filter_map(|e| match &e.change {
            PresenceChange::Void { event } => Some(*event),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    let mut seen_days = HashSet::new();
    for e in month.events.iter().filter(|e| matches!(e.change, PresenceChange::In) && !voided.contains(&e.id)) {
        let day = days.day(e.at);
        out.push((day.clone(), Measure::SignIns));
        if seen_days.insert(day.clone()) {
            out.push((day, Measure::PeopleSignedIn));
        }
    }
    out
}

/// Add to the kept counts, in the erasing transaction.
pub(crate) fn keep(conn: &Connection, counts: &[(String, Measure)]) -> Result<(), Error> {
    let mut summed: BTreeMap<(&str, Measure), i64> = BTreeMap::new();
    for (day, measure) in counts {
        *summed.entry((day.as_str(), *measure)).or_default() += 1;
    }
    let mut add = conn.prepare_cached(
        "INSERT INTO kept_counts (day, measure, count) VALUES (?1, ?2, ?3)
         ON CONFLICT (day, measure) DO UPDATE SET count = count + excluded.count",
    )?;
    for ((day, measure), n) in summed {
        add.execute(params![day, measure.as_str(), n])?;
    }
    Ok(())
}

impl Store {
    /// The anonymous daily counts kept from erased documents, by day and
    /// measure (see [`crate::retention`]).
    pub fn kept_counts(&self) -> Result<Vec<DailyCount>, Error> {
        let mut stmt = self.conn().prepare_cached("SELECT day, measure, count FROM kept_counts ORDER BY day, measure")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (day, measure, count) = row?;
            // A measure this build does not know (a newer server's) is
            // left for that build to read.
            if let Some(measure) = Measure::parse(&measure) {
                out.push(DailyCount { day, measure, count: count as u64 });
            }
        }
        Ok(out)
    }

    /// Keep the server's counts in place of those kept here: a device's
    /// copy, for its statistics (only the server erases; see
    /// [`crate::sync::ServerMessage::KeptCounts`]). A count of a day that
    /// is not one refuses them all and changes nothing; counts equal to
    /// those kept write nothing (they come with every connection).
    pub fn replace_kept_counts(&mut self, counts: &[DailyCount]) -> Result<(), Error> {
        if let Some(bad) = counts.iter().find(|c| !is_a_day(&c.day) || i64::try_from(c.count).is_err()) {
            return Err(Error::BadKeptCount { day: bad.day.chars().take(40).collect() });
        }
        let mut sorted = counts.to_vec();
        // In the order `kept_counts` reads them.
        sorted.sort_by(|a, b| (&a.day, a.measure.as_str()).cmp(&(&b.day, b.measure.as_str())));
        sorted.dedup_by(|a, b| a.day == b.day && a.measure == b.measure);
        if self.kept_counts()? == sorted {
            return Ok(());
        }
        let tx = self.conn_mut().transaction()?;
        tx.execute("DELETE FROM kept_counts", [])?;
        {
            let mut add = tx.prepare_cached("INSERT INTO kept_counts (day, measure, count) VALUES (?1, ?2, ?3)")?;
            for c in &sorted {
                add.execute(params![c.day, c.measure.as_str(), c.count as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// `YYYY-MM-DD`, and a day of the calendar.
fn is_a_day(text: &str) -> bool {
    text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_round_trip_by_name() {
        for m in [Measure::VisitsRegistered, Measure::VisitsAdmitted, Measure::SignIns, Measure::PeopleSignedIn] {
            assert_eq!(Measure::parse(m.as_str()), Some(m));
        }
    }

    #[test]
    fn days_are_the_sites_calendar_days() {
        let warsaw = Days("Europe/Warsaw".parse().unwrap());
        // 23:30 UTC on 1 March is already 2 March in Warsaw.
        let late = Timestamp::from(chrono::DateTime::parse_from_rfc3339("2026-03-01T23:30:00Z").unwrap().with_timezone(&chrono::Utc));
        assert_eq!(warsaw.day(late), "2026-03-02");
        assert_eq!(Days(chrono_tz::UTC).day(late), "2026-03-01");
    }
}
