//! Issue #14's proof, against a real `lodge-sync`: an emergency sent while
//! a phone is offline reaches it as soon as it reconnects, the lobby kiosk
//! gets it too (but never what is only for staff), and the sender's desk
//! sees it read once the phone says "I have seen this".

use lodge_core::announcement::{Audience, Kind, NewAnnouncement};
use lodge_core::{Actor, Role};
use lodge_tests::eventually;
use lodge_tests::site::{LIMIT, TestSite, settled};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_reaches_an_offline_phone_when_it_reconnects_and_the_desk_sees_it_read() {
    let s = TestSite::start().await;
    let desk = s.device("front-desk", "reception", None).await;
    let mut kiosk = s.device("lobby", "kiosk", None).await;
    let mut phone = s.device("anna-phone", "staff", Some(s.host)).await;
    let reception = Actor { person: None, device: Some(desk.id), name: "Front desk".into(), role: Role::Reception };
    let anna = Actor { person: Some(s.host), device: Some(phone.id), name: "Anna Kowalska".into(), role: Role::Staff };
    let lobby = Actor::kiosk(kiosk.id);

    phone.go_offline();
    let emergency = NewAnnouncement {
        kind: Kind::Emergency,
        audience: Audience::Everyone,
        title: "Fire alarm".into(),
        text: "Leave the building by the nearest exit.".into(),
    };
    let id = desk.act(|st| st.announce(&reception, emergency)).unwrap();
    settled(&desk).await;
    // Online devices get it at once; the lobby tablet shows it too.
    eventually("the kiosk shows the emergency", LIMIT, || kiosk.read(|st| st.active_announcements(&lobby).unwrap().iter().any(|a| a.id == id)))
        .await
        .unwrap();
    assert!(phone.read(|st| st.active_announcements(&anna).unwrap().is_empty()), "the phone is offline");

    phone.go_online(&s.server);
    eventually("the phone shows the emergency once it reconnects", LIMIT, || {
        phone.read(|st| st.active_announcements(&anna).unwrap().iter().any(|a| a.id == id && a.kind == Kind::Emergency))
    })
    .await
    .unwrap();
    let reach = desk.read(|st| st.announcement_reach(id).unwrap().unwrap());
    assert_eq!(reach.people_read, 0);
    assert!(reach.readers.is_empty());

    phone.act(|st| st.acknowledge(&anna, id)).unwrap();
    assert!(phone.read(|st| st.active_announcements(&anna).unwrap().is_empty()), "acknowledged, the banner goes");
    eventually("the desk sees Anna has read it", LIMIT, || desk.read(|st| st.announcement_reach(id).unwrap().unwrap().people_read == 1))
        .await
        .unwrap();
    let reach = desk.read(|st| st.announcement_reach(id).unwrap().unwrap());
    assert_eq!(reach.readers.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["Anna Kowalska"]);
    assert_eq!(reach.readers[0].device, Some(phone.id));
    // Still on the kiosk, which has not acknowledged it.
    assert!(kiosk.read(|st| st.active_announcements(&lobby).unwrap().iter().any(|a| a.id == id)));

    // What is only for staff reaches the phone and never the lobby tablet.
    let staff_only = NewAnnouncement { kind: Kind::Announcement, audience: Audience::AllStaff, title: String::new(), text: "Staff meeting at 15:00.".into() };
    let meeting = desk.act(|st| st.announce(&reception, staff_only)).unwrap();
    settled(&desk).await;
    eventually("the phone shows the staff meeting", LIMIT, || phone.read(|st| st.active_announcements(&anna).unwrap().iter().any(|a| a.id == meeting)))
        .await
        .unwrap();
    // The kiosk's copy of the emergency is its only announcement document.
    let kiosk_docs = |k: &lodge_tests::Device| k.read(|st| st.documents().unwrap().into_iter().filter(|d| d.kind() == lodge_core::DocKind::Announcement).collect::<Vec<_>>());
    assert_eq!(kiosk_docs(&kiosk), [lodge_core::DocId::announcement(id)]);
    // Nor after a reconnect's catch-up.
    kiosk.go_offline();
    kiosk.go_online(&s.server);
    eventually("the kiosk reconnects", LIMIT, || kiosk.sync.status().connection == lodge_core::sync::Connection::Online).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(kiosk_docs(&kiosk), [lodge_core::DocId::announcement(id)]);
    settled(&phone).await;
}
