//! What a job says, read from the projections when it is sent (not when
//! it was queued: a guest's name corrected meanwhile goes out corrected).
//! The words are the server's templates; these are the facts they show.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Attempt, Job, Rule};
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Message {
    /// A host told that their guest is here.
    HostTold(HostTold),
    /// A Slack channel told who came in or left.
    SlackPresence(SlackPresence),
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

impl Store {
    /// What `job` says now, or why nothing is to be sent (as the try's
    /// outcome).
    pub fn message_for(&self, job: &Job) -> Result<Result<Message, Attempt>, Error> {
        match job.rule {
            Rule::HostTold => self.host_told(job),
            Rule::SlackPresence => self.slack_presence(job),
        }
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

    fn site_words(&self) -> Result<(String, String), Error> {
        Ok(match self.site_settings()? {
            Some(s) => (s.name, s.time_zone),
            None => (String::new(), "UTC".into()),
        })
    }

    fn host_told(&self, job: &Job) -> Result<Result<Message, Attempt>, Error> {
        let row: Option<(String, String, Option<Timestamp>, String, Option<String>)> = self
            .conn()
            .prepare_cached(
                "SELECT v.guest_name, v.company, v.admitted_at, coalesce(p.name, v.host_name), p.email
                 FROM visits v LEFT JOIN people p ON p.person_id = v.host_id WHERE v.doc_id = ?1",
            )?
            .query_row(params![job.subject], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .optional()?;
        let Some((guest, company, admitted_at, host, email)) = row else {
            return Ok(Err(Attempt::Cancelled("the visit is gone".into())));
        };
        let Some(admitted_at) = admitted_at else {
            return Ok(Err(Attempt::Cancelled("the guest is no longer admitted".into())));
        };
        let Some(to) = email.filter(|e| !e.trim().is_empty()) else {
            return Ok(Err(Attempt::Refused(format!("{host} has no e-mail address"))));
        };
        let (site, time_zone) = self.site_words()?;
        Ok(Ok(Message::HostTold(HostTold { to, host, guest, company, admitted_at, site, time_zone })))
    }
}
