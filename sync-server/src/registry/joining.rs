//! People joining on their own: each site's join code, the six-digit codes
//! sent to a contact ("I work here"), a phone signing itself out, and
//! tokens that end when unused.

use lodge_core::{DeviceId, PersonId, Role, SiteId, Timestamp};
use rand::Rng;
use rusqlite::params;

use super::{Device, Enrolled, Registry, RegistryError, check_actor_free, hash, new_device, parse_role, role_name};

/// How long a sign-in code works.
pub const CODE_MINUTES: i64 = 10;
/// Wrong answers that end a code: the next answer is refused even if right.
pub const WRONG_TRIES: i64 = 3;

const JOIN_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

fn new_join_code() -> String {
    let mut rng = rand::rng();
    (0..6).map(|_| JOIN_ALPHABET[rng.random_range(0..JOIN_ALPHABET.len())] as char).collect()
}

/// A join code as typed: capitals, no spaces or dashes.
pub fn normalize_join_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// A code row as an answer is checked against: its id, hash, person,
/// role and wrong tries so far.
type CodeRow = (i64, String, Option<PersonId>, Option<String>, i64);

/// What asking for a code decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeAsked {
    /// The six digits (sent only when `person` is some).
    pub code: String,
    /// Whose contact it is, and the phone their record gives them.
    pub person: Option<(PersonId, Role)>,
}

impl Registry {
    /// Give every site without a join code one (sites made before codes,
    /// and new ones).
    pub(super) fn fill_join_codes(&self) -> Result<(), RegistryError> {
        let missing: Vec<SiteId> = self.db.query("SELECT site_id FROM sites WHERE join_code IS NULL", params![], |r| r.get(0))?;
        for site in missing {
            // A clash with another site's code (1 in 887 million) takes
            // another; so does a site given its code meanwhile (by another
            // instance), which keeps that one.
            while self.db.execute(
                "UPDATE sites SET join_code = ?2 WHERE site_id = ?1 AND join_code IS NULL AND NOT EXISTS (SELECT 1 FROM sites WHERE join_code = ?2)",
                params![site, new_join_code()],
            )? == 0
                && self.db.exists("SELECT 1 FROM sites WHERE site_id = ?1 AND join_code IS NULL", params![site])?
            {}
        }
        Ok(())
    }

    /// The site's join code.
    pub fn join_code(&self, site: SiteId) -> Result<String, RegistryError> {
        self.db
            .query_opt("SELECT join_code FROM sites WHERE site_id = ?1", params![site], |r| r.get::<Option<String>>(0))?
            .flatten()
            .ok_or(RegistryError::UnknownSite(site))
    }

    /// The site a join code names.
    pub fn site_by_join_code(&self, code: &str) -> Result<Option<(SiteId, String)>, RegistryError> {
        self.db.query_opt("SELECT site_id, name FROM sites WHERE join_code = ?1", params![normalize_join_code(code)], |r| Ok((r.get(0)?, r.get(1)?)))
    }

