//! The server's registry (one SQLite file, or a PostgreSQL database shared
//! by several instances: see [`database`]): sites, one-time enrolment
//! codes, devices with their hashed tokens and Automerge actor ids, and the
//! per-site change feed.

use std::path::Path;
use std::sync::LazyLock;

use include_dir::{Dir, include_dir};
use lodge_core::{DeviceId, DocId, PersonId, Role, SiteId, Timestamp};
use rand::Rng;
use rusqlite::params;
use rusqlite_migration::Migrations;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod audit;
mod channels;
pub mod database;
mod erasure_reports;
mod join_requests;
mod joining;
mod kept_counts;
mod operators;

pub use audit::{AuditRow, MAX_AUDIT_ROWS};
use database::{Database, Row, Transaction};
pub use database::DatabaseAddress;
pub use joining::{CODE_MINUTES, CodeAsked, WRONG_TRIES, normalize_join_code};
pub use operators::Operator;

static DIR: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/migrations");
static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::from_directory(&DIR).expect("sync-server/migrations is well-formed"));

/// What can go wrong in the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// SQLite failed.
    #[error("the server's registry could not be read or written: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema could not be applied.
    #[error("the server's registry could not be upgraded: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// PostgreSQL failed (or could not be reached).
    #[error("the server's database could not be read or written: {}", database::in_words(.0))]
    Postgres(#[from] postgres::Error),
    /// The certificate authorities for the database could not be read.
    #[error("the certificate authorities for the database (--database-ca) could not be read: {0}")]
    DatabaseCa(String),
    /// The PostgreSQL schema could not be brought up to date.
    #[error("the server's database could not be upgraded: {0}")]
    PostgresSchema(String),
    /// The code is unknown, used or expired.
    #[error("This enrolment code is not valid: it may be mistyped, used already or expired. Ask an admin for a new one.")]
    BadCode,
    /// No such site.
    #[error("There is no site {0} on this server.")]
    UnknownSite(SiteId),
    /// No such device.
    #[error("There is no device {0} on this server.")]
    UnknownDevice(DeviceId),
    /// Staff and worker codes name the person whose phone it is.
    #[error("A {0} code must name the person whose phone it is (with --person on the command line).")]
    PersonRequired(Role),
    /// A bad actor id.
    #[error("“{0}” is not an Automerge actor id (1 to {MAX_ACTOR_BYTES} bytes in lowercase hex).")]
    BadActor(String),
    /// Another device writes under this actor id already.
    #[error("Another device ({device}) is enrolled with this device's actor id {actor}; two devices writing under one actor break each other's changes. Start this device afresh (a new data directory) and enrol it again.")]
    ActorInUse {
        /// The actor id.
        actor: String,
        /// The device that has it.
        device: DeviceId,
    },
    /// A sign-in code that is wrong, used, ended or expired.
    #[error("This code is not right, or it was used, ended or expired. Check the digits, or ask for a new code.")]
    WrongSignInCode,
    /// No such waiting request.
    #[error("There is no request {0} waiting to join this site; it may have been decided already.")]
    UnknownJoinRequest(i64),
    /// A domain that cannot be one.
    #[error("“{0}” is not an e-mail domain such as acme.com.")]
    BadDomain(String),
    /// A device's name longer than lists can show.
    #[error("A device's name is at most {MAX_DEVICE_NAME_CHARS} characters, such as “Anna's phone” or “Front desk”.")]
    NameTooLong,
    /// Too many sign-in codes for this contact or site this hour.
    #[error("Too many codes were asked for. Wait {retry_after_secs} s and ask again, or ask the front desk.")]
    TooManyCodes {
        /// Seconds until one more may be asked for.
        retry_after_secs: u64,
    },
    /// An operator needs a name.
    #[error("Give the operator a name of 1 to 100 characters.")]
    BadOperatorName,
    /// Operators' names are unique.
    #[error("There is already an operator called “{0}”.")]
    OperatorExists(String),
    /// No such operator.
    #[error("There is no operator “{0}” on this server.")]
    UnknownOperator(String),
    /// An invite names its company.
    #[error("Name the company the invite is for (1 to 200 characters).")]
    BadCompany,
    /// The site a device started is on this server already.
    #[error("Site {0} is on this server already; start a new site on this device and redeem the invite again.")]
    SiteExists(SiteId),
}

impl RegistryError {
    /// How a refusal is written in the audit trail.
    pub fn outcome(&self) -> &'static str {
        match self {
            RegistryError::BadCode | RegistryError::WrongSignInCode => "bad-code",
            RegistryError::BadActor(_) | RegistryError::NameTooLong => "bad-request",
            RegistryError::ActorInUse { .. } => "actor-in-use",
            RegistryError::TooManyCodes { .. } => "too-many-attempts",
            RegistryError::UnknownSite(_) | RegistryError::UnknownDevice(_) | RegistryError::UnknownOperator(_) => "not-found",
            RegistryError::SiteExists(_) | RegistryError::OperatorExists(_) => "already-exists",
            RegistryError::PersonRequired(_) | RegistryError::BadOperatorName | RegistryError::BadCompany | RegistryError::BadDomain(_) => "bad-request",
            RegistryError::UnknownJoinRequest(_) => "not-found",
            RegistryError::Sqlite(_) | RegistryError::Migration(_) | RegistryError::Postgres(_) | RegistryError::PostgresSchema(_) | RegistryError::DatabaseCa(_) => "internal",
        }
    }
}

