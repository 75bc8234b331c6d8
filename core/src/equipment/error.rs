//! Refusals of equipment commands.

use crate::actor::Denied;
use crate::ids::ItemId;

/// Why an equipment command was refused.
// Serialized as a kind with values (`{"kind": "card-in-use", "values": {…}}`)
// so that a screen says it in its own language; the store's own failures
// are not the user's to read and do not serialize.
#[derive(Debug, thiserror::Error, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "EquipmentError"))]
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
    /// A required field was empty.
    #[error("The {0} cannot be empty.")]
    Empty(&'static str),
    /// Another item has this asset number.
    #[error("Asset number {0} is already used by another item.")]
    AssetNumberInUse(String),
    /// Another item has this code.
    #[error("The code {0} is already on another item.")]
    CodeInUse(String),
    /// No item has this code.
    #[error("No item has the code “{0}”. Check the label, or type the code under the QR.")]
    UnknownCode(String),
    /// No such item here.
    #[error("This item ({0}) is not known on this device.")]
    UnknownItem(ItemId),
    /// The item is retired.
    #[error("{name} ({asset}) is retired and cannot be taken.")]
    Retired {
        /// Name.
        name: String,
        /// Asset number.
        asset: String,
    },
    /// The item is in the workshop.
    #[error("{name} ({asset}) is in repair ({}) and cannot be taken until the ticket is resolved.", .state.replace('-', " "))]
    InRepair {
        /// Name.
        name: String,
        /// Asset number.
        asset: String,
        /// The ticket's state, by its stored name (`in-progress`).
        state: String,
    },
    /// The worker already has it.
    #[error("You already hold {name} ({asset}).")]
    AlreadyYours {
        /// Name.
        name: String,
        /// Asset number.
        asset: String,
    },
    /// Nobody holds it.
    #[error("{name} ({asset}) is not taken by anyone, so there is nothing to return.")]
    NotHeld {
        /// Name.
        name: String,
        /// Asset number.
        asset: String,
    },
    /// Held items cannot be retired.
    #[error("{name} ({asset}) is held by someone; return it before retiring it.")]
    RetireWhileHeld {
        /// Name.
        name: String,
        /// Asset number.
        asset: String,
    },
    /// Only a person can take an item.
    #[error("Taking equipment needs a person: sign in on this phone first.")]
    NoPerson,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_item() {
        let e = Error::InRepair { name: "Drill".into(), asset: "D-7".into(), state: "in-progress".into() };
        assert_eq!(e.to_string(), "Drill (D-7) is in repair (in progress) and cannot be taken until the ticket is resolved.");
        assert!(Error::UnknownCode("XYZ".into()).to_string().contains("“XYZ”"));
        assert!(Error::NoPerson.to_string().contains("sign in"));
        assert!(Error::AlreadyYours { name: "Drill".into(), asset: "D-7".into() }.to_string().starts_with("You already hold"));
    }
}
