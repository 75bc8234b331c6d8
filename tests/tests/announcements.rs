//! Issue #14's proof, against a real `lodge-sync`: an emergency sent while
//! a phone is offline reaches it as soon as it reconnects, the lobby kiosk
//! gets it too, and the sender's desk sees it read once the phone says
//! "I have seen this".

use lodge_core::announcement::{Audience, Kind, NewAnnouncement};
use lodge_core::{Actor, Role};
use lodge_tests::eventually;
use lodge_tests::site::{LIMIT, TestSite, settled};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_reaches_an_offline_phone_when_it_reconnects_and_the_desk_sees_it_read() {
    let s = TestSite::start().await;
    let desk = s.device("front-desk", "reception", None).await;
    let kiosk = s.device("lobby", "kiosk", None).await;
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
    settled(&phone).await;
}
