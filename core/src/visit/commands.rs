//! Visit commands: register, admit, reject, release, reissue a card, and
//! resolve a card given twice.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::document::{Consent, Guest, VisitChange, VisitEvent};
use super::{Error, GuestForm, VisitDoc, VisitState};
use crate::actor::{Actor, Role};
use crate::document::{DocId, DocKind, Header};
use crate::ids::{CardNumber, EventId, VisitId};
use crate::store::{Store, Work};
use crate::time::Timestamp;

const DESK: &[Role] = &[Role::Reception, Role::Admin];

/// Admit a waiting guest with a card.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AdmitRequest {
    /// The visit.
    pub visit: VisitId,
    /// The card in the receptionist's hand.
    pub card: CardNumber,
    /// The card is physically here, so if the ledger still shows it on an
    /// earlier visit, release that visit's card first.
    pub take_over: bool,
}

/// Why an entry is rejected. Not stored: the entry is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "reason", content = "text", rename_all = "kebab-case")]
pub enum RejectReason {
    /// A test or mistaken entry.
    Mistake,
    /// The same guest registered twice.
    Duplicate,
    /// Nonsense or abuse.
    Abuse,
    /// Anything else, in words.
    Other(String),
}

/// How a visit that lost a card conflict is fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "fix", content = "card", rename_all = "kebab-case")]
pub enum CardFix {
    /// The guest really holds this other card.
    Reissue(CardNumber),
    /// The guest already left.
    Release,
}

struct OpenVisit {
    visit: VisitId,
    guest: String,
    since: Timestamp,
}

fn open_visit_with_card(work: &Work<'_>, card: CardNumber) -> Result<Option<OpenVisit>, Error> {
    Ok(work
        .conn()
        .prepare_cached(
            "SELECT visit_id, guest_name, admitted_at FROM visits WHERE state = 'admitted' AND card = ?1 ORDER BY admitted_at, visit_id LIMIT 1",
        )
        .map_err(crate::store::Error::from)?
        .query_row([card], |r| Ok(OpenVisit { visit: r.get(0)?, guest: r.get(1)?, since: r.get(2)? }))
        .optional()
        .map_err(crate::store::Error::from)?)
}

