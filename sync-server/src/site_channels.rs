//! A site's channels (its Slack webhooks, its own mail relay) are the
//! registry's, so that every instance sends through the same ones. Each
//! store of the site on this server holds a copy of the hooks, which its
//! jobs read: which hooks a sign-in is posted to, and at what URL. The copy
//! is made when the site opens, after a change made here, and when another
//! instance's change is told (`NOTIFY lodge_channels`) or seen at the
//! relay's regular look (`crate::relay`). A store made before the registry
//! held channels gives its own to it, once.

use std::sync::atomic::Ordering;

use lodge_core::{SiteId, Store};

use crate::AppState;
use crate::error::AppError;
use crate::hub::SiteHub;

/// Bring the store's own channels to the registry if they were never
/// brought, then make its copy of the hooks the registry's; the channels'
/// version copied (from blocking code only).
pub fn copy_into(state: &AppState, site: SiteId, store: &mut Store) -> Result<i64, AppError> {
    // Once, even with nothing to bring: from then on the store's hooks are
    // a copy, never brought again.
    let relay = store.mail_relay()?;
    if !state.registry().channels_brought(site)? {
        let hooks = store.slack_hooks()?;
        state.registry().bring_channels(site, &hooks, relay.as_ref(), store.now())?;
    }
    // The registry's now: the secret is not kept twice.
    if relay.is_some() {
        store.clear_mail_relay()?;
    }
    // The version before the hooks: a change in between is copied again.
    let (version, hooks) = {
        let registry = state.registry();
        (registry.channels_version(site)?, registry.slack_hooks(site)?)
    };
    store.copy_slack_hooks(&hooks)?;
    Ok(version)
}

/// Copy the registry's channels into an open site's store.
pub fn copy_into_hub(state: &AppState, hub: &SiteHub) -> Result<(), AppError> {
    let version = copy_into(state, hub.site, &mut hub.store())?;
    hub.channels_copied.fetch_max(version, Ordering::Relaxed);
    Ok(())
}

/// Copy again into the open stores whose copy is older than the registry's
/// (`site`'s, or every site's), from blocking code only.
pub fn refresh(state: &AppState, site: Option<SiteId>) {
    let versions = {
        let registry = state.registry();
        match site {
            Some(site) => registry.channels_version(site).map(|v| vec![(site, v)]),
            None => registry.channel_versions(),
        }
    };
    let versions = match versions {
        Ok(versions) => versions,
        Err(e) => {
            return tracing::warn!(error = %e, "the sites' channels could not be read; again at the next look");
        }
    };
    for (site, version) in versions {
        let Some(hub) = state.open_hub(site) else {
            continue;
        };
        if hub.channels_copied.load(Ordering::Relaxed) >= version {
            continue;
        }
        if let Err(e) = copy_into_hub(state, &hub) {
            tracing::warn!(%site, error = %e, "the site's channels could not be copied; again at the next look");
        }
    }
}
