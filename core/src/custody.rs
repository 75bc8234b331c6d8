//! The custody ledger: for any person, everything they hold now — their
//! badge card, keys and items — read from the projections in one place, so
//! signing out can say "you still hold key 12 and drill D-7".

use serde::{Deserialize, Serialize};

use crate::document::{DocId, DocKind};
use crate::equipment::Item;
use crate::ids::{CardNumber, PersonId};
use crate::key_loan::Loan;
use crate::store::{Error, Store};

/// What a person holds now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Holdings {
    /// Their own badge card.
    pub badge_card: Option<CardNumber>,
    /// Keys lent to them.
    pub keys: Vec<Loan>,
    /// Items they took.
    pub items: Vec<Item>,
}

impl Holdings {
    /// Whether they hold keys or items (their own badge does not count).
    pub fn holds_things(&self) -> bool {
        !self.keys.is_empty() || !self.items.is_empty()
    }

    /// "key 12 and drill D-7", for a sign-out reminder; empty when nothing.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.keys.iter().map(|k| format!("key {}", k.label)).collect();
        parts.extend(self.items.iter().map(|i| format!("{} {}", i.name.to_lowercase(), i.asset_number)));
        match parts.len() {
            0 => String::new(),
            1 => parts.remove(0),
            _ => {
                let last = parts.pop().unwrap_or_default();
                format!("{} and {last}", parts.join(", "))
            }
        }
    }
}

impl Store {
    /// Everything `person` holds now.
    pub fn holdings(&self, person: PersonId) -> Result<Holdings, Error> {
        let badge_card = self.person(person)?.and_then(|p| p.badge_card);
        Ok(Holdings { badge_card, keys: self.keys_held_by(person)?, items: self.equipment_held_by(person)? })
    }

    /// Whether `person` holds the key or item of document `doc` now (a
    /// key's loan is out to them, an item is in their custody); `false` for
    /// any other kind of document. What a phone may see of the key desk
    /// and the equipment turns on this.
    pub fn holds(&self, person: PersonId, doc: &DocId) -> Result<bool, Error> {
        let query = match doc.kind() {
            // A key by any of its loans, wherever kept; a loan book by its own.
            DocKind::Key => "SELECT EXISTS (SELECT 1 FROM loans WHERE key_id = substr(?1, 5) AND customer = ?2 AND state = 'out')",
            DocKind::LoanBook => "SELECT EXISTS (SELECT 1 FROM loans WHERE doc_id = ?1 AND customer = ?2 AND state = 'out')",
            DocKind::Equipment => "SELECT EXISTS (SELECT 1 FROM equipment WHERE doc_id = ?1 AND holder = ?2)",
            _ => return Ok(false),
        };
        Ok(self.conn().prepare_cached(query)?.query_row(rusqlite::params![doc, person], |r| r.get(0))?)
    }

    /// Whether `person` ever held the key or item of document `doc`: a
    /// phone that may have a copy of it, to be told to drop it.
    pub fn ever_held(&self, person: PersonId, doc: &DocId) -> Result<bool, Error> {
        let query = match doc.kind() {
            DocKind::Key => "SELECT EXISTS (SELECT 1 FROM loans WHERE key_id = substr(?1, 5) AND customer = ?2)",
            DocKind::LoanBook => "SELECT EXISTS (SELECT 1 FROM loans WHERE doc_id = ?1 AND customer = ?2)",
            DocKind::Equipment => {
                "SELECT EXISTS (SELECT 1 FROM custody c JOIN equipment e ON e.item_id = c.item_id WHERE e.doc_id = ?1 AND c.holder = ?2)"
            }
            _ => return Ok(false),
        };
        Ok(self.conn().prepare_cached(query)?.query_row(rusqlite::params![doc, person], |r| r.get(0))?)
    }
}
