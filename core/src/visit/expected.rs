//! Expected guests: a host or the desk says a guest is coming on a day. The
//! guest gets an invitation code (e-mailed with its QR by the server); at
//! the kiosk the code fills the form, and the guest checks it and agrees to
//! the consent; at the desk "Arrived" puts them in the queue. Until then the
//! visit is `Expected`, and only desks see it (never a kiosk: it holds no
//! one's data but the guest's in front of it).

use chrono::NaiveDate;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::document::{Consent, Expectation, Guest, VisitChange, VisitEvent};
use super::{Error, GuestForm, VisitDoc, VisitState};
use crate::actor::{Actor, Role};
use crate::document::{DocId, DocKind, Header};
use crate::ids::{EventId, PersonId, VisitId};
use crate::store::{Store, Work};
use crate::time::Timestamp;

/// How far ahead a guest may be expected, in days.
pub const MAX_DAYS_AHEAD: i64 = 366;
/// How many guests one person may expect from their phone in a day: each
/// sends an e-mail, and a lost phone must not become a mailer.
pub const MAX_EXPECTED_A_DAY: u32 = 30;

/// The letters of an invitation code: no 0/O or 1/I to mistake.
const CODE_LETTERS: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A guest someone expects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExpectedGuest {
    /// Full name.
    pub name: String,
    /// Company, or "private".
    pub company: String,
    /// Where the invitation goes; none: no invitation is sent, the desk
    /// finds them under "Expected today".
    pub email: Option<String>,
    /// Whom they visit (a staff phone: always its own person).
    pub host: Option<PersonId>,
    /// The day they come, `YYYY-MM-DD` in the site's time zone.
    pub day: String,
    /// Why they come.
    pub purpose: Option<String>,
}

/// An expected guest's invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Invitation {
    /// The visit.
    pub visit: VisitId,
    /// What the guest types or shows at the kiosk (`K7QM-2XPA`).
    pub code: String,
}

/// What a kiosk learns from a code: the one guest it names, to fill the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InvitedGuest {
    /// The visit.
    pub visit: VisitId,
    /// Name.
    pub name: String,
    /// Company.
    pub company: String,
    /// E-mail.
    pub email: Option<String>,
    /// Host.
    pub host: PersonId,
    /// Host's name.
    pub host_name: String,
    /// Purpose.
    pub purpose: String,
}

/// A new invitation code, `XXXX-XXXX`: 40 random bits.
fn new_code() -> String {
    let bytes = *uuid::Uuid::new_v4().as_bytes();
    let letters: String = bytes.iter().take(8).map(|b| CODE_LETTERS[(*b as usize) % 32] as char).collect();
    format!("{}-{}", &letters[..4], &letters[4..])
}

/// A code as typed or scanned, written the way it is kept: upper case, the
/// dash in the middle; none when it cannot be a code.
pub fn normalize_code(typed: &str) -> Option<String> {
    let letters: String = typed
        .trim()
        .trim_start_matches("LODGE-INVITE-")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (letters.len() == 8 && letters.bytes().all(|b| CODE_LETTERS.contains(&b))).then(|| format!("{}-{}", &letters[..4], &letters[4..]))
}

/// The guest came: the consent they read (in `language`, the site's text
/// at a desk) is kept, and the arrival appended.
pub(super) fn mark_arrived(work: &mut Work<'_>, doc: &mut VisitDoc, actor: &Actor, language: Option<&str>) -> Result<(), Error> {
    let settings = crate::site::settings_in(work.conn())?.ok_or(crate::store::Error::NoSite)?;
    doc.consent = Consent { text: settings.consent_for(language).to_owned(), given_at: work.now() };
    doc.events.push(VisitEvent { id: EventId::new(), at: work.now(), by: actor.tag(), change: VisitChange::Arrived });
    work.write(&DocId::visit(doc.id), &*doc)?;
    Ok(())
}

fn read_visit(work: &mut Work<'_>, id: VisitId) -> Result<VisitDoc, Error> {
    work.read::<VisitDoc>(&DocId::visit(id))?.ok_or(Error::NotFound(id))
}

