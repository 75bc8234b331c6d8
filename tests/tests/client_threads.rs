//! The sync client's store work runs on the blocking pool, never on the
//! runtime's threads (issue 12, item 7): one device's store held by
//! someone else (a command, a long catch-up) must not hold up the other
//! clients on the same runtime.

use std::sync::mpsc;
use std::time::Duration;

use lodge_core::visit::GuestForm;
use lodge_core::{Actor, Role};
use lodge_tests::site::{LIMIT, TestSite};
use lodge_tests::{Device, eventually};

/// How long the holder keeps A's store at most.
const HOLD: Duration = Duration::from_secs(5);

fn desk(d: &Device) -> Actor {
    Actor { person: None, device: Some(d.id), name: "Reception".into(), role: Role::Reception }
}

// One worker thread: with store work on it, A's client waiting for its
// store would stop every other task, C's client and this test included.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_store_held_elsewhere_holds_up_only_its_own_client() {
    let s = TestSite::start().await;
    let a = s.device("desk-a", "reception", None).await;
    let b = s.device("desk-b", "reception", None).await;
    let c = s.device("desk-c", "reception", None).await;
    for d in [&a, &b, &c] {
        eventually("the desks are online", LIMIT, || d.sync.status().connection == lodge_core::sync::Connection::Online).await.unwrap();
    }
    let received_before = a.sync.traffic().1;

    // Another thread holds A's store until told, or for 5 s.
    let (held_tx, held_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let store = a.store.clone();
    let holder = std::thread::spawn(move || {
        let guard = store.lock().unwrap();
        held_tx.send(()).unwrap();
        let told = release_rx.recv_timeout(HOLD).is_ok();
        drop(guard);
        told
    });
    held_rx.await.unwrap();

    // B's new guest goes to A and C.
    let host = s.host;
    let visit = b
        .act(|st| st.register_guest(&desk(&b), GuestForm { name: "Jan Guest".into(), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() }))
        .unwrap();
    eventually("A's client gets the change (and waits for its store)", LIMIT, || a.sync.traffic().1 > received_before).await.unwrap();
    eventually("C has the guest", LIMIT, || c.read(|st| st.visit(visit).unwrap().is_some())).await.unwrap();
    let _ = release_tx.send(());
    let told = tokio::task::spawn_blocking(move || holder.join().unwrap()).await.unwrap();
    assert!(told, "C got the change only once A's store was let go after {HOLD:?}: A's client blocked the runtime");

    // And A's client goes on once its store is free.
    eventually("A has the guest", LIMIT, || a.read(|st| st.visit(visit).unwrap().is_some())).await.unwrap();
}
