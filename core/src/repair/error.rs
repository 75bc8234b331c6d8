//! Refusals of repair commands.

use crate::actor::Denied;
use crate::ids::{ItemId, RepairCategoryId, TicketId};

/// Why a repair command was refused.
// Serialized as a kind with values (`{"kind": "card-in-use", "values": {…}}`)
// so that a screen says it in its own language; the store's own failures
// are not the user's to read and do not serialize.
#[derive(Debug, thiserror::Error, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "RepairError"))]
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
    /// No such item here.
    #[error("This item ({0}) is not known on this device.")]
    UnknownItem(ItemId),
    /// No such category in the site settings.
    #[error("There is no repair category “{0}”. Pick one from the list.")]
    UnknownCategory(RepairCategoryId),
    /// The note is empty.
    #[error("Please describe the fault in a few words.")]
    EmptyNote,
    /// No such ticket here.
    #[error("This ticket ({0}) is not known on this device.")]
    UnknownTicket(TicketId),
    /// Resolved tickets only reopen.
    #[error("This ticket is resolved. Reopen it (new or in progress) before changing it.")]
    Resolved,
    /// Already in that state.
    #[error("The ticket is already {}.", .0.as_str().replace('-', " "))]
    SameState(crate::repair::RepairState),
    /// The item reported without a label could not be added (its asset
    /// number or code is another item's, or a field is empty).
    #[error(transparent)]
    Item(#[from] crate::equipment::Error),
    /// Workers may only see and note their own tickets.
    #[error("Workers can only add notes to tickets they opened.")]
    NotYours,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        assert!(Error::Resolved.to_string().contains("Reopen it"));
        assert!(Error::EmptyNote.to_string().contains("describe the fault"));
        assert_eq!(Error::SameState(crate::repair::RepairState::Stalled).to_string(), "The ticket is already stalled.");
        assert!(Error::UnknownCategory(RepairCategoryId::parse("x").unwrap()).to_string().contains("“x”"));
        assert!(Error::NotYours.to_string().contains("they opened"));
    }
}
