//! The audit trail: every enrolment, code asked for, code redeemed or
//! refused, revocation, admin and operator call, and sign-in by link, with
//! when, which site, device, person and operator, and the client's address.

use lodge_core::sync::api::{AuditEntry, AuditQuery};
use lodge_core::{DeviceId, PersonId, SiteId, Timestamp};
use rusqlite::params;

use super::{Registry, RegistryError};

/// One row to write.
#[derive(Debug, Clone, Default)]
pub struct AuditRow {
    /// The site concerned, where one is.
    pub site: Option<SiteId>,
    /// The device that asked, or was made.
    pub device: Option<DeviceId>,
    /// The person concerned.
    pub person: Option<PersonId>,
    /// The operator that asked.
    pub operator: Option<String>,
    /// The client's address.
    pub address: String,
    /// What was asked (`enrol`, `sign-in-code`, `POST /admin/codes`…).
    pub action: String,
    /// How it ended (`ok`, or the refusal's kind).
    pub outcome: String,
    /// Anything else worth reading (a role, a masked contact).
    pub detail: String,
}

/// The most rows one read returns.
pub const MAX_AUDIT_ROWS: u32 = 1000;

impl Registry {
    /// Keep one row.
    pub fn audit(&self, at: Timestamp, row: &AuditRow) -> Result<(), RegistryError> {
        self.db.execute(
            "INSERT INTO audit (at, site_id, device_id, person_id, operator_id, address, action, outcome, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![at, row.site, row.device, row.person, row.operator, row.address, row.action, row.outcome, row.detail],
        )?;
        Ok(())
    }

    /// Rows of a site (or of the server's own, operator rows, with `None`),
    /// newest first, filtered.
    pub fn audit_rows(&self, site: Option<SiteId>, query: &AuditQuery) -> Result<Vec<AuditEntry>, RegistryError> {
        let limit = query.limit.unwrap_or(200).min(MAX_AUDIT_ROWS);
        let action = query.action.as_deref().map(|a| format!("%{}%", a.replace(['%', '_'], "")));
        // Written for both back ends: PostgreSQL learns each parameter's
        // type from its first use (hence the casts), and LIKE ignores case
        // in both only with lower().
        self.db.query(
            "SELECT at, site_id, device_id, person_id, operator_id, address, action, outcome, detail FROM audit
             WHERE (CAST(?1 AS TEXT) IS NULL OR site_id = ?1) AND (CAST(?2 AS BIGINT) IS NULL OR at >= ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR lower(action) LIKE lower(?3)) AND (CAST(?4 AS TEXT) IS NULL OR outcome = ?4)
             ORDER BY at DESC, audit_id DESC LIMIT ?5",
            params![site, query.since, action, query.outcome, limit],
            |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                site: r.get(1)?,
                device: r.get(2)?,
                person: r.get(3)?,
                operator: r.get(4)?,
                address: r.get(5)?,
                action: r.get(6)?,
                outcome: r.get(7)?,
                detail: r.get(8)?,
            })
            },
        )
    }

    /// Rows older than `before` go (the trail's own retention).
    pub fn forget_audit(&self, before: Timestamp) -> Result<usize, RegistryError> {
        self.db.execute("DELETE FROM audit WHERE at < ?1", params![before])
    }
}
