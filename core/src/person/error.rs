//! Refusals of person commands.

use crate::actor::Denied;
use crate::ids::{AffiliationId, CardNumber, DepartmentId, Email, InvalidId, PersonId};

/// Why a person command was refused.
// Serialized as a kind with values (`{"kind": "card-in-use", "values": {…}}`)
// so that a screen says it in its own language; the store's own failures
// are not the user's to read and do not serialize.
#[derive(Debug, thiserror::Error, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "PersonError"))]
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
    /// A value was not of the right form (e-mail, phone).
    #[error(transparent)]
    Invalid(#[from] InvalidId),
    /// A preferred channel the person has no address for.
    #[error("There is no {} for this person to be reached by; add it first.", match channel { super::ContactChannel::Email => "e-mail address", super::ContactChannel::Sms => "phone number" })]
    NoAddressFor {
        /// The channel asked for.
        channel: super::ContactChannel,
    },
    /// The name is empty.
    #[error("A person needs a name.")]
    NoName,
    /// No such department.
    #[error("There is no department “{0}”. Add it in the site settings first.")]
    UnknownDepartment(DepartmentId),
    /// No such affiliation.
    #[error("There is no affiliation “{0}”. Add it in the site settings first.")]
    UnknownAffiliation(AffiliationId),
    /// Another active person has this e-mail.
    #[error("{email} already belongs to {name}.")]
    EmailInUse {
        /// The address.
        email: Email,
        /// Who has it.
        name: String,
    },
    /// Another person has this badge card.
    #[error("Card {card} is already {name}'s badge.")]
    CardInUse {
        /// The card.
        card: CardNumber,
        /// Whose it is.
        name: String,
    },
    /// The card's type is handed to guests, not kept as a badge.
    #[error("Card {card} is of the type “{card_type}”, which reception hands to guests. A person's own badge is a card of another type.")]
    CardForGuests {
        /// The card.
        card: CardNumber,
        /// Its type's name.
        card_type: String,
    },
    /// No card type covers this number.
    #[error("Card {0} is not in any card type's range.")]
    UnknownCard(CardNumber),
    /// No such person here.
    #[error("This person ({0}) is not known on this device.")]
    NotFound(PersonId),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_value() {
        let e = Error::EmailInUse { email: Email::parse("anna@x.pl").unwrap(), name: "Anna Kowalska".into() };
        assert_eq!(e.to_string(), "anna@x.pl already belongs to Anna Kowalska.");
        let e = Error::UnknownDepartment(DepartmentId::parse("lab").unwrap());
        assert!(e.to_string().contains("“lab”"));
        assert!(Error::NoName.to_string().contains("name"));
        let e = Error::CardInUse { card: CardNumber::new(705).unwrap(), name: "Ola".into() };
        assert_eq!(e.to_string(), "Card 705 is already Ola's badge.");
    }
}
