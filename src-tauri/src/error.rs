//! What the UI gets when a command is refused: the core's message, in words
//! a receptionist can act on, and for a form the field each problem is in,
//! so the screen can put it next to what caused it.

use serde::Serialize;
use ts_rs::TS;

use lodge_core::visit::FieldError;

/// A refused command.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Refusal {
    /// What went wrong and what to do.
    pub message: String,
    /// For a form: each field's problem.
    pub fields: Vec<FieldError>,
    /// What the screen may offer to do about it, as values (the screen
    /// decides by this, never by the words).
    pub remedy: Option<Remedy>,
}

/// A way out of a refusal that the screen can offer as a button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "remedy", rename_all = "kebab-case")]
pub enum Remedy {
    /// The card is still with another guest (their card was never given
    /// back): the desk may take it over, which releases that visit.
    TakeCardOver {
        /// The card.
        card: u32,
        /// The guest who has it.
        guest: String,
    },
}

impl Refusal {
    /// A refusal in plain words.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), fields: Vec::new(), remedy: None }
    }
}

impl From<lodge_core::visit::Error> for Refusal {
    fn from(e: lodge_core::visit::Error) -> Self {
        use lodge_core::visit::Error;
        let message = e.to_string();
        match e {
            Error::InvalidForm(fields) => Self { message, fields, remedy: None },
            Error::CardInUse { card, guest, .. } => {
                Self { message, fields: Vec::new(), remedy: Some(Remedy::TakeCardOver { card: card.get(), guest }) }
            }
            _ => Self::new(message),
        }
    }
}

macro_rules! refusal_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Refusal {
            fn from(e: $t) -> Self {
                Self::new(e.to_string())
            }
        }
    )*};
}

refusal_from!(
    lodge_core::StoreError,
    lodge_core::presence::Error,
    lodge_core::person::Error,
    lodge_core::site::Error,
    lodge_core::key_loan::Error,
    lodge_core::equipment::Error,
    lodge_core::repair::Error,
    lodge_core::announcement::Error,
    lodge_core::sync::EnrolError,
    lodge_core::sync::admin::AdminError,
    lodge_core::Denied,
    lodge_core::InvalidId
);

/// The result of every command.
pub type Answer<T> = Result<T, Refusal>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_in_use_offers_to_take_it_over_as_values() {
        let e = lodge_core::visit::Error::CardInUse {
            card: lodge_core::CardNumber::new(105).unwrap(),
            guest: "Olga Late".into(),
            since: lodge_core::Timestamp::from_millis(0),
            visit: lodge_core::VisitId::new(),
        };
        let r = Refusal::from(e);
        assert_eq!(r.remedy, Some(Remedy::TakeCardOver { card: 105, guest: "Olga Late".into() }));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["remedy"], serde_json::json!({ "remedy": "take-card-over", "card": 105, "guest": "Olga Late" }));
        assert_eq!(Refusal::from(lodge_core::visit::Error::InvalidForm(Vec::new())).remedy, None);
    }
}
