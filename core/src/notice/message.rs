//! What a job says, read from the projections when it is sent (not when
//! it was queued: a guest's name corrected meanwhile goes out corrected).
//! The words are the server's templates; these are the facts they show.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Attempt, Job, Rule};
use crate::ids::{PersonId, VisitId};
use crate::person::ContactChannel;
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Message {
    /// A host told that their guest is here.
    HostTold(HostTold),
    /// Not sent: the same, as a notice the server writes for the host's
    /// own phones (see [`Store::notify_host`]).
    HostNotice(HostNotice),
    /// A Slack channel told who came in or left.
    SlackPresence(SlackPresence),
    /// Someone still signed in at the end of the day.
    SignOutReminder(SignOutReminder),
    /// A key past due, told to its borrower or their department's contact.
    LoanOverdue(LoanOverdue),
    /// An announcement or emergency, to one of its people.
    Announcement(AnnouncementSent),
    /// An expected guest's invitation, with its code.
    Invitation(InvitationSent),
    /// A person's six-digit code to enrol their phone.
    SignInCode(super::SignInCodeSent),
    /// Not a message: the night's erasure of what is past retention, which
    /// the server does itself when the job is taken (it must tell the
    /// connected devices).
    RetentionSweep {
        /// Erase what is past retention at this instant.
        as_of: Timestamp,
    },
}

/// A loan as an overdue notice reads it: borrower, key label, due date,
/// state, the borrower's e-mail, phone and preferred channel, and their
/// department's name and contact.
type LoanRow = (String, String, Timestamp, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

/// Who a message to a person goes to, and by which channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// E-mail or a text message.
    pub channel: ContactChannel,
    /// The address or phone number.
    pub address: String,
}

impl Recipient {
    /// The person's preferred channel where they have its address, else
    /// e-mail, else their phone.
    pub(super) fn choose(preferred: Option<ContactChannel>, email: Option<&str>, phone: Option<&str>) -> Option<Self> {
        let email = email.filter(|e| !e.trim().is_empty()).map(|a| Recipient { channel: ContactChannel::Email, address: a.to_owned() });
        let sms = phone.filter(|p| !p.trim().is_empty()).map(|a| Recipient { channel: ContactChannel::Sms, address: a.to_owned() });
        match preferred {
            Some(ContactChannel::Sms) => sms.or(email),
            _ => email.or(sms),
        }
    }
}

/// "You are still signed in at Lodge HQ."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOutReminder {
    /// Where it goes.
    pub to: Recipient,
    /// The person's name.
    pub name: String,
    /// Signed in since.
    pub since: Timestamp,
    /// The site's name.
    pub site: String,
    /// The site's time zone (IANA).
    pub time_zone: String,
}

/// An announcement as a person receives it by e-mail or text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementSent {
    /// Where it goes.
    pub to: Recipient,
    /// Whether it is an emergency.
    pub emergency: bool,
    /// Its title (may be empty).
    pub title: String,
    /// Its text.
    pub text: String,
    /// Who sent it.
    pub sender: String,
    /// When.
    pub sent_at: Timestamp,
    /// The site's name.
    pub site: String,
    /// The site's time zone (IANA).
    pub time_zone: String,
}

/// "Key M-1 was due back on 3 March."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoanOverdue {
    /// Where it goes.
    pub to: Recipient,
    /// The borrower's name.
    pub customer: String,
    /// The key's label.
    pub key: String,
    /// When it was due back.
    pub due_at: Timestamp,
    /// Whole days overdue at the time of the message.
    pub days_overdue: i64,
    /// For the department's contact: the department's name (the borrower
    /// is told otherwise).
    pub department: Option<String>,
    /// The site's name.
    pub site: String,
    /// The site's time zone (IANA).
    pub time_zone: String,
}

