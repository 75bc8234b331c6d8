//! The server's edge against strangers and misbehaving devices (issue 13,
//! and the server half of issue 12's item 6), on a real `lodge-sync`:
//! frames and HTTP requests made by hand, from chosen loopback addresses
//! (127.0.0.0/8 all reaches the server). Each test checks the refusal and
//! that an honest device of the site kept syncing meanwhile.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use lodge_core::announcement::{Audience, Kind, NewAnnouncement};
use lodge_core::person::PersonForm;
use lodge_core::sync::{ClientMessage, Connection, DocMessage, ServerMessage, SyncErrorKind};
use lodge_core::visit::GuestForm;
use lodge_core::{Actor, DocId, PersonId, Role, SiteId};
use lodge_tests::{Device, Server, code, create_site, eventually, of_the_next_version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const LIMIT: Duration = Duration::from_secs(20);

type Ws = WebSocketStream<TcpStream>;

struct Site {
    server: Server,
    site: SiteId,
    admin: Device,
    host: PersonId,
    reception: Device,
    dir: tempfile::TempDir,
}

/// A server started with `args`, a site, an admin device that added a
/// host, and a reception desk, both synced.
/// The address space the server gets in these tests.
const SERVER_ADDRESS_SPACE: u64 = 512 * 1024 * 1024;

async fn site(args: &[&str]) -> Site {
    // Every attack here runs against a server held to 512 MB of address
    // space: one that tried to hold what strangers send would die.
    site_with(|data| Server::start_limited_with(data, args, None, Some(SERVER_ADDRESS_SPACE)).unwrap()).await
}

async fn site_with(start: impl FnOnce(&std::path::Path) -> Server) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let site = create_site(&data, "Lodge House").unwrap();
    let server = start(&data);
    let admin = Device::enrol(&server, dir.path(), "admin", &code(&data, site, "admin", None).unwrap()).await.unwrap();
    eventually("admin has the site", LIMIT, || admin.read(|s| s.site_settings().unwrap().is_some())).await.unwrap();
    let host = admin
        .act(|s| {
            s.create_person(
                &founder(&admin),
                PersonForm { name: "Anna Kowalska".into(), hosts_guests: true, roles: vec![Role::Staff], ..Default::default() },
            )
        })
        .unwrap();
    eventually("admin's changes reach the server", LIMIT, || admin.read(|s| s.outbox().unwrap().is_empty())).await.unwrap();
    let reception = Device::enrol(&server, dir.path(), "reception", &code(&data, site, "reception", None).unwrap()).await.unwrap();
    eventually("reception is online", LIMIT, || reception.sync.status().connection == Connection::Online).await.unwrap();
    Site { server, site, admin, host, reception, dir }
}

fn founder(admin: &Device) -> Actor {
    Actor { person: None, device: Some(admin.id), name: "Admin".into(), role: Role::Admin }
}

fn desk(d: &Device) -> Actor {
    Actor { person: None, device: Some(d.id), name: "Reception".into(), role: Role::Reception }
}

impl Site {
    /// A token of a new device of `role` whose frames the test makes by
    /// hand.
    async fn raw_token(&self, role: &str) -> String {
        let c = code(&self.server.data, self.site, role, None).unwrap();
        let body = serde_json::json!({ "code": c, "actor": automerge::ActorId::random().to_hex_string(), "name": "by hand" });
        let answer = reqwest::Client::new().post(format!("{}/enrol", self.server.http_url())).json(&body).send().await.unwrap();
        let enrolled: serde_json::Value = answer.json().await.unwrap();
        enrolled["token"].as_str().expect("a token").to_owned()
    }

    /// The honest devices still sync: a guest registered at reception
    /// reaches the admin.
    async fn still_syncs(&self, name: &str) {
        let form = GuestForm { name: name.into(), company: "Acme".into(), host: Some(self.host), consent: true, ..Default::default() };
        let visit = self.reception.act(|st| st.register_guest(&desk(&self.reception), form)).unwrap();
        eventually("the admin gets reception's new guest", LIMIT, || self.admin.read(|st| st.visit(visit).unwrap().is_some())).await.unwrap();
    }
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// A TCP connection to the server from `source`.
async fn tcp_from(server: &Server, source: IpAddr, receive_buffer: Option<u32>) -> std::io::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    if let Some(bytes) = receive_buffer {
        socket.set_recv_buffer_size(bytes)?;
    }
    socket.connect(server.addr.parse().expect("an address")).await
}

