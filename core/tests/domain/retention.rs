//! Retention: what the server's daily sweep erases and what it keeps, on a
//! real store file read as it is (log and shared memory included).

use std::path::Path;

use lodge_core::retention::{DailyCount, Measure};
use lodge_core::site::Error as SiteError;
use lodge_core::visit::{AdmitRequest, GuestForm};
use lodge_core::{Actor, DeviceId, DocId, Timestamp, VisitId};

use super::fixture::{HOUR, MONDAY_8AM, Site, card, site};

const DAY: i64 = 24 * HOUR;

fn visit_that_left(s: &mut Site, name: &str, n: u32) -> (VisitId, Timestamp) {
    let form = GuestForm {
        name: name.into(),
        company: "Acme".into(),
        email: None,
        phone: None,
        host: Some(s.anna),
        purpose: Some("Meeting".into()),
        consent: true,
        language: None,
    };
    let visit = s.store.register_guest(&Actor::kiosk(DeviceId::new()), form).unwrap();
    let desk = s.desk.clone();
    s.store.admit(&desk, AdmitRequest { visit, card: card(n), take_over: false }).unwrap();
    s.clock.advance(HOUR);
    s.store.release(&desk, visit).unwrap();
    (visit, s.store.now())
}

/// Whether `text` is in the store's file, its log or its shared memory, as
/// they are on disk (nothing vacuumed or checkpointed by the test).
fn on_disk(path: &Path, text: &str) -> bool {
    ["", "-wal", "-shm"].iter().any(|suffix| {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        std::fs::read(&file).unwrap_or_default().windows(text.len()).any(|w| w == text.as_bytes())
    })
}

