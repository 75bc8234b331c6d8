//! What can go wrong with the local store itself.

use std::path::{Path, PathBuf};

use crate::document::{DocId, DocKind};

/// An error of the local store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file exists but is not an SQLite database at all.
    #[error("“{path}” is not a Lodge store: it does not start like one. It was left untouched.")]
    NotAStore {
        /// The file.
        path: PathBuf,
    },
    /// The file is shorter than its own header says: it was cut short.
    #[error(
        "The Lodge store “{path}” is cut short ({actual} of {expected} bytes): it was not read and was left untouched. Restore it from a backup or sync this device again."
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes its header promises.
        expected: u64,
        /// Bytes it has.
        actual: u64,
    },
    /// The store's schema is newer than this build knows.
    #[error(
        "The Lodge store “{path}” was written by a newer Lodge (schema {found}, this one knows up to {supported}). Update Lodge; the file was left untouched."
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: usize,
        /// The newest this build knows.
        supported: usize,
    },
    /// SQLite refused to open the file.
    #[error("The Lodge store “{path}” could not be opened: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// Upgrading the schema failed; the upgrade was rolled back.
    #[error("The Lodge store “{path}” could not be upgraded, and was left as it was: {source}")]
    Migration {
        /// The file.
        path: PathBuf,
        /// What the migration library said.
        source: rusqlite_migration::Error,
    },
    /// A read or write of the store failed.
    #[error("The local store could not be read or written: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored or received document could not be decoded.
    #[error("Document {doc} is damaged and was not used: {reason}")]
    CorruptDocument {
        /// The document.
        doc: DocId,
        /// What was wrong.
        reason: String,
    },
    /// A document was read as a different kind than it is.
    #[error("Document {doc} is a {found} document, not a {expected} one")]
    WrongKind {
        /// The document.
        doc: DocId,
        /// The kind asked for.
        expected: DocKind,
        /// The kind it has.
        found: DocKind,
    },
    /// No site was created on or joined by this device.
    #[error("This device has no site yet. Start a new site or join one first.")]
    NoSite,
    /// A document that was deleted everywhere was offered again.
    #[error("Document {doc} was deleted for good and cannot come back")]
    Purged {
        /// The document.
        doc: DocId,
    },
    /// Changes from another replica that it may not make.
    #[error("Changes to {doc} were refused: {reason}")]
    Refused {
        /// The document.
        doc: DocId,
        /// Why: the rule broken.
        reason: crate::sync::Refusal,
    },
    /// A sync message from another replica could not be used.
    #[error("A sync message for {doc} could not be used: {reason}")]
    BadSyncMessage {
        /// The document.
        doc: DocId,
        /// What was wrong.
        reason: String,
    },
    /// A document asked to be discarded or sent again is not among the
    /// changes the server refused.
    #[error("Document {doc} has no refused changes: there is nothing to discard or send again")]
    NotRefused {
        /// The document.
        doc: DocId,
    },
    /// A file of the store could not be deleted when the device was
    /// removed from its site.
    #[error("“{path}” could not be deleted: {source}. Delete it by hand; it holds the site's data.")]
    Wipe {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The server's daily counts named something that is not a day; none
    /// of them was kept.
    #[error("The server's daily counts name “{day}”, which is not a day; the counts kept here were left as they were")]
    BadKeptCount {
        /// What stood where a day should.
        day: String,
    },
}

impl Error {
    pub(crate) fn open(path: &Path, source: rusqlite::Error) -> Self {
        Error::Open { path: path.to_path_buf(), source }
    }

    pub(crate) fn corrupt(doc: &DocId, reason: impl ToString) -> Self {
        Error::CorruptDocument { doc: doc.clone(), reason: reason.to_string() }
    }

    /// Whether the error is about one document's content (damaged, or of
    /// another kind than its id says), not about the store: that document
    /// can be set aside and the others go on.
    pub fn is_the_documents(&self) -> bool {
        matches!(self, Error::CorruptDocument { .. } | Error::WrongKind { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let path = PathBuf::from("/data/lodge.sqlite");
        let cases: Vec<(Error, &str)> = vec![
            (Error::NotAStore { path: path.clone() }, "is not a Lodge store"),
            (Error::Truncated { path: path.clone(), expected: 8192, actual: 100 }, "cut short (100 of 8192 bytes)"),
            (Error::TooNew { path: path.clone(), found: 9, supported: 2 }, "Update Lodge"),
            (Error::NoSite, "Start a new site or join one first"),
            (
                Error::Wipe { path: path.clone(), source: std::io::Error::from(std::io::ErrorKind::PermissionDenied) },
                "Delete it by hand",
            ),
            (
                Error::Purged { doc: DocId::parse("visit:0b6f5f5e-7f1f-4b8e-9d7e-0d7a1f0e4c11").unwrap() },
                "deleted for good",
            ),
            (
                Error::NotRefused { doc: DocId::parse("visit:0b6f5f5e-7f1f-4b8e-9d7e-0d7a1f0e4c11").unwrap() },
                "nothing to discard or send again",
            ),
        ];
        for (err, words) in cases {
            assert!(err.to_string().contains(words), "{err}");
        }
    }
}
