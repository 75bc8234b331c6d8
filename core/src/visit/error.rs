//! Refusals of visit commands, in words a receptionist can act on.

use crate::actor::Denied;
use crate::ids::{CardNumber, CardUid, VisitId};
use crate::time::Timestamp;

use super::FieldError;

/// Why a visit command was refused.
// Serialized as a kind with values (`{"kind": "card-in-use", "values": {…}}`)
// so that a screen says it in its own language; the store's own failures
// are not the user's to read and do not serialize.
#[derive(Debug, thiserror::Error, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "VisitError"))]
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
    /// Some fields of the guest form need attention.
    #[error("Some answers need attention: {}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "))]
    InvalidForm(Vec<FieldError>),
    /// The visit is not on this device (rejected, or never synced here).
    #[error("This visit is no longer here; it may have been rejected.")]
    NotFound(VisitId),
    /// The guest is already in.
    #[error("{guest} is already in the building with card {card}.")]
    AlreadyAdmitted {
        /// Guest's name.
        guest: String,
        /// Their card.
        card: CardNumber,
    },
    /// The guest already left.
    #[error("{guest} already left at {left_at}.")]
    AlreadyLeft {
        /// Guest's name.
        guest: String,
        /// When.
        left_at: Timestamp,
    },
    /// The guest is still waiting, so there is no card to release.
    #[error("{guest} has not been admitted yet, so there is no card to take back.")]
    NotAdmitted {
        /// Guest's name.
        guest: String,
    },
    /// Only waiting entries can be rejected.
    #[error("{guest} is already in the building; release their card instead of rejecting the entry.")]
    NotWaiting {
        /// Guest's name.
        guest: String,
    },
    /// No card type covers this number.
    #[error("Card {0} is not one of this site's cards.")]
    UnknownCard(CardNumber),
    /// The card is out of use.
    #[error("Card {0} is out of use. Take another card.")]
    CardInactive(CardNumber),
    /// The card's type is not for guests.
    #[error("Card {card} is of the type “{card_type}”, which guests do not get. Take a guest card.")]
    CardNotForGuests {
        /// The card.
        card: CardNumber,
        /// Its type's name.
        card_type: String,
    },
    /// The card is a staff member's own badge.
    #[error("Card {card} is {person}'s own badge. Take a guest card.")]
    CardIsBadge {
        /// The card.
        card: CardNumber,
        /// Whose badge it is.
        person: String,
    },
    /// The card is still on another open visit.
    #[error("Card {card} is already with {guest} since {since}. Release that visit's card first, or admit with “take the card over”.")]
    CardInUse {
        /// The card.
        card: CardNumber,
        /// The guest who has it by the ledger.
        guest: String,
        /// Since when.
        since: Timestamp,
        /// That guest's visit.
        visit: VisitId,
    },
    /// No card with this UID is registered.
    #[error("This card (UID {0}) is not registered. Register it in the site settings, or type its number.")]
    UnknownCardUid(CardUid),
    /// Nobody has this card now.
    #[error("Card {0} is not with any guest now.")]
    CardNotOut(CardNumber),
    /// A conflict fix named a visit that is not in the conflict.
    #[error("There is no open conflict over card {0} to resolve, or that visit is not part of it.")]
    NoSuchConflict(CardNumber),
    /// The day a guest is expected is not a day.
    #[error("“{0}” is not a day; write it as YYYY-MM-DD.")]
    NotADay(String),
    /// The day a guest is expected is past.
    #[error("{day} is already past; choose today or a later day.")]
    DayPast {
        /// The day.
        day: String,
    },
    /// Too far ahead.
    #[error("A guest can be expected at most {max} days ahead.")]
    TooFarAhead {
        /// The most days.
        max: u32,
    },
    /// A phone expected as many guests as it may in a day.
    #[error("You have expected {max} guests in the last day, as many as a phone may; ask reception for more.")]
    TooManyExpected {
        /// The most a day.
        max: u32,
    },
    /// No guest expected today has this invitation code.
    #[error("This invitation code is not for today, or not known here. Check it, or fill in the form.")]
    UnknownInvitation,
    /// The guest is no longer expected: they came already.
    #[error("{guest} has come already; they are waiting at the desk or in the building.")]
    NotExpected {
        /// Guest's name.
        guest: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visit::GuestField;

    #[test]
    fn card_in_use_names_the_guest_and_the_way_out() {
        let e = Error::CardInUse {
            card: CardNumber::new(105).unwrap(),
            guest: "Anna Kowalska".into(),
            since: Timestamp::from_millis(1_795_000_000_000),
            visit: VisitId::new(),
        };
        let text = e.to_string();
        assert!(text.starts_with("Card 105 is already with Anna Kowalska since 2026-"), "{text}");
        assert!(text.contains("take the card over"));
    }

    #[test]
    fn every_message_reads_as_a_sentence() {
        let card = CardNumber::new(705).unwrap();
        let errors = vec![
            Error::InvalidForm(vec![FieldError { field: GuestField::Name, problem: crate::visit::FieldProblem::Missing, message: "Please write your name.".into() }]),
            Error::NotFound(VisitId::new()),
            Error::AlreadyAdmitted { guest: "Jan".into(), card },
            Error::AlreadyLeft { guest: "Jan".into(), left_at: Timestamp::from_millis(0) },
            Error::NotAdmitted { guest: "Jan".into() },
            Error::NotWaiting { guest: "Jan".into() },
            Error::UnknownCard(card),
            Error::CardInactive(card),
            Error::CardNotForGuests { card, card_type: "Admin".into() },
            Error::CardIsBadge { card, person: "Ola".into() },
            Error::UnknownCardUid(CardUid::parse("04A224B1").unwrap()),
            Error::CardNotOut(card),
            Error::NoSuchConflict(card),
            Error::NotADay("tomorrow".into()),
            Error::DayPast { day: "2026-12-01".into() },
            Error::TooFarAhead { max: 366 },
            Error::UnknownInvitation,
            Error::TooManyExpected { max: 30 },
            Error::NotExpected { guest: "Jan".into() },
        ];
        for e in errors {
            let t = e.to_string();
            assert!(t.ends_with('.'), "{t}");
            assert!(!t.contains("Error"), "{t}");
        }
    }
}
