//! Workers who are not yet people of the site ask to join: the site's join
//! code, their name and their work contact. Where the admin allowed their
//! e-mail's domain, they are made a worker at once and sent a code;
//! otherwise the request waits in the admin's list, and approving it makes
//! the person and sends the code. The answer is the same whatever happens.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use lodge_core::person::{PersonForm, SignInContact};
use lodge_core::sync::api::{JoinRequest, JoinRequestShown, SignInCodeAsked};
use lodge_core::{Actor, DocId, Role};

use crate::admin::{actor_of, caller};
use crate::joining::{code_for, queue_code};
use crate::registry::{AuditRow, CODE_MINUTES};
use crate::{AppError, AppState, SiteHub};
use crate::body::Body;

/// The longest name a request may give.
const MAX_NAME_CHARS: usize = 200;

/// Make the person a worker with this contact, as `actor`, and tell the
/// site's devices (from blocking code only).
fn make_worker(state: &AppState, hub: &SiteHub, actor: &Actor, name: &str, contact: &SignInContact) -> Result<(), AppError> {
    let (email, phone) = match contact {
        SignInContact::Email(e) => (Some(e.as_str().to_owned()), None),
        SignInContact::Phone(p) => (None, Some(p.clone())),
    };
    let form = PersonForm { name: name.to_owned(), email, phone, roles: vec![Role::Worker], ..Default::default() };
    let person = hub.store().create_person(actor, form)?;
    crate::publish::publish(state, hub, None, vec![(DocId::person(person), false)], false);
    Ok(())
}

/// `POST /join/request`.
pub async fn request(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    Body(request): Body<JoinRequest>,
) -> Result<Json<SignInCodeAsked>, AppError> {
    let ip = address.ip();
    state.sign_in_requests.admit(ip, "request to join")?;
    let contact = SignInContact::parse(&request.contact)?;
    let name: String = request.name.trim().chars().take(MAX_NAME_CHARS).collect();
    if name.is_empty() {
        return Err(AppError::NameRequired);
    }
    let s = state.clone();
    let answer = tokio::task::spawn_blocking(move || -> Result<SignInCodeAsked, AppError> {
        let Some((site, site_name)) = s.registry().site_by_join_code(&request.site_code)? else {
            return Err(AppError::UnknownJoinCode);
        };
        let hub = s.hub(site)?;
        let known = hub.store().person_by_contact(&contact)?.is_some();
        let allowed = match &contact {
            SignInContact::Email(e) => {
                let domain = e.as_str().rsplit('@').next().unwrap_or_default().to_owned();
                s.registry().join_domains(site)?.contains(&domain)
            }
            SignInContact::Phone(_) => false,
        };
        let address = ip.to_string();
        let outcome = if known || allowed {
            if !known {
                make_worker(&s, &hub, &Actor::site_founder("lodge-sync (company domain)"), &name, &contact)?;
            }
            let asked = code_for(&s, site, &hub, &contact, &address, "join-request-code")?;
            queue_code(site, &hub, &contact, &asked);
            if known { "code-sent" } else { "approved-by-domain" }
        } else {
            s.registry().request_to_join(site, &name, contact.as_str(), &address, s.clock.now())?;
            "waiting"
        };
        let row = AuditRow { site: Some(site), address, action: "join-request".into(), outcome: outcome.into(), detail: contact.masked(), ..Default::default() };
        s.registry().audit(s.clock.now(), &row)?;
        Ok(SignInCodeAsked { site_name, minutes: CODE_MINUTES as u32 })
    })
    .await??;
    Ok(Json(answer))
}

/// `GET /admin/join-requests`.
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<JoinRequestShown>>, AppError> {
    let me = caller(&state, &headers).await?;
    Ok(Json(tokio::task::spawn_blocking(move || state.registry().join_requests(me.site)).await??))
}

/// `POST /admin/join-requests/{request}/approve`: the person is made a
/// worker and sent their code.
pub async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<JoinRequestShown>>, AppError> {
    let me = caller(&state, &headers).await?;
    let waiting = tokio::task::spawn_blocking(move || -> Result<Vec<JoinRequestShown>, AppError> {
        let request = state.registry().decide_join_request(me.site, id, true, state.clock.now())?;
        let contact = SignInContact::parse(&request.contact)?;
        let hub = state.hub(me.site)?;
        if hub.store().person_by_contact(&contact)?.is_none() {
            let actor = actor_of(&hub.store(), &me)?;
            make_worker(&state, &hub, &actor, &request.name, &contact)?;
        }
        let asked = code_for(&state, me.site, &hub, &contact, &address.ip().to_string(), "join-request-approved")?;
        queue_code(me.site, &hub, &contact, &asked);
        Ok(state.registry().join_requests(me.site)?)
    })
    .await??;
    Ok(Json(waiting))
}

/// `POST /admin/join-requests/{request}/refuse`.
pub async fn refuse(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Result<Json<Vec<JoinRequestShown>>, AppError> {
    let me = caller(&state, &headers).await?;
    let waiting = tokio::task::spawn_blocking(move || -> Result<Vec<JoinRequestShown>, AppError> {
        state.registry().decide_join_request(me.site, id, false, state.clock.now())?;
        Ok(state.registry().join_requests(me.site)?)
    })
    .await??;
    Ok(Json(waiting))
}

/// `GET /admin/join-domains`.
pub async fn domains(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<String>>, AppError> {
    let me = caller(&state, &headers).await?;
    Ok(Json(tokio::task::spawn_blocking(move || state.registry().join_domains(me.site)).await??))
}

/// `PUT /admin/join-domains`.
pub async fn set_domains(State(state): State<AppState>, headers: HeaderMap, Body(domains): Body<Vec<String>>) -> Result<Json<Vec<String>>, AppError> {
    let me = caller(&state, &headers).await?;
    Ok(Json(tokio::task::spawn_blocking(move || state.registry().set_join_domains(me.site, &domains)).await??))
}