    /// A six-digit code for `contact` (normalised) at `site`, written
    /// whether or not the contact is someone's; earlier open codes of the
    /// contact end. Refused when the contact or the site has asked for too
    /// many this hour (`per_contact`, `per_site`): the same for a known and
    /// an unknown contact.
    pub fn ask_sign_in_code(
        &mut self,
        site: SiteId,
        contact: &str,
        person: Option<(PersonId, Role)>,
        address: &str,
        now: Timestamp,
        (per_contact, per_site): (u32, u32),
    ) -> Result<CodeAsked, RegistryError> {
        let tx = self.db.transaction()?;
        let contact_hash = hash(contact);
        let hour_ago = Timestamp::from_millis(now.millis() - 3_600_000);
        let (by_contact, first): (i64, Option<Timestamp>) = tx.query_one(
            "SELECT count(*), min(created_at) FROM sign_in_codes WHERE site_id = ?1 AND contact_hash = ?2 AND created_at > ?3",
            params![site, contact_hash, hour_ago],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (by_site, site_first): (i64, Option<Timestamp>) = tx.query_one(
            "SELECT count(*), min(created_at) FROM sign_in_codes WHERE site_id = ?1 AND created_at > ?2",
            params![site, hour_ago],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let wait = |first: Option<Timestamp>| {
            let freed = first.map_or(now.millis(), |f| f.millis() + 3_600_000);
            ((freed - now.millis()) / 1000).max(1) as u64
        };
        if by_contact >= i64::from(per_contact) {
            return Err(RegistryError::TooManyCodes { retry_after_secs: wait(first) });
        }
        if by_site >= i64::from(per_site) {
            return Err(RegistryError::TooManyCodes { retry_after_secs: wait(site_first) });
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        tx.execute("UPDATE sign_in_codes SET ended_at = ?3 WHERE site_id = ?1 AND contact_hash = ?2 AND ended_at IS NULL", params![site, contact_hash, now])?;
        let expires = Timestamp::from_millis(now.millis() + CODE_MINUTES * 60_000);
        tx.execute(
            "INSERT INTO sign_in_codes (site_id, contact_hash, code_hash, person_id, role, address, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![site, contact_hash, hash(&code), person.map(|p| p.0), person.map(|p| role_name(p.1)), address, now, expires],
        )?;
        tx.commit()?;
        Ok(CodeAsked { code, person })
    }

    /// Answer the latest code sent to `contact`: right, unused, in time and
    /// before the third wrong answer, it enrols this phone for the contact's
    /// person. A wrong answer counts; the third ends the code.
    pub fn redeem_sign_in_code(&mut self, site: SiteId, contact: &str, code: &str, actor: &str, name: &str, now: Timestamp) -> Result<Enrolled, RegistryError> {
        let tx = self.db.transaction()?;
        let row: Option<CodeRow> = tx.query_opt(
            "SELECT code_id, code_hash, person_id, role, wrong_tries FROM sign_in_codes
             WHERE site_id = ?1 AND contact_hash = ?2 AND ended_at IS NULL AND expires_at > ?3 ORDER BY code_id DESC LIMIT 1",
            params![site, hash(contact), now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        let Some((id, code_hash, person, role, wrong)) = row else {
            return Err(RegistryError::WrongSignInCode);
        };
        let digits: String = code.chars().filter(char::is_ascii_digit).collect();
        // An unknown contact's code enrols nobody: it is wrong, whatever it is.
        let (Some(person), Some(role), true) = (person, role, hash(&digits) == code_hash && wrong < WRONG_TRIES) else {
            tx.execute(
                "UPDATE sign_in_codes SET wrong_tries = wrong_tries + 1, ended_at = CASE WHEN wrong_tries + 1 >= ?3 THEN CAST(?2 AS BIGINT) END WHERE code_id = ?1",
                params![id, now, WRONG_TRIES],
            )?;
            tx.commit()?;
            return Err(RegistryError::WrongSignInCode);
        };
        check_actor_free(&tx, actor)?;
        tx.execute("UPDATE sign_in_codes SET ended_at = ?2 WHERE code_id = ?1", params![id, now])?;
        let enrolled = new_device(&tx, site, parse_role(&role), Some(person), name, actor, now)?;
        tx.commit()?;
        Ok(enrolled)
    }

    /// Used codes older than a day go (they only counted towards the hour's limits).
    pub fn forget_sign_in_codes(&self, now: Timestamp) -> Result<usize, RegistryError> {
        self.db.execute("DELETE FROM sign_in_codes WHERE created_at < ?1", params![now.millis() - 24 * 3_600_000])
    }

    /// The device a token belongs to, if the token is still alive at `now`:
    /// used within `idle` (revoked devices included: they are told to wipe).
    pub fn authenticate_at(&self, token: &str, now: Timestamp, idle: std::time::Duration) -> Result<Option<Device>, RegistryError> {
        let since = now.millis().saturating_sub(i64::try_from(idle.as_millis()).unwrap_or(i64::MAX));
        self.db.query_opt(
            &format!("{} WHERE token_hash = ?1 AND (enrolled_at >= ?2 OR last_contact >= ?2)", super::DEVICE_SELECT),
            params![hash(token), since],
            super::device_row,
        )
    }

    /// A token was used at `now`: it lives on (an admin call, a connection).
    pub fn renew(&self, device: DeviceId, now: Timestamp) -> Result<(), RegistryError> {
        // Never moved back.
        self.db.execute("UPDATE devices SET last_contact = ?2 WHERE device_id = ?1 AND (last_contact IS NULL OR last_contact < ?2)", params![device, now])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    use crate::registry::test_day as at;

    #[test]
    fn a_token_lives_while_used_and_ends_after_the_idle_time() {
        let (_dir, mut reg, site) = crate::registry::registry_with_site();
        let code = reg.create_code(site, Role::Reception, None, at(1)).unwrap();
        let desk = reg.redeem(&code, &automerge::ActorId::random().to_hex_string(), "desk", at(0)).unwrap();
        let idle = Duration::from_secs(30 * 86_400);
        assert!(reg.authenticate_at(&desk.token, at(29), idle).unwrap().is_some());
        reg.renew(desk.device.device, at(29)).unwrap();
        assert!(reg.authenticate_at(&desk.token, at(58), idle).unwrap().is_some(), "used on day 29: alive until day 59");
        assert!(reg.authenticate_at(&desk.token, at(60), idle).unwrap().is_none(), "unused for 31 days: ended");
        // Renewing never moves it back.
        reg.renew(desk.device.device, at(1)).unwrap();
        assert!(reg.authenticate_at(&desk.token, at(58), idle).unwrap().is_some());
    }

    #[test]
    fn an_unknown_contacts_code_enrols_nobody_even_when_right() {
        let (_dir, mut reg, site) = crate::registry::registry_with_site();
        let join = reg.join_code(site).unwrap();
        assert_eq!(reg.site_by_join_code(&join.to_lowercase()).unwrap().unwrap().0, site);
        let asked = reg.ask_sign_in_code(site, "nobody@lodge.test", None, "127.0.0.1", at(0), (5, 100)).unwrap();
        let actor = automerge::ActorId::random().to_hex_string();
        assert!(matches!(reg.redeem_sign_in_code(site, "nobody@lodge.test", &asked.code, &actor, "p", at(0)), Err(RegistryError::WrongSignInCode)));
        // A known one's works once, and not after ten minutes.
        let person = PersonId::new();
        let asked = reg.ask_sign_in_code(site, "anna@lodge.test", Some((person, Role::Worker)), "127.0.0.1", at(0), (5, 100)).unwrap();
        let late = Timestamp::from_millis(at(0).millis() + CODE_MINUTES * 60_000);
        assert!(matches!(reg.redeem_sign_in_code(site, "anna@lodge.test", &asked.code, &actor, "p", late), Err(RegistryError::WrongSignInCode)));
        let enrolled = reg.redeem_sign_in_code(site, "anna@lodge.test", &asked.code, &actor, "p", at(0)).unwrap();
        assert_eq!((enrolled.device.role, enrolled.device.person), (Role::Worker, Some(person)));
        let other = automerge::ActorId::random().to_hex_string();
        assert!(matches!(reg.redeem_sign_in_code(site, "anna@lodge.test", &asked.code, &other, "p", at(0)), Err(RegistryError::WrongSignInCode)));
    }
}

#[cfg(test)]
mod limits {
    use super::*;
    use crate::registry::AuditRow;

    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_millis(1_795_000_000_000 + minutes * 60_000)
    }

    #[test]
    fn a_site_may_send_so_many_codes_an_hour_whoever_asks() {
        let (_dir, mut reg, site) = crate::registry::registry_with_site();
        for n in 0..3 {
            reg.ask_sign_in_code(site, &format!("p{n}@lodge.test"), None, "10.0.0.1", at(0), (5, 3)).unwrap();
        }
        match reg.ask_sign_in_code(site, "p9@lodge.test", None, "10.0.0.1", at(10), (5, 3)) {
            Err(RegistryError::TooManyCodes { retry_after_secs }) => assert_eq!(retry_after_secs, 50 * 60, "free again an hour after the first"),
            other => panic!("{other:?}"),
        }
        reg.ask_sign_in_code(site, "p9@lodge.test", None, "10.0.0.1", at(61), (5, 3)).unwrap();
    }

    #[test]
    fn old_audit_rows_and_day_old_codes_go_and_newer_ones_stay() {
        let (_dir, mut reg, site) = crate::registry::registry_with_site();
        let row = AuditRow { site: Some(site), address: "10.0.0.1".into(), action: "enrol".into(), outcome: "ok".into(), ..Default::default() };
        reg.audit(at(0), &row).unwrap();
        reg.audit(at(120), &row).unwrap();
        assert_eq!(reg.forget_audit(at(60)).unwrap(), 1);
        assert_eq!(reg.audit_rows(Some(site), &Default::default()).unwrap().len(), 1);
        reg.ask_sign_in_code(site, "a@lodge.test", None, "10.0.0.1", at(0), (5, 100)).unwrap();
        assert_eq!(reg.forget_sign_in_codes(at(23 * 60)).unwrap(), 0);
        assert_eq!(reg.forget_sign_in_codes(at(24 * 60 + 1)).unwrap(), 1);
    }

    #[test]
    fn a_device_name_too_long_is_refused_and_spends_no_code() {
        let (_dir, mut reg, site) = crate::registry::registry_with_site();
        let asked = reg.ask_sign_in_code(site, "anna@lodge.test", Some((PersonId::new(), Role::Staff)), "10.0.0.1", at(0), (5, 100)).unwrap();
        let actor = automerge::ActorId::random().to_hex_string();
        let long = "x".repeat(crate::registry::MAX_DEVICE_NAME_CHARS + 1);
        assert!(matches!(reg.redeem_sign_in_code(site, "anna@lodge.test", &asked.code, &actor, &long, at(1)), Err(RegistryError::NameTooLong)));
        reg.redeem_sign_in_code(site, "anna@lodge.test", &asked.code, &actor, "Anna's phone", at(1)).unwrap();
    }
}
