//! Expected guests: a host or the desk expects a guest on a day; the code
//! of the invitation fills the kiosk's form on that day only; the desk
//! marks an arrival or admits at once; nobody else's guests for a host.

use lodge_core::visit::{AdmitRequest, Error, ExpectedGuest, GuestForm, VisitState};
use lodge_core::{Actor, DeviceId};

use super::fixture::{HOUR, Site, card, site};

fn today(s: &Site) -> String {
    s.store.now().to_utc().with_timezone(&chrono_tz::Europe::Warsaw).format("%Y-%m-%d").to_string()
}

fn expected(s: &Site, name: &str, day: &str) -> ExpectedGuest {
    ExpectedGuest { name: name.into(), company: "Acme".into(), email: Some("marta@acme.test".into()), host: Some(s.anna), day: day.into(), purpose: None }
}

fn kiosk() -> Actor {
    Actor::kiosk(DeviceId::new())
}

#[test]
fn an_expected_guest_is_apart_from_the_queue_until_their_code_checks_them_in_at_the_kiosk() {
    let mut s = site();
    let day = today(&s);
    let anna = s.anna_staff();
    let invitation = s.store.expect_guest(&anna, expected(&s, "Marta Wiśniewska", &day)).unwrap();
    assert_eq!(invitation.code.len(), 9);
    let visit = s.store.visit(invitation.visit).unwrap().unwrap();
    assert_eq!((visit.state, visit.expected_on.as_deref(), visit.invitation.as_deref()), (VisitState::Expected, Some(day.as_str()), Some(invitation.code.as_str())));
    assert!(s.store.waiting_guests().unwrap().is_empty(), "not in the queue before coming");
    assert_eq!(s.store.expected_today().unwrap().iter().map(|v| v.guest_name.as_str()).collect::<Vec<_>>(), ["Marta Wiśniewska"]);

    // At the kiosk, her code (however typed) names her and nobody else.
    s.clock.advance(2 * HOUR);
    let invited = s.store.invited_guest(&invitation.code.to_lowercase().replace('-', " ")).unwrap();
    assert_eq!((invited.name.as_str(), invited.host), ("Marta Wiśniewska", s.anna));
    assert!(matches!(s.store.invited_guest("AAAA-AAAA").unwrap_err(), Error::UnknownInvitation));
    // She corrects her company, reads the consent in Polish and agrees.
    let admin = s.admin.clone();
    s.store.set_consent_text(&admin, "pl", "Przechowujemy Twoje imię przez 30 dni.").unwrap();
    let form = GuestForm { name: invited.name, company: "Acme Polska".into(), email: invited.email, consent: false, language: Some("pl".into()), ..Default::default() };
    let refused = s.store.arrive_with_invitation(&kiosk(), &invitation.code, form.clone()).unwrap_err();
    assert!(matches!(refused, Error::InvalidForm(_)), "no consent, no arrival: {refused:?}");
    assert_eq!(s.store.visit(invitation.visit).unwrap().unwrap().state, VisitState::Expected);
    s.store.arrive_with_invitation(&kiosk(), &invitation.code, GuestForm { consent: true, ..form }).unwrap();

    let visit = s.store.visit(invitation.visit).unwrap().unwrap();
    assert_eq!((visit.state, visit.company.as_str()), (VisitState::Waiting, "Acme Polska"));
    assert_eq!(visit.registered_at, s.store.now(), "in the queue from when she came");
    assert_eq!(s.store.waiting_guests().unwrap().len(), 1);
    assert!(s.store.expected_today().unwrap().is_empty());
    // The code is spent.
    assert!(matches!(s.store.invited_guest(&invitation.code).unwrap_err(), Error::UnknownInvitation));
    let history = s.store.change_history(&lodge_core::DocId::visit(invitation.visit)).unwrap();
    assert!(history.iter().any(|c| c.command == "expect_guest" && c.by == "Anna Kowalska"), "{history:?}");
    assert!(history.iter().any(|c| c.command == "arrive_with_invitation"), "{history:?}");
}

#[test]
fn a_code_works_on_its_day_only() {
    let mut s = site();
    let tomorrow = (chrono::NaiveDate::parse_from_str(&today(&s), "%Y-%m-%d").unwrap() + chrono::Days::new(1)).format("%Y-%m-%d").to_string();
    let desk = s.desk.clone();
    let invitation = s.store.expect_guest(&desk, expected(&s, "Tom Becker", &tomorrow)).unwrap();
    assert!(matches!(s.store.invited_guest(&invitation.code).unwrap_err(), Error::UnknownInvitation), "not today");
    assert!(s.store.expected_today().unwrap().is_empty());
    s.clock.advance(24 * HOUR);
    assert_eq!(s.store.invited_guest(&invitation.code).unwrap().name, "Tom Becker");
    s.clock.advance(24 * HOUR);
    assert!(matches!(s.store.invited_guest(&invitation.code).unwrap_err(), Error::UnknownInvitation), "the day after");
}

