//! An enrolled device turned hostile, against a real `lodge-sync`: sync
//! messages and Automerge changes written by hand, not through commands.
//! Each attack must be refused with the rule it breaks, change nothing on
//! the server, and leave the site's honest devices syncing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::hydrate::Value;
use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use futures_util::{SinkExt, StreamExt};
use lodge_core::person::PersonForm;
use lodge_core::sync::{ClientMessage, Counted, DocMessage, Measured, Refusal, ServerMessage, SyncErrorKind};
use lodge_core::visit::{AdmitRequest, GuestForm, RejectReason};
use lodge_core::{Actor, CardNumber, DeviceId, DocId, PersonId, Role, SiteId, Store, SystemClock, VisitId};
use lodge_tests::site::{TestSite, settled};
use lodge_tests::{Device, Server, code, eventually};
use tokio_tungstenite::tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(20);

/// The address space the server gets in these tests (`prlimit --as`).
const SERVER_ADDRESS_SPACE: u64 = 512 * 1024 * 1024;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The shared site, and what these tests ask of it.
trait Site {
    fn person(&self, name: &str, role: Role) -> PersonId;
    fn export(&self, doc: &DocId) -> AutoCommit;
    fn server_has(&self, doc: &DocId) -> bool;
    async fn keeps_syncing(&self, desk: &Device, name: &str);
}

async fn site() -> TestSite {
    // Every attack here runs against a server held to 512 MB of address
    // space: one that tried to allocate what a message asks would die.
    TestSite::start_with(|data| Server::start_limited(data, SERVER_ADDRESS_SPACE)).await
}

impl Site for TestSite {
    fn person(&self, name: &str, role: Role) -> PersonId {
        let founder = self.founder();
        self.admin.act(|s| s.create_person(&founder, PersonForm { name: name.into(), roles: vec![role], ..Default::default() })).unwrap()
    }

    /// A copy of a document as the admin device holds it.
    fn export(&self, doc: &DocId) -> AutoCommit {
        AutoCommit::load(&self.admin.store.lock().unwrap().export_document(doc).unwrap().expect("the admin has it")).unwrap()
    }

    /// Whether the server's store of the site holds the document.
    fn server_has(&self, doc: &DocId) -> bool {
        let conn = rusqlite::Connection::open(self.server.data.join("sites").join(format!("{}.sqlite", self.site))).unwrap();
        conn.query_row("SELECT count(*) FROM documents WHERE doc_id = ?1", [doc.as_str()], |r| r.get::<_, i64>(0)).unwrap() > 0
    }

    /// An honest desk still gets a new guest through to the admin.
    async fn keeps_syncing(&self, desk: &Device, name: &str) {
        let actor = Actor { person: None, device: Some(desk.id), name: "Reception".into(), role: Role::Reception };
        let v = desk.act(|st| st.register_guest(&actor, guest(self.host, name))).unwrap();
        eventually("the admin gets an honest desk's guest", LIMIT, || self.admin.read(|st| st.visit(v).unwrap().is_some())).await.unwrap();
    }
}

fn guest(host: PersonId, name: &str) -> GuestForm {
    GuestForm { name: name.into(), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() }
}

/// What the server said to a hostile push.
#[derive(Debug, PartialEq)]
enum Outcome {
    Kept,
    Refused(SyncErrorKind, Option<Refusal>),
}

/// A device enrolled over HTTP that speaks the protocol by hand.
struct Rogue {
    ws: Socket,
    actor: ActorId,
    device: DeviceId,
    token: String,
}

enum Next {
    Frame(ServerMessage),
    Closed,
    Quiet,
}

