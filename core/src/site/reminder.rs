//! When the end-of-day sign-out reminder is due: the site's `HH:MM` in its
//! own time zone, on a given local date, as a UTC instant. The phone that
//! reminds by itself offline and the server's reminder rule both ask this
//! one function, so they agree across daylight saving changes.

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;

use super::{Error, SiteSettings};
use crate::time::Timestamp;

/// The instant the reminder is due on `local_date`, for a site in
/// `time_zone` (IANA, `Europe/Warsaw`) reminding at `reminder_time`
/// (`HH:MM`, local).
///
/// A local time that happens twice (clocks going back) is its first
/// occurrence; one that does not happen (clocks going forward past it) is
/// the first local time after the gap.
pub fn reminder_at(time_zone: &str, reminder_time: &str, local_date: NaiveDate) -> Result<Timestamp, Error> {
    let time = NaiveTime::parse_from_str(reminder_time.trim(), "%H:%M").map_err(|_| Error::BadTimeOfDay(reminder_time.to_owned()))?;
    local_instant(time_zone, time, local_date)
}

/// The instant a local time of day happens on `local_date` in the site's
/// time zone, by the same rules as [`reminder_at`]: what every rule that
/// runs by the clock (overdue keys at 09:00, the night's erasure) asks.
pub fn local_instant(time_zone: &str, time: NaiveTime, local_date: NaiveDate) -> Result<Timestamp, Error> {
    let zone = zone(time_zone)?;
    let mut local = local_date.and_time(time);
    // Gaps are at most a few hours long: step through in quarter hours.
    for _ in 0..16 {
        if let Some(at) = zone.from_local_datetime(&local).earliest() {
            return Ok(Timestamp::from(at.with_timezone(&chrono::Utc)));
        }
        local += Duration::minutes(15);
    }
    Err(Error::BadTimeOfDay(time.format("%H:%M").to_string()))
}

/// The date it is at `at` in the site's time zone.
pub fn local_date(time_zone: &str, at: Timestamp) -> Result<NaiveDate, Error> {
    Ok(at.to_utc().with_timezone(&zone(time_zone)?).date_naive())
}

fn zone(time_zone: &str) -> Result<Tz, Error> {
    time_zone.trim().parse::<Tz>().map_err(|_| Error::UnknownTimeZone(time_zone.to_owned()))
}

impl SiteSettings {
    /// When this site's end-of-day reminder is due on `local_date`.
    pub fn reminder_due_on(&self, local_date: NaiveDate) -> Result<Timestamp, Error> {
        reminder_at(&self.time_zone, &self.reminder_time, local_date)
    }

    /// The reminder due on the site's local day of `now`.
    pub fn reminder_due_today(&self, now: Timestamp) -> Result<Timestamp, Error> {
        self.reminder_due_on(local_date(&self.time_zone, now)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Timestamp {
        Timestamp::from(chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc))
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn five_pm_in_warsaw_follows_daylight_saving() {
        // Winter: UTC+1.
        assert_eq!(reminder_at("Europe/Warsaw", "17:00", day(2027, 3, 27)).unwrap(), utc("2027-03-27T16:00:00Z"));
        // Clocks go forward on 28 March 2027: 17:00 is already summer time.
        assert_eq!(reminder_at("Europe/Warsaw", "17:00", day(2027, 3, 28)).unwrap(), utc("2027-03-28T15:00:00Z"));
        assert_eq!(reminder_at("Europe/Warsaw", "17:00", day(2027, 10, 30)).unwrap(), utc("2027-10-30T15:00:00Z"));
        // Clocks go back on 31 October 2027: 17:00 is winter time again.
        assert_eq!(reminder_at("Europe/Warsaw", "17:00", day(2027, 10, 31)).unwrap(), utc("2027-10-31T16:00:00Z"));
    }

    #[test]
    fn a_time_skipped_or_repeated_by_the_change_is_still_a_time() {
        // 02:30 does not exist on 28 March 2027 in Warsaw: the first time after the gap.
        assert_eq!(reminder_at("Europe/Warsaw", "02:30", day(2027, 3, 28)).unwrap(), utc("2027-03-28T01:00:00Z"));
        // 02:30 happens twice on 31 October 2027: the first one, still summer time.
        assert_eq!(reminder_at("Europe/Warsaw", "02:30", day(2027, 10, 31)).unwrap(), utc("2027-10-31T00:30:00Z"));
    }

    #[test]
    fn the_local_day_is_the_sites_not_utcs() {
        // 23:30 UTC on 30 October is already 31 October in Warsaw.
        assert_eq!(local_date("Europe/Warsaw", utc("2027-10-30T23:30:00Z")).unwrap(), day(2027, 10, 31));
        assert_eq!(local_date("UTC", utc("2027-10-30T23:30:00Z")).unwrap(), day(2027, 10, 30));
    }

    #[test]
    fn a_bad_zone_or_time_is_named() {
        assert!(matches!(reminder_at("Mars/Olympus", "17:00", day(2027, 1, 1)), Err(Error::UnknownTimeZone(z)) if z == "Mars/Olympus"));
        assert!(matches!(reminder_at("Europe/Warsaw", "25:00", day(2027, 1, 1)), Err(Error::BadTimeOfDay(t)) if t == "25:00"));
    }
}
