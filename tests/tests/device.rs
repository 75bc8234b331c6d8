//! What a device promises under faults (issue 12), through a real
//! `lodge-sync` on 127.0.0.1: offline work shows as waiting; a device
//! removed from its site deletes the site's data; a rejected guest's name
//! is on no disk, in no store file, log or shared-memory file; a link that
//! went dead without closing shows as offline; a server of another protocol
//! version is shown as such, and nothing waiting is lost.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lodge_core::person::PersonForm;
use lodge_core::sync::{ClientOptions, Connection, Heartbeat, SyncStatus, spawn_with};
use lodge_core::visit::{GuestForm, RejectReason};
use lodge_core::{Actor, PersonId, Role, SiteId, Store, SystemClock};
use lodge_tests::{Device, Server, code, create_site, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const LIMIT: Duration = Duration::from_secs(20);

struct Site {
    server: Server,
    site: SiteId,
    admin: Device,
    host: PersonId,
    dir: tempfile::TempDir,
}

/// A server with a site, an admin device that added a host, synced.
async fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let site = create_site(&data, "Lodge House").unwrap();
    let server = Server::start(&data, 0).unwrap();
    let admin_dir = dir.path().join("admin");
    std::fs::create_dir_all(&admin_dir).unwrap();
    let admin = Device::enrol(&server, &admin_dir, "admin", &code(&data, site, "admin", None).unwrap()).await.unwrap();
    eventually("admin has the site", LIMIT, || admin.read(|s| s.site_settings().unwrap().is_some())).await.unwrap();
    let founder = Actor { person: None, device: Some(admin.id), name: "Admin".into(), role: Role::Admin };
    let host = admin
        .act(|s| {
            s.create_person(
                &founder,
                PersonForm { name: "Anna Kowalska".into(), email: Some("anna@lodge.test".into()), hosts_guests: true, roles: vec![Role::Staff], ..Default::default() },
            )
        })
        .unwrap();
    eventually("admin's changes reach the server", LIMIT, || admin.read(|s| s.outbox().unwrap().is_empty())).await.unwrap();
    Site { server, site, admin, host, dir }
}

impl Site {
    /// A device with a data directory of its own, `DIR/name/`.
    async fn device(&self, name: &str, role: &str) -> Device {
        self.device_of(name, role, None).await
    }

    /// A phone of `person`'s, or another device.
    async fn device_of(&self, name: &str, role: &str, person: Option<PersonId>) -> Device {
        let c = code(&self.server.data, self.site, role, person).unwrap();
        let dir = self.device_dir(name);
        std::fs::create_dir_all(&dir).unwrap();
        let d = Device::enrol(&self.server, &dir, name, &c).await.unwrap();
        eventually(&format!("{name} has the site"), LIMIT, || d.read(|s| s.site_settings().unwrap().is_some())).await.unwrap();
        d
    }

    fn device_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn guest(host: PersonId, name: &str) -> GuestForm {
    GuestForm { name: name.into(), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() }
}

fn desk(d: &Device) -> Actor {
    Actor { person: None, device: Some(d.id), name: "Reception".into(), role: Role::Reception }
}

/// A store's main file with its log and shared-memory files, as they are.
fn store_files(path: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        })
        .collect()
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The files among `files` whose raw bytes hold `needle` (files that do
/// not exist hold nothing).
fn holding(files: &[PathBuf], needle: &str) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|f| std::fs::read(f).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes())))
        .cloned()
        .collect()
}

