//! "Needs attention": documents whose local changes the server refused.
//!
//! A refused document leaves the outbox, so it is not sent again at every
//! connect and the device can be online with it, and waits in the
//! `attention` table with the typed refusal. Nothing a person entered is
//! lost: the local document stays as it is until a person chooses one of
//! two ways out. *Discard* forgets the device's copy (not a deletion: no
//! tombstone) and asks the server for its version afresh. *Do it again*
//! puts the document back in the outbox, for a refusal that a change
//! elsewhere may have lifted (an item back from the workshop, a rule an
//! admin changed).

use automerge::ChangeHash;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::sync_states::Kept;
use super::{Error, Store, Work};
use crate::document::{DocId, DocKind};
use crate::sync::Refusal;
use crate::time::Timestamp;

/// A document whose local changes the server refused, as the "Needs
/// attention" list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RefusedChange {
    /// The document.
    pub doc: DocId,
    /// Its kind.
    pub kind: DocKind,
    /// Why the server refused it: the rule and its values.
    pub refusal: Refusal,
    /// When the refusal arrived (this device's clock).
    pub refused_at: Timestamp,
    /// The commands that made the refused changes, oldest first
    /// (`activate_equipment`), from their change messages; empty for a
    /// refused deletion.
    pub commands: Vec<String>,
}

/// What setting a refused document aside did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetAside {
    /// It is in the "Needs attention" list.
    Listed,
    /// The device holds nothing of it (neither the document nor a deletion
    /// to announce): it only left the outbox.
    NothingHeld,
}

impl Store {
    /// The server refused this device's changes to `doc` (from `peer`'s
    /// point of view): take the document out of the outbox and list it as
    /// needing attention, with the refusal. The local document is kept as
    /// it is. Listing a document again replaces its refusal and commands.
    pub fn set_aside_refused(&mut self, peer: &str, doc: &DocId, refusal: &Refusal) -> Result<SetAside, Error> {
        let deletion: Option<bool> = self
            .conn
            .prepare_cached("SELECT purged FROM outbox WHERE doc_id = ?1")?
            .query_row([doc], |r| r.get(0))
            .optional()?;
        let held = self.conn.prepare_cached("SELECT 1 FROM documents WHERE doc_id = ?1")?.exists([doc])?;
        let commands = if held { self.unsent_commands(peer, doc)? } else { Vec::new() };
        let refusal_json = serde_json::to_string(refusal).map_err(|e| Error::corrupt(doc, e))?;
        let commands_json = serde_json::to_string(&commands).map_err(|e| Error::corrupt(doc, e))?;
        let now = self.clock.now();
        let tx = self.conn.transaction()?;
        tx.prepare_cached("DELETE FROM outbox WHERE doc_id = ?1")?.execute([doc])?;
        let listed = held || deletion == Some(true);
        if listed {
            tx.prepare_cached(
                "INSERT INTO attention (doc_id, kind, refusal, refused_at, commands) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (doc_id) DO UPDATE SET refusal = excluded.refusal, refused_at = excluded.refused_at, commands = excluded.commands",
            )?
            .execute(params![doc, doc.kind().as_str(), refusal_json, now, commands_json])?;
        }
        tx.commit()?;
        Ok(if listed { SetAside::Listed } else { SetAside::NothingHeld })
    }

    /// Every document needing attention, oldest refusal first.
    pub fn needs_attention(&self) -> Result<Vec<RefusedChange>, Error> {
        let mut stmt = self.conn.prepare_cached("SELECT doc_id, refusal, refused_at, commands FROM attention ORDER BY refused_at, doc_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, DocId>(0)?, r.get::<_, String>(1)?, r.get::<_, Timestamp>(2)?, r.get::<_, String>(3)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (doc, refusal, refused_at, commands) = row?;
            let refusal: Refusal = serde_json::from_str(&refusal).map_err(|e| Error::corrupt(&doc, e))?;
            let commands: Vec<String> = serde_json::from_str(&commands).map_err(|e| Error::corrupt(&doc, e))?;
            out.push(RefusedChange { kind: doc.kind(), doc, refusal, refused_at, commands });
        }
        Ok(out)
    }

    /// How many documents need attention.
    pub fn attention_len(&self) -> Result<usize, Error> {
        let n: i64 = self.conn.prepare_cached("SELECT count(*) FROM attention")?.query_row([], |r| r.get(0))?;
        Ok(n as usize)
    }

