//! A roll call started from a fire marshal's phone. The phone holds no one
//! else's presence or visits, so it cannot list who is in; the server can.
//! It starts the roll call in the marshal's name (the core checks that they
//! are a marshal) with the emergency, if asked, and sends both to every
//! device that takes part, the phone among them.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;

use lodge_core::roll_call::StartRollCall;
use lodge_core::{DocId, Role, RollCallId};

use crate::admin::{actor_of, caller_of};
use crate::{AppError, AppState};
use crate::body::Body;

/// `POST /roll-calls`.
pub async fn start(State(state): State<AppState>, headers: HeaderMap, Body(start): Body<StartRollCall>) -> Result<Json<RollCallId>, AppError> {
    let me = caller_of(&state, &headers, &[Role::Staff, Role::Worker]).await?;
    let by = me.device;
    let id = tokio::task::spawn_blocking(move || {
        let hub = state.hub(me.site)?;
        let (id, docs) = {
            let mut store = hub.store();
            let actor = actor_of(&store, &me)?;
            let (id, emergency) = store.start_roll_call_sending(&actor, start)?;
            // The roll call, and the emergency it sent, if any.
            let mut docs = vec![(DocId::roll_call(id), false)];
            docs.extend(emergency.map(|a| (DocId::announcement(a), false)));
            (id, docs)
        };
        crate::publish::publish(&state, &hub, None, docs, false);
        Ok::<_, AppError>(id)
    })
    .await??;
    tracing::info!(roll_call = %id, %by, "roll call started from a marshal's phone");
    Ok(Json(id))
}
