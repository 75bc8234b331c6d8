//! The schema: the numbered SQL files in the workspace's `migrations/`,
//! applied in order at open by `rusqlite_migration`.

use std::path::Path;
use std::sync::LazyLock;

use include_dir::{Dir, include_dir};
use rusqlite::Connection;
use rusqlite_migration::{Migrations, SchemaVersion};

use super::Error;

static MIGRATIONS_DIR: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../migrations");

// Parsing the embedded folder once is enough; it never changes at run time.
static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::from_directory(&MIGRATIONS_DIR).expect("migrations/ is well-formed (checked by a test)"));

/// The schema version this build writes.
pub(crate) fn latest_version() -> usize {
    MIGRATIONS_DIR.dirs().count()
}

/// Refuse a store whose schema is newer than this build, before anything writes to it.
pub(super) fn check_version(conn: &Connection, path: &Path) -> Result<(), Error> {
    let found: usize = match MIGRATIONS.current_version(conn) {
        Ok(SchemaVersion::NoneSet) => 0,
        Ok(SchemaVersion::Inside(v)) | Ok(SchemaVersion::Outside(v)) => v.get(),
        Err(rusqlite_migration::Error::RusqliteError { err, .. }) => return Err(classify(path, err)),
        Err(source) => return Err(Error::Migration { path: path.to_path_buf(), source }),
    };
    let supported = latest_version();
    if found > supported {
        return Err(Error::TooNew { path: path.to_path_buf(), found, supported });
    }
    Ok(())
}

/// Bring the schema up to date in one transaction. Returns whether an
/// existing store (not a new one) was upgraded.
pub(super) fn apply(conn: &mut Connection, path: &Path) -> Result<bool, Error> {
    let before: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| Error::open(path, e))?;
    let before = usize::try_from(before).unwrap_or(0);
    MIGRATIONS.to_latest(conn).map_err(|source| Error::Migration { path: path.to_path_buf(), source })?;
    Ok(before > 0 && before < latest_version())
}

/// Apply only the first `version` migrations: used by tests that make stores
/// of an older schema.
#[doc(hidden)]
pub fn apply_up_to(conn: &mut Connection, version: usize) -> Result<(), rusqlite_migration::Error> {
    MIGRATIONS.to_version(conn, version)
}

fn classify(path: &Path, err: rusqlite::Error) -> Error {
    match err.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => Error::NotAStore { path: path.to_path_buf() },
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            Error::Truncated { path: path.to_path_buf(), expected: 0, actual: 0 }
        }
        _ => Error::open(path, err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
        assert!(latest_version() >= 2);
    }
}
