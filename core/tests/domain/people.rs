//! People and the directory.

use lodge_core::person::{Error, PersonForm};
use lodge_core::{Actor, CardUid, DepartmentId, Email, Role};

use super::fixture::{card, site};

#[test]
fn hosts_are_in_the_directory_with_name_and_department_only() {
    let s = site();
    let dir = s.store.directory("ann").unwrap();
    assert_eq!(dir.len(), 1);
    assert_eq!(dir[0].name, "Anna Kowalska");
    assert_eq!(dir[0].department.as_deref(), Some("eng"));
    // Jan does not host guests.
    assert!(s.store.directory("Jan").unwrap().is_empty());
}

#[test]
fn deactivating_removes_from_the_directory() {
    let mut s = site();
    let admin = s.admin.clone();
    s.store.deactivate_person(&admin, s.anna).unwrap();
    assert!(s.store.directory("").unwrap().is_empty());
    assert!(!s.store.person(s.anna).unwrap().unwrap().active);
}

#[test]
fn bad_people_are_refused() {
    let mut s = site();
    let admin = s.admin.clone();
    assert!(matches!(s.store.create_person(&admin, PersonForm::default()).unwrap_err(), Error::NoName));
    let form = |email: &str| PersonForm { name: "Eve".into(), email: Some(email.into()), ..Default::default() };
    assert!(matches!(s.store.create_person(&admin, form("not-an-email")).unwrap_err(), Error::Invalid(_)));
    assert_eq!(s.store.create_person(&admin, form("ANNA@lodge.test")).unwrap_err().to_string(), "anna@lodge.test already belongs to Anna Kowalska.");
    let err = s
        .store
        .create_person(&admin, PersonForm { name: "Eve".into(), department: Some(DepartmentId::parse("hr").unwrap()), ..Default::default() })
        .unwrap_err();
    assert!(matches!(err, Error::UnknownDepartment(_)));
    let err = s.store.create_person(&admin, PersonForm { name: "Eve".into(), badge_card: Some(card(705)), ..Default::default() }).unwrap_err();
    assert_eq!(err.to_string(), "Card 705 is already Anna Kowalska's badge.");
    // A guest card is handed out at reception; it is nobody's own badge.
    let err = s.store.create_person(&admin, PersonForm { name: "Eve".into(), badge_card: Some(card(150)), ..Default::default() }).unwrap_err();
    assert!(matches!(err, Error::CardForGuests { .. }), "{err:?}");
    assert_eq!(err.to_string(), "Card 150 is of the type “Guest”, which reception hands to guests. A person's own badge is a card of another type.");
    let err = s.store.create_person(&admin, PersonForm { name: "Eve".into(), phone: Some("call me".into()), ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("phone number"));
    assert_eq!(s.store.people("").unwrap().len(), 3);
}

#[test]
fn a_person_reads_back_with_their_roles_and_whether_guests_ask_for_them() {
    let mut s = site();
    let admin = s.admin.clone();
    let form = PersonForm { name: "Eve Lis".into(), roles: vec![Role::Worker, Role::KeyDesk], hosts_guests: false, ..Default::default() };
    let eve = s.store.create_person(&admin, form.clone()).unwrap();
    let read = s.store.person(eve).unwrap().unwrap();
    assert_eq!((read.roles.clone(), read.hosts_guests), (vec![Role::Worker, Role::KeyDesk], false));
    // Edited as the screen does: what was read, changed, written back.
    let edit = PersonForm { roles: vec![Role::Staff], hosts_guests: true, email: Some("eve@lodge.test".into()), ..form };
    s.store.update_person(&admin, eve, edit).unwrap();
    let read = s.store.person(eve).unwrap().unwrap();
    assert_eq!((read.roles, read.hosts_guests, read.email.map(|e| e.to_string())), (vec![Role::Staff], true, Some("eve@lodge.test".into())));
}

#[test]
fn people_change_their_own_contact_details_only() {
    let mut s = site();
    let me = s.anna_staff();
    s.store.update_contact(&me, s.anna, Some("anna.k@lodge.test".into()), Some("+48 600 100 200".into())).unwrap();
    let anna = s.store.person(s.anna).unwrap().unwrap();
    assert_eq!(anna.email, Some(Email::parse("anna.k@lodge.test").unwrap()));
    assert_eq!(anna.phone.as_deref(), Some("+48 600 100 200"));
    assert!(matches!(s.store.update_contact(&me, s.jan, None, None).unwrap_err(), Error::Denied(_)));
    let staff = Actor::person(s.anna, "Anna", Role::Staff);
    assert!(matches!(s.store.create_person(&staff, PersonForm { name: "X".into(), ..Default::default() }).unwrap_err(), Error::Denied(_)));
}

#[test]
fn a_badge_tap_finds_its_owner_and_email_finds_a_customer() {
    let mut s = site();
    let admin = s.admin.clone();
    let uid = CardUid::parse("A1B2C3D4").unwrap();
    s.store.register_card(&admin, card(705), uid.clone()).unwrap();
    assert_eq!(s.store.person_by_card_uid(&uid).unwrap().unwrap().id, s.anna);
    assert_eq!(s.store.person_by_email(&Email::parse("jan@lodge.test").unwrap()).unwrap().unwrap().id, s.jan);
    assert_eq!(s.store.people("wiś").unwrap().len(), 1);
}