async fn next(ws: &mut Socket, wait: Duration) -> Next {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Err(_) => return Next::Quiet,
            Ok(None | Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return Next::Closed,
            Ok(Some(Ok(Message::Binary(b)))) => return Next::Frame(ServerMessage::decode(&b).expect("the server's frames decode")),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

impl Rogue {
    async fn enrol(s: &TestSite, name: &str, role: &str, person: Option<PersonId>) -> Self {
        let store = Mutex::new(Store::open(s.dir.path().join(format!("{name}.sqlite")), Arc::new(SystemClock)).unwrap());
        let c = code(&s.server.data, s.site, role, person).unwrap();
        let enrolled = lodge_core::sync::enrol(&s.server.http_url(), &c, name, &store).await.unwrap();
        let actor = store.lock().unwrap().actor_id().clone();
        let ws = Self::connect(s, &enrolled.token, Vec::new()).await.0;
        Self { ws, actor, device: enrolled.device, token: enrolled.token }
    }

    /// Say hello and read the catch-up to its end; returns the documents
    /// it carried (synced or said to be deleted).
    async fn connect(s: &TestSite, token: &str, pending: Vec<DocId>) -> (Socket, Vec<DocId>) {
        let mut ws = tokio_tungstenite::connect_async(s.server.ws_url()).await.unwrap().0;
        let hello = ClientMessage::Hello { token: token.to_owned(), since: 0, pending, app: None, kept_counts: false };
        ws.send(Message::Binary(hello.encode().into())).await.unwrap();
        let mut got = Vec::new();
        loop {
            match next(&mut ws, Duration::from_secs(10)).await {
                Next::Frame(ServerMessage::Sync { docs, .. }) if docs.is_empty() => return (ws, got),
                Next::Frame(ServerMessage::Sync { docs, .. }) => got.extend(docs.into_iter().map(|d| d.doc)),
                Next::Frame(ServerMessage::Purged { docs, .. }) => got.extend(docs),
                Next::Frame(_) => {}
                Next::Closed => panic!("the server closed the connection during the catch-up"),
                Next::Quiet => panic!("the catch-up never ended"),
            }
        }
    }

    /// Push `am` as `doc` through the sync protocol until the server keeps
    /// it or refuses it.
    async fn push(&mut self, doc: &DocId, am: &mut AutoCommit) -> Outcome {
        let mut state = automerge::sync::State::new();
        for _ in 0..10 {
            if let Some(m) = am.sync().generate_sync_message(&mut state) {
                self.send(doc, m.encode()).await;
            } else if state.shared_heads == am.get_heads() {
                return Outcome::Kept;
            }
            match next(&mut self.ws, Duration::from_secs(5)).await {
                Next::Frame(ServerMessage::Sync { docs, .. }) => {
                    for d in docs.into_iter().filter(|d| &d.doc == doc) {
                        am.sync().receive_sync_message(&mut state, automerge::sync::Message::decode(&d.message).unwrap()).unwrap();
                    }
                }
                Next::Frame(ServerMessage::Error { kind, refusal, doc: about, .. }) if about.as_ref().is_none_or(|a| a == doc) => {
                    return Outcome::Refused(kind, refusal);
                }
                Next::Frame(_) | Next::Quiet => {}
                Next::Closed => panic!("the server closed the connection instead of refusing"),
            }
        }
        if state.shared_heads == am.get_heads() { Outcome::Kept } else { panic!("neither kept nor refused") }
    }

    async fn send(&mut self, doc: &DocId, message: Vec<u8>) {
        let frame = ClientMessage::Sync { docs: vec![DocMessage { doc: doc.clone(), message }] };
        self.ws.send(Message::Binary(frame.encode().into())).await.unwrap();
    }

    /// Send a frame made by hand and return the server's refusal of it.
    async fn refusal_of(&mut self, frame: ClientMessage) -> Outcome {
        self.ws.send(Message::Binary(frame.encode().into())).await.unwrap();
        loop {
            match next(&mut self.ws, Duration::from_secs(20)).await {
                Next::Frame(ServerMessage::Error { kind, refusal, .. }) => return Outcome::Refused(kind, refusal),
                Next::Frame(_) => {}
                Next::Closed => panic!("the server closed the connection instead of refusing"),
                Next::Quiet => panic!("no refusal came"),
            }
        }
    }
}

/// A new document with the same content as `src`, written by `actor` (a
/// device making a document of its own by hand).
fn fresh_copy(src: &mut AutoCommit, actor: &ActorId) -> AutoCommit {
    let Value::Map(root) = src.document().hydrate(None) else { panic!("a document is a map") };
    let mut doc = AutoCommit::new().with_actor(actor.clone());
    for (key, v) in root.iter() {
        put_value(&mut doc, &ROOT, key, &v.value);
    }
    doc.commit();
    doc
}

fn scalar(v: &ScalarValue) -> ScalarValue {
    v.clone()
}

fn put_value(doc: &mut AutoCommit, obj: &ObjId, key: &str, value: &Value) {
    match value {
        Value::Scalar(s) => {
            doc.put(obj, key, scalar(s)).unwrap();
        }
        Value::Map(m) => {
            let child = doc.put_object(obj, key, ObjType::Map).unwrap();
            for (k, v) in m.iter() {
                put_value(doc, &child, k, &v.value);
            }
        }
        Value::List(l) => {
            let child = doc.put_object(obj, key, ObjType::List).unwrap();
            for (i, v) in l.iter().enumerate() {
                insert_value(doc, &child, i, &v.value);
            }
        }
        Value::Text(t) => {
            let child = doc.put_object(obj, key, ObjType::Text).unwrap();
            doc.splice_text(&child, 0, 0, &String::from(t)).unwrap();
        }
    }
}

fn insert_value(doc: &mut AutoCommit, list: &ObjId, index: usize, value: &Value) {
    match value {
        Value::Scalar(s) => doc.insert(list, index, scalar(s)).unwrap(),
        Value::Map(m) => {
            let child = doc.insert_object(list, index, ObjType::Map).unwrap();
            for (k, v) in m.iter() {
                put_value(doc, &child, k, &v.value);
            }
        }
        Value::List(_) | Value::Text(_) => panic!("no list of lists in Lodge's documents"),
    }
}

/// The object at a path of map keys.
fn at(doc: &AutoCommit, path: &[&str]) -> ObjId {
    let mut obj = ROOT;
    for key in path {
        obj = doc.get(&obj, *key).unwrap().expect("the path exists").1;
    }
    obj
}

fn set(doc: &mut AutoCommit, path: &[&str], key: &str, value: impl Into<ScalarValue>) {
    let obj = at(doc, path);
    doc.put(&obj, key, value.into()).unwrap();
    doc.commit();
}

/// Append to the list at `path` a copy of its entry `from` with some
/// fields replaced.
fn append_like(doc: &mut AutoCommit, path: &[&str], from: usize, fields: &[(&str, ScalarValue)]) {
    let list = at(doc, path);
    let Value::List(entries) = doc.document().hydrate(None).pipe(|v| find(&v, path)) else { panic!("not a list") };
    let Value::Map(entry) = entries.iter().nth(from).expect("the entry exists").value.clone() else { panic!("entries are maps") };
    let len = doc.length(&list);
    let child = doc.insert_object(&list, len, ObjType::Map).unwrap();
    for (k, v) in entry.iter() {
        match fields.iter().find(|(f, _)| f == k) {
            Some((_, replaced)) => {
                doc.put(&child, k.as_str(), replaced.clone()).unwrap();
            }
            None => put_value(doc, &child, k, &v.value),
        }
    }
    doc.commit();
}

fn find(v: &Value, path: &[&str]) -> Value {
    let mut v = v.clone();
    for key in path {
        let Value::Map(m) = v else { panic!("not a map") };
        v = m.get(key).expect("the path exists").clone();
    }
    v
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

fn refused_by(outcome: &Outcome, kind: SyncErrorKind, rule: impl Fn(&Refusal) -> bool) -> bool {
    matches!(outcome, Outcome::Refused(k, Some(r)) if *k == kind && rule(r))
}

/// Peak resident memory of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap().trim().trim_end_matches(" kB").trim().parse().unwrap();
    kb * 1024
}

fn uleb(out: &mut Vec<u8>, n: u64) {
    leb128::write::unsigned(out, n).unwrap();
}

/// A sync message with one `have` whose Bloom filter is `bloom`.
fn message_with_bloom(entries: u64, bits_per_entry: u64, probes: u64, bits: &[u8]) -> Vec<u8> {
    let mut bloom = Vec::new();
    uleb(&mut bloom, entries);
    uleb(&mut bloom, bits_per_entry);
    uleb(&mut bloom, probes);
    bloom.extend(bits);
    let mut m = vec![0x42, 0, 0, 1, 0];
    uleb(&mut m, bloom.len() as u64);
    m.extend(bloom);
    m.push(0);
    m
}

/// A sync message carrying one compressed change chunk that inflates to
/// `bytes` zeros.
fn deflate_bomb(bytes: usize) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..bytes >> 20 {
        enc.write_all(&zeros).unwrap();
    }
    let bomb = enc.finish().unwrap();
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    uleb(&mut chunk, bomb.len() as u64);
    chunk.extend(&bomb);
    let mut m = vec![0x42, 0, 0, 0, 1];
    uleb(&mut m, chunk.len() as u64);
    m.extend(chunk);
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_that_would_crash_or_stall_automerge_are_refused_and_the_site_keeps_syncing() {
    let s = site().await;
    let reception = s.device("reception", "reception", None).await;
    let honest = reception.act(|st| {
        st.register_guest(&Actor { person: None, device: Some(reception.id), name: "Reception".into(), role: Role::Reception }, guest(s.host, "Olga Honest"))
    });
    let honest = DocId::visit(honest.unwrap());
    settled(&reception).await;
    eventually("the admin has the honest visit", LIMIT, || s.admin.read(|st| st.documents().unwrap().contains(&honest))).await.unwrap();
    let mut kiosk = Rogue::enrol(&s, "kiosk", "kiosk", None).await;
    let doc = DocId::visit(VisitId::new());

    let one = |message: Vec<u8>| ClientMessage::Sync { docs: vec![DocMessage { doc: doc.clone(), message }] };
    // A filter claiming two billion probes (Automerge would allocate 8 GB).
    let o = kiosk.refusal_of(one(message_with_bloom(1, 10, 2_000_000_000, &[0xff, 0xff]))).await;
    assert!(refused_by(&o, SyncErrorKind::BadMessage, |r| matches!(r, Refusal::BloomFilter { probes: 2_000_000_000, .. })), "{o:?}");
    // Entries but no bits (Automerge divides by zero).
    let o = kiosk.refusal_of(one(message_with_bloom(5, 0, 7, &[]))).await;
    assert!(refused_by(&o, SyncErrorKind::BadMessage, |r| matches!(r, Refusal::BloomFilter { bits_per_entry: 0, .. })), "{o:?}");

    // A compressed chunk of a few hundred KB that would inflate to 64 MiB
    // (and be copied again by Automerge): measured only to the bound, never
    // held.
    let before = peak_rss(s.server.pid());
    let bomb = deflate_bomb(64 << 20);
    assert!(bomb.len() < 1 << 20, "the bomb is small on the wire");
    let o = kiosk.refusal_of(one(bomb)).await;
    assert!(refused_by(&o, SyncErrorKind::BadMessage, |r| matches!(r, Refusal::TooLarge { what: Measured::InflatedMessage, .. })), "{o:?}");
    let grew = peak_rss(s.server.pid()).saturating_sub(before);
    assert!(grew < 32 << 20, "the server's peak memory grew by {} MiB", grew >> 20);

    // Five thousand documents in one frame: refused whole, at once.
    let mut am = s.export(&honest);
    let mut state = automerge::sync::State::new();
    let message = am.sync().generate_sync_message(&mut state).unwrap().encode();
    let docs: Vec<DocMessage> = (0..5000).map(|_| DocMessage { doc: DocId::visit(VisitId::new()), message: message.clone() }).collect();
    let o = kiosk.refusal_of(ClientMessage::Sync { docs }).await;
    assert!(refused_by(&o, SyncErrorKind::BadMessage, |r| matches!(r, Refusal::TooMany { what: Counted::Documents, count: 5000, .. })), "{o:?}");

    // A guest name of 100 KB in an otherwise proper new visit.
    let mut big = fresh_copy(&mut s.export(&honest), &kiosk.actor);
    let id = VisitId::new();
    set(&mut big, &[], "id", id.to_string());
    set(&mut big, &["header"], "owner", format!("device:{}", kiosk.device));
    set(&mut big, &["guest"], "name", "x".repeat(100_000));
    let o = kiosk.push(&DocId::visit(id), &mut big).await;
    assert!(refused_by(&o, SyncErrorKind::BadMessage, |r| matches!(r, Refusal::TooLarge { what: Measured::Field, .. })), "{o:?}");
    assert!(!s.server_has(&DocId::visit(id)));

    // The same visit with a proper name is kept: the refusals above were
    // for what they said, not for being made by hand.
    let mut fine = fresh_copy(&mut s.export(&honest), &kiosk.actor);
    let id = VisitId::new();
    set(&mut fine, &[], "id", id.to_string());
    set(&mut fine, &["header"], "owner", format!("device:{}", kiosk.device));
    set(&mut fine, &["guest"], "name", "Hand Made");
    assert_eq!(kiosk.push(&DocId::visit(id), &mut fine).await, Outcome::Kept);
    eventually("reception gets the kiosk's proper visit", LIMIT, || reception.read(|st| st.visit(id).unwrap().is_some())).await.unwrap();

    s.keeps_syncing(&reception, "Still Works").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_creates_only_waiting_visits_of_its_own_under_their_own_id() {
    let s = site().await;
    let reception = s.device("reception", "reception", None).await;
    let desk = Actor { person: None, device: Some(reception.id), name: "Reception".into(), role: Role::Reception };
    let admitted = reception.act(|st| st.register_guest(&desk, guest(s.host, "Ewa Inside"))).unwrap();
    reception.act(|st| st.admit(&desk, AdmitRequest { visit: admitted, card: CardNumber::new(105).unwrap(), take_over: false })).unwrap();
    settled(&reception).await;
    let admitted_doc = DocId::visit(admitted);
    eventually("the admin has the admitted visit", LIMIT, || s.admin.read(|st| st.documents().unwrap().contains(&admitted_doc))).await.unwrap();
    let mut kiosk = Rogue::enrol(&s, "kiosk", "kiosk", None).await;
    // What a kiosk would make: the admitted visit's content, waiting, its own.
    let template = |kiosk: &Rogue, id: VisitId| {
        let mut am = fresh_copy(&mut s.export(&admitted_doc), &kiosk.actor);
        set(&mut am, &[], "id", id.to_string());
        set(&mut am, &["header"], "owner", format!("device:{}", kiosk.device));
        let events = at(&am, &[]);
        am.put_object(&events, "events", ObjType::List).unwrap();
        am.commit();
        am
    };

    // Already admitted with card 105 (the card is in use) and card 700.
    let id = VisitId::new();
    let mut am = fresh_copy(&mut s.export(&admitted_doc), &kiosk.actor);
    set(&mut am, &[], "id", id.to_string());
    set(&mut am, &["header"], "owner", format!("device:{}", kiosk.device));
    let o = kiosk.push(&DocId::visit(id), &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| *r == Refusal::KioskVisitNotWaiting), "{o:?}");

    // A new document whose content names the admitted guest's visit: it
    // would have pushed her off the evacuation list.
    let mut am = template(&kiosk, admitted);
    let o = kiosk.push(&DocId::visit(VisitId::new()), &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| matches!(r, Refusal::IdMismatch { .. })), "{o:?}");

    // A header naming another site.
    let id = VisitId::new();
    let mut am = template(&kiosk, id);
    set(&mut am, &["header"], "site", SiteId::new().to_string());
    let o = kiosk.push(&DocId::visit(id), &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| *r == Refusal::OtherSite), "{o:?}");

    // Another kiosk's visit.
    let id = VisitId::new();
    let mut am = template(&kiosk, id);
    set(&mut am, &["header"], "owner", format!("device:{}", DeviceId::new()));
    let o = kiosk.push(&DocId::visit(id), &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| matches!(r, Refusal::RoleMayNotWrite { role: Role::Kiosk, .. })), "{o:?}");

    // Deleting a presence month that does not exist yet.
    let month = DocId::presence(s.host, &s.admin.read(|st| st.now()).month());
    let o = kiosk.refusal_of(ClientMessage::Purge { docs: vec![month.clone()] }).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| matches!(r, Refusal::MayNotPurge { role: Role::Kiosk, .. })), "{o:?}");

    // A waiting visit of its own is kept.
    let id = VisitId::new();
    let mut am = template(&kiosk, id);
    assert_eq!(kiosk.push(&DocId::visit(id), &mut am).await, Outcome::Kept);

    // Another desk's guest rejected: her visit's id is none of the kiosk's
    // business. Its own guest rejected: the kiosk must drop her.
    let other = reception.act(|st| st.register_guest(&desk, guest(s.host, "Zofia Elsewhere"))).unwrap();
    settled(&reception).await;
    reception.act(|st| st.reject(&desk, other, RejectReason::Mistake)).unwrap();
    eventually("reception has the kiosk's guest", LIMIT, || reception.read(|st| st.visit(id).unwrap().is_some())).await.unwrap();
    reception.act(|st| st.reject(&desk, id, RejectReason::Duplicate)).unwrap();
    eventually("the server purged both", LIMIT, || !s.server_has(&DocId::visit(other)) && !s.server_has(&DocId::visit(id))).await.unwrap();

    // Asking, at hello, about a visit it may not see gets it nothing; the
    // catch-up names only its own deleted guest.
    let (_ws, got) = Rogue::connect(&s, &kiosk.token, vec![admitted_doc.clone()]).await;
    assert!(!got.contains(&admitted_doc), "the kiosk was sent the admitted visit");
    assert!(!got.contains(&DocId::visit(other)), "the kiosk was told of another desk's rejected guest");
    assert!(got.contains(&DocId::visit(id)), "the kiosk was not told to drop its own rejected guest");

    // Reception still has the admitted guest on the evacuation list, and
    // the host's month works: the tombstone was never made.
    assert!(reception.read(|st| st.evacuation_list().unwrap().guests.iter().any(|g| g.id == admitted)));
    s.admin.act(|st| st.sign_in(&s.founder(), s.host)).unwrap();
    eventually("reception sees the host signed in", LIMIT, || reception.read(|st| st.people_in().unwrap().iter().any(|p| p.person == s.host)))
        .await
        .unwrap();
    s.keeps_syncing(&reception, "Still Works").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_guest_cannot_come_back_under_a_new_id() {
    let s = site().await;
    let reception = s.device("reception", "reception", None).await;
    let desk = Actor { person: None, device: Some(reception.id), name: "Reception".into(), role: Role::Reception };
    let v = reception.act(|st| st.register_guest(&desk, guest(s.host, "Mallory Prankster"))).unwrap();
    let doc = DocId::visit(v);
    settled(&reception).await;
    eventually("the admin has the visit", LIMIT, || s.admin.read(|st| st.documents().unwrap().contains(&doc))).await.unwrap();
    let saved = s.export(&doc);
    reception.act(|st| st.reject(&desk, v, RejectReason::Abuse)).unwrap();
    eventually("the server purged it", LIMIT, || !s.server_has(&doc)).await.unwrap();

    let mut rogue = Rogue::enrol(&s, "rogue-desk", "reception", None).await;
    // The same saved changes, with one more that gives them a new id.
    let new = VisitId::new();
    let mut again = saved.clone().with_actor(rogue.actor.clone());
    set(&mut again, &[], "id", new.to_string());
    let o = rogue.push(&DocId::visit(new), &mut again).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| *r == Refusal::PurgedChanges), "{o:?}");
    assert!(!s.server_has(&DocId::visit(new)));
    // A visit of the same content made afresh is a new guest, and kept.
    let mut fresh = fresh_copy(&mut saved.clone(), &rogue.actor);
    let id = VisitId::new();
    set(&mut fresh, &[], "id", id.to_string());
    assert_eq!(rogue.push(&DocId::visit(id), &mut fresh).await, Outcome::Kept);
    s.keeps_syncing(&reception, "Still Works").await;
    assert!(reception.read(|st| st.waiting_guests().unwrap().iter().all(|g| g.id != v)), "the rejected guest came back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_writes_only_its_own_presence_in_its_own_name() {
    let s = site().await;
    let jan = s.person("Jan Nowak", Role::Staff);
    let admin = s.founder();
    s.admin.act(|st| st.sign_in(&admin, s.host)).unwrap();
    s.admin.act(|st| st.sign_in(&admin, jan)).unwrap();
    settled(&s.admin).await;
    let month = s.admin.read(|st| st.now()).month();
    let anna_month = DocId::presence(s.host, &month);
    let jan_month = DocId::presence(jan, &month);
    let mut phone = Rogue::enrol(&s, "anna-phone", "staff", Some(s.host)).await;
    let anna_tag = format!("Anna Kowalska <person:{}>", s.host);
    let jan_tag = format!("Jan Nowak <person:{jan}>");
    let event = |id: &str, by: &str, change: &str| -> Vec<(&'static str, ScalarValue)> {
        vec![("id", id.to_owned().into()), ("by", by.to_owned().into()), ("change", change.to_owned().into())]
    };
    let new_event_id = || uuid::Uuid::new_v4().to_string();

    // A sign-out in its own month, in another person's name.
    let mut am = s.export(&anna_month).with_actor(phone.actor.clone());
    append_like(&mut am, &["events"], 0, &event(&new_event_id(), &jan_tag, "Out"));
    let o = phone.push(&anna_month, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| *r == Refusal::OtherPersonsEntry), "{o:?}");

    // Its own sign-in removed.
    let mut am = s.export(&anna_month).with_actor(phone.actor.clone());
    let events = at(&am, &["events"]);
    am.delete(&events, 0).unwrap();
    am.commit();
    let o = phone.push(&anna_month, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| matches!(r, Refusal::HistoryRewritten { .. })), "{o:?}");

    // A sign-out in another person's month.
    let mut am = s.export(&jan_month).with_actor(phone.actor.clone());
    append_like(&mut am, &["events"], 0, &event(&new_event_id(), &anna_tag, "Out"));
    let o = phone.push(&jan_month, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| matches!(r, Refusal::NotVisible { role: Role::Staff, kind: lodge_core::DocKind::Presence })), "{o:?}");

    // Another person's next month, made with itself as the owner.
    let next = DocId::presence(jan, "2099-01");
    let mut am = fresh_copy(&mut s.export(&anna_month), &phone.actor);
    set(&mut am, &[], "person", jan.to_string());
    set(&mut am, &[], "month", "2099-01");
    let o = phone.push(&next, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| matches!(r, Refusal::OwnerMismatch { .. })), "{o:?}");

    // A change under the month's shared actor that is not its one empty creation.
    let later = DocId::presence(s.host, "2099-02");
    let mut am = fresh_copy(&mut s.export(&anna_month), &lodge_core::shared_actor(&later));
    set(&mut am, &[], "month", "2099-02");
    let o = phone.push(&later, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::ForeignActor, |r| r.is_foreign_actor()), "{o:?}");

    // Its own sign-out, in its own name, is kept.
    let mut am = s.export(&anna_month).with_actor(phone.actor.clone());
    append_like(&mut am, &["events"], 0, &event(&new_event_id(), &anna_tag, "Out"));
    assert_eq!(phone.push(&anna_month, &mut am).await, Outcome::Kept);
    eventually("the admin sees Anna signed out", LIMIT, || s.admin.read(|st| st.people_in().unwrap().iter().all(|p| p.person != s.host)))
        .await
        .unwrap();
    assert!(s.admin.read(|st| st.people_in().unwrap().iter().any(|p| p.person == jan)), "Jan is still in");
    assert!(!s.server_has(&next) && !s.server_has(&later));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_appends_only_its_own_custody_and_opens_tickets_as_new() {
    let s = site().await;
    let admin = s.founder();
    let jan = s.person("Jan Nowak", Role::Worker);
    let piotr = s.person("Piotr Zielinski", Role::Worker);
    let category = lodge_core::RepairCategoryId::parse("electrical").unwrap();
    s.admin.act(|st| st.set_repair_category(&admin, category.clone(), "Electrical")).unwrap();
    let item = s
        .admin
        .act(|st| st.add_item(&admin, lodge_core::equipment::NewItem { asset_number: "D-7".into(), activation_code: "LODGE-D7".into(), name: "Drill".into(), item_type: "drill".into() }))
        .unwrap();
    let jan_actor = Actor::person(jan, "Jan Nowak", Role::Worker);
    s.admin.act(|st| st.activate_equipment(&jan_actor, "LODGE-D7")).unwrap();
    let ticket = s.admin.act(|st| st.open_ticket(&jan_actor, item, category, "It sparks")).unwrap();
    settled(&s.admin).await;
    let drill = DocId::equipment(item);
    let ticket_doc = DocId::repair(ticket);
    let mut phone = Rogue::enrol(&s, "jan-phone", "worker", Some(jan)).await;
    let jan_tag = format!("Jan Nowak <person:{jan}>");
    let scan = |person: PersonId, by: &str| -> Vec<(&'static str, ScalarValue)> {
        vec![("id", uuid::Uuid::new_v4().to_string().into()), ("person", person.to_string().into()), ("by", by.to_owned().into()), ("change", "Returned".into())]
    };

    // The whole custody log deleted.
    let mut am = s.export(&drill).with_actor(phone.actor.clone());
    am.put_object(ROOT, "custody", ObjType::List).unwrap();
    am.commit();
    let o = phone.push(&drill, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| matches!(r, Refusal::HistoryRewritten { .. })), "{o:?}");

    // A scan in another person's name.
    let mut am = s.export(&drill).with_actor(phone.actor.clone());
    append_like(&mut am, &["custody"], 0, &scan(piotr, &format!("Piotr Zielinski <person:{piotr}>")));
    let o = phone.push(&drill, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| *r == Refusal::OtherPersonsEntry), "{o:?}");

    // An earlier scan's person edited.
    let mut am = s.export(&drill).with_actor(phone.actor.clone());
    let first = am.get(at(&am, &["custody"]), 0).unwrap().unwrap().1;
    am.put(&first, "person", piotr.to_string()).unwrap();
    am.commit();
    let o = phone.push(&drill, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| matches!(r, Refusal::HistoryRewritten { .. })), "{o:?}");

    // A ticket opened straight into "in progress".
    let mut am = fresh_copy(&mut s.export(&ticket_doc), &phone.actor);
    let id = lodge_core::TicketId::new();
    set(&mut am, &[], "id", id.to_string());
    let states = am.put_object(ROOT, "states", ObjType::List).unwrap();
    let state = am.insert_object(&states, 0, ObjType::Map).unwrap();
    am.put(&state, "id", uuid::Uuid::new_v4().to_string()).unwrap();
    am.put(&state, "at", ScalarValue::Timestamp(0)).unwrap();
    am.put(&state, "by", jan_tag.clone()).unwrap();
    am.put(&state, "state", "InProgress").unwrap();
    am.commit();
    let o = phone.push(&DocId::repair(id), &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| *r == Refusal::TicketMovedByWorker), "{o:?}");

    // Its own ticket moved along.
    let mut am = s.export(&ticket_doc).with_actor(phone.actor.clone());
    let states = at(&am, &["states"]);
    let state = am.insert_object(&states, 0, ObjType::Map).unwrap();
    am.put(&state, "id", uuid::Uuid::new_v4().to_string()).unwrap();
    am.put(&state, "at", ScalarValue::Timestamp(0)).unwrap();
    am.put(&state, "by", jan_tag.clone()).unwrap();
    am.put(&state, "state", "Resolved").unwrap();
    am.commit();
    let o = phone.push(&ticket_doc, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| *r == Refusal::TicketMovedByWorker), "{o:?}");

    // Deleting the item for good.
    let o = phone.refusal_of(ClientMessage::Purge { docs: vec![drill.clone()] }).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| matches!(r, Refusal::MayNotPurge { role: Role::Worker, .. })), "{o:?}");

    // What a worker does is kept: returning the drill in its own name, a note.
    let mut am = s.export(&drill).with_actor(phone.actor.clone());
    append_like(&mut am, &["custody"], 0, &scan(jan, &jan_tag));
    assert_eq!(phone.push(&drill, &mut am).await, Outcome::Kept);
    let mut am = s.export(&ticket_doc).with_actor(phone.actor.clone());
    append_like(&mut am, &["notes"], 0, &[("id", uuid::Uuid::new_v4().to_string().into()), ("by", jan_tag.clone().into()), ("text", "Still sparks".into())]);
    assert_eq!(phone.push(&ticket_doc, &mut am).await, Outcome::Kept);
    eventually("the admin sees the drill returned", LIMIT, || s.admin.read(|st| st.item_by_code("LODGE-D7").unwrap().is_some_and(|i| i.holder.is_none())))
        .await
        .unwrap();
    assert!(s.server_has(&drill));
    assert_eq!(s.admin.read(|st| st.open_repairs().unwrap().len()), 1, "no ticket was opened or moved by hand");
}