/// Wait until the status satisfies `f`, telling "it did" from "timed out"
/// (with the last status seen).
async fn status_becomes(d: &Device, what: &str, limit: Duration, f: impl Fn(&SyncStatus) -> bool) -> Duration {
    let start = Instant::now();
    let mut rx = d.sync.watch();
    match tokio::time::timeout(limit, rx.wait_for(|s| f(s))).await {
        Ok(Ok(_)) => start.elapsed(),
        Ok(Err(_)) => panic!("the sync client ended before it {what}; last status {:?}", d.sync.status()),
        Err(_) => panic!("timed out after {limit:?}: the device never {what}; its status is {:?}", d.sync.status()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_changes_show_as_waiting_and_go_when_the_server_returns() {
    let mut s = site().await;
    let reception = s.device("reception", "reception").await;
    status_becomes(&reception, "came online", LIMIT, |st| st.connection == Connection::Online).await;
    let port = s.server.port();
    s.server.kill();
    status_becomes(&reception, "noticed the server is gone", LIMIT, |st| st.connection == Connection::Offline).await;

    // Counted at once, offline: the count comes from the outbox.
    reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, "Offline Guest"))).unwrap();
    let now = reception.sync.status();
    assert_eq!(now.waiting, 1, "{now:?}");
    assert_ne!(now.connection, Connection::Online);
    reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, "Second Guest"))).unwrap();
    assert_eq!(reception.sync.status().waiting, 2);
    // Trying again and failing does not lose the count.
    status_becomes(&reception, "tried again while the server was down", LIMIT, |st| st.connection == Connection::Connecting).await;
    status_becomes(&reception, "was offline again", LIMIT, |st| st.connection == Connection::Offline).await;
    assert_eq!(reception.sync.status().waiting, 2);

    s.server = Server::start(&s.server.data, port).unwrap();
    // The backoff may have grown to a few seconds while the server was down.
    status_becomes(&reception, "sent what waited", Duration::from_secs(40), |st| st.waiting == 0 && st.connection == Connection::Online).await;
    let admin = &s.admin;
    eventually("admin has both guests", LIMIT, || admin.read(|st| st.waiting_guests().unwrap().len() == 2)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_device_deletes_the_site_data_it_held() {
    let s = site().await;
    let reception = s.device("reception", "reception").await;
    let name = "Zofia Removedtest";
    let visit = reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, name))).unwrap();
    eventually("the guest reaches the server", LIMIT, || reception.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    let dir = s.device_dir("reception");
    assert!(!holding(&files_under(&dir), name).is_empty(), "the test looks for the name where it is");
    let actor_before = reception.read(|st| st.actor_id().clone());

    lodge_tests::admin(&s.server.data, &["devices", "revoke", &reception.id.to_string()]).unwrap();
    status_becomes(&reception, "was told it was removed", LIMIT, |st| st.connection == Connection::Revoked).await;
    // What the app does when told (see `lodge_app::desk::Desk::wipe`).
    reception.store.lock().unwrap().wipe().unwrap();

    let left = holding(&files_under(&dir), name);
    assert!(left.is_empty(), "the guest's name is still on the removed device in {left:?}");
    // The store that held the site is gone: in its place an empty one, as
    // on a device never set up.
    reception.read(|st| {
        assert_eq!(st.site().unwrap(), None);
        assert!(st.documents().unwrap().is_empty());
        assert!(st.visit(visit).unwrap().is_none());
        assert_ne!(st.actor_id(), &actor_before, "a new store, not the old one emptied");
    });
    // And with it closed, nothing of the store is left at all.
    let path = reception.path.clone();
    drop(reception);
    Store::wipe_files(&path).unwrap();
    let files = files_under(&dir);
    assert!(files.is_empty(), "files left in the removed device's directory: {files:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_guests_name_is_in_no_store_log_or_shared_memory_file() {
    let mut s = site().await;
    let kiosk = s.device("kiosk", "kiosk").await;
    let reception = s.device("reception", "reception").await;
    eventually("the kiosk has the host", LIMIT, || kiosk.read(|st| !st.directory("Anna").unwrap().is_empty())).await.unwrap();
    let name = "Mallory Prankster";
    let visit = kiosk.act(|st| st.register_guest(&kiosk.kiosk(), guest(s.host, name))).unwrap();
    eventually("reception sees the entry", LIMIT, || reception.read(|st| st.visit(visit).unwrap().is_some())).await.unwrap();
    let server_store = s.server.data.join("sites").join(format!("{}.sqlite", s.site));
    let files = |kiosk: &Path, reception: &Path| -> Vec<PathBuf> {
        let mut all = store_files(kiosk);
        all.extend(store_files(reception));
        all.extend(store_files(&server_store));
        all
    };
    for store in [&kiosk.path, &reception.path, &server_store] {
        assert!(!holding(&store_files(store), name).is_empty(), "the test looks for the name where it is: {}", store.display());
    }
    let everywhere = files(&kiosk.path, &reception.path);

    reception.act(|st| st.reject(&desk(&reception), visit, RejectReason::Abuse)).unwrap();
    for d in [&kiosk, &reception, &s.admin] {
        eventually("every device purges the visit", LIMIT, || d.read(|st| st.visit(visit).unwrap().is_none())).await.unwrap();
    }
    // The files as they are, stores open: the log is emptied on the
    // checkpoint thread within a second or so of the purge.
    let waited = eventually("the name leaves every store file, log and shared-memory file", LIMIT, || holding(&everywhere, name).is_empty()).await;
    if waited.is_err() {
        panic!("the rejected guest's name is still in {:?}", holding(&everywhere, name));
    }

    // Reopened: nothing comes back.
    let (kiosk_path, reception_path) = (kiosk.path.clone(), reception.path.clone());
    drop(kiosk);
    drop(reception);
    let port = s.server.port();
    s.server.kill();
    s.server = Server::start(&s.server.data, port).unwrap();
    let kiosk_store = Store::open(&kiosk_path, Arc::new(SystemClock)).unwrap();
    let reception_store = Store::open(&reception_path, Arc::new(SystemClock)).unwrap();
    assert!(reception_store.visit(visit).unwrap().is_none());
    let left = holding(&files(&kiosk_path, &reception_path), name);
    assert!(left.is_empty(), "after reopening, the rejected guest's name is in {left:?}");
    drop((kiosk_store, reception_store));
    let left = holding(&files_under(s.dir.path()), name);
    assert!(left.is_empty(), "after closing, the rejected guest's name is in {left:?}");
}

/// A TCP proxy on 127.0.0.1 between a device and the server that can go
/// silent: it stops passing bytes either way but closes nothing, like a
/// phone that walked out of Wi-Fi.
struct Proxy {
    port: u16,
    silent: watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (silent, _) = watch::channel(false);
        let quiet = silent.clone();
        tokio::spawn(async move {
            while let Ok((device, _)) = listener.accept().await {
                let quiet = quiet.subscribe();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else { return };
                    let (dr, dw) = device.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(pass(dr, sw, quiet.clone()), pass(sr, dw, quiet));
                });
            }
        });
        Self { port, silent }
    }

    fn go_silent(&self, silent: bool) {
        self.silent.send_replace(silent);
    }
}

