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
}

impl Refusal {
    /// A refusal in plain words.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), fields: Vec::new() }
    }
}

impl From<lodge_core::visit::Error> for Refusal {
    fn from(e: lodge_core::visit::Error) -> Self {
        match e {
            lodge_core::visit::Error::InvalidForm(fields) => {
                Self { message: lodge_core::visit::Error::InvalidForm(fields.clone()).to_string(), fields }
            }
            other => Self::new(other.to_string()),
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
    lodge_core::Denied,
    lodge_core::InvalidId
);

/// The result of every command.
pub type Answer<T> = Result<T, Refusal>;
