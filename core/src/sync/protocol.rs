//! The wire protocol: versioned CBOR frames over one WebSocket per device.

use serde::{Deserialize, Serialize};

use super::refusal::Refusal;
use crate::actor::Role;
use crate::document::DocId;
use crate::ids::{DeviceId, SiteId};

/// The longest app version a hello may name; the server keeps no more.
pub const MAX_APP_CHARS: usize = 40;

/// The protocol version this build speaks. A frame of another version is
/// refused with [`FrameError::Version`].
pub const PROTOCOL_VERSION: u16 = 1;

/// Frames larger than this are refused before decoding.
pub const MAX_FRAME_BYTES: usize = 8 * 1024 * 1024;

/// The most documents one frame from a device may carry (sync messages or
/// purges): the server refuses more, and the client splits what it sends.
pub const MAX_FRAME_DOCS: usize = 256;

/// The most a connection may send before its hello is accepted: a stranger
/// gets no further than this with the server reading.
pub const MAX_HELLO_BYTES: usize = 64 * 1024;

/// The most documents a hello lists as `pending` (512 of the longest ids
/// take about 30 KB, well within [`MAX_HELLO_BYTES`]). A device with more
/// lists some: it sends every waiting document's sync message right after
/// the hello anyway, and the list only spares a round trip and the
/// server's sending whole documents the device already has.
pub const MAX_HELLO_PENDING: usize = 512;

/// One document's Automerge sync message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocMessage {
    /// The document.
    pub doc: DocId,
    /// `automerge::sync::Message` bytes.
    #[serde(with = "serde_bytes")]
    pub message: Vec<u8>,
}

/// What a device sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ClientMessage {
    /// First frame: who I am and the last change-feed number I saw.
    Hello {
        /// The device token from enrolment.
        token: String,
        /// Last change-feed sequence this device has seen (0 for none).
        since: u64,
        /// Documents this device holds with changes the server may not have.
        pending: Vec<DocId>,
        /// The app and its version (`lodge 0.1.0`), for the admin's list
        /// of devices; absent from older apps and from tools.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        app: Option<String>,
        /// The device keeps the site's anonymous daily counts
        /// ([`ServerMessage::KeptCounts`]). Absent (false) from older apps,
        /// which could not read that frame and are never sent it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        kept_counts: bool,
    },
    /// Sync messages for several documents.
    Sync {
        /// The messages.
        docs: Vec<DocMessage>,
    },
    /// Documents this device deleted for good (a rejected guest).
    Purge {
        /// The documents.
        docs: Vec<DocId>,
    },
    /// The answer to a `Purged` frame that carried a feed number: its
    /// deletions, and every one numbered before, are gone from this
    /// device's store (what an erasure report counts as confirmed).
    Erased {
        /// The feed number the `Purged` frame carried.
        seq: u64,
    },
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMessage {
    /// Reply to `Hello`.
    Welcome {
        /// The device's site.
        site: SiteId,
        /// The device.
        device: DeviceId,
        /// Its role.
        role: Role,
        /// The change feed's current sequence.
        seq: u64,
        /// The server's other addresses (its other instances, `serve
        /// --also-at`), tried in turn when this one cannot be reached;
        /// absent from a server with none, and from older ones.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        also_at: Vec<String>,
    },
    /// Sync messages for several documents, and the feed sequence they bring
    /// the device up to once applied.
    Sync {
        /// The messages.
        docs: Vec<DocMessage>,
        /// Feed sequence.
        seq: u64,
    },
    /// Documents deleted for good: purge them.
    Purged {
        /// The documents.
        docs: Vec<DocId>,
        /// The feed number of the last of them, when the server wants to
        /// hear that they are gone (a device answers `Erased`). Absent
        /// from older servers' frames, and ignored by older devices.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
    },
    /// Documents this device may no longer see (a key it returned, an item
    /// it handed back): drop them, remembering no deletion, since they may
    /// concern it again (lent to the same person next week).
    Forget {
        /// The documents.
        docs: Vec<DocId>,
    },
    /// A refusal; `fatal` ones close the connection.
    Error {
        /// What kind.
        kind: SyncErrorKind,
        /// In words.
        message: String,
        /// The document concerned, if any.
        doc: Option<DocId>,
        /// For changes refused, the rule they broke (absent from servers
        /// that did not say).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refusal: Option<Refusal>,
    },
    /// The device was revoked: wipe the local store.
    Wipe,
    /// What retention erased from the site still counts in its statistics:
    /// the site's anonymous daily counts, all of them, replacing those the
    /// device kept. Sent to admin devices that said in their hello that
    /// they keep them, after their catch-up's deletions and after each
    /// retention sweep's. (A measure an older app does not know would
    /// make the frame unreadable to it: a new measure needs a hello flag
    /// of its own.)
    KeptCounts {
        /// Every count the server keeps for the site.
        counts: Vec<crate::retention::DailyCount>,
    },
}