/// The site's today, as `YYYY-MM-DD`.
fn today(store: &Store) -> Result<NaiveDate, Error> {
    let zone = store.site_zone()?;
    Ok(store.now().to_utc().with_timezone(&zone).date_naive())
}

impl Store {
    /// Whether `actor` may expect this guest, and the rules allow them: a
    /// device that sends the guest to the server checks first, in its
    /// screen's language.
    pub fn check_expected_guest(&self, actor: &Actor, guest: &ExpectedGuest) -> Result<(), Error> {
        self.checked_expected(actor, guest).map(|_| ())
    }

    fn checked_expected(&self, actor: &Actor, guest: &ExpectedGuest) -> Result<(super::form::CheckedGuest, String, NaiveDate), Error> {
        actor.require(&[Role::Reception, Role::Admin, Role::Staff], "expect guests")?;
        let host = match (actor.role, actor.person, guest.host) {
            (Role::Staff, Some(me), Some(host)) if host != me => {
                return Err(crate::Denied { role: Role::Staff, action: "expect someone else's guests" }.into());
            }
            (Role::Staff, Some(me), _) => Some(me),
            (Role::Staff, None, _) => return Err(crate::Denied { role: Role::Staff, action: "expect guests without being a person" }.into()),
            (_, _, host) => host,
        };
        // The same checks as the kiosk's form, but for the consent: the
        // guest gives it when they come.
        let form = GuestForm {
            name: guest.name.clone(),
            company: guest.company.clone(),
            email: guest.email.clone(),
            phone: None,
            host,
            purpose: guest.purpose.clone(),
            consent: true,
            language: None,
        };
        let checked = super::form::check(&form, false, false).map_err(Error::InvalidForm)?;
        if actor.role == Role::Staff {
            let since = Timestamp::from_millis(self.now().millis() - 24 * 3_600_000);
            let made: i64 = self
                .conn()
                .prepare_cached("SELECT count(*) FROM visits WHERE registered_by = ?1 AND expected_on IS NOT NULL AND registered_at > ?2")
                .and_then(|mut s| s.query_row(rusqlite::params![actor.tag(), since], |r| r.get(0)))
                .map_err(crate::store::Error::from)?;
            if made >= i64::from(MAX_EXPECTED_A_DAY) {
                return Err(Error::TooManyExpected { max: MAX_EXPECTED_A_DAY });
            }
        }
        let day = NaiveDate::parse_from_str(guest.day.trim(), "%Y-%m-%d").map_err(|_| Error::NotADay(guest.day.clone()))?;
        let today = today(self)?;
        if day < today {
            return Err(Error::DayPast { day: guest.day.clone() });
        }
        if (day - today).num_days() > MAX_DAYS_AHEAD {
            return Err(Error::TooFarAhead { max: MAX_DAYS_AHEAD as u32 });
        }
        let host_name = super::commands::host_name(self.conn(), checked.host)?;
        Ok((checked, host_name, day))
    }

    /// Expect a guest on a day: the visit waits as `Expected` with its
    /// invitation code, which the server e-mails to the guest when there is
    /// an address. Desks expect anyone's guests; a staff member their own.
    pub fn expect_guest(&mut self, actor: &Actor, guest: ExpectedGuest) -> Result<Invitation, Error> {
        let (checked, host_name, day) = self.checked_expected(actor, &guest)?;
        self.run("expect_guest", actor, |work| {
            let site = crate::store::current_site(work.conn())?;
            let (id, code) = (VisitId::new(), new_code());
            let doc = VisitDoc {
                header: Header::new(DocKind::Visit, site, None),
                id,
                guest: Guest { name: checked.name, company: checked.company, email: checked.email, phone: None },
                host: checked.host,
                host_name,
                purpose: checked.purpose,
                // Given when they come.
                consent: Consent { text: String::new(), given_at: Timestamp::from_millis(0) },
                registered_at: work.now(),
                registered_by: actor.tag(),
                events: Vec::new(),
                expected: Some(Expectation { day: day.format("%Y-%m-%d").to_string(), code: code.clone() }),
            };
            work.create(&DocId::visit(id), &doc)?;
            Ok(Invitation { visit: id, code })
        })
    }