/// The longest name a device may give itself (it comes from the device).
pub const MAX_DEVICE_NAME_CHARS: usize = 100;

/// The longest actor id a device may enrol with (Lodge's own are 16 bytes).
pub const MAX_ACTOR_BYTES: usize = 32;

/// Whether `actor` is a non-empty, lowercase hex actor id of at most
/// [`MAX_ACTOR_BYTES`] bytes (the form `ActorId::to_hex_string` writes, so
/// one actor has one spelling).
fn valid_actor(actor: &str) -> bool {
    !actor.is_empty()
        && actor.len() <= 2 * MAX_ACTOR_BYTES
        && actor.len().is_multiple_of(2)
        && actor.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && automerge::ActorId::try_from(actor).is_ok()
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Id.
    pub device: DeviceId,
    /// Its site.
    pub site: SiteId,
    /// Its role.
    pub role: Role,
    /// Whose phone, for staff and workers.
    pub person: Option<PersonId>,
    /// A name for lists.
    pub name: String,
    /// Its Automerge actor id (hex).
    pub actor: String,
    /// When revoked.
    pub revoked_at: Option<Timestamp>,
}

impl Device {
    /// The device as the HTTP API shows it (its actor id stays here).
    pub fn public(&self) -> lodge_core::sync::SiteDevice {
        lodge_core::sync::SiteDevice {
            device: self.device,
            site: self.site,
            role: self.role,
            person: self.person,
            name: self.name.clone(),
            revoked_at: self.revoked_at,
            last_contact: None,
            connected: false,
            app_version: None,
            changes_waiting: None,
        }
    }
}

/// When a device was last in touch, as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// When.
    pub at: Timestamp,
    /// The app and version it named.
    pub app_version: Option<String>,
    /// The feed number it had reached then.
    pub seen_seq: u64,
}

/// What redeeming a code gives the device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Enrolled {
    /// The device.
    pub device: Device,
    /// The secret it connects with (shown once, stored hashed).
    pub token: String,
    /// Whether the code was a login link.
    pub by_link: bool,
}

/// A document whose heads changed at `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    /// The document.
    pub doc: DocId,
    /// The sequence.
    pub seq: u64,
    /// Deleted for good.
    pub purged: bool,
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.trim().to_uppercase().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn role_name(role: Role) -> String {
    serde_json::to_value(role).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn parse_role(name: &str) -> Role {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).unwrap_or(Role::Kiosk)
}

/// The registry.
pub struct Registry {
    db: Database,
}

impl Registry {
    /// Open (or create) the registry's SQLite file at `path`.
    pub fn open(path: &Path) -> Result<Self, RegistryError> {
        Self::with(Database::open_sqlite(path, &MIGRATIONS)?)
    }

    /// Open the registry in the PostgreSQL database at `address`, created
    /// or brought up to date.
    pub fn connect(address: &DatabaseAddress) -> Result<Self, RegistryError> {
        Self::with(Database::connect_postgres(address)?)
    }

    fn with(db: Database) -> Result<Self, RegistryError> {
        let registry = Self { db };
        registry.fill_join_codes()?;
        Ok(registry)
    }

