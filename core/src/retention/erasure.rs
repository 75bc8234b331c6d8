//! The one rule: erase what is past retention, whole documents purged as a
//! rejected guest's visit is (tombstone, changes barred, `secure_delete`,
//! the log emptied after commit), their counts kept in the same
//! transaction.

use serde::{Deserialize, Serialize};

use super::counts::{self, Days};
use super::due;
use crate::actor::Actor;
use crate::document::{DocId, DocKind};
use crate::presence::PresenceDoc;
use crate::store::{Error, Store};
use crate::time::Timestamp;
use crate::visit::VisitDoc;

/// What one erasure did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erased {
    /// Visits erased.
    pub visits: u32,
    /// Presence months erased.
    pub presence_months: u32,
    /// The documents, for the change feed that tells every device (ids
    /// only; they are not kept once told).
    pub docs: Vec<DocId>,
}

impl Erased {
    /// Add another step's erasure to this one.
    pub fn add(&mut self, more: Erased) {
        self.visits += more.visits;
        self.presence_months += more.presence_months;
        self.docs.extend(more.docs);
    }
}

impl Store {
    /// Erase every document past retention at `now` (see
    /// [`crate::retention`]), in one transaction.
    pub fn erase_past_retention(&mut self, now: Timestamp) -> Result<Erased, Error> {
        self.erase_past_retention_at_most(now, usize::MAX)
    }

    /// [`Store::erase_past_retention`], at most `at_most` documents at a
    /// time: the server erases a year's backlog in turns, so that devices
    /// syncing meanwhile wait for one turn, not for all of it. Call again
    /// until it erases fewer than `at_most`.
    pub fn erase_past_retention_at_most(&mut self, now: Timestamp, at_most: usize) -> Result<Erased, Error> {
        let actor = Actor::site_founder("retention");
        let erased = self.run("retention", &actor, |work| -> Result<Erased, Error> {
            let Some(limits) = due::limits(work.conn())? else {
                return Ok(Erased::default());
            };
            let docs = due::due_documents(work.conn(), now, limits, at_most)?;
            let days = Days::of_site(work.conn())?;
            let mut erased = Erased::default();
            let mut kept = Vec::new();
            for doc in docs {
                match doc.kind() {
                    DocKind::Visit => {
                        if let Some(visit) = work.read::<VisitDoc>(&doc)? {
                            kept.extend(counts::of_visit(&visit, &days));
                        }
                        erased.visits += 1;
                    }
                    DocKind::Presence => {
                        if let Some(month) = work.read::<PresenceDoc>(&doc)? {
                            kept.extend(counts::of_presence(&month, &days));
                        }
                        erased.presence_months += 1;
                    }
                    // Nothing of it is counted: the visits are.
                    DocKind::RollCall => {}
                    _ => continue,
                }
                let with_it = work.purge(&doc)?;
                erased.docs.push(doc);
                erased.docs.extend(with_it);
            }
            counts::keep(work.conn(), &kept)?;
            Ok(erased)
        })?;
        // The server's own deletion: the change feed announces it, not an
        // outbox (as for a deletion learnt from the server).
        for doc in &erased.docs {
            self.clear_outbox(doc)?;
        }
        Ok(erased)
    }
}
