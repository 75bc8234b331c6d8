//! A site's channels: its Slack incoming webhooks and its own mail relay.
//! Kept here, where every instance of the server reads the same, and never
//! in a document (the URLs are the secrets). Each change counts up the
//! site's `channels_version` (an instance whose copy is older copies them
//! again: `crate::site_channels`) and, on PostgreSQL, tells the instances
//! at its commit (`NOTIFY lodge_channels`).

use lodge_core::notice::{MailRelay, SlackHook};
use lodge_core::{SiteId, Timestamp};
use rusqlite::params;

use super::database::Transaction;
use super::{Registry, RegistryError};

impl Registry {
    /// The site's hooks, by number.
    pub fn slack_hooks(&self, site: SiteId) -> Result<Vec<SlackHook>, RegistryError> {
        self.db.query(
            "SELECT hook_id, url, added_at FROM slack_hooks WHERE site_id = ?1 ORDER BY hook_id",
            params![site],
            |r| {
                Ok(SlackHook {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    added_at: r.get(2)?,
                })
            },
        )
    }

    /// Add a hook (the same URL twice is one hook); its number, never one
    /// the site gave before.
    pub fn add_slack_hook(
        &self,
        site: SiteId,
        url: &str,
        now: Timestamp,
    ) -> Result<i64, RegistryError> {
        let tx = self.db.transaction()?;
        if let Some(id) = tx.query_opt(
            "SELECT hook_id FROM slack_hooks WHERE site_id = ?1 AND url = ?2",
            params![site, url],
            |r| r.get(0),
        )? {
            return Ok(id);
        }
        let id: i64 = tx
            .query_opt("UPDATE sites SET last_hook_id = last_hook_id + 1 WHERE site_id = ?1 RETURNING last_hook_id", params![site], |r| r.get(0))?
            .ok_or(RegistryError::UnknownSite(site))?;
        tx.execute(
            "INSERT INTO slack_hooks (site_id, hook_id, url, added_at) VALUES (?1, ?2, ?3, ?4)",
            params![site, id, url, now],
        )?;
        changed(&tx, site)?;
        tx.commit()?;
        Ok(id)
    }

    /// Remove a hook; whether the site had it.
    pub fn remove_slack_hook(&self, site: SiteId, id: i64) -> Result<bool, RegistryError> {
        let tx = self.db.transaction()?;
        let removed = tx.execute(
            "DELETE FROM slack_hooks WHERE site_id = ?1 AND hook_id = ?2",
            params![site, id],
        )? > 0;
        if removed {
            changed(&tx, site)?;
        }
        tx.commit()?;
        Ok(removed)
    }

    /// The site's own relay, if it has one.
    pub fn mail_relay(&self, site: SiteId) -> Result<Option<MailRelay>, RegistryError> {
        self.db.query_opt(
            "SELECT smtp_url, mail_from FROM mail_relays WHERE site_id = ?1",
            params![site],
            |r| {
                Ok(MailRelay {
                    smtp_url: r.get(0)?,
                    mail_from: r.get(1)?,
                })
            },
        )
    }

    /// Set the site's own relay (the caller checked that it is usable).
    pub fn set_mail_relay(
        &self,
        site: SiteId,
        relay: &MailRelay,
        now: Timestamp,
    ) -> Result<(), RegistryError> {
        let tx = self.db.transaction()?;
        tx.execute(
            "INSERT INTO mail_relays (site_id, smtp_url, mail_from, set_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (site_id) DO UPDATE SET smtp_url = excluded.smtp_url, mail_from = excluded.mail_from, set_at = excluded.set_at",
            params![site, relay.smtp_url, relay.mail_from, now],
        )?;
        changed(&tx, site)?;
        tx.commit()
    }

    /// Back to the server's relay; whether the site had its own.
    pub fn clear_mail_relay(&self, site: SiteId) -> Result<bool, RegistryError> {
        let tx = self.db.transaction()?;
        let cleared = tx.execute("DELETE FROM mail_relays WHERE site_id = ?1", params![site])? > 0;
        if cleared {
            changed(&tx, site)?;
        }
        tx.commit()?;
        Ok(cleared)
    }

