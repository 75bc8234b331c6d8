//! Faults as they happen: the server killed with `kill -9` in the middle of
//! a device's catch-up of 10,000 documents, and the connection cut at a
//! chosen byte by a proxy between the device and the server. Each time
//! nothing is lost, nothing is duplicated, and the stores agree.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use lodge_core::person::PersonForm;
use lodge_core::visit::GuestForm;
use lodge_core::{Actor, DocId, Role, SiteId, Store, SystemClock};
use lodge_sync_server::registry::Numbered;
use lodge_tests::site::TestSite;
use lodge_tests::{Device, Server, code, create_site, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

const LIMIT: Duration = Duration::from_secs(120);

/// How many guests the admin registers before a new desk catches up in the
/// cut-line test: more than one catch-up step (256 documents) and many
/// frames of about 32 KB.
const VISITS: usize = 300;

/// How many visits the server holds when it is killed in the middle of a
/// desk's catch-up: the 10,000 documents of issue 12.
const KILL_VISITS: usize = 10_000;

/// A debug build takes minutes to catch up 10,000 documents.
const KILL_LIMIT: Duration = Duration::from_secs(600);

/// A site whose admin registered [`VISITS`] guests, all on the server.
async fn site_with_visits() -> TestSite {
    let s = TestSite::start().await;
    let founder = s.founder();
    let host = s.host;
    s.admin.act(|st| {
        for i in 0..VISITS {
            let form = GuestForm { name: format!("Guest {i}"), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() };
            st.register_guest(&founder, form).unwrap();
        }
    });
    eventually("the visits reach the server", LIMIT, || s.admin.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    s
}

/// Visit documents and visit rows in a device's store: equal, and what the
/// admin holds, once it has caught up.
fn visits_of(d: &Device) -> (usize, usize) {
    d.read(|s| {
        let docs = s.documents().unwrap().iter().filter(|d| d.as_str().starts_with("visit:")).count();
        (docs, s.waiting_guests().unwrap().len())
    })
}

/// Visit documents, distinct visit ids among them, and visit rows in a
/// store file, read as it is on disk (the server's, while it runs).
fn visits_in_file(path: &Path) -> (usize, usize, usize) {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as usize;
    (
        count("SELECT count(*) FROM documents WHERE kind = 'visit'"),
        count("SELECT count(DISTINCT doc_id) FROM documents WHERE kind = 'visit'"),
        count("SELECT count(*) FROM visits"),
    )
}

/// A server's data directory holding a site with a host and `visits`
/// waiting guests, made before the server starts (see [`seed_visits`]).
fn seeded_data(dir: &Path, visits: usize) -> (PathBuf, SiteId) {
    let data = dir.join("server");
    let site = create_site(&data, "Lodge House").unwrap();
    seed_visits(&data, site, visits);
    (data, site)
}

/// Add a host (once) and `visits` waiting guests to a site while its server
/// is not running: straight into the site's store with the same commands
/// the app uses, and numbered in the change feed as `lodge-sync site
/// create` numbers what it makes, so that every one of them is news to a
/// device. Through a device and the sync, 10,000 visits took minutes more
/// to make in a debug build.
fn seed_visits(data: &Path, site: SiteId, visits: usize) {
    let path = site_file(data, site);
    let docs = {
        let mut store = Store::open(&path, Arc::new(SystemClock)).unwrap();
        let admin = Actor { person: None, device: None, name: "Seeder".into(), role: Role::Admin };
        let host = match store.directory("").unwrap().first() {
            Some(host) => host.id,
            None => {
                let anna = PersonForm { name: "Anna Kowalska".into(), hosts_guests: true, roles: vec![Role::Staff], ..Default::default() };
                store.create_person(&admin, anna).unwrap()
            }
        };
        for i in 0..visits {
            let form = GuestForm { name: format!("Guest {i}"), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() };
            store.register_guest(&admin, form).unwrap();
        }
        // All of them, old ones too: numbering a document a device already
        // has only makes its next catch-up offer it again. With their bytes
        // when a second instance on PostgreSQL must merge them (the store
        // file is this instance's only).
        let whole = lodge_tests::postgres::database_for(&data).unwrap().is_some();
        store
            .documents()
            .unwrap()
            .into_iter()
            .map(|doc| {
                let changes = if whole { store.export_document(&doc).unwrap() } else { None };
                Numbered { doc, purged: false, changes }
            })
            .collect::<Vec<_>>()
    };
    // Off the runtime: a PostgreSQL registry's client runs its own.
    lodge_tests::postgres::off_runtime(|| Ok(lodge_tests::open_registry(&data)?.number(site, &docs, "test-seed")?)).unwrap();
}

/// The server's store file of a site.
fn site_file(data: &Path, site: SiteId) -> PathBuf {
    data.join("sites").join(format!("{site}.sqlite"))
}

/// The fault tests take turns: each kills a process at a point of its
/// progress, and four catch-ups of thousands of documents at once on two
/// cores made one miss its deadlines.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_in_the_middle_of_a_catch_up_loses_and_duplicates_nothing() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    let (data, site) = seeded_data(dir.path(), KILL_VISITS);
    eprintln!("seeded in {:?}", t.elapsed());
    let site_file = site_file(&data, site);
    assert_eq!(visits_in_file(&site_file), (KILL_VISITS, KILL_VISITS, KILL_VISITS));
    let mut server = Server::start(&data, 0).unwrap();
    let port = server.port();
    // The desk's line holds the rest of the catch-up back after 2 MB (some
    // hundreds of visits), so that the kill comes in the middle of it, not
    // after.
    let proxy = Proxy::start(port, 2_000_000, AtLimit::Hold).await;
    let c = code(&data, site, "reception", None).unwrap();
    let desk = Device::enrol_at(&server.http_url(), &format!("ws://127.0.0.1:{}/sync", proxy.port), dir.path(), "desk", &c).await.unwrap();
    eventually("the catch-up is held in the middle", KILL_LIMIT, || proxy.reached.load(Ordering::SeqCst) == 1).await.unwrap();
    eventually("the desk has applied what came", KILL_LIMIT, || visits_of(&desk).0 > 0).await.unwrap();
    eprintln!("held at {:?}", t.elapsed());
    server.kill();
    let halfway = visits_of(&desk).0;
    assert!(halfway < KILL_VISITS, "the whole catch-up came before the kill");
    proxy.release.notify_one();
    let server = Server::start(&data, port).unwrap();
    eventually("the desk has every visit", KILL_LIMIT, || visits_of(&desk) == (KILL_VISITS, KILL_VISITS)).await.unwrap();
    // Once up to date, the counts stay: nothing arrives twice.
    eprintln!("all in at {:?}", t.elapsed());
    eventually("the desk is online", KILL_LIMIT, || desk.sync.status().connection == lodge_core::sync::Connection::Online).await.unwrap();
    assert_eq!(visits_of(&desk), (KILL_VISITS, KILL_VISITS));
    assert_eq!(visits_in_file(&desk.path), (KILL_VISITS, KILL_VISITS, KILL_VISITS));
    // The server, killed mid-way, still holds exactly what it held.
    assert_eq!(visits_in_file(&site_file), (KILL_VISITS, KILL_VISITS, KILL_VISITS));
    drop(server);
    eprintln!("kill test: {halfway} of {KILL_VISITS} visits had come when the server was killed");
}

/// What the proxy does to its first connection once the server has sent
/// it the chosen number of bytes.
#[derive(Clone, Copy)]
enum AtLimit {
    /// Close both ends: the line is cut.
    Cut,
    /// Pass nothing more until released, then close.
    Hold,
}

/// A proxy on 127.0.0.1 in front of the server. Its first connection is cut
/// or held once that many bytes came from the server; later connections
/// pass whole (to whatever listens on the server's port then).
struct Proxy {
    port: u16,
    /// How many connections reached the limit.
    reached: Arc<AtomicU64>,
    /// Ends a held connection.
    release: Arc<Notify>,
}

impl Proxy {
    async fn start(server_port: u16, limit: u64, at_limit: AtLimit) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let reached = Arc::new(AtomicU64::new(0));
        let release = Arc::new(Notify::new());
        let armed = Arc::new(AtomicBool::new(true));
        let (counted, released) = (reached.clone(), release.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", server_port)).await else { continue };
                let limit = armed.swap(false, Ordering::SeqCst).then_some(limit);
                let (counted, released) = (counted.clone(), released.clone());
                tokio::spawn(async move {
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = tokio::spawn(async move { tokio::io::copy(&mut cr, &mut sw).await });
                    let mut passed = 0u64;
                    let mut buf = vec![0u8; 4096];
                    loop {
                        let n = match sr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if let Some(limit) = limit
                            && passed + n as u64 >= limit
                        {
                            // Up to the chosen byte, then the line is cut,
                            // or goes quiet until released.
                            let _ = cw.write_all(&buf[..(limit - passed) as usize]).await;
                            counted.fetch_add(1, Ordering::SeqCst);
                            if let AtLimit::Hold = at_limit {
                                released.notified().await;
                            }
                            break;
                        }
                        if cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        passed += n as u64;
                    }
                    up.abort();
                    let _ = cw.shutdown().await;
                });
            }
        });
        Self { port, reached, release }
    }
}

