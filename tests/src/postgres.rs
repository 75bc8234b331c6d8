//! PostgreSQL for the tests of `lodge-sync`'s PostgreSQL back end: a real
//! server that `scripts/postgres start DIR` started, never a mock. Its URL is
//! in `LODGE_TEST_POSTGRES` (`scripts/test` starts one for the whole run).
//!
//! A test of the back end takes a new, empty database of its own
//! ([`fresh_database`]). With `LODGE_TEST_BACKEND=postgres` the whole-system
//! tests run every `lodge-sync` against PostgreSQL: each data directory has
//! one database ([`database_for`]), so `admin()` and `Server` started on the
//! same directory share its registry as they share `registry.sqlite`, and
//! a `Server` there is several instances of `lodge-sync` on that database
//! (`LODGE_TEST_INSTANCES`, two unless it says otherwise: [`instances`]).
//!
//! The client is the blocking `postgres` crate. It drives a Tokio runtime of
//! its own, which panics inside another one (the async tests'), so every
//! call here runs on a thread of its own.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use ::postgres::error::SqlState;
use ::postgres::{Client, NoTls};
use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// The variable with the URL of the tests' server.
pub const SERVER_ENV: &str = "LODGE_TEST_POSTGRES";

/// The variable that chooses the whole-system tests' back end: `sqlite`
/// (when unset) or `postgres`.
pub const BACKEND_ENV: &str = "LODGE_TEST_BACKEND";

/// The variable with how many instances of `lodge-sync` a test's server is
/// on PostgreSQL (2 when unset; on SQLite there is always one).
pub const INSTANCES_ENV: &str = "LODGE_TEST_INSTANCES";

/// How many instances a server of the whole-system tests is on PostgreSQL,
/// from `LODGE_TEST_INSTANCES`: 2 when it is unset, since two is the least
/// that shows changes going from one instance to another.
pub fn instances() -> anyhow::Result<usize> {
    match std::env::var(INSTANCES_ENV) {
        Ok(n) if n.trim().is_empty() => Ok(2),
        Ok(n) => match n.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => bail!("{INSTANCES_ENV} is {n:?}: it can be a number of instances, 1 or more"),
        },
        Err(std::env::VarError::NotPresent) => Ok(2),
        Err(e) => bail!("{INSTANCES_ENV}: {e}"),
    }
}

/// The URL of the tests' PostgreSQL server, `postgres://lodgepg@127.0.0.1:PORT/postgres`,
/// from `LODGE_TEST_POSTGRES`.
pub fn server_url() -> anyhow::Result<String> {
    match std::env::var(SERVER_ENV) {
        Ok(url) if !url.trim().is_empty() => Ok(url.trim().to_owned()),
        Ok(_) | Err(std::env::VarError::NotPresent) => bail!(
            "{SERVER_ENV} is not set, so there is no PostgreSQL to test against: run the tests through scripts/test, \
             which starts one, or start one with `scripts/postgres start DIR` and `export {SERVER_ENV}=$(cat DIR/url)`"
        ),
        Err(e) => bail!("{SERVER_ENV}: {e}"),
    }
}

/// A new, empty database with a name of its own (`lodge_` and 32 random hex
/// digits) on the tests' server; its URL.
pub fn fresh_database() -> anyhow::Result<String> {
    let server = server_url()?;
    let name = format!("lodge_{:032x}", rand::random::<u128>());
    off_runtime(|| {
        connect(&server)?.batch_execute(&format!("CREATE DATABASE \"{name}\"")).with_context(|| format!("creating the database {name} at {server}"))
    })?;
    database_url(&server, &name)
}

/// The URL of the database that belongs to the data directory `data` when
/// `LODGE_TEST_BACKEND` is `postgres` (created when missing); `None` when it
/// is unset or `sqlite`.
pub fn database_for(data: &Path) -> anyhow::Result<Option<String>> {
    let backend = match std::env::var(BACKEND_ENV) {
        Ok(backend) => Some(backend),
        Err(std::env::VarError::NotPresent) => None,
        Err(e) => bail!("{BACKEND_ENV}: {e}"),
    };
    database_for_backend(data, backend.as_deref())
}

/// [`database_for`] with the back end given (the tests of this harness
/// choose it without setting the environment, which every test shares).
pub fn database_for_backend(data: &Path, backend: Option<&str>) -> anyhow::Result<Option<String>> {
    match backend.map(str::trim).unwrap_or("") {
        "" | "sqlite" => return Ok(None),
        "postgres" => {}
        other => bail!("{BACKEND_ENV} is {other:?}: it can be sqlite (the default) or postgres"),
    }
    let server = server_url()?;
    let name = database_name_for(data)?;
    ensure_database(&server, &name)?;
    Ok(Some(database_url(&server, &name)?))
}

