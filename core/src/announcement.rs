//! Announcements and emergencies: a notice from a desk to everyone in the
//! building, all staff, or a department, and Lodge's own notice to one
//! person (a host told that their guest is here). Each is a document of its own (so
//! an offline device gets it when it reconnects, and a deletion or access
//! rule is per notice), and each device that has seen it appends a read
//! event, so that concurrent reads on offline devices merge without
//! conflict and the sender sees who has read it.

mod commands;
mod document;
mod error;
mod host_notice;
mod queries;

pub use commands::NewAnnouncement;
pub(crate) use document::AnnouncementDoc;
pub use document::{Audience, Kind};
pub use error::Error;
pub use host_notice::LODGE;
pub(crate) use host_notice::notices_of_visit;
pub use queries::{Announcement, Reach, Reader};

/// The longest title, in characters (a banner's one line).
pub const MAX_TITLE_CHARS: usize = 120;
/// The longest text, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

pub(crate) fn clear_projection(id: &crate::document::DocId, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM announcements WHERE doc_id = ?1")?.execute([id])?;
    conn.prepare_cached("DELETE FROM announcement_reads WHERE doc_id = ?1")?.execute([id])?;
    Ok(())
}
