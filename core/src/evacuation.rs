//! The evacuation list: everyone in the building now — staff signed in and
//! guests admitted, with their cards and hosts — from two indexed reads, for
//! the fire marshal who has ninety seconds.

use serde::{Deserialize, Serialize};

use crate::presence::PresentPerson;
use crate::store::{Error, Store};
use crate::time::Timestamp;
use crate::visit::Visit;

/// Everyone in the building.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EvacuationList {
    /// Staff and workers signed in.
    pub people: Vec<PresentPerson>,
    /// Guests admitted.
    pub guests: Vec<Visit>,
    /// When this device's list was made.
    pub made_at: Timestamp,
}

impl EvacuationList {
    /// How many people to account for.
    pub fn headcount(&self) -> usize {
        self.people.len() + self.guests.len()
    }
}

impl Store {
    /// Everyone in the building now.
    pub fn evacuation_list(&self) -> Result<EvacuationList, Error> {
        Ok(EvacuationList { people: self.people_in()?, guests: self.guests_in()?, made_at: self.now() })
    }
}
