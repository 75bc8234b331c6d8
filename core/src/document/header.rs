//! The header every document starts with, written once by the change that
//! creates the document and never changed after.

use std::fmt;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::ids::SiteId;

/// Schema version written into documents created by this build. A later build
/// must still read documents of every earlier version (see `tests/fixtures`).
pub const SCHEMA_VERSION: u64 = 1;

/// The kinds of document, as in the design's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum DocKind {
    /// The building's settings.
    Site,
    /// The people a guest may ask for.
    Directory,
    /// A staff member, worker or key customer.
    Person,
    /// One guest's visit, with all of that guest's personal data.
    Visit,
    /// One person's sign-ins and sign-outs in one month.
    Presence,
    /// A physical key (and the loans made before loan books).
    Key,
    /// One key's loans that began in one month.
    LoanBook,
    /// A grant to hold more keys of a type.
    LoanException,
    /// An item of equipment and its custody log.
    Equipment,
    /// A repair ticket.
    Repair,
    /// An announcement or emergency, with who has read it.
    Announcement,
    /// A roll call in an emergency, with the marshals' marks.
    RollCall,
}

impl DocKind {
    /// Every kind, in a fixed order.
    pub const ALL: [DocKind; 12] = [
        DocKind::Site,
        DocKind::Directory,
        DocKind::Person,
        DocKind::Visit,
        DocKind::Presence,
        DocKind::Key,
        DocKind::LoanBook,
        DocKind::LoanException,
        DocKind::Equipment,
        DocKind::Repair,
        DocKind::Announcement,
        DocKind::RollCall,
    ];

    /// The kind's name as used in document ids and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Site => "site",
            DocKind::Directory => "directory",
            DocKind::Person => "person",
            DocKind::Visit => "visit",
            DocKind::Presence => "presence",
            DocKind::Key => "key",
            DocKind::LoanBook => "loan-book",
            DocKind::LoanException => "loan-exception",
            DocKind::Equipment => "equipment",
            DocKind::Repair => "repair",
            DocKind::Announcement => "announcement",
            DocKind::RollCall => "roll-call",
        }
    }

    /// The kind from its name.
    pub fn parse(name: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// By hand rather than derived: the derive's associated `Key` type clashes
// with the `Key` variant.
impl Reconcile for DocKind {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: autosurgeon::Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.as_str())
    }
}

impl Hydrate for DocKind {
    fn hydrate_string(s: &'_ str) -> Result<Self, autosurgeon::HydrateError> {
        DocKind::parse(s).ok_or_else(|| autosurgeon::HydrateError::unexpected("a document kind", s.to_owned()))
    }
}

/// The immutable start of every document.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Header {
    /// What kind of document this is.
    pub kind: DocKind,
    /// The site it belongs to; nothing crosses sites.
    pub site: SiteId,
    /// The schema version it was created with.
    pub schema: u64,
    /// For owned kinds (presence, repair opened by a worker, a kiosk's visit),
    /// who owns it, as a tagged id (`person:…`, `device:…`).
    pub owner: Option<String>,
}

impl Header {
    /// A header for a new document of this build's schema.
    pub fn new(kind: DocKind, site: SiteId, owner: Option<String>) -> Self {
        Self { kind, site, schema: SCHEMA_VERSION, owner }
    }
}
