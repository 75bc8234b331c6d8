//! The key document, the fold of a loan's events into a [`LoanState`], and
//! the projection rows.

use autosurgeon::{Hydrate, Reconcile};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::conflict::Affected;
use crate::document::{DocId, DocKind, Header, Model};
use crate::ids::{EventId, KeyId, KeyTypeId, LoanId, PersonId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct KeyDoc {
    pub header: Header,
    pub id: KeyId,
    pub key_type: KeyTypeId,
    pub label: String,
    /// `false` once retired: never lent again.
    pub active: bool,
    /// Loans made before loan books; new loans go to the key's book of the
    /// month (`super::book`), so this list no longer grows.
    pub loans: Vec<LoanRecord>,
    /// When a loan of the key last began or ended. Every loan change
    /// touches the key, so that the server asks again which phones may see
    /// it (a phone sees a key while its person holds it).
    #[autosurgeon(missing = "Option::default")]
    pub loans_changed_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct LoanRecord {
    #[key]
    pub id: LoanId,
    pub customer: PersonId,
    pub out_at: Timestamp,
    pub due_at: Timestamp,
    pub by: String,
    pub events: Vec<LoanEvent>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct LoanEvent {
    #[key]
    pub id: EventId,
    pub at: Timestamp,
    pub by: String,
    pub change: LoanChange,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) enum LoanChange {
    Renewed { due_at: Timestamp },
    Returned,
    Lost,
    Paid,
    /// The key was never handed over (a conflict was resolved against it).
    Voided,
}

/// Where a loan stands. "Overdue" is an `Out` loan past its due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum LoanState {
    /// With the customer.
    Out {
        /// Due back.
        due_at: Timestamp,
        /// Times renewed.
        renewals: u32,
    },
    /// Back at the desk.
    Returned {
        /// When.
        at: Timestamp,
    },
    /// Reported lost, not yet paid for.
    Lost {
        /// When reported.
        at: Timestamp,
    },
    /// Lost and paid for.
    Paid {
        /// When paid.
        at: Timestamp,
    },
    /// Never handed over.
    Voided {
        /// When set aside.
        at: Timestamp,
    },
}

impl LoanState {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            LoanState::Out { .. } => "out",
            LoanState::Returned { .. } => "returned",
            LoanState::Lost { .. } => "lost",
            LoanState::Paid { .. } => "paid",
            LoanState::Voided { .. } => "voided",
        }
    }

    fn closed_at(&self) -> Option<Timestamp> {
        match *self {
            LoanState::Out { .. } => None,
            LoanState::Returned { at } | LoanState::Lost { at } | LoanState::Paid { at } | LoanState::Voided { at } => Some(at),
        }
    }
}

impl LoanRecord {
    /// Fold the events in (time, list position) order.
    pub(crate) fn state(&self) -> LoanState {
        let mut events: Vec<&LoanEvent> = self.events.iter().collect();
        // Stable: equal times keep list order, which Automerge makes the same on
        // every replica and which is causal order for one device.
        events.sort_by_key(|e| e.at);
        let mut state = LoanState::Out { due_at: self.due_at, renewals: 0 };
        for e in events {
            state = match (state, &e.change) {
                (LoanState::Out { renewals, .. }, LoanChange::Renewed { due_at }) => LoanState::Out { due_at: *due_at, renewals: renewals + 1 },
                (LoanState::Out { .. } | LoanState::Lost { .. }, LoanChange::Returned) => LoanState::Returned { at: e.at },
                (LoanState::Out { .. }, LoanChange::Lost) => LoanState::Lost { at: e.at },
                (LoanState::Lost { .. }, LoanChange::Paid) => LoanState::Paid { at: e.at },
                (LoanState::Out { .. }, LoanChange::Voided) => LoanState::Voided { at: e.at },
                (s, _) => s,
            };
        }
        state
    }
}

