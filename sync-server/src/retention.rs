//! The server's retention sweep of a site: documents past the site's
//! limits are erased from its store by the core's one rule
//! ([`lodge_core::Store::erase_past_retention_at_most`]), numbered in the
//! change feed as deletions and pushed to the connected devices as a
//! device's deletion is (see [`crate::publish`]); devices that are away
//! get them in their catch-up. Each sweep leaves an erasure report and
//! daily counts in the site's store, copied to the registry where every
//! instance reads them ([`copy_records`]); the admins' apps are sent the
//! counts ([`tell_counts`]). A device counts as confirmed once it has said
//! that it applied the feed's deletions up to the report's number (see
//! [`crate::registry::Registry::confirm`]).
//!
//! One entry point, [`sweep`], for the admin's HTTP call and for the daily
//! scheduler alike.

use std::collections::HashMap;

use lodge_core::retention::{DailyCount, Erased, ErasureRecord};
use lodge_core::sync::ServerMessage;
use lodge_core::sync::api::{ErasureConfirmation, ErasureReport};
use lodge_core::{DeviceId, SiteId, Store, Timestamp};

use crate::AppState;
use crate::error::AppError;
use crate::registry::Device;
use crate::visibility::may_know_deletion;

/// Documents erased per turn at the site's store: a first sweep over a
/// year of visits must not keep every device of the site waiting for all
/// of it (see [`crate::hub`]).
const ERASED_PER_TURN: usize = 256;

/// Erase what is past retention in `site` at `now`, tell every device, and
/// keep and return the sweep's report. Store work runs on the blocking
/// pool, a turn at a time.
pub async fn sweep(state: &AppState, site: SiteId, now: Timestamp) -> Result<ErasureReport, AppError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || sweep_blocking(&state, site, now)).await?
}

fn sweep_blocking(state: &AppState, site: SiteId, now: Timestamp) -> Result<ErasureReport, AppError> {
    let hub = state.hub(site)?;
    let devices: Vec<Device> = state.registry().devices()?.into_iter().filter(|d| d.site == site && d.revoked_at.is_none()).collect();
    let mut erased = Erased::default();
    let mut feed_seq = None;
    let mut told: Vec<DeviceId> = Vec::new();
    loop {
        let step = hub.store().erase_past_retention_at_most(now, ERASED_PER_TURN)?;
        let done = step.docs.len() < ERASED_PER_TURN;
        if !step.docs.is_empty() {
            {
                // Who may have held them, from the tombstones' owners.
                let mut store = hub.store();
                for device in &devices {
                    if !told.contains(&device.device) && step.docs.iter().any(|doc| may_know_deletion(device, &mut store, doc)) {
                        told.push(device.device);
                    }
                }
            }
            // Before the deletions are numbered: another instance that
            // merges them then finds their counts in the registry. Not
            // copied (the database away), they are at the next open or
            // sweep; the deletions go on as a device's would.
            copy_or_warn(state, &hub);
            let deletions = step.docs.iter().map(|doc| (doc.clone(), true)).collect();
            let before = hub.seq();
            let seq = crate::publish::publish(state, &hub, None, deletions, true);
            if seq > before {
                feed_seq = Some(seq);
            }
        }
        erased.add(step);
        if done {
            break;
        }
    }
    let kept_as = hub.store().record_erasure(now, &erased, feed_seq, &told)?;
    // The number every instance reads it under, once copied.
    let id = copy_or_warn(state, &hub)
        .and_then(|store_id| state.registry().erasure_record_id(site, &store_id, kept_as).ok().flatten())
        .unwrap_or(kept_as);
    if feed_seq.is_some()
        && let Err(e) = tell_counts(state, &hub)
    {
        tracing::warn!(%site, error = %e, "the daily counts were not sent to the admins");
    }
    tracing::info!(%site, visits = erased.visits, presence_months = erased.presence_months, ?feed_seq, devices = told.len(), "retention sweep");
    let record = ErasureRecord { id, ran_at: now, visits: erased.visits, presence_months: erased.presence_months, feed_seq, devices: told };
    Ok(report(&record, &devices_by_id(state, site)?, &state.registry().confirmed(site)?))
}

/// What a store of a site keeps of its sweeps, to copy to the registry.
pub struct Kept {
    /// The name its records go under there: the store's Automerge actor,
    /// made once per store file (one per instance's data directory).
    store_id: String,
    counts: Vec<DailyCount>,
    records: Vec<ErasureRecord>,
}

/// Read what `store` keeps of its sweeps (then let go of the store: the
/// registry is never waited for with a store held).
pub fn kept_in(store: &Store) -> Result<Kept, AppError> {
    Ok(Kept { store_id: store.actor_id().to_hex_string(), counts: store.kept_counts()?, records: store.erasure_records()? })
}

