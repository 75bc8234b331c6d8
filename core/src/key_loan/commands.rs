//! Key desk commands.

use automerge::Prop;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::document::{LoanChange, LoanEvent, LoanRecord, LoanState};
use super::exception::Revocation;
use super::{Error, ExceptionDoc, KeyDoc, LoanBook};
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

/// A key as the desk's rows have it: what a command checks before it
/// touches a loan, without reading the key's document.
struct KeyRow {
    label: String,
    key_type: KeyTypeId,
    active: bool,
}

fn key_row(work: &Work<'_>, key: KeyId) -> Result<KeyRow, Error> {
    work.conn()
        .prepare_cached("SELECT label, type_id, active FROM keys WHERE key_id = ?1")
        .map_err(db)?
        .query_row([key], |r| Ok(KeyRow { label: r.get(0)?, key_type: r.get(1)?, active: r.get(2)? }))
        .optional()
        .map_err(db)?
        .ok_or(Error::UnknownKey(key))
}

/// A document that keeps loans of a key: one of its loan books, or the
/// key's own document for loans made before books.
enum Ledger {
    Key(KeyDoc),
    Book(LoanBook),
}

impl Ledger {
    fn loans(&self) -> &[LoanRecord] {
        match self {
            Ledger::Key(doc) => &doc.loans,
            Ledger::Book(book) => &book.loans,
        }
    }
}

/// The documents holding the key's loans that are not closed yet (out or
/// lost), read: a command on a key reads these, never its whole history.
fn ledgers_with_open_loans(work: &mut Work<'_>, key: KeyId) -> Result<Vec<(DocId, Ledger)>, Error> {
    let ids: Vec<DocId> = work
        .conn()
        .prepare_cached("SELECT DISTINCT doc_id FROM loans WHERE key_id = ?1 AND state IN ('out', 'lost') ORDER BY doc_id")
        .map_err(db)?
        .query_map([key], |r| r.get(0))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let mut ledgers = Vec::with_capacity(ids.len());
    for id in ids {
        let ledger = match id.kind() {
            DocKind::LoanBook => work.read::<LoanBook>(&id)?.map(Ledger::Book),
            _ => work.read::<KeyDoc>(&id)?.map(Ledger::Key),
        };
        if let Some(ledger) = ledger {
            ledgers.push((id, ledger));
        }
    }
    Ok(ledgers)
}

