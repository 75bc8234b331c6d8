//! Operators' HTTP API, above sites (an operator's token as `Authorization:
//! Bearer …`): the sites with their health, new sites, invite codes, and
//! for root the operators and the whole audit trail. Support never reads a
//! document: every document route answers an operator's token with 403.
//! Also redeeming an invite on a device, which creates the site on the
//! server and makes the device its first admin.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use lodge_core::sync::api::{
    AuditEntry, AuditQuery, Enrolled, Invite, InviteRedeem, InviteRequest, NewOperator, NewOperatorToken, OperatorKind, OperatorShown, SiteHealth,
};
use lodge_core::{Clock, DeviceId, NewSite, Timestamp};

use crate::admin::bearer;
use crate::audit::keep;
use crate::registry::{AuditRow, Operator};
use crate::{AppError, AppState};
use crate::body::Body;

/// The longest an invite may live: 90 days.
const MAX_INVITE_DAYS: u32 = 90;

/// The operator behind the request's token, of one of `kinds`.
async fn operator(state: &AppState, headers: &HeaderMap, kinds: &'static [OperatorKind]) -> Result<Operator, AppError> {
    let token = bearer(headers).ok_or(AppError::Unauthorized)?;
    let s = state.clone();
    let found = tokio::task::spawn_blocking(move || s.registry().operator(&token)).await??;
    match found {
        Some(op) if kinds.contains(&op.kind) => Ok(op),
        Some(_) => Err(AppError::NotRoot),
        None => Err(AppError::Unauthorized),
    }
}

const ANY: &[OperatorKind] = &[OperatorKind::Root, OperatorKind::Support];

/// `GET /operator/sites`: every site's counts, never a document.
pub async fn sites(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<SiteHealth>>, AppError> {
    operator(&state, &headers, ANY).await?;
    let health = tokio::task::spawn_blocking(move || -> Result<Vec<SiteHealth>, AppError> {
        let registry = state.registry();
        let devices = registry.devices()?;
        let mut out = Vec::new();
        for (site, name) in registry.sites()? {
            let active: Vec<_> = devices.iter().filter(|d| d.site == site && d.revoked_at.is_none()).collect();
            let connected: std::collections::HashSet<DeviceId> =
                state.open_hub(site).map(|h| h.connected()).unwrap_or_default();
            let last_contact = registry.contacts(site)?.values().map(|c| c.at).max();
            let failed_jobs = state.job_counts(site)?.into_iter().filter(|(s, _)| s == "failed").map(|(_, n)| n).sum::<u64>();
            out.push(SiteHealth {
                site,
                name,
                devices: active.len() as u64,
                connected: active.iter().filter(|d| connected.contains(&d.device)).count() as u64,
                last_contact,
                failed_jobs,
            });
        }
        Ok(out)
    })
    .await??;
    Ok(Json(health))
}

/// `POST /operator/sites`: a new, empty site (its admin then joins with
/// an invite, or a code from `lodge-sync enrol`).
pub async fn create_site(State(state): State<AppState>, headers: HeaderMap, Body(new): Body<NewSite>) -> Result<Json<SiteHealth>, AppError> {
    operator(&state, &headers, ANY).await?;
    let health = tokio::task::spawn_blocking(move || -> Result<SiteHealth, AppError> {
        let name = new.name.clone();
        let site = state.create_site(Some(new))?;
        Ok(SiteHealth { site, name, devices: 0, connected: 0, last_contact: None, failed_jobs: 0 })
    })
    .await??;
    Ok(Json(health))
}

/// `POST /operator/invites`.
pub async fn create_invite(State(state): State<AppState>, headers: HeaderMap, Body(request): Body<InviteRequest>) -> Result<Json<Invite>, AppError> {
    let op = operator(&state, &headers, ANY).await?;
    let days = request.days.unwrap_or(14).clamp(1, MAX_INVITE_DAYS);
    let invite = tokio::task::spawn_blocking(move || -> Result<Invite, AppError> {
        let now = state.clock.now();
        let expires_at = Timestamp::from_millis(now.millis() + i64::from(days) * 86_400_000);
        let code = state.registry().create_invite(&request.company, &op, now, expires_at)?;
        Ok(Invite { code, company: request.company.trim().to_owned(), expires_at })
    })
    .await??;
    Ok(Json(invite))
}

/// `GET /operator/operators` (root).
pub async fn operators(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<OperatorShown>>, AppError> {
    operator(&state, &headers, &[OperatorKind::Root]).await?;
    Ok(Json(tokio::task::spawn_blocking(move || state.registry().operators()).await??))
}

/// `POST /operator/operators` (root).
pub async fn add_operator(State(state): State<AppState>, headers: HeaderMap, Body(new): Body<NewOperator>) -> Result<Json<NewOperatorToken>, AppError> {
    operator(&state, &headers, &[OperatorKind::Root]).await?;
    let made = tokio::task::spawn_blocking(move || state.registry().add_operator(&new.name, new.kind, state.clock.now())).await??;
    let (op, token) = made;
    let now = lodge_core::SystemClock.now();
    Ok(Json(NewOperatorToken { operator: OperatorShown { id: op.id, name: op.name, kind: op.kind, created_at: now }, token }))
}

/// `GET /operator/audit` (root): every row, the server's own and every site's.
pub async fn audit_rows(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<AuditQuery>) -> Result<Json<Vec<AuditEntry>>, AppError> {
    operator(&state, &headers, &[OperatorKind::Root]).await?;
    Ok(Json(tokio::task::spawn_blocking(move || state.registry().audit_rows(None, &query)).await??))
}

/// `POST /invites/redeem`: the device started its site; the server takes
/// it on, and the device is its first admin.
pub async fn redeem_invite(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    Body(request): Body<InviteRedeem>,
) -> Result<Json<Enrolled>, AppError> {
    let ip = address.ip();
    state.throttle.admit(ip, "invite")?;
    let s = state.clone();
    let site = request.site;
    let redeemed = tokio::task::spawn_blocking(move || -> Result<(Enrolled, String), AppError> {
        let now = s.clock.now();
        let (enrolled, company) = s.registry().redeem_invite(&request.code, request.site, &request.site_name, &request.actor, &request.name, now)?;
        // The server's copy of the site starts empty and fills from the
        // device, as `lodge-sync site adopt` does.
        s.hub(request.site)?.store().join_site(request.site)?;
        Ok((Enrolled { device: enrolled.device.public(), token: enrolled.token }, company))
    })
    .await?;
    let row = AuditRow {
        site: Some(site),
        device: redeemed.as_ref().ok().map(|(e, _)| e.device.device),
        address: ip.to_string(),
        action: "invite-redeemed".into(),
        outcome: match &redeemed {
            Ok(_) => "ok".into(),
            Err(AppError::Registry(e)) => e.outcome().into(),
            Err(_) => "internal".into(),
        },
        detail: redeemed.as_ref().map(|(_, company)| company.clone()).unwrap_or_default(),
        ..Default::default()
    };
    keep(&state, row).await;
    let (enrolled, company) = redeemed?;
    state.throttle.succeeded(ip);
    tracing::info!(%ip, site = %site, %company, "an invite created a site");
    Ok(Json(enrolled))
}
