//! Retention against a real `lodge-sync`: a visit that ended past the
//! site's retention is erased from the server's store files and from every
//! device's — one online, one offline that reconnects afterwards — read as
//! they are (store, log, shared memory; nothing vacuumed); a visit inside
//! retention stays; the daily counts still count the erased one, on the
//! server and on the admins' devices; and the erasure report waits for the
//! offline desk's confirmation.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use lodge_core::sync::api::ErasureReport;
use lodge_core::sync::{AdminError, ApiErrorKind, ClientMessage, ServerMessage, admin as api};
use lodge_core::visit::{AdmitRequest, GuestForm};
use lodge_core::{Actor, CardNumber, Clock, DeviceId, ManualClock, PersonId, Role, SystemClock, Timestamp, VisitId};
use lodge_tests::site::{LIMIT, TestSite, settled};
use lodge_tests::{Device, admin, code, eventually};

const DAY: i64 = 86_400_000;

fn desk(d: &Device) -> Actor {
    Actor { person: None, device: Some(d.id), name: "Reception".into(), role: Role::Reception }
}

/// A guest who came, was admitted with card `n` and left, on `d`'s clock.
fn visit_that_left(d: &Device, host: PersonId, name: &str, n: u32) -> VisitId {
    let form = GuestForm {
        name: name.into(),
        company: "Acme".into(),
        email: None,
        phone: None,
        host: Some(host),
        purpose: Some("Meeting".into()),
        consent: true,
        language: None,
    };
    d.act(|st| {
        let visit = st.register_guest(&desk(d), form).unwrap();
        st.admit(&desk(d), AdmitRequest { visit, card: CardNumber::new(n).unwrap(), take_over: false }).unwrap();
        st.release(&desk(d), visit).unwrap();
        visit
    })
}

/// Whether `text` is in a store's file, its log or its shared memory, as
/// they are on disk.
fn in_files(path: &Path, text: &str) -> bool {
    ["", "-wal", "-shm"].iter().any(|suffix| {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        std::fs::read(&file).unwrap_or_default().windows(text.len()).any(|w| w == text.as_bytes())
    })
}

fn confirmed(report: &ErasureReport, device: DeviceId) -> Option<bool> {
    report.devices.iter().find(|d| d.device == device).map(|d| d.confirmed)
}

async fn latest(s: &TestSite) -> ErasureReport {
    api::retention_reports(&s.server.http_url(), &s.admin.token).await.unwrap().remove(0)
}

