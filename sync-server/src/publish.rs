//! A change that landed on the server, numbered in the site's change feed
//! and pushed at once to the connected devices that may see it: what a
//! device's frame does through its connection, and what the server's own
//! work (retention) does alike. A device that is not connected finds the
//! numbered change in its catch-up.

use lodge_core::sync::{DocMessage, ServerMessage, may_read};
use lodge_core::{DeviceId, DocId, DocKind, Role};

use crate::AppState;
use crate::hub::{Changed, Encoded, SiteHub};
use crate::visibility::{access_of, for_everyone, header_of, held_by, kiosk_made, marshal_of, may_have_held, may_know_deletion, phone_may_hold, visit_waiting};

/// Number changed documents in the feed (`(document, deleted)`) and push
/// them to the connected devices but `origin`'s; returns the feed's
/// sequence. From blocking code only.
pub fn publish(state: &AppState, hub: &SiteHub, origin: Option<DeviceId>, docs: Vec<(DocId, bool)>, ask_erased: bool) -> u64 {
    // What could not be numbered before goes first (see `SiteHub::owe`).
    hub.owe(docs);
    let docs = hub.take_owed();
    if docs.is_empty() {
        return hub.seq();
    }
    match number(state, hub, &docs) {
        Ok(numbered) => {
            hub.keep_owed();
            let mut changes: Vec<Changed> =
                docs.into_iter().zip(&numbered).map(|((doc, purged), seq)| Changed { doc, seq: *seq, purged }).collect();
            if state.relays() {
                // What the other instances numbered first is merged before
                // a device is told a number past it (see `crate::relay`).
                match crate::relay::merge(state, hub) {
                    Ok(theirs) => {
                        // The device whose frame this is gets none of its
                        // own changes back, but must get the others'
                        // merged in this turn: its answer was made before.
                        if let Some(device) = origin
                            && !theirs.is_empty()
                        {
                            fan_out_to(hub, hub.only(device), &theirs, theirs.iter().any(|c| c.purged));
                        }
                        changes.extend(theirs);
                    }
                    Err(e) => tracing::error!(error = %e, "changes from the other instances could not be merged"),
                }
            } else if let Some(last) = numbered.last() {
                hub.advance(*last);
            }
            fan_out(hub, origin, &changes, ask_erased);
        }
        Err(e) => {
            tracing::error!(error = %e, "the change feed failed; its documents are numbered with the next change");
            hub.owe(docs);
            hub.keep_owed();
        }
    }
    hub.seq()
}

/// Number the documents in the feed, with their changes for the other
/// instances when there are any.
fn number(state: &AppState, hub: &SiteHub, docs: &[(DocId, bool)]) -> Result<Vec<u64>, crate::AppError> {
    if !state.relays() {
        return Ok(state.registry().bump_many(hub.site, docs)?);
    }
    let (numbered, heads) = crate::relay::give(hub, docs)?;
    let seqs = state.registry().number(hub.site, &numbered, state.instance())?;
    crate::relay::given(hub, heads);
    Ok(seqs)
}

/// Push changes to every connected device of the site that may see them
/// but `origin`'s (the device they came from, if any), each document's
/// header and state read once for all of them. `ask_erased`: deletions
/// carry their feed number, so that each device answers once they are
/// gone (see [`crate::retention`]).
pub(crate) fn fan_out(hub: &SiteHub, origin: Option<DeviceId>, changes: &[Changed], ask_erased: bool) {
    fan_out_to(hub, hub.others(origin), changes, ask_erased);
}