/// Copy a store's daily counts and erasure reports of `site` to the
/// registry, where every instance reads them (see
/// `crate::registry::Registry::copy_kept_counts` and `copy_erasure_records`):
/// in each turn of a sweep, after it, and when the site is opened here or
/// read by the command line (a sweep cut short between the store and the
/// registry, or records kept before they were copied). A store that never
/// erased anything writes nothing. From blocking code only.
pub fn copy_records(state: &AppState, site: SiteId, kept: &Kept) -> Result<(), AppError> {
    if kept.counts.is_empty() && kept.records.is_empty() {
        return Ok(());
    }
    let registry = state.registry();
    registry.copy_kept_counts(site, &kept.store_id, &kept.counts)?;
    registry.copy_erasure_records(site, &kept.store_id, &kept.records)?;
    Ok(())
}

/// [`copy_records`] of the hub's store, a failure logged (it is copied
/// again at the next open, sweep or command); the store's name in the
/// registry when copied.
pub fn copy_or_warn(state: &AppState, hub: &crate::hub::SiteHub) -> Option<String> {
    // Read first: the store is let go before the registry is waited for.
    let kept = kept_in(&hub.look_at_store());
    match kept.and_then(|kept| copy_records(state, hub.site, &kept).map(|()| kept.store_id)) {
        Ok(store_id) => Some(store_id),
        Err(e) => {
            tracing::warn!(site = %hub.site, error = %e, "the site's retention records could not be copied to the registry");
            None
        }
    }
}

/// Send the site's daily counts to the admins connected here now that
/// keep them (the others get them when they connect): after a sweep here,
/// and after merging another instance's deletions. Queued after the
/// deletions, so that no screen counts an erased visit twice. From
/// blocking code only.
pub(crate) fn tell_counts(state: &AppState, hub: &crate::hub::SiteHub) -> Result<(), AppError> {
    let admins: Vec<_> = hub.others(None).into_iter().filter(|(_, l)| l.keeps_counts).collect();
    if admins.is_empty() {
        return Ok(());
    }
    let counts = axum::body::Bytes::from(ServerMessage::KeptCounts { counts: state.registry().kept_counts(hub.site)? }.encode());
    for (id, admin) in admins {
        if !admin.offer(counts.clone()) {
            // It does not read what it is sent: it gets the counts when it
            // reconnects.
            hub.give_up(id);
        }
    }
    Ok(())
}

/// Every sweep of `site`, newest first, with each device's confirmation as
/// it stands now. From blocking code only.
pub fn reports(state: &AppState, site: SiteId) -> Result<Vec<ErasureReport>, AppError> {
    let records = state.registry().erasure_records(site)?;
    let devices = devices_by_id(state, site)?;
    let confirmed = state.registry().confirmed(site)?;
    Ok(records.iter().map(|r| report(r, &devices, &confirmed)).collect())
}

/// The records of a site's store opened by itself (the command line,
/// beside a running server), with confirmations from the registry.
pub fn reports_of(records: &[ErasureRecord], devices: &[Device], confirmed: &HashMap<DeviceId, u64>) -> Vec<ErasureReport> {
    let by_id: HashMap<DeviceId, Device> = devices.iter().map(|d| (d.device, d.clone())).collect();
    records.iter().map(|r| report(r, &by_id, confirmed)).collect()
}

fn devices_by_id(state: &AppState, site: SiteId) -> Result<HashMap<DeviceId, Device>, AppError> {
    Ok(state.registry().devices()?.into_iter().filter(|d| d.site == site).map(|d| (d.device, d)).collect())
}

fn report(record: &ErasureRecord, devices: &HashMap<DeviceId, Device>, confirmed: &HashMap<DeviceId, u64>) -> ErasureReport {
    let devices = record
        .devices
        .iter()
        // Devices are revoked, never removed: every one told is still known.
        .filter_map(|id| devices.get(id))
        .map(|d| ErasureConfirmation {
            device: d.device,
            name: d.name.clone(),
            role: d.role,
            confirmed: record.feed_seq.is_some_and(|seq| confirmed.get(&d.device).is_some_and(|c| *c >= seq)),
        })
        .collect();
    ErasureReport {
        id: record.id,
        ran_at: record.ran_at,
        visits: record.visits,
        presence_months: record.presence_months,
        feed_seq: record.feed_seq,
        devices,
    }
}

#[cfg(test)]
mod tests {
    use lodge_core::retention::Erased;

    use super::*;

    #[test]
    fn a_report_kept_in_the_store_but_never_copied_reaches_the_registry_when_the_site_opens_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let site = {
            let state = AppState::open(dir.path()).unwrap();
            let site = state.create_site(None).unwrap();
            let hub = state.hub(site).unwrap();
            // The store's part of a sweep, then a stop before the registry's.
            let erased = Erased { visits: 3, ..Erased::default() };
            hub.store().record_erasure(Timestamp::from_millis(1_000), &erased, Some(9), &[]).unwrap();
            assert!(state.registry().erasure_records(site).unwrap().is_empty());
            site
        };
        for _ in 0..2 {
            let state = AppState::open(dir.path()).unwrap();
            state.hub(site).unwrap();
            let records = state.registry().erasure_records(site).unwrap();
            assert_eq!(records.iter().map(|r| (r.visits, r.feed_seq)).collect::<Vec<_>>(), vec![(3, Some(9))]);
        }
    }
}
