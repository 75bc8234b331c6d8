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
