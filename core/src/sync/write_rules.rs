//! What a device may write: decided from what its changes do to the
//! document, not from which top-level fields a message names.
//!
//! The server merges a device's changes into its copy without keeping them
//! and shows the document before and after to [`judge`]. The rules are the
//! design's: the role's column of the access table; a header never changes
//! and names the site; a document's identity is its id, never its content;
//! an owned document's owner matches its id and, on a phone, its person;
//! events, custody scans, notes and state changes are only ever added; a
//! phone writes entries in its own person's name; a kiosk only creates a
//! visit that waits; a worker opens tickets as new and adds notes. The same
//! function serves the server and the tests.

use automerge::hydrate::Value;
use automerge::{ChangeHash, ScalarValue};

use super::access::{Access, may_write};
use super::refusal::{Counted, Measured, Refusal};
use crate::actor::Role;
use crate::document::{DocId, DocKind};
use crate::ids::{DeviceId, PersonId, SiteId};
use crate::store::Incoming;

/// The longest text one field may hold (a consent text is the longest
/// honest one, a few thousand characters).
pub const MAX_FIELD_BYTES: u64 = 16 * 1024;

/// The most entries one list of a document may hold (a key's loans over
/// years, a busy month's sign-ins).
pub const MAX_LIST_ITEMS: u64 = 10_000;

/// The device writing, as the server knows it from its token.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    /// Its role.
    pub role: Role,
    /// The device.
    pub device: DeviceId,
    /// The person whose phone it is.
    pub person: Option<PersonId>,
    /// Its site.
    pub site: SiteId,
    /// The Automerge actor id it writes under, in hex.
    pub actor: &'a str,
    /// Whether the phone's person is a fire marshal.
    pub marshal: bool,
}

/// Judge a device's new changes to `doc`; `Ok` keeps them.
pub fn judge(writer: &Writer<'_>, doc: &DocId, incoming: &Incoming<'_>) -> Result<(), Refusal> {
    if incoming.changes.is_empty() {
        return Ok(());
    }
    let kind = doc.kind();
    check_actors(writer, doc, incoming)?;
    let after = incoming.after;
    let header = field(after, "header");
    if let Some(before) = incoming.before
        && field(before, "header") != header
    {
        return Err(Refusal::HeaderChanged);
    }
    if incoming.header.site != writer.site {
        return Err(Refusal::OtherSite);
    }
    check_identity(doc, incoming)?;
    let owner = match kind {
        // A person document's owner is the person it is.
        DocKind::Person => Some(doc.as_str().to_owned()),
        _ => incoming.header.owner.clone(),
    };
    let access = Access {
        role: writer.role,
        device: writer.device,
        person: writer.person,
        kind,
        owner: owner.as_deref(),
        // A kiosk's visit must still wait: checked below from the content.
        visit_waiting: true,
        // Holding a key gives no right to change it.
        held: false,
        // Judged from what the document says (its audience never changes).
        public: kind == DocKind::Announcement && text(after, "audience").as_deref() == Some("everyone"),
        marshal: writer.marshal,
    };
    if !may_write(&access) {
        return Err(Refusal::RoleMayNotWrite { role: writer.role, kind });
    }
    check_sizes(after)?;
    check_histories(kind, incoming.before, after)?;
    // An item taken offline while a desk sent it to the workshop is not
    // refused here: the server would judge by whichever change came first,
    // and the devices would end up differing. It is a conflict instead
    // (`ConflictKind::TakenInWorkshop`), the same on every replica.
    check_role(writer, kind, incoming)?;
    Ok(())
}

/// Every change is under the device's own actor id, but for the one
/// creation of a presence month that every device writes the same.
fn check_actors(writer: &Writer<'_>, doc: &DocId, incoming: &Incoming<'_>) -> Result<(), Refusal> {
    let shared = crate::store::shared_actor(doc).to_hex_string();
    let mut canonical: Option<Option<ChangeHash>> = None;
    for change in incoming.changes {
        let actor = change.actor_id().to_hex_string();
        if actor == writer.actor {
            continue;
        }
        if matches!(doc.kind(), DocKind::Presence | DocKind::LoanBook) && actor == shared {
            let expected = *canonical.get_or_insert_with(|| match doc.kind() {
                DocKind::LoanBook => crate::key_loan::book_creation_hash(doc, writer.site),
                _ => crate::presence::shared_creation_hash(doc, writer.site),
            });
            if expected == Some(change.hash()) {
                continue;
            }
        }
        return Err(Refusal::ForeignActor { actor });
    }
    Ok(())
}

