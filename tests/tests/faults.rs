//! Faults as they happen: the server killed with `kill -9` in the middle of
//! a device's catch-up, and the connection cut at a chosen byte by a proxy
//! between the device and the server. Each time nothing is lost, nothing
//! is duplicated, and the stores agree.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use lodge_core::visit::GuestForm;
use lodge_tests::site::TestSite;
use lodge_tests::{Device, Server, code, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

const LIMIT: Duration = Duration::from_secs(120);

/// How many guests the admin registers before a new desk catches up: more
/// than one catch-up step (256 documents) and many frames of about 32 KB.
const VISITS: usize = 300;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_in_the_middle_of_a_catch_up_loses_and_duplicates_nothing() {
    let mut s = site_with_visits().await;
    let port = s.server.port();
    // The desk's line holds the rest of the catch-up back after 100 KB, so
    // that the kill comes halfway through it, not after.
    let proxy = Proxy::start(port, 100_000, AtLimit::Hold).await;
    let c = code(&s.server.data, s.site, "reception", None).unwrap();
    let desk = Device::enrol_at(&s.server.http_url(), &format!("ws://127.0.0.1:{}/sync", proxy.port), s.dir.path(), "desk", &c).await.unwrap();
    eventually("the catch-up is held halfway", LIMIT, || proxy.reached.load(Ordering::SeqCst) == 1).await.unwrap();
    eventually("the desk has applied what came", LIMIT, || visits_of(&desk).0 > 0).await.unwrap();
    s.server.kill();
    let halfway = visits_of(&desk).0;
    assert!(halfway < VISITS, "the whole catch-up came before the kill");
    proxy.release.notify_one();
    s.server = Server::start(&s.server.data, port).unwrap();
    eventually("the desk has every visit", LIMIT, || visits_of(&desk) == (VISITS, VISITS)).await.unwrap();
    // Once up to date, the counts stay: nothing arrives twice.
    eventually("the desk is online", LIMIT, || desk.sync.status().connection == lodge_core::sync::Connection::Online).await.unwrap();
    assert_eq!(visits_of(&desk), (VISITS, VISITS));
    assert_eq!(visits_of(&s.admin), (VISITS, VISITS));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_at_a_chosen_byte_of_a_catch_up_resumes_without_loss() {
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
