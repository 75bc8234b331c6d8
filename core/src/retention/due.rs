//! Which documents are past retention at an instant, read from the
//! projections (no document is loaded to decide).

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use rusqlite::{Connection, params};

use crate::document::DocId;
use crate::store::Error;
use crate::time::Timestamp;

/// Days a presence month is kept after it ends when the site says nothing
/// else: a year and a month, so that a year-on-year comparison of who was
/// in still has last year's same month.
pub const DEFAULT_PRESENCE_RETENTION_DAYS: u32 = 400;

/// The site's two limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Days a visit is kept after it ended.
    pub(crate) visit_days: u32,
    /// Days a presence month is kept after it ended.
    pub(crate) presence_days: u32,
}

/// The site's limits, from its projection (`None` before a site exists).
pub(crate) fn limits(conn: &Connection) -> Result<Option<Limits>, Error> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT retention_days, coalesce(presence_retention_days, ?1) FROM sites LIMIT 1")?
        .query_row([DEFAULT_PRESENCE_RETENTION_DAYS], |r| Ok(Limits { visit_days: r.get(0)?, presence_days: r.get(1)? }))
        .optional()?)
}

/// The latest instant a thing may have ended at and be past a limit of
/// `days` at `now`: it ended more than `days` whole days before `now`.
pub(crate) fn cutoff(now: Timestamp, days: u32) -> Timestamp {
    Timestamp::from_millis(now.millis() - i64::from(days) * 86_400_000)
}

/// The first instant after a presence month (`YYYY-MM`, UTC like
/// [`Timestamp::month`]); `None` for a malformed month.
pub(crate) fn month_end(month: &str) -> Option<Timestamp> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let next = if first.month() == 12 { first.with_year(first.year() + 1)?.with_month(1)? } else { first.with_month(first.month() + 1)? };
    Some(Utc.from_utc_datetime(&next.and_hms_opt(0, 0, 0)?).into())
}

/// Documents past retention at `now`, at most `at_most` of them, visits
/// first (oldest end first).
pub(crate) fn due_documents(conn: &Connection, now: Timestamp, limits: Limits, at_most: usize) -> Result<Vec<DocId>, Error> {
    let at_most = i64::try_from(at_most).unwrap_or(i64::MAX);
    let visit_cutoff = cutoff(now, limits.visit_days);
    // Left: ended when the exit was recorded. Waiting: never admitted, so
    // its registration is its last moment. Expected and never come: their
    // day is their last. Admitted (still in) stays.
    let cutoff_day = visit_cutoff.to_utc().format("%Y-%m-%d").to_string();
    let mut docs: Vec<DocId> = conn
        .prepare_cached(
            "SELECT doc_id FROM visits
             WHERE (state = 'left' AND left_at < ?1) OR (state = 'waiting' AND registered_at < ?1)
                OR (state = 'expected' AND registered_at < ?1 AND expected_on < ?3)
             ORDER BY coalesce(left_at, registered_at) LIMIT ?2",
        )?
        .query_map(params![visit_cutoff, at_most, cutoff_day], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    // A roll call's report names the guests who were in: it goes as their
    // visits do, counted from its end. One still running stays.
    let room = at_most.saturating_sub(docs.len() as i64);
    let roll_calls: Vec<DocId> = conn
        .prepare_cached("SELECT doc_id FROM roll_calls WHERE ended_at < ?1 ORDER BY ended_at LIMIT ?2")?
        .query_map(params![visit_cutoff, room], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    docs.extend(roll_calls);
    let presence_cutoff = cutoff(now, limits.presence_days);
    let mut months = conn.prepare_cached("SELECT doc_id FROM documents WHERE kind = 'presence' ORDER BY doc_id")?;
    let months = months.query_map([], |r| r.get::<_, DocId>(0))?;
    for doc in months {
        if docs.len() as i64 >= at_most {
            break;
        }
        let doc = doc?;
        // `presence:{person}:{YYYY-MM}`
        let ended = doc.as_str().rsplit_once(':').and_then(|(_, month)| month_end(month));
        if ended.is_some_and(|end| end < presence_cutoff) {
            docs.push(doc);
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc).into()
    }

    #[test]
    fn a_month_ends_at_the_first_instant_of_the_next() {
        assert_eq!(month_end("2026-01"), Some(at("2026-02-01T00:00:00Z")));
        assert_eq!(month_end("2026-12"), Some(at("2027-01-01T00:00:00Z")));
        assert_eq!(month_end("2026-13"), None);
        assert_eq!(month_end("junk"), None);
    }

    #[test]
    fn the_cutoff_is_whole_days_before_now() {
        assert_eq!(cutoff(at("2026-03-31T12:00:00Z"), 30), at("2026-03-01T12:00:00Z"));
    }
}
