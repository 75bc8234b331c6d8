//! A document's change history: who did what, from the change messages
//! every command writes. The admin's audit reads it.

use serde::{Deserialize, Serialize};

use super::{Error, Store};
use crate::document::DocId;
use crate::time::Timestamp;

/// One change of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DocChange {
    /// "admit by Anna Kowalska <person:…>".
    pub message: String,
    /// When, by the writing device's clock (second precision).
    pub at: Timestamp,
}

impl Store {
    /// Every change of a document, oldest first (`None` if it is not here).
    pub fn change_history(&mut self, doc: &DocId) -> Result<Vec<DocChange>, Error> {
        let Some(loaded) = self.loaded(doc)? else {
            return Ok(Vec::new());
        };
        let mut changes: Vec<DocChange> = loaded
            .doc
            .get_changes(&[])
            .iter()
            .map(|c| DocChange { message: c.message().unwrap_or_default().to_owned(), at: Timestamp::from_millis(c.timestamp() * 1000) })
            .collect();
        changes.sort_by_key(|c| c.at);
        Ok(changes)
    }
}