    /// The guest a code names, expected today and not yet come: what a
    /// kiosk may learn from the code alone.
    pub fn invited_guest(&self, code: &str) -> Result<InvitedGuest, Error> {
        let code = normalize_code(code).ok_or(Error::UnknownInvitation)?;
        let today = today(self)?.format("%Y-%m-%d").to_string();
        self.conn()
            .prepare_cached(
                "SELECT visit_id, guest_name, company, email, host_id, host_name, purpose FROM visits
                 WHERE invitation = ?1 AND state = 'expected' AND expected_on = ?2 ORDER BY visit_id LIMIT 1",
            )
            .map_err(crate::store::Error::from)?
            .query_row([&code, &today], |r| {
                Ok(InvitedGuest { visit: r.get(0)?, name: r.get(1)?, company: r.get(2)?, email: r.get(3)?, host: r.get(4)?, host_name: r.get(5)?, purpose: r.get(6)? })
            })
            .optional()
            .map_err(crate::store::Error::from)?
            .ok_or(Error::UnknownInvitation)
    }

    /// The guest of an invitation came to the kiosk, checked the form and
    /// agreed to the consent: they wait at the desk as any guest. The
    /// code is the kiosk's authority for this one visit.
    pub fn arrive_with_invitation(&mut self, actor: &Actor, code: &str, form: GuestForm) -> Result<VisitId, Error> {
        actor.require(&[Role::Kiosk, Role::Reception, Role::Admin], "check in invited guests")?;
        let invited = self.invited_guest(code)?;
        let settings = self.site_settings()?.ok_or(crate::store::Error::NoSite)?;
        // The host is the invitation's, whatever the form says.
        let form = GuestForm { host: Some(invited.host), ..form };
        let checked = super::form::check(&form, settings.contact_required, settings.purpose_required).map_err(Error::InvalidForm)?;
        self.run("arrive_with_invitation", actor, |work| {
            let mut doc = read_visit(work, invited.visit)?;
            doc.guest = Guest { name: checked.name, company: checked.company, email: checked.email, phone: checked.phone };
            doc.purpose = checked.purpose;
            mark_arrived(work, &mut doc, actor, form.language.as_deref())?;
            Ok(invited.visit)
        })
    }

    /// An expected guest came to the desk: they join the queue, the
    /// consent (the site's text) given at the desk.
    pub fn guest_arrived(&mut self, actor: &Actor, visit: VisitId) -> Result<(), Error> {
        actor.require(&[Role::Reception, Role::Admin], "check in expected guests")?;
        self.run("guest_arrived", actor, |work| {
            let mut doc = read_visit(work, visit)?;
            if doc.fold().state != VisitState::Expected {
                return Err(Error::NotExpected { guest: doc.guest.name });
            }
            mark_arrived(work, &mut doc, actor, None)
        })
    }

    /// Guests expected on a day (`YYYY-MM-DD`) who have not come yet, by name.
    pub fn expected_guests(&self, day: &str) -> Result<Vec<super::Visit>, crate::store::Error> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("{} WHERE state = 'expected' AND expected_on = ?1 ORDER BY guest_name COLLATE NOCASE, visit_id", super::queries::VISIT_SELECT))?;
        let rows = stmt.query_map([day], super::queries::visit_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Guests expected today on the site's calendar who have not come yet.
    pub fn expected_today(&self) -> Result<Vec<super::Visit>, Error> {
        let day = today(self)?.format("%Y-%m-%d").to_string();
        Ok(self.expected_guests(&day)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_eight_unmistakable_letters_and_reads_back_however_typed() {
        for _ in 0..200 {
            let code = new_code();
            assert_eq!(code.len(), 9);
            assert_eq!(normalize_code(&code).as_deref(), Some(code.as_str()));
            assert_eq!(normalize_code(&code.to_lowercase().replace('-', " ")).as_deref(), Some(code.as_str()));
            assert_eq!(normalize_code(&format!("LODGE-INVITE-{code}")).as_deref(), Some(code.as_str()));
        }
        assert_eq!(normalize_code("k7qm-2xpo"), None, "O is never in a code");
        assert_eq!(normalize_code("K7QM2XP"), None, "seven letters");
        assert_eq!(normalize_code(""), None);
    }
}
