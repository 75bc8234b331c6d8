//! The audit trail at the HTTP edge: every call to a route that needs a
//! token (admin, operator, a phone's or a kiosk's) is kept with who made
//! it, from which address, and how it ended. Enrolments and codes write
//! their own rows, with what only they know (see `joining`, `operators`).
//! Also the admin's read of their site's rows.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lodge_core::sync::api::{AuditEntry, AuditQuery};

use crate::admin::{bearer, caller};
use crate::registry::AuditRow;
use crate::{AppError, AppState};

/// Who a token belongs to, as a row names them.
#[derive(Debug, Clone, Default)]
struct Caller {
    site: Option<lodge_core::SiteId>,
    device: Option<lodge_core::DeviceId>,
    person: Option<lodge_core::PersonId>,
    operator: Option<String>,
}

/// Keep a row for the call, after it is answered. An operator's token on
/// any route but the operators' own is refused here, before the route
/// reads anything: operators never see a document.
pub async fn record(State(state): State<AppState>, ConnectInfo(address): ConnectInfo<SocketAddr>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let action = format!("{} {path}", request.method());
    let token = bearer(request.headers());
    let s = state.clone();
    let who = tokio::task::spawn_blocking(move || -> Result<Caller, AppError> {
        let Some(token) = token else { return Ok(Caller::default()) };
        let registry = s.registry();
        if let Some(d) = registry.authenticate_at(&token, s.clock.now(), s.limits.token_idle)? {
            return Ok(Caller { site: Some(d.site), device: Some(d.device), person: d.person, ..Caller::default() });
        }
        Ok(Caller { operator: registry.operator(&token)?.map(|op| op.id), ..Caller::default() })
    })
    .await;
    let who = match who {
        Ok(Ok(who)) => who,
        Ok(Err(e)) => return e.into_response(),
        Err(e) => return AppError::from(e).into_response(),
    };
    let response = if who.operator.is_some() && !path.starts_with("/operator/") {
        AppError::OperatorNotDevice.into_response()
    } else {
        next.run(request).await
    };
    let status = response.status();
    let outcome = if status.is_success() { "ok".to_owned() } else { format!("refused {}", status.as_u16()) };
    let row = AuditRow {
        site: who.site,
        device: who.device,
        person: who.person,
        operator: who.operator,
        address: address.ip().to_string(),
        action,
        outcome,
        detail: String::new(),
    };
    keep(&state, row).await;
    response
}

/// Keep an audit row, logging (not failing) when it cannot be written.
pub(crate) async fn keep(state: &AppState, row: AuditRow) {
    let s = state.clone();
    let written = tokio::task::spawn_blocking(move || s.registry().audit(s.clock.now(), &row)).await;
    if let Ok(Err(e)) = written {
        tracing::error!(error = %e, "an audit row could not be written");
    }
}

/// `GET /admin/audit`: the caller's site's rows, newest first.
pub async fn site_rows(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<AuditQuery>) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let me = caller(&state, &headers).await?;
    Ok(Json(tokio::task::spawn_blocking(move || state.registry().audit_rows(Some(me.site), &query)).await??))
}