    /// Discard this device's refused changes to `doc` and take `peer`'s
    /// version again. The local copy and its sync states are forgotten
    /// (not deleted for good: no tombstone), and if `peer` ever had the
    /// document it goes in the outbox as a document this device lacks, so
    /// that the next exchange brings the peer's version whole. A document
    /// the peer never had (made here, refused) is simply gone. A refused
    /// deletion is undone the same way.
    pub fn discard_refused(&mut self, peer: &str, doc: &DocId) -> Result<(), Error> {
        self.require_listed(doc)?;
        let tombstoned = super::persist::is_tombstoned(&self.conn, doc)?;
        let peer_had = tombstoned || !self.shared_heads(peer, doc)?.is_empty();
        let now = self.clock.now();
        let mut work = Work::begin(&mut self.conn, &mut self.cache, &self.actor, now, String::new())?;
        let result = (|| {
            work.forget(doc)?;
            let conn = work.conn();
            conn.prepare_cached("DELETE FROM tombstones WHERE doc_id = ?1")?.execute([doc])?;
            conn.prepare_cached("DELETE FROM attention WHERE doc_id = ?1")?.execute([doc])?;
            conn.prepare_cached("DELETE FROM outbox WHERE doc_id = ?1")?.execute([doc])?;
            if peer_had {
                // Not a deletion to announce: a document to ask for.
                conn.prepare_cached("INSERT INTO outbox (doc_id, purged) VALUES (?1, 0)")?.execute([doc])?;
            }
            Ok::<_, Error>(())
        })();
        match result {
            Ok(()) => work.commit()?,
            Err(e) => {
                work.abandon();
                return Err(e);
            }
        }
        self.sync.forget_document(doc);
        // What a person typed (a guest's name) is gone from the disk too.
        self.empty_log();
        Ok(())
    }

    /// Send the refused changes to `doc` again: the document goes back in
    /// the outbox and leaves the list. The session's state of the exchange
    /// with `peer` is dropped, so the next message is made from the shared
    /// heads and carries the changes again.
    pub fn retry_refused(&mut self, peer: &str, doc: &DocId) -> Result<(), Error> {
        self.require_listed(doc)?;
        let tx = self.conn.transaction()?;
        tx.prepare_cached("DELETE FROM attention WHERE doc_id = ?1")?.execute([doc])?;
        tx.prepare_cached(
            "INSERT INTO outbox (doc_id, purged) VALUES (?1, NOT EXISTS (SELECT 1 FROM documents WHERE doc_id = ?1))
             ON CONFLICT (doc_id) DO UPDATE SET purged = excluded.purged",
        )?
        .execute([doc])?;
        tx.commit()?;
        let key = (peer.to_owned(), doc.clone());
        self.sync.unwritten.remove(&key);
        self.sync.pop(&key);
        Ok(())
    }

    fn require_listed(&self, doc: &DocId) -> Result<(), Error> {
        if self.conn.prepare_cached("SELECT 1 FROM attention WHERE doc_id = ?1")?.exists([doc])? {
            Ok(())
        } else {
            Err(Error::NotRefused { doc: doc.clone() })
        }
    }

    /// The heads this store and `peer` last agreed on for `doc`: the
    /// session's, else the persisted ones; empty if they never synced it.
    fn shared_heads(&self, peer: &str, doc: &DocId) -> Result<Vec<ChangeHash>, Error> {
        match self.sync.peek(&(peer.to_owned(), doc.clone())) {
            Some(Kept::Exchanging(state)) => Ok(state.shared_heads.clone()),
            Some(Kept::InStep { heads, .. }) => Ok(heads.clone()),
            None => Ok(super::replication::load_sync_state(&self.conn, peer, doc)?.shared_heads),
        }
    }