pub(crate) fn clear_projection(id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
    // Only open loans can break a limit or be lent twice: the customers of
    // loans that were open before this change are the ones to re-check.
    let mut stmt = conn.prepare_cached("SELECT DISTINCT key_id, customer, type_id, state FROM loans WHERE doc_id = ?1")?;
    let rows = stmt.query_map([id], |r| {
        Ok((r.get::<_, KeyId>(0)?, r.get::<_, PersonId>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
    })?;
    for row in rows {
        let (key, customer, key_type, state) = row?;
        affected.keys.insert(key);
        // An empty type: a loan book's loan whose key is not here yet.
        if let (true, Ok(key_type)) = (state == "out", KeyTypeId::parse(&key_type)) {
            affected.limits.insert((customer, key_type));
        }
    }
    conn.prepare_cached("DELETE FROM loans WHERE doc_id = ?1")?.execute([id])?;
    conn.prepare_cached("DELETE FROM keys WHERE doc_id = ?1")?.execute([id])?;
    Ok(())
}

impl Model for KeyDoc {
    const KIND: DocKind = DocKind::Key;

    fn header(&self) -> &Header {
        &self.header
    }

    fn project(&self, id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
        clear_projection(id, conn, affected)?;
        affected.keys.insert(self.id);
        conn.prepare_cached("INSERT OR REPLACE INTO keys (key_id, doc_id, type_id, label, active) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![self.id, id, self.key_type, self.label, self.active])?;
        // A loan book that arrived before its key did not know the key's
        // type: give its loans the type now.
        let mut untyped = conn.prepare_cached("SELECT customer FROM loans WHERE key_id = ?1 AND type_id = '' AND state = 'out'")?;
        for customer in untyped.query_map([self.id], |r| r.get::<_, PersonId>(0))? {
            affected.limits.insert((customer?, self.key_type.clone()));
        }
        conn.prepare_cached("UPDATE loans SET type_id = ?2 WHERE key_id = ?1 AND type_id = ''")?.execute(params![self.id, self.key_type])?;
        project_loans(id, self.id, Some(&self.key_type), &self.loans, conn, affected)
    }
}

/// Write the rows of `loans`, kept in document `id`, of key `key`; with no
/// type (the key is not here yet) the rows' type is empty until it is.
pub(crate) fn project_loans(
    id: &DocId,
    key: KeyId,
    key_type: Option<&KeyTypeId>,
    loans: &[LoanRecord],
    conn: &Connection,
    affected: &mut Affected,
) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO loans (loan_id, key_id, doc_id, customer, type_id, out_at, due_at, closed_at, state, renewals)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for loan in loans {
        let state = loan.state();
        let (due_at, renewals) = match state {
            LoanState::Out { due_at, renewals } => (due_at, renewals),
            _ => (loan.due_at, 0),
        };
        let type_id = key_type.map_or("", KeyTypeId::as_str);
        insert.execute(params![loan.id, key, id, loan.customer, type_id, loan.out_at, due_at, state.closed_at(), state.name(), renewals])?;
        if let (LoanState::Out { .. }, Some(key_type)) = (state, key_type) {
            affected.limits.insert((loan.customer, key_type.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loan(events: Vec<(i64, LoanChange)>) -> LoanRecord {
        LoanRecord {
            id: LoanId::new(),
            customer: PersonId::new(),
            out_at: Timestamp::from_millis(0),
            due_at: Timestamp::from_millis(100),
            by: "desk".into(),
            events: events
                .into_iter()
                .map(|(at, change)| LoanEvent { id: EventId::new(), at: Timestamp::from_millis(at), by: "desk".into(), change })
                .collect(),
        }
    }

    #[test]
    fn renewals_move_the_due_time() {
        let l = loan(vec![(10, LoanChange::Renewed { due_at: Timestamp::from_millis(200) })]);
        assert_eq!(l.state(), LoanState::Out { due_at: Timestamp::from_millis(200), renewals: 1 });
    }

    #[test]
    fn lost_then_paid_then_nothing_more() {
        let l = loan(vec![(10, LoanChange::Lost), (20, LoanChange::Paid), (30, LoanChange::Renewed { due_at: Timestamp::from_millis(500) })]);
        assert_eq!(l.state(), LoanState::Paid { at: Timestamp::from_millis(20) });
    }

    #[test]
    fn a_lost_key_found_again_is_returned() {
        let l = loan(vec![(10, LoanChange::Lost), (20, LoanChange::Returned)]);
        assert_eq!(l.state(), LoanState::Returned { at: Timestamp::from_millis(20) });
    }
}
