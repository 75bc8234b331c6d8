//! Rows of the `documents` and `doc_changes` tables: a snapshot per document
//! and one row per change since, compacted when the changes outweigh the
//! snapshot. One command never rewrites a whole document.

use automerge::{ActorId, AutoCommit, ChangeHash};
use rusqlite::{Connection, OptionalExtension, params};

use super::Error;
use crate::document::{DocId, DocKind};
use crate::time::Timestamp;

/// Changes below this many bytes never trigger a compaction.
const COMPACT_FLOOR_BYTES: i64 = 8 * 1024;

/// A document in memory with what the store needs to append to it.
pub(crate) struct Loaded {
    pub(crate) doc: AutoCommit,
    snapshot_bytes: i64,
    change_bytes: i64,
    next_seq: i64,
}

/// The Automerge actor id of this device, made once per store.
pub(super) fn device_actor(conn: &Connection) -> Result<ActorId, Error> {
    let hex: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'actor'", [], |r| r.get(0)).optional()?;
    if let Some(hex) = hex
        && let Ok(actor) = ActorId::try_from(hex.as_str()) {
            return Ok(actor);
        }
    let actor = ActorId::random();
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('actor', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [actor.to_hex_string()],
    )?;
    Ok(actor)
}

/// Load a document from its snapshot and changes.
pub(super) fn load(conn: &Connection, id: &DocId, actor: &ActorId) -> Result<Option<Loaded>, Error> {
    let row: Option<(Vec<u8>, i64, i64, i64)> = conn
        .prepare_cached("SELECT snapshot, snapshot_bytes, change_bytes, next_seq FROM documents WHERE doc_id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((snapshot, snapshot_bytes, change_bytes, next_seq)) = row else {
        return Ok(None);
    };
    let mut doc = AutoCommit::load(&snapshot).map_err(|e| Error::corrupt(id, e))?;
    let mut stmt = conn.prepare_cached("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY seq")?;
    let mut rows = stmt.query([id])?;
    while let Some(row) = rows.next()? {
        let bytes: Vec<u8> = row.get(0)?;
        doc.load_incremental(&bytes).map_err(|e| Error::corrupt(id, e))?;
    }
    doc.set_actor(actor.clone());
    Ok(Some(Loaded { doc, snapshot_bytes, change_bytes, next_seq }))
}

/// Store a document that did not exist here before.
pub(super) fn insert(conn: &Connection, id: &DocId, kind: DocKind, mut doc: AutoCommit, now: Timestamp) -> Result<Loaded, Error> {
    let snapshot = doc.save();
    let heads = encode_heads(&doc.get_heads());
    conn.prepare_cached(
        "INSERT INTO documents (doc_id, kind, snapshot, snapshot_bytes, change_bytes, next_seq, heads, updated_at)
         VALUES (?1, ?2, ?3, ?4, 0, 0, ?5, ?6)",
    )?
    .execute(params![id, kind.as_str(), snapshot, snapshot.len() as i64, heads, now])?;
    let doc = reloaded(id, &doc, &snapshot)?;
    Ok(Loaded { doc, snapshot_bytes: snapshot.len() as i64, change_bytes: 0, next_seq: 0 })
}

/// Append the changes made since `before` to a stored document, compacting
/// it into a new snapshot when the changes outweigh the old one.
pub(super) fn append(conn: &Connection, id: &DocId, loaded: &mut Loaded, before: &[ChangeHash], now: Timestamp) -> Result<(), Error> {
    let bytes = loaded.doc.save_after(before);
    append_bytes(conn, id, loaded, bytes, now)
}