    /// The commands of this device's changes to `doc` that `peer` does not
    /// have, from their messages ("activate_equipment by Jan …").
    fn unsent_commands(&mut self, peer: &str, doc: &DocId) -> Result<Vec<String>, Error> {
        let shared = self.shared_heads(peer, doc)?;
        let actor = self.actor.clone();
        let Some(loaded) = self.loaded(doc)? else { return Ok(Vec::new()) };
        let mut commands: Vec<String> = Vec::new();
        for change in loaded.doc.get_changes(&shared) {
            if *change.actor_id() != actor {
                continue;
            }
            let Some(command) = change.message().and_then(|m| m.split_whitespace().next()) else { continue };
            if !commands.iter().any(|c| c == command) {
                commands.push(command.to_owned());
            }
        }
        Ok(commands)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::actor::{Actor, Role};
    use crate::person::PersonForm;
    use crate::site::NewSite;
    use crate::time::ManualClock;

    fn store(dir: &std::path::Path, name: &str) -> Store {
        Store::open(dir.join(name), Arc::new(ManualClock::new(Timestamp::from_millis(1_700_000_000_000)))).unwrap()
    }

    fn admin() -> Actor {
        Actor::site_founder("Ada Admin")
    }

    fn new_site() -> NewSite {
        NewSite { name: "Lodge House".into(), time_zone: "Europe/Warsaw".into() }
    }

    /// A "server" store and a device that synced a person from it, then
    /// changed the person locally.
    fn synced_then_changed(dir: &std::path::Path) -> (Store, Store, DocId) {
        let mut server = store(dir, "server.sqlite");
        let site = server.create_site(&admin(), new_site()).unwrap();
        let person = server.create_person(&admin(), PersonForm { name: "Jan Nowak".into(), ..Default::default() }).unwrap();
        let mut device = store(dir, "device.sqlite");
        device.join_site(site).unwrap();
        crate::store::exchange(&mut server, "server", &mut device, "device").unwrap();
        device.write_sync_states().unwrap();
        let doc = DocId::person(person);
        device
            .update_person(&admin(), person, PersonForm { name: "Jan Nowak-Kowalski".into(), ..Default::default() })
            .unwrap();
        // Only the person is of interest here (the directory changed too).
        for (other, _) in device.outbox().unwrap() {
            if other != doc {
                device.clear_outbox(&other).unwrap();
            }
        }
        assert_eq!(device.outbox().unwrap(), vec![(doc.clone(), false)]);
        (server, device, doc)
    }

    #[test]
    fn a_refused_document_leaves_the_outbox_for_the_list_and_keeps_what_was_entered() {
        let dir = tempfile::tempdir().unwrap();
        let (_server, mut device, doc) = synced_then_changed(dir.path());
        let refusal = Refusal::RoleMayNotWrite { role: Role::Staff, kind: DocKind::Person };
        assert_eq!(device.set_aside_refused("server", &doc, &refusal).unwrap(), SetAside::Listed);
        assert!(device.outbox().unwrap().is_empty());
        assert_eq!(device.attention_len().unwrap(), 1);
        let listed = device.needs_attention().unwrap();
        assert_eq!(listed[0].doc, doc);
        assert_eq!(listed[0].kind, DocKind::Person);
        assert_eq!(listed[0].refusal, refusal);
        assert_eq!(listed[0].commands, vec!["update_person".to_owned()]);
        let person = crate::PersonId::parse(doc.as_str().trim_start_matches("person:")).unwrap();
        assert_eq!(device.person(person).unwrap().unwrap().name, "Jan Nowak-Kowalski");
    }

    #[test]
    fn discard_forgets_the_local_changes_and_asks_for_the_servers_version() {
        let dir = tempfile::tempdir().unwrap();
        let (mut server, mut device, doc) = synced_then_changed(dir.path());
        device.set_aside_refused("server", &doc, &Refusal::OtherPersonsEntry).unwrap();
        device.discard_refused("server", &doc).unwrap();
        assert_eq!(device.attention_len().unwrap(), 0);
        assert!(!device.documents().unwrap().contains(&doc), "the local copy is forgotten");
        assert!(!device.tombstones_contain(&doc).unwrap(), "a forget is not a deletion");
        assert_eq!(device.outbox().unwrap(), vec![(doc.clone(), false)], "asked for again, not announced as deleted");
        // The next exchange brings the server's version back whole.
        let request = device.generate_sync_message("server", &doc).unwrap().expect("a request for the document");
        server.receive_sync_message("device", &doc, &request).unwrap();
        crate::store::exchange(&mut server, "server", &mut device, "device").unwrap();
        let person = crate::PersonId::parse(doc.as_str().trim_start_matches("person:")).unwrap();
        assert_eq!(device.person(person).unwrap().unwrap().name, "Jan Nowak");
    }

    #[test]
    fn discarding_a_document_the_server_never_had_deletes_it_here_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut device = store(dir.path(), "device.sqlite");
        device.create_site(&admin(), new_site()).unwrap();
        let person = device.create_person(&admin(), PersonForm { name: "Ewa".into(), ..Default::default() }).unwrap();
        let doc = DocId::person(person);
        device.set_aside_refused("server", &doc, &Refusal::KioskCreatesOnly).unwrap();
        device.discard_refused("server", &doc).unwrap();
        assert!(device.person(person).unwrap().is_none());
        assert!(!device.documents().unwrap().contains(&doc));
        assert!(!device.tombstones_contain(&doc).unwrap());
        assert!(device.outbox().unwrap().iter().all(|(d, _)| *d != doc), "nothing to ask for");
    }

    #[test]
    fn do_it_again_puts_the_document_back_in_the_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let (_server, mut device, doc) = synced_then_changed(dir.path());
        // The session sent the changes once and was refused.
        assert!(device.generate_sync_message("server", &doc).unwrap().is_some());
        device.set_aside_refused("server", &doc, &Refusal::TicketMovedByWorker).unwrap();
        assert!(device.generate_sync_message("server", &doc).unwrap().is_none(), "in this session, already said");
        device.retry_refused("server", &doc).unwrap();
        assert_eq!(device.attention_len().unwrap(), 0);
        assert_eq!(device.outbox().unwrap(), vec![(doc.clone(), false)]);
        assert!(device.generate_sync_message("server", &doc).unwrap().is_some(), "the exchange starts again");
    }

    #[test]
    fn only_listed_documents_can_be_discarded_or_sent_again() {
        let dir = tempfile::tempdir().unwrap();
        let (_server, mut device, doc) = synced_then_changed(dir.path());
        let e = device.discard_refused("server", &doc).unwrap_err();
        assert!(matches!(e, Error::NotRefused { .. }), "{e}");
        assert!(matches!(device.retry_refused("server", &doc), Err(Error::NotRefused { .. })));
        assert!(device.documents().unwrap().contains(&doc), "nothing was forgotten");
    }
}
