//! Who an announcement reached by e-mail or text message, for the desk or
//! admin that sent it: read from the server's jobs (one per person of its
//! audience), so only the server answers it.

use serde::{Deserialize, Serialize};

use super::job::JobState;
use super::message::Recipient;
use super::rule::Rule;
use crate::document::DocId;
use crate::ids::{AnnouncementId, PersonId};
use crate::person::ContactChannel;
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// One person of an announcement's audience.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Delivery {
    /// Who.
    pub person: PersonId,
    /// Their name (their id, for someone no longer in the site).
    pub name: String,
    /// How they are told: their preferred way where they have its
    /// address; none without an address or phone.
    pub by: Option<ContactChannel>,
    /// Whether the message went.
    pub outcome: DeliveryState,
}

/// Whether a person's message went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum DeliveryState {
    /// Not sent yet, or being tried again.
    Waiting {
        /// Why the last try failed, if one did.
        last_error: Option<String>,
    },
    /// The relay or the SMS API took it.
    Sent {
        /// When.
        at: Timestamp,
    },
    /// It will not go (no address, refused, too late): the person was not
    /// reached this way.
    NotReached {
        /// Why.
        reason: String,
    },
}

impl Store {
    /// Who announcement `id` reached by e-mail or text, by name; `None`
    /// when the server made no messages for it (unknown, or not seen yet).
    pub fn announcement_deliveries(&self, id: AnnouncementId) -> Result<Option<Vec<Delivery>>, Error> {
        let jobs = self.jobs_about(Rule::Announcement, &DocId::announcement(id))?;
        if jobs.is_empty() {
            return Ok(None);
        }
        let mut reach = Vec::with_capacity(jobs.len());
        for job in jobs {
            let Some(person) = job.event.as_deref().and_then(|p| PersonId::parse(p).ok()) else { continue };
            let known = self.person(person)?;
            let by = known.as_ref().and_then(|p| {
                Recipient::choose(p.preferred_contact, p.email.as_ref().map(|e| e.as_str()), p.phone.as_deref()).map(|r| r.channel)
            });
            let name = known.map_or_else(|| person.to_string(), |p| p.name);
            let outcome = match job.state {
                JobState::Queued => DeliveryState::Waiting { last_error: job.last_error },
                JobState::Sent => DeliveryState::Sent { at: job.done_at.unwrap_or(job.queued_at) },
                JobState::Expired => DeliveryState::NotReached { reason: "it could not go within an hour, and was not sent so late".into() },
                JobState::Failed | JobState::Cancelled => {
                    DeliveryState::NotReached { reason: job.last_error.unwrap_or_else(|| job.state.as_str().to_owned()) }
                }
            };
            reach.push(Delivery { person, name, by, outcome });
        }
        reach.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Some(reach))
    }
}