/// Every loan change touches the key's own document too: a phone sees a
/// key while its person holds it, and the server asks again when the key
/// changes.
fn touch_key(work: &mut Work<'_>, key: KeyId) -> Result<(), Error> {
    let now = work.now();
    work.stamp(&DocId::key(key), "loans_changed_at", &Some(now))?;
    Ok(())
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

/// Append events to loans (by index in the ledger's list) as one change.
fn append_loan_events(work: &mut Work<'_>, id: &DocId, ledger: Ledger, events: Vec<(usize, LoanEvent)>) -> Result<(), Error> {
    if events.is_empty() {
        return Ok(());
    }
    let paths: Vec<[Prop; 3]> = events.iter().map(|(i, _)| ["loans".into(), Prop::Seq(*i), "events".into()]).collect();
    let inserts: Vec<(&[Prop], &LoanEvent)> = paths.iter().zip(&events).map(|(p, (_, e))| (&p[..], e)).collect();
    let push = |loans: &mut Vec<LoanRecord>| {
        for (i, e) in &events {
            loans[*i].events.push(e.clone());
        }
    };
    match ledger {
        Ledger::Key(mut doc) => {
            push(&mut doc.loans);
            work.append(id, &inserts, &doc)?;
        }
        Ledger::Book(mut book) => {
            push(&mut book.loans);
            work.append(id, &inserts, &book)?;
        }
    }
    Ok(())
}

/// For every open loan of the key for which `event` gives one, append
/// it; then touch the key. Returns how many loans had an event, and the
/// key's row.
fn change_open_loans(
    work: &mut Work<'_>,
    key: KeyId,
    mut event: impl FnMut(&LoanRecord) -> Result<Option<LoanEvent>, Error>,
) -> Result<(usize, KeyRow), Error> {
    let row = key_row(work, key)?;
    let mut changed = 0;
    for (id, ledger) in ledgers_with_open_loans(work, key)? {
        let mut events = Vec::new();
        for (i, loan) in ledger.loans().iter().enumerate() {
            if let Some(e) = event(loan)? {
                events.push((i, e));
            }
        }
        changed += events.len();
        append_loan_events(work, &id, ledger, events)?;
    }
    if changed > 0 {
        touch_key(work, key)?;
    }
    Ok((changed, row))
}

/// Lend a key within `work`: the rules of the desk, once, for a known
/// customer and a walk-in made in the same transaction alike.
pub(super) fn lend(work: &mut Work<'_>, actor: &Actor, request: CheckoutRequest) -> Result<LoanId, Error> {
    let now = work.now();
    let key = key_row(work, request.key)?;
    if !key.active {
        return Err(Error::Retired(key.label));
    }
    let open: Option<(PersonId, Timestamp)> = work
        .conn()
        .prepare_cached("SELECT customer, out_at FROM loans WHERE key_id = ?1 AND state = 'out' ORDER BY out_at, loan_id LIMIT 1")
        .map_err(db)?
        .query_row([request.key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db)?;
    if let Some((customer, since)) = open {
        return Err(Error::AlreadyOut { label: key.label, customer: person_name(work, customer), since });
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
    let (type_name, loan_days) = key_type_row(work, &key.key_type)?;
    let held: u32 = work
        .conn()
        .prepare_cached("SELECT count(*) FROM loans WHERE customer = ?1 AND type_id = ?2 AND state = 'out'")
        .map_err(db)?
        .query_row(params![customer, key.key_type], |r| r.get(0))
        .map_err(db)?;
    let allowed = super::allowance(work.conn(), customer, &key.key_type, now).map_err(db)?;
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
    let month = now.month();
    let book_id = DocId::loan_book(request.key, &month);
    let site = crate::store::current_site(work.conn())?;
    let mut book = work.read_or_create_shared(&book_id, || LoanBook::empty(site, request.key, &month))?;
    book.loans.push(loan.clone());
    work.append(&book_id, &[(&["loans".into()], &loan)], &book)?;
    touch_key(work, request.key)?;
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
            let doc = KeyDoc {
                header: Header::new(DocKind::Key, site, None),
                id,
                key_type,
                label,
                active: true,
                loans: Vec::new(),
                loans_changed_at: None,
            };
            work.create(&DocId::key(id), &doc)?;
            Ok(id)
        })
    }

    /// Retire a key for good: it is never lent again.
    pub fn retire_key(&mut self, actor: &Actor, key: KeyId) -> Result<(), Error> {
        actor.require(DESK, "retire keys")?;
        self.run("retire_key", actor, |work| {
            let row = key_row(work, key)?;
            let out: bool = work
                .conn()
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM loans WHERE key_id = ?1 AND state = 'out')")
                .map_err(db)?
                .query_row([key], |r| r.get(0))
                .map_err(db)?;
            if out {
                return Err(Error::RetireWhileOut(row.label));
            }
            let mut doc = work.read::<KeyDoc>(&DocId::key(key))?.ok_or(Error::UnknownKey(key))?;
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
            let (_, loan_days) = key_type_row(work, &key_row(work, key)?.key_type)?;
            let mut new_due = None;
            let (_, row) = change_open_loans(work, key, |loan| {
                let LoanState::Out { due_at: current, .. } = loan.state() else { return Ok(None) };
                let due = due_at.unwrap_or_else(|| current.max(now).plus_days(loan_days));
                if due <= now {
                    return Err(Error::DueInPast(due));
                }
                new_due = Some(due);
                Ok(Some(event(now, actor, LoanChange::Renewed { due_at: due })))
            })?;
            new_due.ok_or(Error::NotOut(row.label))
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
            let row = key_row(work, key)?;
            let open: Vec<LoanId> = work
                .conn()
                .prepare_cached("SELECT loan_id FROM loans WHERE key_id = ?1 AND state = 'out'")
                .map_err(db)?
                .query_map([key], |r| r.get(0))
                .map_err(db)?
                .collect::<Result<_, _>>()
                .map_err(db)?;
            if open.len() < 2 || !open.contains(&keep) {
                return Err(Error::NoSuchConflict(row.label));
            }
            change_open_loans(work, key, |loan| {
                let void = loan.id != keep && open.contains(&loan.id) && matches!(loan.state(), LoanState::Out { .. });
                Ok(void.then(|| event(now, actor, LoanChange::Voided)))
            })?;
            Ok(())
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
            let (changed, row) = change_open_loans(work, key, |loan| Ok(applies(loan.state()).then(|| event(now, actor, change(loan, now)))))?;
            if changed == 0 {
                return Err(refused(row.label));
            }
            Ok(())
        })
    }
}