#[test]
fn the_desk_marks_an_arrival_or_admits_an_expected_guest_at_once() {
    let mut s = site();
    let day = today(&s);
    let desk = s.desk.clone();
    let first = s.store.expect_guest(&desk, expected(&s, "Marta Wiśniewska", &day)).unwrap();
    let second = s.store.expect_guest(&desk, expected(&s, "Tom Becker", &day)).unwrap();
    s.store.guest_arrived(&desk, first.visit).unwrap();
    assert_eq!(s.store.visit(first.visit).unwrap().unwrap().state, VisitState::Waiting);
    assert!(matches!(s.store.guest_arrived(&desk, first.visit).unwrap_err(), Error::NotExpected { .. }));
    // Tom is admitted straight from "expected": arrived and in, with the site's consent kept.
    s.store.admit(&desk, AdmitRequest { visit: second.visit, card: card(105), take_over: false }).unwrap();
    assert!(matches!(s.store.visit(second.visit).unwrap().unwrap().state, VisitState::Admitted { .. }));
    assert!(matches!(s.store.guest_badge(second.visit), Ok(b) if b.card == 105));
    // A kiosk may not mark arrivals without the code.
    assert!(matches!(s.store.guest_arrived(&kiosk(), first.visit).unwrap_err(), Error::Denied(_)));
}

#[test]
fn a_host_expects_only_their_own_guests_and_a_bad_day_is_refused() {
    let mut s = site();
    let day = today(&s);
    let anna = s.anna_staff();
    let for_jan = ExpectedGuest { host: Some(s.jan), ..expected(&s, "Marta", &day) };
    assert!(matches!(s.store.expect_guest(&anna, for_jan).unwrap_err(), Error::Denied(_)));
    // Anna's own, named or not.
    let mine = s.store.expect_guest(&anna, ExpectedGuest { host: None, ..expected(&s, "Marta", &day) }).unwrap();
    assert_eq!(s.store.visit(mine.visit).unwrap().unwrap().host, s.anna);
    let worker = s.jan_worker();
    assert!(matches!(s.store.expect_guest(&worker, expected(&s, "Marta", &day)).unwrap_err(), Error::Denied(_)));
    assert!(matches!(s.store.expect_guest(&kiosk(), expected(&s, "Marta", &day)).unwrap_err(), Error::Denied(_)));
    let desk = s.desk.clone();
    assert!(matches!(s.store.expect_guest(&desk, expected(&s, "Marta", "next tuesday")).unwrap_err(), Error::NotADay(_)));
    assert!(matches!(s.store.expect_guest(&desk, expected(&s, "Marta", "2020-01-01")).unwrap_err(), Error::DayPast { .. }));
    assert!(matches!(s.store.expect_guest(&desk, expected(&s, "Marta", "2099-01-01")).unwrap_err(), Error::TooFarAhead { max: 366 }));
    assert!(matches!(s.store.expect_guest(&desk, ExpectedGuest { email: Some("not-mail".into()), ..expected(&s, "Marta", &day) }).unwrap_err(), Error::InvalidForm(_)));
    assert_eq!(s.store.expected_today().unwrap().len(), 1, "only Anna's own was kept");
}

#[test]
fn a_phone_expects_at_most_thirty_guests_a_day_and_a_desk_is_not_held_to_it() {
    let mut s = site();
    let day = today(&s);
    let anna = s.anna_staff();
    for n in 0..lodge_core::visit::MAX_EXPECTED_A_DAY {
        s.store.expect_guest(&anna, ExpectedGuest { host: None, ..expected(&s, &format!("Guest {n}"), &day) }).unwrap();
    }
    let refused = s.store.expect_guest(&anna, ExpectedGuest { host: None, ..expected(&s, "One Too Many", &day) }).unwrap_err();
    assert!(matches!(refused, Error::TooManyExpected { max: 30 }), "{refused:?}");
    let desk = s.desk.clone();
    s.store.expect_guest(&desk, expected(&s, "At The Desk", &day)).unwrap();
    // A day later she may again.
    s.clock.advance(25 * HOUR);
    let tomorrow = today(&s);
    s.store.expect_guest(&anna, ExpectedGuest { host: None, ..expected(&s, "Next Day", &tomorrow) }).unwrap();
}
