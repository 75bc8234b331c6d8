//! Announcements: who may send one, what a malformed one does (nothing),
//! who sees it as a banner, acknowledging it (once per device), and the
//! sender's "read by N of M".

use lodge_core::announcement::{Audience, Error, Kind, NewAnnouncement};
use lodge_core::{Actor, DepartmentId, DeviceId, Role};

use super::fixture::site;

fn notice(kind: Kind, audience: Audience, text: &str) -> NewAnnouncement {
    NewAnnouncement { kind, audience, title: "Fire drill".into(), text: text.into() }
}

fn key_desk() -> Actor {
    Actor { person: None, device: Some(DeviceId::new()), name: "Key desk".into(), role: Role::KeyDesk }
}

fn reception() -> Actor {
    Actor { person: None, device: Some(DeviceId::new()), name: "Reception left".into(), role: Role::Reception }
}

#[test]
fn only_reception_and_admin_send_announcements() {
    let mut s = site();
    for actor in [s.anna_staff(), s.jan_worker(), key_desk(), Actor::kiosk(DeviceId::new())] {
        let e = s.store.announce(&actor, notice(Kind::Announcement, Audience::Everyone, "Lunch at noon")).unwrap_err();
        assert!(matches!(e, Error::Denied(ref d) if d.role == actor.role), "{e:?}");
    }
    assert!(s.store.announcements_reach().unwrap().is_empty(), "a refusal sends nothing");
    s.store.announce(&reception(), notice(Kind::Announcement, Audience::Everyone, "Lunch at noon")).unwrap();
    let admin = s.admin.clone();
    s.store.announce(&admin, notice(Kind::Emergency, Audience::AllStaff, "Gas leak: leave by the east stairs")).unwrap();
    assert_eq!(s.store.announcements_reach().unwrap().len(), 2);
}

#[test]
fn a_malformed_announcement_is_refused_and_changes_nothing() {
    let mut s = site();
    let desk = reception();
    let documents = s.store.documents().unwrap().len();
    let e = s.store.announce(&desk, notice(Kind::Announcement, Audience::Everyone, "   ")).unwrap_err();
    assert!(matches!(e, Error::EmptyText), "{e:?}");
    let nowhere = DepartmentId::parse("kitchen").unwrap();
    let e = s.store.announce(&desk, notice(Kind::Announcement, Audience::Department { department: nowhere.clone() }, "Soup")).unwrap_err();
    assert!(matches!(e, Error::UnknownDepartment(ref d) if *d == nowhere), "{e:?}");
    let long = "x".repeat(lodge_core::announcement::MAX_TEXT_CHARS + 1);
    let e = s.store.announce(&desk, notice(Kind::Announcement, Audience::Everyone, &long)).unwrap_err();
    assert!(matches!(e, Error::TooLong { field: "text", .. }), "{e:?}");
    assert_eq!(s.store.documents().unwrap().len(), documents);
    assert!(s.store.announcements_reach().unwrap().is_empty());
}

#[test]
fn a_banner_shows_until_this_device_acknowledges_it_and_once_is_enough() {
    let mut s = site();
    let desk = reception();
    let a = s.store.announce(&desk, notice(Kind::Emergency, Audience::Everyone, "Fire alarm: leave the building")).unwrap();
    assert!(s.store.active_announcements(&desk).unwrap().is_empty(), "the sender is not asked to acknowledge its own");
    let anna = s.anna_staff();
    let active = s.store.active_announcements(&anna).unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].kind, Kind::Emergency);
    assert_eq!(active[0].text, "Fire alarm: leave the building");
    assert_eq!(active[0].sender_name, "Reception left");

    s.clock.advance(60_000);
    s.store.acknowledge(&anna, a).unwrap();
    assert!(s.store.active_announcements(&anna).unwrap().is_empty());
    let first = s.store.announcement_reach(a).unwrap().unwrap();
    s.clock.advance(60_000);
    s.store.acknowledge(&anna, a).unwrap();
    assert_eq!(s.store.announcement_reach(a).unwrap().unwrap(), first, "acknowledging twice records one read");
    assert_eq!(first.readers.len(), 1);
    assert_eq!(first.readers[0].name, "Anna Kowalska");
    assert_eq!(first.readers[0].person, Some(s.anna));
    // Another device still shows it.
    assert_eq!(s.store.active_announcements(&s.jan_worker()).unwrap().len(), 1);
    let e = s.store.acknowledge(&anna, lodge_core::AnnouncementId::new()).unwrap_err();
    assert!(matches!(e, Error::UnknownAnnouncement(_)), "{e:?}");
}

