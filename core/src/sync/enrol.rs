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
    let body = EnrolRequest { code: code.trim().to_owned(), actor, name: name.to_owned() };
    enrol_with(base_url, ENROL_PATH, &body, store).await
}

/// "I work here", second step: answer the six-digit code sent to `contact`
/// for the site with `site_code`; this store becomes that person's phone.
pub async fn enrol_by_sign_in_code(
    base_url: &str,
    site_code: &str,
    contact: &str,
    code: &str,
    name: &str,
    store: &std::sync::Mutex<Store>,
) -> Result<Enrolment, EnrolError> {
    let actor = store.lock().unwrap_or_else(|p| p.into_inner()).actor_id().to_hex_string();
    let body = super::api::SignInEnrol { site_code: site_code.trim().to_owned(), contact: contact.trim().to_owned(), code: code.trim().to_owned(), actor, name: name.to_owned() };
    enrol_with(base_url, super::api::JOIN_ENROL_PATH, &body, store).await
}

/// Redeem an operator's invite for the site this store started: the server
/// takes the site on, and this device is its first admin.
pub async fn enrol_by_invite(base_url: &str, code: &str, name: &str, store: &std::sync::Mutex<Store>) -> Result<Enrolment, EnrolError> {
    let (actor, site, site_name) = {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        let settings = store.site_settings()?;
        (store.actor_id().to_hex_string(), store.site()?.ok_or(crate::store::Error::NoSite)?, settings.map(|s| s.name).unwrap_or_default())
    };
    let body = super::api::InviteRedeem { code: code.trim().to_owned(), site, site_name, actor, name: name.to_owned() };
    enrol_with(base_url, super::api::INVITE_REDEEM_PATH, &body, store).await
}

/// Post an enrolment of any kind and take its answer into the store.
async fn enrol_with(base_url: &str, path: &str, body: &impl Serialize, store: &std::sync::Mutex<Store>) -> Result<Enrolment, EnrolError> {
    let url = format!("{}{path}", base_url.trim_end_matches('/'));
    let answer: Enrolled = super::admin::call(super::tls::http_client().post(&url).json(body), base_url).await?;
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