/// The content's own id and owner agree with the id it travels under.
fn check_identity(doc: &DocId, incoming: &Incoming<'_>) -> Result<(), Refusal> {
    let after = incoming.after;
    let kind = doc.kind();
    let named = match kind {
        DocKind::Site | DocKind::Directory => Some(format!("{kind}:{}", incoming.header.site)),
        DocKind::Presence => {
            let person = text(after, "person").unwrap_or_default();
            let month = text(after, "month").unwrap_or_default();
            let owner = incoming.header.owner.clone().unwrap_or_default();
            if owner != format!("person:{person}") {
                return Err(Refusal::OwnerMismatch { owner });
            }
            Some(format!("presence:{person}:{month}"))
        }
        DocKind::LoanBook => {
            let key = text(after, "key").unwrap_or_default();
            let month = text(after, "month").unwrap_or_default();
            Some(format!("loan-book:{key}:{month}"))
        }
        _ => text(after, "id").map(|id| format!("{kind}:{id}")),
    };
    match named {
        Some(named) if named == doc.as_str() => Ok(()),
        found => Err(Refusal::IdMismatch { found: found.unwrap_or_else(|| "no id".to_owned()) }),
    }
}

/// No field longer than [`MAX_FIELD_BYTES`], no list longer than
/// [`MAX_LIST_ITEMS`].
fn check_sizes(value: &Value) -> Result<(), Refusal> {
    check_sizes_within(value, MAX_FIELD_BYTES, MAX_LIST_ITEMS)
}

fn check_sizes_within(value: &Value, max_field: u64, max_list: u64) -> Result<(), Refusal> {
    let field = |len: usize| {
        let bytes = len as u64;
        if bytes > max_field { Err(Refusal::TooLarge { what: Measured::Field, bytes, max: max_field }) } else { Ok(()) }
    };
    match value {
        Value::Scalar(ScalarValue::Str(s)) => field(s.len()),
        Value::Scalar(ScalarValue::Bytes(b)) => field(b.len()),
        Value::Text(t) => field(String::from(t).len()),
        Value::Map(m) => m.iter().try_for_each(|(_, v)| check_sizes_within(&v.value, max_field, max_list)),
        Value::List(l) => {
            if l.len() as u64 > max_list {
                return Err(Refusal::TooMany { what: Counted::ListItems, count: l.len() as u64, max: max_list });
            }
            l.iter().try_for_each(|v| check_sizes_within(&v.value, max_field, max_list))
        }
        Value::Scalar(_) => Ok(()),
    }
}

/// The lists of a kind that hold history: entries are added, never
/// changed or removed.
fn histories(kind: DocKind) -> &'static [&'static str] {
    match kind {
        DocKind::Visit | DocKind::Presence => &["events"],
        DocKind::Equipment => &["custody"],
        DocKind::Repair => &["notes", "states"],
        DocKind::Announcement => &["reads"],
        DocKind::RollCall => &["expected", "marks"],
        _ => &[],
    }
}

fn check_histories(kind: DocKind, before: Option<&Value>, after: &Value) -> Result<(), Refusal> {
    let Some(before) = before else { return Ok(()) };
    for list in histories(kind) {
        let kept = items(after, list);
        let rewritten = items(before, list).into_iter().any(|entry| !kept.contains(&entry));
        if rewritten {
            return Err(Refusal::HistoryRewritten { kind, list: (*list).to_owned() });
        }
    }
    Ok(())
}

