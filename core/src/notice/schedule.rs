//! Rules that run by the clock: once a day per site at a local time of
//! day (the end-of-day reminder at the site's reminder time, overdue keys
//! every morning). A day's run is a job keyed by rule and local day, so a
//! server restarted after it ran, or two looks in the same minute, queue
//! it once; when taken, it queues one job per person or loan, keyed by
//! rule, day and subject, and is done.

use chrono::{NaiveDate, NaiveTime};
use rusqlite::{Connection, params};

use super::rule::DailyAt;
use super::{Attempt, Job, JobError, Rule};
use crate::document::{DocId, DocKind};
use crate::ids::PersonId;
use crate::site::{SiteSettings, local_instant};
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// The time of day a daily rule runs at this site.
fn time_of(daily: DailyAt, site: &SiteSettings) -> Option<NaiveTime> {
    match daily {
        DailyAt::ReminderTime => NaiveTime::parse_from_str(&site.reminder_time, "%H:%M").ok(),
        DailyAt::Fixed(t) => Some(t),
    }
}

/// Whether a job is a daily rule's run for a day (about the site itself),
/// rather than a message to someone.
pub(crate) fn is_day_run(job: &Job) -> bool {
    job.subject.kind() == DocKind::Site
}

/// The instant a day's run works as of: its scheduled time, or the one
/// asked for by hand.
pub(crate) fn as_of(job: &Job) -> Timestamp {
    job.event.as_deref().and_then(|e| e.parse().ok()).map(Timestamp::from_millis).unwrap_or(job.fact_at)
}

/// The key of a run asked for by hand: each is a job of its own.
const BY_HAND: &str = ":by-hand-";

impl Store {
    /// Queue each daily rule's run for today (in the site's time zone)
    /// once its time has come. Cheap when there is nothing to do: one
    /// read per rule. Returns the runs queued now.
    pub fn schedule_daily_jobs(&mut self) -> Result<Vec<Rule>, Error> {
        let Some(site) = self.site_settings()? else { return Ok(Vec::new()) };
        let now = self.now();
        let zone = zone_of(&site, now);
        let today = local_date(zone, now);
        let mut queued = Vec::new();
        for (rule, key, due) in daily_runs(&site, zone, today) {
            if now < due || self.day_run_queued(&key)? {
                continue;
            }
            // The fact is the moment the rule was due: a server that was
            // down at 17:00 and starts at 23:00 finds it too old.
            insert_job(self.conn(), rule, &key, &DocId::site(site.site), &due.millis().to_string(), due, now)?;
            queued.push(rule);
        }
        Ok(queued)
    }

