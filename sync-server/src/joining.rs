//! People join on their own: "I work here" (a six-digit code sent to the
//! person's e-mail or phone, answered on the phone), a phone signing itself
//! out, login links for one more phone, and the site's join code for its
//! poster. See "Who joins how" in DESIGN.md.
//!
//! Asking for a code answers the same bytes whether or not the contact is
//! someone's, and does the same work before answering: the person is looked
//! up, a code row written, and only then (after the answer is made) is the
//! message queued, so that how long the answer takes does not tell either.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use lodge_core::person::SignInContact;
use lodge_core::sync::api::{Enrolled, JoinCode, LoginLink, LoginLinkRequest, SignInCodeAsked, SignInCodeRequest, SignInEnrol};
use lodge_core::{Role, Timestamp};

use crate::admin::{caller, caller_of};
use crate::registry::{AuditRow, CODE_MINUTES, CodeAsked, RegistryError};
use crate::{AppError, AppState};
use crate::body::Body;

/// The longest a login link may live: a day.
const MAX_LINK_MINUTES: u32 = 24 * 60;

/// `POST /join/code`.
pub async fn ask_code(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    Body(request): Body<SignInCodeRequest>,
) -> Result<Json<SignInCodeAsked>, AppError> {
    let ip = address.ip();
    // Every request counts here, right or wrong: asking sends messages.
    if let Err(refused) = state.sign_in_requests.admit(ip, "sign-in code") {
        crate::audit::keep(&state, AuditRow { address: ip.to_string(), action: "sign-in-code".into(), outcome: "too-many-attempts".into(), ..Default::default() }).await;
        return Err(refused);
    }
    let contact = SignInContact::parse(&request.contact)?;
    let s = state.clone();
    let asked = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        let Some((site, site_name)) = s.registry().site_by_join_code(&request.site_code)? else {
            return Err(AppError::UnknownJoinCode);
        };
        let hub = s.hub(site)?;
        let asked = code_for(&s, site, &hub, &contact, &ip.to_string(), "sign-in-code")?;
        Ok((asked, site, site_name, hub, contact))
    })
    .await??;
    let (asked, site, site_name, hub, contact) = asked;
    let answer = Json(SignInCodeAsked { site_name, minutes: CODE_MINUTES as u32 });
    // Queued after the answer is made, known contacts only (see the
    // module's doc); the sender takes it within half a second.
    tokio::task::spawn_blocking(move || queue_code(site, &hub, &contact, &asked));
    Ok(answer)
}

/// A code for `contact` at `site`, whether or not it is someone's (from
/// blocking code only), with its audit row.
pub(crate) fn code_for(s: &AppState, site: lodge_core::SiteId, hub: &crate::SiteHub, contact: &SignInContact, address: &str, action: &str) -> Result<CodeAsked, AppError> {
    let person = hub.store().person_by_contact(contact)?.map(|(p, role)| (p.id, role));
    let now = s.clock.now();
    let limits = (s.limits.codes_per_contact, s.limits.codes_per_site);
    let asked = s.registry().ask_sign_in_code(site, contact.as_str(), person, address, now, limits);
    let outcome = asked.as_ref().map_or_else(RegistryError::outcome, |_| "ok").to_owned();
    s.registry().audit(now, &AuditRow {
        site: Some(site),
        person: asked.as_ref().ok().and_then(|a| a.person.map(|p| p.0)),
        address: address.to_owned(),
        action: action.to_owned(),
        outcome,
        detail: contact.masked(),
        ..Default::default()
    })?;
    Ok(asked?)
}

/// Queue the message with the code, for a contact that is someone's
/// (from blocking code only; a failure is logged: the person asks again).
pub(crate) fn queue_code(site: lodge_core::SiteId, hub: &crate::SiteHub, contact: &SignInContact, asked: &CodeAsked) {
    if let Some((person, _)) = asked.person
        && let Err(e) = hub.store().queue_sign_in_code(person, contact, &asked.code)
    {
        tracing::error!(%site, error = %e, "a sign-in code could not be queued");
    }
}

