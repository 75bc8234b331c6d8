//! Document ids: `kind:rest`, the same on every device and on the server.

use std::fmt;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};

use super::DocKind;
use crate::ids::{AnnouncementId, ExceptionId, InvalidId, ItemId, KeyId, PersonId, RollCallId, SiteId, TicketId, VisitId};

/// The name of one document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(try_from = "String", into = "String")]
pub struct DocId(String);

impl DocId {
    /// The site's settings document.
    pub fn site(site: SiteId) -> Self {
        Self(format!("site:{site}"))
    }
    /// The site's directory of people guests may ask for.
    pub fn directory(site: SiteId) -> Self {
        Self(format!("directory:{site}"))
    }
    /// A person.
    pub fn person(id: PersonId) -> Self {
        Self(format!("person:{id}"))
    }
    /// A guest visit.
    pub fn visit(id: VisitId) -> Self {
        Self(format!("visit:{id}"))
    }
    /// A person's presence in one month (`YYYY-MM`). Devices create it
    /// independently, so its first change is deterministic.
    pub fn presence(person: PersonId, month: &str) -> Self {
        Self(format!("presence:{person}:{month}"))
    }
    /// A key.
    pub fn key(id: KeyId) -> Self {
        Self(format!("key:{id}"))
    }
    /// A key's loan book for one month (`YYYY-MM`, UTC, of when each of
    /// its loans began). Desks create it independently, so its first
    /// change is deterministic.
    pub fn loan_book(key: KeyId, month: &str) -> Self {
        Self(format!("loan-book:{key}:{month}"))
    }
    /// A loan exception.
    pub fn loan_exception(id: ExceptionId) -> Self {
        Self(format!("loan-exception:{id}"))
    }
    /// An item of equipment.
    pub fn equipment(id: ItemId) -> Self {
        Self(format!("equipment:{id}"))
    }
    /// A repair ticket.
    pub fn repair(id: TicketId) -> Self {
        Self(format!("repair:{id}"))
    }

    /// An announcement.
    pub fn announcement(id: AnnouncementId) -> Self {
        Self(format!("announcement:{id}"))
    }

    /// A roll call.
    pub fn roll_call(id: RollCallId) -> Self {
        Self(format!("roll-call:{id}"))
    }

    /// Parse and check a document id received from elsewhere.
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        let bad = || InvalidId { what: "document id", value: text.to_owned() };
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        let kind = DocKind::parse(kind).ok_or_else(bad)?;
        let uuid_ok = |s: &str| uuid::Uuid::parse_str(s).is_ok();
        let month_ok = |month: &str| {
            month.len() == 7 && month.as_bytes()[4] == b'-' && month.bytes().enumerate().all(|(i, b)| i == 4 || b.is_ascii_digit())
        };
        let ok = match kind {
            DocKind::Presence | DocKind::LoanBook => match rest.split_once(':') {
                Some((id, month)) => uuid_ok(id) && month_ok(month),
                None => false,
            },
            _ => uuid_ok(rest),
        };
        if ok { Ok(Self(text.to_owned())) } else { Err(bad()) }
    }

    /// For a loan book, its key's document: who may see the key turns on
    /// the loans in its books. `None` for any other document.
    pub fn key_of_book(&self) -> Option<DocId> {
        let rest = self.0.strip_prefix("loan-book:")?;
        let (key, _) = rest.split_once(':')?;
        Some(Self(format!("key:{key}")))
    }

    /// The kind named by the id.
    pub fn kind(&self) -> DocKind {
        let name = self.0.split_once(':').map(|(k, _)| k).unwrap_or_default();
        DocKind::parse(name).expect("a DocId is only built with a known kind")
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DocId {
    type Error = InvalidId;
    fn try_from(s: String) -> Result<Self, InvalidId> {
        Self::parse(&s)
    }
}

impl From<DocId> for String {
    fn from(d: DocId) -> String {
        d.0
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ToSql for DocId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.as_str()))
    }
}

impl FromSql for DocId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Self::parse(value.as_str()?).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_name_their_kind() {
        let p = PersonId::new();
        let ids = [
            DocId::site(SiteId::new()),
            DocId::person(p),
            DocId::presence(p, "2026-11"),
            DocId::visit(VisitId::new()),
            DocId::loan_book(KeyId::new(), "2026-12"),
        ];
        for id in ids {
            assert_eq!(DocId::parse(id.as_str()).unwrap(), id);
        }
        assert_eq!(DocId::presence(p, "2026-11").kind(), DocKind::Presence);
        let key = KeyId::new();
        assert_eq!(DocId::loan_book(key, "2026-11").kind(), DocKind::LoanBook);
        assert_eq!(DocId::loan_book(key, "2026-11").key_of_book(), Some(DocId::key(key)));
        assert_eq!(DocId::key(key).key_of_book(), None);
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in ["", "visit", "visit:123", "nope:0b6f5f5e-7f1f-4b8e-9d7e-0d7a1f0e4c11", "presence:x:2026-11", "loan-book:0b6f5f5e-7f1f-4b8e-9d7e-0d7a1f0e4c11", "loan-book:0b6f5f5e-7f1f-4b8e-9d7e-0d7a1f0e4c11:26-12"] {
            assert!(DocId::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
