//! Identifiers and small validated values: every id in Lodge is a newtype, so
//! a visit id can never be passed where a person id is expected.
//!
//! Each type has `Display`, serde, SQL conversions and Automerge mapping, and
//! a constructor that validates.

use std::fmt;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A value that was not a valid identifier, with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[error("“{value}” is not a valid {what}")]
pub struct InvalidId {
    /// What kind of identifier was expected.
    pub what: &'static str,
    /// The rejected text.
    pub value: String,
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
            /// The id from its textual form.
            pub fn parse(text: &str) -> Result<Self, InvalidId> {
                Uuid::parse_str(text)
                    .map(Self)
                    .map_err(|_| InvalidId { what: $what, value: text.to_owned() })
            }
            /// The underlying UUID.
            pub fn uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                Self::parse(s)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.0.to_string()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                Uuid::parse_str(text).map(Self).map_err(|e| FromSqlError::Other(Box::new(e)))
            }
        }

        impl Reconcile for $name {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
                reconciler.str(self.0.to_string())
            }
        }

        impl Hydrate for $name {
            fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| HydrateError::unexpected($what, s.to_owned()))
            }
        }
    };
}

uuid_id!(
    /// A building run by Lodge.
    SiteId, "site id"
);
uuid_id!(
    /// A staff member, worker or key customer.
    PersonId, "person id"
);
uuid_id!(
    /// One guest's visit.
    VisitId, "visit id"
);
uuid_id!(
    /// A physical key.
    KeyId, "key id"
);
uuid_id!(
    /// One lending of a key.
    LoanId, "loan id"
);
uuid_id!(
    /// A grant that lets a customer hold more keys of a type.
    ExceptionId, "loan exception id"
);
uuid_id!(
    /// An item of equipment.
    ItemId, "item id"
);
uuid_id!(
    /// A repair ticket.
    TicketId, "repair ticket id"
);
uuid_id!(
    /// An enrolled device (tablet, phone, desktop).
    DeviceId, "device id"
);
uuid_id!(
    /// An announcement or emergency sent to the site's devices.
    AnnouncementId, "announcement id"
);
uuid_id!(
    /// A roll call taken in an emergency.
    RollCallId, "roll call id"
);
uuid_id!(
    /// One appended fact in a document (a sign-in, a custody scan, an admission).
    EventId, "event id"
);

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        ///
        /// A short slug: 1 to 40 of `a-z`, `0-9` and `-`.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The slug, checked.
            pub fn parse(text: &str) -> Result<Self, InvalidId> {
                let ok = !text.is_empty()
                    && text.len() <= 40
                    && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if ok {
                    Ok(Self(text.to_owned()))
                } else {
                    Err(InvalidId { what: $what, value: text.to_owned() })
                }
            }
            /// The slug as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.0.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                Self::parse(value.as_str()?).map_err(|e| FromSqlError::Other(Box::new(e)))
            }
        }

        impl Reconcile for $name {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
                reconciler.str(&self.0)
            }
        }

        impl Hydrate for $name {
            fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
                Self::parse(s).map_err(|_| HydrateError::unexpected($what, s.to_owned()))
            }
        }
    };
}

slug_id!(
    /// A badge card type ("guest", "full-service", "admin").
    CardTypeId, "card type"
);
slug_id!(
    /// A department of the site.
    DepartmentId, "department"
);
slug_id!(
    /// An affiliation (staff, student, contractor…), which may require a user id.
    AffiliationId, "affiliation"
);
slug_id!(
    /// A type of key ("master", "lab-2").
    KeyTypeId, "key type"
);
slug_id!(
    /// A repair category ("electrical", "mechanical").
    RepairCategoryId, "repair category"
);

/// The number printed on a badge card (e.g. 105).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct CardNumber(u32);

impl CardNumber {
    /// Highest card number Lodge accepts.
    pub const MAX: u32 = 999_999;

    /// A card number, checked to be within 1..=999999.
    pub fn new(n: u32) -> Result<Self, InvalidId> {
        if (1..=Self::MAX).contains(&n) {
            Ok(Self(n))
        } else {
            Err(InvalidId { what: "card number", value: n.to_string() })
        }
    }
    /// Parse a typed card number ("105").
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        let bad = || InvalidId { what: "card number", value: text.to_owned() };
        text.trim().parse::<u32>().map_err(|_| bad()).and_then(|n| Self::new(n).map_err(|_| bad()))
    }
    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ToSql for CardNumber {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(i64::from(self.0)))
    }
}

impl FromSql for CardNumber {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let n = value.as_i64()?;
        u32::try_from(n)
            .ok()
            .and_then(|n| Self::new(n).ok())
            .ok_or(FromSqlError::OutOfRange(n))
    }
}

impl Reconcile for CardNumber {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.u64(u64::from(self.0))
    }
}