/// Pass bytes from `from` to `to` while the proxy is not silent; while it
/// is, hold them (and the sockets) until it speaks again.
async fn pass(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut silent: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if !speaking(&mut silent).await {
            return;
        }
        let n = tokio::select! {
            n = from.read(&mut buf) => match n {
                Ok(0) | Err(_) => {
                    let _ = to.shutdown().await;
                    return;
                }
                Ok(n) => n,
            },
            // Gone silent while waiting: stop reading.
            _ = gone_silent(&mut silent) => continue,
        };
        if !speaking(&mut silent).await || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Wait until the proxy is silent (or gone).
async fn gone_silent(silent: &mut watch::Receiver<bool>) {
    let _ = silent.wait_for(|s| *s).await.is_ok();
}

/// Wait until the proxy is not silent; false when it is gone.
async fn speaking(silent: &mut watch::Receiver<bool>) -> bool {
    silent.wait_for(|s| !s).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_of_another_protocol_version_is_shown_and_the_device_keeps_its_changes() {
    use futures_util::{SinkExt, StreamExt};
    use lodge_core::sync::{ServerMessage, SyncErrorKind};
    use tokio_tungstenite::tungstenite::Message;

    let s = site().await;
    let mut reception = s.device("reception", "reception").await;
    // A server a version ahead, made by hand: its first connection gets a
    // welcome of the next version, each later one a refusal of the app's.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let refused = "This server speaks protocol version 2. Update the app or the server.";
    let newer = tokio::spawn(async move {
        for k in 0.. {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else { continue };
            let _hello = ws.next().await;
            let frame = if k == 0 {
                let welcome = ServerMessage::Welcome { site: SiteId::new(), device: lodge_core::DeviceId::new(), role: Role::Reception, seq: 0, also_at: vec![] };
                lodge_tests::of_the_next_version(welcome.encode())
            } else {
                ServerMessage::Error { kind: SyncErrorKind::Version, message: refused.into(), doc: None, refusal: None }.encode()
            };
            let _ = ws.send(Message::Binary(frame.into())).await;
            let _ = ws.close(None).await;
        }
    });
    reception.sync.stop();
    reception.sync = spawn_with(reception.store.clone(), format!("ws://127.0.0.1:{port}/sync"), reception.token.clone(), ClientOptions::default());
    let visit = reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, "Guest Of Two Versions"))).unwrap();
    status_becomes(&reception, "showed the newer server's frame", LIMIT, |st| {
        st.last_error.as_deref().is_some_and(|e| e.contains("protocol version 2") && e.contains("Update the app or the server"))
    })
    .await;
    status_becomes(&reception, "showed the newer server's refusal", Duration::from_secs(60), |st| st.last_error.as_deref() == Some(refused)).await;
    assert_ne!(reception.sync.status().connection, Connection::Online);
    assert_eq!(reception.read(|st| st.outbox().unwrap().len()), 1, "the guest still waits to be sent");
    newer.abort();

    // Back on a server of its own version, the guest goes.
    reception.sync.stop();
    reception.go_online(&s.server);
    let admin = &s.admin;
    eventually("admin gets the guest", LIMIT, || admin.read(|st| st.visit(visit).unwrap().is_some())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_gone_silent_shows_offline_and_comes_back() {
    let s = site().await;
    let mut reception = s.device("reception", "reception").await;
    let proxy = Proxy::start(s.server.addr.clone()).await;
    // Short heartbeat for the test; the defaults (10 s, 25 s) are checked
    // in the client's unit tests.
    let heartbeat = Heartbeat { ping_every: Duration::from_millis(500), silence_limit: Duration::from_secs(2), ..Heartbeat::default() };
    reception.sync.stop();
    reception.sync = spawn_with(reception.store.clone(), format!("ws://127.0.0.1:{}/sync", proxy.port), reception.token.clone(), ClientOptions { heartbeat, ..Default::default() });
    status_becomes(&reception, "came online through the proxy", LIMIT, |st| st.connection == Connection::Online).await;
    // Quiet for a while on a live link: the pings keep it up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(reception.sync.status().connection, Connection::Online, "a quiet live link stays online");

    proxy.go_silent(true);
    let took = status_becomes(&reception, "showed the dead link as offline", LIMIT, |st| st.connection == Connection::Offline).await;
    let why = reception.sync.status().last_error.unwrap_or_default();
    assert!(why.contains("did not answer"), "{why}");
    assert!(took < Duration::from_secs(8), "offline after {took:?}, with a silence limit of 2 s");
    eprintln!("a dead link showed as offline after {took:?} (ping every 0.5 s, silence limit 2 s)");

    proxy.go_silent(false);
    status_becomes(&reception, "came back online", Duration::from_secs(40), |st| st.connection == Connection::Online).await;
    let v = reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, "After The Gap"))).unwrap();
    let admin = &s.admin;
    eventually("admin gets the guest", LIMIT, || admin.read(|st| st.visit(v).unwrap().is_some())).await.unwrap();
}

