//! People: staff members, workers and key customers. Each is a document the
//! admin writes; the person may change their own contact details. People who
//! host guests are mirrored into the site's directory (name and department
//! only) so that a kiosk can offer them.

mod commands;
mod document;
mod error;
mod history;
mod queries;
mod sign_in;

pub use commands::PersonForm;
pub use history::PersonHistory;
pub(crate) use document::PersonDoc;
pub use document::ContactChannel;
pub use error::Error;
pub use queries::{DirectoryPerson, Person};
pub use sign_in::{BadContact, SignInContact, normalize_phone, phone_role};

pub(crate) fn clear_projection(id: &crate::document::DocId, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM people WHERE doc_id = ?1")?.execute([id])?;
    Ok(())
}
