//! Staff sign in and out.

use lodge_core::presence::Error;
use lodge_core::{Actor, PersonId, Role};

use super::fixture::{HOUR, site};

#[test]
fn sign_in_then_out_shows_in_who_is_in_and_history() {
    let mut s = site();
    let me = s.anna_staff();
    let at = s.store.sign_in(&me, s.anna).unwrap();
    assert_eq!(s.store.signed_in_since(s.anna).unwrap(), Some(at));
    let list = s.store.evacuation_list().unwrap();
    assert_eq!(list.people.len(), 1);
    assert_eq!(list.people[0].name, "Anna Kowalska");
    // The evacuation list names the department, not its id.
    assert_eq!(list.people[0].department.as_deref(), Some("Engineering"));
    s.clock.advance(8 * HOUR);
    let receipt = s.store.sign_out(&me, s.anna).unwrap();
    assert!(!receipt.still_holding.holds_things());
    assert!(s.store.people_in().unwrap().is_empty());
    let history = s.store.presence_history(s.anna, at).unwrap();
    assert_eq!(history.len(), 2);
    assert!(!history[0].signed_in && history[1].signed_in);
}

#[test]
fn signing_in_twice_or_out_when_out_is_refused() {
    let mut s = site();
    let me = s.anna_staff();
    assert!(matches!(s.store.sign_out(&me, s.anna).unwrap_err(), Error::NotIn(_)));
    s.store.sign_in(&me, s.anna).unwrap();
    let err = s.store.sign_in(&me, s.anna).unwrap_err();
    assert!(err.to_string().starts_with("Anna Kowalska is already signed in since"), "{err}");
}

#[test]
fn staff_sign_only_themselves_and_reception_signs_anyone() {
    let mut s = site();
    let me = s.anna_staff();
    assert!(matches!(s.store.sign_in(&me, s.jan).unwrap_err(), Error::Denied(_)));
    let desk = s.desk.clone();
    s.store.sign_in(&desk, s.jan).unwrap();
    assert_eq!(s.store.people_in().unwrap().len(), 1);
}

#[test]
fn unknown_and_inactive_people_cannot_sign_in() {
    let mut s = site();
    let desk = s.desk.clone();
    assert!(matches!(s.store.sign_in(&desk, PersonId::new()).unwrap_err(), Error::UnknownPerson(_)));
    let admin = s.admin.clone();
    s.store.deactivate_person(&admin, s.ola).unwrap();
    assert!(matches!(s.store.sign_in(&desk, s.ola).unwrap_err(), Error::Inactive(_)));
}

#[test]
fn sign_out_lists_what_the_person_still_holds() {
    let mut s = site();
    let jan = s.jan_worker();
    s.store.sign_in(&jan, s.jan).unwrap();
    s.store.activate_equipment(&jan, "LODGE-D7").unwrap();
    let kd = s.key_desk.clone();
    s.store
        .checkout_key(&kd, lodge_core::key_loan::CheckoutRequest { key: s.m1, customer: lodge_core::Email::parse("jan@lodge.test").unwrap(), due_at: None })
        .unwrap();
    let receipt = s.store.sign_out(&jan, s.jan).unwrap();
    assert!(receipt.still_holding.holds_things());
    assert_eq!(receipt.still_holding.describe(), "key M-1 and drill D-7");
}

#[test]
fn sign_out_everyone_empties_the_building() {
    let mut s = site();
    let desk = s.desk.clone();
    for p in [s.anna, s.jan, s.ola] {
        s.store.sign_in(&desk, p).unwrap();
    }
    assert_eq!(s.store.people_in().unwrap().len(), 3);
    let me = s.anna_staff();
    assert!(matches!(s.store.sign_out_everyone(&me).unwrap_err(), Error::Denied(_)));
    assert_eq!(s.store.sign_out_everyone(&desk).unwrap(), 3);
    assert!(s.store.people_in().unwrap().is_empty());
}

#[test]
fn a_stay_across_midnight_at_month_end_is_one_stay() {
    let mut s = site();
    // 2026-11-30 22:00 UTC, signed out 2026-12-01 02:00 UTC.
    s.clock.set(lodge_core::Timestamp::from_millis(1_796_076_000_000));
    let me = s.anna_staff();
    s.store.sign_in(&me, s.anna).unwrap();
    s.clock.advance(4 * HOUR);
    assert_eq!(s.store.people_in().unwrap().len(), 1);
    s.store.sign_out(&me, s.anna).unwrap();
    assert!(s.store.people_in().unwrap().is_empty());
    let docs = s.store.documents().unwrap();
    assert!(docs.iter().any(|d| d.as_str().ends_with(":2026-11")));
    assert!(docs.iter().any(|d| d.as_str().ends_with(":2026-12")));
}

#[test]
fn a_kiosk_cannot_sign_people_in() {
    let mut s = site();
    let k = Actor::kiosk(lodge_core::DeviceId::new());
    assert!(matches!(s.store.sign_in(&k, s.anna).unwrap_err(), Error::Denied(_)));
    let _ = Role::Kiosk;
}
