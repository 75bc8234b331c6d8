//! Refusals of key desk commands: each names the rule and the way out.

use crate::actor::Denied;
use crate::ids::{Email, ExceptionId, KeyId, KeyTypeId, PersonId};
use crate::time::Timestamp;

/// Why a key desk command was refused.
// Serialized as a kind with values (`{"kind": "card-in-use", "values": {…}}`)
// so that a screen says it in its own language; the store's own failures
// are not the user's to read and do not serialize.
#[derive(Debug, thiserror::Error, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "KeyDeskError"))]
#[serde(tag = "kind", content = "values", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    Store(#[from] crate::store::Error),
    /// The actor's role does not allow this.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// No such key type in the site settings.
    #[error("There is no key type “{0}”. Add it in the site settings first.")]
    UnknownKeyType(KeyTypeId),
    /// The key needs a label.
    #[error("A key needs a label (the number stamped on it).")]
    NoLabel,
    /// No such key here.
    #[error("This key ({0}) is not known on this device.")]
    UnknownKey(KeyId),
    /// The key is retired.
    #[error("Key {0} is retired and is never lent.")]
    Retired(String),
    /// The key is already out.
    #[error("Key {label} is already lent to {customer} since {since}. Take it back first.")]
    AlreadyOut {
        /// The key.
        label: String,
        /// Who has it.
        customer: String,
        /// Since when.
        since: Timestamp,
    },
    /// The key is not lent out.
    #[error("Key {0} is not lent out.")]
    NotOut(String),
    /// No lost loan to pay for.
    #[error("Key {0} is not marked lost, so there is nothing to pay.")]
    NotLost(String),
    /// No person with this e-mail.
    #[error("No active person has the e-mail {0}. Add them as a person first.")]
    UnknownCustomer(Email),
    /// The customer's affiliation needs a user id.
    #[error("{name} has no user id, which the affiliation “{affiliation}” requires. Add it to their details first.")]
    UserIdRequired {
        /// Who.
        name: String,
        /// Their affiliation.
        affiliation: String,
    },
    /// One key of a type per person, unless an exception allows more.
    #[error("One {key_type} key per person: {name} already holds {held}. Exception needed: ask staff to grant one.")]
    OverLimit {
        /// Who.
        name: String,
        /// The type's name.
        key_type: String,
        /// How many they hold.
        held: u32,
    },
    /// Even with an exception, the limit is reached.
    #[error("{name} already holds {held} {key_type} keys, the most their exception allows.")]
    OverException {
        /// Who.
        name: String,
        /// The type's name.
        key_type: String,
        /// How many they hold.
        held: u32,
    },
    /// A due date in the past.
    #[error("The due date {0} is already past. Choose a later one.")]
    DueInPast(Timestamp),
    /// The key is lent; retire it once it is back.
    #[error("Key {0} is lent out; take it back before retiring it.")]
    RetireWhileOut(String),
    /// An exception must allow at least two keys and end in the future.
    #[error("An exception must allow at least 2 keys and end after now.")]
    BadException,
    /// No such person here.
    #[error("This person ({0}) is not known on this device.")]
    UnknownPerson(PersonId),
    /// No such exception here.
    #[error("This exception ({0}) is not known on this device.")]
    UnknownException(ExceptionId),
    /// Already revoked.
    #[error("This exception was already revoked.")]
    AlreadyRevoked,
    /// A walk-in customer needs a name.
    #[error("Nobody has the e-mail {0} yet: write the customer's full name to add them.")]
    WalkInName(Email),
    /// No such department in the site settings.
    #[error("There is no department “{0}”. Pick one from the list.")]
    UnknownDepartment(crate::ids::DepartmentId),
    /// No such affiliation in the site settings.
    #[error("There is no affiliation “{0}”. Pick one from the list.")]
    UnknownAffiliation(crate::ids::AffiliationId),
    /// A conflict fix named a loan that is not part of it.
    #[error("Key {0} is not lent twice, or that loan is not part of the conflict.")]
    NoSuchConflict(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_rule_and_the_way_out() {
        let e = Error::OverLimit { name: "Jan".into(), key_type: "Master".into(), held: 1 };
        assert_eq!(e.to_string(), "One Master key per person: Jan already holds 1. Exception needed: ask staff to grant one.");
        assert_eq!(Error::Retired("12".into()).to_string(), "Key 12 is retired and is never lent.");
        let e = Error::UserIdRequired { name: "Ola".into(), affiliation: "Students".into() };
        assert!(e.to_string().contains("requires"));
        let e = Error::UnknownCustomer(Email::parse("x@y.pl").unwrap());
        assert!(e.to_string().contains("x@y.pl"));
        for e in [Error::NoLabel, Error::BadException, Error::AlreadyRevoked, Error::NotOut("3".into()), Error::NotLost("3".into())] {
            assert!(e.to_string().ends_with('.'));
        }
    }
}