/// A proxy on 127.0.0.1 in front of the server whose first connection
/// passes what the server sends whole and what the device sends slowly
/// ([`SLOW_UP_BYTES`] a quarter of a second): the device's outbox is still
/// going up while the server's catch-up is applied, whatever the machine's
/// speed. Later connections pass whole.
struct SlowUp {
    port: u16,
}

/// What [`SlowUp`] passes from the device each quarter of a second: the
/// upgrade and the hello within the first, a thousand guests' changes in
/// tens of seconds.
const SLOW_UP_BYTES: usize = 4096;

impl SlowUp {
    async fn start(server_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicBool::new(true));
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", server_port)).await else { continue };
                let slow = armed.swap(false, Ordering::SeqCst);
                tokio::spawn(async move {
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let down = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut sr, &mut cw).await;
                        let _ = cw.shutdown().await;
                    });
                    let mut buf = vec![0u8; SLOW_UP_BYTES];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        if slow {
                            tokio::time::sleep(Duration::from_millis(250)).await;
                        }
                    }
                    let _ = sw.shutdown().await;
                    let _ = down.await;
                });
            }
        });
        Self { port }
    }

    fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/sync", self.port)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_at_a_chosen_byte_of_a_catch_up_resumes_without_loss() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let s = site_with_visits().await;
    // In the hello's answer, in the first catch-up frame, and deep in it.
    for (i, cut_at) in [40u64, 9_000, 150_000].into_iter().enumerate() {
        let proxy = Proxy::start(s.server.port(), cut_at, AtLimit::Cut).await;
        let c = code(&s.server.data, s.site, "reception", None).unwrap();
        let desk = Device::enrol_at(&s.server.http_url(), &format!("ws://127.0.0.1:{}/sync", proxy.port), s.dir.path(), &format!("desk-{i}"), &c)
            .await
            .unwrap();
        eventually("the proxy cut the line", LIMIT, || proxy.reached.load(Ordering::SeqCst) == 1).await.unwrap();
        eventually("the desk has every visit after the cut", LIMIT, || visits_of(&desk) == (VISITS, VISITS)).await.unwrap();
        eventually("the desk is online", LIMIT, || desk.sync.status().connection == lodge_core::sync::Connection::Online).await.unwrap();
        assert_eq!(visits_of(&desk), (VISITS, VISITS), "cut at byte {cut_at}");
    }
}

