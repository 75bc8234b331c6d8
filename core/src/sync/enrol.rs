//! Joining a site: redeem a one-time enrolment code at the server for a
//! device token, binding this store's Automerge actor id to the device.

use serde::{Deserialize, Serialize};

use super::api::{ENROL_PATH, EnrolRequest, Enrolled};
use crate::actor::Role;
use crate::ids::{DeviceId, PersonId, SiteId};
use crate::store::Store;

/// What this device keeps of a redeemed code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Enrolment {
    /// The new device.
    pub device: DeviceId,
    /// Its site.
    pub site: SiteId,
    /// Its role, which decides the screens.
    pub role: Role,
    /// Whose phone, for staff and worker devices.
    pub person: Option<PersonId>,
    /// The secret the sync client connects with. Keep it safe.
    pub token: String,
}

/// Why enrolment failed.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    /// The server could not be reached, or refused the code (in its words).
    #[error(transparent)]
    Server(#[from] super::admin::AdminError),
    /// The code is for another site than the one this store already holds.
    #[error("This code is for another site ({code_site}) than the one this device holds ({held}). Ask for a code of the device's own site.")]
    OtherSite {
        /// The code's site.
        code_site: SiteId,
        /// The store's site.
        held: SiteId,
    },
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// The store could not record the site.
    #[error(transparent)]
    Site(#[from] crate::site::Error),
}

/// Redeem `code` at `base_url` (`http://host:port`) for this store, and make
/// the store part of the site.
pub async fn enrol(base_url: &str, code: &str, name: &str, store: &std::sync::Mutex<Store>) -> Result<Enrolment, EnrolError> {
    let actor = store.lock().unwrap_or_else(|p| p.into_inner()).actor_id().to_hex_string();
    let url = format!("{}{ENROL_PATH}", base_url.trim_end_matches('/'));
    let body = EnrolRequest { code: code.trim().to_owned(), actor, name: name.to_owned() };
    let answer: Enrolled = super::admin::call(super::tls::http_client().post(&url).json(&body), base_url).await?;
    // A device that started its site alone joins only that site's server side.
    if let Some(held) = store.lock().unwrap_or_else(|p| p.into_inner()).site()?
        && held != answer.device.site
    {
        return Err(EnrolError::OtherSite { code_site: answer.device.site, held });
    }
    store.lock().unwrap_or_else(|p| p.into_inner()).join_site(answer.device.site)?;
    Ok(Enrolment {
        device: answer.device.device,
        site: answer.device.site,
        role: answer.device.role,
        person: answer.device.person,
        token: answer.token,
    })
}
