//! The queue in the server's store: due jobs taken for sending, their
//! outcome recorded, retries with backoff, failures kept for a person.

use std::time::Duration;

use rusqlite::{OptionalExtension, Row, params};

use super::{Job, JobError, JobFilter, JobId, JobState, Rule};
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// Tries before a job is failed for good (about two hours of backoff).
pub const RETRY_LIMIT: u32 = 8;

/// The first retry's wait by default; each next one doubles, up to
/// [`BACKOFF_MAX`].
pub const FIRST_RETRY: Duration = Duration::from_secs(5);
const BACKOFF_MAX: Duration = Duration::from_secs(3600);

/// How a try ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The channel took the message.
    Sent,
    /// It may work later (the mail server was down).
    Failed(String),
    /// It will never work as it is (no address to send to, a channel not
    /// set up): failed at once, for a person to see.
    Refused(String),
    /// What it was about is gone or changed: nothing to send.
    Cancelled(String),
}

const JOB_SELECT: &str =
    "SELECT job_id, rule, job_key, subject, fact_at, queued_at, state, attempts, next_at, last_error, done_at, event, hook_id FROM jobs";

fn job_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    let rule: String = r.get(1)?;
    let state: String = r.get(6)?;
    let subject: String = r.get(3)?;
    let bad = |i: usize, what: &str| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, what.to_owned().into());
    Ok(Job {
        id: JobId(r.get(0)?),
        rule: Rule::parse(&rule).map_err(|_| bad(1, "an unknown rule"))?,
        key: r.get(2)?,
        subject: crate::document::DocId::parse(&subject).map_err(|_| bad(3, "a bad document id"))?,
        fact_at: r.get(4)?,
        queued_at: r.get(5)?,
        state: JobState::parse(&state).ok_or_else(|| bad(6, "an unknown state"))?,
        attempts: r.get(7)?,
        next_at: r.get(8)?,
        last_error: r.get(9)?,
        done_at: r.get(10)?,
        event: r.get(11)?,
        hook: r.get(12)?,
    })
}

/// The wait before try number `attempts + 1`: doubling, capped, with up to
/// a fifth of jitter so that jobs failed together are not retried together.
fn backoff(first: Duration, attempts: u32) -> Duration {
    let base = first.saturating_mul(1 << attempts.saturating_sub(1).min(20)).min(BACKOFF_MAX);
    let jitter = base.as_millis() as u64 / 5;
    base + Duration::from_millis(if jitter == 0 { 0 } else { rand::random::<u64>() % jitter })
}

