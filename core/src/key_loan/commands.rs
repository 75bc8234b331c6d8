//! Key desk commands.

use automerge::Prop;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::document::{LoanChange, LoanEvent, LoanRecord, LoanState};
use super::exception::Revocation;
use super::{Error, ExceptionDoc, KeyDoc};
use crate::actor::{Actor, Role};
use crate::document::{DocId, DocKind, Header};
use crate::ids::{Email, EventId, ExceptionId, KeyId, KeyTypeId, LoanId, PersonId};
use crate::store::{Store, Work};
use crate::time::Timestamp;

const DESK: &[Role] = &[Role::KeyDesk, Role::Admin];

/// Lend a key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckoutRequest {
    /// The key.
    pub key: KeyId,
    /// The customer, by e-mail.
    pub customer: Email,
    /// Due back; by default now plus the key type's loan term.
    pub due_at: Option<Timestamp>,
}

fn db(e: rusqlite::Error) -> Error {
    Error::Store(e.into())
}

fn read_key(work: &mut Work<'_>, key: KeyId) -> Result<KeyDoc, Error> {
    work.read::<KeyDoc>(&DocId::key(key))?.ok_or(Error::UnknownKey(key))
}

fn key_type_row(work: &Work<'_>, key_type: &KeyTypeId) -> Result<(String, u32), Error> {
    work.conn()
        .prepare_cached("SELECT name, loan_days FROM key_types WHERE key_type_id = ?1")
        .map_err(db)?
        .query_row([key_type], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db)?
        .ok_or_else(|| Error::UnknownKeyType(key_type.clone()))
}

fn person_name(work: &Work<'_>, person: PersonId) -> String {
    work.conn()
        .query_row("SELECT name FROM people WHERE person_id = ?1", [person], |r| r.get(0))
        .unwrap_or_else(|_| person.to_string())
}

fn event(at: Timestamp, actor: &Actor, change: LoanChange) -> LoanEvent {
    LoanEvent { id: EventId::new(), at, by: actor.tag(), change }
}

/// Append events to loans (by index in the key's list) as one change.
fn append_loan_events(work: &mut Work<'_>, mut doc: KeyDoc, events: Vec<(usize, LoanEvent)>) -> Result<(), Error> {
    let paths: Vec<[Prop; 3]> = events.iter().map(|(i, _)| ["loans".into(), Prop::Seq(*i), "events".into()]).collect();
    for (i, e) in &events {
        doc.loans[*i].events.push(e.clone());
    }
    let inserts: Vec<(&[Prop], &LoanEvent)> = paths.iter().zip(&events).map(|(p, (_, e))| (&p[..], e)).collect();
    work.append(&DocId::key(doc.id), &inserts, &doc)?;
    Ok(())
}