    /// Whether the registry is in PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.db.is_postgres()
    }

    /// Record a site.
    pub fn add_site(&self, site: SiteId, name: &str) -> Result<(), RegistryError> {
        self.db.execute("INSERT INTO sites (site_id, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![site, name])?;
        self.fill_join_codes()
    }

    /// Every site: id and name.
    pub fn sites(&self) -> Result<Vec<(SiteId, String)>, RegistryError> {
        self.db.query("SELECT site_id, name FROM sites ORDER BY name", params![], |r| Ok((r.get(0)?, r.get(1)?)))
    }

    /// Make a one-time enrolment code for a role, valid until `expires_at`.
    pub fn create_code(&self, site: SiteId, role: Role, person: Option<PersonId>, expires_at: Timestamp) -> Result<String, RegistryError> {
        self.insert_code(site, role, person, expires_at, false)
    }

    /// A login link's code: one more phone for `person` (kept apart in
    /// the audit trail when it is redeemed).
    pub fn create_login_link(&self, site: SiteId, role: Role, person: PersonId, expires_at: Timestamp) -> Result<String, RegistryError> {
        self.insert_code(site, role, Some(person), expires_at, true)
    }

    fn insert_code(&self, site: SiteId, role: Role, person: Option<PersonId>, expires_at: Timestamp, login_link: bool) -> Result<String, RegistryError> {
        if !self.db.exists("SELECT 1 FROM sites WHERE site_id = ?1", params![site])? {
            return Err(RegistryError::UnknownSite(site));
        }
        if matches!(role, Role::Staff | Role::Worker) && person.is_none() {
            return Err(RegistryError::PersonRequired(role));
        }
        const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
        let mut rng = rand::rng();
        let raw: String = (0..12).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
        let code = format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12]);
        self.db.execute(
            "INSERT INTO enrolment_codes (code_hash, site_id, role, person_id, expires_at, login_link) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![hash(&code.replace('-', "")), site, role_name(role), person, expires_at, login_link],
        )?;
        Ok(code)
    }

    /// Redeem a code once: a new device with a token.
    pub fn redeem(&mut self, code: &str, actor: &str, name: &str, now: Timestamp) -> Result<Enrolled, RegistryError> {
        if !valid_actor(actor) {
            return Err(RegistryError::BadActor(actor.chars().take(2 * MAX_ACTOR_BYTES + 2).collect()));
        }
        // Immediate: a read that turns into a write under another
        // process's write (the CLI making codes) fails at once otherwise.
        let tx = self.db.transaction()?;
        let code_hash = hash(&code.replace(['-', ' '], ""));
        let row: Option<(SiteId, String, Option<PersonId>, bool)> = tx.query_opt(
            "SELECT site_id, role, person_id, login_link FROM enrolment_codes WHERE code_hash = ?1 AND redeemed_at IS NULL AND expires_at > ?2",
            params![code_hash, now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let Some((site, role, person, by_link)) = row else {
            return Err(RegistryError::BadCode);
        };
        check_actor_free(&tx, actor)?;
        tx.execute("UPDATE enrolment_codes SET redeemed_at = ?2 WHERE code_hash = ?1", params![code_hash, now])?;
        let enrolled = new_device(&tx, site, parse_role(&role), person, name, actor, now)?;
        tx.commit()?;
        Ok(Enrolled { by_link, ..enrolled })
    }

    /// Every device, by site and name.
    pub fn devices(&self) -> Result<Vec<Device>, RegistryError> {
        self.db.query(&format!("{DEVICE_SELECT} ORDER BY site_id, name, device_id"), params![], device_row)
    }

    /// Record that a device was in touch at `at`, having reached the feed's
    /// `seen_seq`; the app version it named, when it named one (kept
    /// printable and short: it comes from the device).
    pub fn contact(&self, device: DeviceId, at: Timestamp, app_version: Option<&str>, seen_seq: u64) -> Result<(), RegistryError> {
        let app = app_version.map(|a| a.chars().filter(|c| !c.is_control()).take(lodge_core::sync::MAX_APP_CHARS).collect::<String>());
        let seq = i64::try_from(seen_seq).unwrap_or(i64::MAX);
        self.db.execute(
            "UPDATE devices SET last_contact = ?2, app_version = coalesce(?3, app_version), seen_seq = ?4 WHERE device_id = ?1",
            params![device, at, app, seq],
        )?;
        Ok(())
    }

    /// When each of a site's devices was last in touch.
    pub fn contacts(&self, site: SiteId) -> Result<std::collections::HashMap<DeviceId, Contact>, RegistryError> {
        let rows = self.db.query(
            "SELECT device_id, last_contact, app_version, seen_seq FROM devices WHERE site_id = ?1 AND last_contact IS NOT NULL",
            params![site],
            |r| Ok((r.get(0)?, Contact { at: r.get(1)?, app_version: r.get(2)?, seen_seq: r.get::<i64>(3)?.max(0) as u64 })),
        )?;
        Ok(rows.into_iter().collect())
    }

    /// Revoke a device: it is disconnected and refused from now on.
    pub fn revoke(&self, device: DeviceId, now: Timestamp) -> Result<(), RegistryError> {
        let n = self.db.execute("UPDATE devices SET revoked_at = coalesce(revoked_at, ?2) WHERE device_id = ?1", params![device, now])?;
        if n == 0 {
            return Err(RegistryError::UnknownDevice(device));
        }
        Ok(())
    }

    /// Whether a device was revoked.
    pub fn is_revoked(&self, device: DeviceId) -> Result<bool, RegistryError> {
        self.db.exists("SELECT 1 FROM devices WHERE device_id = ?1 AND revoked_at IS NOT NULL", params![device])
    }

    /// Record that a device confirmed the feed's deletions up to `seq`
    /// (it never goes back).
    pub fn confirm(&self, device: DeviceId, seq: u64) -> Result<(), RegistryError> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.db.execute("UPDATE devices SET confirmed_seq = ?2 WHERE device_id = ?1 AND confirmed_seq < ?2", params![device, seq])?;
        Ok(())
    }

    /// How far each of a site's devices has confirmed the feed (see
    /// [`Registry::confirm`]).
    pub fn confirmed(&self, site: SiteId) -> Result<std::collections::HashMap<DeviceId, u64>, RegistryError> {
        let rows = self.db.query("SELECT device_id, confirmed_seq FROM devices WHERE site_id = ?1", params![site], |r| Ok((r.get(0)?, r.get::<i64>(1)? as u64)))?;
        Ok(rows.into_iter().collect())
    }

    /// Give `doc` the site's next feed sequence.
    pub fn bump(&mut self, site: SiteId, doc: &DocId, purged: bool) -> Result<u64, RegistryError> {
        Ok(self.bump_many(site, &[(doc.clone(), purged)])?[0])
    }

    /// Number several documents at once, in one transaction: `(document,
    /// deleted)`, numbered in order. Nothing is relayed: devices are only
    /// asked to look at the documents again.
    pub fn bump_many(&mut self, site: SiteId, docs: &[(DocId, bool)]) -> Result<Vec<u64>, RegistryError> {
        let docs: Vec<Numbered> = docs.iter().map(|(doc, purged)| Numbered { doc: doc.clone(), purged: *purged, changes: None }).collect();
        self.number(site, &docs, "")
    }

    /// Number changed documents in the site's feed, in order, in one
    /// transaction. On PostgreSQL their changes are kept under the same
    /// numbers for the other instances (`origin` is this one), and they are
    /// told at the commit (`NOTIFY lodge_changes`, the site's id).
    pub fn number(&mut self, site: SiteId, docs: &[Numbered], origin: &str) -> Result<Vec<u64>, RegistryError> {
        // Immediate on SQLite: a read that turns into a write under another
        // process's write (the CLI making codes) fails at once otherwise. On
        // PostgreSQL the site's row is locked by the first UPDATE until the
        // commit, so numbers are handed out, and seen, in order.
        let tx = self.db.transaction_by_rows()?;
        let mut numbers = Vec::with_capacity(docs.len());
        for Numbered { doc, purged, changes } in docs {
            let seq: i64 = tx
                .query_opt("UPDATE sites SET seq = seq + 1 WHERE site_id = ?1 RETURNING seq", params![site], |r| r.get(0))?
                .ok_or(RegistryError::UnknownSite(site))?;
            tx.execute(
                "INSERT INTO feed (site_id, doc_id, seq, purged) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (site_id, doc_id) DO UPDATE SET seq = excluded.seq, purged = excluded.purged",
                params![site, doc, seq, purged],
            )?;
            if tx.is_postgres() {
                tx.execute(
                    "INSERT INTO changes (site_id, seq, doc_id, purged, origin, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![site, seq, doc, purged, origin, changes],
                )?;
                // Deleted for good (a rejected guest, retention): its
                // changes go from the database too. An instance behind
                // finds the deletion alone, and deletes what it has.
                if *purged {
                    tx.execute("DELETE FROM changes WHERE site_id = ?1 AND doc_id = ?2 AND seq < ?3", params![site, doc, seq])?;
                }
            }
            numbers.push(seq as u64);
        }
        if tx.is_postgres() && !docs.is_empty() {
            tx.query_one("SELECT pg_notify('lodge_changes', ?1)", params![site.to_string()], |_| Ok(()))?;
        }
        tx.commit()?;
        Ok(numbers)
    }

    /// After a restore, move every site's feed (and the changes kept under
    /// its numbers) past any number a device may hold (see
    /// [`crate::backup`]); how many sites.
    pub fn move_feed_past(&mut self, gap: i64) -> Result<usize, RegistryError> {
        let tx = self.db.transaction()?;
        let sites = tx.execute("UPDATE sites SET seq = seq + ?1", params![gap])?;
        tx.execute("UPDATE feed SET seq = seq + ?1", params![gap])?;
        if tx.is_postgres() {
            tx.execute("UPDATE changes SET seq = seq + ?1", params![gap])?;
        }
        tx.commit()?;
        Ok(sites)
    }

    /// The site's current sequence.
    pub fn seq(&self, site: SiteId) -> Result<u64, RegistryError> {
        let seq: Option<i64> = self.db.query_opt("SELECT seq FROM sites WHERE site_id = ?1", params![site], |r| r.get(0))?;
        Ok(seq.unwrap_or(0) as u64)
    }

    /// Documents changed after `since`, oldest first.
    pub fn changed_since(&self, site: SiteId, since: u64) -> Result<Vec<FeedEntry>, RegistryError> {
        let since = i64::try_from(since).unwrap_or(i64::MAX);
        self.db.query("SELECT doc_id, seq, purged FROM feed WHERE site_id = ?1 AND seq > ?2 ORDER BY seq", params![site, since], |r| {
            Ok(FeedEntry { doc: r.get(0)?, seq: r.get::<i64>(1)? as u64, purged: r.get(2)? })
        })
    }
}

