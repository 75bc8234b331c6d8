//! Faults as they happen: the server killed with `kill -9` in the middle of
//! a device's catch-up, and the connection cut at a chosen byte by a proxy
//! between the device and the server. Each time nothing is lost, nothing
//! is duplicated, and the stores agree.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use lodge_core::person::PersonForm;
use lodge_core::visit::GuestForm;
use lodge_core::{Actor, PersonId, Role, SiteId};
use lodge_tests::{Device, Server, code, create_site, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(120);

/// How many guests the admin registers before a new desk catches up: more
/// than one catch-up step (256 documents) and many frames of about 32 KB.
const VISITS: usize = 300;

struct Site {
    server: Server,
    site: SiteId,
    admin: Device,
    dir: tempfile::TempDir,
}

async fn site_with_visits() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let site = create_site(&data, "Lodge House").unwrap();
    let server = Server::start(&data, 0).unwrap();
    let admin = Device::enrol(&server, dir.path(), "admin", &code(&data, site, "admin", None).unwrap()).await.unwrap();
    eventually("admin has the site", LIMIT, || admin.read(|s| s.site_settings().unwrap().is_some())).await.unwrap();
    let founder = Actor { person: None, device: Some(admin.id), name: "Admin".into(), role: Role::Admin };
    let host: PersonId = admin
        .act(|s| s.create_person(&founder, PersonForm { name: "Anna Kowalska".into(), hosts_guests: true, roles: vec![Role::Staff], ..Default::default() }))
        .unwrap();
    admin.act(|s| {
        for i in 0..VISITS {
            let form = GuestForm { name: format!("Guest {i}"), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() };
            s.register_guest(&founder, form).unwrap();
        }
    });
    eventually("the visits reach the server", LIMIT, || admin.read(|s| s.outbox().unwrap().is_empty())).await.unwrap();
    Site { server, site, admin, dir }
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
    let c = code(&s.server.data, s.site, "reception", None).unwrap();
    let desk = Device::enrol(&s.server, s.dir.path(), "desk", &c).await.unwrap();
    eventually("the desk is halfway through its catch-up", LIMIT, || {
        let (docs, _) = visits_of(&desk);
        docs > 0 && docs < VISITS
    })
    .await
    .unwrap();
    s.server.kill();
    let halfway = visits_of(&desk).0;
    assert!(halfway < VISITS, "the kill came after the catch-up");
    s.server = Server::start(&s.server.data, port).unwrap();
    eventually("the desk has every visit", LIMIT, || visits_of(&desk) == (VISITS, VISITS)).await.unwrap();
    // Once up to date, the counts stay: nothing arrives twice.
    eventually("the desk is online", LIMIT, || desk.sync.status().connection == lodge_core::sync::Connection::Online).await.unwrap();
    assert_eq!(visits_of(&desk), (VISITS, VISITS));
    assert_eq!(visits_of(&s.admin), (VISITS, VISITS));
}

/// A proxy on 127.0.0.1 in front of the server that, while `cut_at` is
/// set, closes a connection once that many bytes came from the server;
/// later connections pass whole.
struct Proxy {
    port: u16,
    cuts: Arc<AtomicU64>,
}

impl Proxy {
    async fn start(server_port: u16, cut_at: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cuts = Arc::new(AtomicU64::new(0));
        let armed = Arc::new(AtomicBool::new(true));
        let counted = cuts.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", server_port)).await else { continue };
                // Only the first connection is cut.
                let cut = armed.swap(false, Ordering::SeqCst).then_some(cut_at);
                let counted = counted.clone();
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
                        let n = match cut {
                            Some(limit) if passed + n as u64 >= limit => {
                                // Up to the chosen byte, then the line goes dead.
                                let _ = cw.write_all(&buf[..(limit - passed) as usize]).await;
                                counted.fetch_add(1, Ordering::SeqCst);
                                break;
                            }
                            _ => n,
                        };
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
        Self { port, cuts }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_at_a_chosen_byte_of_a_catch_up_resumes_without_loss() {
    let s = site_with_visits().await;
    // In the hello's answer, in the first catch-up frame, and deep in it.
    for (i, cut_at) in [40u64, 9_000, 150_000].into_iter().enumerate() {
        let proxy = Proxy::start(s.server.port(), cut_at).await;
        let c = code(&s.server.data, s.site, "reception", None).unwrap();
        let desk = Device::enrol_at(&s.server.http_url(), &format!("ws://127.0.0.1:{}/sync", proxy.port), s.dir.path(), &format!("desk-{i}"), &c)
            .await
            .unwrap();
        eventually("the proxy cut the line", LIMIT, || proxy.cuts.load(Ordering::SeqCst) == 1).await.unwrap();
        eventually("the desk has every visit after the cut", LIMIT, || visits_of(&desk) == (VISITS, VISITS)).await.unwrap();
        eventually("the desk is online", LIMIT, || desk.sync.status().connection == lodge_core::sync::Connection::Online).await.unwrap();
        assert_eq!(visits_of(&desk), (VISITS, VISITS), "cut at byte {cut_at}");
    }
}
