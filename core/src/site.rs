//! The site: one document per building with its settings — badge card types
//! and their number ranges, card UIDs, departments, affiliations, key types
//! with loan terms, repair categories, guest form policy, retention and the
//! sign-out reminder — and the directory of people guests may ask for.

mod commands;
mod directory;
mod document;
mod error;
mod projection;
mod queries;
mod reminder;

pub use commands::{CardTypeSpec, NewSite};
pub(crate) use commands::read_directory;
pub(crate) use directory::{DirectoryDoc, DirectoryEntry};
pub(crate) use document::SiteDoc;
pub use error::Error;
pub use reminder::{local_date, local_instant, reminder_at};
pub(crate) use queries::settings_in;
pub use queries::{Affiliation, CardInfo, CardStatus, CardType, Department, KeyType, RepairCategory, SiteSettings};
pub(crate) use projection::{clear as clear_projection, clear_directory};

/// The languages a site's messages may be written in.
pub const LANGUAGES: [&str; 4] = ["en", "pl", "uk", "ru"];

/// Days a key may be overdue before its borrower's department contact is
/// told as well, unless the site says otherwise.
pub const DEFAULT_OVERDUE_CONTACT_DAYS: u32 = 3;