/// A WebSocket to `/sync` from `source`.
async fn ws_from(server: &Server, source: IpAddr) -> anyhow::Result<Ws> {
    let tcp = tcp_from(server, source, None).await?;
    Ok(tokio_tungstenite::client_async(server.ws_url(), tcp).await?.0)
}

fn hello(token: &str) -> Message {
    Message::Binary(hello_since(token, 0).into())
}

/// A hello's bytes, from feed number `since`.
fn hello_since(token: &str, since: u64) -> Vec<u8> {
    ClientMessage::Hello { token: token.to_owned(), since, pending: vec![], app: None, kept_counts: false }.encode()
}

/// How a socket ended, as its reader saw it.
#[derive(Debug, PartialEq)]
enum Ended {
    /// A close frame with this code.
    Closed(Option<CloseCode>),
    /// The connection ended without one (EOF, reset).
    Cut,
    /// Nothing ended within the test's limit.
    StillOpen,
}

/// Read until the server ends the WebSocket; other frames are skipped.
async fn read_to_end(ws: &mut Ws, limit: Duration) -> Ended {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Ended::StillOpen,
            Ok(Some(Ok(Message::Close(frame)))) => return Ended::Closed(frame.map(|f| f.code)),
            Ok(Some(Ok(_))) => {}
            Ok(None) | Ok(Some(Err(_))) => return Ended::Cut,
        }
    }
}

/// Read until the Welcome.
async fn welcomed(ws: &mut Ws) {
    welcome_seq(ws).await;
}

/// Read until the Welcome; the feed number it gives.
async fn welcome_seq(ws: &mut Ws) -> u64 {
    first_of(ws, "welcome", |m| match m {
        ServerMessage::Welcome { seq, .. } => Some(seq),
        _ => None,
    })
    .await
}

/// Read until the server's refusal: its kind and message.
async fn refusal(ws: &mut Ws) -> (SyncErrorKind, String) {
    first_of(ws, "refusal", |m| match m {
        ServerMessage::Error { kind, message, .. } => Some((kind, message)),
        _ => None,
    })
    .await
}

/// Read frames until `pick` takes one.
async fn first_of<T>(ws: &mut Ws, what: &str, pick: impl Fn(ServerMessage) -> Option<T>) -> T {
    while let Ok(Some(Ok(m))) = tokio::time::timeout(LIMIT, ws.next()).await {
        if let Message::Binary(b) = m
            && let Some(found) = ServerMessage::decode(&b).ok().and_then(&pick)
        {
            return found;
        }
    }
    panic!("no {what}");
}

fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()).unwrap().parse().unwrap();
    kb * 1024
}

