//! An admin device's calls to its server: the site's devices, revoking one,
//! and making one-time enrolment codes. Authenticated with the device's own
//! token; the server answers only for the device's site and only to an
//! admin device.

use serde::{Deserialize, Serialize};

use crate::actor::Role;
use crate::ids::{DeviceId, PersonId};
use crate::time::Timestamp;

/// A device of the site as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteDevice {
    /// Its id.
    pub device: DeviceId,
    /// Its role.
    pub role: Role,
    /// Whose phone.
    pub person: Option<PersonId>,
    /// Its name.
    pub name: String,
    /// When it was removed, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// A one-time enrolment code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EnrolmentCode {
    /// The code.
    pub code: String,
    /// Until when it can be redeemed.
    pub expires_at: Timestamp,
}

/// Why a call to the server (enrolment or an admin call) failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The server could not be reached.
    #[error("The server at {url} could not be reached: {reason}")]
    Unreachable {
        /// The server.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The server refused, in its words.
    #[error("{0}")]
    Refused(String),
}

/// Send a request to the server; its refusals come back in its words.
pub(crate) async fn call<T: for<'de> Deserialize<'de>>(request: reqwest::RequestBuilder, base_url: &str) -> Result<T, AdminError> {
    // The whole chain: reqwest's own words alone ("error sending request")
    // hide whether the certificate, the name or the network failed.
    let unreachable = |e: reqwest::Error| {
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            reason.push_str(": ");
            reason.push_str(&s.to_string());
            source = s.source();
        }
        AdminError::Unreachable { url: base_url.to_owned(), reason }
    };
    let response = request.send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v["error"].as_str().map(str::to_owned)).unwrap_or(text);
        return Err(AdminError::Refused(message));
    }
    response.json().await.map_err(unreachable)
}

fn url(base_url: &str, path: &str) -> String {
    format!("{}{path}", base_url.trim_end_matches('/'))
}

/// The site's devices.
pub async fn devices(base_url: &str, token: &str) -> Result<Vec<SiteDevice>, AdminError> {
    call(super::tls::http_client().get(url(base_url, "/admin/devices")).bearer_auth(token), base_url).await
}

/// Remove a device: it is disconnected at once and told to wipe its store.
pub async fn revoke(base_url: &str, token: &str, device: DeviceId) -> Result<SiteDevice, AdminError> {
    call(super::tls::http_client().post(url(base_url, &format!("/admin/devices/{device}/revoke"))).bearer_auth(token), base_url).await
}

/// A one-time code for a new device of `role` (staff and worker phones name
/// their `person`), valid for `minutes`.
pub async fn create_code(base_url: &str, token: &str, role: Role, person: Option<PersonId>, minutes: u32) -> Result<EnrolmentCode, AdminError> {
    let body = serde_json::json!({ "role": role, "person": person, "minutes": minutes });
    call(super::tls::http_client().post(url(base_url, "/admin/codes")).bearer_auth(token).json(&body), base_url).await
}
