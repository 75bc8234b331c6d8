//! The store file: damaged or foreign files are refused whole and left
//! untouched; stores and documents of earlier schemas still open.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lodge_core::key_loan::LoanFilter;
use lodge_core::repair::RepairState;
use lodge_core::visit::VisitState;
use lodge_core::{Actor, DocId, ManualClock, NewSite, SiteId, Store, StoreError, SystemClock, Timestamp};

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Timestamp::from_millis(1_795_500_000_000)))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

/// A store with a site and some data, closed again.
fn a_real_store(dir: &Path) -> PathBuf {
    let path = dir.join("lodge.sqlite");
    let mut store = Store::open(&path, clock()).unwrap();
    let admin = Actor::site_founder("Ada");
    store.create_site(&admin, NewSite { name: "Lodge House".into(), time_zone: "UTC".into() }).unwrap();
    for i in 0..40 {
        store.set_department(&admin, lodge_core::DepartmentId::parse(&format!("d{i}")).unwrap(), &"x".repeat(500)).unwrap();
    }
    drop(store);
    path
}

#[test]
fn garbage_is_not_a_store_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lodge.sqlite");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = Store::open(&path, clock()).unwrap_err();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
    assert!(err.to_string().contains("is not a Lodge store"));
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
}

#[test]
fn a_store_cut_short_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = a_real_store(dir.path());
    let full = std::fs::read(&path).unwrap();
    for keep in [50, 100, 4096, full.len() / 2, full.len() - 1] {
        std::fs::write(&path, &full[..keep]).unwrap();
        let err = Store::open(&path, clock()).unwrap_err();
        assert!(matches!(err, StoreError::Truncated { .. } | StoreError::NotAStore { .. }), "{keep}: {err}");
        assert_eq!(std::fs::read(&path).unwrap(), &full[..keep], "{keep} bytes were changed");
    }
    std::fs::write(&path, &full).unwrap();
    let store = Store::open(&path, clock()).unwrap();
    assert_eq!(store.site_settings().unwrap().unwrap().name, "Lodge House");
}

#[test]
fn a_store_from_a_newer_lodge_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = a_real_store(dir.path());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path, clock()).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("Update Lodge"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_damaged_document_is_refused_when_used_and_the_rest_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = a_real_store(dir.path());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE documents SET snapshot = x'00112233' WHERE kind = 'directory'", []).unwrap();
    drop(conn);
    let mut store = Store::open(&path, clock()).unwrap();
    let admin = Actor::site_founder("Ada");
    // Adding a host writes the directory: refused, and nothing of it stays.
    let err = store
        .create_person(&admin, lodge_core::person::PersonForm { name: "Eve".into(), hosts_guests: true, ..Default::default() })
        .unwrap_err();
    assert!(err.to_string().contains("is damaged"), "{err}");
    assert!(store.people("").unwrap().is_empty());
    // Other documents still work.
    store.set_retention_days(&admin, 60).unwrap();
}

#[test]
fn damaged_document_bytes_are_refused_on_import() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("x.sqlite"), Arc::new(SystemClock)).unwrap();
    let id = DocId::visit(lodge_core::VisitId::new());
    let err = store.import_document(&id, b"not automerge").unwrap_err();
    assert!(matches!(err, StoreError::CorruptDocument { .. }), "{err}");
    // A real document under the wrong kind of id is refused too.
    let site_file = std::fs::read_dir(fixtures()).unwrap().map(|e| e.unwrap().path()).find(|p| p.to_string_lossy().contains("/site_")).unwrap();
    let err = store.import_document(&id, &std::fs::read(site_file).unwrap()).unwrap_err();
    assert!(matches!(err, StoreError::WrongKind { .. }), "{err}");
    assert!(store.documents().unwrap().is_empty());
}

fn doc_id_of(file: &Path) -> Option<DocId> {
    let stem = file.file_stem()?.to_str()?;
    if file.extension()? != "automerge" {
        return None;
    }
    let (kind, rest) = stem.split_once('_')?;
    DocId::parse(&format!("{kind}:{}", rest.replace('_', ":"))).ok()
}

fn assert_fixture_site(store: &Store) {
    let settings = store.site_settings().unwrap().unwrap();
    assert_eq!(settings.name, "Fixture House");
    let guests = store.guests_in().unwrap();
    assert_eq!(guests.len(), 1);
    assert_eq!(guests[0].guest_name, "Fixture Guest");
    assert!(matches!(guests[0].state, VisitState::Admitted { card, .. } if card.get() == 105));
    let people = store.people_in().unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].name, "Anna Fixture");
    assert_eq!(store.loans(LoanFilter::Out).unwrap().len(), 1);
    assert_eq!(store.equipment_held().unwrap().len(), 1);
    let repairs = store.open_repairs().unwrap();
    assert_eq!(repairs.len(), 1);
    assert_eq!(repairs[0].state, RepairState::InProgress);
    assert_eq!(store.loan_exceptions(people[0].person).unwrap()[0].max_keys, 3);
    assert_eq!(store.directory("").unwrap().len(), 1);
    assert!(store.conflicts().unwrap().is_empty());
}

#[test]
fn saved_documents_of_schema_1_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("x.sqlite"), clock()).unwrap();
    let files: Vec<(PathBuf, DocId)> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            doc_id_of(&p).map(|id| (p, id))
        })
        .collect();
    assert_eq!(files.len(), 9, "one document of every kind");
    let site = files.iter().find(|(_, id)| id.kind() == lodge_core::DocKind::Site).unwrap().1.clone();
    store.join_site(SiteId::parse(site.as_str().trim_start_matches("site:")).unwrap()).unwrap();
    for (path, id) in &files {
        store.import_document(id, &std::fs::read(path).unwrap()).unwrap();
    }
    assert_fixture_site(&store);
    // Importing the same bytes again changes nothing.
    for (path, id) in &files {
        store.import_document(id, &std::fs::read(path).unwrap()).unwrap();
    }
    assert_fixture_site(&store);
}

