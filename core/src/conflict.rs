//! Conflicts: invariants that two offline devices can each keep alone and
//! break together (card 105 given to two guests, a key lent twice, a customer
//! over their key limit, a person signed in twice, a guest admitted twice, an
//! item taken while a repair ticket kept it in the workshop).
//!
//! After every change, local or merged, the resources it touched are checked
//! and each broken invariant becomes a row with a provisional winner that
//! every replica computes the same way (earliest time, then id). A row goes
//! away when the documents no longer break the invariant — after a person
//! resolved it with a command. Nothing is dropped silently.

pub(crate) mod check;
mod queries;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub(crate) use check::recheck;
pub use queries::{Conflict, ConflictChoice};

use crate::ids::{CardNumber, ItemId, KeyId, KeyTypeId, PersonId};

/// Resources whose invariants a change may have broken or mended.
#[derive(Debug, Default)]
pub(crate) struct Affected {
    pub cards: BTreeSet<CardNumber>,
    pub keys: BTreeSet<KeyId>,
    pub limits: BTreeSet<(PersonId, KeyTypeId)>,
    pub presence: BTreeSet<PersonId>,
    pub items: BTreeSet<ItemId>,
}

/// What kind of invariant is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum ConflictKind {
    /// One badge card on two open visits.
    CardOnTwoVisits,
    /// One guest admitted twice with different cards.
    VisitAdmittedTwice,
    /// One key with two open loans.
    KeyLentTwice,
    /// A customer holding more keys of a type than allowed.
    OverKeyLimit,
    /// A person signed in twice without signing out.
    SignedInTwice,
    /// An item held by someone while a repair ticket keeps it in the
    /// workshop (taken offline from a copy that did not know yet).
    TakenInWorkshop,
}

impl ConflictKind {
    /// The kind's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::CardOnTwoVisits => "card-on-two-visits",
            ConflictKind::VisitAdmittedTwice => "visit-admitted-twice",
            ConflictKind::KeyLentTwice => "key-lent-twice",
            ConflictKind::OverKeyLimit => "over-key-limit",
            ConflictKind::SignedInTwice => "signed-in-twice",
            ConflictKind::TakenInWorkshop => "taken-in-workshop",
        }
    }

    /// The kind from its stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            ConflictKind::CardOnTwoVisits,
            ConflictKind::VisitAdmittedTwice,
            ConflictKind::KeyLentTwice,
            ConflictKind::OverKeyLimit,
            ConflictKind::SignedInTwice,
            ConflictKind::TakenInWorkshop,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}
