//! `lodge-sync backup --to FILE` and `lodge-sync restore --from FILE`: the
//! whole server (its registry of sites, devices and tokens, the change
//! feed, and every site's store with its jobs and tombstones) as one tar
//! file, taken while the server runs. Each SQLite file is copied with
//! `VACUUM INTO`, which reads one consistent snapshot of a live database
//! (WAL included) without stopping its writers.
//!
//! A restore moves the change feed past any number a device may hold:
//! devices that had heard of numbers past the backup's would otherwise
//! never ask for what the restored server numbers below them. Every
//! device's next connection then catches up on every document (an
//! Automerge sync of documents it mostly holds already).

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How far a restore moves the feed: more changes than any site makes.
pub const RESTORE_FEED_GAP: i64 = 1 << 40;
/// The manifest's name in the archive.
const MANIFEST: &str = "lodge-backup.json";
/// The registry's name in the data directory and the archive.
const REGISTRY: &str = "registry.sqlite";

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The archive's format.
    pub format: u32,
    /// When it was made (RFC 3339).
    pub made_at: String,
    /// The files, by their path in the data directory.
    pub files: Vec<String>,
}

/// Why a backup or a restore failed; nothing was left half done.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The data directory has no server in it.
    #[error("{0} holds no lodge-sync data (no registry.sqlite)")]
    NoData(PathBuf),
    /// A restore into a directory already in use.
    #[error("{0} is not empty: restore into a new data directory")]
    NotEmpty(PathBuf),
    /// An archive that is not a Lodge backup.
    #[error("{0} is not a Lodge backup: {1}")]
    NotABackup(PathBuf, String),
    /// A database in the archive failed its integrity check.
    #[error("{file} in the backup is damaged: {why}")]
    Damaged {
        /// Which.
        file: String,
        /// What SQLite said.
        why: String,
    },
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The manifest could not be read or written.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// The databases of a data directory, by their path in it.
fn databases(data: &Path) -> Result<Vec<String>, BackupError> {
    if !data.join(REGISTRY).is_file() {
        return Err(BackupError::NoData(data.to_path_buf()));
    }
    let mut files = vec![REGISTRY.to_owned()];
    let sites = data.join("sites");
    if sites.is_dir() {
        let mut names: Vec<String> = std::fs::read_dir(&sites)?
            .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
            .filter(|n| n.ends_with(".sqlite"))
            .collect();
        names.sort();
        files.extend(names.into_iter().map(|n| format!("sites/{n}")));
    }
    Ok(files)
}

/// Whether a path in an archive is one a backup writes: no way out of the
/// data directory, nothing else.
fn expected_path(path: &str) -> bool {
    path == MANIFEST
        || path == REGISTRY
        || path.strip_prefix("sites/").and_then(|n| n.strip_suffix(".sqlite")).is_some_and(|id| lodge_core::SiteId::parse(id).is_ok())
}

