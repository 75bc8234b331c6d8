//! What the UI gets when a command is refused: the core's reason as a kind
//! with values, which the screen says in its own language and with times in
//! the site's zone; the core's English words beside it for what has no
//! kind (the device's own failures); and for a form the field each problem
//! is in, so the screen can put it next to what caused it.

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
    /// Why, as the area and the core's kind with values: what the screen
    /// translates. None for a failure of the device itself (its store).
    #[ts(as = "Option<Reason>")]
    pub reason: Option<serde_json::Value>,
}

/// The core's refusal, by the area of the command that was refused. Kept as
/// a JSON value in `Refusal` (the core's errors hold their causes, which
/// neither clone nor serialize); this type is what the UI reads it as.
#[derive(Debug, Serialize, TS)]
#[serde(tag = "area", content = "refusal", rename_all = "kebab-case")]
pub enum Reason {
    /// Guests and cards.
    Visit(lodge_core::visit::Error),
    /// Sign-ins.
    Presence(lodge_core::presence::Error),
    /// People.
    Person(lodge_core::person::Error),
    /// The site's settings.
    Site(lodge_core::site::Error),
    /// The key desk.
    Keys(lodge_core::key_loan::Error),
    /// Equipment.
    Equipment(lodge_core::equipment::Error),
    /// Repair tickets.
    Repair(lodge_core::repair::Error),
    /// Announcements.
    Announcement(lodge_core::announcement::Error),
    /// Roll calls.
    RollCall(lodge_core::roll_call::Error),
    /// The period of the statistics.
    Statistics(lodge_core::statistics::PeriodError),
    /// A role that may not do this.
    Denied(lodge_core::Denied),
    /// A malformed identifier.
    Invalid(lodge_core::InvalidId),
    /// The server refused, and what kind of refusal it was.
    Server(lodge_core::sync::ApiErrorKind),
}

impl Reason {
    /// The reason as the UI receives it; none when it is the device's own
    /// failure, which has no kind to translate.
    fn value(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }
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
        Self { message: message.into(), fields: Vec::new(), remedy: None, reason: None }
    }

    fn with_reason(message: String, reason: Reason) -> Self {
        Self { message, fields: Vec::new(), remedy: None, reason: reason.value() }
    }
}

impl From<lodge_core::visit::Error> for Refusal {
    fn from(e: lodge_core::visit::Error) -> Self {
        use lodge_core::visit::Error;
        let message = e.to_string();
        let fields = match &e {
            Error::InvalidForm(fields) => fields.clone(),
            _ => Vec::new(),
        };
        let remedy = match &e {
            Error::CardInUse { card, guest, .. } => Some(Remedy::TakeCardOver { card: card.get(), guest: guest.clone() }),
            _ => None,
        };
        Self { message, fields, remedy, reason: Reason::Visit(e).value() }
    }
}

impl From<lodge_core::statistics::PeriodError> for Refusal {
    fn from(e: lodge_core::statistics::PeriodError) -> Self {
        match e {
            // The device's own failure keeps its words, as the store's do.
            lodge_core::statistics::PeriodError::Store(e) => e.into(),
            e => Self::with_reason(e.to_string(), Reason::Statistics(e)),
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

macro_rules! refusal_with_reason {
    ($($t:ty => $area:ident),*) => {$(
        impl From<$t> for Refusal {
            fn from(e: $t) -> Self {
                Self::with_reason(e.to_string(), Reason::$area(e))
            }
        }
    )*};
}

// The device's own failures and the server's answers keep their words.
refusal_from!(lodge_core::StoreError);

impl From<lodge_core::sync::admin::AdminError> for Refusal {
    fn from(e: lodge_core::sync::admin::AdminError) -> Self {
        match e {
            // Its kind goes with it: the screen decides by that, never by the words.
            lodge_core::sync::admin::AdminError::Refused { kind, message } => Self::with_reason(message, Reason::Server(kind)),
            e => Self::new(e.to_string()),
        }
    }
}

impl From<lodge_core::sync::EnrolError> for Refusal {
    fn from(e: lodge_core::sync::EnrolError) -> Self {
        match e {
            lodge_core::sync::EnrolError::Server(e) => e.into(),
            e => Self::new(e.to_string()),
        }
    }
}

refusal_with_reason!(
    lodge_core::presence::Error => Presence,
    lodge_core::person::Error => Person,
    lodge_core::site::Error => Site,
    lodge_core::key_loan::Error => Keys,
    lodge_core::equipment::Error => Equipment,
    lodge_core::repair::Error => Repair,
    lodge_core::announcement::Error => Announcement,
    lodge_core::roll_call::Error => RollCall,
    lodge_core::Denied => Denied,
    lodge_core::InvalidId => Invalid
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

    #[test]
    fn a_refusal_reaches_the_screen_as_a_kind_with_values_and_a_store_failure_as_words() {
        let e = lodge_core::visit::Error::CardInUse {
            card: lodge_core::CardNumber::new(105).unwrap(),
            guest: "Olga Late".into(),
            since: lodge_core::Timestamp::from_millis(1_000),
            visit: lodge_core::VisitId::new(),
        };
        let json = serde_json::to_value(Refusal::from(e)).unwrap();
        assert_eq!(json["reason"]["area"], "visit");
        assert_eq!(json["reason"]["refusal"]["kind"], "card-in-use");
        assert_eq!(json["reason"]["refusal"]["values"]["since"], 1_000);
        let denied = Refusal::from(lodge_core::key_loan::Error::Denied(lodge_core::Denied { role: lodge_core::Role::Kiosk, action: "lend keys" }));
        let json = serde_json::to_value(denied).unwrap();
        assert_eq!(json["reason"]["refusal"], serde_json::json!({ "kind": "denied", "values": { "role": "kiosk", "action": "lend keys" } }));
        let store = lodge_core::key_loan::Error::Store(lodge_core::StoreError::NoSite);
        let r = Refusal::from(store);
        assert!(r.reason.is_none(), "{:?}", r.reason);
        assert!(!r.message.is_empty());
    }
}
