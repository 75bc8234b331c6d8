//! Refusals of announcement commands.

use crate::actor::Denied;
use crate::ids::{AnnouncementId, DepartmentId};

/// Why an announcement command was refused.
// Serialized as a kind with values (`{"kind": "card-in-use", "values": {…}}`)
// so that a screen says it in its own language; the store's own failures
// are not the user's to read and do not serialize.
#[derive(Debug, thiserror::Error, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "AnnouncementError"))]
#[serde(tag = "kind", content = "values", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    Store(#[from] crate::store::Error),
    /// Only reception and admin devices send announcements.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The text is empty.
    #[error("Write what the announcement says before sending it.")]
    EmptyText,
    /// The title or the text is too long.
    #[error("The {field} is too long: at most {max} characters.")]
    TooLong {
        /// Which field ("title" or "text").
        field: &'static str,
        /// The most it may hold.
        max: usize,
    },
    /// The audience names a department the site does not have.
    #[error("There is no department “{0}”. Pick one from the list.")]
    UnknownDepartment(DepartmentId),
    /// A desk sends to everyone, all staff or a department; one person's
    /// notice is Lodge's own (a host told that their guest is here).
    #[error("An announcement goes to everyone, all staff or a department, not to one person.")]
    NotForOnePerson,
    /// No such announcement on this device.
    #[error("This announcement ({0}) is not on this device (yet).")]
    UnknownAnnouncement(AnnouncementId),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        assert_eq!(Error::EmptyText.to_string(), "Write what the announcement says before sending it.");
        assert_eq!(Error::TooLong { field: "title", max: 120 }.to_string(), "The title is too long: at most 120 characters.");
        let d = DepartmentId::parse("kitchen").unwrap();
        assert!(Error::UnknownDepartment(d).to_string().contains("“kitchen”"));
        let a = AnnouncementId::new();
        assert!(Error::UnknownAnnouncement(a).to_string().contains(&a.to_string()));
        let denied = Denied { role: crate::actor::Role::Staff, action: "send announcements" };
        assert!(Error::from(denied).to_string().contains("cannot send announcements"));
    }
}
