//! A site's Slack incoming webhooks, kept in the server's store of the
//! site and nowhere else: a hook's URL is its secret.

use rusqlite::{OptionalExtension, params};

use crate::store::{Error, Store};

/// A Slack incoming webhook of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackHook {
    /// Its number.
    pub id: i64,
    /// Its URL (the secret).
    pub url: String,
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
    /// Add a hook (the same URL twice is one hook); returns its number.
    pub fn add_slack_hook(&mut self, url: &str) -> Result<i64, Error> {
        let now = self.now();
        self.conn().prepare_cached("INSERT INTO slack_hooks (url, added_at) VALUES (?1, ?2) ON CONFLICT (url) DO NOTHING")?.execute(params![url, now])?;
        Ok(self.conn().prepare_cached("SELECT hook_id FROM slack_hooks WHERE url = ?1")?.query_row([url], |r| r.get(0))?)
    }

    /// The site's hooks.
    pub fn slack_hooks(&self) -> Result<Vec<SlackHook>, Error> {
        let mut stmt = self.conn().prepare_cached("SELECT hook_id, url FROM slack_hooks ORDER BY hook_id")?;
        let rows = stmt.query_map([], |r| Ok(SlackHook { id: r.get(0)?, url: r.get(1)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Remove a hook; its unsent messages are cancelled when their turn
    /// comes. Whether it was there.
    pub fn remove_slack_hook(&mut self, id: i64) -> Result<bool, Error> {
        Ok(self.conn().prepare_cached("DELETE FROM slack_hooks WHERE hook_id = ?1")?.execute([id])? > 0)
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
        let hook = SlackHook { id: 1, url: "https://hooks.slack.com/services/T000/B000/abcdefghWXYZ".into() };
        assert_eq!(hook.shown(), "hooks.slack.com/…WXYZ");
        assert!(!hook.shown().contains("abcdefgh"));
    }
}
