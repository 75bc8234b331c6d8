//! Statistics over a period in the site's days: what each day counts, who
//! was in by the hour, how long visits lasted, and refused periods.

use lodge_core::key_loan::CheckoutRequest;
use lodge_core::statistics::PeriodError;
use lodge_core::visit::{AdmitRequest, GuestForm};
use lodge_core::{Actor, DeviceId, Email};

use super::fixture::{HOUR, card, site};

#[test]
fn a_day_counts_its_guests_sign_ins_keys_and_who_was_in_by_the_hour() {
    // Monday 2026-11-23, 08:00 UTC: 09:00 in Warsaw.
    let mut s = site();
    let (desk, anna) = (s.desk.clone(), s.anna_staff());
    let form = GuestForm { name: "Gosia Gość".into(), company: "Acme".into(), host: Some(s.anna), consent: true, ..Default::default() };
    let visit = s.store.register_guest(&Actor::kiosk(DeviceId::new()), form).unwrap();
    s.store.admit(&desk, AdmitRequest { visit, card: card(105), take_over: false }).unwrap();
    s.store.sign_in(&anna, s.anna).unwrap();
    let key_desk = s.key_desk.clone();
    let m1 = s.m1;
    s.store.checkout_key(&key_desk, CheckoutRequest { key: m1, customer: Email::parse("jan@lodge.test").unwrap(), due_at: None }).unwrap();
    // The guest leaves at 11:00 Warsaw; Anna signs out at 12:00.
    s.clock.advance(2 * HOUR);
    s.store.release(&desk, visit).unwrap();
    s.clock.advance(HOUR);
    s.store.sign_out(&anna, s.anna).unwrap();

    let stats = s.store.statistics("2026-11-23", "2026-11-24").unwrap();
    assert_eq!((stats.from.as_str(), stats.to.as_str(), stats.days.len()), ("2026-11-23", "2026-11-24", 2));
    let monday = &stats.days[0];
    assert_eq!(
        (monday.visits_registered, monday.visits_admitted, monday.sign_ins, monday.people_signed_in, monday.keys_lent),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(stats.days[1].visits_registered, 0);
    assert_eq!(stats.average_visit_minutes, Some(120));
    assert_eq!(stats.keys_out_now, 1);
    // At 09:30 both were in, at 11:30 only Anna, at 12:30 nobody: averaged
    // over the period's two days.
    assert_eq!(stats.in_by_hour.len(), 24);
    assert_eq!((stats.in_by_hour[9], stats.in_by_hour[11], stats.in_by_hour[12], stats.in_by_hour[8]), (1.0, 0.5, 0.0, 0.0), "{:?}", stats.in_by_hour);
    let csv = stats.csv();
    assert!(csv.starts_with("day,visits_registered,visits_admitted,sign_ins,people_signed_in,keys_lent"), "{csv}");
    assert!(csv.contains("\n2026-11-23,1,1,1,1,1,0,0,0"), "{csv}");
}

#[test]
fn who_was_in_by_the_hour_counts_stays_that_began_before_the_period() {
    // Anna signs in on Monday 2026-11-23 09:00 Warsaw and stays in over the
    // weekend; Jan signs in and out on Monday; Ola signs in on Monday and
    // out on Wednesday at 10:00 (11:00 Warsaw) of the week after.
    let mut s = site();
    let (admin, anna, jan, ola) = (s.admin.clone(), s.anna, s.jan, s.ola);
    s.store.sign_in(&admin, anna).unwrap();
    s.store.sign_in(&admin, jan).unwrap();
    s.store.sign_in(&admin, ola).unwrap();
    s.clock.advance(HOUR);
    s.store.sign_out(&admin, jan).unwrap();
    s.clock.advance(9 * 24 * HOUR + HOUR);
    s.store.sign_out(&admin, ola).unwrap();

    // Monday: three sign-ins by three people, counted once each.
    let monday = &s.store.statistics("2026-11-23", "2026-11-23").unwrap().days[0];
    assert_eq!((monday.sign_ins, monday.people_signed_in), (3, 3));
    // The Wednesday of the week after alone: Anna is in all day, Ola until
    // 11:00, Jan never; none of them signed in that day.
    let stats = s.store.statistics("2026-12-02", "2026-12-02").unwrap();
    assert_eq!(stats.days[0].sign_ins, 0);
    assert_eq!((stats.in_by_hour[0], stats.in_by_hour[10], stats.in_by_hour[11], stats.in_by_hour[23]), (2.0, 2.0, 1.0, 1.0), "{:?}", stats.in_by_hour);
    // The Sunday before, when Jan's stay had long ended.
    let stats = s.store.statistics("2026-11-29", "2026-11-29").unwrap();
    assert!(stats.in_by_hour.iter().all(|n| *n == 2.0), "{:?}", stats.in_by_hour);
    // The Friday before it all began: nobody.
    let stats = s.store.statistics("2026-11-20", "2026-11-20").unwrap();
    assert!(stats.in_by_hour.iter().all(|n| *n == 0.0), "{:?}", stats.in_by_hour);
}

#[test]
fn a_period_that_cannot_be_counted_is_refused() {
    let s = site();
    assert!(matches!(s.store.statistics("2026-13-01", "2026-12-01"), Err(PeriodError::NotADay(d)) if d == "2026-13-01"));
    assert!(matches!(s.store.statistics("2026-12-02", "2026-12-01"), Err(PeriodError::Backwards)));
    assert!(matches!(s.store.statistics("2020-01-01", "2026-12-01"), Err(PeriodError::TooLong { max: 366 })));
    assert_eq!(s.store.statistics("2026-12-01", "2026-12-01").unwrap().days.len(), 1);
}