/// A read of an announcement written by hand: `person`'s, on `device`.
fn add_read(am: &mut AutoCommit, device: DeviceId, person: PersonId, by: &str) {
    let reads = at(am, &["reads"]);
    let len = am.length(&reads);
    let read = am.insert_object(&reads, len, ObjType::Map).unwrap();
    am.put(&read, "id", uuid::Uuid::new_v4().to_string()).unwrap();
    am.put(&read, "at", ScalarValue::Timestamp(1_795_420_800_000)).unwrap();
    am.put(&read, "by", by.to_owned()).unwrap();
    am.put(&read, "name", by.split(" <").next().unwrap().to_owned()).unwrap();
    am.put(&read, "device", device.to_string()).unwrap();
    am.put(&read, "person", person.to_string()).unwrap();
    am.commit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_adds_only_its_own_read_of_an_announcement_and_sends_none() {
    use lodge_core::announcement::{Audience, Kind, NewAnnouncement};
    let s = site().await;
    let admin = s.founder();
    let jan = s.person("Jan Nowak", Role::Staff);
    let notice = NewAnnouncement { kind: Kind::Emergency, audience: Audience::Everyone, title: "Fire".into(), text: "Leave by the east stairs".into() };
    let id = s.admin.act(|st| st.announce(&admin, notice)).unwrap();
    settled(&s.admin).await;
    let doc = DocId::announcement(id);
    let mut phone = Rogue::enrol(&s, "anna-phone", "staff", Some(s.host)).await;
    let anna_tag = format!("Anna Kowalska <person:{}>", s.host);
    let jan_tag = format!("Jan Nowak <person:{jan}>");

    // Jan's read, written on Anna's phone.
    let mut am = s.export(&doc).with_actor(phone.actor.clone());
    add_read(&mut am, phone.device, jan, &jan_tag);
    let o = phone.push(&doc, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| *r == Refusal::OtherPersonsEntry), "{o:?}");

    // Anna's read, as if made on another device.
    let mut am = s.export(&doc).with_actor(phone.actor.clone());
    add_read(&mut am, DeviceId::new(), s.host, &anna_tag);
    let o = phone.push(&doc, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| *r == Refusal::OtherPersonsEntry), "{o:?}");

    // The emergency's text changed.
    let mut am = s.export(&doc).with_actor(phone.actor.clone());
    set(&mut am, &[], "text", "False alarm, stay where you are");
    let o = phone.push(&doc, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| matches!(r, Refusal::FieldsNotAllowed { role: Role::Staff, .. })), "{o:?}");

    // An announcement of its own.
    let mut am = fresh_copy(&mut s.export(&doc), &phone.actor);
    let own = lodge_core::AnnouncementId::new();
    set(&mut am, &[], "id", own.to_string());
    let o = phone.push(&DocId::announcement(own), &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| *r == Refusal::AnnouncementFromDeskOnly), "{o:?}");

    // Its own read, on itself, is kept, and the sender sees it.
    let mut am = s.export(&doc).with_actor(phone.actor.clone());
    add_read(&mut am, phone.device, s.host, &anna_tag);
    assert_eq!(phone.push(&doc, &mut am).await, Outcome::Kept);
    eventually("the admin sees Anna's read", LIMIT, || s.admin.read(|st| st.announcement_reach(id).unwrap().is_some_and(|r| r.people_read == 1)))
        .await
        .unwrap();
    let reach = s.admin.read(|st| st.announcement_reach(id).unwrap().unwrap());
    assert_eq!(reach.announcement.text, "Leave by the east stairs", "the text never changed");
    assert_eq!(reach.readers.len(), 1);
    assert!(!s.server_has(&DocId::announcement(own)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_desk_adds_walk_in_customers_and_changes_nobody() {
    let s = site().await;
    let mut desk = Rogue::enrol(&s, "key-desk", "key-desk", None).await;
    let anna = DocId::person(s.host);

    // Anna renamed by the key desk.
    let mut am = s.export(&anna).with_actor(desk.actor.clone());
    set(&mut am, &[], "name", "Someone Else");
    let o = desk.push(&anna, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| *r == Refusal::KeyDeskAddsCustomersOnly), "{o:?}");

    // A new person made staff who hosts guests: more than a customer.
    let new = PersonId::new();
    let doc = DocId::person(new);
    let mut src = s.export(&anna);
    let mut am = fresh_copy(&mut src, &desk.actor);
    set(&mut am, &[], "id", new.to_string());
    set(&mut am, &[], "email", "walk-in@lodge.test");
    let o = desk.push(&doc, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| *r == Refusal::KeyDeskAddsCustomersOnly), "{o:?}");
    assert!(!s.server_has(&doc));

    // The same person as a plain customer, in a new document: kept.
    let new = PersonId::new();
    let doc = DocId::person(new);
    let mut am = fresh_copy(&mut src, &desk.actor);
    set(&mut am, &[], "id", new.to_string());
    set(&mut am, &[], "email", "walk-in@lodge.test");
    set(&mut am, &[], "hosts_guests", false);
    let roles = at(&am, &["roles"]);
    while am.length(&roles) > 0 {
        am.delete(&roles, 0).unwrap();
    }
    am.commit();
    let o = desk.push(&doc, &mut am).await;
    assert!(matches!(o, Outcome::Kept), "{o:?}");
    eventually("the admin has the customer", LIMIT, || s.admin.read(|st| st.person(new).unwrap().is_some_and(|p| p.roles.is_empty()))).await.unwrap();
    s.keeps_syncing(&s.admin, "the admin").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_desk_writes_a_loan_book_only_under_its_own_key_and_month() {
    use lodge_core::key_loan::CheckoutRequest;
    use lodge_core::{ConflictKind, Email, KeyTypeId};
    let s = site().await;
    let founder = s.founder();
    let master = KeyTypeId::parse("master").unwrap();
    s.admin.act(|st| st.set_key_type(&founder, master.clone(), "Master", 14)).unwrap();
    let key = s.admin.act(|st| st.add_key(&founder, master.clone(), "M-1")).unwrap();
    let form = PersonForm { name: "Kim Lee".into(), email: Some("kim@lodge.test".into()), ..Default::default() };
    s.admin.act(|st| st.create_person(&founder, form)).unwrap();
    let lend = CheckoutRequest { key, customer: Email::parse("kim@lodge.test").unwrap(), due_at: None };
    s.admin.act(|st| st.checkout_key(&founder, lend)).unwrap();
    settled(&s.admin).await;
    let book = DocId::loan_book(key, &s.admin.read(|st| st.now()).month());
    assert!(s.server_has(&book), "the loan went to the month's book");
    let mut desk = Rogue::enrol(&s, "key-desk", "key-desk", None).await;

    // The month's book sent again as another month's.
    let other = DocId::loan_book(key, "2099-01");
    let mut am = fresh_copy(&mut s.export(&book), &desk.actor);
    let o = desk.push(&other, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::Forbidden, |r| matches!(r, Refusal::IdMismatch { .. })), "{o:?}");

    // A change under a book's shared actor that is not its one empty creation.
    let later = DocId::loan_book(key, "2099-02");
    let mut am = fresh_copy(&mut s.export(&book), &lodge_core::shared_actor(&later));
    set(&mut am, &[], "month", "2099-02");
    let o = desk.push(&later, &mut am).await;
    assert!(refused_by(&o, SyncErrorKind::ForeignActor, |r| r.is_foreign_actor()), "{o:?}");
    assert!(!s.server_has(&other) && !s.server_has(&later));

    // A second loan of the key written into the book by hand, as a desk
    // that did not know of the first would: kept, and a conflict everywhere.
    let mut am = s.export(&book).with_actor(desk.actor.clone());
    append_like(&mut am, &["loans"], 0, &[("id", uuid::Uuid::new_v4().to_string().into())]);
    assert_eq!(desk.push(&book, &mut am).await, Outcome::Kept);
    eventually("the admin sees the key lent twice", LIMIT, || {
        s.admin.read(|st| st.conflicts().unwrap().iter().any(|c| c.kind == ConflictKind::KeyLentTwice))
    })
    .await
    .unwrap();
    s.keeps_syncing(&s.admin, "the admin").await;
}
