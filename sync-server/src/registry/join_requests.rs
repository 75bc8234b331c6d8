//! Workers asking to join a site they are not yet people of: their
//! requests, waiting for the admin, and the company e-mail domains whose
//! people are approved by the code they receive.

use lodge_core::sync::api::JoinRequestShown;
use lodge_core::{SiteId, Timestamp};
use rusqlite::params;

use super::{Registry, RegistryError, hash};

/// Requests one site may have waiting at once (so that strangers cannot
/// bury the admin's list).
pub const MAX_WAITING: i64 = 200;
/// Domains one site may allow.
pub const MAX_DOMAINS: usize = 20;

impl Registry {
    /// Keep a request (once per contact while it waits).
    pub fn request_to_join(&self, site: SiteId, name: &str, contact: &str, address: &str, now: Timestamp) -> Result<(), RegistryError> {
        let waiting: i64 = self.db.query_one("SELECT count(*) FROM join_requests WHERE site_id = ?1 AND state = 'waiting'", params![site], |r| r.get(0))?;
        if waiting >= MAX_WAITING {
            return Err(RegistryError::TooManyCodes { retry_after_secs: 3600 });
        }
        self.db.execute(
            "INSERT INTO join_requests (site_id, name, contact, contact_hash, address, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (site_id, contact_hash) WHERE state = 'waiting' DO UPDATE SET name = excluded.name, created_at = excluded.created_at, address = excluded.address",
            params![site, name, contact, hash(contact), address, now],
        )?;
        Ok(())
    }

    /// The site's waiting requests, oldest first.
    pub fn join_requests(&self, site: SiteId) -> Result<Vec<JoinRequestShown>, RegistryError> {
        self.db.query(
            "SELECT request_id, name, contact, address, created_at FROM join_requests WHERE site_id = ?1 AND state = 'waiting' ORDER BY created_at, request_id",
            params![site],
            |r| Ok(JoinRequestShown { id: r.get(0)?, name: r.get(1)?, contact: r.get(2)?, address: r.get(3)?, created_at: r.get(4)? }),
        )
    }

    /// Decide a waiting request; the request as it was.
    pub fn decide_join_request(&self, site: SiteId, id: i64, approved: bool, now: Timestamp) -> Result<JoinRequestShown, RegistryError> {
        let found = self
            .db
            .query_opt(
                "SELECT request_id, name, contact, address, created_at FROM join_requests WHERE site_id = ?1 AND request_id = ?2 AND state = 'waiting'",
                params![site, id],
                |r| Ok(JoinRequestShown { id: r.get(0)?, name: r.get(1)?, contact: r.get(2)?, address: r.get(3)?, created_at: r.get(4)? }),
            )?
            .ok_or(RegistryError::UnknownJoinRequest(id))?;
        self.db.execute(
            "UPDATE join_requests SET state = ?3, decided_at = ?4 WHERE site_id = ?1 AND request_id = ?2",
            params![site, id, if approved { "approved" } else { "refused" }, now],
        )?;
        Ok(found)
    }

    /// Requests older than 30 days go, decided or not.
    pub fn forget_join_requests(&self, now: Timestamp) -> Result<usize, RegistryError> {
        self.db.execute("DELETE FROM join_requests WHERE created_at < ?1", params![now.millis() - 30 * 86_400_000])
    }

    /// The e-mail domains whose people are approved by their code.
    pub fn join_domains(&self, site: SiteId) -> Result<Vec<String>, RegistryError> {
        self.db.query("SELECT domain FROM join_domains WHERE site_id = ?1 ORDER BY domain", params![site], |r| r.get(0))
    }

    /// Set the site's allowed domains (lowercase, as `acme.com`).
    pub fn set_join_domains(&mut self, site: SiteId, domains: &[String]) -> Result<Vec<String>, RegistryError> {
        let mut clean: Vec<String> = domains.iter().map(|d| d.trim().trim_start_matches('@').to_lowercase()).filter(|d| !d.is_empty()).collect();
        clean.sort();
        clean.dedup();
        if clean.len() > MAX_DOMAINS {
            return Err(RegistryError::BadDomain(format!("at most {MAX_DOMAINS} domains")));
        }
        if let Some(bad) = clean.iter().find(|d| !valid_domain(d)) {
            return Err(RegistryError::BadDomain(bad.clone()));
        }
        let tx = self.db.transaction()?;
        tx.execute("DELETE FROM join_domains WHERE site_id = ?1", params![site])?;
        for d in &clean {
            tx.execute("INSERT INTO join_domains (site_id, domain) VALUES (?1, ?2)", params![site, d])?;
        }
        tx.commit()?;
        Ok(clean)
    }
}

/// `acme.com`, `mail.acme.co.uk`: labels of letters, digits and dashes, with
/// at least one dot; never a bare top-level domain.
fn valid_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::registry::test_day as at;

    #[test]
    fn requests_wait_once_per_contact_at_most_a_few_hundred_and_are_forgotten_after_thirty_days() {
        let (_dir, reg, site) = crate::registry::registry_with_site();
        reg.request_to_join(site, "Piotr", "piotr@north.test", "10.0.0.1", at(0)).unwrap();
        reg.request_to_join(site, "Piotr Nowak", "piotr@north.test", "10.0.0.2", at(0)).unwrap();
        let waiting = reg.join_requests(site).unwrap();
        assert_eq!(waiting.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), vec!["Piotr Nowak"], "once per contact, the latest words");
        for n in 1..MAX_WAITING {
            reg.request_to_join(site, "x", &format!("p{n}@north.test"), "10.0.0.1", at(0)).unwrap();
        }
        assert!(matches!(reg.request_to_join(site, "x", "one-more@north.test", "10.0.0.1", at(0)), Err(RegistryError::TooManyCodes { .. })));
        assert_eq!(reg.forget_join_requests(at(30)).unwrap(), 0, "thirty days are kept");
        assert_eq!(reg.forget_join_requests(at(31)).unwrap() as i64, MAX_WAITING);
        assert!(reg.join_requests(site).unwrap().is_empty());
    }
}