/// The store's log is emptied by its checkpoint thread soon after a purge.
fn gone_from_disk(path: &Path, text: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if !on_disk(path, text) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

fn count(counts: &[DailyCount], day: &str, measure: Measure) -> u64 {
    counts.iter().find(|c| c.day == day && c.measure == measure).map_or(0, |c| c.count)
}

#[test]
fn a_visit_one_day_past_retention_is_erased_and_one_day_inside_stays() {
    let mut s = site();
    assert_eq!(s.store.site_settings().unwrap().unwrap().retention_days, 30);
    let (old, old_left) = visit_that_left(&mut s, "Oldrich Pastdue", 101);
    // Its guest leaves exactly two days after the first.
    s.clock.advance(2 * DAY - HOUR);
    let (recent, recent_left) = visit_that_left(&mut s, "Renata Recent", 102);
    let path = s.store.path().to_path_buf();
    assert!(on_disk(&path, "Oldrich"));

    // 31 days after the first guest left, 29 after the second.
    let now = Timestamp::from_millis(old_left.millis() + 31 * DAY);
    assert_eq!(recent_left.millis() + 29 * DAY, now.millis());
    let erased = s.store.erase_past_retention(now).unwrap();
    assert_eq!((erased.visits, erased.presence_months), (1, 0));
    assert_eq!(erased.docs, vec![DocId::visit(old)]);

    assert!(s.store.visit(old).unwrap().is_none());
    assert!(!s.store.documents().unwrap().contains(&DocId::visit(old)));
    assert!(s.store.tombstones_contain(&DocId::visit(old)).unwrap(), "a tombstone keeps it from coming back");
    assert!(s.store.change_history(&DocId::visit(old)).unwrap().is_empty(), "its audit trail went with it");
    assert!(s.store.visit(recent).unwrap().is_some(), "a visit one day inside retention stays");
    assert!(gone_from_disk(&path, "Oldrich"), "the erased guest's name is still in the store's files");
    assert!(on_disk(&path, "Renata"));

    // The erased visit still counts, by its day in the site's time zone
    // (Warsaw), with nothing that says who.
    let counts = s.store.kept_counts().unwrap();
    assert_eq!(count(&counts, "2026-11-23", Measure::VisitsRegistered), 1);
    assert_eq!(count(&counts, "2026-11-23", Measure::VisitsAdmitted), 1);
    assert_eq!(counts.len(), 2, "the kept visit adds nothing yet: {counts:?}");
    // The statistics still count the erased guest on their day.
    let stats = s.store.statistics("2026-11-23", "2026-11-25").unwrap();
    let day = |d: &str| stats.days.iter().find(|x| x.day == d).unwrap().clone();
    assert_eq!((day("2026-11-23").visits_registered, day("2026-11-23").visits_admitted), (1, 1), "{stats:?}");
    assert_eq!(day("2026-11-25").visits_registered, 1, "the kept visit, from the projections");

    // Nothing more is due: a second sweep erases nothing and keeps the counts.
    assert_eq!(s.store.erase_past_retention(now).unwrap().docs, Vec::<DocId>::new());
    assert_eq!(s.store.kept_counts().unwrap(), counts);
}

#[test]
fn a_guest_never_admitted_goes_and_a_guest_still_in_stays() {
    let mut s = site();
    let form = |name: &str, host| GuestForm {
        name: name.into(),
        company: "Acme".into(),
        email: None,
        phone: None,
        host: Some(host),
        purpose: Some("Meeting".into()),
        consent: true,
        language: None,
    };
    let kiosk = Actor::kiosk(DeviceId::new());
    let waiting = s.store.register_guest(&kiosk, form("Wanda Waiting", s.anna)).unwrap();
    let inside = s.store.register_guest(&kiosk, form("Ivo Inside", s.anna)).unwrap();
    let desk = s.desk.clone();
    s.store.admit(&desk, AdmitRequest { visit: inside, card: card(103), take_over: false }).unwrap();
    let now = Timestamp::from_millis(MONDAY_8AM + 40 * DAY);
    let erased = s.store.erase_past_retention(now).unwrap();
    assert_eq!(erased.docs, vec![DocId::visit(waiting)]);
    assert!(s.store.visit(inside).unwrap().is_some(), "a guest the ledger shows inside is not erased");
    let counts = s.store.kept_counts().unwrap();
    assert_eq!(count(&counts, "2026-11-23", Measure::VisitsRegistered), 1);
    assert_eq!(count(&counts, "2026-11-23", Measure::VisitsAdmitted), 0);
}

#[test]
fn a_presence_month_goes_past_its_own_limit_and_its_sign_ins_still_count() {
    let mut s = site();
    assert_eq!(s.store.site_settings().unwrap().unwrap().presence_retention_days, 400);
    let anna = s.anna_staff();
    s.store.sign_in(&anna, s.anna).unwrap();
    s.clock.advance(8 * HOUR);
    s.store.sign_out(&anna, s.anna).unwrap();
    s.clock.advance(16 * HOUR);
    s.store.sign_in(&anna, s.anna).unwrap();
    let month = DocId::presence(s.anna, "2026-11");
    // November ends on 1 December 00:00 UTC.
    let month_end = Timestamp::from_millis(MONDAY_8AM + 7 * DAY + 16 * HOUR);
    assert_eq!(month_end.to_utc().to_rfc3339(), "2026-12-01T00:00:00+00:00");

    let inside = Timestamp::from_millis(month_end.millis() + 399 * DAY);
    assert!(s.store.erase_past_retention(inside).unwrap().docs.is_empty(), "399 days after the month: kept");
    let past = Timestamp::from_millis(month_end.millis() + 401 * DAY);
    let erased = s.store.erase_past_retention(past).unwrap();
    assert_eq!((erased.visits, erased.presence_months), (0, 1));
    assert!(!s.store.documents().unwrap().contains(&month));
    assert!(s.store.presence_history(s.anna, Timestamp::from_millis(0)).unwrap().is_empty());

    let counts = s.store.kept_counts().unwrap();
    assert_eq!(count(&counts, "2026-11-23", Measure::SignIns), 1);
    assert_eq!(count(&counts, "2026-11-24", Measure::SignIns), 1);
    assert_eq!(count(&counts, "2026-11-23", Measure::PeopleSignedIn), 1);
    assert_eq!(count(&counts, "2026-11-24", Measure::PeopleSignedIn), 1);
}

#[test]
fn admins_set_how_long_sign_ins_are_kept_within_bounds() {
    let mut s = site();
    let admin = s.admin.clone();
    let desk = s.desk.clone();
    assert!(matches!(s.store.set_presence_retention_days(&desk, 60).unwrap_err(), SiteError::Denied(_)));
    let err = s.store.set_presence_retention_days(&admin, 7).unwrap_err();
    assert!(matches!(err, SiteError::BadPresenceRetention(7)));
    assert!(err.to_string().contains("at least 31 days"), "{err}");
    assert!(matches!(s.store.set_presence_retention_days(&admin, 4000).unwrap_err(), SiteError::BadPresenceRetention(4000)));
    s.store.set_presence_retention_days(&admin, 60).unwrap();
    assert_eq!(s.store.site_settings().unwrap().unwrap().presence_retention_days, 60);

    let anna = s.anna_staff();
    s.store.sign_in(&anna, s.anna).unwrap();
    let month_end = Timestamp::from_millis(MONDAY_8AM + 7 * DAY + 16 * HOUR);
    let erased = s.store.erase_past_retention(Timestamp::from_millis(month_end.millis() + 61 * DAY)).unwrap();
    assert_eq!(erased.presence_months, 1);
}

#[test]
fn a_sweeps_record_keeps_counts_and_devices_told_newest_first() {
    let mut s = site();
    let (_, left) = visit_that_left(&mut s, "Oldrich Pastdue", 101);
    let now = Timestamp::from_millis(left.millis() + 31 * DAY);
    let erased = s.store.erase_past_retention(now).unwrap();
    let desk = DeviceId::new();
    let first = s.store.record_erasure(now, &erased, Some(41), &[desk]).unwrap();
    let nothing = s.store.erase_past_retention(now).unwrap();
    let second = s.store.record_erasure(now, &nothing, None, &[]).unwrap();
    let records = s.store.erasure_records().unwrap();
    assert_eq!(records.iter().map(|r| r.id).collect::<Vec<_>>(), vec![second, first]);
    assert_eq!((records[1].visits, records[1].presence_months, records[1].feed_seq), (1, 0, Some(41)));
    assert_eq!(records[1].devices, vec![desk]);
    assert_eq!((records[0].visits, records[0].feed_seq), (0, None));
}

#[test]
fn a_hosts_notice_is_written_once_and_erased_with_its_visit() {
    let mut s = site();
    let (visit, left) = visit_that_left(&mut s, "Oldrich Pastdue", 101);
    let path = s.store.path().to_path_buf();
    // The server writes it; taken again after a crash, it writes nothing.
    let notice = s.store.notify_host(visit, s.anna, "Your guest is here", "Oldrich Pastdue from Acme was let in.").unwrap().unwrap();
    assert_eq!(s.store.notify_host(visit, s.anna, "Your guest is here", "again").unwrap(), None);
    let anna = Actor { person: Some(s.anna), device: Some(DeviceId::new()), name: "Anna".into(), role: lodge_core::Role::Staff };
    let shown = s.store.active_announcements(&anna).unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].audience, lodge_core::announcement::Audience::Person { person: s.anna });
    // Another person's phone and the desks show nothing of it.
    let jan = Actor { person: Some(s.jan), ..anna.clone() };
    assert!(s.store.active_announcements(&jan).unwrap().is_empty());
    let reception = Actor { person: None, device: Some(DeviceId::new()), name: "Reception".into(), role: lodge_core::Role::Reception };
    assert!(s.store.active_announcements(&reception).unwrap().is_empty());
    assert!(s.store.announcements_reach().unwrap().is_empty(), "not an announcement sent from a desk");

    let erased = s.store.erase_past_retention(Timestamp::from_millis(left.millis() + 31 * DAY)).unwrap();
    assert_eq!(erased.visits, 1);
    assert_eq!(erased.docs, vec![DocId::visit(visit), notice.clone()], "the notice goes with its visit, for the devices to be told");
    assert!(s.store.tombstones_contain(&notice).unwrap());
    assert!(s.store.active_announcements(&anna).unwrap().is_empty());
    assert!(gone_from_disk(&path, "Oldrich"), "the guest's name is still in the store's files");
}