/// A document to number in the feed (see [`Registry::number`]).
#[derive(Debug, Clone)]
pub struct Numbered {
    /// The document.
    pub doc: DocId,
    /// Deleted for good.
    pub purged: bool,
    /// Its changes for the other instances (see [`crate::relay`]).
    pub changes: Option<Vec<u8>>,
}

/// A feed number's changes, as the database keeps them for the instances
/// (PostgreSQL only).
#[derive(Debug, Clone)]
pub struct Relayed {
    /// The feed number.
    pub seq: u64,
    /// The document.
    pub doc: DocId,
    /// Deleted for good.
    pub purged: bool,
    /// The instance that numbered it.
    pub origin: String,
    /// Its changes, if it carries any.
    pub changes: Option<Vec<u8>>,
}

/// Whether a job is this instance's to send (see [`Registry::claim_job`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Send it.
    Ours,
    /// Another instance ended it: how (see [`JobEnd`]).
    Done(JobEnd),
    /// Another instance is sending it now.
    Busy,
}

/// How a job ended for good, as the instance that ended it tells the
/// others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEnd {
    /// `sent`, `refused` or `cancelled`.
    pub outcome: String,
    /// Why, for refused and cancelled.
    pub why: String,
}

impl Registry {
    /// The changes numbered after `after` in a site's feed, oldest first, at
    /// most `limit` (PostgreSQL: see [`Registry::number`]; SQLite keeps
    /// none, its one server having them all).
    pub fn changes_after(&self, site: SiteId, after: u64, limit: u32) -> Result<Vec<Relayed>, RegistryError> {
        if !self.db.is_postgres() {
            return Ok(Vec::new());
        }
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.db.query(
            "SELECT seq, doc_id, purged, origin, bytes FROM changes WHERE site_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            params![site, after, limit],
            |r| Ok(Relayed { seq: r.get::<i64>(0)? as u64, doc: r.get(1)?, purged: r.get(2)?, origin: r.get(3)?, changes: r.get(4)? }),
        )
    }

