//! Refusals of presence commands.

use crate::actor::Denied;
use crate::ids::PersonId;
use crate::time::Timestamp;

/// Why a sign-in or sign-out was refused.
// Serialized as a kind with values (`{"kind": "card-in-use", "values": {…}}`)
// so that a screen says it in its own language; the store's own failures
// are not the user's to read and do not serialize.
#[derive(Debug, thiserror::Error, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "PresenceError"))]
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
    /// No such person here.
    #[error("This person ({0}) is not known on this device.")]
    UnknownPerson(PersonId),
    /// The person was deactivated.
    #[error("{0} is no longer active and cannot sign in. Ask an admin.")]
    Inactive(String),
    /// Already signed in.
    #[error("{name} is already signed in since {since}.")]
    AlreadyIn {
        /// Who.
        name: String,
        /// Since when.
        since: Timestamp,
    },
    /// Not signed in.
    #[error("{0} is not signed in.")]
    NotIn(String),
    /// A conflict fix named an event that is not part of it.
    #[error("There is no double sign-in of this person to resolve, or that sign-in is not part of it.")]
    NoSuchConflict,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_person() {
        assert_eq!(Error::NotIn("Anna".into()).to_string(), "Anna is not signed in.");
        let e = Error::AlreadyIn { name: "Anna".into(), since: Timestamp::from_millis(0) };
        assert_eq!(e.to_string(), "Anna is already signed in since 1970-01-01 00:00 UTC.");
        assert!(Error::Inactive("Ola".into()).to_string().contains("Ask an admin"));
        assert!(Error::NoSuchConflict.to_string().contains("double sign-in"));
    }
}
