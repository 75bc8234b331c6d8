//! The guest form and its checks, field by field, so the kiosk can show an
//! error next to the field the guest just left and the core refuses the same
//! things when the form is sent.

use serde::{Deserialize, Serialize};

use crate::ids::{Email, PersonId, check_phone};

/// What a guest types on the kiosk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GuestForm {
    /// Full name.
    pub name: String,
    /// Company, or "private".
    pub company: String,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Whom they visit, picked from the directory.
    pub host: Option<PersonId>,
    /// Why they came.
    pub purpose: Option<String>,
    /// Whether they ticked the consent box.
    pub consent: bool,
    /// The language the kiosk showed the form in (`en`, `pl`, `uk`, `ru`):
    /// the consent kept with the visit is the text the guest read.
    #[serde(default)]
    pub language: Option<String>,
}

/// A field of the guest form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum GuestField {
    /// Name.
    Name,
    /// Company.
    Company,
    /// E-mail.
    Email,
    /// Phone.
    Phone,
    /// Host.
    Host,
    /// Purpose.
    Purpose,
    /// Consent checkbox.
    Consent,
}

/// What is wrong with a field, so that a screen can say it in the guest's
/// language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum FieldProblem {
    /// Left empty.
    Missing,
    /// Longer than allowed.
    TooLong,
    /// Not an e-mail address or phone number.
    Malformed,
    /// Neither e-mail nor phone, where one is required.
    NoContact,
    /// The consent box is not ticked.
    NotAccepted,
    /// The chosen host is not in the directory.
    UnknownHost,
}

/// One field's problem, in words for the guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[error("{message}")]
pub struct FieldError {
    /// The field.
    pub field: GuestField,
    /// What is wrong.
    pub problem: FieldProblem,
    /// What to do about it, in English.
    pub message: String,
}

/// A form that passed every check, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckedGuest {
    pub name: String,
    pub company: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub host: PersonId,
    pub purpose: String,
}

const MAX_TEXT: usize = 120;

fn trimmed(text: &Option<String>) -> Option<String> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// Check every field; `contact_required` and `purpose_required` come from the
/// site. The host is only checked to be chosen here; that it exists is
/// checked against the directory by the command.
pub fn check_guest_form(form: &GuestForm, contact_required: bool, purpose_required: bool) -> Result<(), Vec<FieldError>> {
    check(form, contact_required, purpose_required).map(|_| ())
}

pub(crate) fn check(form: &GuestForm, contact_required: bool, purpose_required: bool) -> Result<CheckedGuest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field, problem, message: &str| errors.push(FieldError { field, problem, message: message.to_owned() });
    let name = form.name.trim().to_owned();
    if name.is_empty() {
        err(GuestField::Name, FieldProblem::Missing, "Please write your name.");
    } else if name.chars().count() > MAX_TEXT {
        err(GuestField::Name, FieldProblem::TooLong, "Please shorten your name to 120 characters.");
    }
    let company = form.company.trim().to_owned();
    if company.is_empty() {
        err(GuestField::Company, FieldProblem::Missing, "Please write your company, or “private”.");
    } else if company.chars().count() > MAX_TEXT {
        err(GuestField::Company, FieldProblem::TooLong, "Please shorten the company to 120 characters.");
    }
    let email = trimmed(&form.email);
    if let Some(e) = &email
        && Email::parse(e).is_err() {
            err(GuestField::Email, FieldProblem::Malformed, "This does not look like an e-mail address (name@example.com).");
        }
    let phone = trimmed(&form.phone);
    if let Some(p) = &phone
        && check_phone(p).is_err() {
            err(GuestField::Phone, FieldProblem::Malformed, "This does not look like a phone number.");
        }
    if contact_required && email.is_none() && phone.is_none() {
        err(GuestField::Email, FieldProblem::NoContact, "Please leave an e-mail address or a phone number.");
    }
    if form.host.is_none() {
        err(GuestField::Host, FieldProblem::Missing, "Please choose whom you are visiting.");
    }
    let purpose = trimmed(&form.purpose).unwrap_or_default();
    if purpose_required && purpose.is_empty() {
        err(GuestField::Purpose, FieldProblem::Missing, "Please say why you came.");
    } else if purpose.chars().count() > 500 {
        err(GuestField::Purpose, FieldProblem::TooLong, "Please shorten the purpose to 500 characters.");
    }
    if !form.consent {
        err(GuestField::Consent, FieldProblem::NotAccepted, "Please read and accept the consent to continue.");
    }
    match (errors.is_empty(), form.host) {
        (true, Some(host)) => Ok(CheckedGuest {
            name,
            company,
            email: email.map(|e| Email::parse(&e).map(String::from).unwrap_or(e)),
            phone,
            host,
            purpose,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> GuestForm {
        GuestForm {
            name: " Jan Nowak ".into(),
            company: "Acme".into(),
            email: Some("Jan@Acme.pl".into()),
            phone: None,
            host: Some(PersonId::new()),
            purpose: None,
            consent: true,
            language: None,
        }
    }

    fn fields(result: Result<CheckedGuest, Vec<FieldError>>) -> Vec<GuestField> {
        result.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_good_form_is_trimmed() {
        let c = check(&good(), true, false).unwrap();
        assert_eq!(c.name, "Jan Nowak");
        assert_eq!(c.email.as_deref(), Some("jan@acme.pl"));
    }

    #[test]
    fn every_problem_is_named_by_field() {
        let form = GuestForm { name: "  ".into(), company: String::new(), email: Some("x@".into()), phone: Some("abc".into()), host: None, purpose: None, consent: false, language: None };
        assert_eq!(
            fields(check(&form, false, true)),
            vec![GuestField::Name, GuestField::Company, GuestField::Email, GuestField::Phone, GuestField::Host, GuestField::Purpose, GuestField::Consent]
        );
    }

    #[test]
    fn contact_is_required_only_when_the_site_says_so() {
        let form = GuestForm { email: None, ..good() };
        assert!(check(&form, false, false).is_ok());
        assert_eq!(fields(check(&form, true, false)), vec![GuestField::Email]);
    }

    #[test]
    fn consent_is_never_assumed() {
        let form = GuestForm { consent: false, ..good() };
        let errs = check(&form, false, false).unwrap_err();
        assert_eq!(errs[0].message, "Please read and accept the consent to continue.");
    }
}
