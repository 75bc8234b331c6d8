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
use axum::response::Response;
use lodge_core::sync::api::{AuditEntry, AuditQuery};

use crate::admin::{bearer, caller};
use crate::registry::AuditRow;
use crate::{AppError, AppState};

/// Keep a row for the call, after it is answered.
pub async fn record(State(state): State<AppState>, ConnectInfo(address): ConnectInfo<SocketAddr>, request: Request, next: Next) -> Response {
    let action = format!("{} {}", request.method(), request.uri().path());
    let token = bearer(request.headers());
    let response = next.run(request).await;
    let status = response.status();
    let outcome = if status.is_success() { "ok".to_owned() } else { format!("refused {}", status.as_u16()) };
    let s = state.clone();
    let written = tokio::task::spawn_blocking(move || -> Result<(), AppError> {
        let registry = s.registry();
        let now = s.clock.now();
        let mut row = AuditRow { address: address.ip().to_string(), action, outcome, ..Default::default() };
        if let Some(token) = token {
            if let Some(device) = registry.authenticate_at(&token, now, s.limits.token_idle)? {
                (row.site, row.device, row.person) = (Some(device.site), Some(device.device), device.person);
            } else if let Some(op) = registry.operator(&token)? {
                row.operator = Some(op.id);
            }
        }
        registry.audit(now, &row)?;
        Ok(())
    })
    .await;
    if let Ok(Err(e)) = written {
        tracing::error!(error = %e, "an audit row could not be written");
    }
    response
}

/// `GET /admin/audit`: the caller's site's rows, newest first.
pub async fn site_rows(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<AuditQuery>) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let me = caller(&state, &headers).await?;
    Ok(Json(tokio::task::spawn_blocking(move || state.registry().audit_rows(Some(me.site), &query)).await??))
}
