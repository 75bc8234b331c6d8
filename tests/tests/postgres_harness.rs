//! The PostgreSQL harness itself (`lodge_tests::postgres`), against the real
//! server of `LODGE_TEST_POSTGRES` (`scripts/test` starts one): a fresh
//! database is empty and nobody else's, and a data directory always gets
//! the same database, created once even when asked for at the same time.

use std::path::Path;

use lodge_tests::postgres::{database_for_backend, database_name_for, fresh_database, server_url};
use postgres::{Client, NoTls};

fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|e| panic!("connecting to {url}: {e}"))
}

/// The database a URL names, as the server sees it.
fn current_database(url: &str) -> String {
    connect(url).query_one("SELECT current_database()", &[]).unwrap().get(0)
}

fn exists(name: &str) -> bool {
    connect(&server_url().unwrap()).query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]).unwrap().is_some()
}

fn postgres_database(data: &Path) -> String {
    database_for_backend(data, Some("postgres")).unwrap().expect("a database for the postgres back end")
}

#[test]
fn a_fresh_database_is_empty_and_its_own() {
    let first = fresh_database().unwrap();
    let second = fresh_database().unwrap();
    assert_ne!(first, second);
    let (a, b) = (current_database(&first), current_database(&second));
    assert_ne!(a, b, "two URLs, one database");
    assert!(a.starts_with("lodge_") && a.len() == "lodge_".len() + 32, "{a}");
    assert!(first.ends_with(&format!("/{a}")), "{first} names {a}");

    let tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'";
    let mut one = connect(&first);
    assert_eq!(one.query_one(tables, &[]).unwrap().get::<_, i64>(0), 0, "a fresh database has no tables");
    one.batch_execute("CREATE TABLE guests (name text NOT NULL); INSERT INTO guests VALUES ('Ada'), ('Grace')").unwrap();
    let names: Vec<String> = one.query("SELECT name FROM guests ORDER BY name", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(names, ["Ada", "Grace"]);

    // The second has none of it, and a table of the same name there is
    // another table.
    let mut two = connect(&second);
    assert_eq!(two.query_one(tables, &[]).unwrap().get::<_, i64>(0), 0, "the first database's table is in the second");
    two.batch_execute("CREATE TABLE guests (name text NOT NULL); INSERT INTO guests VALUES ('Linus')").unwrap();
    assert_eq!(one.query_one("SELECT count(*) FROM guests", &[]).unwrap().get::<_, i64>(0), 2);
    assert_eq!(connect(&first).query_one("SELECT count(*) FROM guests", &[]).unwrap().get::<_, i64>(0), 2, "read back on a new connection");
    assert_eq!(two.query_one("SELECT count(*) FROM guests", &[]).unwrap().get::<_, i64>(0), 1);
}

#[test]
fn a_data_directory_has_one_database() {
    let dir = tempfile::tempdir().unwrap();
    // Named before lodge-sync creates it, as the tests do.
    let data = dir.path().join("server");
    let url = postgres_database(&data);
    std::fs::create_dir(&data).unwrap();
    assert_eq!(postgres_database(&data), url, "the same directory, another database");
    let name = database_name_for(&data).unwrap();
    assert!(exists(&name), "{name} was not created");
    assert_eq!(current_database(&url), name);
    assert_ne!(postgres_database(dir.path()), url, "two directories, one database");
}

#[test]
fn a_database_made_by_another_process_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let name = database_name_for(dir.path()).unwrap();
    connect(&server_url().unwrap()).batch_execute(&format!("CREATE DATABASE \"{name}\"")).unwrap();
    let url = postgres_database(dir.path());
    let mut client = connect(&url);
    assert_eq!(client.query_one("SELECT current_database()", &[]).unwrap().get::<_, String>(0), name);
}

#[test]
fn many_asking_at_once_get_the_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = std::thread::scope(|scope| {
        let askers: Vec<_> = (0..8).map(|_| scope.spawn(|| postgres_database(dir.path()))).collect();
        askers.into_iter().map(|asker| asker.join().unwrap()).collect()
    });
    assert!(urls.iter().all(|url| *url == urls[0]), "{urls:?}");
    assert!(exists(&database_name_for(dir.path()).unwrap()));
}

#[test]
fn sqlite_needs_no_database_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(database_for_backend(dir.path(), None).unwrap(), None);
    assert_eq!(database_for_backend(dir.path(), Some("sqlite")).unwrap(), None);
    let e = database_for_backend(dir.path(), Some("mysql")).unwrap_err();
    assert!(e.to_string().contains("sqlite (the default) or postgres"), "{e}");
}

/// The async tests call `admin()` on their runtime's threads, where the
/// blocking client's own runtime could not start.
#[tokio::test]
async fn the_harness_works_inside_an_async_test() {
    let dir = tempfile::tempdir().unwrap();
    let url = postgres_database(dir.path());
    assert!(url.ends_with(&database_name_for(dir.path()).unwrap()));
    assert!(fresh_database().unwrap().contains("/lodge_"));
}