#[test]
fn a_desk_cannot_send_an_announcement_to_one_person() {
    let mut s = site();
    let desk = s.desk.clone();
    let new = lodge_core::announcement::NewAnnouncement {
        kind: lodge_core::announcement::Kind::Announcement,
        audience: lodge_core::announcement::Audience::Person { person: s.anna },
        title: String::new(),
        text: "Hello".into(),
    };
    assert!(matches!(s.store.announce(&desk, new), Err(lodge_core::announcement::Error::NotForOnePerson)));
    assert!(s.store.announcements_reach().unwrap().is_empty());
}

#[test]
fn an_expected_guest_who_never_came_is_erased_after_their_day_not_before_it_and_counts_nothing() {
    let mut s = site();
    let desk = s.desk.clone();
    let today = s.store.now().to_utc().date_naive();
    let day = |d: u64| (today + chrono::Days::new(d)).format("%Y-%m-%d").to_string();
    let anna = s.anna;
    let guest = |name: &str, on: String| lodge_core::visit::ExpectedGuest { name: name.into(), company: "Acme".into(), email: None, host: Some(anna), day: on, purpose: None };
    let soon = s.store.expect_guest(&desk, guest("Sonia Soon", day(1))).unwrap();
    let later = s.store.expect_guest(&desk, guest("Leon Later", day(60))).unwrap();
    // 40 days on: Sonia's day is 39 days past (retention is 30); Leon's is ahead.
    let now = Timestamp::from_millis(s.store.now().millis() + 40 * DAY);
    let erased = s.store.erase_past_retention(now).unwrap();
    assert_eq!(erased.docs, vec![DocId::visit(soon.visit)]);
    assert!(s.store.visit(later.visit).unwrap().is_some(), "a guest expected later is kept for their day");
    assert!(s.store.kept_counts().unwrap().is_empty(), "a guest who never came was never registered");
}

