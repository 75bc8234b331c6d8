//! Facts that call for a message, found in what a transaction wrote: run
//! by the server's store just before it commits, so a job exists exactly
//! when its fact does.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};

use super::Rule;
use crate::document::{DocId, DocKind};
use crate::time::Timestamp;

/// Queue the jobs that the documents written in this transaction call for,
/// and cancel those whose subject is gone (a guest erased).
pub(crate) fn enqueue_for(tx: &Connection, written: &BTreeSet<DocId>, now: Timestamp) -> rusqlite::Result<()> {
    for doc in written.iter().filter(|d| d.kind() == DocKind::Presence) {
        presence(tx, doc, now)?;
    }
    for doc in written.iter().filter(|d| d.kind() == DocKind::Announcement) {
        announcement(tx, doc, now)?;
    }
    for doc in written.iter().filter(|d| d.kind() == DocKind::Visit) {
        let visit: Option<(String, Option<Timestamp>, String, Option<String>, Timestamp)> = tx
            .prepare_cached("SELECT visit_id, admitted_at, state, email, registered_at FROM visits WHERE doc_id = ?1")?
            .query_row([doc], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .optional()?;
        // An expected guest with an address: their invitation goes out.
        if let Some((visit, _, state, Some(_), expected_at)) = &visit
            && state == "expected"
        {
            let rule = Rule::Invitation;
            queue(tx, &Fact { rule, key: format!("{rule}:{visit}"), subject: doc, event: None, hook: None, at: *expected_at }, now)?;
        }
        match visit.map(|(visit, admitted_at, ..)| (visit, admitted_at)) {
            // Admitted (and perhaps gone again since, on a device that was
            // offline): the host is told, if it is not too late.
            // By e-mail, and in the app on the host's phones.
            Some((visit, Some(admitted_at))) => {
                for rule in [Rule::HostTold, Rule::HostToldInApp] {
                    queue(tx, &Fact { rule, key: format!("{rule}:{visit}"), subject: doc, event: None, hook: None, at: admitted_at }, now)?;
                }
            }
            Some((_, None)) => {}
            None => cancel(tx, doc, now)?,
        }
    }
    Ok(())
}

/// Every recent sign-in or sign-out of a presence month, once per Slack
/// hook that was there when it happened (most are already queued: the key
/// finds them; a hook added at noon is not sent the morning's when the
/// person's next change comes). Older ones would only expire: they are
/// not queued at all.
fn presence(tx: &Connection, doc: &DocId, now: Timestamp) -> rusqlite::Result<()> {
    let rule = Rule::SlackPresence;
    let since = Timestamp::from_millis(now.millis() - rule.too_old_after().as_millis() as i64);
    let hooks: Vec<(i64, Timestamp)> =
        tx.prepare_cached("SELECT hook_id, added_at FROM slack_hooks")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    if hooks.is_empty() {
        return Ok(());
    }
    let events: Vec<(String, Timestamp)> = tx
        .prepare_cached("SELECT event_id, at FROM presence_events WHERE doc_id = ?1 AND at > ?2 AND voided = 0")?
        .query_map(params![doc, since], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (event, at) in events {
        for (hook, _) in hooks.iter().filter(|(_, added_at)| at >= *added_at) {
            let fact = Fact { rule, key: format!("{rule}:{event}:{hook}"), subject: doc, event: Some(&event), hook: Some(*hook), at };
            queue(tx, &fact, now)?;
        }
    }
    Ok(())
}

/// An announcement: its people are told once, by a job per person queued
/// here the first time the server sees it (later writes are reads being
/// appended; the key finds them). People who join the audience later
/// see it in the app.
fn announcement(tx: &Connection, doc: &DocId, now: Timestamp) -> rusqlite::Result<()> {
    let rule = Rule::Announcement;
    let row: Option<(String, String, Option<String>, Timestamp)> = tx
        .prepare_cached("SELECT announcement_id, audience, department, sent_at FROM announcements WHERE doc_id = ?1")?
        .query_row([doc], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((id, audience, department, sent_at)) = row else { return Ok(()) };
    if tx.prepare_cached("SELECT 1 FROM jobs WHERE subject = ?1 AND rule = ?2")?.exists(params![doc, rule.as_str()])? {
        return Ok(());
    }
    let people: Vec<String> = match audience.as_str() {
        // "Everyone in the building": those signed in now.
        "everyone" => tx.prepare_cached("SELECT n.person_id FROM presence_now n JOIN people p ON p.person_id = n.person_id WHERE p.active = 1")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?,
        "all-staff" => tx.prepare_cached("SELECT person_id FROM people WHERE active = 1 AND roles != ''")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?,
        _ => tx
            .prepare_cached("SELECT person_id FROM people WHERE active = 1 AND department = ?1")?
            .query_map([department], |r| r.get(0))?
            .collect::<Result<_, _>>()?,
    };
    for person in people {
        super::schedule::insert_job(tx, rule, &format!("{rule}:{id}:{person}"), doc, &person, sent_at, now)?;
    }
    Ok(())
}

/// A fact that calls for a message.
struct Fact<'a> {
    rule: Rule,
    /// The fact and the rule (and the channel): unique.
    key: String,
    subject: &'a DocId,
    event: Option<&'a str>,
    hook: Option<i64>,
    at: Timestamp,
}

/// Queue a job once per key.
fn queue(tx: &Connection, fact: &Fact<'_>, now: Timestamp) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO jobs (rule, job_key, subject, event, hook_id, fact_at, queued_at, state, next_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?7)
         ON CONFLICT (job_key) DO NOTHING",
    )?
    .execute(params![fact.rule.as_str(), fact.key, fact.subject, fact.event, fact.hook, fact.at, now])?;
    Ok(())
}

/// Nothing more is sent about a document deleted for good.
fn cancel(tx: &Connection, subject: &DocId, now: Timestamp) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE jobs SET state = 'cancelled', done_at = ?2, sending = 0 WHERE subject = ?1 AND state = 'queued'")?
        .execute(params![subject, now])?;
    Ok(())
}
