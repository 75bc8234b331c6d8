//! Roll calls: started from a desk with everyone in, marked by marshals,
//! ended as a report; and who may take part.

use lodge_core::person::PersonForm;
use lodge_core::roll_call::{Accountable, Error, Standing, StartRollCall};
use lodge_core::visit::{AdmitRequest, GuestForm};
use lodge_core::{Actor, DeviceId, Role};

use super::fixture::{HOUR, Site, card, site};

/// Anna and Jan signed in; one guest admitted with card 105.
fn busy_morning() -> (Site, lodge_core::VisitId) {
    let mut s = site();
    let (anna, jan) = (s.anna_staff(), s.jan_worker());
    s.store.sign_in(&anna, s.anna).unwrap();
    s.store.sign_in(&jan, s.jan).unwrap();
    let form = GuestForm {
        name: "Gosia Gość".into(),
        company: "Acme".into(),
        email: None,
        phone: None,
        host: Some(s.anna),
        purpose: None,
        consent: true,
        language: None,
    };
    let visit = s.store.register_guest(&Actor::kiosk(DeviceId::new()), form).unwrap();
    let desk = s.desk.clone();
    s.store.admit(&desk, AdmitRequest { visit, card: card(105), take_over: false }).unwrap();
    (s, visit)
}

fn make_marshal(s: &mut Site, person: lodge_core::PersonId) {
    let p = s.store.person(person).unwrap().unwrap();
    let form = PersonForm {
        name: p.name,
        email: p.email.map(|e| e.to_string()),
        roles: p.roles,
        marshal: true,
        ..Default::default()
    };
    let admin = s.admin.clone();
    s.store.update_person(&admin, person, form).unwrap();
}

#[test]
fn a_roll_call_lists_everyone_in_and_counts_who_is_accounted_for() {
    let (mut s, visit) = busy_morning();
    let desk = s.desk.clone();
    let id = s.store.start_roll_call(&desk, StartRollCall { emergency: Some("Fire alarm: leave by the east stairs".into()) }).unwrap();
    let call = s.store.running_roll_call().unwrap().unwrap();
    assert_eq!(call.summary.id, id);
    assert_eq!((call.summary.expected, call.summary.accounted()), (3, 0));
    let names: Vec<&str> = call.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Anna Kowalska", "Jan Nowak", "Gosia Gość"], "staff first, then guests");
    let guest = &call.entries[2];
    assert_eq!((guest.card, guest.host_name.as_deref(), guest.company.as_deref()), (Some(card(105)), Some("Anna Kowalska"), Some("Acme")));
    assert_eq!(call.entries[0].department.as_deref(), Some("Engineering"));
    // The emergency went out with it.
    let banners = s.store.active_announcements(&s.jan_worker()).unwrap();
    assert!(banners.iter().any(|a| a.text == "Fire alarm: leave by the east stairs"), "{banners:?}");

    s.clock.advance(60_000);
    s.store.mark_roll_call(&desk, id, Accountable::Guest { visit }, Standing::Safe).unwrap();
    s.store.mark_roll_call(&desk, id, Accountable::Staff { person: s.jan }, Standing::NotHere).unwrap();
    let call = s.store.roll_call(id).unwrap().unwrap();
    assert_eq!((call.summary.safe, call.summary.not_here, call.summary.accounted()), (1, 1, 2));
    assert_eq!(call.entries[0].name, "Anna Kowalska", "the missing stay on top");
    assert_eq!(call.entries[0].standing, Standing::Missing);
    let gosia = call.entries.iter().find(|e| e.name == "Gosia Gość").unwrap();
    assert_eq!((gosia.standing, gosia.marked_by.as_deref()), (Standing::Safe, Some("Anna Kowalska")));

    // A mark taken back: missing again.
    s.clock.advance(60_000);
    s.store.mark_roll_call(&desk, id, Accountable::Guest { visit }, Standing::Missing).unwrap();
    assert_eq!(s.store.roll_call(id).unwrap().unwrap().summary.accounted(), 1);
}

#[test]
fn an_ended_roll_call_is_a_report_that_no_longer_changes() {
    let (mut s, _) = busy_morning();
    let desk = s.desk.clone();
    let id = s.store.start_roll_call(&desk, StartRollCall::default()).unwrap();
    let refused = s.store.start_roll_call(&desk, StartRollCall::default()).unwrap_err();
    assert!(matches!(refused, Error::AlreadyRunning { roll_call, .. } if roll_call == id), "{refused:?}");
    s.store.mark_roll_call(&desk, id, Accountable::Staff { person: s.anna }, Standing::Safe).unwrap();
    s.clock.advance(HOUR / 4);
    s.store.end_roll_call(&desk, id).unwrap();
    assert!(s.store.running_roll_call().unwrap().is_none());
    let before = s.store.roll_call(id).unwrap().unwrap();
    let refused = s.store.mark_roll_call(&desk, id, Accountable::Staff { person: s.jan }, Standing::Safe).unwrap_err();
    assert!(matches!(refused, Error::Ended(_)), "{refused:?}");
    assert_eq!(s.store.roll_call(id).unwrap().unwrap(), before, "a refused mark changes nothing");
    let reports = s.store.roll_calls().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!((reports[0].safe, reports[0].expected, reports[0].ended_by.as_deref()), (1, 3, Some("Anna Kowalska")));
    // A new one may start now.
    s.store.start_roll_call(&desk, StartRollCall::default()).unwrap();
}

#[test]
fn only_marshals_phones_the_desk_and_the_admin_take_part() {
    let (mut s, _) = busy_morning();
    let desk = s.desk.clone();
    let id = s.store.start_roll_call(&desk, StartRollCall::default()).unwrap();
    let anna = s.anna_staff();
    let refused = s.store.mark_roll_call(&anna, id, Accountable::Staff { person: s.jan }, Standing::Safe).unwrap_err();
    assert!(matches!(refused, Error::NotMarshal), "{refused:?}");
    let kiosk = Actor::kiosk(DeviceId::new());
    assert!(matches!(s.store.mark_roll_call(&kiosk, id, Accountable::Staff { person: s.jan }, Standing::Safe), Err(Error::Denied(_))));
    let key_desk = s.key_desk.clone();
    assert!(matches!(s.store.start_roll_call(&key_desk, StartRollCall::default()), Err(Error::Denied(_))));
    let anna_id = s.anna;
    make_marshal(&mut s, anna_id);
    assert!(s.store.person(anna_id).unwrap().unwrap().marshal);
    s.store.mark_roll_call(&anna, id, Accountable::Staff { person: s.jan }, Standing::Safe).unwrap();
    // Someone not on the list is refused: they are not in the building.
    let ola = Accountable::Staff { person: s.ola };
    assert!(matches!(s.store.mark_roll_call(&anna, id, ola, Standing::Safe), Err(Error::NotOnList)));
    let admin = Actor { role: Role::Admin, ..s.admin.clone() };
    s.store.end_roll_call(&admin, id).unwrap();
}
