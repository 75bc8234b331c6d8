//! A site's own mail relay, which its messages go through instead of the
//! server's: kept in the server's registry and never in a document (the
//! URL may carry the relay's password). Stores made before the registry
//! held it may still have it: the server takes it from there once.

use rusqlite::OptionalExtension;

use crate::store::{Error, Store};

/// Where a site's mail leaves from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailRelay {
    /// `smtp://…` or `smtps://…`, as `lodge-sync serve --smtp-url` takes it.
    pub smtp_url: String,
    /// The address mail comes from.
    pub mail_from: String,
}

/// A relay setting longer than any relay's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The relay's address or sender is too long (at most {} characters each).", super::slack::MAX_CHANNEL_CHARS)]
pub struct RelayTooLong;

impl MailRelay {
    /// Bounded before it is parsed or stored.
    pub fn check_lengths(&self) -> Result<(), RelayTooLong> {
        let max = super::slack::MAX_CHANNEL_CHARS;
        if self.smtp_url.chars().count() > max || self.mail_from.chars().count() > max { Err(RelayTooLong) } else { Ok(()) }
    }

    /// Its URL with the password, if any, hidden: for a screen or a log.
    pub fn shown_url(&self) -> String {
        hide_password(&self.smtp_url)
    }
}

/// `smtp://user:…@host:587`: the part between `user:` and `@` replaced.
pub fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:…@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl Store {
    /// The site's own relay kept in this store (by a server before the
    /// registry held it), if any.
    pub fn mail_relay(&self) -> Result<Option<MailRelay>, Error> {
        Ok(self
            .conn()
            .prepare_cached("SELECT smtp_url, mail_from FROM mail_relay")?
            .query_row([], |r| Ok(MailRelay { smtp_url: r.get(0)?, mail_from: r.get(1)? }))
            .optional()?)
    }

    /// Forget the relay kept in this store (the registry has it now).
    /// Whether there was one.
    pub fn clear_mail_relay(&mut self) -> Result<bool, Error> {
        Ok(self.conn().prepare_cached("DELETE FROM mail_relay")?.execute([])? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relays_password_is_never_shown() {
        assert_eq!(hide_password("smtp://lodge:s3cret@mail.example.org:587?tls=required"), "smtp://lodge:…@mail.example.org:587?tls=required");
        assert_eq!(hide_password("smtps://mail.example.org:465"), "smtps://mail.example.org:465");
        assert_eq!(hide_password("smtp://user@mail.example.org"), "smtp://user@mail.example.org");
        assert_eq!(hide_password("not a url"), "not a url");
    }
}