/// Wait until the latest report shows `device` confirmed.
async fn until_confirmed(s: &TestSite, device: DeviceId) {
    let start = std::time::Instant::now();
    while confirmed(&latest(s).await, device) != Some(true) {
        assert!(start.elapsed() < LIMIT, "{device} never confirmed: {:?}", latest(s).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_past_retention_leaves_every_file_and_the_report_waits_for_the_offline_desk() {
    let s = TestSite::start().await;
    assert_eq!(s.admin.read(|st| st.site_settings().unwrap().unwrap().retention_days), 30);
    // Desk A's clock stands 40 days back: the guest it lets in and out
    // left 40 days ago, past the site's 30 days.
    let forty_days_ago = Timestamp::from_millis(SystemClock.now().millis() - 40 * DAY);
    let c = code(&s.server.data, s.site, "reception", None).unwrap();
    let desk_a =
        Device::enrol_with_clock(&s.server.http_url(), &s.server.ws_url(), s.dir.path(), "desk-a", &c, Arc::new(ManualClock::new(forty_days_ago)))
            .await
            .unwrap();
    eventually("desk A has the site", LIMIT, || desk_a.read(|st| st.site_settings().unwrap().is_some())).await.unwrap();
    let mut desk_b = s.device("desk-b", "reception", None).await;
    eventually("desk A has the host", LIMIT, || desk_a.read(|st| st.person(s.host).unwrap().is_some())).await.unwrap();

    let old = visit_that_left(&desk_a, s.host, "Oldrich Pastdue", 101);
    let recent = visit_that_left(&desk_b, s.host, "Renata Recent", 102);
    settled(&desk_a).await;
    settled(&desk_b).await;
    for d in [&desk_a, &desk_b] {
        eventually("each desk has both visits", LIMIT, || d.read(|st| st.visit(old).unwrap().is_some() && st.visit(recent).unwrap().is_some())).await.unwrap();
    }
    let server_store = s.server.data.join("sites").join(format!("{}.sqlite", s.site));
    assert!(in_files(&server_store, "Oldrich"));

    // Two more admins, online at the sweep: on PostgreSQL one of them is
    // on the instance that does not sweep, which merges the deletions.
    let online_admins = [s.device("admin-2", "admin", None).await, s.device("admin-3", "admin", None).await];

    // Desk B goes offline; the sweep runs.
    desk_b.go_offline();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let report = api::run_retention(&s.server.http_url(), &s.admin.token).await.unwrap();
    assert_eq!((report.visits, report.presence_months), (1, 0), "{report:?}");
    assert!(report.feed_seq.is_some());
    assert!(confirmed(&report, desk_a.id).is_some() && confirmed(&report, desk_b.id).is_some(), "both desks were told: {report:?}");
    // Every instance lists it, under one number (on PostgreSQL the second
    // did not run the sweep).
    for url in s.server.http_urls() {
        let listed = api::retention_reports(&url, &s.admin.token).await.unwrap();
        assert_eq!(listed.first().map(|r| (r.id, r.visits)), Some((report.id, 1)), "{url}: {listed:?}");
    }

    // Gone from the server's files and from the online desk's, at once.
    eventually("the server's files drop the guest", LIMIT, || !in_files(&server_store, "Oldrich")).await.unwrap();
    eventually("desk A's files drop the guest", LIMIT, || !in_files(&desk_a.path, "Oldrich")).await.unwrap();
    eventually("the admin's files drop the guest", LIMIT, || !in_files(&s.admin.path, "Oldrich")).await.unwrap();
    assert!(desk_a.read(|st| st.visit(old).unwrap().is_none()));
    assert!(in_files(&desk_b.path, "Oldrich"), "the offline desk has not heard yet");
    // The visit inside retention stays everywhere.
    assert!(in_files(&server_store, "Renata") && desk_a.read(|st| st.visit(recent).unwrap().is_some()));

    // Confirmed by the online desk, not by the offline one.
    until_confirmed(&s, desk_a.id).await;
    assert_eq!(confirmed(&latest(&s).await, desk_b.id), Some(false));

    // The daily counts still count the erased visit, on its day.
    let day = forty_days_ago.to_utc().format("%Y-%m-%d").to_string();
    let site = s.site.to_string();
    let counts = admin(&s.server.data, &["retention", "counts", "--site", &site]).unwrap();
    assert!(counts.lines().any(|l| l.starts_with(&day) && l.contains("visits-registered") && l.trim_end().ends_with(" 1")), "{counts}");
    assert!(counts.lines().any(|l| l.starts_with(&day) && l.contains("visits-admitted") && l.trim_end().ends_with(" 1")), "{counts}");
    assert!(!counts.contains("Oldrich"));

    // The statistics report, from the server's copy of the site, still
    // counts both guests; the visits report names only the one kept.
    let (from, today) = (Timestamp::from_millis(forty_days_ago.millis() - DAY).to_utc().format("%Y-%m-%d").to_string(), SystemClock.now().to_utc().format("%Y-%m-%d").to_string());
    let period = ["--site", site.as_str(), "--from", from.as_str(), "--to", today.as_str()];
    let stats = admin(&s.server.data, &[&["report", "stats"][..], &period, &["--format", "csv"]].concat()).unwrap();
    let mut rows = csv::Reader::from_reader(stats.as_bytes());
    let registered: u64 = rows.records().map(|r| r.unwrap()[1].parse::<u64>().unwrap()).sum();
    assert_eq!(registered, 2, "{stats}");
    let json: serde_json::Value = serde_json::from_str(&admin(&s.server.data, &[&["report", "stats"][..], &period].concat()).unwrap()).unwrap();
    assert_eq!(json["days"].as_array().map(Vec::len), Some(42), "{json}");
    let visits = admin(&s.server.data, &[&["report", "visits"][..], &period, &["--format", "json"]].concat()).unwrap();
    assert!(visits.contains("Renata Recent") && !visits.contains("Oldrich"), "{visits}");
    let visits = admin(&s.server.data, &[&["report", "visits"][..], &period, &["--format", "csv"]].concat()).unwrap();
    assert!(visits.contains("Renata Recent") && !visits.contains("Oldrich"), "{visits}");
    // The admin's own dashboard counts the erased guest too: the server
    // sends its counts to the admins online at the sweep, and to an admin
    // device when it connects. A desk shows no statistics and is not sent
    // them.
    let registered_on = |d: &Device| d.read(|st| st.statistics(&from, &today).unwrap().days.iter().map(|f| f.visits_registered).sum::<u64>());
    for a in [&s.admin, &online_admins[0], &online_admins[1]] {
        eventually("each admin's statistics count the erased guest", LIMIT, || registered_on(a) == 2).await.unwrap();
        assert!(a.read(|st| st.visit(old).unwrap().is_none() && st.kept_counts().unwrap().iter().all(|c| c.count == 1)));
    }
    let late_admin = s.device("admin-4", "admin", None).await;
    eventually("an admin device enrolled after the sweep counts the erased guest", LIMIT, || registered_on(&late_admin) == 2).await.unwrap();
    assert_eq!(registered_on(&desk_a), 1, "a desk keeps no counts");
    assert!(desk_a.read(|st| st.kept_counts().unwrap().is_empty()));
    let bad = admin(&s.server.data, &["report", "stats", "--site", &site, "--from", "2026-13-01", "--to", &today]).unwrap_err().to_string();
    assert!(bad.contains("“2026-13-01” is not a day"), "{bad}");
    let backwards = admin(&s.server.data, &["report", "visits", "--site", &site, "--from", &today, "--to", &from]).unwrap_err().to_string();
    assert!(backwards.contains("ends before it starts"), "{backwards}");

    // Desk B comes back: its catch-up erases the guest, and it confirms.
    desk_b.go_online(&s.server);
    eventually("desk B's files drop the guest", LIMIT, || !in_files(&desk_b.path, "Oldrich")).await.unwrap();
    assert!(desk_b.read(|st| st.visit(old).unwrap().is_none() && st.visit(recent).unwrap().is_some()));
    until_confirmed(&s, desk_b.id).await;
    let report = latest(&s).await;
    assert!(report.devices.iter().all(|d| d.confirmed), "{report:?}");
    let printed = admin(&s.server.data, &["retention", "report", "--site", &site]).unwrap();
    assert!(printed.contains("visits 1") && printed.contains("desk-a") && printed.contains("desk-b"), "{printed}");
    assert!(!printed.contains("waiting"), "{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_admin_device_runs_retention_or_reads_its_reports() {
    let s = TestSite::start().await;
    let desk = s.device("desk", "reception", None).await;
    for refused in [api::run_retention(&s.server.http_url(), &desk.token).await.map(|_| ()), api::retention_reports(&s.server.http_url(), &desk.token).await.map(|_| ())] {
        match refused {
            Err(AdminError::Refused { kind: ApiErrorKind::Forbidden, message }) => {
                assert!(message.contains("A reception device cannot do this"), "{message}");
            }
            other => panic!("a reception device ran retention: {other:?}"),
        }
    }
    // Every sweep so far is a night's run (the server's clock is past
    // 03:00 at start): one report per `retention` job, none from the desk.
    // Reports are read first, so a run starting meanwhile has its job.
    let reports = api::retention_reports(&s.server.http_url(), &s.admin.token).await.unwrap().len();
    let runs = admin(&s.server.data, &["jobs", "list"]).unwrap().lines().filter(|l| l.split_whitespace().nth(2) == Some("retention")).count();
    assert!(reports <= runs, "the desk ran a sweep: {reports} reports, {runs} nightly runs");
}

/// The frames a hand-made hello with `token` gets until its catch-up ends
/// (the empty sync frame at the welcome's feed number).
async fn catch_up_frames(s: &TestSite, token: &str, kept_counts: bool) -> Vec<ServerMessage> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (mut ws, _) = tokio_tungstenite::connect_async(s.server.ws_url()).await.unwrap();
    let hello = ClientMessage::Hello { token: token.to_owned(), since: 0, pending: vec![], app: None, kept_counts };
    ws.send(Message::Binary(hello.encode().into())).await.unwrap();
    let mut frames = Vec::new();
    let mut welcomed = None;
    loop {
        let next = tokio::time::timeout(LIMIT, ws.next()).await.expect("the catch-up ends in time");
        let Some(Ok(Message::Binary(bytes))) = next else { continue };
        let frame = ServerMessage::decode(&bytes).unwrap();
        match &frame {
            ServerMessage::Welcome { seq, .. } => welcomed = Some(*seq),
            ServerMessage::Sync { docs, seq } if docs.is_empty() && Some(*seq) == welcomed => return frames,
            ServerMessage::Error { .. } => panic!("refused: {frame:?}"),
            _ => {}
        }
        frames.push(frame);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_counts_go_only_to_admin_apps_that_say_they_keep_them() {
    let s = TestSite::start().await;
    let desk = s.device("desk", "reception", None).await;
    // Hand-made hellos under the devices' own tokens, their apps offline.
    s.admin.go_offline();
    desk.go_offline();
    let kept = |frames: &[ServerMessage]| frames.iter().filter(|f| matches!(f, ServerMessage::KeptCounts { .. })).count();
    // An older admin app could not read the frame: it is never sent it.
    assert_eq!(kept(&catch_up_frames(&s, &s.admin.token, false).await), 0);
    assert_eq!(kept(&catch_up_frames(&s, &s.admin.token, true).await), 1);
    assert_eq!(kept(&catch_up_frames(&s, &desk.token, true).await), 0, "a desk shows no statistics");
}
