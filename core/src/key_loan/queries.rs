//! Reading keys, loans and exceptions from the projections.

use rusqlite::{Row, params};
use serde::{Deserialize, Serialize};

use crate::ids::{ExceptionId, KeyId, KeyTypeId, LoanId, PersonId};
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// A key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Key {
    /// Id.
    pub id: KeyId,
    /// Type.
    pub key_type: KeyTypeId,
    /// Label stamped on it.
    pub label: String,
    /// `false` once retired.
    pub active: bool,
    /// Whether it is lent out now.
    pub out: bool,
}

/// Which loans to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum LoanFilter {
    /// Every loan.
    All,
    /// Lent out now.
    Out,
    /// Out and past due.
    Overdue,
    /// Lost and not paid.
    Lost,
    /// Lost and paid.
    Paid,
    /// Returned.
    Returned,
}

/// A loan as the key desk lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Loan {
    /// Id.
    pub id: LoanId,
    /// The key.
    pub key: KeyId,
    /// Its label.
    pub label: String,
    /// Its type.
    pub key_type: KeyTypeId,
    /// Who borrowed it.
    pub customer: PersonId,
    /// Their name.
    pub customer_name: String,
    /// Lent at.
    pub out_at: Timestamp,
    /// Due back.
    pub due_at: Timestamp,
    /// Closed at (returned, lost, paid, voided).
    pub closed_at: Option<Timestamp>,
    /// `out`, `returned`, `lost`, `paid` or `voided`.
    pub state: String,
    /// Times renewed.
    pub renewals: u32,
    /// Out and past due at the time of the query.
    pub overdue: bool,
}

/// A loan exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoanException {
    /// Id.
    pub id: ExceptionId,
    /// Who.
    pub customer: PersonId,
    /// Key type.
    pub key_type: KeyTypeId,
    /// Most keys of the type they may hold.
    pub max_keys: u32,
    /// Until.
    pub expires_at: Timestamp,
    /// Withdrawn.
    pub revoked: bool,
}

const LOAN_SELECT: &str = "SELECT l.loan_id, l.key_id, k.label, k.type_id, l.customer, coalesce(p.name, l.customer), l.out_at, l.due_at, l.closed_at, l.state, l.renewals
     FROM loans l JOIN keys k ON k.key_id = l.key_id LEFT JOIN people p ON p.person_id = l.customer";

fn loan_row(now: Timestamp) -> impl Fn(&Row<'_>) -> rusqlite::Result<Loan> {
    move |r| {
        let state: String = r.get(9)?;
        let due_at: Timestamp = r.get(7)?;
        Ok(Loan {
            id: r.get(0)?,
            key: r.get(1)?,
            label: r.get(2)?,
            key_type: r.get(3)?,
            customer: r.get(4)?,
            customer_name: r.get(5)?,
            out_at: r.get(6)?,
            due_at,
            closed_at: r.get(8)?,
            overdue: state == "out" && due_at < now,
            state,
            renewals: r.get(10)?,
        })
    }
}

impl Store {
    /// Keys, of one type or all, by label.
    pub fn keys(&self, key_type: Option<&KeyTypeId>) -> Result<Vec<Key>, Error> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT k.key_id, k.type_id, k.label, k.active, EXISTS (SELECT 1 FROM loans l WHERE l.key_id = k.key_id AND l.state = 'out')
             FROM keys k WHERE ?1 IS NULL OR k.type_id = ?1 ORDER BY k.label, k.key_id",
        )?;
        let rows = stmt.query_map([key_type], |r| {
            Ok(Key { id: r.get(0)?, key_type: r.get(1)?, label: r.get(2)?, active: r.get(3)?, out: r.get(4)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Loans by state; overdue ones are `out` loans past due now.
    pub fn loans(&self, filter: LoanFilter) -> Result<Vec<Loan>, Error> {
        let now = self.now();
        let condition = match filter {
            LoanFilter::All => "1 = 1",
            LoanFilter::Out => "l.state = 'out'",
            LoanFilter::Overdue => "l.state = 'out' AND l.due_at < ?1",
            LoanFilter::Lost => "l.state = 'lost'",
            LoanFilter::Paid => "l.state = 'paid'",
            LoanFilter::Returned => "l.state = 'returned'",
        };
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("{LOAN_SELECT} WHERE {condition} AND ?1 IS NOT NULL ORDER BY l.due_at, l.loan_id"))?;
        let rows = stmt.query_map([now], loan_row(now))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The keys a customer holds now.
    pub fn keys_held_by(&self, customer: PersonId) -> Result<Vec<Loan>, Error> {
        let now = self.now();
        let mut stmt =
            self.conn().prepare_cached(&format!("{LOAN_SELECT} WHERE l.customer = ?1 AND l.state = 'out' ORDER BY l.due_at, l.loan_id"))?;
        let rows = stmt.query_map([customer], loan_row(now))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every loan of a key, whatever became of it, newest first: who had
    /// it when.
    pub fn loans_of_key(&self, key: KeyId) -> Result<Vec<Loan>, Error> {
        self.loans_newest_first("l.key_id", key.to_string())
    }

    /// Every loan of a customer, whatever became of it, newest first.
    pub fn loans_of(&self, customer: PersonId) -> Result<Vec<Loan>, Error> {
        self.loans_newest_first("l.customer", customer.to_string())
    }

    /// Every loan whose `column` (a fixed column name, never input) is `value`.
    fn loans_newest_first(&self, column: &'static str, value: String) -> Result<Vec<Loan>, Error> {
        let now = self.now();
        let mut stmt = self.conn().prepare_cached(&format!("{LOAN_SELECT} WHERE {column} = ?1 ORDER BY l.out_at DESC, l.loan_id"))?;
        let rows = stmt.query_map([value], loan_row(now))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A customer's exceptions, newest expiry first.
    pub fn loan_exceptions(&self, customer: PersonId) -> Result<Vec<LoanException>, Error> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT exception_id, customer, type_id, max_keys, expires_at, revoked FROM loan_exceptions WHERE customer = ?1 ORDER BY expires_at DESC, exception_id",
        )?;
        let rows = stmt.query_map(params![customer], |r| {
            Ok(LoanException {
                id: r.get(0)?,
                customer: r.get(1)?,
                key_type: r.get(2)?,
                max_keys: r.get(3)?,
                expires_at: r.get(4)?,
                revoked: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