/// Issue 12, item 2: a staff phone that signed in and out offline, and a
/// desk that admitted a guest offline, stayed "Syncing · 1 change waiting"
/// after the server came back although the server had their changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_changes_leave_the_outbox_once_a_restarted_server_has_them() {
    let mut s = site().await;
    let reception = s.device("reception", "reception").await;
    let phone = s.device_of("phone", "staff", Some(s.host)).await;
    let anna = Actor { person: Some(s.host), device: Some(phone.id), name: "Anna Kowalska".into(), role: Role::Staff };
    let visit = reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, "Offline Admission"))).unwrap();
    for d in [&reception, &phone] {
        status_becomes(d, "came online", LIMIT, |st| st.connection == Connection::Online && st.waiting == 0).await;
    }
    let port = s.server.port();
    s.server.kill();
    for d in [&reception, &phone] {
        status_becomes(d, "noticed the server is gone", LIMIT, |st| st.connection == Connection::Offline).await;
    }
    phone.act(|st| st.sign_in(&anna, s.host)).unwrap();
    phone.act(|st| st.sign_out(&anna, s.host)).unwrap();
    reception
        .act(|st| st.admit(&desk(&reception), lodge_core::visit::AdmitRequest { visit, card: lodge_core::CardNumber::new(105).unwrap(), take_over: false }))
        .unwrap();
    assert_eq!(phone.sync.status().waiting, 1);
    assert_eq!(reception.sync.status().waiting, 1);
    s.server = Server::start(&s.server.data, port).unwrap();
    let admin = &s.admin;
    eventually("the admission reaches the admin", Duration::from_secs(40), || admin.read(|st| st.guests_in().unwrap().len() == 1)).await.unwrap();
    eventually("the sign-in and sign-out reach the admin", LIMIT, || {
        admin.read(|st| st.presence_history(s.host, lodge_core::Timestamp::from_millis(0)).is_ok_and(|h| h.len() >= 2))
    })
    .await
    .unwrap();
    for (d, who) in [(&phone, "phone"), (&reception, "desk")] {
        // Once the server has the change, the device must say so soon.
        status_becomes(d, &format!("({who}) emptied its outbox"), LIMIT, |st| st.waiting == 0 && st.connection == Connection::Online).await;
        assert!(d.read(|st| st.outbox().unwrap().is_empty()));
    }
}

