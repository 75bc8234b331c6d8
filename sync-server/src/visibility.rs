//! What a device may see of a document, and may be told of it: the access
//! table's inputs (a document's header with its owner, whether a visit
//! still waits, whether a phone's person holds a key or item) read from
//! the site's store, for a connection's answers and catch-up and for
//! whatever pushes a change to connected devices (see [`crate::publish`]).

use lodge_core::sync::{Access, may_read};
use lodge_core::{DocId, DocKind, Header, Role, Store, StoreError, VisitId};

use crate::registry::Device;

/// Person documents carry no owner in their header; a phone's own person is
/// the one whose id the document has.
pub(crate) fn owned_header(doc: &DocId, mut header: Header) -> Header {
    if header.kind == DocKind::Person {
        header.owner = Some(doc.as_str().to_owned());
    }
    header
}

/// The document's header, with a person document's owner filled in.
pub(crate) fn header_of(store: &mut Store, doc: &DocId) -> Result<Option<Header>, StoreError> {
    Ok(store.header(doc)?.map(|h| owned_header(doc, h)))
}

/// Whether a visit document is still waiting at the desk (what a kiosk may
/// read); `false` for every other kind.
pub(crate) fn visit_waiting(store: &mut Store, doc: &DocId) -> bool {
    match doc.kind() {
        DocKind::Visit => VisitId::parse(doc.as_str().trim_start_matches("visit:"))
            .ok()
            .and_then(|v| store.visit(v).ok().flatten())
            .is_some_and(|v| v.state == lodge_core::visit::VisitState::Waiting),
        _ => false,
    }
}

/// Whether a kiosk made the visit with this header.
pub(crate) fn kiosk_made(kiosk: &Device, header: &Header) -> bool {
    header.kind == DocKind::Visit && header.owner.as_deref() == Some(format!("device:{}", kiosk.device).as_str())
}

/// Whether a device may be told that a document was deleted for good: only
/// one that may have seen it (a document's id says who a guest is visiting
/// and when; a kiosk hears only of its own guests).
pub(crate) fn may_know_deletion(device: &Device, store: &mut Store, doc: &DocId) -> bool {
    let owner = match doc.kind() {
        DocKind::Person => Some(doc.as_str().to_owned()),
        _ => store.tombstone_owner(doc).ok().flatten(),
    };
    may_read(&Access {
        role: device.role,
        device: device.device,
        person: device.person,
        kind: doc.kind(),
        owner: owner.as_deref(),
        // It waited when it was deleted, or the kiosk dropped it already.
        visit_waiting: true,
        // The projections of a deleted key are gone with it: a phone that
        // held it keeps its (read-only) copy.
        held: false,
        // Told of a deleted announcement it may never have had: it has none
        // to drop, and the id says nothing.
        public: true,
        marshal: marshal_of(device, store, doc),
    })
}

/// Whether the key or item of `doc` is held by the phone's person now;
/// `false` without a query for any other device or kind.
pub(crate) fn held_by(device: &Device, store: &mut Store, doc: &DocId) -> bool {
    phone_may_hold(device, doc) && device.person.is_some_and(|p| store.holds(p, doc).unwrap_or(false))
}

/// Whether a phone may have a copy of the key or item of `doc` from when
/// its person held it: then it is told to drop it (it sees a key only
/// while it holds it).
pub(crate) fn may_have_held(device: &Device, store: &mut Store, doc: &DocId) -> bool {
    phone_may_hold(device, doc) && device.person.is_some_and(|p| store.ever_held(p, doc).unwrap_or(false))
}

pub(crate) fn phone_may_hold(device: &Device, doc: &DocId) -> bool {
    matches!(device.role, Role::Staff | Role::Worker) && matches!(doc.kind(), DocKind::Key | DocKind::LoanBook | DocKind::Equipment)
}

/// Whether a phone's person is a fire marshal, for a roll call; `false`
/// without a query for any other device or kind.
pub(crate) fn marshal_of(device: &Device, store: &mut Store, doc: &DocId) -> bool {
    doc.kind() == DocKind::RollCall && is_marshal_phone(device, store)
}

/// Whether the device is the phone of a fire marshal.
pub(crate) fn is_marshal_phone(device: &Device, store: &mut Store) -> bool {
    matches!(device.role, Role::Staff | Role::Worker) && device.person.is_some_and(|p| store.is_marshal(p).unwrap_or(false))
}

pub(crate) fn access_of<'a>(device: &Device, header: &'a Header, visit_waiting: bool, held: bool, public: bool, marshal: bool) -> Access<'a> {
    Access {
        role: device.role,
        device: device.device,
        person: device.person,
        kind: header.kind,
        owner: header.owner.as_deref(),
        visit_waiting,
        held,
        public,
        marshal,
    }
}

/// Whether `doc` is an announcement for everyone in the building (what a
/// kiosk may get); `false` without a query for any other kind.
pub(crate) fn for_everyone(store: &mut Store, doc: &DocId) -> bool {
    doc.kind() == DocKind::Announcement && store.announcement_for_everyone(doc).unwrap_or(false)
}