/// Kinds of refusal the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncErrorKind {
    /// The frame could not be read.
    BadFrame,
    /// Another protocol version.
    Version,
    /// Unknown, expired or revoked token.
    Unauthorized,
    /// The role may not write this document.
    Forbidden,
    /// A change under an actor id that is not this device's.
    ForeignActor,
    /// The document was deleted for good.
    Purged,
    /// A sync message that could not be applied.
    BadMessage,
    /// The server failed.
    Internal,
}

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Too big.
    #[error("the frame has {0} bytes, more than the {MAX_FRAME_BYTES} allowed")]
    TooBig(usize),
    /// Another version.
    #[error("the frame speaks protocol version {0}; this side speaks {PROTOCOL_VERSION}. Update the app or the server.")]
    Version(u16),
    /// Not CBOR of the expected shape.
    #[error("the frame could not be read: {0}")]
    Malformed(String),
}

#[derive(Serialize)]
struct Outgoing<'a, T> {
    v: u16,
    body: &'a T,
}

#[derive(Deserialize)]
struct Incoming<T> {
    v: u16,
    body: Option<T>,
}

/// A sync frame's body read as a plain struct. Read as the tagged enum,
/// every frame is first copied into serde's buffer of any value, since
/// the tag could come anywhere (4 % of a busy server's CPU); sync frames
/// are nearly all of them. A frame of any other shape fails this one at
/// once and is read as the enum, which also words the errors.
#[derive(Deserialize)]
struct SyncBody {
    #[serde(rename = "type")]
    _kind: SyncTag,
    docs: Vec<DocMessage>,
    seq: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum SyncTag {
    Sync,
}

/// The body of a sync frame of this version, if `bytes` is one.
fn sync_frame(bytes: &[u8]) -> Option<SyncBody> {
    match ciborium::from_reader::<Incoming<SyncBody>, _>(bytes) {
        Ok(Incoming { v: PROTOCOL_VERSION, body }) => body,
        _ => None,
    }
}

#[derive(Serialize, Deserialize)]
struct VersionOnly {
    v: u16,
}

fn encode<T: Serialize>(body: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(&Outgoing { v: PROTOCOL_VERSION, body }, &mut out).expect("writing to a Vec cannot fail");
    out
}

/// Read a frame: a sync frame as a plain struct, turned into `T` by
/// `sync` (see [`SyncBody`]); any other, or one `sync` does not take, as
/// the tagged enum.
fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8], sync: impl FnOnce(SyncBody) -> Option<T>) -> Result<T, FrameError> {
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooBig(bytes.len()));
    }
    if let Some(message) = sync_frame(bytes).and_then(sync) {
        return Ok(message);
    }
    // One pass for a frame of this version. Only when that fails is the
    // version read alone, so that an old or new peer gets a clear answer
    // even when the body's shape changed.
    match ciborium::from_reader::<Incoming<T>, _>(bytes) {
        Ok(frame) if frame.v == PROTOCOL_VERSION => frame.body.ok_or_else(|| FrameError::Malformed("the frame has no body".into())),
        Ok(frame) => Err(FrameError::Version(frame.v)),
        Err(e) => match ciborium::from_reader::<VersionOnly, _>(bytes) {
            Ok(v) if v.v != PROTOCOL_VERSION => Err(FrameError::Version(v.v)),
            _ => Err(FrameError::Malformed(e.to_string())),
        },
    }
}