/// A WebSocket proxy on 127.0.0.1 that reads each frame, as the server
/// would, and can lose the device's next `Sync` frame, or the server's next
/// answer carrying documents: an answer that never comes, on a link that
/// stays up (pings are answered). It counts the connections it took.
struct FrameLoser {
    port: u16,
    lose_next: Arc<std::sync::atomic::AtomicBool>,
    lose_answer: Arc<std::sync::atomic::AtomicBool>,
    lost: Arc<std::sync::atomic::AtomicUsize>,
    passed: Arc<std::sync::atomic::AtomicUsize>,
    connections: Arc<std::sync::atomic::AtomicUsize>,
}

impl FrameLoser {
    async fn start(upstream: String) -> Self {
        use futures_util::{SinkExt, StreamExt};
        use lodge_core::sync::{ClientMessage, ServerMessage};
        use std::sync::atomic::Ordering;
        use tokio_tungstenite::tungstenite::Message;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let lose_next = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let lost = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let passed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let lose_answer = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (lose, lost_n, passed_n, answer_n, connected) =
            (lose_next.clone(), lost.clone(), passed.clone(), lose_answer.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((device, _)) = listener.accept().await {
                connected.fetch_add(1, Ordering::SeqCst);
                let (lose, lost, passed, upstream) = (lose.clone(), lost_n.clone(), passed_n.clone(), upstream.clone());
                let lose_answer = answer_n.clone();
                tokio::spawn(async move {
                    let Ok(device) = tokio_tungstenite::accept_async(device).await else { return };
                    let Ok((server, _)) = tokio_tungstenite::connect_async(upstream.as_str()).await else { return };
                    let (mut to_device, mut from_device) = device.split();
                    let (mut to_server, mut from_server) = server.split();
                    let up = async {
                        while let Some(Ok(frame)) = from_device.next().await {
                            if let Message::Binary(bytes) = &frame
                                && matches!(ClientMessage::decode(bytes), Ok(ClientMessage::Sync { .. }))
                            {
                                if lose.swap(false, Ordering::SeqCst) {
                                    lost.fetch_add(1, Ordering::SeqCst);
                                    continue;
                                }
                                passed.fetch_add(1, Ordering::SeqCst);
                            }
                            // Pings are answered by the proxy's own socket.
                            if matches!(frame, Message::Ping(_) | Message::Pong(_)) {
                                continue;
                            }
                            if to_server.send(frame).await.is_err() {
                                return;
                            }
                        }
                    };
                    let down = async {
                        while let Some(Ok(frame)) = from_server.next().await {
                            if matches!(frame, Message::Ping(_) | Message::Pong(_)) {
                                continue;
                            }
                            if let Message::Binary(bytes) = &frame
                                && matches!(ServerMessage::decode(bytes), Ok(ServerMessage::Sync { docs, .. }) if !docs.is_empty())
                                && lose_answer.swap(false, Ordering::SeqCst)
                            {
                                lost.fetch_add(1, Ordering::SeqCst);
                                continue;
                            }
                            if to_device.send(frame).await.is_err() {
                                return;
                            }
                        }
                    };
                    tokio::select! { () = up => {}, () = down => {} }
                });
            }
        });
        Self { port, lose_next, lose_answer, lost, passed, connections }
    }
}