/// Lend a key within `work`: the rules of the desk, once, for a known
/// customer and a walk-in made in the same transaction alike.
pub(super) fn lend(work: &mut Work<'_>, actor: &Actor, request: CheckoutRequest) -> Result<LoanId, Error> {
    let now = work.now();
    let mut doc = read_key(work, request.key)?;
    if !doc.active {
        return Err(Error::Retired(doc.label));
    }
    if let Some(open) = doc.loans.iter().find(|l| matches!(l.state(), LoanState::Out { .. })) {
        return Err(Error::AlreadyOut { label: doc.label.clone(), customer: person_name(work, open.customer), since: open.out_at });
    }
    let customer: Option<(PersonId, String, Option<String>, Option<String>)> = work
        .conn()
        .prepare_cached("SELECT person_id, name, user_id, affiliation FROM people WHERE email = ?1 AND active = 1 ORDER BY person_id LIMIT 1")
        .map_err(db)?
        .query_row([&request.customer], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()
        .map_err(db)?;
    let Some((customer, name, user_id, affiliation)) = customer else {
        return Err(Error::UnknownCustomer(request.customer.clone()));
    };
    if let Some(aff) = affiliation {
        let row: Option<(String, bool)> = work
            .conn()
            .prepare_cached("SELECT name, requires_user_id FROM affiliations WHERE affiliation_id = ?1")
            .map_err(db)?
            .query_row([&aff], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db)?;
        if let Some((aff_name, true)) = row
            && user_id.as_deref().is_none_or(|u| u.trim().is_empty()) {
                return Err(Error::UserIdRequired { name, affiliation: aff_name });
            }
    }
    let (type_name, loan_days) = key_type_row(work, &doc.key_type)?;
    let held: u32 = work
        .conn()
        .prepare_cached("SELECT count(*) FROM loans WHERE customer = ?1 AND type_id = ?2 AND state = 'out'")
        .map_err(db)?
        .query_row(params![customer, doc.key_type], |r| r.get(0))
        .map_err(db)?;
    let allowed = super::allowance(work.conn(), customer, &doc.key_type, now).map_err(db)?;
    if held >= allowed {
        return Err(if allowed <= 1 {
            Error::OverLimit { name, key_type: type_name, held }
        } else {
            Error::OverException { name, key_type: type_name, held }
        });
    }
    let due_at = request.due_at.unwrap_or_else(|| now.plus_days(loan_days));
    if due_at <= now {
        return Err(Error::DueInPast(due_at));
    }
    let id = LoanId::new();
    let loan = LoanRecord { id, customer, out_at: now, due_at, by: actor.tag(), events: Vec::new() };
    doc.loans.push(loan.clone());
    work.append(&DocId::key(request.key), &[(&["loans".into()], &loan)], &doc)?;
    Ok(id)
}

impl Store {
    /// Add a key of a type, with the label stamped on it.
    pub fn add_key(&mut self, actor: &Actor, key_type: KeyTypeId, label: &str) -> Result<KeyId, Error> {
        actor.require(DESK, "add keys")?;
        let label = label.trim().to_owned();
        if label.is_empty() {
            return Err(Error::NoLabel);
        }
        self.run("add_key", actor, |work| {
            key_type_row(work, &key_type)?;
            let site = crate::store::current_site(work.conn())?;
            let id = KeyId::new();
            let doc = KeyDoc { header: Header::new(DocKind::Key, site, None), id, key_type, label, active: true, loans: Vec::new() };
            work.create(&DocId::key(id), &doc)?;
            Ok(id)
        })
    }

    /// Retire a key for good: it is never lent again.
    pub fn retire_key(&mut self, actor: &Actor, key: KeyId) -> Result<(), Error> {
        actor.require(DESK, "retire keys")?;
        self.run("retire_key", actor, |work| {
            let mut doc = read_key(work, key)?;
            if doc.loans.iter().any(|l| matches!(l.state(), LoanState::Out { .. })) {
                return Err(Error::RetireWhileOut(doc.label));
            }
            doc.active = false;
            work.write(&DocId::key(key), &doc)?;
            Ok(())
        })
    }

    /// Lend a key to a customer identified by e-mail.
    pub fn checkout_key(&mut self, actor: &Actor, request: CheckoutRequest) -> Result<LoanId, Error> {
        actor.require(DESK, "lend keys")?;
        self.run("checkout_key", actor, |work| lend(work, actor, request))
    }

    /// The key is back at the desk (also a lost key found again). Closes
    /// every open loan of it: the key is here, whatever the ledger said.
    pub fn return_key(&mut self, actor: &Actor, key: KeyId) -> Result<(), Error> {
        actor.require(DESK, "take keys back")?;
        self.loan_change("return_key", actor, key, |state| matches!(state, LoanState::Out { .. } | LoanState::Lost { .. }), |_, _| LoanChange::Returned, Error::NotOut)
    }

    /// Extend a loan: to `due_at`, or by the key type's loan term.
    pub fn renew_key(&mut self, actor: &Actor, key: KeyId, due_at: Option<Timestamp>) -> Result<Timestamp, Error> {
        actor.require(DESK, "renew loans")?;
        self.run("renew_key", actor, |work| {
            let now = work.now();
            let doc = read_key(work, key)?;
            let (_, loan_days) = key_type_row(work, &doc.key_type)?;
            let mut events = Vec::new();
            let mut new_due = None;
            for (i, loan) in doc.loans.iter().enumerate() {
                if let LoanState::Out { due_at: current, .. } = loan.state() {
                    let due = due_at.unwrap_or_else(|| current.max(now).plus_days(loan_days));
                    if due <= now {
                        return Err(Error::DueInPast(due));
                    }
                    events.push((i, event(now, actor, LoanChange::Renewed { due_at: due })));
                    new_due = Some(due);
                }
            }
            let due = new_due.ok_or_else(|| Error::NotOut(doc.label.clone()))?;
            append_loan_events(work, doc, events)?;
            Ok(due)
        })
    }

    /// The customer lost the key.
    pub fn mark_lost(&mut self, actor: &Actor, key: KeyId) -> Result<(), Error> {
        actor.require(DESK, "mark keys lost")?;
        self.loan_change("mark_lost", actor, key, |state| matches!(state, LoanState::Out { .. }), |_, _| LoanChange::Lost, Error::NotOut)
    }

    /// The customer paid for a lost key.
    pub fn mark_paid(&mut self, actor: &Actor, key: KeyId) -> Result<(), Error> {
        actor.require(DESK, "mark lost keys paid")?;
        self.loan_change("mark_paid", actor, key, |state| matches!(state, LoanState::Lost { .. }), |_, _| LoanChange::Paid, Error::NotLost)
    }

    /// Settle a key lent twice while offline: `keep` has it, the other loans
    /// are voided (the key was never handed over on them).
    pub fn resolve_key_conflict(&mut self, actor: &Actor, key: KeyId, keep: LoanId) -> Result<(), Error> {
        actor.require(DESK, "resolve key conflicts")?;
        self.run("resolve_key_conflict", actor, |work| {
            let now = work.now();
            let doc = read_key(work, key)?;
            let open: Vec<LoanId> = doc.loans.iter().filter(|l| matches!(l.state(), LoanState::Out { .. })).map(|l| l.id).collect();
            if open.len() < 2 || !open.contains(&keep) {
                return Err(Error::NoSuchConflict(doc.label));
            }
            let events = doc
                .loans
                .iter()
                .enumerate()
                .filter(|(_, l)| l.id != keep && open.contains(&l.id))
                .map(|(i, _)| (i, event(now, actor, LoanChange::Voided)))
                .collect();
            append_loan_events(work, doc, events)
        })
    }

    /// Let a customer hold up to `max_keys` keys of a type until `expires_at`.
    pub fn grant_exception(
        &mut self,
        actor: &Actor,
        customer: PersonId,
        key_type: KeyTypeId,
        max_keys: u32,
        expires_at: Timestamp,
    ) -> Result<ExceptionId, Error> {
        actor.require(DESK, "grant loan exceptions")?;
        self.run("grant_exception", actor, |work| {
            if max_keys < 2 || expires_at <= work.now() {
                return Err(Error::BadException);
            }
            key_type_row(work, &key_type)?;
            let known = work
                .conn()
                .prepare_cached("SELECT 1 FROM people WHERE person_id = ?1")
                .and_then(|mut s| s.exists([customer]))
                .map_err(db)?;
            if !known {
                return Err(Error::UnknownPerson(customer));
            }
            let site = crate::store::current_site(work.conn())?;
            let id = ExceptionId::new();
            let doc = ExceptionDoc {
                header: Header::new(DocKind::LoanException, site, None),
                id,
                customer,
                key_type,
                max_keys,
                expires_at,
                granted_by: actor.tag(),
                granted_at: work.now(),
                revoked: None,
            };
            work.create(&DocId::loan_exception(id), &doc)?;
            Ok(id)
        })
    }

    /// Withdraw an exception.
    pub fn revoke_exception(&mut self, actor: &Actor, id: ExceptionId) -> Result<(), Error> {
        actor.require(DESK, "revoke loan exceptions")?;
        self.run("revoke_exception", actor, |work| {
            let doc_id = DocId::loan_exception(id);
            let mut doc = work.read::<ExceptionDoc>(&doc_id)?.ok_or(Error::UnknownException(id))?;
            if doc.revoked.is_some() {
                return Err(Error::AlreadyRevoked);
            }
            doc.revoked = Some(Revocation { at: work.now(), by: actor.tag() });
            work.write(&doc_id, &doc)?;
            Ok(())
        })
    }

    fn loan_change(
        &mut self,
        command: &str,
        actor: &Actor,
        key: KeyId,
        applies: impl Fn(LoanState) -> bool,
        change: impl Fn(&LoanRecord, Timestamp) -> LoanChange,
        refused: impl FnOnce(String) -> Error,
    ) -> Result<(), Error> {
        self.run(command, actor, |work| {
            let now = work.now();
            let doc = read_key(work, key)?;
            let events: Vec<(usize, LoanEvent)> = doc
                .loans
                .iter()
                .enumerate()
                .filter(|(_, loan)| applies(loan.state()))
                .map(|(i, loan)| (i, event(now, actor, change(loan, now))))
                .collect();
            if events.is_empty() {
                return Err(refused(doc.label));
            }
            append_loan_events(work, doc, events)
        })
    }
}
