//! "Send a test" for an admin device: one message through one of the
//! site's channels (its mail relay, the server's SMS account, each of its
//! Slack webhooks), tried at once and not queued, with what became of it.
//! The secrets stay on the server: the device names only the channel and,
//! for mail and SMS, where the test goes.

use std::sync::Arc;

use lodge_core::SiteId;
use lodge_core::sync::api::{ChannelTest, ChannelTried};

use crate::AppState;
use crate::error::AppError;
use crate::outreach::Channels;

/// A channel that is not set up for a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotSetUp {
    /// No relay, of the site or of the server.
    #[error("No mail relay is set up for this site. Set the site's own under Channels, or ask the server's operator for one (lodge-sync serve --smtp-url).")]
    Mail,
    /// No SMS account on the server.
    #[error("No SMS account is set up on this server. Ask the server's operator to set one (lodge-sync serve --sms-account).")]
    Sms,
    /// No webhook of the site.
    #[error("This site has no Slack webhook. Add one under Channels.")]
    Slack,
}

/// Try `test` for `site`.
pub async fn try_channel(state: &AppState, site: SiteId, test: ChannelTest) -> Result<Vec<ChannelTried>, AppError> {
    // None when the server sends no messages at all (a router served
    // without `serve`): every channel is then not set up.
    let channels: Option<Arc<Channels>> = state.channels.clone();
    let s = state.clone();
    // The site's name (its store's), its own relay and its webhooks (the
    // registry's).
    let (name, relay, hooks) = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        let hub = s.hub(site)?;
        let name = hub.store().site_settings()?.map_or_else(|| site.to_string(), |settings| settings.name);
        let registry = s.registry();
        Ok((name, registry.mail_relay(site)?, registry.slack_hooks(site)?))
    })
    .await??;
    let tried = |to: String, result: Result<(), String>| match result {
        Ok(()) => ChannelTried::Sent { to },
        Err(reason) => ChannelTried::Failed { to, reason },
    };
    Ok(match test {
        ChannelTest::Mail { to } => {
            let mailer = channels.and_then(|c| c.mailer_for(site, relay)).ok_or(NotSetUp::Mail)?;
            let result = mailer.send_test(&to, &name).await;
            vec![tried(to, result)]
        }
        ChannelTest::Sms { to } => {
            let sms = channels.and_then(|c| c.sms.clone()).ok_or(NotSetUp::Sms)?;
            let result = sms.send_test(&to, &name).await;
            vec![tried(to, result)]
        }
        ChannelTest::Slack => {
            if channels.is_none() || hooks.is_empty() {
                return Err(NotSetUp::Slack.into());
            }
            let mut all = Vec::with_capacity(hooks.len());
            for hook in hooks {
                // Named by its number: the URL is a secret.
                let result = crate::outreach::test_slack(&hook.url, &name).await;
                all.push(tried(format!("Slack webhook {}", hook.id), result));
            }
            all
        }
    })
}
