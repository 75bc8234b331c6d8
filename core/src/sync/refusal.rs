//! Why the server refused what a device sent, as a type: the same value is
//! decided in the core, carried over the wire and shown by the app, and its
//! English words are made here, once.

use serde::{Deserialize, Serialize};

use crate::actor::Role;
use crate::document::DocKind;

/// What a count was taken of, in a refused message or frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Counted {
    /// Change hashes listed in one part of a sync message (heads, need, a have).
    Hashes,
    /// Summaries of what the sender has (`have`).
    Haves,
    /// Entries of a Bloom filter.
    BloomEntries,
    /// Chunks of changes in one message.
    Chunks,
    /// Columns of a document chunk.
    Columns,
    /// Documents in one frame.
    Documents,
    /// Items of one list in a document (events, custody scans, notes).
    ListItems,
}

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Counted::Hashes => "change hashes",
            Counted::Haves => "summaries",
            Counted::BloomEntries => "Bloom filter entries",
            Counted::Chunks => "chunks of changes",
            Counted::Columns => "columns",
            Counted::Documents => "documents",
            Counted::ListItems => "list items",
        })
    }
}

/// What was measured in bytes, in a refused message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Measured {
    /// The changes of one message, once inflated.
    InflatedMessage,
    /// The changes of one frame, once inflated.
    InflatedFrame,
    /// One text field of a document.
    Field,
}

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Measured::InflatedMessage => "the message's changes, inflated,",
            Measured::InflatedFrame => "the frame's changes, inflated,",
            Measured::Field => "a field",
        })
    }
}

/// Why changes or a message from a device were refused. Each names the rule
/// it broke; none of them is decided by reading words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
// The app has a `Refusal` of its own (a refused command).
#[cfg_attr(feature = "ts", ts(rename = "SyncRefusal"))]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Refusal {
    /// A change written under an actor id that is not the device's.
    #[error("a change under actor {actor}, which is not this device's")]
    ForeignActor {
        /// The actor id, in hex.
        actor: String,
    },
    /// The role may not change documents of this kind at all.
    #[error("a {role} device may not change {kind} documents")]
    RoleMayNotWrite {
        /// The device's role.
        role: Role,
        /// The document's kind.
        kind: DocKind,
    },
    /// The role may not even see the document.
    #[error("a {role} device may not see {kind} documents of others")]
    NotVisible {
        /// The device's role.
        role: Role,
        /// The document's kind.
        kind: DocKind,
    },
    /// The role may change only some fields of the document.
    #[error("a {role} device may change only {allowed} of a {kind} document, not {touched}")]
    FieldsNotAllowed {
        /// The device's role.
        role: Role,
        /// The document's kind.
        kind: DocKind,
        /// What it may change, in words.
        allowed: String,
        /// What the changes touched.
        touched: String,
    },
    /// A kiosk changed a visit it did not create in this change.
    #[error("a kiosk may only create a visit, not change one")]
    KioskCreatesOnly,
    /// A key desk changed a person, or made one who is more than a key
    /// customer.
    #[error("a key desk may only add a key customer (a new person with no role), not change people")]
    KeyDeskAddsCustomersOnly,
    /// A kiosk created a visit that does not simply wait at the desk.
    #[error("a kiosk's new visit must wait at the desk: it may not come admitted or with events")]
    KioskVisitNotWaiting,
    /// A document's header changed after it was created.
    #[error("a document's header never changes")]
    HeaderChanged,
    /// A header naming another site.
    #[error("the document says it belongs to another site")]
    OtherSite,
    /// The content's id is not the id the document travels under.
    #[error("the document's content names {found}, not the id it is stored under")]
    IdMismatch {
        /// What the content names.
        found: String,
    },
    /// An owned document's owner does not match its id or the writer.
    #[error("the document's owner {owner} is not who it must be")]
    OwnerMismatch {
        /// The owner found.
        owner: String,
    },
    /// Events, custody scans, notes or state changes edited or removed.
    #[error("the {list} of a {kind} document may only grow: entries are never changed or removed")]
    HistoryRewritten {
        /// The document's kind.
        kind: DocKind,
        /// Which list.
        list: String,
    },
    /// An entry written in another person's name from a phone.
    #[error("a phone may only write entries in its own person's name")]
    OtherPersonsEntry,
    /// A worker moved a repair ticket or opened one other than as new.
    #[error("a worker opens tickets as new and adds notes; moving a ticket is for technicians and the admin")]
    TicketMovedByWorker,
    /// A device other than a reception or admin desk created an announcement.
    #[error("only reception and admin devices send announcements; other devices only say they have read one")]
    AnnouncementFromDeskOnly,
    /// The changes belong to a document that was deleted for good.
    #[error("these changes belong to a document that was deleted for good")]
    PurgedChanges,
    /// The role may not delete documents of this kind.
    #[error("a {role} device may not delete {kind} documents")]
    MayNotPurge {
        /// The device's role.
        role: Role,
        /// The document's kind.
        kind: DocKind,
    },
    /// A sync message that could not be read.
    #[error("the sync message could not be read: {reason}")]
    Malformed {
        /// What was wrong.
        reason: String,
    },
    /// A Bloom filter whose parameters no honest peer sends.
    #[error("a Bloom filter with {entries} entries, {bits_per_entry} bits each and {probes} probes is not one this server reads")]
    BloomFilter {
        /// Entries claimed.
        entries: u64,
        /// Bits per entry claimed.
        bits_per_entry: u64,
        /// Probes claimed.
        probes: u64,
    },
    /// A chunk of a type devices do not send.
    #[error("a chunk of type {chunk_type} is not accepted from a device")]
    ChunkType {
        /// The chunk's type byte.
        chunk_type: u8,
    },
    /// More of something than allowed.
    #[error("{count} {what}, more than the {max} allowed")]
    TooMany {
        /// What was counted.
        what: Counted,
        /// How many.
        count: u64,
        /// The bound.
        max: u64,
    },
    /// Larger than allowed.
    #[error("{what} would be {bytes} bytes, more than the {max} allowed")]
    TooLarge {
        /// What was measured.
        what: Measured,
        /// Its size (or the bound plus one, where measuring stopped there).
        bytes: u64,
        /// The bound.
        max: u64,
    },
    /// Automerge itself failed on the message (a panic caught).
    #[error("the changes could not be applied")]
    Unreadable,
}

impl Refusal {
    /// Whether the refusal is about the device's identity (its actor id)
    /// rather than what it may write.
    pub fn is_foreign_actor(&self) -> bool {
        matches!(self, Refusal::ForeignActor { .. })
    }

    /// Whether the message itself was bad (its shape or size), rather than
    /// a change the role may not make.
    pub fn is_bad_message(&self) -> bool {
        matches!(
            self,
            Refusal::Malformed { .. }
                | Refusal::BloomFilter { .. }
                | Refusal::ChunkType { .. }
                | Refusal::TooMany { .. }
                | Refusal::TooLarge { .. }
                | Refusal::Unreadable
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_travel_as_their_rule_and_read_as_words() {
        let r = Refusal::TooMany { what: Counted::Documents, count: 5000, max: 256 };
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"rule\":\"too-many\""), "{json}");
        assert_eq!(serde_json::from_str::<Refusal>(&json).unwrap(), r);
        assert_eq!(r.to_string(), "5000 documents, more than the 256 allowed");
        assert!(r.is_bad_message());
        assert!(Refusal::ForeignActor { actor: "ab".into() }.is_foreign_actor());
    }
}