/// A reception desk of `s` syncing through a [`FrameLoser`], asking again
/// after 2 s without an answer, online.
async fn behind_frame_loser(s: &Site) -> (Device, FrameLoser) {
    let mut reception = s.device("reception", "reception").await;
    let proxy = FrameLoser::start(s.server.ws_url()).await;
    let heartbeat = Heartbeat { unanswered: Duration::from_secs(2), ..Heartbeat::default() };
    reception.sync.stop();
    reception.sync = spawn_with(reception.store.clone(), format!("ws://127.0.0.1:{}/sync", proxy.port), reception.token.clone(), ClientOptions { heartbeat, ..Default::default() });
    status_becomes(&reception, "came online through the proxy", LIMIT, |st| st.connection == Connection::Online && st.waiting == 0).await;
    (reception, proxy)
}

/// A change whose frame never reached the server, on a link that stays up:
/// the device connects again after `Heartbeat::unanswered` (here 2 s)
/// instead of showing "syncing · 1 waiting" until the link drops, which a
/// live link never does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_whose_frame_was_lost_on_a_live_link_is_sent_again() {
    use std::sync::atomic::Ordering;
    let s = site().await;
    let (reception, proxy) = behind_frame_loser(&s).await;

    proxy.lose_next.store(true, Ordering::SeqCst);
    let sent_before = proxy.passed.load(Ordering::SeqCst);
    let v = reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, "Lost Then Found"))).unwrap();
    let admin = &s.admin;
    eventually("the admin gets the guest all the same", LIMIT, || admin.read(|st| st.visit(v).unwrap().is_some())).await.unwrap();
    status_becomes(&reception, "nothing waits", LIMIT, |st| st.connection == Connection::Online && st.waiting == 0).await;
    assert_eq!(proxy.lost.load(Ordering::SeqCst), 1, "the first frame was lost");
    assert!(proxy.passed.load(Ordering::SeqCst) > sent_before, "and the change went again");
}

/// The server's answer to a change is lost on a link that stays up: the
/// server has the change and takes its answer as sent, so asking again on
/// the same link gets no answer (its half of the exchange is in step). The
/// device connects again, where both ends start afresh, and its outbox
/// empties.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_from_the_server_leaves_nothing_waiting_for_good() {
    use std::sync::atomic::Ordering;
    let s = site().await;
    let (reception, proxy) = behind_frame_loser(&s).await;
    let connections = proxy.connections.load(Ordering::SeqCst);

    proxy.lose_answer.store(true, Ordering::SeqCst);
    let v = reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, "Answer Lost"))).unwrap();
    let admin = &s.admin;
    eventually("the admin gets the guest", LIMIT, || admin.read(|st| st.visit(v).unwrap().is_some())).await.unwrap();
    status_becomes(&reception, "nothing waits", LIMIT, |st| st.connection == Connection::Online && st.waiting == 0).await;
    assert_eq!(proxy.lost.load(Ordering::SeqCst), 1, "the server's answer was lost");
    assert!(proxy.connections.load(Ordering::SeqCst) > connections, "the device connected again");
}

