//! The site admin's HTTP API, for an admin device of that site (its device
//! token as `Authorization: Bearer …`): list the site's devices, revoke one
//! (it is disconnected at once and told to wipe), and make one-time
//! enrolment codes; run the site's retention sweep now and read its
//! erasure reports; send a test message through one of its channels;
//! and, for reception too, who an announcement reached by e-mail or text.
//! Everything outside the caller's own site is invisible.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use axum::extract::Query;
use lodge_core::notice::{Job, JobFilter, JobId};
use lodge_core::sync::api::{ChannelTest, ChannelTried, CodeRequest, EnrolmentCode, ErasureReport, JobsQuery, RunRequest, SiteDevice};
use lodge_core::{Clock, DeviceId, Role, SystemClock, Timestamp};

use crate::error::AppError;
use crate::registry::Device;
use crate::AppState;
use crate::body::Body;

/// The longest a code may live: a day.
const MAX_MINUTES: u32 = 24 * 60;


/// The admin device behind the request's token, or why there is none.
pub(crate) async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Device, AppError> {
    caller_of(state, headers, &[Role::Admin]).await
}

/// The request's `Authorization: Bearer …` token.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::to_owned)
}

/// The device behind the request's token if it has one of `roles`.
pub(crate) async fn caller_of(state: &AppState, headers: &HeaderMap, roles: &'static [Role]) -> Result<Device, AppError> {
    let token = bearer(headers).ok_or(AppError::Unauthorized)?;
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let registry = state.registry();
        let now = state.clock.now();
        match registry.authenticate_at(&token, now, state.limits.token_idle)? {
            Some(d) if d.revoked_at.is_none() => {
                // Used: the token lives on.
                registry.renew(d.device, now)?;
                if roles.contains(&d.role) { Ok(d) } else { Err(AppError::Forbidden(d.role)) }
            }
            Some(_) => Err(AppError::Unauthorized),
            // An operator sees sites' health, never their documents.
            None if registry.operator(&token)?.is_some() => Err(AppError::OperatorNotDevice),
            None => Err(AppError::Unauthorized),
        }
    })
    .await?
}

/// The device as the actor of a command the server runs for it: its
/// person, by name, where it has one.
pub(crate) fn actor_of(store: &lodge_core::Store, device: &crate::registry::Device) -> Result<lodge_core::Actor, AppError> {
    let person = device.person.map(|p| store.person(p)).transpose()?.flatten();
    let name = person.as_ref().map_or_else(|| device.name.clone(), |p| p.name.clone());
    Ok(lodge_core::Actor { person: device.person, device: Some(device.device), name, role: device.role })
}

/// `GET /admin/devices`: the caller's site's devices.
pub async fn devices(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<SiteDevice>>, AppError> {
    let me = caller(&state, &headers).await?;
    let listed = tokio::task::spawn_blocking(move || -> Result<Vec<SiteDevice>, AppError> {
        let registry = state.registry();
        let contacts = registry.contacts(me.site)?;
        let seq = registry.seq(me.site)?;
        let connected: std::collections::HashSet<DeviceId> = state.hub(me.site)?.connected();
        let devices = registry.devices()?.into_iter().filter(|d| d.site == me.site);
        Ok(devices
            .map(|d| {
                let contact = contacts.get(&d.device);
                let connected = connected.contains(&d.device);
                SiteDevice {
                    last_contact: contact.map(|c| c.at),
                    app_version: contact.and_then(|c| c.app_version.clone()),
                    changes_waiting: if connected { Some(0) } else { contact.map(|c| seq.saturating_sub(c.seen_seq)) },
                    connected,
                    ..d.public()
                }
            })
            .collect())
    })
    .await??;
    Ok(Json(listed))
}

/// `POST /admin/devices/{device}/revoke`.
pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, Path(device): Path<DeviceId>) -> Result<Json<SiteDevice>, AppError> {
    let me = caller(&state, &headers).await?;
    let s = state.clone();
    let revoked = tokio::task::spawn_blocking(move || -> Result<Device, AppError> {
        let registry = s.registry();
        // Another site's device is as unknown as a device that never was.
        let target = registry.devices()?.into_iter().find(|d| d.device == device && d.site == me.site);
        let target = target.ok_or(crate::registry::RegistryError::UnknownDevice(device))?;
        registry.revoke(device, SystemClock.now())?;
        Ok(Device { revoked_at: Some(SystemClock.now()), ..target })
    })
    .await??;
    // Connections of the device close at once.
    let _ = state.revoked.send(device);
    tracing::info!(%device, by = %me.device, "device revoked by an admin device");
    Ok(Json(revoked.public()))
}

/// `POST /admin/codes`: a one-time enrolment code for the caller's site.
pub async fn create_code(State(state): State<AppState>, headers: HeaderMap, Body(request): Body<CodeRequest>) -> Result<Json<EnrolmentCode>, AppError> {
    let me = caller(&state, &headers).await?;
    let minutes = request.minutes.unwrap_or(60).clamp(1, MAX_MINUTES);
    let expires_at = Timestamp::from_millis(SystemClock.now().millis() + i64::from(minutes) * 60_000);
    let code = tokio::task::spawn_blocking(move || -> Result<String, AppError> {
        // A phone's person must be one the site has.
        if let Some(person) = request.person
            && !state.person_exists(me.site, person)?
        {
            return Err(AppError::UnknownPerson { person });
        }
        Ok(state.registry().create_code(me.site, request.role, request.person, expires_at)?)
    })
    .await??;
    Ok(Json(EnrolmentCode { code, expires_at }))
}

