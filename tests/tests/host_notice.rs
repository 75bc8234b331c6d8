//! A host told in the app, against a real `lodge-sync`: when reception
//! admits a guest, the server writes a notice for the host's own phone,
//! which shows it as a banner; no other device gets it (a kiosk, a desk,
//! another person's phone), a host without a phone is a job ended with its
//! reason, and when the visit is erased by retention the notice leaves the
//! phone's files with it (read as they are, log included).

use std::path::Path;

use lodge_core::person::PersonForm;
use lodge_core::sync::api::{ADMIN_JOBS_RUN_PATH, RunRequest};
use lodge_core::visit::{AdmitRequest, GuestForm};
use lodge_core::{Actor, CardNumber, Clock, PersonId, Role, SystemClock, Timestamp, VisitId};
use lodge_tests::site::{LIMIT, TestSite, settled};
use lodge_tests::{Device, admin, eventually};

const DAY: i64 = 86_400_000;

fn desk(d: &Device) -> Actor {
    Actor { person: None, device: Some(d.id), name: "Reception".into(), role: Role::Reception }
}

fn register(kiosk: &Device, host: PersonId, name: &str) -> VisitId {
    let form = GuestForm { name: name.into(), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() };
    kiosk.act(|st| st.register_guest(&kiosk.kiosk(), form)).unwrap()
}

/// Whether `text` is in a store's file, its log or its shared memory.
fn in_files(path: &Path, text: &str) -> bool {
    ["", "-wal", "-shm"].iter().any(|suffix| {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        std::fs::read(&file).unwrap_or_default().windows(text.len()).any(|w| w == text.as_bytes())
    })
}

fn announcement_docs(d: &Device) -> usize {
    d.read(|st| st.documents().unwrap().iter().filter(|doc| doc.as_str().starts_with("announcement:")).count())
}

/// `lodge-sync jobs list` lines of the in-app rule.
fn in_app_jobs(s: &TestSite) -> Vec<String> {
    admin(&s.server.data, &["jobs", "list"]).unwrap().lines().filter(|l| l.contains("host-told-in-app")).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosts_phone_alone_is_told_its_guest_is_here_and_forgets_it_with_the_visit() {
    let s = TestSite::start().await;
    let founder = s.founder();
    let bob = s
        .admin
        .act(|st| st.create_person(&founder, PersonForm { name: "Bob Nophone".into(), hosts_guests: true, roles: vec![Role::Staff], ..Default::default() }))
        .unwrap();
    let ewa = s
        .admin
        .act(|st| st.create_person(&founder, PersonForm { name: "Ewa Lis".into(), roles: vec![Role::Staff], ..Default::default() }))
        .unwrap();
    settled(&s.admin).await;
    let phone = s.device("anna-phone", "staff", Some(s.host)).await;
    let other_phone = s.device("ewa-phone", "staff", Some(ewa)).await;
    let kiosk = s.device("kiosk", "kiosk", None).await;
    let reception = s.device("reception", "reception", None).await;
    eventually("the kiosk knows both hosts", LIMIT, || kiosk.read(|st| st.directory("").unwrap().iter().any(|p| p.id == bob))).await.unwrap();

    let jan = register(&kiosk, s.host, "Jan Guest");
    let olga = register(&kiosk, bob, "Olga Other");
    eventually("reception has both guests", LIMIT, || reception.read(|st| st.visit(jan).unwrap().is_some() && st.visit(olga).unwrap().is_some()))
        .await
        .unwrap();
    for (visit, card) in [(jan, 105), (olga, 106)] {
        reception.act(|st| st.admit(&desk(&reception), AdmitRequest { visit, card: CardNumber::new(card).unwrap(), take_over: false })).unwrap();
    }

    // Anna's phone shows it, in the site's words.
    let anna = Actor { person: Some(s.host), device: Some(phone.id), name: "Anna Kowalska".into(), role: Role::Staff };
    eventually("Anna's phone shows that her guest is here", LIMIT, || {
        phone.read(|st| {
            st.active_announcements(&anna)
                .unwrap()
                .iter()
                .any(|a| a.title == "Your guest is here" && a.text == "Jan Guest from Acme was let in at reception.")
        })
    })
    .await
    .unwrap();
    // Bob has no phone: his job ends with the reason, and Anna's is sent.
    eventually("Bob's in-app job ends", LIMIT, || in_app_jobs(&s).iter().any(|l| l.contains("cancelled") && l.contains("Bob Nophone has no phone enrolled")))
        .await
        .unwrap();
    let jobs = in_app_jobs(&s);
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert!(jobs.iter().any(|l| l.contains(" sent ")), "{jobs:?}");

    // Nobody else has it: not the kiosk, not reception, not another
    // person's phone; the admin has the document but no banner and no
    // line among the announcements sent from desks.
    settled(&reception).await;
    settled(&other_phone).await;
    assert_eq!(announcement_docs(&phone), 1);
    for (name, d) in [("the kiosk", &kiosk), ("reception", &reception), ("Ewa's phone", &other_phone)] {
        assert_eq!(announcement_docs(d), 0, "{name} has the notice");
        assert!(!in_files(&d.path, "was let in at reception"), "{name} has the notice's words");
    }
    eventually("the admin has the notice", LIMIT, || announcement_docs(&s.admin) == 1).await.unwrap();
    assert!(s.admin.read(|st| st.active_announcements(&founder).unwrap().is_empty()));
    assert!(s.admin.read(|st| st.announcements_reach().unwrap().is_empty()));

    // Anna has seen it: the banner goes, and the read reaches the server.
    phone.act(|st| {
        let id = st.active_announcements(&anna).unwrap()[0].id;
        st.acknowledge(&anna, id).unwrap();
    });
    settled(&phone).await;
    assert!(phone.read(|st| st.active_announcements(&anna).unwrap().is_empty()));

    // Jan leaves; forty days on, retention erases his visit, and with it
    // the notice from Anna's phone.
    reception.act(|st| st.release(&desk(&reception), jan)).unwrap();
    settled(&reception).await;
    assert!(in_files(&phone.path, "Jan Guest"));
    let later = Timestamp::from_millis(SystemClock.now().millis() + 40 * DAY);
    let http = reqwest::Client::new();
    let ran = http
        .post(format!("{}{ADMIN_JOBS_RUN_PATH}", s.server.http_url()))
        .bearer_auth(&s.admin.token)
        .json(&RunRequest { rule: lodge_core::notice::Rule::Retention, now: Some(later) })
        .send()
        .await
        .unwrap();
    assert!(ran.status().is_success(), "{}", ran.status());
    eventually("Anna's phone drops the notice with the visit", LIMIT, || !in_files(&phone.path, "Jan Guest")).await.unwrap();
    assert_eq!(announcement_docs(&phone), 0);
    eventually("the admin drops it too", LIMIT, || announcement_docs(&s.admin) == 0).await.unwrap();
    let server_store = s.server.data.join("sites").join(format!("{}.sqlite", s.site));
    eventually("the server's files drop it", LIMIT, || !in_files(&server_store, "Jan Guest")).await.unwrap();
    // Olga, still in the building, keeps hers on the server.
    assert!(in_files(&server_store, "Olga Other"));
}