/// How many visits the server holds when a device process is killed in
/// the middle of fetching them: enough that applying them takes a debug
/// build tens of seconds, so a kill lands while frames are applied.
const DEVICE_VISITS: usize = 2_000;

/// How many guests the device registered offline before it connects: with
/// [`SlowUp`] in between, tens of seconds of upload the first time.
const OFFLINE_VISITS: usize = 1_000;

/// How many times the device process is killed before it may finish.
const DEVICE_KILLS: usize = 3;

/// One line of `lodge-device`'s progress.
#[derive(Debug, Clone, Copy)]
struct Progress {
    online: bool,
    visits: usize,
    waiting: usize,
}

impl Progress {
    fn parse(line: &str) -> Option<(String, Self)> {
        let mut words = line.split_whitespace();
        let what = words.next()?.to_owned();
        let mut number = |key: &str| words.next()?.strip_prefix(key)?.parse().ok();
        let visits = number("visits=")?;
        let waiting = number("waiting=")?;
        Some((what.clone(), Self { online: what == "online", visits, waiting }))
    }
}

/// `lodge-device` running as a process of its own, so that `kill -9` is
/// real: the kernel stops it wherever it is, in a SQLite transaction or
/// not.
struct DeviceProcess {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl DeviceProcess {
    fn start(store: &Path, url: &str, token: &str) -> Self {
        let mut child = Command::new(lodge_tests::workspace_bin("lodge-device"))
            .arg("--store")
            .arg(store)
            .args(["--url", url, "--token", token])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The first progress line that satisfies `wanted`, waiting up to
    /// `limit`; a line that says the device went past what was wanted
    /// (`too_far`) fails the test.
    fn wait_for(&self, what: &str, limit: Duration, wanted: impl Fn(&Progress) -> bool, too_far: impl Fn(&Progress) -> bool) -> Progress {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|e| panic!("no line from the device saying {what} within {limit:?}: {e}"));
            let Some((_, progress)) = Progress::parse(&line) else { panic!("an unreadable line from the device: {line}") };
            if wanted(&progress) {
                return progress;
            }
            assert!(!too_far(&progress), "the device went past {what}: {line}");
        }
    }

