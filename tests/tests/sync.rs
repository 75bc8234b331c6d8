//! Devices of one site syncing through a real `lodge-sync` on 127.0.0.1.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use lodge_core::person::PersonForm;
use lodge_core::sync::{ClientMessage, Connection, DocMessage, ServerMessage, SyncErrorKind};
use lodge_core::visit::{AdmitRequest, GuestForm, RejectReason};
use lodge_core::{Actor, CardNumber, ConflictKind, DocId, PersonId, Role, VisitId};
use lodge_tests::site::TestSite;
use lodge_tests::{Device, Server, code, create_site, eventually};
use tokio_tungstenite::tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(20);

async fn site() -> TestSite {
    TestSite::start().await
}

fn guest(host: PersonId, name: &str) -> GuestForm {
    GuestForm { name: name.into(), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() }
}

fn desk(d: &Device) -> Actor {
    Actor { person: None, device: Some(d.id), name: "Reception".into(), role: Role::Reception }
}

fn visit_docs_in_file(d: &Device) -> i64 {
    let conn = rusqlite::Connection::open(&d.path).unwrap();
    conn.query_row("SELECT count(*) FROM documents WHERE kind = 'visit'", [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_guest_reaches_reception_by_push_and_is_admitted() {
    let s = site().await;
    let kiosk = s.device("kiosk", "kiosk", None).await;
    let reception = s.device("reception", "reception", None).await;
    eventually("the kiosk has the host", LIMIT, || kiosk.read(|st| !st.directory("Anna").unwrap().is_empty())).await.unwrap();

    let visit = kiosk.act(|st| st.register_guest(&kiosk.kiosk(), guest(s.host, "Jan Guest"))).unwrap();
    // Reception never asks: the server pushes the new visit.
    eventually("reception sees the guest", LIMIT, || reception.read(|st| st.waiting_guests().unwrap().iter().any(|v| v.id == visit))).await.unwrap();
    reception
        .act(|st| st.admit(&desk(&reception), AdmitRequest { visit, card: CardNumber::new(105).unwrap(), take_over: false }))
        .unwrap();
    // The kiosk keeps no guest past the desk.
    eventually("the kiosk drops the admitted visit", LIMIT, || kiosk.read(|st| st.visit(visit).unwrap().is_none())).await.unwrap();
    assert_eq!(visit_docs_in_file(&kiosk), 0);
    let admin = &s.admin;
    eventually("admin sees the guest in", LIMIT, || admin.read(|st| st.guests_in().unwrap().len() == 1)).await.unwrap();
    assert_eq!(reception.sync.status().connection, Connection::Online);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_phone_never_receives_a_visit() {
    let s = site().await;
    let reception = s.device("reception", "reception", None).await;
    reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, "Private Person"))).unwrap();
    eventually("reception's visit reaches the server", LIMIT, || reception.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    let worker = s.device("worker", "worker", Some(s.host)).await;
    reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, "Second Person"))).unwrap();
    eventually("reception's second visit reaches the server", LIMIT, || reception.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    // A change the worker may see, made after it: the server pushes to a
    // device in order, so once the worker has it, a misdirected push of
    // the visit would have come before.
    let founder = Actor { person: None, device: Some(s.admin.id), name: "Admin".into(), role: Role::Admin };
    s.admin.act(|st| st.set_retention_days(&founder, 31)).unwrap();
    eventually("the worker has the later change", LIMIT, || worker.read(|st| st.site_settings().unwrap().is_some_and(|x| x.retention_days == 31))).await.unwrap();
    assert_eq!(visit_docs_in_file(&worker), 0);
    // The store, its log and its shared memory, as they are.
    for suffix in ["", "-wal", "-shm"] {
        let mut file = worker.path.as_os_str().to_owned();
        file.push(suffix);
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(!bytes.windows(7).any(|w| w == b"Private"), "a guest's name reached the worker's {}", std::path::Path::new(&file).display());
    }
    assert!(worker.read(|st| st.people("").unwrap().len()) == 1, "the worker sees only their own person");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_guest_leaves_no_trace_anywhere() {
    let s = site().await;
    let kiosk = s.device("kiosk", "kiosk", None).await;
    let reception = s.device("reception", "reception", None).await;
    eventually("the kiosk has the host", LIMIT, || kiosk.read(|st| !st.directory("Anna").unwrap().is_empty())).await.unwrap();
    let visit = kiosk.act(|st| st.register_guest(&kiosk.kiosk(), guest(s.host, "Mallory Prankster"))).unwrap();
    eventually("reception sees the entry", LIMIT, || reception.read(|st| st.visit(visit).unwrap().is_some())).await.unwrap();
    reception.act(|st| st.reject(&desk(&reception), visit, RejectReason::Abuse)).unwrap();
    let doc = DocId::visit(visit);
    for d in [&kiosk, &reception, &s.admin] {
        eventually("every device purges the visit", LIMIT, || d.read(|st| st.visit(visit).unwrap().is_none() && !st.documents().unwrap().contains(&doc))).await.unwrap();
    }
    eventually("the server purged it", LIMIT, || {
        let conn = rusqlite::Connection::open(s.server.data.join("sites").join(format!("{}.sqlite", s.site))).unwrap();
        let n: i64 = conn.query_row("SELECT count(*) FROM documents WHERE doc_id = ?1", [doc.as_str()], |r| r.get(0)).unwrap();
        n == 0
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_105_given_twice_offline_is_the_same_conflict_on_both_desks() {
    let s = site().await;
    let mut a = s.device("desk-a", "reception", None).await;
    let mut b = s.device("desk-b", "reception", None).await;
    let (v1, v2) = a.act(|st| {
        (st.register_guest(&desk(&a), guest(s.host, "First Guest")).unwrap(), st.register_guest(&desk(&a), guest(s.host, "Second Guest")).unwrap())
    });
    eventually("desk b sees both guests", LIMIT, || b.read(|st| st.waiting_guests().unwrap().len() == 2)).await.unwrap();
    a.go_offline();
    b.go_offline();
    // Stopping the clients is asynchronous and shows nowhere yet.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let card = CardNumber::new(105).unwrap();
    a.act(|st| st.admit(&desk(&a), AdmitRequest { visit: v1, card, take_over: false })).unwrap();
    // Desk b admits later by its clock, not at the same millisecond.
    let first = a.read(|st| st.now());
    eventually("desk b's clock moves past desk a's admission", LIMIT, || b.read(|st| st.now()) > first).await.unwrap();
    b.act(|st| st.admit(&desk(&b), AdmitRequest { visit: v2, card, take_over: false })).unwrap();
    a.go_online(&s.server);
    b.go_online(&s.server);
    for d in [&a, &b] {
        eventually("the conflict shows", LIMIT, || d.read(|st| st.conflicts().unwrap().iter().any(|c| c.kind == ConflictKind::CardOnTwoVisits))).await.unwrap();
    }
    let ca = a.read(|st| st.conflicts().unwrap());
    let cb = b.read(|st| st.conflicts().unwrap());
    assert_eq!(ca, cb);
    assert_eq!(ca[0].winner, v1.to_string(), "the earlier admission wins for now");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_restarts_and_devices_catch_up_with_nothing_lost() {
    let mut s = site().await;
    let reception = s.device("reception", "reception", None).await;
    let port = s.server.port();
    s.server.kill();
    // Offline work while the server is down.
    let mut visits: Vec<VisitId> = Vec::new();
    for i in 0..5 {
        visits.push(reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, &format!("Guest {i}")))).unwrap());
    }
    eventually("reception notices it is offline", LIMIT, || reception.sync.status().connection == Connection::Offline).await.unwrap();
    // Counted as they were made, offline.
    assert_eq!(reception.sync.status().waiting, 5);
    s.server = Server::start(&s.server.data, port).unwrap();
    eventually("reception's outbox empties", LIMIT, || reception.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    let admin = &s.admin;
    eventually("admin has every visit", LIMIT, || admin.read(|st| st.waiting_guests().unwrap().len() == 5)).await.unwrap();
}

async fn raw_socket(server: &Server) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    tokio_tungstenite::connect_async(server.ws_url()).await.unwrap().0
}

async fn next_server_message(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> Option<ServerMessage> {
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        if let Message::Binary(b) = m {
            return ServerMessage::decode(&b).ok();
        }
        if let Message::Close(_) = m {
            return None;
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_and_tokens_get_a_clear_error_and_others_keep_syncing() {
    let s = site().await;
    let reception = s.device("reception", "reception", None).await;

    // Garbage as the first frame.
    let mut ws = raw_socket(&s.server).await;
    ws.send(Message::Binary(b"\xff\xfe garbage".to_vec().into())).await.unwrap();
    assert!(matches!(next_server_message(&mut ws).await, Some(ServerMessage::Error { kind: SyncErrorKind::BadFrame, .. })));

    // A truncated hello.
    let hello = ClientMessage::Hello { token: reception.token.clone(), since: 0, pending: vec![], app: None, kept_counts: false }.encode();
    let mut ws = raw_socket(&s.server).await;
    ws.send(Message::Binary(hello[..hello.len() / 2].to_vec().into())).await.unwrap();
    assert!(matches!(next_server_message(&mut ws).await, Some(ServerMessage::Error { kind: SyncErrorKind::BadFrame, .. })));

    // A wrong token.
    let mut ws = raw_socket(&s.server).await;
    let bad = ClientMessage::Hello { token: "not-a-token".into(), since: 0, pending: vec![], app: None, kept_counts: false };
    ws.send(Message::Binary(bad.encode().into())).await.unwrap();
    assert!(matches!(next_server_message(&mut ws).await, Some(ServerMessage::Error { kind: SyncErrorKind::Unauthorized, .. })));

    // A huge frame is refused by the server and the connection closed (a
    // close, not a server that stopped answering).
    let mut ws = raw_socket(&s.server).await;
    let _ = ws.send(Message::Binary(vec![0u8; 9 * 1024 * 1024].into())).await;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return true,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(true), "the server closed the connection instead of hanging");

    // The reception device kept syncing through all of it.
    let v = reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, "Still Works"))).unwrap();
    let admin = &s.admin;
    eventually("admin gets the new visit", LIMIT, || admin.read(|st| st.visit(v).unwrap().is_some())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_disconnected_at_once_and_told_to_wipe() {
    let s = site().await;
    let mut reception = s.device("reception", "reception", None).await;
    eventually("reception is online", LIMIT, || reception.sync.status().connection == Connection::Online).await.unwrap();
    lodge_tests::admin(&s.server.data, &["devices", "revoke", &reception.id.to_string()]).unwrap();
    // While connected: the server notices within its recheck interval.
    eventually("the connected device is told it was revoked", LIMIT, || reception.sync.status().connection == Connection::Revoked)
        .await
        .unwrap();
    // And a reconnect is refused the same way.
    reception.go_online(&s.server);
    eventually("a reconnect is told too", LIMIT, || reception.sync.status().connection == Connection::Revoked).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_used_code_is_refused_with_words_to_act_on() {
    let s = site().await;
    let store = std::sync::Mutex::new(lodge_core::Store::open(s.dir.path().join("x.sqlite"), std::sync::Arc::new(lodge_core::SystemClock)).unwrap());
    let err = lodge_core::sync::enrol(&s.server.http_url(), "AAAA-BBBB-CCCC", "x", &store).await.unwrap_err();
    assert!(err.to_string().contains("not valid"), "{err}");
    let good = code(&s.server.data, s.site, "kiosk", None).unwrap();
    lodge_core::sync::enrol(&s.server.http_url(), &good, "x", &store).await.unwrap();
    let again = lodge_core::sync::enrol(&s.server.http_url(), &good, "y", &store).await.unwrap_err();
    assert!(again.to_string().contains("used already"), "{again}");
    let down = lodge_core::sync::enrol("http://127.0.0.1:9", &good, "z", &store).await.unwrap_err();
    assert!(down.to_string().contains("could not be reached"), "{down}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_of_another_site_gets_nothing_of_the_first() {
    let s = site().await;
    let reception = s.device("reception", "reception", None).await;
    reception.act(|st| st.register_guest(&desk(&reception), guest(s.host, "First Site Guest"))).unwrap();
    eventually("the first site's visit reaches the server", LIMIT, || reception.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    // A second site on the same server, and a reception desk of it.
    let other = create_site(&s.server.data, "Other House").unwrap();
    let c = code(&s.server.data, other, "reception", None).unwrap();
    let stranger = Device::enrol(&s.server, s.dir.path(), "stranger", &c).await.unwrap();
    eventually("the stranger is up to date", LIMIT, || stranger.sync.status().connection == Connection::Online).await.unwrap();
    let (name, people, visits) = stranger.read(|st| {
        (st.site_settings().unwrap().map(|x| x.name), st.people("").unwrap().len(), st.visit_history(&Default::default()).unwrap().len())
    });
    assert_eq!(name.as_deref(), Some("Other House"));
    assert_eq!((people, visits), (0, 0));
    let bytes = std::fs::read(&stranger.path).unwrap();
    assert!(!bytes.windows(10).any(|w| w == b"First Site"), "the first site's guest reached another site's device");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_that_change_nothing_leave_nothing_waiting() {
    // Adding people who host no guests rewrites the directory without
    // changing it; the device must still come to "online, nothing waiting".
    let s = site().await;
    let office = s.device("office", "admin", None).await;
    eventually("the office is online", LIMIT, || office.sync.status().connection == Connection::Online).await.unwrap();
    let admin = Actor { person: None, device: Some(office.id), name: "Office".into(), role: Role::Admin };
    for i in 0..5 {
        office.act(|st| st.create_person(&admin, PersonForm { name: format!("Worker {i}"), hosts_guests: false, ..Default::default() })).unwrap();
    }
    eventually("nothing waits and the office is online", LIMIT, || {
        let st = office.sync.status();
        st.waiting == 0 && st.connection == Connection::Online && office.read(|x| x.outbox().map(|o| o.is_empty()).unwrap_or(false))
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_started_on_a_device_alone_joins_a_server_later() {
    let dir = tempfile::tempdir().unwrap();
    // A site started on one device, with a host and a waiting guest, no server.
    let site = {
        let mut alone = lodge_core::Store::open(dir.path().join("founder.sqlite"), std::sync::Arc::new(lodge_core::SystemClock)).unwrap();
        let founder = Actor::site_founder("Ada");
        let site = alone.create_site(&founder, lodge_core::NewSite { name: "Solo House".into(), time_zone: "UTC".into() }).unwrap();
        let host = alone
            .create_person(&founder, PersonForm { name: "Olga Host".into(), hosts_guests: true, roles: vec![Role::Staff], ..Default::default() })
            .unwrap();
        alone.register_guest(&founder, guest(host, "Early Guest")).unwrap();
        site
    };
    // The server takes the site in; the founder joins with an admin code.
    let data = dir.path().join("server");
    let adopted = lodge_tests::admin(&data, &["site", "adopt", &site.to_string()]).unwrap();
    assert_eq!(adopted, site.to_string());
    assert!(lodge_tests::admin(&data, &["site", "adopt", &site.to_string()]).is_err(), "a site is adopted once");
    let server = Server::start(&data, 0).unwrap();
    let founder = Device::enrol(&server, dir.path(), "founder", &code(&data, site, "admin", None).unwrap()).await.unwrap();
    eventually("everything made alone reaches the server", LIMIT, || founder.read(|s| s.outbox().unwrap().is_empty())).await.unwrap();
    // A desk that joins now sees what was made before there was a server.
    let desk = Device::enrol(&server, dir.path(), "desk", &code(&data, site, "reception", None).unwrap()).await.unwrap();
    eventually("the desk sees the early guest", LIMIT, || desk.read(|s| s.waiting_guests().unwrap().iter().any(|v| v.guest_name == "Early Guest"))).await.unwrap();
    assert_eq!(desk.read(|s| s.site_settings().unwrap().map(|x| x.name)).as_deref(), Some("Solo House"));
    // A device holding one site cannot be joined to another.
    let other = create_site(&data, "Other House").unwrap();
    let store = std::sync::Mutex::new(lodge_core::Store::open(dir.path().join("founder-copy.sqlite"), std::sync::Arc::new(lodge_core::SystemClock)).unwrap());
    store.lock().unwrap().join_site(site).unwrap();
    let e = lodge_core::sync::enrol(&server.http_url(), &code(&data, other, "admin", None).unwrap(), "x", &store).await.unwrap_err();
    assert!(e.to_string().contains("another site"), "{e}");
    assert_eq!(store.lock().unwrap().site().unwrap(), Some(site), "the device's site is left as it was");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_may_record_custody_but_not_rename_an_item() {
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;

    let s = site().await;
    let founder = Actor { person: None, device: Some(s.admin.id), name: "Admin".into(), role: Role::Admin };
    let jan = s.admin.act(|st| st.create_person(&founder, PersonForm { name: "Jan Nowak".into(), roles: vec![Role::Worker], ..Default::default() })).unwrap();
    let item = s
        .admin
        .act(|st| {
            st.add_item(&founder, lodge_core::equipment::NewItem { asset_number: "D-7".into(), activation_code: "LODGE-D7".into(), name: "Drill".into(), item_type: "drill".into() })
        })
        .unwrap();
    eventually("the admin's item reaches the server", LIMIT, || s.admin.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    let phone = s.device("phone", "worker", Some(jan)).await;
    eventually("the phone has the drill", LIMIT, || phone.read(|st| st.item_by_code("LODGE-D7").unwrap().is_some())).await.unwrap();

    // Taking it touches only the custody log: accepted.
    phone.act(|st| st.activate_equipment(&Actor::person(jan, "Jan Nowak", Role::Worker), "LODGE-D7")).unwrap();
    eventually("the admin sees Jan holding the drill", LIMIT, || {
        s.admin.read(|st| st.item_by_code("LODGE-D7").unwrap().is_some_and(|i| i.holder == Some(jan)))
    })
    .await
    .unwrap();

    // A change under the phone's own actor that renames the item: refused.
    let doc = DocId::equipment(item);
    let bytes = phone.store.lock().unwrap().export_document(&doc).unwrap().unwrap();
    let actor = phone.store.lock().unwrap().actor_id().clone();
    let mut rogue = automerge::AutoCommit::load(&bytes).unwrap().with_actor(actor);
    rogue.put(automerge::ROOT, "name", "Stolen drill").unwrap();
    rogue.commit();
    let mut ws = raw_socket(&s.server).await;
    ws.send(Message::Binary(ClientMessage::Hello { token: phone.token.clone(), since: 0, pending: vec![], app: None, kept_counts: false }.encode().into())).await.unwrap();
    let mut state = automerge::sync::State::new();
    let mut refusal = None;
    for _ in 0..6 {
        if let Some(m) = rogue.sync().generate_sync_message(&mut state) {
            let frame = ClientMessage::Sync { docs: vec![lodge_core::sync::DocMessage { doc: doc.clone(), message: m.encode() }] };
            ws.send(Message::Binary(frame.encode().into())).await.unwrap();
        }
        match next_server_message(&mut ws).await {
            Some(ServerMessage::Sync { docs, .. }) => {
                for d in docs.into_iter().filter(|d| d.doc == doc) {
                    rogue.sync().receive_sync_message(&mut state, automerge::sync::Message::decode(&d.message).unwrap()).unwrap();
                }
            }
            Some(ServerMessage::Error { kind, refusal: rule, .. }) => {
                refusal = Some((kind, rule));
                break;
            }
            _ => {}
        }
    }
    let (kind, rule) = refusal.expect("the server refused the rename");
    assert_eq!(kind, SyncErrorKind::Forbidden);
    assert!(
        matches!(&rule, Some(lodge_core::sync::Refusal::FieldsNotAllowed { role: Role::Worker, touched, .. }) if touched == "name"),
        "{rule:?}"
    );
    // The refusal came after the server rolled the change back: its copy,
    // and so the admin's, still has the old name.
    let conn = rusqlite::Connection::open(s.server.data.join("sites").join(format!("{}.sqlite", s.site))).unwrap();
    let name: String = conn.query_row("SELECT name FROM equipment WHERE item_id = ?1", [item.to_string()], |r| r.get(0)).unwrap();
    assert_eq!(name, "Drill");
    assert_eq!(s.admin.read(|st| st.item_by_code("LODGE-D7").unwrap().map(|i| i.name)).as_deref(), Some("Drill"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catch_up_moves_the_feed_number_only_when_all_of_it_went_out() {
    let s = site().await;
    // More visits than one catch-up step (256 documents) and one frame (32 KB).
    let desk_actor = desk(&s.admin);
    s.admin.act(|st| {
        for i in 0..300 {
            st.register_guest(&desk_actor, guest(s.host, &format!("Guest {i}"))).unwrap();
        }
    });
    eventually("the visits reach the server", LIMIT, || s.admin.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    // A device that has nothing, speaking for itself.
    let store = std::sync::Arc::new(std::sync::Mutex::new(
        lodge_core::Store::open(s.dir.path().join("raw.sqlite"), std::sync::Arc::new(lodge_core::SystemClock)).unwrap(),
    ));
    let c = code(&s.server.data, s.site, "reception", None).unwrap();
    let enrolled = lodge_core::sync::enrol(&s.server.http_url(), &c, "raw", &store).await.unwrap();
    let mut ws = raw_socket(&s.server).await;
    ws.send(Message::Binary(ClientMessage::Hello { token: enrolled.token, since: 0, pending: vec![], app: None, kept_counts: false }.encode().into())).await.unwrap();
    let Some(ServerMessage::Welcome { seq: welcomed, .. }) = next_server_message(&mut ws).await else { panic!("no welcome") };
    assert!(welcomed > 300);
    let (mut docs, mut frames) = (0, 0);
    let mut received = Vec::new();
    loop {
        match next_server_message(&mut ws).await {
            Some(ServerMessage::Sync { docs: d, seq }) if !d.is_empty() => {
                // Every visit comes whole in its first message.
                docs += d.len();
                frames += 1;
                received.extend(d.into_iter().map(|m| (m.doc, m.message)));
                assert_eq!(seq, 0, "a frame halfway through a catch-up must not move the device's feed number");
            }
            Some(ServerMessage::Sync { docs: d, seq }) => {
                assert!(d.is_empty());
                assert_eq!(seq, welcomed, "the catch-up's end brings the device to the feed number");
                break;
            }
            Some(ServerMessage::Purged { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(docs >= 300, "every visit came: {docs}");
    assert!(frames > 2, "in several frames: {frames}");
    // Whole documents need only an acknowledgement, and a frame of those
    // gets no answer: the next thing the server says is about the frame
    // after it.
    let answers = store.lock().unwrap().receive_sync_frame("server", &received, None, None).unwrap();
    let acks: Vec<DocMessage> = received
        .iter()
        .zip(answers)
        .map(|((doc, _), a)| {
            let a = a.unwrap();
            assert!(a.changed && a.reply_can_wait, "{doc}: a whole document needs nothing more");
            DocMessage { doc: doc.clone(), message: a.reply.expect("an acknowledgement") }
        })
        .collect();
    // In frames of at most MAX_FRAME_DOCS documents, as the client sends them.
    for part in acks.chunks(lodge_core::sync::MAX_FRAME_DOCS) {
        ws.send(Message::Binary(ClientMessage::Sync { docs: part.to_vec() }.encode().into())).await.unwrap();
    }
    ws.send(Message::Binary(ClientMessage::Hello { token: String::new(), since: 0, pending: vec![], app: None, kept_counts: false }.encode().into())).await.unwrap();
    match next_server_message(&mut ws).await {
        Some(ServerMessage::Error { kind: SyncErrorKind::BadFrame, .. }) => {}
        other => panic!("the acknowledgements were answered: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_that_waited_on_a_busy_device_are_applied_together() {
    let s = site().await;
    // The desk's client runs on a runtime of its own, so that holding its
    // store blocks only that runtime's thread, not the ones the test and
    // the admin device run on.
    let desk_runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let reception = std::thread::scope(|scope| scope.spawn(|| desk_runtime.block_on(s.device("reception", "reception", None))).join().unwrap());
    eventually("reception is online", LIMIT, || reception.sync.status().connection == Connection::Online).await.unwrap();
    let mut arrivals = reception.sync.arrivals();
    let founder = Actor { person: None, device: Some(s.admin.id), name: "Admin".into(), role: Role::Admin };
    // The desk is busy (its store held) while five people are added, each
    // pushed to it in a frame of its own.
    let busy = reception.store.lock().unwrap();
    for i in 0..5 {
        s.admin.act(|st| st.create_person(&founder, PersonForm { name: format!("Waiting {i}"), ..Default::default() })).unwrap();
        // Each reaches the server, and so is pushed, on its own.
        eventually("the server has the person", LIMIT, || s.admin.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    }
    // The pushes are on their way to the desk's socket; nothing on the
    // desk's side can be watched while its store is held, so this one
    // pause stays.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(busy);
    eventually("the desk has all five", LIMIT, || reception.read(|st| st.people("Waiting").unwrap().len() == 5)).await.unwrap();
    // The frame read before the desk got busy is applied alone; the four
    // that waited behind it, in one go.
    let mut applied = 0;
    while arrivals.try_recv().is_ok() {
        applied += 1;
    }
    assert!((1..=2).contains(&applied), "five frames were applied in {applied} steps");
    desk_runtime.shutdown_background();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_in_the_workshop_cannot_be_taken_online_and_a_take_offline_is_a_conflict() {
    use lodge_core::repair::RepairState;
    let s = site().await;
    let founder = Actor { person: None, device: Some(s.admin.id), name: "Admin".into(), role: Role::Admin };
    let jan = s.admin.act(|st| st.create_person(&founder, PersonForm { name: "Jan Nowak".into(), roles: vec![Role::Worker], ..Default::default() })).unwrap();
    let piotr = s.admin.act(|st| st.create_person(&founder, PersonForm { name: "Piotr Zielinski".into(), roles: vec![Role::Worker], ..Default::default() })).unwrap();
    let category = lodge_core::RepairCategoryId::parse("electrical").unwrap();
    s.admin.act(|st| st.set_repair_category(&founder, category.clone(), "Electrical")).unwrap();
    let item = s
        .admin
        .act(|st| st.add_item(&founder, lodge_core::equipment::NewItem { asset_number: "D-7".into(), activation_code: "LODGE-D7".into(), name: "Drill".into(), item_type: "drill".into() }))
        .unwrap();
    eventually("the admin's item reaches the server", LIMIT, || s.admin.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    let jans = s.device("jan-phone", "worker", Some(jan)).await;
    let mut piotrs = s.device("piotr-phone", "worker", Some(piotr)).await;
    let jan_actor = Actor::person(jan, "Jan Nowak", Role::Worker);
    let piotr_actor = Actor::person(piotr, "Piotr Zielinski", Role::Worker);
    eventually("Jan's phone has the drill", LIMIT, || jans.read(|st| st.item_by_code("LODGE-D7").unwrap().is_some())).await.unwrap();

    // Jan reports a fault; the workshop takes the drill in.
    let ticket = jans.act(|st| st.open_ticket(&jan_actor, item, category, "It sparks")).unwrap();
    eventually("the admin has Jan's ticket", LIMIT, || s.admin.read(|st| st.open_repairs().unwrap().iter().any(|t| t.id == ticket))).await.unwrap();
    s.admin.act(|st| st.set_repair_state(&founder, ticket, RepairState::InProgress)).unwrap();

    // Piotr's phone learns it, though Piotr opened no ticket, and refuses.
    eventually("Piotr's phone knows the drill is in the workshop", LIMIT, || piotrs.read(|st| st.in_workshop(item).unwrap())).await.unwrap();
    let refused = piotrs.act(|st| st.activate_equipment(&piotr_actor, "LODGE-D7"));
    assert!(matches!(refused, Err(lodge_core::equipment::Error::InRepair { .. })), "{refused:?}");
    assert!(piotrs.read(|st| st.tickets_opened_by(piotr).unwrap().is_empty()), "his own list is still his own");

    // Back from the workshop; Piotr's phone goes into the basement while
    // the drill goes back in, and takes it there from its stale copy.
    s.admin.act(|st| st.set_repair_state(&founder, ticket, RepairState::Resolved)).unwrap();
    eventually("Piotr's phone knows the drill is back", LIMIT, || piotrs.read(|st| !st.in_workshop(item).unwrap())).await.unwrap();
    piotrs.go_offline();
    s.admin.act(|st| st.set_repair_state(&founder, ticket, RepairState::InProgress)).unwrap();
    eventually("the server has the drill in the workshop again", LIMIT, || s.admin.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    piotrs.act(|st| st.activate_equipment(&piotr_actor, "LODGE-D7")).unwrap();
    piotrs.go_online(&s.server);
    // Kept, whichever came first (the server judging by what it held when
    // the take arrived made two orders end differently), and shown on
    // every device as a conflict the admin resolves.
    eventually("the take reaches the server", LIMIT, || piotrs.read(|st| st.outbox().unwrap().is_empty())).await.unwrap();
    eventually("the admin sees the drill with Piotr", LIMIT, || {
        s.admin.read(|st| st.item_by_code("LODGE-D7").unwrap().and_then(|i| i.holder)) == Some(piotr)
    })
    .await
    .unwrap();
    assert_eq!(piotrs.sync.status().attention, 0, "nothing refused");
    let conflict = |d: &lodge_tests::Device| {
        d.read(|st| st.conflicts().unwrap().into_iter().find(|c| c.kind == lodge_core::ConflictKind::TakenInWorkshop))
    };
    eventually("the admin's desk shows the conflict", LIMIT, || conflict(&s.admin).is_some()).await.unwrap();
    let shown = conflict(&s.admin).unwrap();
    assert!(shown.summary.starts_with("Drill (D-7) was taken by Piotr Zielinski"), "{}", shown.summary);
    assert!(shown.summary.contains("while its repair ticket is in progress"), "{}", shown.summary);
    eventually("Piotr's phone shows it too", LIMIT, || conflict(&piotrs) == Some(shown.clone())).await.unwrap();
    // Piotr brings it back: the conflict is gone everywhere.
    piotrs.act(|st| st.deactivate_equipment(&piotr_actor, "LODGE-D7")).unwrap();
    eventually("the conflict is gone on the admin's desk", LIMIT, || conflict(&s.admin).is_none()).await.unwrap();
    assert_eq!(s.admin.read(|st| st.item_by_code("LODGE-D7").unwrap().and_then(|i| i.holder)), None);
    // Jan's phone learns the return by the same push, so it is waited for,
    // not read at once.
    eventually("Jan's phone sees the drill back on the shelf", LIMIT, || {
        jans.read(|st| st.item_by_code("LODGE-D7").unwrap().and_then(|i| i.holder)).is_none()
    })
    .await
    .unwrap();
}