/// `POST /join/enrol`.
pub async fn enrol(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    Body(request): Body<SignInEnrol>,
) -> Result<Json<Enrolled>, AppError> {
    let ip = address.ip();
    state.throttle.admit(ip, "sign-in code answer")?;
    let contact = SignInContact::parse(&request.contact)?;
    let s = state.clone();
    let enrolled = tokio::task::spawn_blocking(move || -> Result<Enrolled, AppError> {
        let Some((site, _)) = s.registry().site_by_join_code(&request.site_code)? else {
            return Err(AppError::UnknownJoinCode);
        };
        let now = s.clock.now();
        let redeemed = s.registry().redeem_sign_in_code(site, contact.as_str(), &request.code, &request.actor, &request.name, now);
        let row = AuditRow {
            site: Some(site),
            device: redeemed.as_ref().ok().map(|e| e.device.device),
            person: redeemed.as_ref().ok().and_then(|e| e.device.person),
            address: ip.to_string(),
            action: "sign-in-code-redeemed".into(),
            outcome: redeemed.as_ref().map_or_else(RegistryError::outcome, |_| "ok").to_owned(),
            detail: contact.masked(),
            ..Default::default()
        };
        s.registry().audit(now, &row)?;
        let enrolled = redeemed?;
        Ok(Enrolled { device: enrolled.device.public(), token: enrolled.token })
    })
    .await?;
    match &enrolled {
        Ok(e) => {
            state.throttle.succeeded(ip);
            tracing::info!(%ip, device = %e.device.device, role = %e.device.role, "a phone joined by a sign-in code");
        }
        Err(e) => tracing::warn!(%ip, error = %e, "a sign-in code was refused"),
    }
    enrolled.map(Json)
}

/// `POST /devices/leave`: the calling phone (or any device) signs itself
/// out; its token works no more.
pub async fn leave(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<()>, AppError> {
    let me = caller_of(&state, &headers, &[Role::Kiosk, Role::Reception, Role::Staff, Role::Worker, Role::KeyDesk, Role::Admin]).await?;
    let s = state.clone();
    tokio::task::spawn_blocking(move || s.registry().revoke(me.device, s.clock.now())).await??;
    let _ = state.revoked.send(me.device);
    tracing::info!(device = %me.device, "a device signed itself out");
    Ok(Json(()))
}

/// `POST /login-links`.
pub async fn login_link(State(state): State<AppState>, headers: HeaderMap, Body(request): Body<LoginLinkRequest>) -> Result<Json<LoginLink>, AppError> {
    let me = caller_of(&state, &headers, &[Role::Admin, Role::Staff, Role::Worker]).await?;
    let person = match (me.role, request.person, me.person) {
        (Role::Admin, Some(p), _) => p,
        (Role::Admin, None, _) => return Err(AppError::LinkNeedsPerson),
        (_, Some(p), Some(own)) if p != own => return Err(AppError::Forbidden(me.role)),
        (_, _, Some(own)) => own,
        (_, _, None) => return Err(AppError::LinkNeedsPerson),
    };
    let minutes = request.minutes.unwrap_or(60).clamp(1, MAX_LINK_MINUTES);
    let s = state.clone();
    let (code, expires_at) = tokio::task::spawn_blocking(move || -> Result<(String, Timestamp), AppError> {
        let found = s.hub(me.site)?.store().person(person)?;
        let role = found.as_ref().and_then(lodge_core::person::phone_role).ok_or(AppError::UnknownPerson { person })?;
        let now = s.clock.now();
        let expires_at = Timestamp::from_millis(now.millis() + i64::from(minutes) * 60_000);
        let code = s.registry().create_login_link(me.site, role, person, expires_at)?;
        Ok((code, expires_at))
    })
    .await??;
    let link = format!("lodge://join?code={}", urlencoding(&code));
    Ok(Json(LoginLink { code, link, expires_at }))
}

/// `GET /admin/join-code`.
pub async fn join_code(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<JoinCode>, AppError> {
    let me = caller(&state, &headers).await?;
    let code = tokio::task::spawn_blocking(move || state.registry().join_code(me.site)).await??;
    Ok(Json(JoinCode { code }))
}

/// Letters, digits and `-` pass; the rest is %-escaped.
fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