/// A card may go to a guest: it exists, is in use, is of a guest type and is
/// nobody's own badge. Whether it is free is checked by the caller.
fn check_card_for_guest(work: &Work<'_>, card: CardNumber) -> Result<(), Error> {
    let db = |e: rusqlite::Error| Error::Store(e.into());
    let row: Option<(bool, bool, String)> = work
        .conn()
        .prepare_cached("SELECT c.active, t.for_guests, t.label FROM cards c JOIN card_types t ON t.type_id = c.type_id WHERE c.number = ?1")
        .map_err(db)?
        .query_row([card], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(db)?;
    let Some((active, for_guests, label)) = row else {
        return Err(Error::UnknownCard(card));
    };
    if !active {
        return Err(Error::CardInactive(card));
    }
    if !for_guests {
        return Err(Error::CardNotForGuests { card, card_type: label });
    }
    let badge: Option<String> = work
        .conn()
        .prepare_cached("SELECT name FROM people WHERE badge_card = ?1 AND active = 1 LIMIT 1")
        .map_err(db)?
        .query_row([card], |r| r.get(0))
        .optional()
        .map_err(db)?;
    if let Some(person) = badge {
        return Err(Error::CardIsBadge { card, person });
    }
    Ok(())
}

/// The name of a host guests may visit, from the directory; refused as the
/// form's host field otherwise.
pub(super) fn host_name(conn: &rusqlite::Connection, host: crate::ids::PersonId) -> Result<String, Error> {
    let name: Option<String> = conn
        .prepare_cached("SELECT name FROM directory WHERE person_id = ?1")
        .and_then(|mut s| s.query_row([host], |r| r.get(0)).optional())
        .map_err(crate::store::Error::from)?;
    name.ok_or_else(|| {
        Error::InvalidForm(vec![super::FieldError {
            field: super::GuestField::Host,
            problem: super::FieldProblem::UnknownHost,
            message: "This person cannot be visited now. Please choose someone else, or ask at the desk.".into(),
        }])
    })
}

fn read_visit(work: &mut Work<'_>, id: VisitId) -> Result<VisitDoc, Error> {
    work.read::<VisitDoc>(&DocId::visit(id))?.ok_or(Error::NotFound(id))
}

fn append(work: &mut Work<'_>, mut doc: VisitDoc, actor: &Actor, change: VisitChange) -> Result<(), Error> {
    let event = VisitEvent { id: EventId::new(), at: work.now(), by: actor.tag(), change };
    doc.events.push(event.clone());
    work.append(&DocId::visit(doc.id), &[(&["events".into()], &event)], &doc)?;
    Ok(())
}

fn release_in(work: &mut Work<'_>, actor: &Actor, visit: VisitId) -> Result<(), Error> {
    let doc = read_visit(work, visit)?;
    match doc.fold().state {
        VisitState::Admitted { .. } => append(work, doc, actor, VisitChange::Released),
        VisitState::Expected | VisitState::Waiting => Err(Error::NotAdmitted { guest: doc.guest.name }),
        VisitState::Left { left_at, .. } => Err(Error::AlreadyLeft { guest: doc.guest.name, left_at }),
    }
}

impl Store {
    /// A guest registers (on the kiosk, or at the desk for them). Returns the
    /// new visit, waiting at the desk.
    pub fn register_guest(&mut self, actor: &Actor, form: GuestForm) -> Result<VisitId, Error> {
        actor.require(&[Role::Kiosk, Role::Reception, Role::Admin], "register guests")?;
        let settings = self.site_settings()?.ok_or(crate::store::Error::NoSite)?;
        let checked = super::form::check(&form, settings.contact_required, settings.purpose_required)
            .map_err(Error::InvalidForm)?;
        self.run("register_guest", actor, |work| {
            let host_name = host_name(work.conn(), checked.host)?;
            let site = crate::store::current_site(work.conn())?;
            let id = VisitId::new();
            let owner = actor.device.map(|d| format!("device:{d}"));
            let doc = VisitDoc {
                header: Header::new(DocKind::Visit, site, owner),
                id,
                guest: Guest { name: checked.name, company: checked.company, email: checked.email, phone: checked.phone },
                host: checked.host,
                host_name,
                purpose: checked.purpose,
                consent: Consent { text: settings.consent_for(form.language.as_deref()).to_owned(), given_at: work.now() },
                registered_at: work.now(),
                registered_by: actor.tag(),
                events: Vec::new(),
                expected: None,
            };
            work.create(&DocId::visit(id), &doc)?;
            Ok(id)
        })
    }

    /// Admit a waiting guest with a badge card of a type guests may get. A
    /// card the ledger shows on another open visit is refused with that
    /// visit named, unless `take_over` says the card is physically here.
    pub fn admit(&mut self, actor: &Actor, request: AdmitRequest) -> Result<(), Error> {
        actor.require(DESK, "admit guests")?;
        self.run("admit", actor, |work| {
            let mut doc = read_visit(work, request.visit)?;
            match doc.fold().state {
                VisitState::Waiting => {}
                // An expected guest at the desk: arrived and admitted at once.
                VisitState::Expected => {
                    super::expected::mark_arrived(work, &mut doc, actor, None)?;
                }
                VisitState::Admitted { card, .. } => return Err(Error::AlreadyAdmitted { guest: doc.guest.name, card }),
                VisitState::Left { left_at, .. } => return Err(Error::AlreadyLeft { guest: doc.guest.name, left_at }),
            }
            check_card_for_guest(work, request.card)?;
            if let Some(open) = open_visit_with_card(work, request.card)? {
                if !request.take_over {
                    return Err(Error::CardInUse { card: request.card, guest: open.guest, since: open.since, visit: open.visit });
                }
                release_in(work, actor, open.visit)?;
            }
            append(work, doc, actor, VisitChange::Admitted { card: request.card })
        })
    }

    /// Reject a waiting entry: the visit document is deleted everywhere,
    /// with all the guest's data. The reason is not kept.
    pub fn reject(&mut self, actor: &Actor, visit: VisitId, reason: RejectReason) -> Result<(), Error> {
        actor.require(DESK, "reject entries")?;
        // The reason is logged without its free text: it may name the guest.
        let why = match &reason {
            RejectReason::Mistake => "mistake",
            RejectReason::Duplicate => "duplicate",
            RejectReason::Abuse => "abuse",
            RejectReason::Other(_) => "other",
        };
        tracing::info!(reason = why, "rejecting a guest entry");
        self.run("reject", actor, |work| {
            let doc = read_visit(work, visit)?;
            if doc.fold().state != VisitState::Waiting {
                return Err(Error::NotWaiting { guest: doc.guest.name });
            }
            work.purge(&DocId::visit(visit))?;
            Ok(())
        })
    }

    /// The guest leaves: exit time recorded, card free again.
    pub fn release(&mut self, actor: &Actor, visit: VisitId) -> Result<(), Error> {
        actor.require(DESK, "release cards")?;
        self.run("release", actor, |work| release_in(work, actor, visit))
    }

    /// The guest leaves, found by the card handed back.
    pub fn release_card(&mut self, actor: &Actor, card: CardNumber) -> Result<VisitId, Error> {
        actor.require(DESK, "release cards")?;
        self.run("release", actor, |work| {
            let open = open_visit_with_card(work, card)?.ok_or(Error::CardNotOut(card))?;
            release_in(work, actor, open.visit)?;
            Ok(open.visit)
        })
    }

    /// Give an admitted guest another card (swapped, or the one they really hold).
    pub fn reissue_card(&mut self, actor: &Actor, visit: VisitId, card: CardNumber) -> Result<(), Error> {
        actor.require(DESK, "change guests' cards")?;
        self.run("reissue_card", actor, |work| reissue_in(work, actor, visit, card))
    }

    /// Settle card `card` given to several guests while offline: `keep` holds
    /// it; each other visit gets the card it really has, or is released.
    pub fn resolve_card_conflict(
        &mut self,
        actor: &Actor,
        card: CardNumber,
        keep: VisitId,
        fixes: &[(VisitId, CardFix)],
    ) -> Result<(), Error> {
        actor.require(DESK, "resolve card conflicts")?;
        self.run("resolve_card_conflict", actor, |work| {
            let parties: Vec<VisitId> = work
                .conn()
                .prepare_cached("SELECT visit_id FROM visits WHERE state = 'admitted' AND card = ?1")
                .and_then(|mut s| s.query_map([card], |r| r.get(0))?.collect::<Result<_, _>>())
                .map_err(crate::store::Error::from)?;
            if parties.len() < 2 || !parties.contains(&keep) || fixes.iter().any(|(v, _)| !parties.contains(v) || *v == keep) {
                return Err(Error::NoSuchConflict(card));
            }
            for (visit, fix) in fixes {
                match fix {
                    CardFix::Release => release_in(work, actor, *visit)?,
                    CardFix::Reissue(other) => reissue_in(work, actor, *visit, *other)?,
                }
            }
            Ok(())
        })
    }
}

fn reissue_in(work: &mut Work<'_>, actor: &Actor, visit: VisitId, card: CardNumber) -> Result<(), Error> {
    let doc = read_visit(work, visit)?;
    match doc.fold().state {
        VisitState::Admitted { .. } => {}
        VisitState::Expected | VisitState::Waiting => return Err(Error::NotAdmitted { guest: doc.guest.name }),
        VisitState::Left { left_at, .. } => return Err(Error::AlreadyLeft { guest: doc.guest.name, left_at }),
    }
    check_card_for_guest(work, card)?;
    if let Some(open) = open_visit_with_card(work, card)?
        && open.visit != visit {
            return Err(Error::CardInUse { card, guest: open.guest, since: open.since, visit: open.visit });
        }
    append(work, doc, actor, VisitChange::CardReissued { card })
}