/// The name of the database of the data directory `data`: `lodge_` and the
/// first 16 hex digits of the SHA-256 of its canonical path, the same
/// before and after the directory is created.
pub fn database_name_for(data: &Path) -> anyhow::Result<String> {
    let path = canonical(data).with_context(|| format!("the canonical path of {}", data.display()))?;
    let digest = Sha256::digest(path.as_os_str().as_encoded_bytes());
    Ok(format!("lodge_{}", digest[..8].iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// Create the database `name` unless it exists.
fn ensure_database(server: &str, name: &str) -> anyhow::Result<()> {
    // Every `admin()` call asks: connect once per database and process.
    static KNOWN: LazyLock<Mutex<HashSet<(String, String)>>> = LazyLock::new(Default::default);
    let key = (server.to_owned(), name.to_owned());
    if KNOWN.lock().unwrap().contains(&key) {
        return Ok(());
    }
    off_runtime(|| {
        let mut client = connect(server)?;
        // CREATE DATABASE has no IF NOT EXISTS (and cannot run in a
        // transaction to make one).
        let exists = client.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]).with_context(|| format!("looking for the database {name} at {server}"))?.is_some();
        if exists {
            return Ok(());
        }
        match client.batch_execute(&format!("CREATE DATABASE \"{name}\"")) {
            Ok(()) => Ok(()),
            // Another test process created it since: 42P04, or the unique
            // index's 23505 when both got past PostgreSQL's own look.
            Err(e) if e.code() == Some(&SqlState::DUPLICATE_DATABASE) || e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("creating the database {name} at {server}")),
        }
    })?;
    KNOWN.lock().unwrap().insert(key);
    Ok(())
}

/// The URL `server` with the database `name` instead of its own (user,
/// host, port and parameters kept).
fn database_url(server: &str, name: &str) -> anyhow::Result<String> {
    let not_url = || format!("{SERVER_ENV} is not a URL postgres://USER@HOST:PORT/DATABASE (as scripts/postgres prints): {server}");
    let (scheme, rest) = server.split_once("://").with_context(not_url)?;
    if scheme != "postgres" && scheme != "postgresql" {
        bail!(not_url());
    }
    let (location, query) = match rest.split_once('?') {
        Some((location, query)) => (location, Some(query)),
        None => (rest, None),
    };
    let authority = location.split_once('/').map_or(location, |(authority, _)| authority);
    let mut url = format!("{scheme}://{authority}/{name}");
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    Ok(url)
}

/// The process id of the tests' PostgreSQL server's postmaster, the parent
/// of its every process: the parent of the backend that answers here (so
/// the server must run on this machine). Another PostgreSQL on the machine
/// has a postmaster of its own.
pub fn postmaster_pid() -> anyhow::Result<u32> {
    let server = server_url()?;
    off_runtime(|| {
        let mut client = connect(&server)?;
        let backend: i32 = client.query_one("SELECT pg_backend_pid()", &[])?.get(0);
        // Read while the connection (and so the backend) is open.
        let stat = std::fs::read_to_string(format!("/proc/{backend}/stat")).with_context(|| format!("the PostgreSQL at {server} is not on this machine"))?;
        drop(client);
        // The field after the state, after the command name in parentheses.
        stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)).and_then(|ppid| ppid.parse().ok()).with_context(|| format!("no parent in /proc/{backend}/stat"))
    })
}

fn connect(url: &str) -> anyhow::Result<Client> {
    Client::connect(url, NoTls).with_context(|| format!("cannot connect to the tests' PostgreSQL at {url} (has it stopped? `scripts/postgres start DIR` starts one)"))
}

/// Run `f` on a thread of its own, outside any Tokio runtime (see the
/// module's documentation).
pub fn off_runtime<T: Send>(f: impl FnOnce() -> anyhow::Result<T> + Send) -> anyhow::Result<T> {
    std::thread::scope(|scope| scope.spawn(f).join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
}

/// `path` made absolute with symbolic links resolved, as far as it exists;
/// the part that does not exist yet is appended as it is (a test names its
/// server's data directory before `lodge-sync` creates it).
fn canonical(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = if path.is_absolute() { path.to_owned() } else { std::env::current_dir()?.join(path) };
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(found) => return Ok(missing.iter().rev().fold(found, |path, name| path.join(name))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // `..` after a missing folder cannot be resolved.
                let (Some(name), Some(parent)) = (existing.file_name(), existing.parent()) else { return Err(e) };
                missing.push(name);
                existing = parent;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_keeps_all_but_the_database() {
        let url = |server| database_url(server, "lodge_ab").unwrap();
        assert_eq!(url("postgres://lodgepg@127.0.0.1:5433/postgres"), "postgres://lodgepg@127.0.0.1:5433/lodge_ab");
        assert_eq!(url("postgresql://u:pw@host:1/db?sslmode=disable"), "postgresql://u:pw@host:1/lodge_ab?sslmode=disable");
        assert_eq!(url("postgres://lodgepg@127.0.0.1:5433"), "postgres://lodgepg@127.0.0.1:5433/lodge_ab");
        assert!(database_url("host=127.0.0.1 user=lodgepg", "lodge_ab").is_err());
    }

    #[test]
    fn a_directory_has_the_same_name_before_and_after_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("server");
        let before = database_name_for(&data).unwrap();
        std::fs::create_dir(&data).unwrap();
        assert_eq!(database_name_for(&data).unwrap(), before);
        assert_eq!(database_name_for(&dir.path().join("server/../server")).unwrap(), before);
        assert_ne!(database_name_for(dir.path()).unwrap(), before);
        assert_eq!(before.len(), "lodge_".len() + 16);
    }
}
