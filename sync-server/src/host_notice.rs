//! The rule `host-told-in-app`: a host whose phone is enrolled is told
//! that their guest is here by a notice the server writes into the site's
//! documents ([`lodge_core::Store::notify_host`]), numbered in the change
//! feed and pushed to the host's phones as any change is (see
//! [`crate::publish`]); a phone that is away gets it in its catch-up.

use std::sync::Arc;

use lodge_core::Role;
use lodge_core::notice::{Attempt, HostNotice};

use crate::AppState;
use crate::hub::SiteHub;

/// Write the notice (once per visit) and push it; the job's outcome.
pub async fn write(state: &AppState, hub: &Arc<SiteHub>, notice: HostNotice, title: String, text: String) -> Attempt {
    let (state, hub) = (state.clone(), hub.clone());
    let written = tokio::task::spawn_blocking(move || -> Result<Attempt, crate::AppError> {
        let phones = state.registry().devices()?.into_iter().filter(|d| {
            d.site == hub.site && d.revoked_at.is_none() && d.person == Some(notice.host_id) && matches!(d.role, Role::Staff | Role::Worker)
        });
        if phones.count() == 0 {
            return Ok(Attempt::Cancelled(format!("{} has no phone enrolled in Lodge", notice.told.host)));
        }
        let doc = hub.store().notify_host(notice.visit, notice.host_id, &title, &text)?;
        if let Some(doc) = doc {
            crate::publish::publish(&state, &hub, None, vec![(doc, false)], false);
        }
        Ok(Attempt::Sent)
    })
    .await;
    match written {
        Ok(Ok(attempt)) => attempt,
        Ok(Err(e)) => Attempt::Failed(e.to_string()),
        Err(e) => Attempt::Failed(e.to_string()),
    }
}
