//! Several `lodge-sync` instances on one PostgreSQL database.
//!
//! Each instance keeps the sites' documents in stores of its own (its data
//! directory: a cache of what is in the database), as one server does. A
//! change that lands on an instance is numbered in the site's feed with
//! its Automerge changes beside it, in one transaction (see
//! [`Registry::number`](crate::registry::Registry::number)), and the
//! database tells every instance at the commit (`NOTIFY lodge_changes`).
//! Each merges what the others numbered after what it has merged, in the
//! feed's order, and pushes it to its own devices. A device may therefore
//! connect to any instance: its catch-up asks the feed, and the instance
//! has merged everything below the number it tells the device.
//!
//! Why LISTEN/NOTIFY rather than logical replication: it needs no
//! replication slot or publication to set up and clean up, carries only a
//! wake-up (the changes are read from the table, in order, so a wake-up
//! lost while an instance reconnects costs nothing: it reads from its own
//! number, and it also looks every [`LOOK_ANYWAY`]).

use std::time::Duration;

use automerge::ChangeHash;
use postgres::fallible_iterator::FallibleIterator;
use lodge_core::{DocId, SiteId, Store};

use crate::hub::{Changed, SiteHub};
use crate::registry::Numbered;
use crate::{AppError, AppState};

/// Changes merged per turn at the store.
const MERGE_ROWS: u32 = 256;
/// Where a store keeps the feed number up to which it merged.
const MERGED_KEY: &str = "relay_merged_seq";
/// How often an instance looks for changes with no wake-up: a
/// notification missed while its listening connection was down.
pub const LOOK_ANYWAY: Duration = Duration::from_secs(30);

/// The feed number up to which this store merged the other instances'
/// changes (where a hub starts).
pub fn merged_in(store: &Store) -> Result<u64, AppError> {
    Ok(store.meta_number(MERGED_KEY)?)
}

/// The changes of `docs` this instance has not given the others yet, each
/// since the heads it last gave (the whole document the first time since
/// it started), ready to number; and the heads to remember once numbered
/// ([`given`]). From blocking code only.
pub fn give(hub: &SiteHub, docs: &[(DocId, bool)]) -> Result<(Vec<Numbered>, Vec<(DocId, Vec<ChangeHash>)>), AppError> {
    let mut store = hub.store();
    let mut numbered = Vec::with_capacity(docs.len());
    let mut heads = Vec::new();
    for (doc, purged) in docs {
        let since = if *purged { None } else { Some(given_heads(hub, doc)) };
        let changes = match since {
            Some(since) => store.changes_since(doc, &since)?.map(|(bytes, now)| {
                heads.push((doc.clone(), now));
                bytes
            }),
            None => None,
        };
        numbered.push(Numbered { doc: doc.clone(), purged: *purged, changes });
    }
    Ok((numbered, heads))
}

fn given_heads(hub: &SiteHub, doc: &DocId) -> Vec<ChangeHash> {
    hub.given.lock().unwrap_or_else(|p| p.into_inner()).get(doc).cloned().unwrap_or_default()
}

/// Remember what was given, once it is in the database (were it not, the
/// next change of the document gives it again).
pub fn given(hub: &SiteHub, heads: Vec<(DocId, Vec<ChangeHash>)>) {
    let mut given = hub.given.lock().unwrap_or_else(|p| p.into_inner());
    for (doc, now) in heads {
        given.insert(doc, now);
    }
}

/// Merge what the other instances numbered after what this one merged,
/// in order, and move the hub's feed number up to it; the documents that
/// changed, to push to this instance's devices. From blocking code only.
pub fn merge(state: &AppState, hub: &SiteHub) -> Result<Vec<Changed>, AppError> {
    let mut merged = hub.merged.lock().unwrap_or_else(|p| p.into_inner());
    let mut changed = Vec::new();
    loop {
        let rows = state.registry().changes_after(hub.site, *merged, MERGE_ROWS)?;
        let Some(last) = rows.last().map(|r| r.seq) else { break };
        let mut store = hub.store();
        let theirs: Vec<&crate::registry::Relayed> = rows.iter().filter(|r| r.origin != state.instance()).collect();
        // In order, a run of changes at a time in one store transaction;
        // a deletion between them in its own.
        for run in theirs.chunk_by(|a, b| a.purged == b.purged) {
            if run[0].purged {
                for row in run {
                    store.apply_tombstone(&row.doc)?;
                    changed.push(Changed { doc: row.doc.clone(), seq: row.seq, purged: true });
                }
                continue;
            }
            let with_bytes: Vec<(DocId, &[u8])> = run.iter().filter_map(|r| r.changes.as_deref().map(|b| (r.doc.clone(), b))).collect();
            let mut outcomes = store.merge_changes(&with_bytes)?.into_iter();
            for row in run {
                // A number with no changes: devices look at it again.
                let news = match row.changes {
                    None => true,
                    Some(_) => match outcomes.next() {
                        Some(Ok(changed)) => changed,
                        // Set aside, and the site goes on: the document comes
                        // whole with its next fold (`compact`), or from a
                        // device that has it.
                        Some(Err(e)) => {
                            tracing::warn!(site = %hub.site, doc = %row.doc, seq = row.seq, error = %e, "a change another instance numbered could not be merged here and was set aside");
                            state.traffic.set_aside();
                            false
                        }
                        None => false,
                    },
                };
                if news {
                    changed.push(Changed { doc: row.doc.clone(), seq: row.seq, purged: false });
                }
            }
        }
        let theirs = !theirs.is_empty();
        // Merged before the number is kept: a crash in between merges the
        // same changes again, which changes nothing. (Past this instance's
        // own numbers only, it is not written: merging them again after a
        // restart changes nothing either, and a publish is spared a write.)
        if theirs {
            store.set_meta_number(MERGED_KEY, last)?;
        }
        drop(store);
        *merged = last;
        hub.advance(last);
        if rows.len() < MERGE_ROWS as usize {
            break;
        }
    }
    Ok(changed)
}