/// What only some roles may do, or do only in part.
fn check_role(writer: &Writer<'_>, kind: DocKind, incoming: &Incoming<'_>) -> Result<(), Refusal> {
    let only = |allowed: &[&str], words: &str| {
        if incoming.touched.iter().all(|f| allowed.contains(&f.as_str())) {
            Ok(())
        } else {
            Err(Refusal::FieldsNotAllowed {
                role: writer.role,
                kind,
                allowed: words.to_owned(),
                touched: incoming.touched.iter().cloned().collect::<Vec<_>>().join(", "),
            })
        }
    };
    let phone = matches!(writer.role, Role::Staff | Role::Worker);
    let new_entries = |list: &str| new_items(incoming.before, incoming.after, list);
    let own = |entries: &[Value], field_name: &str| match writer.person {
        Some(p) => entries.iter().all(|e| match field_name {
            "person" => text(e, "person").as_deref() == Some(p.to_string().as_str()),
            _ => text(e, "by").is_some_and(|by| by.ends_with(&format!("<person:{p}>"))),
        }),
        None => false,
    };
    match (writer.role, kind) {
        (Role::Kiosk, DocKind::Visit) => {
            if !incoming.creates {
                return Err(Refusal::KioskCreatesOnly);
            }
            let owner = incoming.header.owner.clone().unwrap_or_default();
            if owner != format!("device:{}", writer.device) {
                return Err(Refusal::OwnerMismatch { owner });
            }
            if !items(incoming.after, "events").is_empty() {
                return Err(Refusal::KioskVisitNotWaiting);
            }
            Ok(())
        }
        (Role::Staff | Role::Worker, DocKind::Person) => only(&["email", "phone", "preferred_contact"], "the person's e-mail, phone and how they would rather be reminded"),
        // A walk-in key customer: a new person with no role, who hosts
        // nobody, is no marshal and holds no badge card.
        (Role::KeyDesk, DocKind::Person) => {
            let after = incoming.after;
            let customer = incoming.creates
                && items(after, "roles").is_empty()
                && matches!(field(after, "hosts_guests"), Some(Value::Scalar(ScalarValue::Boolean(false))))
                && !matches!(field(after, "marshal"), Some(Value::Scalar(ScalarValue::Boolean(true))))
                && matches!(field(after, "badge_card"), None | Some(Value::Scalar(ScalarValue::Null)));
            if customer { Ok(()) } else { Err(Refusal::KeyDeskAddsCustomersOnly) }
        }
        (Role::Staff | Role::Worker, DocKind::Presence) => {
            if !own(&new_entries("events"), "by") {
                return Err(Refusal::OtherPersonsEntry);
            }
            Ok(())
        }
        (Role::Worker, DocKind::Equipment) => {
            only(&["custody"], "its custody log")?;
            let scans = new_entries("custody");
            if !own(&scans, "person") || !own(&scans, "by") {
                return Err(Refusal::OtherPersonsEntry);
            }
            Ok(())
        }
        (Role::Worker, DocKind::Repair) => {
            if incoming.creates {
                let opener = text(incoming.after, "opened_by");
                if opener.is_none() || opener != writer.person.map(|p| p.to_string()) {
                    return Err(Refusal::OtherPersonsEntry);
                }
                if !items(incoming.after, "states").is_empty() {
                    return Err(Refusal::TicketMovedByWorker);
                }
            } else if incoming.touched.contains("states") {
                return Err(Refusal::TicketMovedByWorker);
            } else {
                only(&["notes"], "its notes")?;
            }
            if !own(&new_entries("notes"), "by") {
                return Err(Refusal::OtherPersonsEntry);
            }
            Ok(())
        }
        (_, DocKind::Announcement) => {
            if incoming.creates {
                if !matches!(writer.role, Role::Reception | Role::Admin) {
                    return Err(Refusal::AnnouncementFromDeskOnly);
                }
            } else {
                // What was sent never changes: not even by its sender.
                only(&["reads"], "who has read it")?;
            }
            if !new_entries("reads").iter().all(|read| own_read(writer, read)) {
                return Err(Refusal::OtherPersonsEntry);
            }
            Ok(())
        }
        // A marshal's phone marks people and ends the roll call; the list
        // comes from a desk, which knows who is in.
        (Role::Staff | Role::Worker, DocKind::RollCall) => {
            if incoming.creates {
                return Err(Refusal::RoleMayNotWrite { role: writer.role, kind });
            }
            only(&["marks", "ended"], "its marks and its end")?;
            if !own(&new_entries("marks"), "by") {
                return Err(Refusal::OtherPersonsEntry);
            }
            Ok(())
        }
        _ if phone => Err(Refusal::RoleMayNotWrite { role: writer.role, kind }),
        _ => Ok(()),
    }
}

