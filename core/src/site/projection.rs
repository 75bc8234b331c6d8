//! Site and directory rows.

use rusqlite::{Connection, params};

use super::SiteDoc;
use crate::conflict::Affected;
use crate::document::DocId;
use crate::ids::CardNumber;

pub(crate) fn clear(id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
    {
        let mut stmt = conn.prepare_cached("SELECT number FROM cards WHERE doc_id = ?1")?;
        let numbers = stmt.query_map([id], |r| r.get::<_, CardNumber>(0))?;
        for n in numbers {
            affected.cards.insert(n?);
        }
    }
    for table in ["sites", "card_types", "cards", "departments", "affiliations", "key_types", "repair_categories"] {
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE doc_id = ?1"))?.execute([id])?;
    }
    Ok(())
}

pub(crate) fn clear_directory(id: &DocId, conn: &Connection) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM directory WHERE doc_id = ?1")?.execute([id])?;
    Ok(())
}

pub(super) fn write(site: &SiteDoc, id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
    clear(id, conn, affected)?;
    let p = &site.guest_policy;
    conn.prepare_cached(
        "INSERT INTO sites (doc_id, site_id, name, time_zone, retention_days, reminder_time, contact_required, purpose_required, consent_text, overdue_contact_after_days, presence_retention_days, language, consent_texts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        id,
        site.header.site,
        site.name,
        site.time_zone,
        site.retention_days,
        site.reminder_time,
        p.contact_required,
        p.purpose_required,
        p.consent_text,
        site.overdue_contact_after_days.unwrap_or(super::DEFAULT_OVERDUE_CONTACT_DAYS),
        site.presence_retention_days,
        site.language.as_deref().unwrap_or("en"),
        serde_json::to_string(p.consent_texts.as_ref().unwrap_or(&std::collections::BTreeMap::new())).unwrap_or_else(|_| "{}".into())
    ])?;
    let mut types = conn.prepare_cached(
        "INSERT INTO card_types (type_id, doc_id, label, first, last, for_guests) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    // Ranges of two types may overlap after a merge of concurrent edits; the
    // type whose id sorts first keeps the number, the same on every replica.
    let mut cards = conn.prepare_cached(
        "INSERT OR IGNORE INTO cards (number, doc_id, type_id, uid, active) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (type_id, t) in &site.card_types {
        types.execute(params![type_id, id, t.label, t.first, t.last, t.for_guests])?;
        for n in t.first..=t.last.min(t.first.saturating_add(9_999)) {
            let entry = site.cards.get(&n.to_string());
            let uid = entry.and_then(|e| e.uid.clone());
            let active = entry.is_none_or(|e| e.active);
            cards.execute(params![n, id, type_id, uid, active])?;
            if let Ok(number) = CardNumber::new(n) {
                affected.cards.insert(number);
            }
        }
    }
    let mut dep = conn.prepare_cached("INSERT INTO departments (department_id, doc_id, name, contact) VALUES (?1, ?2, ?3, ?4)")?;
    for (dep_id, name) in &site.departments {
        let contact = site.department_contacts.as_ref().and_then(|c| c.get(dep_id));
        dep.execute(params![dep_id, id, name, contact])?;
    }
    let mut aff = conn.prepare_cached(
        "INSERT INTO affiliations (affiliation_id, doc_id, name, requires_user_id) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (aff_id, a) in &site.affiliations {
        aff.execute(params![aff_id, id, a.name, a.requires_user_id])?;
    }
    let mut kt = conn.prepare_cached("INSERT INTO key_types (key_type_id, doc_id, name, loan_days) VALUES (?1, ?2, ?3, ?4)")?;
    for (kt_id, k) in &site.key_types {
        kt.execute(params![kt_id, id, k.name, k.loan_days])?;
    }
    let mut rc = conn.prepare_cached("INSERT INTO repair_categories (category_id, doc_id, name) VALUES (?1, ?2, ?3)")?;
    for (rc_id, name) in &site.repair_categories {
        rc.execute(params![rc_id, id, name])?;
    }
    Ok(())
}
