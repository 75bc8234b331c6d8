//! "I work here": the six-digit code a person asked for, sent by e-mail or
//! text message through the job queue like every other message. The job
//! holds the code only until it is sent (or ends): the server's registry
//! keeps its hash, which is what a phone's answer is checked against.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::{Attempt, Job, Recipient, Rule};
use crate::ids::PersonId;
use crate::person::{ContactChannel, SignInContact};
use crate::store::{Error, Store};

/// "Your Lodge code is 123456."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInCodeSent {
    /// Where it goes: the contact the person gave.
    pub to: Recipient,
    /// The person's name.
    pub name: String,
    /// The six digits.
    pub code: String,
    /// For how many minutes it works.
    pub minutes: u32,
    /// The site's name.
    pub site: String,
}

impl Store {
    /// Queue `code` for `person` at `contact` (one of theirs: the server
    /// found them by it); `false` if they are gone meanwhile.
    pub fn queue_sign_in_code(&mut self, person: PersonId, contact: &SignInContact, code: &str) -> Result<bool, Error> {
        let now = self.now();
        let Some(doc) = self
            .conn()
            .prepare_cached("SELECT doc_id FROM people WHERE person_id = ?1")?
            .query_row([person], |r| r.get::<_, crate::document::DocId>(0))
            .optional()?
        else {
            return Ok(false);
        };
        let rule = Rule::SignInCode;
        // The channel and the code; the address is the person's own,
        // read again when it is sent.
        let event = format!("{}:{code}", contact.channel().as_str());
        let key = format!("{rule}:{person}:{}:{code}", now.millis());
        super::schedule::insert_job(self.conn(), rule, &key, &doc, &event, now, now)?;
        Ok(true)
    }

    pub(super) fn sign_in_code(&self, job: &Job) -> Result<Result<super::Message, Attempt>, Error> {
        let Some((channel, code)) = job.event.as_deref().and_then(|e| e.split_once(':')) else {
            return Ok(Err(Attempt::Cancelled("the code was sent or has ended".into())));
        };
        let row: Option<(PersonId, String, Option<String>, Option<String>)> = self
            .conn()
            .prepare_cached("SELECT person_id, name, email, phone FROM people WHERE doc_id = ?1 AND active = 1")?
            .query_row([&job.subject], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let Some((_, name, email, phone)) = row else {
            return Ok(Err(Attempt::Cancelled("the person is gone".into())));
        };
        let to = match ContactChannel::from_stored(channel) {
            Some(ContactChannel::Email) => email.map(|address| Recipient { channel: ContactChannel::Email, address }),
            Some(ContactChannel::Sms) => phone.map(|address| Recipient { channel: ContactChannel::Sms, address }),
            None => None,
        };
        let Some(to) = to else {
            return Ok(Err(Attempt::Cancelled(format!("{name} has no such contact any more"))));
        };
        let site = self.site_settings()?.map(|s| s.name).unwrap_or_default();
        let minutes = (Rule::SignInCode.too_old_after().as_secs() / 60) as u32;
        Ok(Ok(super::Message::SignInCode(SignInCodeSent { to, name, code: code.to_owned(), minutes, site })))
    }
}