/// A device quiet for longer than `Heartbeat::unanswered` (here 2 s) makes
/// a change: the server gets its time to answer on the same connection.
/// The wait used to count from the server's last frame, so the device gave
/// up on the server the moment it sent the change and connected again:
/// W1's writer lost a quarter of a second that way after every quiet spell,
/// and every device with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_after_a_quiet_spell_is_answered_on_the_same_connection() {
    use std::sync::atomic::Ordering;
    let s = site().await;
    let (reception, proxy) = behind_frame_loser(&s).await;
    let connections = proxy.connections.load(Ordering::SeqCst);
    // The quiet spell itself: longer than the wait for an answer, with
    // nothing from the server meanwhile.
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    let v = reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, "After The Quiet"))).unwrap();
    let admin = &s.admin;
    eventually("the admin gets the guest", LIMIT, || admin.read(|st| st.visit(v).unwrap().is_some())).await.unwrap();
    status_becomes(&reception, "nothing waits", LIMIT, |st| st.connection == Connection::Online && st.waiting == 0).await;
    assert_eq!(proxy.connections.load(Ordering::SeqCst), connections, "the device stayed on its connection");
    assert_eq!(proxy.lost.load(Ordering::SeqCst), 0, "nothing was lost on the way");
}

/// A TCP gate on 127.0.0.1 in front of the server: shut, it drops every
/// connection at once (a server that cannot be reached); open, it passes
/// bytes; `cut` ends the connections that pass. It notes when each
/// connection came.
struct Gate {
    port: u16,
    open: watch::Sender<bool>,
    cut: watch::Sender<u32>,
    came: Arc<std::sync::Mutex<Vec<Instant>>>,
}

impl Gate {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (open, _) = watch::channel(false);
        let (cut, _) = watch::channel(0u32);
        let came = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (is_open, cuts, arrivals) = (open.clone(), cut.clone(), came.clone());
        tokio::spawn(async move {
            while let Ok((mut device, _)) = listener.accept().await {
                arrivals.lock().unwrap().push(Instant::now());
                if !*is_open.borrow() {
                    drop(device);
                    continue;
                }
                let upstream = upstream.clone();
                let mut cut = cuts.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut device, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { port, open, cut, came }
    }

    fn attempts(&self) -> Vec<Instant> {
        self.came.lock().unwrap().clone()
    }
}

/// A device that could not reach the server for a while waits longer and
/// longer between tries (0.2 s doubling); once it was connected, a dropped
/// link is tried again after 0.2 s, not after the longest wait of the
/// outage before (a phone after a day of short walks out of Wi-Fi).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_good_connection_the_device_tries_again_at_once() {
    let s = site().await;
    let mut reception = s.device("reception", "reception").await;
    let gate = Gate::start(s.server.addr.clone()).await;
    reception.sync.stop();
    reception.sync = spawn_with(reception.store.clone(), format!("ws://127.0.0.1:{}/sync", gate.port), reception.token.clone(), ClientOptions::default());
    // Five refused tries: the waits were about 0.2, 0.4, 0.8 and 1.6 s, and
    // the next would be 3.2 s or more.
    eventually("five tries were refused", LIMIT, || gate.attempts().len() >= 5).await.unwrap();
    let tries = gate.attempts();
    let last_wait = tries[4] - tries[3];
    assert!(last_wait >= Duration::from_millis(1600), "the waits grew: {last_wait:?}");
    gate.open.send_replace(true);
    status_becomes(&reception, "came online through the gate", Duration::from_secs(40), |st| st.connection == Connection::Online).await;

    let before = gate.attempts().len();
    let cut_at = Instant::now();
    gate.cut.send_modify(|n| *n += 1);
    eventually("the device tried again", LIMIT, || gate.attempts().len() > before).await.unwrap();
    let again = gate.attempts()[before] - cut_at;
    assert!(again < last_wait, "tried again after {again:?}, as long as the outage's {last_wait:?} or more");
    status_becomes(&reception, "came back online", LIMIT, |st| st.connection == Connection::Online).await;
}

/// A stand-in for a server on 127.0.0.1 that takes one connection: what
/// the device said first (its hello), and then whatever it is told to send.
async fn one_connection(listener: TcpListener, answer: Vec<lodge_core::sync::ServerMessage>) -> Option<lodge_core::sync::ClientMessage> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (socket, _) = listener.accept().await.ok()?;
    // Refused from now on, as a killed instance's address.
    drop(listener);
    let mut ws = tokio_tungstenite::accept_async(socket).await.ok()?;
    let hello = loop {
        match ws.next().await? {
            Ok(Message::Binary(bytes)) => break lodge_core::sync::ClientMessage::decode(&bytes).ok()?,
            Ok(_) => continue,
            Err(_) => return None,
        }
    };
    for message in answer {
        ws.send(Message::Binary(message.encode().into())).await.ok()?;
    }
    let _ = ws.close(None).await;
    Some(hello)
}