/// `GET /admin/jobs`: the caller's site's jobs, newest first.
pub async fn jobs(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<JobsQuery>) -> Result<Json<Vec<Job>>, AppError> {
    let me = caller(&state, &headers).await?;
    let filter = query.state.map(JobFilter::State).unwrap_or_default();
    let jobs = tokio::task::spawn_blocking(move || state.hub(me.site)?.store().jobs(filter).map_err(AppError::from)).await??;
    Ok(Json(jobs))
}

/// `POST /admin/jobs/{job}/retry`: a failed job of the caller's site,
/// sent again at the next look.
pub async fn retry_job(State(state): State<AppState>, headers: HeaderMap, Path(job): Path<i64>) -> Result<Json<Job>, AppError> {
    let me = caller(&state, &headers).await?;
    let job = tokio::task::spawn_blocking(move || {
        let job = state.hub(me.site)?.store().retry_job(JobId(job))?;
        // Another instance's end of it does not stand for this try.
        state.registry().release_claim(me.site, &job.key)?;
        Ok::<_, AppError>(job)
    })
    .await??;
    tracing::info!(job = %job.id, by = %me.device, "job retried by an admin device");
    Ok(Json(job))
}

/// `POST /admin/jobs/run`: run a rule that runs by the clock now.
pub async fn run_rule(State(state): State<AppState>, headers: HeaderMap, Body(request): Body<RunRequest>) -> Result<Json<Job>, AppError> {
    let me = caller(&state, &headers).await?;
    let job = tokio::task::spawn_blocking(move || {
        let hub = state.hub(me.site)?;
        let mut store = hub.store();
        let as_of = request.now.unwrap_or_else(|| store.now());
        Ok::<_, AppError>(store.run_daily_job(request.rule, as_of)?)
    })
    .await??;
    tracing::info!(job = %job.id, rule = %job.rule, by = %me.device, "rule run by an admin device");
    Ok(Json(job))
}

/// `POST /admin/retention/run`: sweep the caller's site now (what the daily
/// job does), answered with the sweep's report.
pub async fn run_retention(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<ErasureReport>, AppError> {
    let me = caller(&state, &headers).await?;
    let report = crate::retention::sweep(&state, me.site, state.clock.now()).await?;
    tracing::info!(site = %me.site, by = %me.device, visits = report.visits, presence_months = report.presence_months, "retention run by an admin device");
    Ok(Json(report))
}

/// `GET /admin/retention/reports`: the caller's site's sweeps, newest first.
pub async fn retention_reports(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<ErasureReport>>, AppError> {
    let me = caller(&state, &headers).await?;
    let reports = tokio::task::spawn_blocking(move || crate::retention::reports(&state, me.site)).await??;
    Ok(Json(reports))
}

/// `GET /admin/presence[?format=csv]`: everyone in the caller's site's
/// building now (staff signed in, guests admitted), as JSON or CSV.
pub async fn presence(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<lodge_core::sync::api::PresenceQuery>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let me = caller_of(&state, &headers, &[Role::Admin, Role::Reception]).await?;
    let (list, zone) = tokio::task::spawn_blocking(move || {
        let hub = state.hub(me.site)?;
        let store = hub.store();
        let zone = store.site_settings()?.map_or_else(|| "UTC".to_owned(), |s| s.time_zone);
        Ok::<_, AppError>((store.evacuation_list()?, zone))
    })
    .await??;
    Ok(match query.format {
        lodge_core::sync::api::Format::Json => Json(list).into_response(),
        lodge_core::sync::api::Format::Csv => {
            // The zone was checked when it was set; a store from elsewhere
            // with one this server does not know still answers, in UTC.
            let text = list.csv(&zone).or_else(|_| list.csv("UTC")).unwrap_or_default();
            ([(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response()
        }
    })
}

/// `POST /admin/channels/test`: a test message through one of the caller's
/// site's channels, sent now; what became of it.
pub async fn test_channel(State(state): State<AppState>, headers: HeaderMap, Body(test): Body<ChannelTest>) -> Result<Json<Vec<ChannelTried>>, AppError> {
    let me = caller(&state, &headers).await?;
    let tried = crate::channel_test::try_channel(&state, me.site, test).await?;
    tracing::info!(site = %me.site, by = %me.device, ?tried, "channel tested by an admin device");
    Ok(Json(tried))
}

/// `GET /admin/announcements/{announcement}/deliveries`: who one of the caller's
/// site's announcements reached by e-mail or text (admin and reception
/// devices: those that send them).
pub async fn announcement_deliveries(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(announcement): Path<lodge_core::AnnouncementId>,
) -> Result<Json<Vec<lodge_core::notice::Delivery>>, AppError> {
    let me = caller_of(&state, &headers, &[Role::Admin, Role::Reception]).await?;
    let reach = tokio::task::spawn_blocking(move || Ok::<_, AppError>(state.hub(me.site)?.store().announcement_deliveries(announcement)?)).await??;
    reach.map(Json).ok_or(AppError::UnknownAnnouncement(announcement))
}