    /// `kill -9`.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for DeviceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The store file is whole: SQLite's own check passes and the store opens.
fn assert_store_is_whole(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok", "{} is damaged", path.display());
    drop(conn);
    drop(Store::open(path, Arc::new(SystemClock)).expect("the store opens after the kill"));
}

/// The visit ids in a store file, read as it is on disk.
fn visit_ids_in_file(path: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut stmt = conn.prepare("SELECT visit_id FROM visits ORDER BY visit_id").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

/// A reception device enrolled in the site, holding its settings and the
/// directory, its client stopped: the store file, the token and the device.
async fn enrolled_desk(server: &Server, site: SiteId, dir: &Path) -> (PathBuf, String, lodge_core::DeviceId) {
    let path = dir.join("device.sqlite");
    let store = Arc::new(Mutex::new(Store::open(&path, Arc::new(SystemClock)).unwrap()));
    let c = code(&server.data, site, "reception", None).unwrap();
    let enrolled = lodge_core::sync::enrol(&server.http_url(), &c, "device", &store).await.unwrap();
    let sync = lodge_core::sync::spawn(store.clone(), server.ws_url(), enrolled.token.clone());
    eventually("the device has the directory", LIMIT, || {
        sync.status().connection == lodge_core::sync::Connection::Online && !store.lock().unwrap().directory("").unwrap().is_empty()
    })
    .await
    .unwrap();
    sync.stop();
    drop(sync);
    // The client's task holds the store until it has stopped.
    eventually("the client lets go of the store", LIMIT, || Arc::strong_count(&store) == 1).await.unwrap();
    drop(store);
    (path, enrolled.token, enrolled.device)
}

/// A device process catching up [`DEVICE_VISITS`] visits is killed with
/// `kill -9` [`DEVICE_KILLS`] times while it applies them, each time after
/// it applied more; then it runs to the end. Returns the device's store
/// file and the server, stopped, with the site's data directory.
async fn device_killed_while_applying(offline: usize) -> (tempfile::TempDir, PathBuf, PathBuf, SiteId, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let (data, site) = seeded_data(dir.path(), 0);
    let mut server = Server::start(&data, 0).unwrap();
    let port = server.port();
    let (store, token, device) = enrolled_desk(&server, site, dir.path()).await;
    // Guests registered at the desk while it was offline: in its outbox.
    let own: Vec<String> = {
        let mut s = Store::open(&store, Arc::new(SystemClock)).unwrap();
        let host = s.directory("").unwrap()[0].id;
        let desk = Actor { person: None, device: Some(device), name: "Reception".into(), role: Role::Reception };
        (0..offline)
            .map(|i| {
                let form = GuestForm { name: format!("Walk-in {i}"), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() };
                s.register_guest(&desk, form).unwrap().to_string()
            })
            .collect()
    };
    // Meanwhile the server got many visits (added while it was stopped).
    server.terminate(Duration::from_secs(10)).unwrap();
    seed_visits(&data, site, DEVICE_VISITS);
    let server = Server::start(&data, port).unwrap();
    let total = DEVICE_VISITS + offline;
    let url = server.ws_url();
    // The first time, the device's own guests go up slowly, so that it is
    // killed with some of them still waiting (only then is the test of the
    // outbox a test): on a fast day all of them were up before the first
    // frame of the catch-up was applied.
    let slow_up = SlowUp::start(server.port()).await;
    let mut had = offline;
    for kill in 0..DEVICE_KILLS {
        let own_waiting = kill == 0 && offline > 0;
        let device = DeviceProcess::start(&store, &if own_waiting { slow_up.ws_url() } else { url.clone() }, &token);
        // Killed as soon as it applied frames that brought more visits.
        let at = device.wait_for(
            "frames applied",
            KILL_LIMIT,
            |p| !p.online && p.visits > had && (!own_waiting || p.waiting > 0),
            |p| p.visits >= total || (own_waiting && p.waiting == 0),
        );
        device.kill();
        assert_store_is_whole(&store);
        // Nothing the device made is lost with the process.
        let held = visit_ids_in_file(&store);
        assert!(own.iter().all(|v| held.binary_search(v).is_ok()), "kill {kill}: the device lost a guest it registered offline");
        assert!(held.len() >= at.visits, "kill {kill}: the device lost visits it had applied ({} after, {} before)", held.len(), at.visits);
        eprintln!("device kill {kill}: at {} of {total} visits, {} waiting to go up", at.visits, at.waiting);
        had = held.len();
    }
    let device = DeviceProcess::start(&store, &url, &token);
    device.wait_for("every visit, nothing waiting", KILL_LIMIT, |p| p.online && p.visits == total && p.waiting == 0, |p| p.visits > total);
    device.kill();
    // The server's store, whole after a clean stop.
    let mut server = server;
    server.terminate(Duration::from_secs(10)).unwrap();
    (dir, store, data, site, own)
}

/// What both ends hold: exactly the same visits, each once, and as many
/// visit documents as visit rows.
fn assert_device_and_server_agree(store: &Path, data: &Path, site: SiteId, total: usize) {
    assert_store_is_whole(store);
    let on_device = visit_ids_in_file(store);
    let on_server = visit_ids_in_file(&site_file(data, site));
    assert_eq!(on_device.len(), total, "visits on the device");
    assert_eq!(on_device, on_server, "the device and the server hold other visits");
    assert_eq!(visits_in_file(store), (total, total, total));
    assert_eq!(visits_in_file(&site_file(data, site)), (total, total, total));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_killed_while_applying_frames_ends_with_every_document_once() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (_dir, store, data, site, _) = device_killed_while_applying(0).await;
    assert_device_and_server_agree(&store, &data, site, DEVICE_VISITS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_killed_with_changes_waiting_sends_each_exactly_once() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (_dir, store, data, site, own) = device_killed_while_applying(OFFLINE_VISITS).await;
    assert_device_and_server_agree(&store, &data, site, DEVICE_VISITS + OFFLINE_VISITS);
    // Each of the device's guests reached the server as the one change the
    // desk made, not again as another.
    let mut server = Store::open(site_file(&data, site), Arc::new(SystemClock)).unwrap();
    for visit in &own {
        let doc = DocId::visit(visit.parse().unwrap());
        let history = server.change_history(&doc).unwrap();
        assert_eq!(history.len(), 1, "{visit} on the server: {history:?}");
    }
}