/// A server's welcome names its other addresses (`serve --also-at`); a
/// device keeps a few sane ones, whatever the frame holds, and when its
/// server's address stops answering it takes the next of its own scheme at
/// once, without being given it by anyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_keeps_a_few_sane_other_addresses_from_the_welcome_and_moves_to_the_next_when_its_own_is_refused() {
    use lodge_core::sync::{ClientMessage, ServerMessage};
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (TcpListener::bind("127.0.0.1:0").await.unwrap(), TcpListener::bind("127.0.0.1:0").await.unwrap());
    let other = format!("ws://127.0.0.1:{}/sync", second.local_addr().unwrap().port());
    let first_url = format!("ws://127.0.0.1:{}/sync", first.local_addr().unwrap().port());
    // Made by hand, as a hostile or broken server could: empty, far too
    // long, with a line break, of another scheme, then more than are kept.
    let mut told = vec![String::new(), format!("ws://{}/sync", "a".repeat(3000)), "ws://evil\n.example/sync".to_owned(), "wss://b.example/sync".to_owned(), other.clone()];
    told.extend((0..20).map(|i| format!("ws://10.0.0.{i}/sync")));
    let welcome = ServerMessage::Welcome { site: SiteId::new(), device: lodge_core::DeviceId::new(), role: Role::Reception, seq: 0, also_at: told };
    let at_first = tokio::spawn(one_connection(first, vec![welcome]));
    let at_second = tokio::spawn(one_connection(second, Vec::new()));

    let store = Arc::new(std::sync::Mutex::new(Store::open(dir.path().join("device.sqlite"), Arc::new(SystemClock)).unwrap()));
    let sync = spawn_with(store.clone(), first_url, "the-device-token".into(), ClientOptions::default());
    let hello = tokio::time::timeout(LIMIT, at_first).await.expect("the device came to its address").unwrap();
    assert!(matches!(hello, Some(ClientMessage::Hello { .. })), "{hello:?}");
    // The second stand-in hears from the device only through the welcome.
    let hello = tokio::time::timeout(LIMIT, at_second).await.expect("the device went on to the other address").unwrap();
    match hello {
        Some(ClientMessage::Hello { token, .. }) => assert_eq!(token, "the-device-token"),
        other => panic!("the other address was not greeted: {other:?}"),
    }
    // What it kept: the sane ones, at most eight, in the order told (the
    // other scheme is kept, and skipped when dialling).
    let kept = store.lock().unwrap().meta_text("server_also_at").unwrap().unwrap_or_default();
    let mut expected = vec!["wss://b.example/sync".to_owned(), other];
    expected.extend((0..6).map(|i| format!("ws://10.0.0.{i}/sync")));
    assert_eq!(kept.lines().collect::<Vec<_>>(), expected);
    sync.stop();
}