/// Raise this test process's open-files limit (its sockets, and the
/// server it starts with a low one on purpose).
fn raise_own_open_files() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    limit.rlim_cur
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_its_hello_a_stranger_is_read_no_further_than_a_hello() {
    let s = site(&["--hello-deadline-secs", "3", "--max-unauthenticated-per-address", "8"]).await;
    let pid = s.server.pid();
    let before = resident_bytes(pid);
    let stranger = loopback(3);

    // Eight strangers each send a frame just under the message limit (read
    // whole before, 63 MB between them), and no hello.
    let mut attackers = Vec::new();
    for _ in 0..8 {
        let mut ws = ws_from(&s.server, stranger).await.unwrap();
        attackers.push(tokio::spawn(async move {
            let started = Instant::now();
            let big = vec![0x42u8; lodge_core::sync::MAX_FRAME_BYTES - 1024];
            let sent = tokio::time::timeout(LIMIT, ws.send(Message::Binary(big.into()))).await;
            let ended = match sent {
                Err(_) => Ended::StillOpen,
                Ok(Err(_)) => Ended::Cut,
                Ok(Ok(())) => read_to_end(&mut ws, LIMIT).await,
            };
            (ended, started.elapsed())
        }));
    }
    // A ninth from the same address is not let in while they wait.
    let ninth = ws_from(&s.server, stranger).await;
    assert!(ninth.is_err(), "a ninth connection without a hello from one address was let in");

    // The server does not grow by what they sent.
    let mut peak = before;
    let watching = Instant::now();
    while watching.elapsed() < Duration::from_secs(2) {
        peak = peak.max(resident_bytes(pid));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(peak < before + 24 * 1024 * 1024, "the server grew from {before} to {peak} bytes under strangers' frames");

    // The honest desk syncs meanwhile, from another address.
    s.still_syncs("Guest During The Flood").await;

    // Each stranger is closed by the server at the hello deadline.
    for attacker in attackers {
        let (ended, after) = attacker.await.unwrap();
        assert_ne!(ended, Ended::StillOpen, "a stranger's connection was still open after {after:?}");
        assert!(after < Duration::from_secs(10), "closed only after {after:?}");
    }
    // And the address is let in again.
    let mut ws = ws_from(&s.server, stranger).await.unwrap();
    ws.send(hello(&s.raw_token("kiosk").await)).await.unwrap();
    welcomed(&mut ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_connection_with_one_token_closes_the_first() {
    let s = site(&[]).await;
    let mut first = ws_from(&s.server, loopback(4)).await.unwrap();
    first.send(hello(&s.reception.token)).await.unwrap();
    welcomed(&mut first).await;
    let mut second = ws_from(&s.server, loopback(5)).await.unwrap();
    second.send(hello(&s.reception.token)).await.unwrap();
    welcomed(&mut second).await;
    assert_eq!(read_to_end(&mut first, LIMIT).await, Ended::Closed(Some(CloseCode::from(4001))));
    drop(second);
    // The desk's own client got replaced too; it reconnects and syncs.
    s.still_syncs("Guest After The Copy").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dribbled_headers_are_cut_off_and_health_still_answers() {
    let own = raise_own_open_files();
    assert!(own > 1_600, "this test needs 1,600 open files; the hard limit is {own}");
    // The server starts with the usual soft limit of 1,024 files; 1,200
    // dribbling sockets used them up ("Too many open files").
    let s = site_with(|data| Server::start_limited_with(data, &["--header-timeout-secs", "2"], Some(1024), Some(SERVER_ADDRESS_SPACE)).unwrap()).await;
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", s.server.pid())).unwrap();
    // "Max open files  SOFT  HARD  files": the soft and hard limits are the
    // third and second words from the end.
    let words: Vec<&str> = limits.lines().find(|l| l.starts_with("Max open files")).unwrap().split_whitespace().collect();
    let (soft, hard) = (words[words.len() - 3], words[words.len() - 2]);
    assert_eq!(soft, hard, "the server raised its open-files limit to the hard limit: {words:?}");

    let timeout = Duration::from_secs(2);
    let mut dribblers = Vec::new();
    for i in 0..1_200u32 {
        // 50 from each of 24 addresses.
        let mut tcp = tcp_from(&s.server, loopback(10 + (i / 50) as u8), None).await.unwrap();
        dribblers.push(tokio::spawn(async move {
            let started = Instant::now();
            let _ = tcp.write_all(b"GET /health HTTP/1.1\r\nHost: lodge\r\n").await;
            let mut buf = [0u8; 64];
            let mut tick = tokio::time::interval(Duration::from_millis(400));
            let limit = tokio::time::sleep(LIMIT);
            tokio::pin!(limit);
            loop {
                tokio::select! {
                    read = tcp.read(&mut buf) => match read {
                        Ok(0) | Err(_) => return (Ended::Cut, started.elapsed()),
                        // A 408 answer, then the close.
                        Ok(_) => {}
                    },
                    _ = tick.tick() => {
                        if tcp.write_all(b"X").await.is_err() {
                            return (Ended::Cut, started.elapsed());
                        }
                    }
                    () = &mut limit => return (Ended::StillOpen, started.elapsed()),
                }
            }
        }));
    }
    // One more that sends nothing at all.
    let mut silent = tcp_from(&s.server, loopback(9), None).await.unwrap();

    // With all of them open, /health answers at once.
    let asked = Instant::now();
    let health = reqwest::Client::new().get(format!("{}/health", s.server.http_url())).timeout(Duration::from_secs(5)).send().await;
    let health = health.expect("/health answered while 1,200 sockets dribbled headers");
    assert!(health.status().is_success());
    assert!(asked.elapsed() < Duration::from_secs(2), "/health took {:?}", asked.elapsed());
    s.still_syncs("Guest During The Dribble").await;

    for d in dribblers {
        let (ended, after) = d.await.unwrap();
        assert_eq!(ended, Ended::Cut, "a dribbling socket was still open after {after:?}");
        assert!(after < timeout + Duration::from_secs(5), "a dribbling socket was closed only after {after:?}");
    }
    let mut buf = [0u8; 16];
    let silent_end = tokio::time::timeout(LIMIT, silent.read(&mut buf)).await;
    assert!(matches!(silent_end, Ok(Ok(0)) | Ok(Err(_))), "a silent socket was not closed by the server: {silent_end:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_guesses_from_one_address_are_slowed_and_come_back() {
    let s = site(&["--enrol-burst-per-address", "10", "--enrol-refill-secs", "2"]).await;
    let url = format!("{}/enrol", s.server.http_url());
    let from = |last: u8| reqwest::Client::builder().local_address(loopback(last)).build().unwrap();
    let guesser = from(6);
    let mut statuses = Vec::new();
    let started = Instant::now();
    for i in 0..50 {
        let body = serde_json::json!({ "code": format!("AAAA-BBBB-{i:04}"), "actor": automerge::ActorId::random().to_hex_string() });
        let answer = guesser.post(&url).json(&body).send().await.unwrap();
        let status = answer.status().as_u16();
        if status == 429 {
            assert!(answer.headers().contains_key("retry-after"));
            let body: lodge_core::sync::api::ErrorBody = answer.json().await.unwrap();
            assert_eq!(body.kind, lodge_core::sync::ApiErrorKind::TooManyAttempts);
            assert!(body.retry_after_secs.is_some_and(|s| s > 0), "{body:?}");
            assert!(body.error.contains("Too many enrolment attempts failed"), "{body:?}");
        }
        statuses.push(status);
    }
    assert!(started.elapsed() < Duration::from_secs(2), "the guesses took {:?}; the refusals would refill", started.elapsed());
    assert_eq!(statuses[..10], [400; 10], "the first ten wrong codes are told they are wrong");
    assert_eq!(statuses[10..], [429; 40], "the rest are refused unchecked");

    // A right code from another address is not held up...
    let actor = || automerge::ActorId::random().to_hex_string();
    let right = code(&s.server.data, s.site, "kiosk", None).unwrap();
    let answer = from(7).post(&url).json(&serde_json::json!({ "code": right, "actor": actor() })).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    // ...and the guessing address gets an attempt back after the refill.
    let right = code(&s.server.data, s.site, "kiosk", None).unwrap();
    let refilled = Instant::now();
    loop {
        let answer = guesser.post(&url).json(&serde_json::json!({ "code": right, "actor": actor() })).send().await.unwrap();
        match answer.status().as_u16() {
            200 => break,
            429 => assert!(refilled.elapsed() < LIMIT, "the address stayed locked out"),
            other => panic!("a right code after the refill got {other}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.still_syncs("Guest After The Guessing").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_refuses_bad_and_taken_actor_ids_and_codes_for_unknown_people() {
    let s = site(&[]).await;
    let url = format!("{}/enrol", s.server.http_url());
    let http = reqwest::Client::new();
    let right = code(&s.server.data, s.site, "kiosk", None).unwrap();
    let taken = s.reception.read(|st| st.actor_id().to_hex_string());
    use lodge_core::sync::ApiErrorKind;
    for (actor, status, kind, words) in [
        ("", 400, ApiErrorKind::BadRequest, "is not an Automerge actor id"),
        ("not hex", 400, ApiErrorKind::BadRequest, "is not an Automerge actor id"),
        (taken.as_str(), 409, ApiErrorKind::ActorInUse, "Another device"),
    ] {
        let answer = http.post(&url).json(&serde_json::json!({ "code": right, "actor": actor })).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), status, "actor {actor:?}");
        let body: lodge_core::sync::api::ErrorBody = answer.json().await.unwrap();
        assert_eq!(body.kind, kind, "actor {actor:?}");
        assert!(body.error.contains(words), "{body:?}");
    }
    // The refusals did not spend the code.
    let fresh = automerge::ActorId::random().to_hex_string();
    let answer = http.post(&url).json(&serde_json::json!({ "code": right, "actor": fresh })).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);

    // Codes for a person the site does not have are refused, by the API
    // and on the command line; for one it has, made.
    let nobody = PersonId::new();
    let e = lodge_core::sync::admin::create_code(&s.server.http_url(), &s.admin.token, Role::Worker, Some(nobody), 30).await.unwrap_err();
    assert!(matches!(&e, lodge_core::sync::AdminError::Refused { kind: lodge_core::sync::ApiErrorKind::UnknownPerson, .. }), "{e:?}");
    assert!(e.to_string().contains("There is no person"), "{e}");
    let e = code(&s.server.data, s.site, "worker", Some(nobody)).unwrap_err();
    assert!(e.to_string().contains("There is no person"), "{e}");
    lodge_core::sync::admin::create_code(&s.server.http_url(), &s.admin.token, Role::Staff, Some(s.host), 30).await.unwrap();
    code(&s.server.data, s.site, "staff", Some(s.host)).unwrap();
    s.still_syncs("Guest After The Refusals").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_does_not_read_is_dropped_and_others_catch_up() {
    let s = site(&["--queued-bytes", "65536"]).await;
    // A directory of 150 hosts: a document of some size to ask for.
    s.admin.act(|st| {
        for i in 0..150 {
            let form = PersonForm { name: format!("Host Number {i:03} Of The House"), hosts_guests: true, roles: vec![Role::Staff], ..Default::default() };
            st.create_person(&founder(&s.admin), form).unwrap();
        }
    });
    eventually("the hosts reach the server", LIMIT, || s.admin.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    let directory = DocId::directory(s.site);

    // Catch-up of a new desk with nobody misbehaving.
    let quiet = catch_up(&s, "quiet-desk").await;

    // A desk that asks for the whole directory again and again and reads
    // nothing (a small receive buffer, so that the kernel holds little for
    // it). The server stops reading it once its socket is full...
    let tcp = tcp_from(&s.server, loopback(8), Some(4096)).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(s.server.ws_url(), tcp).await.unwrap();
    ws.send(hello(&s.raw_token("reception").await)).await.unwrap();
    let ask = {
        use automerge::sync::SyncDoc;
        let mut empty = automerge::AutoCommit::new();
        let mut state = automerge::sync::State::new();
        let message = empty.sync().generate_sync_message(&mut state).unwrap();
        ClientMessage::Sync { docs: vec![DocMessage { doc: directory.clone(), message: message.encode() }] }.encode()
    };
    // Each answer is the whole directory (4.7 KB); a thousand or so fill
    // the kernel's socket buffers, then the server's queue for it.
    let hoarding = tokio::spawn(async move {
        let started = Instant::now();
        let mut asked = 0;
        while asked < 5_000 && started.elapsed() < LIMIT {
            match tokio::time::timeout(Duration::from_secs(2), ws.send(Message::Binary(ask.clone().into()))).await {
                Ok(Ok(())) => asked += 1,
                // Cut: see below.
                Ok(Err(_)) => break,
                // Stalled: the server reads slowly; go on asking.
                Err(_) => {}
            }
        }
        // Still reading nothing: a ping of its own every 100 ms fails with
        // an error once the server has cut the connection (a send that
        // only stalls, because the server reads slowly, is not that).
        let ended = loop {
            if started.elapsed() > LIMIT {
                break Ended::StillOpen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Ok(Err(_)) = tokio::time::timeout(Duration::from_secs(2), ws.send(Message::Ping(Default::default()))).await {
                break Ended::Cut;
            }
        };
        (asked, ended, started.elapsed())
    });
    let pid = s.server.pid();
    let before = resident_bytes(pid);
    let sampling = tokio::spawn(async move {
        let mut peak = 0;
        loop {
            peak = peak.max(resident_bytes(pid));
            tokio::time::sleep(Duration::from_millis(20)).await;
            if hoarding.is_finished() {
                return (peak, hoarding.await.unwrap());
            }
        }
    });
    let busy = catch_up(&s, "busy-desk").await;
    let (peak, (asked, ended, after)) = sampling.await.unwrap();
    eprintln!(
        "a new desk's catch-up: {quiet:?} alone, {busy:?} beside a device that does not read ({asked} requests, closed after {after:?}); server resident {} MB before, {} MB at most",
        before >> 20,
        peak >> 20
    );
    assert!(peak < before + 64 * 1024 * 1024, "the server grew from {before} to {peak} bytes");
    assert_ne!(ended, Ended::StillOpen, "the device that does not read was not dropped ({asked} requests in {after:?})");
    // Its queue, not the heartbeat (30 s), dropped it.
    assert!(after < Duration::from_secs(28), "dropped only after {after:?}");
    s.still_syncs("Guest After The Hoarder").await;
}

/// Enrol a new reception desk; how long until it has the whole directory.
async fn catch_up(s: &Site, name: &str) -> Duration {
    let started = Instant::now();
    let c = code(&s.server.data, s.site, "reception", None).unwrap();
    let d = Device::enrol(&s.server, s.dir.path(), name, &c).await.unwrap();
    let hosts = |d: &Device| -> i64 {
        let file = rusqlite::Connection::open(&d.path).unwrap();
        file.query_row("SELECT count(*) FROM directory WHERE name LIKE 'Host Number%'", [], |r| r.get(0)).unwrap()
    };
    eventually(&format!("{name} has every host"), LIMIT, || hosts(&d) == 150).await.unwrap();
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_does_not_read_what_is_pushed_to_it_is_dropped_and_catches_up_when_it_returns() {
    // A heartbeat far beyond the test: only its queue can drop the desk.
    let s = site(&["--queued-bytes", "65536", "--ping-interval-secs", "300", "--idle-timeout-secs", "600"]).await;
    let token = s.raw_token("reception").await;
    // A desk that says hello, then reads nothing more (a small receive
    // buffer, so that the kernel holds little for it) and asks for
    // nothing: all that waits for it is what others' changes push to it.
    let tcp = tcp_from(&s.server, loopback(13), Some(4096)).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(s.server.ws_url(), tcp).await.unwrap();
    ws.send(hello(&token)).await.unwrap();
    let since = welcome_seq(&mut ws).await;
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let hoarding = tokio::spawn(async move {
        // A ping of its own every 100 ms fails once the server has cut the
        // connection (a send that only stalls is not that).
        loop {
            tokio::select! {
                _ = &mut stopped => return Ended::StillOpen,
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
            if let Ok(Err(_)) = tokio::time::timeout(Duration::from_secs(2), ws.send(Message::Ping(Default::default()))).await {
                return Ended::Cut;
            }
        }
    });

    // The admin sends announcements to everyone, 50 at a time, until the
    // desk is dropped: each is pushed to the desk whole. Their text does
    // not compress, so that each push is a couple of KB: about a hundred
    // fill the kernel's buffers for the desk, then its queue.
    let mut noise = {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        move |n: usize| -> String {
            (0..n)
                .map(|_| {
                    (x ^= x << 13, x ^= x >> 7, x ^= x << 17);
                    char::from(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[(x % 62) as usize])
                })
                .collect()
        }
    };
    let pid = s.server.pid();
    let before = resident_bytes(pid);
    let (mut peak, mut sent) = (before, Vec::new());
    let pushing = Instant::now();
    while !hoarding.is_finished() && sent.len() < 2_000 && pushing.elapsed() < 2 * LIMIT {
        let texts: Vec<String> = (0..50).map(|_| noise(lodge_core::announcement::MAX_TEXT_CHARS)).collect();
        sent.extend(s.admin.act(|st| {
            texts
                .into_iter()
                .map(|text| {
                    let new = NewAnnouncement { kind: Kind::Announcement, audience: Audience::Everyone, title: "Unread".into(), text };
                    st.announce(&founder(&s.admin), new).unwrap()
                })
                .collect::<Vec<_>>()
        }));
        eventually("the admin's announcements reach the server", LIMIT, || s.admin.read(|st| st.outbox().unwrap().is_empty()))
            .await
            .unwrap();
        peak = peak.max(resident_bytes(pid));
    }
    let took = pushing.elapsed();
    let _ = stop.send(());
    let ended = hoarding.await.unwrap();
    eprintln!(
        "a desk that reads nothing pushed: {ended:?} after {} announcements in {took:?}; server resident {} MB before, {} MB at most",
        sent.len(),
        before >> 20,
        peak >> 20
    );
    assert_eq!(ended, Ended::Cut, "the desk that reads nothing was not dropped ({} announcements in {took:?})", sent.len());
    assert!(peak < before + 128 * 1024 * 1024, "the server grew from {before} to {peak} bytes");
    s.still_syncs("Guest After The Desk That Read Nothing").await;

    // Back, and reading: it is sent every announcement it missed, from the
    // feed number it had.
    let mut ws = ws_from(&s.server, loopback(13)).await.unwrap();
    ws.send(Message::Binary(hello_since(&token, since).into())).await.unwrap();
    let now = welcome_seq(&mut ws).await;
    let mut missing: std::collections::HashSet<DocId> = sent.iter().map(|a| DocId::announcement(*a)).collect();
    let deadline = tokio::time::Instant::now() + LIMIT;
    let mut reached = since;
    while reached < now || !missing.is_empty() {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => {
                if let Ok(ServerMessage::Sync { docs, seq }) = ServerMessage::decode(&b) {
                    docs.iter().for_each(|d| _ = missing.remove(&d.doc));
                    reached = reached.max(seq);
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("the returning desk's catch-up ended at feed {reached} of {now}, {} missing: {other:?}", missing.len()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_of_another_protocol_version_is_refused_as_such_before_and_after_the_hello() {
    let s = site(&[]).await;
    let from_a_newer_app = |frame: Vec<u8>| Message::Binary(of_the_next_version(frame).into());
    let token = s.raw_token("reception").await;

    // Its hello.
    let mut ws = ws_from(&s.server, loopback(14)).await.unwrap();
    ws.send(from_a_newer_app(hello_since(&token, 0))).await.unwrap();
    let (kind, message) = refusal(&mut ws).await;
    assert_eq!(kind, SyncErrorKind::Version, "{message}");
    assert!(message.contains("Update the app or the server"), "{message}");
    assert_eq!(read_to_end(&mut ws, LIMIT).await, Ended::Closed(None));

    // A frame after a hello of this version.
    let mut ws = ws_from(&s.server, loopback(14)).await.unwrap();
    ws.send(hello(&token)).await.unwrap();
    welcomed(&mut ws).await;
    ws.send(from_a_newer_app(ClientMessage::Sync { docs: vec![] }.encode())).await.unwrap();
    let (kind, message) = refusal(&mut ws).await;
    assert_eq!(kind, SyncErrorKind::Version, "{message}");
    assert_eq!(read_to_end(&mut ws, LIMIT).await, Ended::Closed(None));
    s.still_syncs("Guest After The Newer App").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_stops_answering_is_dropped_by_the_heartbeat() {
    let s = site(&["--ping-interval-secs", "0.5", "--idle-timeout-secs", "2"]).await;
    let mut ws = ws_from(&s.server, loopback(11)).await.unwrap();
    ws.send(hello(&s.raw_token("reception").await)).await.unwrap();
    welcomed(&mut ws).await;
    // The socket stays open but nothing is read or answered (no pongs).
    let silent = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    // A close frame (4002), or a cut when the test's pending pong hits the
    // closed socket first; either way the server ended it, in time.
    let ended = read_to_end(&mut ws, LIMIT).await;
    assert!(matches!(ended, Ended::Closed(Some(CloseCode::Library(4002))) | Ended::Cut), "{ended:?} after {:?}", silent.elapsed());
    assert!(silent.elapsed() < Duration::from_secs(6), "dropped only after {:?}", silent.elapsed());
    // An honest desk answers the pings and stays: nothing from it but pongs
    // for three idle timeouts.
    let other = Device::enrol(&s.server, s.dir.path(), "desk-2", &code(&s.server.data, s.site, "reception", None).unwrap()).await.unwrap();
    eventually("the second desk is online", LIMIT, || other.sync.status().connection == Connection::Online).await.unwrap();
    let watching = Instant::now();
    while watching.elapsed() < Duration::from_secs(6) {
        assert_eq!(other.sync.status().connection, Connection::Online, "an honest idle desk was dropped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.still_syncs("Guest After The Silence").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_every_socket_with_a_close_frame_and_exits_0() {
    let mut s = site(&[]).await;
    let mut ws = ws_from(&s.server, loopback(12)).await.unwrap();
    ws.send(hello(&s.raw_token("reception").await)).await.unwrap();
    welcomed(&mut ws).await;
    let reader = tokio::spawn(async move { read_to_end(&mut ws, LIMIT).await });
    let status = s.server.terminate(Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(0), "lodge-sync exited with {status}");
    assert_eq!(reader.await.unwrap(), Ended::Closed(Some(CloseCode::Away)));
    eventually("reception sees the server gone", LIMIT, || s.reception.sync.status().connection != Connection::Online).await.unwrap();
    // Restarted, everything is there and the desks sync again.
    let port = s.server.port();
    s.server = Server::start(&s.server.data, port).unwrap();
    eventually("reception is back online", LIMIT, || s.reception.sync.status().connection == Connection::Online).await.unwrap();
    s.still_syncs("Guest After The Restart").await;
}