/// A read of an announcement made by the writing device: a phone's for its
/// own person (on itself, when it names a device), a desk's for itself.
fn own_read(writer: &Writer<'_>, read: &Value) -> bool {
    let device = text(read, "device");
    let person = text(read, "person");
    let this_device = writer.device.to_string();
    match writer.role {
        Role::Staff | Role::Worker => {
            person.is_some() && person == writer.person.map(|p| p.to_string()) && device.as_ref().is_none_or(|d| *d == this_device)
        }
        _ => device.as_deref() == Some(this_device.as_str()),
    }
}

fn field<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value {
        Value::Map(m) => m.get(key),
        _ => None,
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    match field(value, key)? {
        Value::Scalar(ScalarValue::Str(s)) => Some(s.to_string()),
        Value::Text(t) => Some(String::from(t)),
        _ => None,
    }
}

fn items(value: &Value, key: &str) -> Vec<Value> {
    match field(value, key) {
        Some(Value::List(l)) => l.iter().map(|v| v.value.clone()).collect(),
        _ => Vec::new(),
    }
}

/// Entries of a list in `after` that were not in `before`.
fn new_items(before: Option<&Value>, after: &Value, key: &str) -> Vec<Value> {
    let old = before.map(|b| items(b, key)).unwrap_or_default();
    items(after, key).into_iter().filter(|e| !old.contains(e)).collect()
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ROOT};

    use super::*;

    fn value_of(doc: &mut AutoCommit) -> Value {
        doc.document().hydrate(None)
    }

    #[test]
    fn no_list_and_no_field_over_their_bounds() {
        // The bounds are the constants'; small ones here, as a debug build
        // of Automerge takes minutes over ten thousand entries.
        let mut doc = AutoCommit::new();
        let events = doc.put_object(ROOT, "events", ObjType::List).unwrap();
        for i in 0..10 {
            doc.insert(&events, i, i as i64).unwrap();
        }
        assert_eq!(check_sizes_within(&value_of(&mut doc), 100, 10), Ok(()));
        doc.insert(&events, 10, 0i64).unwrap();
        assert!(matches!(check_sizes_within(&value_of(&mut doc), 100, 10), Err(Refusal::TooMany { what: Counted::ListItems, count: 11, max: 10 })));

        let mut doc = AutoCommit::new();
        let guest = doc.put_object(ROOT, "guest", ObjType::Map).unwrap();
        doc.put(&guest, "name", "x".repeat(MAX_FIELD_BYTES as usize)).unwrap();
        assert_eq!(check_sizes(&value_of(&mut doc)), Ok(()));
        doc.put(&guest, "name", "x".repeat(MAX_FIELD_BYTES as usize + 1)).unwrap();
        assert!(matches!(check_sizes(&value_of(&mut doc)), Err(Refusal::TooLarge { what: Measured::Field, .. })));
    }

    #[test]
    fn a_history_entry_changed_or_removed_is_refused_and_one_added_is_not() {
        let mut doc = AutoCommit::new();
        let custody = doc.put_object(ROOT, "custody", ObjType::List).unwrap();
        let first = doc.insert_object(&custody, 0, ObjType::Map).unwrap();
        doc.put(&first, "id", "scan-1").unwrap();
        doc.put(&first, "person", "jan").unwrap();
        let before = value_of(&mut doc);
        let second = doc.insert_object(&custody, 1, ObjType::Map).unwrap();
        doc.put(&second, "id", "scan-2").unwrap();
        doc.put(&second, "person", "jan").unwrap();
        assert_eq!(check_histories(DocKind::Equipment, Some(&before), &value_of(&mut doc)), Ok(()));
        doc.put(&first, "person", "piotr").unwrap();
        assert!(matches!(check_histories(DocKind::Equipment, Some(&before), &value_of(&mut doc)), Err(Refusal::HistoryRewritten { .. })));
        let mut emptied = AutoCommit::new();
        emptied.put_object(ROOT, "custody", ObjType::List).unwrap();
        assert!(matches!(check_histories(DocKind::Equipment, Some(&before), &value_of(&mut emptied)), Err(Refusal::HistoryRewritten { .. })));
    }
}
