//! Statistics of the front desk over a chosen period, in the site's days:
//! guests and sign-ins per day, people in the building by hour, how long
//! visits last, keys lent, items taken, repair tickets opened and resolved.
//! Read from the projections, plus the anonymous daily counts that
//! retention keeps of erased visits and sign-ins, so that the daily
//! figures outlive the data (the hours and visit lengths of erased days
//! are gone with it).

use std::collections::BTreeMap;

use chrono::{Days as ChronoDays, NaiveDate, NaiveTime, TimeZone};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::retention::{DailyCount, Measure};
use crate::spreadsheet;
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// The longest period one request may cover, in days.
pub const MAX_DAYS: u64 = 366;

/// A period that cannot be counted.
#[derive(Debug, thiserror::Error, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "StatisticsError"))]
#[serde(tag = "kind", content = "values", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PeriodError {
    /// The store failed.
    #[error(transparent)]
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    Store(#[from] Error),
    /// A day that is not `YYYY-MM-DD`.
    #[error("“{0}” is not a day; write it as YYYY-MM-DD.")]
    NotADay(String),
    /// The period ends before it starts.
    #[error("The period ends before it starts.")]
    Backwards,
    /// Too long a period.
    #[error("A period is at most {max} days.")]
    TooLong {
        /// The most days.
        max: u64,
    },
}

/// One day's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DayFigures {
    /// `YYYY-MM-DD` in the site's time zone.
    pub day: String,
    /// Guests registered.
    pub visits_registered: u64,
    /// Guests admitted with a card.
    pub visits_admitted: u64,
    /// Sign-ins of staff and workers.
    pub sign_ins: u64,
    /// People who signed in at least once.
    pub people_signed_in: u64,
    /// Keys lent.
    pub keys_lent: u64,
    /// Items of equipment taken.
    pub items_taken: u64,
    /// Repair tickets opened.
    pub tickets_opened: u64,
    /// Repair tickets resolved.
    pub tickets_resolved: u64,
}

/// The period's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Statistics {
    /// First day.
    pub from: String,
    /// Last day (included).
    pub to: String,
    /// Each day of the period, in order.
    pub days: Vec<DayFigures>,
    /// For each hour of the day (0-23): how many people (staff and guests)
    /// were in the building at half past it, on average over the period's
    /// days.
    pub in_by_hour: Vec<f64>,
    /// The average length of the visits that ended in the period, in
    /// minutes; none when none ended.
    pub average_visit_minutes: Option<u64>,
    /// Keys out now.
    pub keys_out_now: u64,
    /// Items out now.
    pub items_out_now: u64,
}

impl Statistics {
    /// The days as CSV, one row per day.
    pub fn csv(&self) -> String {
        let rows = self.days.iter().map(|d| {
            [
                d.day.clone(),
                d.visits_registered.to_string(),
                d.visits_admitted.to_string(),
                d.sign_ins.to_string(),
                d.people_signed_in.to_string(),
                d.keys_lent.to_string(),
                d.items_taken.to_string(),
                d.tickets_opened.to_string(),
                d.tickets_resolved.to_string(),
            ]
        });
        spreadsheet::write(
            ["day", "visits_registered", "visits_admitted", "sign_ins", "people_signed_in", "keys_lent", "items_taken", "tickets_opened", "tickets_resolved"],
            rows,
        )
    }
}

/// A period of whole days in a time zone.
pub(crate) struct Period {
    pub days: Vec<NaiveDate>,
    pub zone: chrono_tz::Tz,
}

impl Period {
    /// The days from `from` to `to`, both included.
    pub(crate) fn parse(from: &str, to: &str, zone: chrono_tz::Tz) -> Result<Self, PeriodError> {
        let day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| PeriodError::NotADay(s.to_owned()));
        let (first, last) = (day(from)?, day(to)?);
        if last < first {
            return Err(PeriodError::Backwards);
        }
        let count = (last - first).num_days() as u64 + 1;
        if count > MAX_DAYS {
            return Err(PeriodError::TooLong { max: MAX_DAYS });
        }
        let days = first.iter_days().take(count as usize).collect();
        Ok(Self { days, zone })
    }

    /// The instant a local day-time falls on (the earlier one in a DST
    /// overlap, the hour after a gap).
    fn instant(&self, day: NaiveDate, time: NaiveTime) -> Timestamp {
        let local = day.and_time(time);
        let resolved = self.zone.from_local_datetime(&local).earliest().or_else(|| self.zone.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest());
        resolved.map_or(Timestamp::from_millis(0), |t| Timestamp::from(t.with_timezone(&chrono::Utc)))
    }

    pub(crate) fn start(&self) -> Timestamp {
        self.instant(self.days[0], NaiveTime::MIN)
    }

    pub(crate) fn end(&self) -> Timestamp {
        let next = self.days[self.days.len() - 1].checked_add_days(ChronoDays::new(1)).unwrap_or(NaiveDate::MAX);
        self.instant(next, NaiveTime::MIN)
    }

    fn day_of(&self, at: Timestamp) -> String {
        at.to_utc().with_timezone(&self.zone).format("%Y-%m-%d").to_string()
    }
}