    /// Documents of a site with more than `more_than` numbers kept at or
    /// below `upto` (PostgreSQL), at most 100: for [`crate::relay::compact`].
    pub fn crowded_docs(&self, site: SiteId, more_than: u32, upto: u64) -> Result<Vec<DocId>, RegistryError> {
        if !self.db.is_postgres() {
            return Ok(Vec::new());
        }
        let upto = i64::try_from(upto).unwrap_or(i64::MAX);
        self.db.query(
            "SELECT doc_id FROM changes WHERE site_id = ?1 AND seq <= ?3 GROUP BY doc_id HAVING count(*) > ?2 ORDER BY count(*) DESC LIMIT 100",
            params![site, more_than, upto],
            |r| r.get(0),
        )
    }

    /// Forget a document's changes kept at or below `upto` and before
    /// `whole`, the number under which the whole document was kept; how many.
    /// Not while another instance numbered a change of it in between: a
    /// new instance fills its store in order, and that change would come
    /// before the whole document that holds what it builds on (a document
    /// it cannot start from); the next fold forgets them. A document
    /// deleted for good meanwhile (by another instance) loses its whole
    /// copy too.
    pub fn forget_changes(&self, site: SiteId, doc: &DocId, upto: u64, whole: u64) -> Result<usize, RegistryError> {
        let upto = i64::try_from(upto.min(whole.saturating_sub(1))).unwrap_or(i64::MAX);
        let whole = i64::try_from(whole).unwrap_or(i64::MAX);
        let forgotten = self.db.execute(
            "DELETE FROM changes WHERE site_id = ?1 AND doc_id = ?2 AND seq <= ?3
             AND NOT EXISTS (SELECT 1 FROM changes m WHERE m.site_id = ?1 AND m.doc_id = ?2 AND m.seq > ?3 AND m.seq < ?4)",
            params![site, doc, upto, whole],
        )?;
        let deleted = self.db.execute(
            "DELETE FROM changes WHERE site_id = ?1 AND doc_id = ?2 AND NOT purged
             AND EXISTS (SELECT 1 FROM changes p WHERE p.site_id = ?1 AND p.doc_id = ?2 AND p.purged)",
            params![site, doc],
        )?;
        Ok(forgotten + deleted)
    }

    /// Take a job for `instance` until `until`, unless another instance
    /// sent it or holds it (PostgreSQL; with SQLite the one server always
    /// sends). A claim runs out, so that a job whose instance was killed
    /// while sending is sent by another.
    pub fn claim_job(&self, site: SiteId, key: &str, instance: &str, now: Timestamp, until: Timestamp) -> Result<Claim, RegistryError> {
        if !self.db.is_postgres() {
            return Ok(Claim::Ours);
        }
        let taken = self.db.query_opt(
            "INSERT INTO job_claims (site_id, job_key, instance, until) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (site_id, job_key) DO UPDATE SET instance = excluded.instance, until = excluded.until
             WHERE job_claims.done = FALSE AND (job_claims.until < ?5 OR job_claims.instance = excluded.instance)
             RETURNING instance",
            params![site, key, instance, until, now],
            |_| Ok(()),
        )?;
        if taken.is_some() {
            return Ok(Claim::Ours);
        }
        let ended = self.db.query_opt(
            "SELECT coalesce(outcome, 'sent'), coalesce(why, '') FROM job_claims WHERE site_id = ?1 AND job_key = ?2 AND done",
            params![site, key],
            |r| Ok(JobEnd { outcome: r.get(0)?, why: r.get(1)? }),
        )?;
        Ok(ended.map_or(Claim::Busy, Claim::Done))
    }

