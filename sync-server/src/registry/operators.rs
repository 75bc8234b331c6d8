//! Operators, above sites: root (everything, makes other operators) and
//! support (creates sites and invites, sees each site's health, never a
//! document). And invite codes: made by an operator for a company, redeemed
//! once on a device, which creates the site and becomes its first admin.

use lodge_core::sync::api::{OperatorKind, OperatorShown};
use lodge_core::{SiteId, Timestamp};
use rand::Rng;
use rusqlite::params;

use super::{Enrolled, Registry, RegistryError, Row, check_actor_free, hash, new_device};

fn secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An operator as the server knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Root or support.
    pub kind: OperatorKind,
}

fn kind_name(kind: OperatorKind) -> &'static str {
    match kind {
        OperatorKind::Root => "root",
        OperatorKind::Support => "support",
    }
}

fn operator_row(r: &Row) -> rusqlite::Result<Operator> {
    let kind: String = r.get(2)?;
    Ok(Operator { id: r.get(0)?, name: r.get(1)?, kind: if kind == "root" { OperatorKind::Root } else { OperatorKind::Support } })
}

impl Registry {
    /// A new operator; their token (shown once, kept hashed).
    pub fn add_operator(&self, name: &str, kind: OperatorKind, now: Timestamp) -> Result<(Operator, String), RegistryError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(RegistryError::BadOperatorName);
        }
        if self.db.exists("SELECT 1 FROM operators WHERE name = ?1", params![name])? {
            return Err(RegistryError::OperatorExists(name.to_owned()));
        }
        let id = format!("op-{}", &secret()[..12]);
        let token = format!("lodge-op-{}", secret());
        self.db.execute(
            "INSERT INTO operators (operator_id, name, kind, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, name, kind_name(kind), hash(&token), now],
        )?;
        Ok((Operator { id, name: name.to_owned(), kind }, token))
    }

    /// Operators not removed, by name.
    pub fn operators(&self) -> Result<Vec<OperatorShown>, RegistryError> {
        self.db.query("SELECT operator_id, name, kind, created_at FROM operators WHERE removed_at IS NULL ORDER BY name", params![], |r| {
            let op = operator_row(r)?;
            Ok(OperatorShown { id: op.id, name: op.name, kind: op.kind, created_at: r.get(3)? })
        })
    }

    /// Remove an operator by name or id: their token stops working.
    pub fn remove_operator(&self, who: &str, now: Timestamp) -> Result<(), RegistryError> {
        let n = self.db.execute(
            "UPDATE operators SET removed_at = ?2 WHERE (name = ?1 OR operator_id = ?1) AND removed_at IS NULL",
            params![who, now],
        )?;
        if n == 0 {
            return Err(RegistryError::UnknownOperator(who.to_owned()));
        }
        Ok(())
    }

    /// The operator behind a token, if it is one and not removed.
    pub fn operator(&self, token: &str) -> Result<Option<Operator>, RegistryError> {
        self.db.query_opt("SELECT operator_id, name, kind FROM operators WHERE token_hash = ?1 AND removed_at IS NULL", params![hash(token)], operator_row)
    }

    /// An invite code for `company`, valid until `expires_at`.
    pub fn create_invite(&self, company: &str, by: &Operator, now: Timestamp, expires_at: Timestamp) -> Result<String, RegistryError> {
        let company = company.trim();
        if company.is_empty() || company.chars().count() > 200 {
            return Err(RegistryError::BadCompany);
        }
        const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
        let mut rng = rand::rng();
        let raw: String = (0..12).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
        let code = format!("INV-{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12]);
        self.db.execute(
            "INSERT INTO invites (code_hash, company, created_by, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![invite_hash(&code), company, by.id, now, expires_at],
        )?;
        Ok(code)
    }

    /// Redeem an invite once: the site the device started (its id, its
    /// name) is this server's from now on, and the device is its first
    /// admin.
    pub fn redeem_invite(&mut self, code: &str, site: SiteId, site_name: &str, actor: &str, name: &str, now: Timestamp) -> Result<(Enrolled, String), RegistryError> {
        let tx = self.db.transaction()?;
        let code_hash = invite_hash(code);
        let company: Option<String> =
            tx.query_opt("SELECT company FROM invites WHERE code_hash = ?1 AND redeemed_at IS NULL AND expires_at > ?2", params![code_hash, now], |r| r.get(0))?;
        let Some(company) = company else { return Err(RegistryError::BadCode) };
        if tx.exists("SELECT 1 FROM sites WHERE site_id = ?1", params![site])? {
            return Err(RegistryError::SiteExists(site));
        }
        check_actor_free(&tx, actor)?;
        let site_name = if site_name.trim().is_empty() { company.clone() } else { site_name.trim().to_owned() };
        tx.execute("INSERT INTO sites (site_id, name) VALUES (?1, ?2)", params![site, site_name])?;
        tx.execute("UPDATE invites SET redeemed_at = ?2, site_id = ?3 WHERE code_hash = ?1", params![code_hash, now, site])?;
        let enrolled = new_device(&tx, site, lodge_core::Role::Admin, None, name, actor, now)?;
        tx.commit()?;
        self.fill_join_codes()?;
        Ok((enrolled, company))
    }
}

fn invite_hash(code: &str) -> String {
    let raw: String = code.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_uppercase();
    hash(raw.strip_prefix("INV").unwrap_or(&raw))
}
