//! Sign in, sign out, sign everyone out, and settle a double sign-in.

use rusqlite::OptionalExtension;

use super::document::{PresenceChange, PresenceEvent};
use super::{Error, PresenceDoc, SignOutReceipt};
use crate::actor::{Actor, Role};
use crate::document::DocId;
use crate::ids::{EventId, PersonId};
use crate::store::{Store, Work};
use crate::time::Timestamp;

const DESK: &[Role] = &[Role::Reception, Role::Admin];

fn person_name(work: &Work<'_>, person: PersonId) -> Result<String, Error> {
    let row: Option<(String, bool)> = work
        .conn()
        .prepare_cached("SELECT name, active FROM people WHERE person_id = ?1")
        .and_then(|mut s| s.query_row([person], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(crate::store::Error::from)?;
    match row {
        None => Err(Error::UnknownPerson(person)),
        Some((name, false)) => Err(Error::Inactive(name)),
        Some((name, true)) => Ok(name),
    }
}

fn signed_in_since(work: &Work<'_>, person: PersonId) -> Result<Option<Timestamp>, Error> {
    Ok(work
        .conn()
        .prepare_cached("SELECT since FROM presence_now WHERE person_id = ?1")
        .and_then(|mut s| s.query_row([person], |r| r.get(0)).optional())
        .map_err(crate::store::Error::from)?)
}

/// Append an event to the person's document for the current month.
fn record(work: &mut Work<'_>, actor: &Actor, person: PersonId, change: PresenceChange, month_of: Timestamp) -> Result<(), Error> {
    let month = month_of.month();
    let id = DocId::presence(person, &month);
    let site = crate::store::current_site(work.conn())?;
    let mut doc = work.read_or_create_shared(&id, || PresenceDoc::empty(site, person, &month))?;
    let event = PresenceEvent { id: EventId::new(), at: work.now(), by: actor.tag(), change };
    doc.events.push(event.clone());
    work.append(&id, &[(&["events".into()], &event)], &doc)?;
    Ok(())
}

fn sign_out_in(work: &mut Work<'_>, actor: &Actor, person: PersonId) -> Result<(), Error> {
    let name = person_name(work, person).or_else(|e| match e {
        // A deactivated person still signed in can be signed out.
        Error::Inactive(name) => Ok(name),
        e => Err(e),
    })?;
    if signed_in_since(work, person)?.is_none() {
        return Err(Error::NotIn(name));
    }
    let now = work.now();
    record(work, actor, person, PresenceChange::Out, now)
}

impl Store {
    /// Sign a person in (their own phone, or the desk for them).
    pub fn sign_in(&mut self, actor: &Actor, person: PersonId) -> Result<Timestamp, Error> {
        actor.require_self_or(person, DESK, "sign other people in")?;
        self.run("sign_in", actor, |work| {
            let name = person_name(work, person)?;
            if let Some(since) = signed_in_since(work, person)? {
                return Err(Error::AlreadyIn { name, since });
            }
            let now = work.now();
            record(work, actor, person, PresenceChange::In, now)?;
            Ok(now)
        })
    }

    /// Sign a person out; the receipt lists what they still hold.
    pub fn sign_out(&mut self, actor: &Actor, person: PersonId) -> Result<SignOutReceipt, Error> {
        actor.require_self_or(person, DESK, "sign other people out")?;
        let at = self.run("sign_out", actor, |work| {
            sign_out_in(work, actor, person)?;
            Ok::<_, Error>(work.now())
        })?;
        let still_holding = self.holdings(person)?;
        Ok(SignOutReceipt { at, still_holding })
    }

    /// Sign out everyone still signed in (end of day, or after a drill).
    /// Returns how many were signed out.
    pub fn sign_out_everyone(&mut self, actor: &Actor) -> Result<usize, Error> {
        actor.require(DESK, "sign everyone out")?;
        self.run("sign_out_everyone", actor, |work| {
            let people: Vec<PersonId> = work
                .conn()
                .prepare_cached("SELECT person_id FROM presence_now ORDER BY person_id")
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect::<Result<_, _>>())
                .map_err(crate::store::Error::from)?;
            for p in &people {
                sign_out_in(work, actor, *p)?;
            }
            Ok(people.len())
        })
    }

    /// Settle a double sign-in: `keep` counts, the other open sign-ins are
    /// set aside (kept in history, marked void).
    pub fn resolve_presence_conflict(&mut self, actor: &Actor, person: PersonId, keep: EventId) -> Result<(), Error> {
        actor.require(DESK, "resolve sign-in conflicts")?;
        let conflict = self.conflict(&format!("presence:{person}"))?.ok_or(Error::NoSuchConflict)?;
        if !conflict.parties.contains(&keep.to_string()) {
            return Err(Error::NoSuchConflict);
        }
        self.run("resolve_presence_conflict", actor, |work| {
            for party in conflict.parties.iter().filter(|p| **p != keep.to_string()) {
                let event = EventId::parse(party).map_err(|_| Error::NoSuchConflict)?;
                let doc_id: DocId = work
                    .conn()
                    .prepare_cached("SELECT doc_id FROM presence_events WHERE person_id = ?1 AND event_id = ?2")
                    .and_then(|mut s| s.query_row(rusqlite::params![person, event], |r| r.get(0)))
                    .map_err(crate::store::Error::from)?;
                let mut doc = work.read::<PresenceDoc>(&doc_id)?.ok_or(Error::NoSuchConflict)?;
                let void = PresenceEvent { id: EventId::new(), at: work.now(), by: actor.tag(), change: PresenceChange::Void { event } };
                doc.events.push(void.clone());
                work.append(&doc_id, &[(&["events".into()], &void)], &doc)?;
            }
            Ok(())
        })
    }
}
