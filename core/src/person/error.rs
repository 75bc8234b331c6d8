//! Refusals of person commands.

use crate::actor::Denied;
use crate::ids::{AffiliationId, CardNumber, DepartmentId, Email, InvalidId, PersonId};

/// Why a person command was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
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
    /// The badge card number is in no card type's range.
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