/// Like [`append`], with the changes' bytes as they came: the change
/// chunks of a merged sync message, which `load_incremental` reads as it
/// reads `save_after`'s (encoding them again was a tenth of what a device
/// spent on each change it received). A chunk the document had already
/// loads as nothing.
pub(super) fn append_bytes(conn: &Connection, id: &DocId, loaded: &mut Loaded, bytes: Vec<u8>, now: Timestamp) -> Result<(), Error> {
    if bytes.is_empty() {
        return Ok(());
    }
    let heads = encode_heads(&loaded.doc.get_heads());
    let new_change_bytes = loaded.change_bytes + bytes.len() as i64;
    // Compact when the changes outweigh the snapshot (with a floor, so
    // that small documents are not re-saved every few commands).
    if new_change_bytes > loaded.snapshot_bytes.max(COMPACT_FLOOR_BYTES) {
        let snapshot = loaded.doc.save();
        conn.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?.execute([id])?;
        conn.prepare_cached(
            "UPDATE documents SET snapshot = ?2, snapshot_bytes = ?3, change_bytes = 0, heads = ?4, updated_at = ?5
             WHERE doc_id = ?1",
        )?
        .execute(params![id, snapshot, snapshot.len() as i64, heads, now])?;
        loaded.snapshot_bytes = snapshot.len() as i64;
        loaded.change_bytes = 0;
        loaded.doc = reloaded(id, &loaded.doc, &snapshot)?;
    } else {
        conn.prepare_cached("INSERT INTO doc_changes (doc_id, seq, bytes) VALUES (?1, ?2, ?3)")?
            .execute(params![id, loaded.next_seq, bytes])?;
        conn.prepare_cached(
            "UPDATE documents SET change_bytes = ?2, next_seq = ?3, heads = ?4, updated_at = ?5 WHERE doc_id = ?1",
        )?
        .execute(params![id, new_change_bytes, loaded.next_seq + 1, heads, now])?;
        loaded.change_bytes = new_change_bytes;
        loaded.next_seq += 1;
    }
    Ok(())
}

/// A fresh copy of a document from its just-saved snapshot. Saving leaves
/// large encoding caches in an `AutoCommit` (measured: a 1 KB visit grows
/// from 33 KB to about 300 KB in memory); the reloaded copy keeps the bounded
/// cache small.
fn reloaded(id: &DocId, doc: &AutoCommit, snapshot: &[u8]) -> Result<AutoCommit, Error> {
    let mut fresh = AutoCommit::load(snapshot).map_err(|e| Error::corrupt(id, e))?;
    fresh.set_actor(doc.get_actor().clone());
    Ok(fresh)
}

/// Remove a document's rows and sync states, leaving no trace that it
/// was here.
pub(super) fn forget(conn: &Connection, id: &DocId) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?.execute([id])?;
    conn.prepare_cached("DELETE FROM documents WHERE doc_id = ?1")?.execute([id])?;
    conn.prepare_cached("DELETE FROM sync_states WHERE doc_id = ?1")?.execute([id])?;
    Ok(())
}

/// Delete a document for good and remember that it was. Refused changes
/// of it need no attention any more.
pub(super) fn purge(conn: &Connection, id: &DocId, now: Timestamp, owner: Option<&str>) -> Result<(), Error> {
    forget(conn, id)?;
    conn.prepare_cached("DELETE FROM attention WHERE doc_id = ?1")?.execute([id])?;
    conn.prepare_cached("INSERT OR IGNORE INTO tombstones (doc_id, purged_at, owner) VALUES (?1, ?2, ?3)")?
        .execute(params![id, now, owner])?;
    Ok(())
}

/// The owner a document deleted for good had (`None` if it had none, or
/// was never seen here).
pub(super) fn tombstone_owner(conn: &Connection, id: &DocId) -> Result<Option<String>, Error> {
    Ok(conn
        .prepare_cached("SELECT owner FROM tombstones WHERE doc_id = ?1")?
        .query_row([id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// Remember the change hashes of a document deleted for good, so that the
/// same changes are refused under any other id.
pub(super) fn remember_purged_changes(conn: &Connection, hashes: &[ChangeHash]) -> Result<(), Error> {
    let mut insert = conn.prepare_cached("INSERT OR IGNORE INTO purged_changes (hash) VALUES (?1)")?;
    for hash in hashes {
        insert.execute([&hash.0[..]])?;
    }
    Ok(())
}

/// Whether a change belonged to a document deleted for good.
pub(super) fn is_purged_change(conn: &Connection, hash: &ChangeHash) -> Result<bool, Error> {
    Ok(conn.prepare_cached("SELECT 1 FROM purged_changes WHERE hash = ?1")?.exists([&hash.0[..]])?)
}

/// Whether the document was deleted for good.
pub(super) fn is_tombstoned(conn: &Connection, id: &DocId) -> Result<bool, Error> {
    Ok(conn.prepare_cached("SELECT 1 FROM tombstones WHERE doc_id = ?1")?.exists([id])?)
}

fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}
