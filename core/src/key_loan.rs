//! The key desk: physical keys and their loans (check out, return, renew,
//! lost, paid), and loan exceptions that let a customer hold more than one
//! key of a type. Retired keys are never lent.
//!
//! A key's loans live in its loan books, one per month (`book`), each
//! with appended events, so two desks acting offline never hide each
//! other's facts; a key lent twice or a customer over their limit after a
//! merge becomes a conflict. Loans made before books stay in the key's own
//! document.

mod book;
mod commands;
mod document;
mod error;
mod exception;
mod queries;
mod walk_in;

pub use commands::CheckoutRequest;
pub use walk_in::WalkIn;
pub(crate) use book::{LoanBook, shared_creation_hash as book_creation_hash};
pub(crate) use document::KeyDoc;
pub use document::LoanState;
pub use error::Error;
pub(crate) use exception::{ExceptionDoc, allowance};
pub use queries::{Key, Loan, LoanException, LoanFilter};

pub(crate) use document::clear_projection as clear_key_projection;
pub(crate) use exception::clear_projection as clear_exception_projection;
