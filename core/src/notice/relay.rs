//! A site's own mail relay, which its messages go through instead of the
//! server's: kept in the server's store of the site and nowhere else (the
//! URL may carry the relay's password).

use rusqlite::{OptionalExtension, params};

use crate::store::{Error, Store};

/// Where a site's mail leaves from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailRelay {
    /// `smtp://…` or `smtps://…`, as `lodge-sync serve --smtp-url` takes it.
    pub smtp_url: String,
    /// The address mail comes from.
    pub mail_from: String,
}

impl Store {
    /// Set the site's own relay (the caller checked that it is usable).
    pub fn set_mail_relay(&mut self, relay: &MailRelay) -> Result<(), Error> {
        let now = self.now();
        self.conn()
            .prepare_cached(
                "INSERT INTO mail_relay (only_one, smtp_url, mail_from, set_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (only_one) DO UPDATE SET smtp_url = ?1, mail_from = ?2, set_at = ?3",
            )?
            .execute(params![relay.smtp_url, relay.mail_from, now])?;
        Ok(())
    }

    /// The site's own relay, if it has one.
    pub fn mail_relay(&self) -> Result<Option<MailRelay>, Error> {
        Ok(self
            .conn()
            .prepare_cached("SELECT smtp_url, mail_from FROM mail_relay")?
            .query_row([], |r| Ok(MailRelay { smtp_url: r.get(0)?, mail_from: r.get(1)? }))
            .optional()?)
    }

    /// Go back to the server's relay. Whether the site had its own.
    pub fn clear_mail_relay(&mut self) -> Result<bool, Error> {
        Ok(self.conn().prepare_cached("DELETE FROM mail_relay")?.execute([])? > 0)
    }
}