#[test]
fn each_device_sees_what_is_meant_for_it() {
    let mut s = site();
    let desk = reception();
    let eng = DepartmentId::parse("eng").unwrap();
    s.store.announce(&desk, notice(Kind::Emergency, Audience::Everyone, "Fire alarm")).unwrap();
    s.clock.advance(1000);
    s.store.announce(&desk, notice(Kind::Announcement, Audience::AllStaff, "Staff meeting at 3")).unwrap();
    s.clock.advance(1000);
    s.store.announce(&desk, notice(Kind::Announcement, Audience::Department { department: eng }, "Engineering: new badges")).unwrap();
    let texts = |s: &super::fixture::Site, a: &Actor| -> Vec<String> {
        s.store.active_announcements(a).unwrap().into_iter().map(|a| a.text).collect()
    };
    // Anna is in Engineering; Jan in no department.
    assert_eq!(texts(&s, &s.anna_staff()), ["Fire alarm", "Engineering: new badges", "Staff meeting at 3"]);
    assert_eq!(texts(&s, &s.jan_worker()), ["Fire alarm", "Staff meeting at 3"]);
    assert_eq!(texts(&s, &Actor::kiosk(DeviceId::new())), ["Fire alarm"], "the lobby shows only what is for everyone");
    assert_eq!(texts(&s, &key_desk()), ["Fire alarm", "Staff meeting at 3"]);
    assert_eq!(texts(&s, &s.admin).len(), 3, "the admin sees everything sent");
}

#[test]
fn the_sender_sees_who_read_it_out_of_its_audience() {
    let mut s = site();
    let desk = reception();
    let eng = DepartmentId::parse("eng").unwrap();
    let to_eng = s.store.announce(&desk, notice(Kind::Announcement, Audience::Department { department: eng.clone() }, "Badges")).unwrap();
    let to_all = s.store.announce(&desk, notice(Kind::Announcement, Audience::AllStaff, "Meeting")).unwrap();
    let before = s.store.announcement_reach(to_all).unwrap().unwrap();
    assert_eq!(before.people_read, 0);
    let staff = before.audience_size;
    assert!(staff >= 2, "Anna and Jan at least: {staff}");
    let eng_size = s.store.announcement_reach(to_eng).unwrap().unwrap().audience_size;
    assert_eq!(eng_size, 1, "only Anna is in Engineering");

    s.store.acknowledge(&s.anna_staff(), to_all).unwrap();
    s.store.acknowledge(&s.jan_worker(), to_all).unwrap();
    // A desk's read is listed by name but is nobody of the audience.
    s.store.acknowledge(&key_desk(), to_all).unwrap();
    let reach = s.store.announcement_reach(to_all).unwrap().unwrap();
    assert_eq!((reach.people_read, reach.audience_size), (2, staff));
    let names: Vec<&str> = reach.readers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), 3);
    assert!(names.contains(&"Anna Kowalska") && names.contains(&"Jan Nowak"), "{names:?}");

    // Jan is not in Engineering: his read does not count there.
    s.store.acknowledge(&s.jan_worker(), to_eng).unwrap();
    let reach = s.store.announcement_reach(to_eng).unwrap().unwrap();
    assert_eq!((reach.people_read, reach.audience_size, reach.readers.len()), (0, 1, 1));
    s.store.acknowledge(&s.anna_staff(), to_eng).unwrap();
    assert_eq!(s.store.announcement_reach(to_eng).unwrap().unwrap().people_read, 1);
}