impl ClientMessage {
    /// The frame's bytes.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }
    /// Read a frame.
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        decode(bytes, |SyncBody { docs, .. }| Some(Self::Sync { docs }))
    }
}

impl ServerMessage {
    /// The frame's bytes.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }
    /// Read a frame.
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        decode(bytes, |SyncBody { docs, seq, .. }| seq.map(|seq| Self::Sync { docs, seq }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let m = ClientMessage::Sync {
            docs: vec![DocMessage { doc: DocId::visit(crate::ids::VisitId::new()), message: vec![0x42, 1, 2, 3] }],
        };
        assert_eq!(ClientMessage::decode(&m.encode()).unwrap(), m);
        let p = ServerMessage::Purged { docs: vec![DocId::visit(crate::ids::VisitId::new())], seq: Some(12) };
        assert_eq!(ServerMessage::decode(&p.encode()).unwrap(), p);
        let e = ClientMessage::Erased { seq: 12 };
        assert_eq!(ClientMessage::decode(&e.encode()).unwrap(), e);
        let w = ServerMessage::Welcome { site: SiteId::new(), device: DeviceId::new(), role: Role::Kiosk, seq: 7, also_at: Vec::new() };
        assert_eq!(ServerMessage::decode(&w.encode()).unwrap(), w);
        let w = ServerMessage::Welcome { site: SiteId::new(), device: DeviceId::new(), role: Role::Kiosk, seq: 7, also_at: vec!["wss://b.example/sync".into()] };
        assert_eq!(ServerMessage::decode(&w.encode()).unwrap(), w);
    }

    #[test]
    fn a_hello_with_the_most_pending_documents_fits_the_hello_limit() {
        let person = crate::ids::PersonId::new();
        let longest = DocId::presence(person, "2026-12");
        let pending = vec![longest; MAX_HELLO_PENDING];
        let hello = ClientMessage::Hello { token: "f".repeat(64), since: u64::MAX, pending, app: None, kept_counts: false };
        assert!(hello.encode().len() <= MAX_HELLO_BYTES / 2, "{} bytes", hello.encode().len());
    }

    #[test]
    fn sync_frames_read_as_a_struct_read_as_the_enum_does() {
        let doc = DocMessage { doc: DocId::visit(crate::ids::VisitId::new()), message: vec![0x42, 1, 2, 3] };
        let client = ClientMessage::Sync { docs: vec![doc.clone()] };
        let server = ServerMessage::Sync { docs: vec![doc.clone()], seq: 9 };
        for bytes in [client.encode(), server.encode()] {
            assert!(sync_frame(&bytes).is_some(), "a sync frame takes the struct's way");
            // The enum's way alone gives the same.
            assert_eq!(ClientMessage::decode(&bytes), decode::<ClientMessage>(&bytes, |_| None));
            assert_eq!(ServerMessage::decode(&bytes), decode::<ServerMessage>(&bytes, |_| None));
        }
        assert_eq!(ClientMessage::decode(&client.encode()).unwrap(), client);
        assert_eq!(ServerMessage::decode(&server.encode()).unwrap(), server);
        // A server's sync frame needs its feed number.
        assert!(matches!(ServerMessage::decode(&client.encode()), Err(FrameError::Malformed(_))));
        // The tag need not come first.
        let mut last = Vec::new();
        let body = ciborium::Value::Map(vec![
            ("docs".into(), ciborium::Value::serialized(&vec![doc.clone()]).unwrap()),
            ("type".into(), "sync".into()),
        ]);
        ciborium::into_writer(&Outgoing { v: PROTOCOL_VERSION, body: &body }, &mut last).unwrap();
        assert_eq!(ClientMessage::decode(&last).unwrap(), client);
        // Frames of other shapes are read as the enum: a purge's documents
        // are ids, not messages.
        let purge = ClientMessage::Purge { docs: vec![doc.doc.clone()] };
        assert!(sync_frame(&purge.encode()).is_none());
        assert_eq!(ClientMessage::decode(&purge.encode()).unwrap(), purge);
        // A sync frame of another version is that version's.
        let mut old = Vec::new();
        ciborium::into_writer(&Outgoing { v: 0, body: &client }, &mut old).unwrap();
        assert_eq!(ClientMessage::decode(&old), Err(FrameError::Version(0)));
    }

    #[test]
    fn a_frame_a_release_apart_is_read_without_the_fields_one_side_lacks() {
        let frame = |body: Vec<(&str, ciborium::Value)>| {
            let body = ciborium::Value::Map(body.into_iter().map(|(k, v)| (k.into(), v)).collect());
            let mut out = Vec::new();
            ciborium::into_writer(&Outgoing { v: PROTOCOL_VERSION, body: &body }, &mut out).unwrap();
            out
        };
        let hello = |extra: Vec<(&'static str, ciborium::Value)>| {
            let mut body = vec![("type", "hello".into()), ("token", "t".into()), ("since", 3.into()), ("pending", ciborium::Value::Array(vec![]))];
            body.extend(extra);
            frame(body)
        };
        let older = ClientMessage::Hello { token: "t".into(), since: 3, pending: vec![], app: None, kept_counts: false };
        // An older app's hello: no `app`, no `kept_counts`.
        assert_eq!(ClientMessage::decode(&hello(vec![])).unwrap(), older);
        // A newer app's hello: a field this side does not know yet.
        assert_eq!(ClientMessage::decode(&hello(vec![("a-field-to-come", true.into())])).unwrap(), older);
        // A newer server's welcome, likewise; an older one's has no `also_at`.
        let (site, device) = (SiteId::new(), DeviceId::new());
        let welcome = |extra: Vec<(&'static str, ciborium::Value)>| {
            let mut body = vec![
                ("type", "welcome".into()),
                ("site", ciborium::Value::serialized(&site).unwrap()),
                ("device", ciborium::Value::serialized(&device).unwrap()),
                ("role", ciborium::Value::serialized(&Role::Reception).unwrap()),
                ("seq", 7.into()),
            ];
            body.extend(extra);
            frame(body)
        };
        let expected = ServerMessage::Welcome { site, device, role: Role::Reception, seq: 7, also_at: vec![] };
        assert_eq!(ServerMessage::decode(&welcome(vec![])).unwrap(), expected);
        assert_eq!(ServerMessage::decode(&welcome(vec![("a-field-to-come", 1.into())])).unwrap(), expected);
    }

    #[test]
    fn bytes_travel_as_a_byte_string() {
        let m = ClientMessage::Sync { docs: vec![DocMessage { doc: DocId::visit(crate::ids::VisitId::new()), message: vec![7; 1000] }] };
        assert!(m.encode().len() < 1200, "a CBOR byte string, not an array of numbers");
    }

    #[test]
    fn garbage_truncation_and_other_versions_are_refused() {
        let good = ClientMessage::Hello { token: "t".into(), since: 0, pending: vec![], app: None, kept_counts: false }.encode();
        assert!(matches!(ClientMessage::decode(&good[..good.len() / 2]), Err(FrameError::Malformed(_))));
        assert!(matches!(ClientMessage::decode(b"\xff\x00garbage"), Err(FrameError::Malformed(_))));
        assert!(matches!(ClientMessage::decode(&vec![0u8; MAX_FRAME_BYTES + 1]), Err(FrameError::TooBig(_))));
        let mut old = Vec::new();
        ciborium::into_writer(&Outgoing { v: 0, body: &ClientMessage::Sync { docs: vec![] } }, &mut old).unwrap();
        let err = ClientMessage::decode(&old).unwrap_err();
        assert!(err.to_string().contains("Update the app or the server"));
        // A newer version whose body this side cannot read at all.
        let mut newer = Vec::new();
        ciborium::into_writer(&Outgoing { v: PROTOCOL_VERSION + 1, body: &"a shape to come" }, &mut newer).unwrap();
        assert_eq!(ClientMessage::decode(&newer), Err(FrameError::Version(PROTOCOL_VERSION + 1)));
        // This version with no body.
        let mut empty = Vec::new();
        ciborium::into_writer(&VersionOnly { v: PROTOCOL_VERSION }, &mut empty).unwrap();
        assert!(matches!(ClientMessage::decode(&empty), Err(FrameError::Malformed(_))));
        // A server frame is not a client frame.
        let server = ServerMessage::Wipe.encode();
        assert!(ClientMessage::decode(&server).is_err());
    }
}