impl Store {
    /// Jobs, newest first.
    pub fn jobs(&self, filter: JobFilter) -> Result<Vec<Job>, Error> {
        let (condition, state) = match filter {
            JobFilter::All => ("?1 IS NULL", None),
            JobFilter::State(s) => ("state = ?1", Some(s.as_str())),
        };
        let mut stmt = self.conn().prepare_cached(&format!("{JOB_SELECT} WHERE {condition} ORDER BY job_id DESC"))?;
        let rows = stmt.query_map([state], job_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many jobs are in each state (`queued`, `sent`, `failed`, …), by
    /// state's name: what the server's monitoring shows.
    pub fn job_counts(&self) -> Result<Vec<(String, u64)>, Error> {
        let mut stmt = self.conn().prepare_cached("SELECT state, count(*) FROM jobs GROUP BY state ORDER BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The jobs of one rule about one document, oldest first (by the
    /// subject's index: not every job of the site).
    pub(super) fn jobs_about(&self, rule: Rule, subject: &crate::document::DocId) -> Result<Vec<Job>, Error> {
        let mut stmt = self.conn().prepare_cached(&format!("{JOB_SELECT} WHERE subject = ?1 AND rule = ?2 ORDER BY job_id"))?;
        let rows = stmt.query_map(rusqlite::params![subject, rule.as_str()], job_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One job.
    pub fn job(&self, id: JobId) -> Result<Option<Job>, Error> {
        Ok(self.conn().prepare_cached(&format!("{JOB_SELECT} WHERE job_id = ?1"))?.query_row([id.0], job_row).optional()?)
    }

    /// Take up to `limit` due jobs for sending: each is marked as being
    /// sent and its try counted, in one transaction. Jobs whose fact is too
    /// old by now are expired instead (see [`Rule::too_old_after`]).
    pub fn take_due_jobs(&mut self, limit: usize) -> Result<Vec<Job>, Error> {
        let now = self.now();
        let tx = self.conn_mut().transaction()?;
        let due: Vec<Job> = {
            let mut stmt =
                tx.prepare_cached(&format!("{JOB_SELECT} WHERE state = 'queued' AND sending = 0 AND next_at <= ?1 ORDER BY next_at, job_id LIMIT ?2"))?;
            stmt.query_map(params![now, limit as i64], job_row)?.collect::<Result<_, _>>()?
        };
        let mut taken = Vec::with_capacity(due.len());
        for mut job in due {
            let too_old = job.rule.too_old_after().as_millis() as i64;
            // A day's run is never too old itself: the messages it queues
            // are, each by its rule.
            if now.millis() - job.fact_at.millis() > too_old && !super::schedule::is_day_run(&job) {
                tx.prepare_cached("UPDATE jobs SET state = 'expired', done_at = ?2 WHERE job_id = ?1")?.execute(params![job.id.0, now])?;
                continue;
            }
            tx.prepare_cached("UPDATE jobs SET sending = 1, attempts = attempts + 1 WHERE job_id = ?1")?.execute([job.id.0])?;
            job.attempts += 1;
            taken.push(job);
        }
        tx.commit()?;
        Ok(taken)
    }

    /// Record how a try of a taken job ended.
    pub fn finish_job(&mut self, id: JobId, attempt: &Attempt) -> Result<(), Error> {
        let now = self.now();
        let first = self.first_retry();
        let conn = self.conn();
        match attempt {
            Attempt::Sent => {
                conn.prepare_cached("UPDATE jobs SET state = 'sent', sending = 0, done_at = ?2, last_error = NULL WHERE job_id = ?1")?
                    .execute(params![id.0, now])?;
            }
            Attempt::Failed(error) => {
                let attempts: u32 = conn.prepare_cached("SELECT attempts FROM jobs WHERE job_id = ?1")?.query_row([id.0], |r| r.get(0))?;
                if attempts >= RETRY_LIMIT {
                    conn.prepare_cached("UPDATE jobs SET state = 'failed', sending = 0, done_at = ?2, last_error = ?3 WHERE job_id = ?1")?
                        .execute(params![id.0, now, error])?;
                } else {
                    let next = Timestamp::from_millis(now.millis() + backoff(first, attempts).as_millis() as i64);
                    conn.prepare_cached("UPDATE jobs SET sending = 0, next_at = ?2, last_error = ?3 WHERE job_id = ?1")?
                        .execute(params![id.0, next, error])?;
                }
            }
            Attempt::Refused(error) => {
                conn.prepare_cached("UPDATE jobs SET state = 'failed', sending = 0, done_at = ?2, last_error = ?3 WHERE job_id = ?1")?
                    .execute(params![id.0, now, error])?;
            }
            Attempt::Cancelled(why) => {
                conn.prepare_cached("UPDATE jobs SET state = 'cancelled', sending = 0, done_at = ?2, last_error = ?3 WHERE job_id = ?1")?
                    .execute(params![id.0, now, why])?;
            }
        }
        // A sign-in code is kept only while it may still be sent.
        conn.prepare_cached("UPDATE jobs SET event = NULL WHERE job_id = ?1 AND rule = 'sign-in-code' AND state != 'queued'")?.execute([id.0])?;
        Ok(())
    }

    /// Give back a taken job without a try, to be looked at again at
    /// `again`: another server of the same database is sending it (it
    /// will have ended by then, and its end is recorded here).
    pub fn postpone_job(&mut self, id: JobId, again: Timestamp) -> Result<(), Error> {
        self.conn()
            .prepare_cached("UPDATE jobs SET sending = 0, attempts = max(attempts - 1, 0), next_at = ?2 WHERE job_id = ?1 AND sending = 1")?
            .execute(params![id.0, again])?;
        Ok(())
    }

    /// At the server's start: jobs that were being sent when it stopped
    /// (killed mid-send) are due again now. One server per store: nothing
    /// else can be sending them.
    pub fn resume_jobs(&mut self) -> Result<usize, Error> {
        let now = self.now();
        Ok(self.conn().prepare_cached("UPDATE jobs SET sending = 0, next_at = min(next_at, ?1) WHERE sending = 1")?.execute([now])?)
    }

    /// Try a failed job again, now, from its first try. (An expired one
    /// stays expired: its fact is as old as it was.)
    pub fn retry_job(&mut self, id: JobId) -> Result<Job, JobError> {
        let job = self.job(id)?.ok_or(JobError::Unknown(id))?;
        if job.state != JobState::Failed {
            return Err(JobError::NotRetryable { id, state: job.state });
        }
        let now = self.now();
        self.conn()
            .prepare_cached("UPDATE jobs SET state = 'queued', attempts = 0, next_at = ?2, done_at = NULL WHERE job_id = ?1")?
            .execute(params![id.0, now])?;
        self.job(id)?.ok_or(JobError::Unknown(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_five_seconds_to_an_hour_with_a_fifth_of_jitter() {
        for (attempts, base) in [(1, 5), (2, 10), (3, 20), (8, 640), (20, 3600)] {
            let wait = backoff(FIRST_RETRY, attempts).as_secs_f64();
            assert!(wait >= base as f64 && wait <= base as f64 * 1.2, "try {attempts}: {wait}");
        }
    }
}
