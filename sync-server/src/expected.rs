//! Expected guests over HTTP, for the devices that hold no visits: a staff
//! phone expects its person's guest (the server writes the visit, and its
//! store queues the invitation e-mail in the same transaction); a kiosk
//! learns the one guest an invitation code names, today only, and checks
//! them in once they have read the form and agreed. Wrong codes cost the
//! caller's address a token of its own bucket, as enrolment codes do.

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::Json;

use lodge_core::sync::api::{InvitationQuery, InvitedArrival};
use lodge_core::visit::{ExpectedGuest, Invitation, InvitedGuest};
use lodge_core::{Actor, DocId, Role, VisitId};

use crate::admin::{actor_of, caller_of};
use crate::{AppError, AppState};
use crate::body::Body;

/// `POST /expected`.
pub async fn expect(State(state): State<AppState>, headers: HeaderMap, Body(guest): Body<ExpectedGuest>) -> Result<Json<Invitation>, AppError> {
    let me = caller_of(&state, &headers, &[Role::Staff, Role::Reception, Role::Admin]).await?;
    let by = me.device;
    let invitation = tokio::task::spawn_blocking(move || {
        let hub = state.hub(me.site)?;
        let invitation = {
            let mut store = hub.store();
            let actor = actor_of(&store, &me)?;
            store.expect_guest(&actor, guest)?
        };
        crate::publish::publish(&state, &hub, None, vec![(DocId::visit(invitation.visit), false)], false);
        Ok::<_, AppError>(invitation)
    })
    .await??;
    tracing::info!(visit = %invitation.visit, %by, "guest expected");
    Ok(Json(invitation))
}

/// Spend one of the address's tries at a code, or refuse for a while.
fn try_code(state: &AppState, address: std::net::IpAddr) -> Result<(), AppError> {
    state.invitations.admit(address, "invitation code")
}

/// `POST /kiosk/invitation`.
pub async fn invitation(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Body(query): Body<InvitationQuery>,
) -> Result<Json<InvitedGuest>, AppError> {
    let me = caller_of(&state, &headers, &[Role::Kiosk]).await?;
    try_code(&state, address.ip())?;
    let s = state.clone();
    let found = tokio::task::spawn_blocking(move || Ok::<_, AppError>(s.hub(me.site)?.store().invited_guest(&query.code))).await??;
    match found {
        Ok(guest) => {
            state.invitations.succeeded(address.ip());
            Ok(Json(guest))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /kiosk/arrival`.
pub async fn arrival(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Body(arrival): Body<InvitedArrival>,
) -> Result<Json<VisitId>, AppError> {
    let me = caller_of(&state, &headers, &[Role::Kiosk]).await?;
    try_code(&state, address.ip())?;
    let s = state.clone();
    let visit = tokio::task::spawn_blocking(move || {
        let hub = s.hub(me.site)?;
        let visit = hub.store().arrive_with_invitation(&Actor::kiosk(me.device), &arrival.code, arrival.form)?;
        crate::publish::publish(&s, &hub, None, vec![(DocId::visit(visit), false)], false);
        Ok::<_, AppError>(visit)
    })
    .await??;
    state.invitations.succeeded(address.ip());
    tracing::info!(%visit, kiosk = %me.device, "invited guest checked in");
    Ok(Json(visit))
}