    /// When the site next needs the server's job loop, if nothing is
    /// written to the store before then: the earliest of its queued jobs'
    /// times and its daily rules' next runs (today's if it was not queued
    /// yet, else tomorrow's). `None`: nothing is ever due until something
    /// is written (no site yet, no rule with a time). The server looks at
    /// a site only then, so a thousand quiet sites cost it nothing.
    pub fn next_wake(&self) -> Result<Option<Timestamp>, Error> {
        let mut wake: Option<Timestamp> = self
            .conn()
            .prepare_cached("SELECT min(next_at) FROM jobs WHERE state = 'queued' AND sending = 0")?
            .query_row([], |r| r.get(0))?;
        let Some(site) = self.site_settings()? else { return Ok(wake) };
        let now = self.now();
        let zone = zone_of(&site, now);
        let today = local_date(zone, now);
        let tomorrow: Vec<_> = today.succ_opt().map(|day| daily_runs(&site, zone, day).collect()).unwrap_or_default();
        for (rule, key, due) in daily_runs(&site, zone, today) {
            let next = if self.day_run_queued(&key)? { tomorrow.iter().find(|(r, _, _)| *r == rule).map(|(_, _, due)| *due) } else { Some(due) };
            wake = match (wake, next) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(wake)
    }

    fn day_run_queued(&self, key: &str) -> Result<bool, Error> {
        Ok(self.conn().prepare_cached("SELECT 1 FROM jobs WHERE job_key = ?1")?.exists([key])?)
    }

    /// Run a daily rule now, by hand, as of `as_of` (its day in the site's
    /// time zone, and the instant loans are overdue at): `lodge-sync jobs
    /// run RULE --now TIME`. What it queues is keyed as the scheduled run's
    /// is, so a person reminded today by the clock is not reminded again.
    pub fn run_daily_job(&mut self, rule: Rule, as_of: Timestamp) -> Result<Job, JobError> {
        if rule.daily_at().is_none() {
            return Err(JobError::NotDaily(rule));
        }
        let site = self.site_settings()?.ok_or(Error::NoSite)?;
        let now = self.now();
        // Each run by hand is a job of its own: running it is asking for it.
        let key = format!("{rule}:{}{BY_HAND}{}", local_date(&site.time_zone, as_of), now.millis());
        let id = insert_job(self.conn(), rule, &key, &DocId::site(site.site), &as_of.millis().to_string(), now, now)?;
        self.job(super::JobId(id))?.ok_or(JobError::Unknown(super::JobId(id)))
    }

    /// A day's run of a daily rule: queue its messages, one per person or
    /// loan and keyed by the day, in one transaction.
    pub(crate) fn expand_day_run(&mut self, job: &Job) -> Result<Attempt, Error> {
        let Some(site) = self.site_settings()? else {
            return Ok(Attempt::Cancelled("the site is gone".into()));
        };
        let as_of = as_of(job);
        let day = local_date(&site.time_zone, as_of);
        let now = self.now();
        // Messages count from the scheduled time (a server down at 17:00
        // and back at 23:00 finds them too old), or from now when the run
        // was asked for by hand.
        let fact_at = if job.key.contains(BY_HAND) { now } else { job.fact_at };
        let tx = self.conn_mut().transaction()?;
        let queued = match job.rule {
            Rule::SignOutReminder => {
                let people: Vec<PersonId> =
                    tx.prepare_cached("SELECT person_id FROM presence_now")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
                for person in &people {
                    let key = format!("{}:{day}:{person}", job.rule);
                    insert_job(&tx, job.rule, &key, &DocId::person(*person), &day.to_string(), fact_at, now)?;
                }
                people.len()
            }
            Rule::LoanOverdue => {
                let loans: Vec<(String, String, Timestamp, Option<String>)> = tx
                    .prepare_cached(
                        "SELECT l.loan_id, l.doc_id, l.due_at, d.contact FROM loans l
                         LEFT JOIN people p ON p.person_id = l.customer LEFT JOIN departments d ON d.department_id = p.department
                         WHERE l.state = 'out' AND l.due_at < ?1",
                    )?
                    .query_map([as_of], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<Result<_, _>>()?;
                let after = i64::from(site.overdue_contact_after_days) * 86_400_000;
                for (loan, doc, due_at, contact) in &loans {
                    let Ok(doc) = DocId::parse(doc) else { continue };
                    insert_job(&tx, Rule::LoanOverdue, &format!("{}:{day}:{loan}", Rule::LoanOverdue), &doc, loan, fact_at, now)?;
                    if contact.is_some() && as_of.millis() - due_at.millis() >= after {
                        let rule = Rule::LoanOverdueDepartment;
                        insert_job(&tx, rule, &format!("{rule}:{day}:{loan}"), &doc, loan, fact_at, now)?;
                    }
                }
                loans.len()
            }
            Rule::HostTold | Rule::HostToldInApp | Rule::SlackPresence | Rule::LoanOverdueDepartment | Rule::Announcement | Rule::Retention | Rule::Invitation | Rule::SignInCode => 0,
        };
        tx.commit()?;
        tracing::info!(rule = %job.rule, %day, queued, "daily run");
        Ok(Attempt::Sent)
    }
}

/// Queue a job once per key; its number, new or not.
pub(super) fn insert_job(conn: &Connection, rule: Rule, key: &str, subject: &DocId, event: &str, fact_at: Timestamp, now: Timestamp) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO jobs (rule, job_key, subject, event, fact_at, queued_at, state, next_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?6)
         ON CONFLICT (job_key) DO NOTHING",
    )?
    .execute(params![rule.as_str(), key, subject, event, fact_at, now])?;
    conn.prepare_cached("SELECT job_id FROM jobs WHERE job_key = ?1")?.query_row([key], |r| r.get(0))
}

/// The site's time zone for its rules: a zone no one knows (a typo in an
/// old site) counts as UTC rather than stopping every rule of the site.
fn zone_of(site: &SiteSettings, now: Timestamp) -> &str {
    if crate::site::local_date(&site.time_zone, now).is_ok() { site.time_zone.as_str() } else { "UTC" }
}

/// Each daily rule's run on `day`: the rule, the run's job key and the
/// instant it is due (rules without a time, or a time the day skips, are
/// left out).
fn daily_runs<'a>(site: &'a SiteSettings, zone: &'a str, day: NaiveDate) -> impl Iterator<Item = (Rule, String, Timestamp)> + 'a {
    Rule::ALL.into_iter().filter_map(move |rule| {
        let time = rule.daily_at().and_then(|d| time_of(d, site))?;
        let due = local_instant(zone, time, day).ok()?;
        Some((rule, format!("{rule}:{day}"), due))
    })
}

/// The local day of `at` in the site's zone (UTC for a zone no one knows).
fn local_date(zone: &str, at: Timestamp) -> NaiveDate {
    crate::site::local_date(zone, at).unwrap_or_else(|_| at.to_utc().date_naive())
}
