//! An admin device's calls to its server: the site's devices, revoking one,
//! and making one-time enrolment codes. Authenticated with the device's own
//! token; the server answers only for the device's site and only to an
//! admin device. Also the site's retention sweep, its channels (Slack
//! webhooks, its own mail relay: set here, kept on the server) and a test
//! message through each of them.

use serde::Deserialize;

use super::api::{ADMIN_CODES_PATH, ADMIN_DEVICES_PATH, ApiErrorKind, CodeRequest, EnrolmentCode, ErrorBody, SiteDevice, revoke_path};
use crate::actor::Role;
use crate::ids::{DeviceId, PersonId};

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
    /// The server refused: what kind (what the caller can do about it),
    /// and in the server's words.
    #[error("{message}")]
    Refused {
        /// What kind.
        kind: ApiErrorKind,
        /// In words.
        message: String,
    },
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
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        return Err(match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => AdminError::Refused { kind: body.kind, message: body.error },
            // Not our server's body (a proxy's page): its status says enough.
            Err(_) => AdminError::Refused { kind: ApiErrorKind::Internal, message: format!("{status}: {text}") },
        });
    }
    response.json().await.map_err(unreachable)
}

fn url(base_url: &str, path: &str) -> String {
    format!("{}{path}", base_url.trim_end_matches('/'))
}

/// The site's devices.
pub async fn devices(base_url: &str, token: &str) -> Result<Vec<SiteDevice>, AdminError> {
    call(super::tls::http_client().get(url(base_url, ADMIN_DEVICES_PATH)).bearer_auth(token), base_url).await
}

/// Remove a device: it is disconnected at once and told to wipe its store.
pub async fn revoke(base_url: &str, token: &str, device: DeviceId) -> Result<SiteDevice, AdminError> {
    call(super::tls::http_client().post(url(base_url, &revoke_path(device))).bearer_auth(token), base_url).await
}

/// Run the site's retention sweep now; its report.
pub async fn run_retention(base_url: &str, token: &str) -> Result<super::api::ErasureReport, AdminError> {
    call(super::tls::http_client().post(url(base_url, super::api::ADMIN_RETENTION_RUN_PATH)).bearer_auth(token), base_url).await
}

/// Every retention sweep of the site, newest first.
pub async fn retention_reports(base_url: &str, token: &str) -> Result<Vec<super::api::ErasureReport>, AdminError> {
    call(super::tls::http_client().get(url(base_url, super::api::ADMIN_RETENTION_REPORTS_PATH)).bearer_auth(token), base_url).await
}

/// A one-time code for a new device of `role` (staff and worker phones name
/// their `person`), valid for `minutes`.
pub async fn create_code(base_url: &str, token: &str, role: Role, person: Option<PersonId>, minutes: u32) -> Result<EnrolmentCode, AdminError> {
    let body = CodeRequest { role, person, minutes: Some(minutes) };
    call(super::tls::http_client().post(url(base_url, ADMIN_CODES_PATH)).bearer_auth(token).json(&body), base_url).await
}

/// Send a test message through one of the site's channels; what was tried.
pub async fn test_channel(base_url: &str, token: &str, test: &super::api::ChannelTest) -> Result<Vec<super::api::ChannelTried>, AdminError> {
    call(super::tls::http_client().post(url(base_url, super::api::ADMIN_CHANNEL_TEST_PATH)).bearer_auth(token).json(test), base_url).await
}

/// The site's Slack webhooks, as the screen shows them.
pub async fn slack_hooks(base_url: &str, token: &str) -> Result<Vec<super::api::SlackHookShown>, AdminError> {
    call(super::tls::http_client().get(url(base_url, super::api::ADMIN_SLACK_HOOKS_PATH)).bearer_auth(token), base_url).await
}

/// Add a Slack webhook; the list after.
pub async fn add_slack_hook(base_url: &str, token: &str, hook: &super::api::NewSlackHook) -> Result<Vec<super::api::SlackHookShown>, AdminError> {
    call(super::tls::http_client().post(url(base_url, super::api::ADMIN_SLACK_HOOKS_PATH)).bearer_auth(token).json(hook), base_url).await
}

/// Remove Slack webhook number `hook`; the list left.
pub async fn remove_slack_hook(base_url: &str, token: &str, hook: i64) -> Result<Vec<super::api::SlackHookShown>, AdminError> {
    call(super::tls::http_client().delete(url(base_url, &super::api::slack_hook_path(hook))).bearer_auth(token), base_url).await
}

/// The site's own mail relay (`None`: the server's).
pub async fn mail_relay(base_url: &str, token: &str) -> Result<Option<super::api::MailRelayShown>, AdminError> {
    call(super::tls::http_client().get(url(base_url, super::api::ADMIN_MAIL_RELAY_PATH)).bearer_auth(token), base_url).await
}

/// Set the site's own mail relay; what is set now.
pub async fn set_mail_relay(base_url: &str, token: &str, relay: &super::api::NewMailRelay) -> Result<Option<super::api::MailRelayShown>, AdminError> {
    call(super::tls::http_client().put(url(base_url, super::api::ADMIN_MAIL_RELAY_PATH)).bearer_auth(token).json(relay), base_url).await
}

/// Go back to the server's relay; what is set now (`None`).
pub async fn clear_mail_relay(base_url: &str, token: &str) -> Result<Option<super::api::MailRelayShown>, AdminError> {
    call(super::tls::http_client().delete(url(base_url, super::api::ADMIN_MAIL_RELAY_PATH)).bearer_auth(token), base_url).await
}