    /// The end of a claimed job: ended for good (`Some`: sent, refused,
    /// cancelled), or let go for whichever instance tries it next.
    pub fn end_claim(&self, site: SiteId, key: &str, instance: &str, ended: Option<&JobEnd>) -> Result<(), RegistryError> {
        if !self.db.is_postgres() {
            return Ok(());
        }
        match ended {
            Some(end) => self.db.execute(
                "UPDATE job_claims SET done = TRUE, outcome = ?3, why = ?4 WHERE site_id = ?1 AND job_key = ?2",
                params![site, key, end.outcome, end.why],
            )?,
            None => self.db.execute(
                "DELETE FROM job_claims WHERE site_id = ?1 AND job_key = ?2 AND instance = ?3 AND done = FALSE",
                params![site, key, instance],
            )?,
        };
        Ok(())
    }

    /// A job retried by hand is anyone's to send again.
    pub fn release_claim(&self, site: SiteId, key: &str) -> Result<(), RegistryError> {
        if self.db.is_postgres() {
            self.db.execute("DELETE FROM job_claims WHERE site_id = ?1 AND job_key = ?2", params![site, key])?;
        }
        Ok(())
    }
}

/// Actor ids are unique per device (revoked ones included): two devices
/// under one actor clash on change numbers for good.
fn check_actor_free(tx: &Transaction<'_>, actor: &str) -> Result<(), RegistryError> {
    if !valid_actor(actor) {
        return Err(RegistryError::BadActor(actor.chars().take(2 * MAX_ACTOR_BYTES + 2).collect()));
    }
    let holder: Option<DeviceId> = tx.query_opt("SELECT device_id FROM devices WHERE actor = ?1", params![actor], |r| r.get(0))?;
    match holder {
        Some(device) => Err(RegistryError::ActorInUse { actor: actor.to_owned(), device }),
        None => Ok(()),
    }
}