/// One person's presence as a period's statistics need it.
struct PersonInPeriod {
    /// Their last sign-in before the period, if they were still in when
    /// it began (their last event before it was a sign-in).
    in_since: Option<Timestamp>,
    /// Their events in the period, in order: `true` for a sign-in.
    events: Vec<(Timestamp, bool)>,
}

impl Store {
    /// The statistics of the days `from` to `to` (`YYYY-MM-DD`, both
    /// included) in the site's time zone.
    pub fn statistics(&self, from: &str, to: &str) -> Result<Statistics, PeriodError> {
        let kept = self.kept_counts()?;
        self.statistics_counting(from, to, &kept)
    }

    /// [`Store::statistics`] with `kept` for what retention erased in
    /// place of the counts this store keeps: a server of several
    /// instances sums them over its stores.
    pub fn statistics_counting(&self, from: &str, to: &str, kept: &[DailyCount]) -> Result<Statistics, PeriodError> {
        let period = Period::parse(from, to, self.site_zone()?)?;
        Ok(self.figures(&period, kept)?)
    }

    /// The instants the days `from` to `to` (both included) begin and end
    /// at in the site's time zone: a search of visits by days.
    pub fn period_bounds(&self, from: &str, to: &str) -> Result<(Timestamp, Timestamp), PeriodError> {
        let period = Period::parse(from, to, self.site_zone()?)?;
        Ok((period.start(), period.end()))
    }

    /// The site's time zone (UTC where it names none this build knows).
    pub(crate) fn site_zone(&self) -> Result<chrono_tz::Tz, Error> {
        let zone: Option<String> = self.conn().prepare_cached("SELECT time_zone FROM sites LIMIT 1")?.query_row([], |r| r.get(0)).optional()?;
        Ok(zone.and_then(|z| z.parse().ok()).unwrap_or(chrono_tz::UTC))
    }

