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
    for doc in written.iter().filter(|d| d.kind() == DocKind::Visit) {
        let visit: Option<(String, Option<Timestamp>)> = tx
            .prepare_cached("SELECT visit_id, admitted_at FROM visits WHERE doc_id = ?1")?
            .query_row([doc], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match visit {
            // Admitted (and perhaps gone again since, on a device that was
            // offline): the host is told, if it is not too late.
            Some((visit, Some(admitted_at))) => queue(tx, Rule::HostTold, &format!("{}:{visit}", Rule::HostTold), doc, admitted_at, now)?,
            Some((_, None)) => {}
            None => cancel(tx, doc, now)?,
        }
    }
    Ok(())
}

/// Queue a job once per key.
fn queue(tx: &Connection, rule: Rule, key: &str, subject: &DocId, fact_at: Timestamp, now: Timestamp) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO jobs (rule, job_key, subject, fact_at, queued_at, state, next_at) VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?5)
         ON CONFLICT (job_key) DO NOTHING",
    )?
    .execute(params![rule.as_str(), key, subject, fact_at, now])?;
    Ok(())
}

/// Nothing more is sent about a document deleted for good.
fn cancel(tx: &Connection, subject: &DocId, now: Timestamp) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE jobs SET state = 'cancelled', done_at = ?2, sending = 0 WHERE subject = ?1 AND state = 'queued'")?
        .execute(params![subject, now])?;
    Ok(())
}
