//! Checking the invariants of touched resources against the projections.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Affected, ConflictKind};
use crate::ids::{CardNumber, ItemId, KeyId, KeyTypeId, PersonId};
use crate::time::Timestamp;

/// Re-check every affected resource, replacing its conflict row.
pub(crate) fn recheck(conn: &Connection, affected: &Affected) -> rusqlite::Result<()> {
    for card in &affected.cards {
        card_on_two_visits(conn, *card)?;
    }
    for key in &affected.keys {
        key_lent_twice(conn, *key)?;
    }
    for (person, key_type) in &affected.limits {
        over_key_limit(conn, *person, key_type)?;
    }
    for person in &affected.presence {
        presence(conn, *person)?;
    }
    for item in &affected.items {
        taken_in_workshop(conn, *item)?;
    }
    Ok(())
}

pub(crate) fn put(
    conn: &Connection,
    id: &str,
    kind: ConflictKind,
    subject: &str,
    parties: &[String],
    winner: &str,
    summary: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO conflicts (conflict_id, kind, subject, parties, winner, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![id, kind.as_str(), subject, parties.join(","), winner, summary])?;
    Ok(())
}

pub(crate) fn remove(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM conflicts WHERE conflict_id = ?1")?.execute([id])?;
    Ok(())
}

fn card_on_two_visits(conn: &Connection, card: CardNumber) -> rusqlite::Result<()> {
    let id = format!("card:{card}");
    remove(conn, &id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT visit_id, guest_name, admitted_at FROM visits WHERE state = 'admitted' AND card = ?1 ORDER BY admitted_at, visit_id",
    )?;
    let rows: Vec<(String, String, Timestamp)> =
        stmt.query_map([card], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
    if rows.len() < 2 {
        return Ok(());
    }
    let names: Vec<String> = rows.iter().map(|(_, n, t)| format!("{n} ({t})")).collect();
    let parties: Vec<String> = rows.iter().map(|(v, _, _)| v.clone()).collect();
    let summary = format!(
        "Card {card} was given to {} guests while offline: {}. {} keeps it for now; give the others the card they really hold, or release them.",
        rows.len(),
        names.join(", "),
        rows[0].1
    );
    put(conn, &id, ConflictKind::CardOnTwoVisits, &card.to_string(), &parties, &rows[0].0, &summary)
}

fn key_lent_twice(conn: &Connection, key: KeyId) -> rusqlite::Result<()> {
    let id = format!("key:{key}");
    remove(conn, &id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT l.loan_id, coalesce(p.name, l.customer), l.out_at, k.label FROM loans l
         JOIN keys k ON k.key_id = l.key_id LEFT JOIN people p ON p.person_id = l.customer
         WHERE l.key_id = ?1 AND l.state = 'out' ORDER BY l.out_at, l.loan_id",
    )?;
    let rows: Vec<(String, String, Timestamp, String)> =
        stmt.query_map([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?;
    if rows.len() < 2 {
        return Ok(());
    }
    let names: Vec<String> = rows.iter().map(|(_, n, t, _)| format!("{n} ({t})")).collect();
    let parties: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let summary = format!(
        "Key {} was lent twice while offline: to {}. {} keeps it for now; say who really has it.",
        rows[0].3,
        names.join(" and "),
        rows[0].1
    );
    put(conn, &id, ConflictKind::KeyLentTwice, &key.to_string(), &parties, &rows[0].0, &summary)
}

fn over_key_limit(conn: &Connection, person: PersonId, key_type: &KeyTypeId) -> rusqlite::Result<()> {
    let id = format!("limit:{person}:{key_type}");
    remove(conn, &id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT loan_id, out_at FROM loans WHERE customer = ?1 AND type_id = ?2 AND state = 'out' ORDER BY out_at, loan_id",
    )?;
    let loans: Vec<(String, Timestamp)> =
        stmt.query_map(params![person, key_type], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    let Some(latest) = loans.iter().map(|l| l.1).max() else {
        return Ok(());
    };
    // Judged at the latest checkout, not at "now", so every replica agrees
    // whatever its clock says.
    let allowed = crate::key_loan::allowance(conn, person, key_type, latest)?;
    if loans.len() as u32 <= allowed {
        return Ok(());
    }
    let name: String = conn
        .query_row("SELECT name FROM people WHERE person_id = ?1", [person], |r| r.get(0))
        .unwrap_or_else(|_| person.to_string());
    let parties: Vec<String> = loans.iter().map(|l| l.0.clone()).collect();
    let winner = parties[..allowed as usize].join(",");
    let summary = format!(
        "{name} holds {} keys of type {key_type} but may hold {allowed}. Take back the extra key or grant an exception.",
        loans.len()
    );
    put(conn, &id, ConflictKind::OverKeyLimit, &format!("{person}:{key_type}"), &parties, &winner, &summary)
}

/// Rewrite who-is-in for a person from their events, and flag a double sign-in.
fn presence(conn: &Connection, person: PersonId) -> rusqlite::Result<()> {
    let id = format!("presence:{person}");
    remove(conn, &id)?;
    // Only the sign-ins since the last sign-out matter for who is in now:
    // read back from the latest event until a sign-out, in the order of the
    // person index (one query; it stops at the first sign-out, nearly
    // always the first or second row). Events of one instant keep their
    // order within their document; two months' documents never share an
    // instant, and the document's id settles it if they ever did.
    let mut latest = conn.prepare_cached(
        "SELECT event_id, at, kind = 'in' FROM presence_events WHERE person_id = ?1 AND voided = 0
         ORDER BY at DESC, seq DESC, doc_id DESC, event_id DESC",
    )?;
    let mut rows = latest.query([person])?;
    let mut open: Vec<(String, Timestamp)> = Vec::new();
    while let Some(row) = rows.next()? {
        if !row.get::<_, bool>(2)? {
            break;
        }
        open.push((row.get(0)?, row.get(1)?));
    }
    drop(rows);
    open.reverse();
    // Written only when it changed: most events leave who-is-in as it was
    // on all but one row, and every page written is a page in the log.
    let now: Option<(String, Timestamp)> = conn
        .prepare_cached("SELECT event_id, since FROM presence_now WHERE person_id = ?1")?
        .query_row([person], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if now.as_ref() != open.first() {
        conn.prepare_cached("DELETE FROM presence_now WHERE person_id = ?1")?.execute([person])?;
        if let Some(first) = open.first() {
            conn.prepare_cached("INSERT INTO presence_now (person_id, since, event_id) VALUES (?1, ?2, ?3)")?
                .execute(params![person, first.1, first.0])?;
        }
    }
    let Some(first) = open.first() else {
        return Ok(());
    };
    if open.len() >= 2 {
        let name: String = conn
            .query_row("SELECT name FROM people WHERE person_id = ?1", [person], |r| r.get(0))
            .unwrap_or_else(|_| person.to_string());
        let times: Vec<String> = open.iter().map(|(_, t)| t.to_string()).collect();
        let parties: Vec<String> = open.iter().map(|(e, _)| e.clone()).collect();
        let summary = format!(
            "{name} was signed in {} times without signing out ({}). The first sign-in counts for now.",
            open.len(),
            times.join(", ")
        );
        put(conn, &id, ConflictKind::SignedInTwice, &person.to_string(), &parties, &first.0, &summary)?;
    }
    Ok(())
}

/// An item taken while a ticket kept it in the workshop: a phone took it
/// offline while a desk sent it in. One that was already held when its
/// ticket went in is not a conflict (its holder has yet to bring it).
/// Judged from the merged documents alone (the take's time against the
/// time the ticket's stay in the workshop began), so the same whichever
/// arrived first; it goes away once the item is returned or the ticket
/// leaves the workshop.
fn taken_in_workshop(conn: &Connection, item: ItemId) -> rusqlite::Result<()> {
    let id = format!("workshop:{item}");
    remove(conn, &id)?;
    let held: Option<(String, String, String, Timestamp)> = conn
        .prepare_cached(
            "SELECT e.holder, coalesce(p.name, e.holder), e.name || ' (' || e.asset_number || ')', e.held_since FROM equipment e
             LEFT JOIN people p ON p.person_id = e.holder WHERE e.item_id = ?1 AND e.holder IS NOT NULL",
        )?
        .query_row([item], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((holder, name, label, since)) = held else {
        return Ok(());
    };
    // The ticket in the workshop and when its present stay there began:
    // the first move in after its last move out (or its opening).
    let tickets: Vec<(String, String, Option<Timestamp>)> = conn
        .prepare_cached(
            "SELECT r.ticket_id, r.state, (SELECT min(l.at) FROM repair_log l WHERE l.ticket_id = r.ticket_id
                 AND l.state IN ('in-progress', 'stalled')
                 AND l.at > coalesce((SELECT max(o.at) FROM repair_log o WHERE o.ticket_id = r.ticket_id AND o.state IN ('new', 'resolved')), -1))
             FROM repairs r WHERE r.item_id = ?1 AND r.state IN ('in-progress', 'stalled') ORDER BY r.opened_at, r.ticket_id",
        )?
        .query_map([item], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let Some((ticket, state, _)) = tickets.into_iter().find(|(_, _, went_in)| went_in.is_some_and(|t| since > t)) else {
        return Ok(());
    };
    let state = if state == "stalled" { "stalled" } else { "in progress" };
    let summary = format!(
        "{label} was taken by {name} ({since}) while its repair ticket is {state}. {name} holds it for now; bring it back to the workshop or move the ticket on."
    );
    put(conn, &id, ConflictKind::TakenInWorkshop, &item.to_string(), &[holder.clone(), ticket], &holder, &summary)
}