    fn figures(&self, period: &Period, kept: &[DailyCount]) -> Result<Statistics, Error> {
        let (start, end) = (period.start(), period.end());
        let mut days: BTreeMap<String, DayFigures> =
            period.days.iter().map(|d| (d.format("%Y-%m-%d").to_string(), DayFigures { day: d.format("%Y-%m-%d").to_string(), ..Default::default() })).collect();
        let conn = self.conn();
        let instants = |sql: &str| -> Result<Vec<Timestamp>, Error> {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map([start, end], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        let mut add = |sql: &str, field: fn(&mut DayFigures) -> &mut u64| -> Result<(), Error> {
            for at in instants(sql)? {
                if let Some(d) = days.get_mut(&period.day_of(at)) {
                    *field(d) += 1;
                }
            }
            Ok(())
        };
        add("SELECT registered_at FROM visits WHERE state != 'expected' AND registered_at >= ?1 AND registered_at < ?2", |d| &mut d.visits_registered)?;
        add("SELECT admitted_at FROM visits WHERE admitted_at >= ?1 AND admitted_at < ?2", |d| &mut d.visits_admitted)?;
        add("SELECT out_at FROM loans WHERE out_at >= ?1 AND out_at < ?2", |d| &mut d.keys_lent)?;
        add("SELECT taken_at FROM custody WHERE taken_at >= ?1 AND taken_at < ?2", |d| &mut d.items_taken)?;
        add("SELECT opened_at FROM repairs WHERE opened_at >= ?1 AND opened_at < ?2", |d| &mut d.tickets_opened)?;
        add("SELECT at FROM repair_log WHERE state = 'resolved' AND at >= ?1 AND at < ?2", |d| &mut d.tickets_resolved)?;
        // Sign-ins, and people who signed in on a day (distinct per day).
        let presence = self.presence_in(period)?;
        for person in &presence {
            let mut seen = std::collections::HashSet::new();
            for (at, signed_in) in &person.events {
                let day = period.day_of(*at);
                if *signed_in && let Some(d) = days.get_mut(&day) {
                    d.sign_ins += 1;
                    if seen.insert(day) {
                        d.people_signed_in += 1;
                    }
                }
            }
        }
        // What retention erased, kept as anonymous counts.
        for kept in kept {
            if let Some(d) = days.get_mut(&kept.day) {
                let field = match kept.measure {
                    Measure::VisitsRegistered => &mut d.visits_registered,
                    Measure::VisitsAdmitted => &mut d.visits_admitted,
                    Measure::SignIns => &mut d.sign_ins,
                    Measure::PeopleSignedIn => &mut d.people_signed_in,
                };
                *field += kept.count;
            }
        }
        Ok(Statistics {
            from: period.days[0].format("%Y-%m-%d").to_string(),
            to: period.days[period.days.len() - 1].format("%Y-%m-%d").to_string(),
            days: days.into_values().collect(),
            in_by_hour: self.in_by_hour(period, &presence)?,
            average_visit_minutes: conn
                .prepare_cached("SELECT avg(left_at - admitted_at) FROM visits WHERE left_at >= ?1 AND left_at < ?2 AND admitted_at IS NOT NULL")?
                .query_row([start, end], |r| r.get::<_, Option<f64>>(0))?
                .map(|ms| (ms / 60_000.0).round() as u64),
            keys_out_now: conn.prepare_cached("SELECT count(*) FROM loans WHERE state = 'out'")?.query_row([], |r| r.get::<_, i64>(0))?.max(0) as u64,
            items_out_now: conn.prepare_cached("SELECT count(*) FROM equipment WHERE holder IS NOT NULL")?.query_row([], |r| r.get::<_, i64>(0))?.max(0) as u64,
        })
    }

    /// For each hour, the people in at half past it, averaged over the days.
    fn in_by_hour(&self, period: &Period, presence: &[PersonInPeriod]) -> Result<Vec<f64>, Error> {
        let (start, end) = (period.start(), period.end());
        let far = Timestamp::from_millis(i64::MAX);
        // Who was in when: each guest's admission to their leaving, each
        // person's sign-in to their next sign-out (or now, still in).
        let mut stays: Vec<(Timestamp, Timestamp)> = Vec::new();
        let mut visits = self.conn().prepare_cached(
            "SELECT admitted_at, coalesce(left_at, ?3) FROM visits WHERE admitted_at IS NOT NULL AND admitted_at < ?2 AND coalesce(left_at, ?3) > ?1",
        )?;
        for row in visits.query_map(rusqlite::params![start, end, far], |r| Ok((r.get(0)?, r.get(1)?)))? {
            stays.push(row?);
        }
        for person in presence {
            // A stay that began before the period counts from its start,
            // whenever that was.
            let mut open = person.in_since;
            for &(at, signed_in) in &person.events {
                if signed_in {
                    open = open.or(Some(at));
                } else if let Some(since) = open.take() {
                    stays.push((since, at));
                }
            }
            if let Some(since) = open {
                stays.push((since, far));
            }
        }
        let stays: Vec<_> = stays.into_iter().filter(|(from, to)| *to > start && *from < end).collect();
        let mut sums = vec![0u64; 24];
        for day in &period.days {
            for (hour, sum) in sums.iter_mut().enumerate() {
                let at = period.instant(*day, NaiveTime::from_hms_opt(hour as u32, 30, 0).unwrap_or(NaiveTime::MIN));
                *sum += stays.iter().filter(|(from, to)| *from <= at && at < *to).count() as u64;
            }
        }
        let n = period.days.len() as f64;
        Ok(sums.into_iter().map(|s| (s as f64 / n * 10.0).round() / 10.0).collect())
    }

    /// Each person's sign-ins and sign-outs in the period, and whether they
    /// were in when it began: per person, through the person index, since
    /// the events have no index by time (each index is a page more written
    /// with every sign-in on every device), and reading by time read every
    /// event of the store.
    fn presence_in(&self, period: &Period) -> Result<Vec<PersonInPeriod>, Error> {
        let (start, end) = (period.start(), period.end());
        let mut people = self.conn().prepare_cached(
            "WITH RECURSIVE person (id) AS (
                 SELECT min(person_id) FROM presence_events
                 UNION ALL
                 SELECT (SELECT min(person_id) FROM presence_events WHERE person_id > person.id) FROM person WHERE person.id IS NOT NULL
             )
             SELECT id FROM person WHERE id IS NOT NULL",
        )?;
        let people: Vec<String> = people.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        let mut before = self.conn().prepare_cached(
            "SELECT at, kind FROM presence_events WHERE person_id = ?1 AND at < ?2 AND NOT voided ORDER BY at DESC, seq DESC LIMIT 1",
        )?;
        let mut during = self.conn().prepare_cached(
            "SELECT at, kind FROM presence_events WHERE person_id = ?1 AND at >= ?2 AND at < ?3 AND NOT voided ORDER BY at, seq",
        )?;
        let mut found = Vec::with_capacity(people.len());
        for person in &people {
            let last: Option<(Timestamp, String)> = before.query_row(rusqlite::params![person, start], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
            let events = during
                .query_map(rusqlite::params![person, start, end], |r| Ok((r.get::<_, Timestamp>(0)?, r.get::<_, String>(1)? == "in")))?
                .collect::<Result<Vec<_>, _>>()?;
            found.push(PersonInPeriod { in_since: last.and_then(|(at, kind)| (kind == "in").then_some(at)), events });
        }
        Ok(found)
    }
}