/// Numbers a document may have kept in the database before they are
/// folded into the whole document.
const CROWDED: u32 = 64;

/// Fold each crowded document's kept changes into the whole document,
/// kept under a new number, and forget them: the database keeps what a
/// new instance needs to fill its store, not every change since the first
/// (a presence month takes one at each sign-in and sign-out). Only numbers
/// this instance has merged are forgotten: its store holds their changes,
/// so the whole document does too. How many rows went. From blocking code
/// only.
pub fn compact(state: &AppState, hub: &SiteHub) -> Result<usize, AppError> {
    // Held throughout: no merge moves the number meanwhile.
    let merged = hub.merged.lock().unwrap_or_else(|p| p.into_inner());
    let upto = *merged;
    let crowded = state.registry().crowded_docs(hub.site, CROWDED, upto)?;
    let mut forgotten = 0;
    for doc in crowded {
        // Not here (its changes refused): left as it is.
        let Some((bytes, heads)) = hub.store().changes_since(&doc, &[])? else { continue };
        let whole = Numbered { doc: doc.clone(), purged: false, changes: Some(bytes) };
        let seq = state.registry().number(hub.site, &[whole], state.instance())?[0];
        given(hub, vec![(doc.clone(), heads)]);
        forgotten += state.registry().forget_changes(hub.site, &doc, upto, seq)?;
    }
    Ok(forgotten)
}

/// [`compact`] every open site, logging what went.
fn compact_open(state: &AppState) {
    for hub in state.open_hubs() {
        match compact(state, &hub) {
            Ok(0) => {}
            Ok(rows) => tracing::info!(site = %hub.site, rows, "kept changes folded into whole documents"),
            Err(e) => tracing::warn!(site = %hub.site, error = %e, "kept changes could not be folded; again later"),
        }
    }
}

/// Merge a site's new changes and push them to its devices, if its store is
/// open here (a closed one merges when it opens). From blocking code only.
pub fn merge_and_push(state: &AppState, site: SiteId) {
    let Some(hub) = state.open_hub(site) else { return };
    if hub.owes() {
        // Changes that landed while the database was away: numbered now.
        crate::publish::publish(state, &hub, None, Vec::new(), false);
    }
    match merge(state, &hub) {
        Ok(changed) if !changed.is_empty() => {
            let deleted = changed.iter().any(|c| c.purged);
            crate::publish::fan_out(&hub, None, &changed, deleted);
            // Another instance's retention sweep: its counts are in the
            // registry already (see `crate::retention::sweep`).
            if deleted && let Err(e) = crate::retention::tell_counts(state, &hub) {
                tracing::warn!(%site, error = %e, "the daily counts were not sent to the admins");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::error!(%site, error = %e, "changes from the other instances could not be merged; trying again at the next change"),
    }
}

/// Listen for the other instances' changes on a connection of its own (a
/// thread, reconnecting after a failure), and merge them into the open
/// sites; every open site also looks every [`LOOK_ANYWAY`].
pub fn listen(state: AppState, address: crate::registry::DatabaseAddress) {
    let runtime = tokio::runtime::Handle::current();
    std::thread::Builder::new()
        .name("lodge-relay".into())
        .spawn(move || {
            loop {
                if let Err(e) = listen_once(&state, &address, &runtime) {
                    tracing::warn!(error = %crate::registry::database::in_words(&e), "listening for the other instances' changes failed; again in a second");
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
        .expect("a thread for the relay");
}

fn listen_once(state: &AppState, address: &crate::registry::DatabaseAddress, runtime: &tokio::runtime::Handle) -> Result<(), postgres::Error> {
    let mut client = address.connect()?;
    client.batch_execute("LISTEN lodge_changes; LISTEN lodge_channels")?;
    let mut compacted = std::time::Instant::now();
    // Due at a look, or at a notice (a busy database sends them without pause).
    let compact_if_due = |compacted: &mut std::time::Instant| {
        if compacted.elapsed() >= state.limits.compact_every {
            *compacted = std::time::Instant::now();
            let s = state.clone();
            runtime.spawn_blocking(move || compact_open(&s));
        }
    };
    loop {
        compact_if_due(&mut compacted);
        // Also after (re)connecting: what was numbered, and which channels
        // changed, meanwhile.
        for hub in state.open_hubs() {
            let state = state.clone();
            runtime.spawn_blocking(move || merge_and_push(&state, hub.site));
        }
        let s = state.clone();
        runtime.spawn_blocking(move || crate::site_channels::refresh(&s, None));
        {
            let mut notifications = client.notifications();
            let mut woken = notifications.timeout_iter(LOOK_ANYWAY.min(state.limits.compact_every));
            while let Some(note) = woken.next()? {
                compact_if_due(&mut compacted);
                let Ok(site) = SiteId::parse(note.payload()) else { continue };
                let state = state.clone();
                if note.channel() == "lodge_channels" {
                    runtime.spawn_blocking(move || crate::site_channels::refresh(&state, Some(site)));
                } else {
                    runtime.spawn_blocking(move || merge_and_push(&state, site));
                }
            }
        }
        if client.is_closed() {
            return Ok(());
        }
    }
}