#[test]
fn a_store_of_schema_1_opens_upgrades_and_rebuilds_its_projections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    std::fs::copy(fixtures().join("store-schema-1.sqlite"), &path).unwrap();
    let store = Store::open(&path, clock()).unwrap();
    assert_fixture_site(&store);
    // Its site document predates the sign-in records' own limit: the
    // default applies.
    assert_eq!(store.site_settings().unwrap().unwrap().presence_retention_days, lodge_core::retention::DEFAULT_PRESENCE_RETENTION_DAYS);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert!(version >= 2);
}

#[test]
fn reopening_a_store_keeps_everything_and_loads_no_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    std::fs::copy(fixtures().join("store-schema-1.sqlite"), &path).unwrap();
    drop(Store::open(&path, clock()).unwrap());
    let store = Store::open(&path, clock()).unwrap();
    assert_eq!(store.loaded_documents(), 0, "queries need no loaded documents");
    assert_fixture_site(&store);
    assert_eq!(store.loaded_documents(), 0);
}

#[test]
fn a_store_that_goes_quiet_has_its_log_copied_into_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lodge.sqlite");
    let mut store = Store::open(&path, clock()).unwrap();
    let admin = Actor::site_founder("Ada");
    store.create_site(&admin, NewSite { name: "Quiet House".into(), time_zone: "UTC".into() }).unwrap();
    // The store stays open and quiet; its main file alone (without the log)
    // soon holds the site: the background checkpoint ran.
    let copy = dir.path().join("copy.sqlite");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        std::fs::copy(&path, &copy).unwrap();
        let found = rusqlite::Connection::open(&copy)
            .and_then(|c| c.query_row("SELECT count(*) FROM documents WHERE kind = 'site'", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0);
        if found == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the site never reached the main file");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    drop(store);
}

/// The log's length in pages, read as SQLite's file format describes its
/// index (the `-shm` file): `mxFrame` at byte 16 of the index's header.
fn log_pages(store: &Path) -> u32 {
    use std::os::unix::fs::FileExt;
    let mut index = store.as_os_str().to_owned();
    index.push("-shm");
    let mut header = [0u8; 20];
    std::fs::File::open(index).unwrap().read_exact_at(&mut header, 0).unwrap();
    u32::from_ne_bytes([header[16], header[17], header[18], header[19]])
}

/// SQLite's own limit (`wal_autocheckpoint`), where it copies the whole
/// log into the file inside the command that crossed it.
const SQLITE_LIMIT: u32 = 20_000;

#[test]
fn a_store_written_without_pause_starts_its_log_over_long_before_sqlites_own_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lodge.sqlite");
    let mut store = Store::open(&path, Arc::new(SystemClock)).unwrap();
    let admin = Actor::site_founder("Ada");
    store.create_site(&admin, NewSite { name: "Busy House".into(), time_zone: "UTC".into() }).unwrap();
    let host = store
        .create_person(&admin, lodge_core::person::PersonForm { name: "Anna Host".into(), hosts_guests: true, ..Default::default() })
        .unwrap();
    let kiosk = Actor::kiosk(lodge_core::DeviceId::new());
    // Commands back to back, never a quiet moment for the checkpoint
    // thread: the log starts over (gets shorter) only after a copy that
    // left nothing behind.
    let (mut restarts, mut longest, mut last) = (0, 0, 0);
    for i in 0.. {
        let form = lodge_core::visit::GuestForm { name: format!("Guest {i}"), company: "Busy".into(), host: Some(host), consent: true, ..Default::default() };
        store.register_guest(&kiosk, form).unwrap();
        let pages = log_pages(&path);
        longest = longest.max(pages);
        restarts += usize::from(pages < last);
        last = pages;
        if restarts == 2 || longest >= SQLITE_LIMIT {
            break;
        }
    }
    assert!(longest < SQLITE_LIMIT, "the log grew to SQLite's own limit ({longest} pages) after {restarts} starts over");
}

#[test]
fn a_loan_kept_in_its_keys_own_document_from_before_loan_books_is_still_renewed_and_returned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    std::fs::copy(fixtures().join("store-schema-1.sqlite"), &path).unwrap();
    let mut store = Store::open(&path, clock()).unwrap();
    let out = store.loans(LoanFilter::Out).unwrap();
    let key = out[0].key;
    let desk = Actor::site_founder("Key desk");
    let due = store.renew_key(&desk, key, None).unwrap();
    assert!(due > out[0].due_at, "renewed");
    store.return_key(&desk, key).unwrap();
    assert!(store.loans(LoanFilter::Out).unwrap().is_empty());
    let loans = store.loans_of_key(key).unwrap();
    assert_eq!(loans.len(), 1, "no loan lost, none made twice");
    assert_eq!((loans[0].id, loans[0].state.as_str(), loans[0].renewals), (out[0].id, "returned", 0));
    // Its events went to the key's own document, where the loan is.
    let doc = DocId::key(key);
    let bytes = store.export_document(&doc).unwrap().unwrap();
    let am = automerge::AutoCommit::load(&bytes).unwrap();
    use automerge::ReadDoc;
    let loans = am.get(automerge::ROOT, "loans").unwrap().unwrap().1;
    let first = am.get(&loans, 0).unwrap().unwrap().1;
    let events = am.get(&first, "events").unwrap().unwrap().1;
    assert_eq!(am.length(&events), 2, "renewed, then returned");
}