/// Who an announcement reached by e-mail or text (for an admin or a
/// reception device).
pub async fn announcement_deliveries(base_url: &str, token: &str, announcement: crate::ids::AnnouncementId) -> Result<Vec<crate::notice::Delivery>, AdminError> {
    let path = super::api::announcement_deliveries_path(announcement);
    call(super::tls::http_client().get(url(base_url, &path)).bearer_auth(token), base_url).await
}

/// Expect a guest from a device that holds no visits (a staff phone): the
/// server writes the visit and e-mails the invitation.
pub async fn expect_guest(base_url: &str, token: &str, guest: &crate::visit::ExpectedGuest) -> Result<crate::visit::Invitation, AdminError> {
    call(super::tls::http_client().post(url(base_url, super::api::EXPECTED_PATH)).bearer_auth(token).json(guest), base_url).await
}

/// The guest an invitation code names (a kiosk).
pub async fn invited_guest(base_url: &str, token: &str, code: &str) -> Result<crate::visit::InvitedGuest, AdminError> {
    let query = super::api::InvitationQuery { code: code.to_owned() };
    call(super::tls::http_client().post(url(base_url, super::api::KIOSK_INVITATION_PATH)).bearer_auth(token).json(&query), base_url).await
}

/// An invited guest checked in at the kiosk.
pub async fn arrive_with_invitation(base_url: &str, token: &str, arrival: &super::api::InvitedArrival) -> Result<crate::VisitId, AdminError> {
    call(super::tls::http_client().post(url(base_url, super::api::KIOSK_ARRIVAL_PATH)).bearer_auth(token).json(arrival), base_url).await
}

/// Start a roll call from a marshal's phone: the server lists everyone in.
pub async fn start_roll_call(base_url: &str, token: &str, start: &crate::roll_call::StartRollCall) -> Result<crate::RollCallId, AdminError> {
    call(super::tls::http_client().post(url(base_url, super::api::ROLL_CALLS_PATH)).bearer_auth(token).json(start), base_url).await
}

/// "I work here", first step: ask for a code to be sent to `contact` for
/// the site with `site_code`. The answer is the same whether or not the
/// contact is someone's.
pub async fn ask_sign_in_code(base_url: &str, site_code: &str, contact: &str) -> Result<super::api::SignInCodeAsked, AdminError> {
    let body = super::api::SignInCodeRequest { site_code: site_code.trim().to_owned(), contact: contact.trim().to_owned() };
    call(super::tls::http_client().post(url(base_url, super::api::JOIN_CODE_PATH)).json(&body), base_url).await
}

/// Sign this device out of its site: its token is revoked at the server.
pub async fn leave(base_url: &str, token: &str) -> Result<(), AdminError> {
    call(super::tls::http_client().post(url(base_url, super::api::LEAVE_PATH)).bearer_auth(token), base_url).await
}

/// A login link for one more phone of `person` (an admin), or of this
/// phone's own person (`None`).
pub async fn login_link(base_url: &str, token: &str, person: Option<PersonId>) -> Result<super::api::LoginLink, AdminError> {
    let body = super::api::LoginLinkRequest { person, minutes: None };
    call(super::tls::http_client().post(url(base_url, super::api::LOGIN_LINKS_PATH)).bearer_auth(token).json(&body), base_url).await
}

/// The site's join code, for its poster (an admin).
pub async fn join_code(base_url: &str, token: &str) -> Result<super::api::JoinCode, AdminError> {
    call(super::tls::http_client().get(url(base_url, super::api::ADMIN_JOIN_CODE_PATH)).bearer_auth(token), base_url).await
}

/// The site's audit trail, newest first (an admin).
pub async fn audit(base_url: &str, token: &str, query: &super::api::AuditQuery) -> Result<Vec<super::api::AuditEntry>, AdminError> {
    call(super::tls::http_client().get(url(base_url, super::api::ADMIN_AUDIT_PATH)).bearer_auth(token).query(query), base_url).await
}

/// A worker not yet of the site asks to join (the answer is the same
/// whatever happens: a code sent now, or a request for the admin).
pub async fn request_to_join(base_url: &str, request: &super::api::JoinRequest) -> Result<super::api::SignInCodeAsked, AdminError> {
    call(super::tls::http_client().post(url(base_url, super::api::JOIN_REQUEST_PATH)).json(request), base_url).await
}

/// The site's requests to join, waiting (an admin).
pub async fn join_requests(base_url: &str, token: &str) -> Result<Vec<super::api::JoinRequestShown>, AdminError> {
    call(super::tls::http_client().get(url(base_url, super::api::ADMIN_JOIN_REQUESTS_PATH)).bearer_auth(token), base_url).await
}

/// Approve (`true`) or refuse a request to join; those still waiting.
pub async fn decide_join_request(base_url: &str, token: &str, request: i64, approve: bool) -> Result<Vec<super::api::JoinRequestShown>, AdminError> {
    let path = if approve { super::api::approve_join_path(request) } else { super::api::refuse_join_path(request) };
    call(super::tls::http_client().post(url(base_url, &path)).bearer_auth(token), base_url).await
}

/// The e-mail domains whose people are approved by their code (an admin).
pub async fn join_domains(base_url: &str, token: &str) -> Result<Vec<String>, AdminError> {
    call(super::tls::http_client().get(url(base_url, super::api::ADMIN_JOIN_DOMAINS_PATH)).bearer_auth(token), base_url).await
}

/// Set those domains; the list as kept.
pub async fn set_join_domains(base_url: &str, token: &str, domains: &[String]) -> Result<Vec<String>, AdminError> {
    call(super::tls::http_client().put(url(base_url, super::api::ADMIN_JOIN_DOMAINS_PATH)).bearer_auth(token).json(domains), base_url).await
}
