//! Refusals of site commands.

use crate::actor::Denied;
use crate::ids::{CardNumber, CardTypeId, CardUid, DepartmentId, InvalidId};

/// Why a site command was refused.
// Serialized as a kind with values (`{"kind": "card-in-use", "values": {…}}`)
// so that a screen says it in its own language; the store's own failures
// are not the user's to read and do not serialize.
#[derive(Debug, thiserror::Error, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "SiteError"))]
#[serde(tag = "kind", content = "values", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    Store(#[from] crate::store::Error),
    /// The actor's role does not allow this.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// A value was not of the right form.
    #[error(transparent)]
    Invalid(#[from] InvalidId),
    /// This device already belongs to a site.
    #[error("This device already belongs to the site “{name}”.")]
    AlreadyHasSite {
        /// The site's name.
        name: String,
    },
    /// A required text was empty.
    #[error("The {field} cannot be empty.")]
    Empty {
        /// Which field.
        field: &'static str,
    },
    /// A card number range is backwards or too large.
    #[error("Cards {first}-{last} are not a valid range: the first number must not be above the last, and one type holds at most 10,000 cards.")]
    InvalidRange {
        /// First number.
        first: u32,
        /// Last number.
        last: u32,
    },
    /// A range overlaps another card type's.
    #[error("Cards {first}-{last} overlap the “{other}” cards ({other_first}-{other_last}). Choose numbers no other type uses.")]
    RangeOverlaps {
        /// First number.
        first: u32,
        /// Last number.
        last: u32,
        /// The other type's label.
        other: String,
        /// Its first number.
        other_first: u32,
        /// Its last number.
        other_last: u32,
    },
    /// No card type has this id.
    #[error("There is no card type “{0}”.")]
    UnknownCardType(CardTypeId),
    /// The number is in no card type's range.
    #[error("Card {0} is not in any card type's range. Add a card type that covers it first.")]
    UnknownCard(CardNumber),
    /// The UID already belongs to another card number.
    #[error("This card (UID {uid}) is already registered as card {number}.")]
    UidInUse {
        /// The UID.
        uid: CardUid,
        /// The card it belongs to.
        number: CardNumber,
    },
    /// No department has this id.
    #[error("There is no department “{0}”.")]
    UnknownDepartment(DepartmentId),
    /// A language the site's messages cannot be written in.
    #[error("Messages can be written in en, pl, uk or ru, not “{0}”.")]
    UnknownLanguage(String),
    /// Days overdue before a department is told, out of range.
    #[error("{0} days is not a number of days from 1 to 365.")]
    BadOverdueDays(u32),
    /// The reminder time is not `HH:MM`.
    #[error("“{0}” is not a time of day; write it as HH:MM, e.g. 17:30.")]
    BadTimeOfDay(String),
    /// The site's time zone is not one the device knows.
    #[error("“{0}” is not a time zone this device knows; use a name such as Europe/Warsaw.")]
    UnknownTimeZone(String),
    /// Retention must be at least a day.
    #[error("Guest data must be kept at least 1 day and at most 3650 days, not {0}.")]
    BadRetention(u32),
    /// Sign-in records must be kept at least a month.
    #[error("Sign-in records must be kept at least 31 days after their month ends (a month's records are erased whole) and at most 3650 days, not {0}.")]
    BadPresenceRetention(u32),
    /// A loan term of zero days.
    #[error("A loan term must be between 1 and 3650 days, not {0}.")]
    BadLoanTerm(u32),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_value() {
        let e = Error::RangeOverlaps { first: 150, last: 250, other: "Guest".into(), other_first: 100, other_last: 199 };
        assert_eq!(e.to_string(), "Cards 150-250 overlap the “Guest” cards (100-199). Choose numbers no other type uses.");
        assert!(Error::BadTimeOfDay("25:00".into()).to_string().contains("HH:MM"));
        assert!(Error::UnknownCard(CardNumber::new(999).unwrap()).to_string().contains("Card 999"));
        assert!(Error::InvalidRange { first: 5, last: 1 }.to_string().contains("5-1"));
        assert!(Error::UnknownTimeZone("Mars".into()).to_string().contains("“Mars”"));
        assert!(Error::BadRetention(0).to_string().contains("not 0"));
        assert!(Error::BadPresenceRetention(7).to_string().contains("not 7"));
        assert!(Error::BadLoanTerm(0).to_string().contains("not 0"));
        assert!(Error::Empty { field: "site name" }.to_string().contains("site name"));
    }
}