impl Hydrate for CardNumber {
    fn hydrate_uint(u: u64) -> Result<Self, HydrateError> {
        u32::try_from(u)
            .ok()
            .and_then(|n| Self::new(n).ok())
            .ok_or_else(|| HydrateError::unexpected("card number", u.to_string()))
    }
    fn hydrate_int(i: i64) -> Result<Self, HydrateError> {
        u64::try_from(i)
            .map_err(|_| HydrateError::unexpected("card number", i.to_string()))
            .and_then(Self::hydrate_uint)
    }
}

/// The UID an NFC card answers with, as upper-case hex ("04A224B1C25E80").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(try_from = "String", into = "String")]
pub struct CardUid(String);

impl CardUid {
    /// Parse hex (spaces and colons allowed), 4 to 10 bytes as NFC UIDs are.
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        let hex: String = text.chars().filter(|c| !matches!(c, ' ' | ':' | '-')).collect();
        let ok = hex.len().is_multiple_of(2)
            && (8..=20).contains(&hex.len())
            && hex.chars().all(|c| c.is_ascii_hexdigit());
        if ok {
            Ok(Self(hex.to_ascii_uppercase()))
        } else {
            Err(InvalidId { what: "card UID", value: text.to_owned() })
        }
    }
    /// From raw bytes as read from a reader.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, InvalidId> {
        let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        Self::parse(&hex)
    }
    /// The UID as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CardUid {
    type Error = InvalidId;
    fn try_from(s: String) -> Result<Self, InvalidId> {
        Self::parse(&s)
    }
}

impl From<CardUid> for String {
    fn from(id: CardUid) -> String {
        id.0
    }
}

impl fmt::Display for CardUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ToSql for CardUid {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.as_str()))
    }
}

impl FromSql for CardUid {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Self::parse(value.as_str()?).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

impl Reconcile for CardUid {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(&self.0)
    }
}

impl Hydrate for CardUid {
    fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
        Self::parse(s).map_err(|_| HydrateError::unexpected("card UID", s.to_owned()))
    }
}

/// An e-mail address, trimmed and lower-cased so that it identifies a customer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// A plausible address: one `@`, something before it, a dot after it, no spaces.
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        let t = text.trim().to_lowercase();
        let ok = match t.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && t.len() <= 254
                    && !t.chars().any(char::is_whitespace)
            }
            None => false,
        };
        if ok {
            Ok(Self(t))
        } else {
            Err(InvalidId { what: "e-mail address", value: text.to_owned() })
        }
    }
    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidId;
    fn try_from(s: String) -> Result<Self, InvalidId> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ToSql for Email {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.as_str()))
    }
}

impl FromSql for Email {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Self::parse(value.as_str()?).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

impl Reconcile for Email {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(&self.0)
    }
}

impl Hydrate for Email {
    fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
        Self::parse(s).map_err(|_| HydrateError::unexpected("e-mail address", s.to_owned()))
    }
}

/// A phone number as typed: digits with optional `+`, spaces, dashes and
/// brackets; 6 to 20 digits.
pub fn check_phone(text: &str) -> Result<String, InvalidId> {
    let t = text.trim();
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let ok = (6..=20).contains(&digits)
        && t.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'))
        && !t[1..].contains('+');
    if ok { Ok(t.to_owned()) } else { Err(InvalidId { what: "phone number", value: text.to_owned() }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_number_rejects_zero_and_words() {
        assert!(CardNumber::parse("105").is_ok());
        assert_eq!(CardNumber::parse(" 105 ").unwrap().get(), 105);
        assert_eq!(
            CardNumber::parse("abc").unwrap_err().to_string(),
            "“abc” is not a valid card number"
        );
        assert!(CardNumber::parse("0").is_err());
        assert!(CardNumber::new(1_000_000).is_err());
    }

    #[test]
    fn card_uid_normalises_hex() {
        assert_eq!(CardUid::parse("04:a2:24:b1").unwrap().as_str(), "04A224B1");
        assert_eq!(CardUid::from_bytes(&[0x04, 0xA2, 0x24, 0xB1]).unwrap().as_str(), "04A224B1");
        assert!(CardUid::parse("04A").is_err());
        assert!(CardUid::parse("zzzzzzzz").is_err());
    }

    #[test]
    fn email_is_lower_cased_and_checked() {
        assert_eq!(Email::parse(" Anna@Example.COM ").unwrap().as_str(), "anna@example.com");
        for bad in ["", "anna", "anna@", "@x.pl", "anna@x", "a b@x.pl", "a@.pl"] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn phones_are_checked() {
        assert_eq!(check_phone(" +48 600 100 200 ").unwrap(), "+48 600 100 200");
        for bad in ["12", "call me", "+48+600100200", "600-100-200x"] {
            assert!(check_phone(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn slugs_are_checked() {
        assert!(CardTypeId::parse("full-service").is_ok());
        assert_eq!(
            KeyTypeId::parse("Master Key").unwrap_err().to_string(),
            "“Master Key” is not a valid key type"
        );
    }

    #[test]
    fn uuid_ids_round_trip_text() {
        let id = VisitId::new();
        assert_eq!(VisitId::parse(&id.to_string()).unwrap(), id);
        assert!(VisitId::parse("nope").is_err());
    }
}
