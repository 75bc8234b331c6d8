//! "I work here": the contact a person gives to be sent a sign-in code, and
//! which phone role their person record gives them. The server finds the
//! person by it; the phone checks the form with the same rules first.

use serde::{Deserialize, Serialize};

use super::{ContactChannel, Person};
use crate::actor::Role;
use crate::ids::Email;
use crate::store::{Error, Store};

/// An e-mail address or a phone number, as a person types it to be sent a
/// code. Phone numbers are kept as `+` and digits, so that spaces and
/// dashes do not make two numbers of one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignInContact {
    /// An e-mail address (lowercased).
    Email(Email),
    /// A phone number: an optional `+` and 6 to 15 digits.
    Phone(String),
}

/// A contact that is neither an e-mail address nor a phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("Write your work e-mail address (name@company.com) or your phone number with its country code (+48 600 100 200).")]
pub struct BadContact;

impl SignInContact {
    /// Read what a person typed.
    pub fn parse(text: &str) -> Result<Self, BadContact> {
        let text = text.trim();
        if text.contains('@') {
            return Email::parse(text).map(SignInContact::Email).map_err(|_| BadContact);
        }
        let phone = normalize_phone(text).ok_or(BadContact)?;
        Ok(SignInContact::Phone(phone))
    }

    /// The normal form (what is hashed and compared).
    pub fn as_str(&self) -> &str {
        match self {
            SignInContact::Email(e) => e.as_str(),
            SignInContact::Phone(p) => p,
        }
    }

    /// How a code is sent to it.
    pub fn channel(&self) -> ContactChannel {
        match self {
            SignInContact::Email(_) => ContactChannel::Email,
            SignInContact::Phone(_) => ContactChannel::Sms,
        }
    }

    /// The contact with most of it hidden, for the audit trail (which must
    /// not become a list of addresses people tried): `m…@acme.test`,
    /// `+48…200`.
    pub fn masked(&self) -> String {
        match self {
            SignInContact::Email(e) => {
                let (local, domain) = e.as_str().split_once('@').unwrap_or(("", e.as_str()));
                format!("{}…@{domain}", local.chars().next().unwrap_or('?'))
            }
            SignInContact::Phone(p) => {
                let head: String = p.chars().take(3).collect();
                let tail: String = p.chars().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect();
                format!("{head}…{tail}")
            }
        }
    }
}

/// `+` and digits of a phone number written with spaces, dashes, dots or
/// brackets; `None` when it is not one.
pub fn normalize_phone(text: &str) -> Option<String> {
    let text = text.trim();
    let (plus, rest) = match text.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", text),
    };
    if !rest.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')')) {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    (6..=15).contains(&digits.len()).then(|| format!("{plus}{digits}"))
}

/// The phone a person's record gives them, if any: staff before worker (a
/// person may be both); other roles join on desks, not phones.
pub fn phone_role(person: &Person) -> Option<Role> {
    if !person.active {
        return None;
    }
    [Role::Staff, Role::Worker].into_iter().find(|r| person.roles.contains(r))
}

impl Store {
    /// The active person this contact belongs to, who may have a phone.
    /// Both lookups always run, so that a known and an unknown contact
    /// cost the same.
    pub fn person_by_contact(&self, contact: &SignInContact) -> Result<Option<(Person, Role)>, Error> {
        let email = match contact {
            SignInContact::Email(e) => Some(e.clone()),
            SignInContact::Phone(_) => None,
        };
        let by_email = match &email {
            Some(e) => self.person_by_email(e)?,
            None => None,
        };
        let mut by_phone = None;
        let phones: Vec<(crate::ids::PersonId, String)> = self
            .conn()
            .prepare_cached("SELECT person_id, phone FROM people WHERE active = 1 AND phone IS NOT NULL ORDER BY person_id")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        if let SignInContact::Phone(wanted) = contact {
            let found = phones.iter().find(|(_, phone)| normalize_phone(phone).as_deref() == Some(wanted.as_str()));
            if let Some((id, _)) = found {
                by_phone = self.person(*id)?;
            }
        }
        Ok(by_email.or(by_phone).and_then(|p| phone_role(&p).map(|role| (p, role))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_read_as_people_type_them() {
        assert_eq!(SignInContact::parse(" Anna@ACME.test ").unwrap().as_str(), "anna@acme.test");
        assert_eq!(SignInContact::parse("+48 600-100-200").unwrap().as_str(), "+48600100200");
        assert_eq!(SignInContact::parse("(600) 100 200").unwrap().as_str(), "600100200");
        for bad in ["", "anna", "anna@", "12345", "+48 600 abc", "1234567890123456"] {
            assert_eq!(SignInContact::parse(bad), Err(BadContact), "{bad:?}");
        }
        assert_eq!(SignInContact::parse("marta@acme.test").unwrap().masked(), "m…@acme.test");
        assert_eq!(SignInContact::parse("+48600100200").unwrap().masked(), "+48…200");
    }
}