/// [`fan_out`] to these listeners.
fn fan_out_to(hub: &SiteHub, listeners: Vec<(u64, crate::hub::Listener)>, changes: &[Changed], ask_erased: bool) {
    if listeners.is_empty() {
        return;
    }
    let seq = changes.iter().map(|c| c.seq).max().unwrap_or(0);
    let mut store = hub.store();
    let mut docs: Vec<Vec<DocMessage>> = vec![Vec::new(); listeners.len()];
    let mut purged: Vec<Vec<DocId>> = vec![Vec::new(); listeners.len()];
    let mut forgotten: Vec<Vec<DocId>> = vec![Vec::new(); listeners.len()];
    // A phone sees a key while its person holds it, which turns on the
    // key's loan books: when a book changed, the phones look at the key
    // again (its own change may have reached the server a turn before the
    // book's, and been judged without it).
    let mut keys: Vec<Changed> = Vec::new();
    let phones = listeners.iter().any(|(_, l)| matches!(l.device.role, Role::Staff | Role::Worker));
    for c in changes.iter().filter(|c| phones && !c.purged) {
        if let Some(doc) = c.doc.key_of_book()
            && !changes.iter().chain(&keys).any(|o| o.doc == doc)
        {
            keys.push(Changed { doc, seq: c.seq, purged: false });
        }
    }
    for (c, phones_only) in changes.iter().map(|c| (c, false)).chain(keys.iter().map(|k| (k, true))) {
        if c.purged {
            for (i, (_, listener)) in listeners.iter().enumerate() {
                if may_know_deletion(&listener.device, &mut store, &c.doc) {
                    purged[i].push(c.doc.clone());
                }
            }
            continue;
        }
        let Ok(Some(header)) = header_of(&mut store, &c.doc) else { continue };
        let kiosks = listeners.iter().any(|(_, l)| l.device.role == Role::Kiosk);
        let waiting = kiosks && visit_waiting(&mut store, &c.doc);
        let public = kiosks && for_everyone(&mut store, &c.doc);
        let mut readers = Vec::new();
        for (i, (_, listener)) in listeners.iter().enumerate() {
            if phones_only && !phone_may_hold(&listener.device, &c.doc) {
                continue;
            }
            let held = held_by(&listener.device, &mut store, &c.doc);
            let marshal = marshal_of(&listener.device, &mut store, &c.doc);
            if !may_read(&access_of(&listener.device, &header, waiting, held, public, marshal)) {
                if listener.device.role == Role::Kiosk && c.doc.kind() == DocKind::Visit && kiosk_made(&listener.device, &header) {
                    purged[i].push(c.doc.clone());
                } else if may_have_held(&listener.device, &mut store, &c.doc) {
                    // Returned, or handed on: the phone drops its copy.
                    forgotten[i].push(c.doc.clone());
                }
                continue;
            }
            readers.push(i);
        }
        let peers: Vec<String> = readers.iter().map(|&i| listeners[i].1.device.device.to_string()).collect();
        match store.generate_first_sync_messages(&peers, &c.doc) {
            Ok(messages) => {
                for (i, message) in readers.into_iter().zip(messages) {
                    if let Some(message) = message {
                        docs[i].push(DocMessage { doc: c.doc.clone(), message });
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "store failed"),
        }
    }
    drop(store);
    let mut encoded = Encoded::default();
    for ((((id, listener), docs), purged), forgotten) in listeners.into_iter().zip(docs).zip(purged).zip(forgotten) {
        let mut frames = Vec::new();
        if !purged.is_empty() {
            frames.push(ServerMessage::Purged { docs: purged, seq: ask_erased.then_some(seq) });
        }
        if !forgotten.is_empty() {
            frames.push(ServerMessage::Forget { docs: forgotten });
        }
        // Many documents (the other instances' changes merged when a
        // device connects) go in frames of a catch-up's size, the feed
        // number on the last only: a device cut off halfway has not moved.
        let mut parts = crate::connection::in_frames(docs);
        let last = parts.pop();
        frames.extend(parts.into_iter().map(|docs| ServerMessage::Sync { docs, seq: 0 }));
        if let Some(docs) = last {
            frames.push(ServerMessage::Sync { docs, seq });
        }
        if !frames.into_iter().all(|f| listener.offer(encoded.bytes(listener.held(f)))) {
            // It does not read what it is sent: it reconnects and catches
            // up from the feed.
            hub.give_up(id);
        }
    }
}
