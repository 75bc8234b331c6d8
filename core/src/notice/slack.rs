//! A site's Slack incoming webhooks: the server's registry holds them
//! (a hook's URL is its secret, never in a document), and each store of
//! the site on the server a copy, which its jobs read.

use rusqlite::{OptionalExtension, params};

use crate::store::{Error, Store};
use crate::time::Timestamp;

/// A Slack incoming webhook of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackHook {
    /// Its number.
    pub id: i64,
    /// Its URL (the secret).
    pub url: String,
    /// When it was added: what happened before is not posted to it.
    pub added_at: Timestamp,
}

/// The longest a channel's setting (a webhook URL, a relay URL, a sender)
/// may be: bounded before it is stored, whatever a device sends.
pub const MAX_CHANNEL_CHARS: usize = 2048;

/// A webhook URL that cannot be one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadWebhook {
    /// Longer than any webhook.
    #[error("This address is too long for a webhook (at most {MAX_CHANNEL_CHARS} characters).")]
    TooLong,
    /// Not a URL with a host.
    #[error("“{0}” is not a web address; paste the webhook's whole URL (https://hooks.slack.com/services/…).")]
    NotUrl(String),
    /// Plain http to another machine: the URL, which is the secret, would
    /// cross the network readable.
    #[error("A Slack webhook must be an https:// address (plain http only to this machine, for testing).")]
    NotHttps,
}

/// Whether `url` may be a site's webhook: https, or plain http to this
/// machine (a test's stand-in). The one rule, for the command line and the
/// admin's screen alike.
pub fn check_webhook_url(url: &str) -> Result<(), BadWebhook> {
    if url.chars().count() > MAX_CHANNEL_CHARS {
        return Err(BadWebhook::TooLong);
    }
    let not_url = || BadWebhook::NotUrl(url.to_owned());
    let (scheme, rest) = url.trim().split_once("://").ok_or_else(not_url)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // No user or password in it, and a host.
    let host = authority.rsplit_once(':').map_or(authority, |(host, _port)| host);
    if host.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
        return Err(not_url());
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost") => Ok(()),
        "http" => Err(BadWebhook::NotHttps),
        _ => Err(not_url()),
    }
}

impl SlackHook {
    /// Its host and the last four characters of its URL: enough to tell
    /// two apart on a screen, not enough to post to it.
    pub fn shown(&self) -> String {
        let rest = self.url.split_once("://").map_or(self.url.as_str(), |(_, rest)| rest);
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let tail: String = self.url.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        format!("{host}/…{tail}")
    }
}

impl Store {
    /// Make the store's copy of the site's hooks `hooks`, numbers and all:
    /// a hook not among them is gone (its unsent messages are cancelled
    /// when their turn comes). Whether anything changed.
    pub fn copy_slack_hooks(&mut self, hooks: &[SlackHook]) -> Result<bool, Error> {
        if self.slack_hooks()? == hooks {
            return Ok(false);
        }
        let tx = self.conn_mut().transaction()?;
        tx.execute("DELETE FROM slack_hooks", [])?;
        {
            let mut insert = tx.prepare_cached("INSERT INTO slack_hooks (hook_id, url, added_at) VALUES (?1, ?2, ?3)")?;
            for hook in hooks {
                insert.execute(params![hook.id, hook.url, hook.added_at])?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    /// The store's copy of the site's hooks, by number.
    pub fn slack_hooks(&self) -> Result<Vec<SlackHook>, Error> {
        let mut stmt = self.conn().prepare_cached("SELECT hook_id, url, added_at FROM slack_hooks ORDER BY hook_id")?;
        let rows = stmt.query_map([], |r| Ok(SlackHook { id: r.get(0)?, url: r.get(1)?, added_at: r.get(2)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(crate) fn slack_hook(&self, id: i64) -> Result<Option<String>, Error> {
        Ok(self.conn().prepare_cached("SELECT url FROM slack_hooks WHERE hook_id = ?1")?.query_row([id], |r| r.get(0)).optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_is_https_or_plain_http_to_this_machine_only() {
        assert_eq!(check_webhook_url("https://hooks.slack.com/services/T0/B0/xyz"), Ok(()));
        assert_eq!(check_webhook_url("http://127.0.0.1:8080/hook"), Ok(()));
        assert_eq!(check_webhook_url("http://localhost/hook"), Ok(()));
        assert_eq!(check_webhook_url("http://hooks.slack.com/services/T0"), Err(BadWebhook::NotHttps));
        assert_eq!(check_webhook_url(&format!("https://hooks.slack.com/{}", "x".repeat(MAX_CHANNEL_CHARS))), Err(BadWebhook::TooLong));
        assert_eq!(check_webhook_url("http://127.0.0.1.evil.example/hook"), Err(BadWebhook::NotHttps));
        for bad in ["hooks.slack.com/services", "https://", "https:///path", "ftp://x/y", "https://user:pw@hooks.slack.com/x", "https://a b/c"] {
            assert!(matches!(check_webhook_url(bad), Err(BadWebhook::NotUrl(_))), "{bad}");
        }
    }

    #[test]
    fn a_webhook_is_shown_without_its_secret() {
        let hook = SlackHook { id: 1, url: "https://hooks.slack.com/services/T000/B000/abcdefghWXYZ".into(), added_at: Timestamp::from_millis(0) };
        assert_eq!(hook.shown(), "hooks.slack.com/…WXYZ");
        assert!(!hook.shown().contains("abcdefgh"));
    }
}
