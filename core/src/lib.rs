//! # lodge-core: the front desk of a building, offline first
//!
//! Lodge runs a building's front desk and its things: guests register on a
//! lobby kiosk and are admitted with NFC badge cards; staff sign in and out;
//! the key desk lends keys; workers take and return equipment by scanning it
//! and report faults as repair tickets.
//!
//! ## The model on one page
//!
//! - **Documents** ([`document`]) hold all shared state, as Automerge
//!   documents: one per site, directory, person, visit, person-month of
//!   presence, key, loan exception, item of equipment and repair ticket. A
//!   document is the unit of sync, conflict, access and deletion. Each begins
//!   with an immutable [`Header`].
//! - **Commands** are methods on [`Store`], one per action
//!   (`register_guest`, `admit`, `sign_in`, `checkout_key`,
//!   `activate_equipment`, …). A command takes the acting [`Actor`], checks
//!   the current state, and writes one Automerge change per document it
//!   touches, named after the command and the actor. A refused command
//!   returns a typed error whose message a receptionist can act on, and
//!   changes nothing.
//! - **Projections** are SQL tables rewritten from each document in the same
//!   SQLite transaction as its change, local or merged. Every query reads
//!   them; no query loads a document.
//! - **Facts are events**: admissions, sign-ins, loans and custody scans are
//!   appended with an id and a time, and state is a fold over them in
//!   (time, list position) order, so a merge of two offline devices keeps both sides.
//! - **Conflicts** ([`conflict`]) are invariants two offline devices can break
//!   together (card 105 given twice, a key lent twice, a customer over their
//!   limit, a double sign-in). After every change the touched resources are
//!   checked; each broken invariant is a row with a provisional winner that
//!   every replica computes the same way, until a person resolves it.
//! - **Things are physical**: the latest scan of an item is where it is.
//! - **Announcements** ([`announcement`]) are documents too: one per notice
//!   from a desk, its readers appended as events, so an offline device gets
//!   it when it reconnects and the sender sees who has read it.
//! - **Roll calls** ([`roll_call`]) list everyone in the building in an
//!   emergency; marshals' marks are appended events, merged without conflict.
//! - **Merging** goes through `automerge::sync` messages
//!   ([`Store::generate_sync_message`], [`Store::receive_sync_message`]); the
//!   sync server and the app's sync client build on them.
//!
//! ```
//! use std::sync::Arc;
//! use lodge_core::{Actor, ManualClock, NewSite, Store, Timestamp};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_795_000_000_000)));
//! let mut store = Store::open(dir.path().join("lodge.sqlite"), clock).unwrap();
//! let admin = Actor::site_founder("Ada Admin");
//! store.create_site(&admin, NewSite { name: "Lodge House".into(), time_zone: "Europe/Warsaw".into() }).unwrap();
//! // Default card types: 100-199 guest, 200-299 full service, 700-799 admin.
//! assert_eq!(store.free_cards(None).unwrap().len(), 300);
//! ```

#![deny(missing_docs)]

mod actor;
pub mod announcement;
pub mod conflict;
mod custody;
pub mod demo;
pub mod document;
pub mod equipment;
mod evacuation;
pub mod spreadsheet;
mod ids;
pub mod key_loan;
pub mod notice;
pub mod person;
pub mod presence;
pub mod process;
mod projection;
pub mod repair;
pub mod retention;
pub mod roll_call;
pub mod site;
pub mod statistics;
mod store;
pub mod sync;
mod time;
pub mod visit;

pub use actor::{Actor, Denied, Role};
pub use conflict::{Conflict, ConflictChoice, ConflictKind};
pub use custody::Holdings;
pub use document::{DocId, DocKind, Header};
pub use evacuation::EvacuationList;
pub use ids::{
    AffiliationId, AnnouncementId, CardNumber, CardTypeId, CardUid, DepartmentId, DeviceId, Email, EventId, ExceptionId, InvalidId, ItemId, KeyId,
    KeyTypeId, LoanId, PersonId, RepairCategoryId, RollCallId, SiteId, TicketId, VisitId,
};
pub use site::NewSite;
pub use store::{AcceptChanges, DocChange, Error as StoreError, Incoming, Received, RefusedChange, SetAside, Store, exchange, shared_actor, WriteMark};
pub use time::{Clock, ManualClock, StartedClock, SystemClock, Timestamp};

#[doc(hidden)]
pub mod testing {
    //! Hooks for tests that build stores of older schema versions.
    pub use crate::store::apply_migrations_up_to;
}
