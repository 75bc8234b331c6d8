//! Guest visits: a guest registers on the kiosk, reception admits them with a
//! badge card, rejects a bad entry (the whole document is purged: no personal
//! data remains) or releases the card when they leave.
//!
//! The guest's personal data lives only in their visit document. State
//! changes are appended events, so two desks acting offline never lose each
//! other's facts; the state is a fold over them in (time, list position) order.

mod badge;
mod commands;
mod document;
mod error;
mod expected;
mod export;
mod form;
mod long_wait;
mod queries;

pub use badge::GuestBadge;
pub use commands::{AdmitRequest, CardFix, RejectReason};
pub(crate) use document::VisitDoc;
pub use document::VisitState;
pub use error::Error;
pub use expected::{ExpectedGuest, Invitation, InvitedGuest, MAX_DAYS_AHEAD, MAX_EXPECTED_A_DAY, normalize_code};
pub use export::{VISITS_CSV_HEADER, visits_csv};
pub use form::{FieldError, FieldProblem, GuestField, GuestForm, check_guest_form};
pub use long_wait::{LongWait, TOO_LONG_MINUTES, long_waits};
pub use queries::{Visit, VisitSearch};
pub(crate) use queries::guests_in;

pub(crate) use document::clear_projection;
