//! `lodge-sync backup` while the server runs, and `restore` into a new
//! server on another disk that the same devices then sync with: nothing
//! from before the backup is lost, and a device that had heard of feed
//! numbers past the backup's misses nothing numbered after the restore. A
//! restore into a directory in use, or from a file that is not a backup,
//! is refused and changes nothing.

use lodge_core::visit::{AdmitRequest, GuestForm};
use lodge_core::{Actor, CardNumber, Role};
use lodge_tests::site::{LIMIT, TestSite, settled};
use lodge_tests::{Device, Server, admin, code, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_into_a_new_server_that_the_devices_sync_with() {
    let mut s = TestSite::start().await;
    let kiosk = s.device("kiosk", "kiosk", None).await;
    let desk = s.device("desk", "reception", None).await;
    let at_desk = Actor { person: None, device: Some(desk.id), name: "Reception".into(), role: Role::Reception };
    let form = GuestForm { name: "Marta Wiśniewska".into(), company: "Acme".into(), host: Some(s.host), consent: true, ..Default::default() };
    let visit = kiosk.act(|st| st.register_guest(&kiosk.kiosk(), form)).unwrap();
    eventually("the desk has the guest", LIMIT, || desk.read(|st| st.visit(visit).unwrap().is_some())).await.unwrap();
    desk.act(|st| st.admit(&at_desk, AdmitRequest { visit, card: CardNumber::new(105).unwrap(), take_over: false })).unwrap();
    settled(&desk).await;

    // The backup, while the server serves.
    let archive = s.dir.path().join("lodge-backup.tar");
    let printed = admin(&s.server.data, &["backup", "--to", &archive.display().to_string()]).unwrap();
    assert!(printed.starts_with("backed up 2 databases"), "{printed}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&archive).unwrap().permissions().mode() & 0o777, 0o600, "for the server's owner only");

    // After it, the desk lets the guest out, and another guest registers at
    // the kiosk: changes the backup lacks, numbered past it in the feed.
    desk.act(|st| st.release(&at_desk, visit)).unwrap();
    settled(&desk).await;
    let late = kiosk.act(|st| st.register_guest(&kiosk.kiosk(), GuestForm { name: "Olga Late".into(), company: "Acme".into(), host: Some(s.host), consent: true, ..Default::default() })).unwrap();
    eventually("the desk sees the late guest", LIMIT, || desk.read(|st| st.visit(late).unwrap().is_some())).await.unwrap();

    // The server's disk is lost. A new one, from the backup, on the same address.
    let port = s.server.port();
    s.server.kill();
    let restored = s.dir.path().join("restored");
    let bad = s.dir.path().join("not-a-backup.tar");
    std::fs::write(&bad, b"hello").unwrap();
    assert!(admin(&restored, &["restore", "--from", &bad.display().to_string()]).unwrap_err().to_string().contains("is not a Lodge backup"));
    assert!(!restored.exists() || std::fs::read_dir(&restored).unwrap().next().is_none(), "a refused restore leaves nothing");
    let printed = admin(&restored, &["restore", "--from", &archive.display().to_string()]).unwrap();
    assert!(printed.starts_with("restored 2 databases"), "{printed}");
    let again = admin(&restored, &["restore", "--from", &archive.display().to_string()]).unwrap_err().to_string();
    assert!(again.contains("is not empty"), "{again}");
    let server = Server::start(&restored, port).unwrap();

    // The desk reconnects with its old token (after its backoff: the
    // server was away a while).
    eventually("the desk back online with the restored server", std::time::Duration::from_secs(90), || {
        desk.sync.status().connection == lodge_core::sync::Connection::Online
    })
    .await
    .unwrap();
    // A new device gets everything of before the backup.
    let c = code(&restored, s.site, "admin", None).unwrap();
    let office = Device::enrol(&server, s.dir.path(), "office", &c).await.unwrap();
    eventually("the new admin device has the guest", LIMIT, || office.read(|st| st.visit(visit).unwrap().is_some())).await.unwrap();
    assert_eq!(office.read(|st| st.person(s.host).unwrap().map(|p| p.name)), Some("Anna Kowalska".into()), "the site's people came back");
    // The desk is away while the kiosk registers the next guest with the
    // restored server; back, it catches up on it. The desk had heard of
    // feed numbers past the backup's (the late guest's): had the restore
    // not moved the feed past them, the new guest's number would be below
    // the desk's and it would never ask for it.
    let mut desk = desk;
    desk.go_offline();
    let next = kiosk.act(|st| st.register_guest(&kiosk.kiosk(), GuestForm { name: "Tom Becker".into(), company: "Northwind".into(), host: Some(s.host), consent: true, ..Default::default() })).unwrap();
    settled(&kiosk).await;
    desk.go_online(&server);
    eventually("the desk, back, sees the next guest", LIMIT, || desk.read(|st| st.visit(next).unwrap().is_some())).await.unwrap();
    drop(server);
}