/// A new device with a fresh token, in the caller's transaction (which
/// has checked the actor id with [`check_actor_free`]).
fn new_device(tx: &Transaction<'_>, site: SiteId, role: Role, person: Option<PersonId>, name: &str, actor: &str, now: Timestamp) -> Result<Enrolled, RegistryError> {
    let device = DeviceId::new();
    let token: String = {
        let bytes: [u8; 32] = rand::rng().random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    if name.trim().chars().count() > MAX_DEVICE_NAME_CHARS {
        return Err(RegistryError::NameTooLong);
    }
    let name = if name.trim().is_empty() { format!("{role} device") } else { name.trim().to_owned() };
    tx.execute(
        "INSERT INTO devices (device_id, site_id, role, person_id, name, token_hash, actor, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![device, site, role_name(role), person, name, hash(&token), actor, now],
    )?;
    Ok(Enrolled { device: Device { device, site, role, person, name, actor: actor.to_owned(), revoked_at: None }, token, by_link: false })
}

const DEVICE_SELECT: &str = "SELECT device_id, site_id, role, person_id, name, actor, revoked_at FROM devices";

fn device_row(r: &Row) -> rusqlite::Result<Device> {
    let role: String = r.get(2)?;
    Ok(Device {
        device: r.get(0)?,
        site: r.get(1)?,
        role: parse_role(&role),
        person: r.get(3)?,
        name: r.get(4)?,
        actor: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

/// Day `days` of the unit tests' calendar (a fixed day in 2026, plus `days`).
#[cfg(test)]
pub(crate) fn test_day(days: i64) -> Timestamp {
    Timestamp::from_millis(1_795_000_000_000 + days * 86_400_000)
}

/// A registry in a fresh folder with one site, "House", for the unit
/// tests here and in the submodules; the folder lives as long as its guard.
/// With `LODGE_TEST_BACKEND=postgres` it is a new database on the server
/// `LODGE_TEST_POSTGRES` names (`scripts/test` starts one and runs these
/// tests on both back ends).
#[cfg(test)]
pub(crate) fn registry_with_site() -> (tempfile::TempDir, Registry, SiteId) {
    let dir = tempfile::tempdir().expect("a folder");
    let reg = match std::env::var("LODGE_TEST_BACKEND").as_deref() {
        Ok("postgres") => {
            let server = std::env::var("LODGE_TEST_POSTGRES").expect("LODGE_TEST_BACKEND=postgres needs LODGE_TEST_POSTGRES: run scripts/test");
            let name = format!("lodge_unit_{}", uuid::Uuid::new_v4().simple());
            let mut client = postgres::Client::connect(&server, postgres::NoTls).expect("the test PostgreSQL");
            client.batch_execute(&format!("CREATE DATABASE {name}")).expect("a database");
            let (base, _) = server.rsplit_once('/').expect("a URL with a database");
            Registry::connect(&DatabaseAddress::new(&format!("{base}/{name}"), None).expect("an address")).expect("a registry")
        }
        _ => Registry::open(&dir.path().join("r.sqlite")).expect("a registry"),
    };
    let site = SiteId::new();
    reg.add_site(site, "House").expect("a site");
    (dir, reg, site)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_millis(1_795_000_000_000)
    }

    #[test]
    fn a_code_is_redeemed_once_and_the_token_authenticates() {
        let (_dir, mut reg, site) = crate::registry::registry_with_site();
        let code = reg.create_code(site, Role::Reception, None, Timestamp::from_millis(now().millis() + 60_000)).unwrap();
        let actor = automerge::ActorId::random().to_hex_string();
        let enrolled = reg.redeem(&code.to_lowercase(), &actor, "Desk iPad", now()).unwrap();
        assert_eq!(enrolled.device.role, Role::Reception);
        assert!(matches!(reg.redeem(&code, &actor, "again", now()), Err(RegistryError::BadCode)));
        assert_eq!(reg.authenticate_at(&enrolled.token, now(), std::time::Duration::from_secs(86_400)).unwrap().unwrap().device, enrolled.device.device);
        assert!(reg.authenticate_at("nope", now(), std::time::Duration::from_secs(86_400)).unwrap().is_none());
        reg.revoke(enrolled.device.device, now()).unwrap();
        assert!(reg.authenticate_at(&enrolled.token, now(), std::time::Duration::from_secs(86_400)).unwrap().unwrap().revoked_at.is_some());
    }

    #[test]
    fn expired_codes_and_phone_codes_without_a_person_are_refused() {
        let (_dir, mut reg, site) = crate::registry::registry_with_site();
        let code = reg.create_code(site, Role::Kiosk, None, now()).unwrap();
        assert!(matches!(reg.redeem(&code, &automerge::ActorId::random().to_hex_string(), "k", now()), Err(RegistryError::BadCode)));
        assert!(matches!(reg.create_code(site, Role::Worker, None, now()), Err(RegistryError::PersonRequired(_))));
        assert!(matches!(reg.create_code(SiteId::new(), Role::Kiosk, None, now()), Err(RegistryError::UnknownSite(_))));
    }

    #[test]
    fn empty_malformed_and_taken_actor_ids_are_refused() {
        let (_dir, mut reg, site) = crate::registry::registry_with_site();
        let later = Timestamp::from_millis(now().millis() + 60_000);
        for bad in ["", "xyz", "ABCD", "abc", &"ab".repeat(MAX_ACTOR_BYTES + 1)] {
            let code = reg.create_code(site, Role::Kiosk, None, later).unwrap();
            assert!(matches!(reg.redeem(&code, bad, "k", now()), Err(RegistryError::BadActor(_))), "{bad:?}");
        }
        let actor = automerge::ActorId::random().to_hex_string();
        let first = reg.redeem(&reg.create_code(site, Role::Kiosk, None, later).unwrap(), &actor, "k", now()).unwrap();
        let code = reg.create_code(site, Role::Reception, None, later).unwrap();
        match reg.redeem(&code, &actor, "desk", now()) {
            Err(RegistryError::ActorInUse { device, .. }) => assert_eq!(device, first.device.device),
            other => panic!("{other:?}"),
        }
        // The code was not spent by the refusal.
        reg.redeem(&code, &automerge::ActorId::random().to_hex_string(), "desk", now()).unwrap();
    }

    #[test]
    fn retention_records_copied_again_add_nothing_twice_and_counts_sum_over_stores() {
        use lodge_core::retention::{DailyCount, ErasureRecord, Measure};
        let (_dir, reg, site) = crate::registry::registry_with_site();
        let counted = |n| vec![DailyCount { day: "2026-10-01".into(), measure: Measure::VisitsRegistered, count: n }];
        reg.copy_kept_counts(site, "store-a", &counted(2)).unwrap();
        // Copied again (a crash between the store and here): in place.
        reg.copy_kept_counts(site, "store-a", &counted(2)).unwrap();
        reg.copy_kept_counts(site, "store-b", &counted(3)).unwrap();
        assert_eq!(reg.kept_counts(site).unwrap(), counted(5));
        let device = DeviceId::new();
        let record = |id, at| ErasureRecord { id, ran_at: Timestamp::from_millis(at), visits: 1, presence_months: 2, feed_seq: Some(7), devices: vec![device] };
        reg.copy_erasure_records(site, "store-a", &[record(1, 1_000)]).unwrap();
        reg.copy_erasure_records(site, "store-a", &[record(1, 1_000), record(2, 3_000)]).unwrap();
        reg.copy_erasure_records(site, "store-b", &[record(1, 2_000)]).unwrap();
        let records = reg.erasure_records(site).unwrap();
        assert_eq!(records.iter().map(|r| r.ran_at.millis()).collect::<Vec<_>>(), vec![3_000, 2_000, 1_000]);
        assert!(records.iter().all(|r| r.devices == vec![device] && r.feed_seq == Some(7) && (r.visits, r.presence_months) == (1, 2)), "{records:?}");
        assert_eq!(reg.erasure_record_id(site, "store-b", 1).unwrap(), Some(records[1].id));
        assert_ne!(records[1].id, records[2].id, "two stores' first reports are two reports");
        assert!(reg.erasure_records(SiteId::new()).unwrap().is_empty());
    }

    #[test]
    fn the_feed_lists_what_changed_since() {
        let (_dir, mut reg, site) = crate::registry::registry_with_site();
        let a = DocId::visit(lodge_core::VisitId::new());
        let b = DocId::visit(lodge_core::VisitId::new());
        assert_eq!(reg.bump(site, &a, false).unwrap(), 1);
        assert_eq!(reg.bump(site, &b, false).unwrap(), 2);
        assert_eq!(reg.bump(site, &a, true).unwrap(), 3);
        let since1 = reg.changed_since(site, 1).unwrap();
        assert_eq!(since1.iter().map(|e| (e.doc.clone(), e.seq, e.purged)).collect::<Vec<_>>(), vec![(b, 2, false), (a, 3, true)]);
        assert_eq!(reg.seq(site).unwrap(), 3);
    }

    #[test]
    fn a_documents_changes_are_not_forgotten_while_another_instance_numbered_one_between_them_and_the_whole() {
        let (_dir, mut reg, site) = crate::registry::registry_with_site();
        let doc = DocId::site(site);
        let change = |b: u8| Numbered { doc: doc.clone(), purged: false, changes: Some(vec![b]) };
        if !reg.is_postgres() {
            // One server keeps no changes for others: nothing is folded.
            reg.number(site, &[change(1), change(2)], "a").unwrap();
            assert!(reg.crowded_docs(site, 0, u64::MAX).unwrap().is_empty());
            return;
        }
        let ours = reg.number(site, &[change(1), change(2)], "a").unwrap();
        // b's change, which a has not merged yet, then a's whole document.
        reg.number(site, &[change(3)], "b").unwrap();
        let whole = reg.number(site, &[change(4)], "a").unwrap()[0];
        assert_eq!(reg.forget_changes(site, &doc, ours[1], whole).unwrap(), 0, "b's change would come first, without what it builds on");
        assert_eq!(reg.changes_after(site, 0, 100).unwrap().len(), 4);
        // Once a merged it, a later whole document takes the place of all.
        let later = reg.number(site, &[change(5)], "a").unwrap()[0];
        assert_eq!(reg.forget_changes(site, &doc, whole, later).unwrap(), 4);
        let kept: Vec<u64> = reg.changes_after(site, 0, 100).unwrap().iter().map(|r| r.seq).collect();
        assert_eq!(kept, vec![later]);
    }

    #[test]
    fn a_jobs_claim_keeps_others_off_until_it_runs_out_and_its_end_is_shared() {
        let (_dir, reg, site) = crate::registry::registry_with_site();
        let at = crate::registry::test_day;
        let minutes = |m: i64| Timestamp::from_millis(at(0).millis() + m * 60_000);
        if !reg.is_postgres() {
            // One server: every job is its own.
            assert_eq!(reg.claim_job(site, "k", "a", minutes(0), minutes(10)).unwrap(), Claim::Ours);
            assert_eq!(reg.claim_job(site, "k", "b", minutes(1), minutes(11)).unwrap(), Claim::Ours);
            return;
        }
        assert_eq!(reg.claim_job(site, "k", "a", minutes(0), minutes(10)).unwrap(), Claim::Ours);
        assert_eq!(reg.claim_job(site, "k", "b", minutes(5), minutes(15)).unwrap(), Claim::Busy, "a holds it");
        assert_eq!(reg.claim_job(site, "k", "a", minutes(6), minutes(16)).unwrap(), Claim::Ours, "a takes its own back (after a restart)");
        // a was killed while sending: once its claim runs out, b sends.
        assert_eq!(reg.claim_job(site, "k", "b", minutes(17), minutes(27)).unwrap(), Claim::Ours);
        // A try that failed lets go of it, for whoever comes first.
        reg.end_claim(site, "k", "b", None).unwrap();
        assert_eq!(reg.claim_job(site, "k", "a", minutes(18), minutes(28)).unwrap(), Claim::Ours);
        // Refused for good: the others record the same, with why.
        let refused = JobEnd { outcome: "refused".into(), why: "no e-mail address".into() };
        reg.end_claim(site, "k", "a", Some(&refused)).unwrap();
        assert_eq!(reg.claim_job(site, "k", "b", minutes(60), minutes(70)).unwrap(), Claim::Done(refused));
        // Retried by hand: anyone's again.
        reg.release_claim(site, "k").unwrap();
        assert_eq!(reg.claim_job(site, "k", "b", minutes(61), minutes(71)).unwrap(), Claim::Ours);
    }

    #[test]
    fn a_devices_confirmation_only_moves_forward() {
        let (_dir, mut reg, site) = crate::registry::registry_with_site();
        let code = reg.create_code(site, Role::Reception, None, Timestamp::from_millis(now().millis() + 60_000)).unwrap();
        let desk = reg.redeem(&code, &automerge::ActorId::random().to_hex_string(), "desk", now()).unwrap().device.device;
        assert_eq!(reg.confirmed(site).unwrap()[&desk], 0);
        reg.confirm(desk, 7).unwrap();
        reg.confirm(desk, 3).unwrap();
        assert_eq!(reg.confirmed(site).unwrap()[&desk], 7);
    }
}
