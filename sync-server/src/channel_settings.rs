//! A site's channels set by its admin from the app: its Slack webhooks and
//! its own mail relay, kept in the server's registry and never in a
//! document (the URLs are the secrets; see [`crate::site_channels`]).
//! What comes back shows them without their secrets. The rules are those
//! of `lodge-sync slack|mail`: a webhook is https (plain http only to this
//! machine), a relay is refused now if it could not send, not at its first
//! message.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;

use lodge_core::notice::{MailRelay, SlackHook, check_webhook_url};
use lodge_core::sync::api::{MailRelayShown, NewMailRelay, NewSlackHook, SlackHookShown};

use crate::AppState;
use crate::admin::caller;
use crate::error::AppError;
use crate::outreach::Mailer;
use crate::body::Body;

fn shown_hooks(hooks: Vec<SlackHook>) -> Vec<SlackHookShown> {
    hooks.iter().map(|h| SlackHookShown { number: h.id, shown: h.shown() }).collect()
}

fn shown_relay(relay: Option<MailRelay>) -> Option<MailRelayShown> {
    relay.map(|r| MailRelayShown { server: r.shown_url(), mail_from: r.mail_from })
}

/// `GET /admin/channels/slack`: the caller's site's webhooks.
pub async fn slack_hooks(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<SlackHookShown>>, AppError> {
    let me = caller(&state, &headers).await?;
    let hooks = tokio::task::spawn_blocking(move || {
        brought(&state, me.site)?;
        Ok::<_, AppError>(state.registry().slack_hooks(me.site)?)
    })
    .await??;
    Ok(Json(shown_hooks(hooks)))
}

/// Open the site here if it is not: a store from before the registry held
/// channels gives them to it then, before they are read or changed.
fn brought(state: &AppState, site: lodge_core::SiteId) -> Result<(), AppError> {
    state.hub(site).map(drop)
}

/// The site's hooks after a change, copied into its store here (the other
/// instances are told by the registry).
fn hooks_after_change(state: &AppState, site: lodge_core::SiteId) -> Result<Vec<SlackHook>, AppError> {
    crate::site_channels::copy_into_hub(state, &*state.hub(site)?)?;
    Ok(state.registry().slack_hooks(site)?)
}

/// `POST /admin/channels/slack`: add a webhook; the list after.
pub async fn add_slack_hook(State(state): State<AppState>, headers: HeaderMap, Body(new): Body<NewSlackHook>) -> Result<Json<Vec<SlackHookShown>>, AppError> {
    let me = caller(&state, &headers).await?;
    let url = new.url.trim().to_owned();
    check_webhook_url(&url)?;
    let hooks = tokio::task::spawn_blocking(move || {
        brought(&state, me.site)?;
        state.registry().add_slack_hook(me.site, &url, state.clock.now())?;
        hooks_after_change(&state, me.site)
    })
    .await??;
    tracing::info!(site = %me.site, by = %me.device, "a Slack webhook added by an admin device");
    Ok(Json(shown_hooks(hooks)))
}

/// `DELETE /admin/channels/slack/{hook}`: remove a webhook; the list left.
pub async fn remove_slack_hook(State(state): State<AppState>, headers: HeaderMap, Path(hook): Path<i64>) -> Result<Json<Vec<SlackHookShown>>, AppError> {
    let me = caller(&state, &headers).await?;
    let hooks = tokio::task::spawn_blocking(move || {
        brought(&state, me.site)?;
        if !state.registry().remove_slack_hook(me.site, hook)? {
            return Err(AppError::UnknownHook(hook));
        }
        hooks_after_change(&state, me.site)
    })
    .await??;
    tracing::info!(site = %me.site, by = %me.device, hook, "a Slack webhook removed by an admin device");
    Ok(Json(shown_hooks(hooks)))
}

/// `GET /admin/channels/mail`: the caller's site's own relay, if any.
pub async fn mail_relay(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Option<MailRelayShown>>, AppError> {
    let me = caller(&state, &headers).await?;
    let relay = tokio::task::spawn_blocking(move || {
        brought(&state, me.site)?;
        Ok::<_, AppError>(state.registry().mail_relay(me.site)?)
    })
    .await??;
    Ok(Json(shown_relay(relay)))
}

/// `PUT /admin/channels/mail`: the site's mail goes through this relay.
pub async fn set_mail_relay(State(state): State<AppState>, headers: HeaderMap, Body(new): Body<NewMailRelay>) -> Result<Json<Option<MailRelayShown>>, AppError> {
    let me = caller(&state, &headers).await?;
    let relay = MailRelay { smtp_url: new.smtp_url.trim().to_owned(), mail_from: new.mail_from.trim().to_owned() };
    relay.check_lengths()?;
    // Refused now, not at the first message; trusting what the server's
    // relays trust (`--smtp-ca`).
    match &state.channels {
        Some(channels) => channels.check_relay(&relay)?,
        None => drop(Mailer::new(&relay.smtp_url, &relay.mail_from, None)?),
    }
    let now = tokio::task::spawn_blocking(move || {
        brought(&state, me.site)?;
        let registry = state.registry();
        registry.set_mail_relay(me.site, &relay, state.clock.now())?;
        Ok::<_, AppError>(registry.mail_relay(me.site)?)
    })
    .await??;
    tracing::info!(site = %me.site, by = %me.device, "the site's mail relay set by an admin device");
    Ok(Json(shown_relay(now)))
}

/// `DELETE /admin/channels/mail`: back to the server's relay.
pub async fn clear_mail_relay(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Option<MailRelayShown>>, AppError> {
    let me = caller(&state, &headers).await?;
    let now = tokio::task::spawn_blocking(move || {
        brought(&state, me.site)?;
        let registry = state.registry();
        registry.clear_mail_relay(me.site)?;
        Ok::<_, AppError>(registry.mail_relay(me.site)?)
    })
    .await??;
    tracing::info!(site = %me.site, by = %me.device, "the site's mail relay cleared by an admin device");
    Ok(Json(shown_relay(now)))
}