#[test]
fn a_roll_calls_report_naming_a_guest_is_erased_as_their_visit_is_and_a_running_one_stays() {
    use lodge_core::roll_call::StartRollCall;
    let mut s = site();
    let desk = s.desk.clone();
    let form = GuestForm { name: "Gustav Guest".into(), company: "Acme".into(), host: Some(s.anna), consent: true, ..Default::default() };
    let visit = s.store.register_guest(&Actor::kiosk(DeviceId::new()), form).unwrap();
    s.store.admit(&desk, AdmitRequest { visit, card: card(101), take_over: false }).unwrap();
    let drill = s.store.start_roll_call(&desk, StartRollCall { emergency: None }).unwrap();
    assert_eq!(s.store.roll_call(drill).unwrap().unwrap().entries.len(), 1, "the guest is on it");
    s.store.end_roll_call(&desk, drill).unwrap();
    s.clock.advance(HOUR);
    s.store.release(&desk, visit).unwrap();
    let second = s.store.start_roll_call(&desk, StartRollCall { emergency: None }).unwrap();
    let path = s.store.path().to_path_buf();
    assert!(on_disk(&path, "Gustav"));

    let now = Timestamp::from_millis(s.store.now().millis() + 31 * DAY);
    let erased = s.store.erase_past_retention(now).unwrap();
    assert!(erased.docs.contains(&DocId::roll_call(drill)) && erased.docs.contains(&DocId::visit(visit)), "{erased:?}");
    assert!(s.store.roll_call(drill).unwrap().is_none());
    assert!(s.store.roll_call(second).unwrap().is_some(), "a roll call still running stays");
    assert!(gone_from_disk(&path, "Gustav"), "the guest's name is still in the store's files");
}

#[test]
fn a_device_keeps_the_servers_counts_in_its_statistics_and_refuses_a_day_that_is_not_one() {
    let mut s = site();
    let today = s.store.now().to_utc().format("%Y-%m-%d").to_string();
    let registered = |s: &Site| s.store.statistics(&today, &today).unwrap().days[0].visits_registered;
    assert_eq!(registered(&s), 0);
    let sent = vec![
        DailyCount { day: today.clone(), measure: Measure::VisitsRegistered, count: 3 },
        DailyCount { day: today.clone(), measure: Measure::SignIns, count: 5 },
    ];
    s.store.replace_kept_counts(&sent).unwrap();
    assert_eq!(registered(&s), 3);
    // Sent again with one more: replaced, not added.
    let more = [sent.clone(), vec![DailyCount { day: today.clone(), measure: Measure::VisitsRegistered, count: 4 }]].concat();
    s.store.replace_kept_counts(&more[1..]).unwrap();
    assert_eq!(registered(&s), 4);
    assert_eq!(count(&s.store.kept_counts().unwrap(), &today, Measure::SignIns), 5);
    // A count of something that is not a day changes nothing.
    for bad in ["2026-13-01", "2026-1-05", "yesterday", ""] {
        let refused = s.store.replace_kept_counts(&[DailyCount { day: bad.into(), measure: Measure::VisitsRegistered, count: 1 }]).unwrap_err();
        assert!(matches!(&refused, lodge_core::StoreError::BadKeptCount { day } if day == bad), "{refused:?}");
        assert!(refused.to_string().contains("not a day"), "{refused}");
        assert_eq!(registered(&s), 4);
    }
}
