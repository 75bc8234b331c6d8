//! The equipment document, the custody fold, and its projection.

use autosurgeon::{Hydrate, Reconcile};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::conflict::Affected;
use crate::document::{DocId, DocKind, Header, Model};
use crate::ids::{EventId, ItemId, PersonId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct EquipmentDoc {
    pub header: Header,
    pub id: ItemId,
    pub asset_number: String,
    /// What the printed code says.
    pub activation_code: String,
    pub name: String,
    pub item_type: String,
    pub active: bool,
    pub custody: Vec<CustodyScan>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct CustodyScan {
    #[key]
    pub id: EventId,
    pub at: Timestamp,
    pub person: PersonId,
    pub by: String,
    pub change: CustodyChange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate)]
pub(crate) enum CustodyChange {
    Taken,
    Returned,
}

/// How a custody period ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum CustodyOutcome {
    /// Still held.
    Held,
    /// Returned by a scan.
    Returned,
    /// Someone else scanned it first; this custody was closed for them.
    ReturnedUnscanned,
}

impl CustodyOutcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CustodyOutcome::Held => "held",
            CustodyOutcome::Returned => "returned",
            CustodyOutcome::ReturnedUnscanned => "returned-unscanned",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Period {
    pub holder: PersonId,
    pub taken_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub outcome: CustodyOutcome,
    pub flagged: bool,
}

impl EquipmentDoc {
    /// Custody periods, oldest first, by the physical rule.
    pub(crate) fn periods(&self) -> Vec<Period> {
        let mut scans: Vec<&CustodyScan> = self.custody.iter().collect();
        // Stable: equal times keep list order (the same on every replica).
        scans.sort_by_key(|s| s.at);
        let mut periods: Vec<Period> = Vec::new();
        for s in scans {
            let open = periods.last_mut().filter(|p| p.outcome == CustodyOutcome::Held);
            match (s.change, open) {
                (CustodyChange::Taken, Some(p)) if p.holder == s.person => {}
                (CustodyChange::Taken, Some(p)) => {
                    p.ended_at = Some(s.at);
                    p.outcome = CustodyOutcome::ReturnedUnscanned;
                    p.flagged = true;
                    periods.push(Period { holder: s.person, taken_at: s.at, ended_at: None, outcome: CustodyOutcome::Held, flagged: false });
                }
                (CustodyChange::Taken, None) => {
                    periods.push(Period { holder: s.person, taken_at: s.at, ended_at: None, outcome: CustodyOutcome::Held, flagged: false });
                }
                (CustodyChange::Returned, Some(p)) => {
                    p.ended_at = Some(s.at);
                    if p.holder == s.person {
                        p.outcome = CustodyOutcome::Returned;
                    } else {
                        // Brought back by someone else: it is back, but say so.
                        p.outcome = CustodyOutcome::ReturnedUnscanned;
                        p.flagged = true;
                    }
                }
                (CustodyChange::Returned, None) => {}
            }
        }
        periods
    }

    /// Who holds it now and since when.
    pub(crate) fn holder(&self) -> Option<(PersonId, Timestamp)> {
        self.periods().last().filter(|p| p.outcome == CustodyOutcome::Held).map(|p| (p.holder, p.taken_at))
    }
}

impl Model for EquipmentDoc {
    const KIND: DocKind = DocKind::Equipment;

    fn header(&self) -> &Header {
        &self.header
    }

    fn project(&self, id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
        super::clear_projection(id, conn, affected)?;
        affected.items.insert(self.id);
        let periods = self.periods();
        let holder = periods.last().filter(|p| p.outcome == CustodyOutcome::Held);
        conn.prepare_cached(
            "INSERT OR REPLACE INTO equipment (item_id, doc_id, asset_number, activation_code, name, item_type, active, holder, held_since)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            self.id,
            id,
            self.asset_number,
            self.activation_code,
            self.name,
            self.item_type,
            self.active,
            holder.map(|p| p.holder),
            holder.map(|p| p.taken_at)
        ])?;
        let mut insert = conn.prepare_cached(
            "INSERT OR REPLACE INTO custody (item_id, seq, holder, taken_at, ended_at, outcome, flagged) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (seq, p) in periods.iter().enumerate() {
            insert.execute(params![self.id, seq as i64, p.holder, p.taken_at, p.ended_at, p.outcome.as_str(), p.flagged])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SiteId;

    fn item(scans: Vec<(i64, PersonId, CustodyChange)>) -> EquipmentDoc {
        EquipmentDoc {
            header: Header::new(DocKind::Equipment, SiteId::new(), None),
            id: ItemId::new(),
            asset_number: "D-7".into(),
            activation_code: "LODGE-D7".into(),
            name: "Drill".into(),
            item_type: "drill".into(),
            active: true,
            custody: scans
                .into_iter()
                .map(|(at, person, change)| CustodyScan { id: EventId::new(), at: Timestamp::from_millis(at), person, by: "w".into(), change })
                .collect(),
        }
    }

    #[test]
    fn the_later_scan_holds_the_item() {
        let (a, b) = (PersonId::new(), PersonId::new());
        // Listed out of time order, as a merge may leave them.
        let doc = item(vec![(20, b, CustodyChange::Taken), (10, a, CustodyChange::Taken)]);
        let periods = doc.periods();
        assert_eq!(periods.len(), 2);
        assert_eq!(periods[0].holder, a);
        assert_eq!(periods[0].outcome, CustodyOutcome::ReturnedUnscanned);
        assert!(periods[0].flagged);
        assert_eq!(doc.holder(), Some((b, Timestamp::from_millis(20))));
    }

    #[test]
    fn a_return_closes_custody() {
        let a = PersonId::new();
        let doc = item(vec![(10, a, CustodyChange::Taken), (20, a, CustodyChange::Returned)]);
        assert_eq!(doc.holder(), None);
        assert_eq!(doc.periods()[0].outcome, CustodyOutcome::Returned);
        assert!(!doc.periods()[0].flagged);
    }

    #[test]
    fn a_second_scan_by_the_holder_changes_nothing() {
        let a = PersonId::new();
        let doc = item(vec![(10, a, CustodyChange::Taken), (20, a, CustodyChange::Taken)]);
        assert_eq!(doc.periods().len(), 1);
        assert_eq!(doc.holder(), Some((a, Timestamp::from_millis(10))));
    }
}