/// "Anna Kowalska signed in · 12 in the building."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlackPresence {
    /// The hook's URL.
    pub url: String,
    /// Who.
    pub name: String,
    /// In (or out).
    pub signed_in: bool,
    /// When.
    pub at: Timestamp,
    /// How many are signed in now.
    pub in_building: usize,
    /// The site's name.
    pub site: String,
    /// The site's time zone (IANA).
    pub time_zone: String,
}

/// "You are expected at Lodge House on 3 December by Anna Kowalska."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationSent {
    /// The guest's e-mail address.
    pub to: String,
    /// The guest's name.
    pub guest: String,
    /// Whom they visit.
    pub host: String,
    /// The day, `YYYY-MM-DD` in the site's time zone.
    pub day: String,
    /// The code to show or type at the kiosk.
    pub code: String,
    /// The site's name.
    pub site: String,
}

impl InvitationSent {
    /// What the invitation's QR holds: the code, marked as Lodge's.
    pub fn qr_text(&self) -> String {
        format!("LODGE-INVITE-{}", self.code)
    }
}

/// "Your guest is here."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostTold {
    /// The host's e-mail address.
    pub to: String,
    /// The host's name.
    pub host: String,
    /// The guest's name.
    pub guest: String,
    /// The guest's company.
    pub company: String,
    /// When the guest was admitted.
    pub admitted_at: Timestamp,
    /// The site's name.
    pub site: String,
    /// The site's time zone (IANA), to show the time in.
    pub time_zone: String,
}

/// "Your guest is here", on the host's phones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostNotice {
    /// The visit, which the notice is erased with.
    pub visit: VisitId,
    /// The host.
    pub host_id: PersonId,
    /// What the e-mail says, in the same words.
    pub told: HostTold,
}

impl Store {
    /// What `job` says now, or why nothing is to be sent (as the try's
    /// outcome).
    /// A daily rule's run for a day has no message of its own: it queues
    /// its messages now, and is done.
    pub fn message_for(&mut self, job: &Job) -> Result<Result<Message, Attempt>, Error> {
        if super::schedule::is_day_run(job) {
            if job.rule == Rule::Retention {
                return Ok(Ok(Message::RetentionSweep { as_of: super::schedule::as_of(job) }));
            }
            return self.expand_day_run(job).map(Err);
        }
        match job.rule {
            Rule::HostTold => self.host_told(job),
            Rule::HostToldInApp => self.host_notice(job),
            Rule::SlackPresence => self.slack_presence(job),
            Rule::SignOutReminder => self.sign_out_reminder(job),
            Rule::LoanOverdue | Rule::LoanOverdueDepartment => self.loan_overdue(job),
            Rule::Announcement => self.announcement_to(job),
            Rule::Invitation => self.invitation(job),
            Rule::SignInCode => self.sign_in_code(job),
            // Only ever a day's run (above).
            Rule::Retention => Ok(Err(Attempt::Cancelled("retention has no message".into()))),
        }
    }

    fn sign_out_reminder(&self, job: &Job) -> Result<Result<Message, Attempt>, Error> {
        let id: Option<PersonId> =
            self.conn().prepare_cached("SELECT person_id FROM people WHERE doc_id = ?1")?.query_row([&job.subject], |r| r.get(0)).optional()?;
        let Some(person) = id.map(|id| self.person(id)).transpose()?.flatten() else {
            return Ok(Err(Attempt::Cancelled("the person is gone".into())));
        };
        // Signed out since the day's run: nothing to remind of.
        let Some(since) = self.signed_in_since(person.id)? else {
            return Ok(Err(Attempt::Cancelled(format!("{} has signed out", person.name))));
        };
        let Some(to) = Recipient::choose(person.preferred_contact, person.email.as_ref().map(|e| e.as_str()), person.phone.as_deref()) else {
            return Ok(Err(Attempt::Refused(format!("{} has no e-mail address or phone number", person.name))));
        };
        let (site, time_zone) = self.site_words()?;
        Ok(Ok(Message::SignOutReminder(SignOutReminder { to, name: person.name, since, site, time_zone })))
    }

