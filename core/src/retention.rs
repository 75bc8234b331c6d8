//! Retention: documents past their site's limits are erased everywhere,
//! exactly as a rejected guest is (the whole document with its history,
//! which is its audit trail, a tombstone, `secure_delete` and an emptied
//! log), and what they added to the statistics is kept as anonymous daily
//! counts.
//!
//! - A visit goes once it ended (the exit was recorded) more than the
//!   site's `retention_days` ago, or, never admitted, once it was
//!   registered that long ago. A guest still in the building stays.
//! - A presence month (one person's sign-ins and sign-outs of a month)
//!   goes once the month ended more than `presence_retention_days` ago.
//! - A document's change history ([`crate::Store::change_history`], the
//!   audit trail of who did what to it) lives inside the document, so it
//!   goes with it, at the document's limit.
//!
//! [`crate::Store::erase_past_retention`] is the one rule; the server
//! calls it, numbers the deletions in its change feed and tells every
//! device (`lodge-sync`'s `retention` module), and records an
//! [`ErasureRecord`].

mod counts;
mod due;
mod erasure;
mod report;

pub use counts::{DailyCount, Measure};
pub use due::DEFAULT_PRESENCE_RETENTION_DAYS;
pub use erasure::Erased;
pub use report::ErasureRecord;
