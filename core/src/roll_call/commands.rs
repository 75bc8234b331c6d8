//! Roll call commands: start one (a desk, the admin, a marshal's phone),
//! mark a person, end it.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::document::{Ended, Expected, Mark};
use super::{Accountable, Error, RollCallDoc, Standing};
use crate::actor::{Actor, Denied, Role};
use crate::announcement::{Audience, Kind, NewAnnouncement};
use crate::document::{DocId, DocKind, Header};
use crate::ids::{EventId, RollCallId};
use crate::store::{Store, Work};
use crate::time::Timestamp;
use crate::visit::VisitState;

/// What "Start roll call" sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StartRollCall {
    /// The emergency to send to every device with it (the screen fills in
    /// its own language's words); none to start quietly (a drill already
    /// announced).
    pub emergency: Option<String>,
}

/// Whether the actor may take part in roll calls: the desks and the admin,
/// and the phones of fire marshals.
fn require_marshal(work: &Work<'_>, actor: &Actor) -> Result<(), Error> {
    match actor.role {
        Role::Admin | Role::Reception => Ok(()),
        Role::Staff | Role::Worker => {
            let marshal: Option<bool> = match actor.person {
                Some(p) => work
                    .conn()
                    .prepare_cached("SELECT marshal FROM people WHERE person_id = ?1 AND active")
                    .and_then(|mut s| s.query_row([p], |r| r.get(0)).optional())
                    .map_err(crate::store::Error::from)?,
                None => None,
            };
            if marshal == Some(true) { Ok(()) } else { Err(Error::NotMarshal) }
        }
        role => Err(Denied { role, action: "take roll calls" }.into()),
    }
}

fn running(work: &Work<'_>) -> Result<Option<(RollCallId, Timestamp)>, Error> {
    Ok(work
        .conn()
        .prepare_cached("SELECT roll_call_id, started_at FROM roll_calls WHERE ended_at IS NULL ORDER BY started_at DESC, roll_call_id LIMIT 1")
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(crate::store::Error::from)?)
}

fn open(work: &mut Work<'_>, id: RollCallId) -> Result<RollCallDoc, Error> {
    let doc = work.read::<RollCallDoc>(&DocId::roll_call(id))?.ok_or(Error::UnknownRollCall(id))?;
    if doc.ended.is_some() {
        return Err(Error::Ended(id));
    }
    Ok(doc)
}

impl Store {
    /// Start a roll call of everyone this device believes is in the
    /// building, and (unless asked not to) send the emergency to every
    /// device. Refused while another roll call runs here.
    pub fn start_roll_call(&mut self, actor: &Actor, start: StartRollCall) -> Result<RollCallId, Error> {
        Ok(self.start_roll_call_sending(actor, start)?.0)
    }

    /// [`Store::start_roll_call`], with the emergency it sent, if any (the
    /// server tells every device of both).
    pub fn start_roll_call_sending(&mut self, actor: &Actor, start: StartRollCall) -> Result<(RollCallId, Option<crate::ids::AnnouncementId>), Error> {
        let emergency = start.emergency.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        if let Some(text) = &emergency
            && text.chars().count() > crate::announcement::MAX_TEXT_CHARS
        {
            return Err(Error::EmergencyTooLong { max: crate::announcement::MAX_TEXT_CHARS });
        }
        let id = self.run("start_roll_call", actor, |work| {
            require_marshal(work, actor)?;
            if let Some((roll_call, started_at)) = running(work)? {
                return Err(Error::AlreadyRunning { roll_call, started_at });
            }
            let site = crate::store::current_site(work.conn())?;
            let id = RollCallId::new();
            let doc = RollCallDoc {
                header: Header::new(DocKind::RollCall, site, None),
                id,
                started_at: work.now(),
                started_by: actor.tag(),
                expected: expected_now(work)?,
                marks: Vec::new(),
                ended: None,
            };
            work.create(&DocId::roll_call(id), &doc)?;
            Ok(id)
        })?;
        // The emergency goes to everyone; a marshal (checked above) sends
        // it as a desk would, in their own name: their phone asks the
        // server, which holds everyone, to start it. A refusal of it would
        // not undo the roll call.
        let mut sent = None;
        if let Some(text) = emergency {
            let announcer = match actor.role {
                Role::Admin | Role::Reception => actor.clone(),
                _ => Actor { role: Role::Reception, ..actor.clone() },
            };
            let max = crate::announcement::MAX_TEXT_CHARS;
            sent = Some(self.announce(&announcer, NewAnnouncement { kind: Kind::Emergency, audience: Audience::Everyone, title: String::new(), text }).map_err(|e| match e {
                crate::announcement::Error::Store(e) => Error::Store(e),
                crate::announcement::Error::Denied(d) => Error::Denied(d),
                // The text was checked above; nothing else can be refused.
                _ => Error::EmergencyTooLong { max },
            })?);
        }
        Ok((id, sent))
    }

    /// Mark one person of a running roll call safe, not here today, or
    /// missing again (a mark taken back).
    pub fn mark_roll_call(&mut self, actor: &Actor, roll_call: RollCallId, who: Accountable, standing: Standing) -> Result<(), Error> {
        self.run("mark_roll_call", actor, |work| {
            require_marshal(work, actor)?;
            let mut doc = open(work, roll_call)?;
            let subject = who.key();
            if !doc.expected.iter().any(|e| e.subject == subject) {
                return Err(Error::NotOnList);
            }
            let mark = Mark { id: EventId::new(), subject, standing, at: work.now(), by: actor.tag() };
            doc.marks.push(mark.clone());
            work.append(&DocId::roll_call(roll_call), &[(&["marks".into()], &mark)], &doc)?;
            Ok(())
        })
    }

    /// End a roll call: it stays as the site's report of it.
    pub fn end_roll_call(&mut self, actor: &Actor, roll_call: RollCallId) -> Result<(), Error> {
        self.run("end_roll_call", actor, |work| {
            require_marshal(work, actor)?;
            let mut doc = open(work, roll_call)?;
            doc.ended = Some(Ended { at: work.now(), by: actor.tag() });
            work.write(&DocId::roll_call(roll_call), &doc)?;
            Ok(())
        })
    }
}

/// Everyone in the building now, as this device knows it: staff signed in
/// and guests admitted.
fn expected_now(work: &Work<'_>) -> Result<Vec<Expected>, crate::store::Error> {
    let conn = work.conn();
    let people = crate::presence::people_in(conn)?.into_iter().map(|p| Expected {
        subject: Accountable::Staff { person: p.person }.key(),
        name: p.name,
        department: p.department,
        company: None,
        card: None,
        host_name: None,
    });
    let guests = crate::visit::guests_in(conn)?.into_iter().map(|v| Expected {
        subject: Accountable::Guest { visit: v.id }.key(),
        name: v.guest_name,
        department: None,
        company: Some(v.company).filter(|c| !c.is_empty()),
        card: match v.state {
            VisitState::Admitted { card, .. } => Some(card),
            _ => None,
        },
        host_name: Some(v.host_name),
    });
    Ok(people.chain(guests).collect())
}