    fn announcement_to(&self, job: &Job) -> Result<Result<Message, Attempt>, Error> {
        let row: Option<(String, String, String, String, Timestamp)> = self
            .conn()
            .prepare_cached("SELECT kind, title, body, sender_name, sent_at FROM announcements WHERE doc_id = ?1")?
            .query_row([&job.subject], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .optional()?;
        let Some((kind, title, text, sender, sent_at)) = row else {
            return Ok(Err(Attempt::Cancelled("the announcement is gone".into())));
        };
        let person = job.event.as_deref().and_then(|p| PersonId::parse(p).ok()).map(|p| self.person(p)).transpose()?.flatten();
        let Some(person) = person else {
            return Ok(Err(Attempt::Cancelled("the person is gone".into())));
        };
        let Some(to) = Recipient::choose(person.preferred_contact, person.email.as_ref().map(|e| e.as_str()), person.phone.as_deref()) else {
            return Ok(Err(Attempt::Refused(format!("{} has no e-mail address or phone number", person.name))));
        };
        let (site, time_zone) = self.site_words()?;
        let emergency = kind == "emergency";
        Ok(Ok(Message::Announcement(AnnouncementSent { to, emergency, title, text, sender, sent_at, site, time_zone })))
    }

    fn loan_overdue(&self, job: &Job) -> Result<Result<Message, Attempt>, Error> {
        let row: Option<LoanRow> = self
            .conn()
            .prepare_cached(
                "SELECT coalesce(p.name, l.customer), coalesce(k.label, l.key_id), l.due_at, l.state, p.email, p.phone, p.preferred_contact, d.name, d.contact
                 FROM loans l LEFT JOIN keys k ON k.key_id = l.key_id LEFT JOIN people p ON p.person_id = l.customer
                 LEFT JOIN departments d ON d.department_id = p.department WHERE l.loan_id = ?1",
            )?
            .query_row([&job.event], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
            })
            .optional()?;
        let Some((customer, key, due_at, state, email, phone, preferred, department, contact)) = row else {
            return Ok(Err(Attempt::Cancelled("the loan is gone".into())));
        };
        if state != "out" {
            return Ok(Err(Attempt::Cancelled(format!("key {key} is no longer out"))));
        }
        let (to, department) = if job.rule == Rule::LoanOverdueDepartment {
            let Some(contact) = contact else {
                return Ok(Err(Attempt::Cancelled("the department has no contact any more".into())));
            };
            (Recipient { channel: ContactChannel::Email, address: contact }, Some(department.unwrap_or_default()))
        } else {
            let preferred = preferred.as_deref().and_then(ContactChannel::from_stored);
            let Some(to) = Recipient::choose(preferred, email.as_deref(), phone.as_deref()) else {
                return Ok(Err(Attempt::Refused(format!("{customer} has no e-mail address or phone number"))));
            };
            (to, None)
        };
        let days_overdue = (self.now().millis() - due_at.millis()).max(0) / 86_400_000;
        let (site, time_zone) = self.site_words()?;
        Ok(Ok(Message::LoanOverdue(LoanOverdue { to, customer, key, due_at, days_overdue, department, site, time_zone })))
    }