/// Copy the server in `data` into the archive `to`; the files it holds.
pub fn backup(data: &Path, to: &Path) -> Result<Manifest, BackupError> {
    let files = databases(data)?;
    let scratch = to.with_extension("partial.d");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(scratch.join("sites"))?;
    let result = (|| {
        for file in &files {
            let conn = rusqlite::Connection::open_with_flags(data.join(file), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            conn.busy_timeout(std::time::Duration::from_secs(30))?;
            conn.execute("VACUUM INTO ?1", [scratch.join(file).to_string_lossy()])?;
        }
        let manifest = Manifest { format: 1, made_at: chrono::Utc::now().to_rfc3339(), files: files.clone() };
        let partial = to.with_extension("partial");
        // Guests' and people's data and the devices' token hashes: for the
        // server's owner only.
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&partial)?
        };
        let mut archive = tar::Builder::new(file);
        let json = serde_json::to_vec_pretty(&manifest)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o600);
        header.set_cksum();
        archive.append_data(&mut header, MANIFEST, json.as_slice())?;
        for file in &files {
            archive.append_path_with_name(scratch.join(file), file)?;
        }
        archive.into_inner()?.sync_all()?;
        std::fs::rename(&partial, to)?;
        Ok(manifest)
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// Unpack the archive `from` into the new data directory `data`, check
/// every database, and move the change feed past what devices hold;
/// nothing is left in `data` if any step fails.
pub fn restore(from: &Path, data: &Path) -> Result<Manifest, BackupError> {
    if data.exists() && std::fs::read_dir(data)?.next().is_some() {
        return Err(BackupError::NotEmpty(data.to_path_buf()));
    }
    let not_backup = |why: String| BackupError::NotABackup(from.to_path_buf(), why);
    let scratch = data.with_extension("restoring");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(scratch.join("sites"))?;
    let result = (|| {
        let mut archive = tar::Archive::new(File::open(from)?);
        let mut manifest = None;
        for entry in archive.entries().map_err(|e| not_backup(e.to_string()))? {
            let mut entry = entry.map_err(|e| not_backup(e.to_string()))?;
            let path = entry.path().map_err(|e| not_backup(e.to_string()))?.to_string_lossy().into_owned();
            if !expected_path(&path) {
                return Err(not_backup(format!("it holds {path}")));
            }
            if path == MANIFEST {
                manifest = Some(serde_json::from_reader::<_, Manifest>(&mut entry).map_err(|e| not_backup(e.to_string()))?);
            } else {
                entry.unpack(scratch.join(&path))?;
            }
        }
        let manifest = manifest.ok_or_else(|| not_backup("it has no manifest".into()))?;
        for file in &manifest.files {
            if !expected_path(file) || !scratch.join(file).is_file() {
                return Err(not_backup(format!("{file} is missing")));
            }
            let conn = rusqlite::Connection::open(scratch.join(file))?;
            let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            if check != "ok" {
                return Err(BackupError::Damaged { file: file.clone(), why: check });
            }
        }
        let registry = rusqlite::Connection::open(scratch.join(REGISTRY))?;
        registry.execute_batch(&format!("BEGIN; UPDATE sites SET seq = seq + {RESTORE_FEED_GAP}; UPDATE feed SET seq = seq + {RESTORE_FEED_GAP}; COMMIT;"))?;
        drop(registry);
        if data.exists() {
            std::fs::remove_dir(data)?;
        }
        std::fs::rename(&scratch, data)?;
        Ok(manifest)
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backup of a data directory whose registry is `registry`'s bytes.
    fn archive_with(dir: &Path, registry: &[u8]) -> PathBuf {
        let data = dir.join("data");
        std::fs::create_dir_all(data.join("sites")).unwrap();
        let conn = rusqlite::Connection::open(data.join(REGISTRY)).unwrap();
        conn.execute_batch("CREATE TABLE sites (site_id TEXT, seq INTEGER); CREATE TABLE feed (seq INTEGER);").unwrap();
        drop(conn);
        let archive = dir.join("backup.tar");
        backup(&data, &archive).unwrap();
        // Swap the registry inside for `registry`.
        let mut rebuilt = tar::Builder::new(Vec::new());
        let mut original = tar::Archive::new(File::open(&archive).unwrap());
        for entry in original.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            let bytes = if path == REGISTRY { registry.to_vec() } else { bytes };
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o600);
            header.set_cksum();
            rebuilt.append_data(&mut header, &path, bytes.as_slice()).unwrap();
        }
        std::fs::write(&archive, rebuilt.into_inner().unwrap()).unwrap();
        archive
    }

    #[test]
    fn a_damaged_database_in_a_backup_is_refused_and_nothing_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let archive = archive_with(dir.path(), b"SQLite format 3\0 and then nothing a database holds");
        let target = dir.path().join("restored");
        let refused = restore(&archive, &target);
        assert!(matches!(refused, Err(BackupError::Damaged { .. } | BackupError::Sqlite(_))), "{refused:?}");
        assert!(!target.exists(), "nothing restored");
        assert!(!target.with_extension("restoring").exists(), "no scratch left");
    }

    #[test]
    fn only_the_files_a_backup_writes_are_restored() {
        assert!(expected_path("registry.sqlite"));
        assert!(expected_path("lodge-backup.json"));
        assert!(expected_path(&format!("sites/{}.sqlite", lodge_core::SiteId::new())));
        for bad in ["../registry.sqlite", "sites/../../etc/passwd", "sites/x.sqlite", "/registry.sqlite", "sites/.sqlite", "other.txt"] {
            assert!(!expected_path(bad), "{bad}");
        }
    }
}
