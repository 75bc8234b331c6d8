//! A person's history for the admin: their sign-ins and sign-outs, every key
//! they borrowed (whatever became of it) and every item they held, from the
//! projections this device holds.

use serde::{Deserialize, Serialize};

use crate::equipment::CustodyPeriod;
use crate::ids::PersonId;
use crate::key_loan::Loan;
use crate::presence::PresenceEntry;
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// What one person did here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PersonHistory {
    /// Sign-ins and sign-outs since the day asked for, newest first.
    pub presence: Vec<PresenceEntry>,
    /// Every key loan, newest first.
    pub loans: Vec<Loan>,
    /// Every item held, newest first.
    pub custody: Vec<CustodyPeriod>,
}

impl Store {
    /// A person's history: sign-ins since `from`, all loans, all custody.
    pub fn person_history(&self, person: PersonId, from: Timestamp) -> Result<PersonHistory, Error> {
        Ok(PersonHistory { presence: self.presence_history(person, from)?, loans: self.loans_of(person)?, custody: self.custody_of(person)? })
    }
}