    fn slack_presence(&self, job: &Job) -> Result<Result<Message, Attempt>, Error> {
        let Some(url) = job.hook.map(|h| self.slack_hook(h)).transpose()?.flatten() else {
            return Ok(Err(Attempt::Cancelled("the Slack hook was removed".into())));
        };
        let row: Option<(String, String, Timestamp, bool)> = self
            .conn()
            .prepare_cached(
                "SELECT coalesce(p.name, e.person_id), e.kind, e.at, e.voided FROM presence_events e
                 LEFT JOIN people p ON p.person_id = e.person_id WHERE e.doc_id = ?1 AND e.event_id = ?2",
            )?
            .query_row(params![job.subject, job.event], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        // Voided (a mistaken sign-in taken back) counts as gone.
        let Some((name, kind, at, false)) = row else {
            return Ok(Err(Attempt::Cancelled("the sign-in or sign-out is gone".into())));
        };
        let in_building = self.people_in()?.len();
        let (site, time_zone) = self.site_words()?;
        Ok(Ok(Message::SlackPresence(SlackPresence { url, name, signed_in: kind == "in", at, in_building, site, time_zone })))
    }

    fn invitation(&self, job: &Job) -> Result<Result<Message, Attempt>, Error> {
        let row: Option<(String, String, Option<String>, Option<String>, Option<String>, String)> = self
            .conn()
            .prepare_cached("SELECT guest_name, host_name, email, expected_on, invitation, state FROM visits WHERE doc_id = ?1")?
            .query_row([&job.subject], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
            .optional()?;
        let Some((guest, host, email, Some(day), Some(code), state)) = row else {
            return Ok(Err(Attempt::Cancelled("the expected guest is gone".into())));
        };
        if state != "expected" {
            return Ok(Err(Attempt::Cancelled(format!("{guest} has come already"))));
        }
        let Some(to) = email.filter(|e| !e.trim().is_empty()) else {
            return Ok(Err(Attempt::Refused(format!("{guest} has no e-mail address"))));
        };
        let (site, _) = self.site_words()?;
        Ok(Ok(Message::Invitation(InvitationSent { to, guest, host, day, code, site })))
    }

    fn site_words(&self) -> Result<(String, String), Error> {
        Ok(match self.site_settings()? {
            Some(s) => (s.name, s.time_zone),
            None => (String::new(), "UTC".into()),
        })
    }

    fn host_told(&self, job: &Job) -> Result<Result<Message, Attempt>, Error> {
        Ok(self.admitted_guest(job)?.and_then(|(_, _, email, told)| match email.filter(|e| !e.trim().is_empty()) {
            Some(to) => Ok(Message::HostTold(HostTold { to, ..told })),
            None => Err(Attempt::Refused(format!("{} has no e-mail address", told.host))),
        }))
    }

    fn host_notice(&self, job: &Job) -> Result<Result<Message, Attempt>, Error> {
        Ok(self.admitted_guest(job)?.and_then(|(visit, host_id, _, told)| match host_id {
            Some(host_id) => Ok(Message::HostNotice(HostNotice { visit, host_id, told })),
            None => Err(Attempt::Cancelled(format!("{} is not in the directory", told.host))),
        }))
    }

    /// The admitted guest a job is about: the visit, the host (if in the
    /// directory) and their e-mail, and the words (without an address).
    #[allow(clippy::type_complexity)]
    fn admitted_guest(&self, job: &Job) -> Result<Result<(VisitId, Option<PersonId>, Option<String>, HostTold), Attempt>, Error> {
        let row: Option<(VisitId, String, String, Option<Timestamp>, String, Option<PersonId>, Option<String>)> = self
            .conn()
            .prepare_cached(
                "SELECT v.visit_id, v.guest_name, v.company, v.admitted_at, coalesce(p.name, v.host_name), p.person_id, p.email
                 FROM visits v LEFT JOIN people p ON p.person_id = v.host_id WHERE v.doc_id = ?1",
            )?
            .query_row(params![job.subject], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            .optional()?;
        let Some((visit, guest, company, admitted_at, host, host_id, email)) = row else {
            return Ok(Err(Attempt::Cancelled("the visit is gone".into())));
        };
        let Some(admitted_at) = admitted_at else {
            return Ok(Err(Attempt::Cancelled("the guest is no longer admitted".into())));
        };
        let (site, time_zone) = self.site_words()?;
        let told = HostTold { to: String::new(), host, guest, company, admitted_at, site, time_zone };
        Ok(Ok((visit, host_id, email, told)))
    }
}