    /// How many times each site's channels changed.
    pub fn channel_versions(&self) -> Result<Vec<(SiteId, i64)>, RegistryError> {
        self.db.query(
            "SELECT site_id, channels_version FROM sites",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// How many times the site's channels changed.
    pub fn channels_version(&self, site: SiteId) -> Result<i64, RegistryError> {
        self.db
            .query_opt(
                "SELECT channels_version FROM sites WHERE site_id = ?1",
                params![site],
                |r| r.get(0),
            )?
            .ok_or(RegistryError::UnknownSite(site))
    }

    /// Whether the channels the site's stores held were brought here (see
    /// [`Registry::bring_channels`]).
    pub fn channels_brought(&self, site: SiteId) -> Result<bool, RegistryError> {
        self.db
            .query_opt(
                "SELECT channels_here FROM sites WHERE site_id = ?1",
                params![site],
                |r| r.get(0),
            )?
            .ok_or(RegistryError::UnknownSite(site))
    }

    /// Bring here, once per site, the channels a store held before the
    /// registry did: its hooks under their numbers, and its relay unless
    /// the site has one here already. Whether this call brought them (the
    /// first store to ask does; the others' are copies or older).
    pub fn bring_channels(
        &self,
        site: SiteId,
        hooks: &[SlackHook],
        relay: Option<&MailRelay>,
        now: Timestamp,
    ) -> Result<bool, RegistryError> {
        let tx = self.db.transaction()?;
        let here: bool = tx
            .query_opt(
                "SELECT channels_here FROM sites WHERE site_id = ?1",
                params![site],
                |r| r.get(0),
            )?
            .ok_or(RegistryError::UnknownSite(site))?;
        if here {
            return Ok(false);
        }
        for hook in hooks {
            tx.execute(
                "INSERT INTO slack_hooks (site_id, hook_id, url, added_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![site, hook.id, hook.url, hook.added_at],
            )?;
        }
        let last = hooks.iter().map(|h| h.id).max().unwrap_or(0);
        tx.execute(
            "UPDATE sites SET channels_here = ?2, last_hook_id = CASE WHEN last_hook_id > ?3 THEN last_hook_id ELSE ?3 END WHERE site_id = ?1",
            params![site, true, last],
        )?;
        if let Some(relay) = relay {
            tx.execute(
                "INSERT INTO mail_relays (site_id, smtp_url, mail_from, set_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (site_id) DO NOTHING",
                params![site, relay.smtp_url, relay.mail_from, now],
            )?;
        }
        changed(&tx, site)?;
        tx.commit()?;
        Ok(true)
    }
}

/// Count the change, and tell the other instances at the commit.
fn changed(tx: &Transaction<'_>, site: SiteId) -> Result<(), RegistryError> {
    tx.execute(
        "UPDATE sites SET channels_version = channels_version + 1 WHERE site_id = ?1",
        params![site],
    )?;
    if tx.is_postgres() {
        tx.query_one(
            "SELECT pg_notify('lodge_channels', ?1)",
            params![site.to_string()],
            |_| Ok(()),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_are_numbered_by_site_never_twice_and_every_change_counts() {
        let (_dir, reg, site) = crate::registry::registry_with_site();
        let at = crate::registry::test_day;
        let v0 = reg.channels_version(site).unwrap();
        let a = reg
            .add_slack_hook(site, "https://hooks.slack.com/services/A", at(0))
            .unwrap();
        assert_eq!(
            reg.add_slack_hook(site, "https://hooks.slack.com/services/A", at(1))
                .unwrap(),
            a,
            "the same URL is one hook"
        );
        let b = reg
            .add_slack_hook(site, "https://hooks.slack.com/services/B", at(2))
            .unwrap();
        assert!(reg.remove_slack_hook(site, b).unwrap());
        assert!(!reg.remove_slack_hook(site, b).unwrap(), "gone already");
        let c = reg
            .add_slack_hook(site, "https://hooks.slack.com/services/C", at(3))
            .unwrap();
        assert!(
            a < b && b < c,
            "a removed hook's number is not given again: {a} {b} {c}"
        );
        let hooks = reg.slack_hooks(site).unwrap();
        assert_eq!(
            hooks
                .iter()
                .map(|h| (h.id, h.url.as_str(), h.added_at))
                .collect::<Vec<_>>(),
            vec![
                (a, "https://hooks.slack.com/services/A", at(0)),
                (c, "https://hooks.slack.com/services/C", at(3))
            ]
        );

        let relay = MailRelay {
            smtp_url: "smtp://lodge:pw@mail.example.org:587".into(),
            mail_from: "Lodge <lodge@example.org>".into(),
        };
        assert_eq!(reg.mail_relay(site).unwrap(), None);
        reg.set_mail_relay(site, &relay, at(4)).unwrap();
        assert_eq!(reg.mail_relay(site).unwrap(), Some(relay.clone()));
        assert!(reg.clear_mail_relay(site).unwrap());
        assert!(!reg.clear_mail_relay(site).unwrap());
        // Four hook changes (adding A again changed nothing, nor did
        // removing B again), a relay set and cleared.
        assert_eq!(reg.channels_version(site).unwrap(), v0 + 6);
        assert!(reg.channel_versions().unwrap().contains(&(site, v0 + 6)));
        assert!(matches!(
            reg.add_slack_hook(SiteId::new(), "https://x.example/h", at(5)),
            Err(RegistryError::UnknownSite(_))
        ));
    }

    #[test]
    fn a_stores_channels_are_brought_once_under_their_numbers() {
        let (_dir, reg, site) = crate::registry::registry_with_site();
        let at = crate::registry::test_day;
        let old = [SlackHook {
            id: 4,
            url: "https://hooks.slack.com/services/OLD".into(),
            added_at: at(0),
        }];
        let relay = MailRelay {
            smtp_url: "smtp://mail.example.org".into(),
            mail_from: "lodge@example.org".into(),
        };
        assert!(reg.bring_channels(site, &old, Some(&relay), at(1)).unwrap());
        // Another store (another instance's copy) comes too late.
        let other = [SlackHook {
            id: 1,
            url: "https://hooks.slack.com/services/OTHER".into(),
            added_at: at(0),
        }];
        assert!(!reg.bring_channels(site, &other, None, at(2)).unwrap());
        assert_eq!(reg.slack_hooks(site).unwrap(), old);
        assert_eq!(reg.mail_relay(site).unwrap(), Some(relay));
        assert_eq!(
            reg.add_slack_hook(site, "https://hooks.slack.com/services/NEW", at(3))
                .unwrap(),
            5,
            "numbered after the store's"
        );
    }
}
