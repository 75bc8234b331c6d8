//! Guests: register, admit, reject, release, and every refusal.

use lodge_core::site::CardStatus;
use lodge_core::visit::{AdmitRequest, CardFix, Error, GuestField, GuestForm, RejectReason, VisitSearch, VisitState};
use lodge_core::{Actor, CardUid, DeviceId, DocId, Role, VisitId};

use super::fixture::{HOUR, Site, card, site};

fn guest(s: &Site, name: &str) -> GuestForm {
    GuestForm {
        name: name.into(),
        company: "Acme".into(),
        email: Some(format!("{}@acme.test", name.split(' ').next().unwrap().to_lowercase())),
        phone: None,
        host: Some(s.anna),
        purpose: Some("Meeting".into()),
        consent: true,
        language: None,
    }
}

fn kiosk() -> Actor {
    Actor::kiosk(DeviceId::new())
}

fn register(s: &mut Site, name: &str) -> VisitId {
    let form = guest(s, name);
    s.store.register_guest(&kiosk(), form).unwrap()
}

fn admit(s: &mut Site, visit: VisitId, n: u32) -> Result<(), Error> {
    let desk = s.desk.clone();
    s.store.admit(&desk, AdmitRequest { visit, card: card(n), take_over: false })
}

#[test]
fn a_registered_guest_waits_at_the_desk() {
    let mut s = site();
    let v = register(&mut s, "Jan Kowalski");
    let waiting = s.store.waiting_guests().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].id, v);
    assert_eq!(waiting[0].guest_name, "Jan Kowalski");
    assert_eq!(waiting[0].host_name, "Anna Kowalska");
    assert_eq!(waiting[0].state, VisitState::Waiting);
}

#[test]
fn waiting_queue_is_newest_first() {
    let mut s = site();
    let first = register(&mut s, "First Guest");
    s.clock.advance(60_000);
    let second = register(&mut s, "Second Guest");
    let ids: Vec<VisitId> = s.store.waiting_guests().unwrap().into_iter().map(|v| v.id).collect();
    assert_eq!(ids, vec![second, first]);
}

#[test]
fn a_bad_form_is_refused_field_by_field_and_stores_nothing() {
    let mut s = site();
    let form = GuestForm { name: " ".into(), host: None, consent: false, ..guest(&s, "x") };
    let err = s.store.register_guest(&kiosk(), form).unwrap_err();
    let Error::InvalidForm(fields) = err else { panic!("{err}") };
    let fields: Vec<GuestField> = fields.into_iter().map(|f| f.field).collect();
    assert_eq!(fields, vec![GuestField::Name, GuestField::Host, GuestField::Consent]);
    assert!(s.store.waiting_guests().unwrap().is_empty());
}

#[test]
fn a_host_who_is_not_in_the_directory_is_refused() {
    let mut s = site();
    // Jan does not host guests.
    let form = GuestForm { host: Some(s.jan), ..guest(&s, "Eve Guest") };
    let err = s.store.register_guest(&kiosk(), form).unwrap_err();
    assert!(matches!(&err, Error::InvalidForm(f) if f[0].field == GuestField::Host), "{err}");
}

#[test]
fn contact_is_required_when_the_site_says_so() {
    let mut s = site();
    let admin = s.admin.clone();
    s.store.set_guest_policy(&admin, true, false, "We keep your data for 30 days.").unwrap();
    let form = GuestForm { email: None, phone: None, ..guest(&s, "No Contact") };
    assert!(matches!(s.store.register_guest(&kiosk(), form).unwrap_err(), Error::InvalidForm(_)));
}

#[test]
fn admitting_gives_the_card_and_puts_the_guest_on_the_evacuation_list() {
    let mut s = site();
    let v = register(&mut s, "Jan Kowalski");
    admit(&mut s, v, 105).unwrap();
    let visit = s.store.visit(v).unwrap().unwrap();
    assert!(matches!(visit.state, VisitState::Admitted { card: c, .. } if c == card(105)));
    assert!(s.store.waiting_guests().unwrap().is_empty());
    let list = s.store.evacuation_list().unwrap();
    assert_eq!(list.guests.len(), 1);
    assert_eq!(list.guests[0].guest_name, "Jan Kowalski");
    assert!(matches!(s.store.card(card(105)).unwrap().unwrap().status, CardStatus::WithGuest { visit, .. } if visit == v));
    assert!(!s.store.free_cards(None).unwrap().iter().any(|c| c.number == card(105)));
}

#[test]
fn a_card_already_out_is_refused_with_the_holder_named() {
    let mut s = site();
    let a = register(&mut s, "Anna Guest");
    let b = register(&mut s, "Bob Guest");
    admit(&mut s, a, 105).unwrap();
    let err = admit(&mut s, b, 105).unwrap_err();
    assert!(matches!(&err, Error::CardInUse { visit, .. } if *visit == a));
    assert!(err.to_string().starts_with("Card 105 is already with Anna Guest since"), "{err}");
    assert_eq!(s.store.visit(b).unwrap().unwrap().state, VisitState::Waiting);
}

#[test]
fn take_over_releases_the_earlier_visit_and_admits() {
    let mut s = site();
    let a = register(&mut s, "Anna Guest");
    let b = register(&mut s, "Bob Guest");
    admit(&mut s, a, 105).unwrap();
    s.clock.advance(HOUR);
    let desk = s.desk.clone();
    s.store.admit(&desk, AdmitRequest { visit: b, card: card(105), take_over: true }).unwrap();
    assert!(matches!(s.store.visit(a).unwrap().unwrap().state, VisitState::Left { .. }));
    assert!(matches!(s.store.visit(b).unwrap().unwrap().state, VisitState::Admitted { .. }));
    assert!(s.store.conflicts().unwrap().is_empty());
}

#[test]
fn cards_of_wrong_kinds_are_refused() {
    let mut s = site();
    let v = register(&mut s, "Jan Kowalski");
    // Admin cards are not for guests.
    assert!(matches!(admit(&mut s, v, 701).unwrap_err(), Error::CardNotForGuests { .. }));
    // No type covers 500.
    assert!(matches!(admit(&mut s, v, 500).unwrap_err(), Error::UnknownCard(_)));
    // Out of use.
    let admin = s.admin.clone();
    s.store.set_card_active(&admin, card(110), false).unwrap();
    assert!(matches!(admit(&mut s, v, 110).unwrap_err(), Error::CardInactive(_)));
    assert_eq!(s.store.visit(v).unwrap().unwrap().state, VisitState::Waiting);
}

#[test]
fn a_staff_badge_is_not_a_guest_card() {
    let mut s = site();
    let admin = s.admin.clone();
    // Make 710 Jan's badge; the admin then lets guests have admin cards
    // (a badge is never a guest type's card when it is given); a guest
    // still cannot be given Jan's own.
    let jan = s.store.person(s.jan).unwrap().unwrap();
    s.store
        .update_person(
            &admin,
            s.jan,
            lodge_core::person::PersonForm {
                name: jan.name,
                email: jan.email.map(String::from),
                badge_card: Some(card(710)),
                roles: vec![Role::Worker],
                ..Default::default()
            },
        )
        .unwrap();
    let spec = lodge_core::site::CardTypeSpec {
        id: lodge_core::CardTypeId::parse("admin").unwrap(),
        label: "Admin".into(),
        first: 700,
        last: 799,
        for_guests: true,
    };
    s.store.set_card_type(&admin, spec).unwrap();
    let v = register(&mut s, "Eve Guest");
    assert!(matches!(admit(&mut s, v, 710).unwrap_err(), Error::CardIsBadge { .. }));
}

#[test]
fn admitting_twice_or_after_leaving_is_refused() {
    let mut s = site();
    let v = register(&mut s, "Jan Kowalski");
    admit(&mut s, v, 105).unwrap();
    assert!(matches!(admit(&mut s, v, 106).unwrap_err(), Error::AlreadyAdmitted { .. }));
    let desk = s.desk.clone();
    s.store.release(&desk, v).unwrap();
    assert!(matches!(admit(&mut s, v, 106).unwrap_err(), Error::AlreadyLeft { .. }));
}

#[test]
fn release_records_exit_and_frees_the_card() {
    let mut s = site();
    let v = register(&mut s, "Jan Kowalski");
    admit(&mut s, v, 105).unwrap();
    s.clock.advance(2 * HOUR);
    let desk = s.desk.clone();
    s.store.release(&desk, v).unwrap();
    let VisitState::Left { card: c, admitted_at, left_at } = s.store.visit(v).unwrap().unwrap().state else { panic!() };
    assert_eq!(c, card(105));
    assert_eq!(left_at.millis() - admitted_at.millis(), 2 * HOUR);
    assert_eq!(s.store.card(card(105)).unwrap().unwrap().status, CardStatus::Free);
    assert!(s.store.evacuation_list().unwrap().guests.is_empty());
    assert!(matches!(s.store.release(&desk, v).unwrap_err(), Error::AlreadyLeft { .. }));
}

#[test]
fn release_of_a_waiting_guest_is_refused() {
    let mut s = site();
    let v = register(&mut s, "Jan Kowalski");
    let desk = s.desk.clone();
    assert!(matches!(s.store.release(&desk, v).unwrap_err(), Error::NotAdmitted { .. }));
}

#[test]
fn tapping_a_card_finds_and_releases_its_visit() {
    let mut s = site();
    let admin = s.admin.clone();
    let uid = CardUid::parse("04A224B1C25E80").unwrap();
    s.store.register_card(&admin, card(105), uid.clone()).unwrap();
    let v = register(&mut s, "Jan Kowalski");
    admit(&mut s, v, 105).unwrap();
    assert_eq!(s.store.find_visit_by_card_uid(&uid).unwrap().id, v);
    let desk = s.desk.clone();
    assert_eq!(s.store.release_card(&desk, card(105)).unwrap(), v);
    assert!(matches!(s.store.find_visit_by_card_uid(&uid).unwrap_err(), Error::CardNotOut(_)));
    let unknown = CardUid::parse("DEADBEEF").unwrap();
    assert!(matches!(s.store.find_visit_by_card_uid(&unknown).unwrap_err(), Error::UnknownCardUid(_)));
    assert!(matches!(s.store.release_card(&desk, card(106)).unwrap_err(), Error::CardNotOut(_)));
}

#[test]
fn reject_purges_every_trace_of_the_guest() {
    let mut s = site();
    let v = register(&mut s, "Mallory Prankster");
    let desk = s.desk.clone();
    s.store.reject(&desk, v, RejectReason::Abuse).unwrap();
    assert!(s.store.visit(v).unwrap().is_none());
    assert!(s.store.waiting_guests().unwrap().is_empty());
    assert!(!s.store.documents().unwrap().contains(&DocId::visit(v)));
    assert!(s.store.tombstones().unwrap().contains(&DocId::visit(v)));
    // Not in the SQLite files at all, read as they are with the store open:
    // not in free pages, not in the log, not in shared memory. The log is
    // emptied on the checkpoint thread soon after the purge.
    let path = s.store.path().to_path_buf();
    let files: Vec<std::path::PathBuf> = ["", "-wal", "-shm"]
        .iter()
        .map(|x| {
            let mut p = path.as_os_str().to_owned();
            p.push(x);
            p.into()
        })
        .collect();
    let holding = || -> Vec<&std::path::PathBuf> {
        files.iter().filter(|f| std::fs::read(f).is_ok_and(|b| b.windows(8).any(|w| w == b"Mallory "))).collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !holding().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(holding().is_empty(), "the guest's name is still in {:?}", holding());
    // Nor after the store is closed and opened again.
    drop(s.store);
    let reopened = lodge_core::Store::open(&path, std::sync::Arc::new(lodge_core::SystemClock)).unwrap();
    assert!(reopened.visit(v).unwrap().is_none());
    assert!(holding().is_empty(), "after reopening, the guest's name is in {:?}", holding());
}

#[test]
fn reject_of_an_admitted_guest_is_refused() {
    let mut s = site();
    let v = register(&mut s, "Jan Kowalski");
    admit(&mut s, v, 105).unwrap();
    let desk = s.desk.clone();
    assert!(matches!(s.store.reject(&desk, v, RejectReason::Mistake).unwrap_err(), Error::NotWaiting { .. }));
    assert!(s.store.visit(v).unwrap().is_some());
}

#[test]
fn only_the_desk_admits_and_the_kiosk_only_registers() {
    let mut s = site();
    let v = register(&mut s, "Jan Kowalski");
    let k = kiosk();
    assert!(matches!(s.store.admit(&k, AdmitRequest { visit: v, card: card(105), take_over: false }).unwrap_err(), Error::Denied(_)));
    let worker = s.jan_worker();
    assert!(matches!(s.store.register_guest(&worker, guest(&s, "X Y")).unwrap_err(), Error::Denied(_)));
    assert!(matches!(s.store.reject(&k, v, RejectReason::Duplicate).unwrap_err(), Error::Denied(_)));
}

#[test]
fn unknown_visits_are_refused() {
    let mut s = site();
    let desk = s.desk.clone();
    let ghost = VisitId::new();
    assert!(matches!(s.store.release(&desk, ghost).unwrap_err(), Error::NotFound(_)));
    assert!(matches!(admit(&mut s, ghost, 105).unwrap_err(), Error::NotFound(_)));
}

#[test]
fn reissue_moves_the_guest_to_another_card() {
    let mut s = site();
    let v = register(&mut s, "Jan Kowalski");
    admit(&mut s, v, 105).unwrap();
    let desk = s.desk.clone();
    s.store.reissue_card(&desk, v, card(106)).unwrap();
    assert_eq!(s.store.card(card(105)).unwrap().unwrap().status, CardStatus::Free);
    assert!(matches!(s.store.card(card(106)).unwrap().unwrap().status, CardStatus::WithGuest { .. }));
    // Resolving a conflict that does not exist is refused.
    assert!(matches!(
        s.store.resolve_card_conflict(&desk, card(106), v, &[(VisitId::new(), CardFix::Release)]).unwrap_err(),
        Error::NoSuchConflict(_)
    ));
}

#[test]
fn history_search_by_name_host_and_date() {
    let mut s = site();
    let a = register(&mut s, "Alice Archer");
    s.clock.advance(24 * HOUR);
    let b = register(&mut s, "Bob Builder");
    let by_name = s.store.visit_history(&VisitSearch { text: Some("alice".into()), ..Default::default() }).unwrap();
    assert_eq!(by_name.iter().map(|v| v.id).collect::<Vec<_>>(), vec![a]);
    let by_host = s.store.visit_history(&VisitSearch { host: Some("Kowalska".into()), ..Default::default() }).unwrap();
    assert_eq!(by_host.len(), 2);
    let since = s.store.now();
    let recent = s.store.visit_history(&VisitSearch { from: Some(since), ..Default::default() }).unwrap();
    assert_eq!(recent.iter().map(|v| v.id).collect::<Vec<_>>(), vec![b]);
    let wildcard = s.store.visit_history(&VisitSearch { text: Some("%".into()), ..Default::default() }).unwrap();
    assert!(wildcard.is_empty(), "a typed % must not match everything");
}

#[test]
fn every_command_names_itself_and_the_actor_in_the_change() {
    let mut s = site();
    let v = register(&mut s, "Jan Kowalski");
    admit(&mut s, v, 105).unwrap();
    let messages: Vec<String> = s.store.change_history(&DocId::visit(v)).unwrap().into_iter().map(|c| c.message).collect();
    assert_eq!(messages.len(), 2);
    assert!(messages[0].starts_with("register_guest by guest kiosk <device:"), "{}", messages[0]);
    assert!(messages[1].starts_with("admit by Anna Kowalska <person:"), "{}", messages[1]);
}

/// The consent text kept with a visit, read from its document as stored.
fn kept_consent(s: &mut Site, visit: VisitId) -> String {
    use automerge::ReadDoc;
    let bytes = s.store.export_document(&DocId::visit(visit)).unwrap().unwrap();
    let doc = automerge::AutoCommit::load(&bytes).unwrap();
    let (_, consent) = doc.get(automerge::ROOT, "consent").unwrap().unwrap();
    let (text, _) = doc.get(&consent, "text").unwrap().unwrap();
    text.into_string().unwrap()
}

#[test]
fn a_guest_consents_to_the_text_in_the_language_they_read() {
    let mut s = site();
    let admin = s.admin.clone();
    s.store.set_guest_policy(&admin, false, false, "We keep your name for 30 days.").unwrap();
    s.store.set_consent_text(&admin, "pl", "  Przechowujemy Twoje imię przez 30 dni. ").unwrap();
    // The guest policy saved again keeps the translations.
    s.store.set_guest_policy(&admin, true, false, "We keep your name for 30 days.").unwrap();
    let settings = s.store.site_settings().unwrap().unwrap();
    assert_eq!(settings.consent_for(Some("pl")), "Przechowujemy Twoje imię przez 30 dni.");
    assert_eq!(settings.consent_for(Some("uk")), "We keep your name for 30 days.", "no translation: the site's own");

    let polish = s.store.register_guest(&kiosk(), GuestForm { language: Some("pl".into()), ..guest(&s, "Marta Wiśniewska") }).unwrap();
    let ukrainian = s.store.register_guest(&kiosk(), GuestForm { language: Some("uk".into()), ..guest(&s, "Olena Shevchenko") }).unwrap();
    assert_eq!(kept_consent(&mut s, polish), "Przechowujemy Twoje imię przez 30 dni.");
    assert_eq!(kept_consent(&mut s, ukrainian), "We keep your name for 30 days.");

    // An empty text removes the translation; an unknown language is refused
    // and changes nothing.
    let err = s.store.set_consent_text(&admin, "de", "Wir speichern …").unwrap_err();
    assert!(matches!(err, lodge_core::site::Error::UnknownLanguage(_)), "{err:?}");
    s.store.set_consent_text(&admin, "pl", "").unwrap();
    assert!(s.store.site_settings().unwrap().unwrap().consent_texts.is_empty());
}

#[test]
fn only_a_guest_in_the_building_has_a_badge_dated_on_the_sites_calendar() {
    let mut s = site();
    let v = register(&mut s, "Jan Kowalski");
    assert!(matches!(s.store.guest_badge(v).unwrap_err(), Error::NotAdmitted { .. }), "no card yet");
    // 23:30 UTC is already the next day in Warsaw.
    let now = s.store.now().to_utc();
    let late = now.date_naive().and_hms_opt(23, 30, 0).unwrap().and_utc();
    s.clock.advance(late.timestamp_millis() - now.timestamp_millis());
    admit(&mut s, v, 105).unwrap();
    let badge = s.store.guest_badge(v).unwrap();
    assert_eq!((badge.guest.as_str(), badge.company.as_str(), badge.host.as_str(), badge.card), ("Jan Kowalski", "Acme", "Anna Kowalska", 105));
    assert_eq!(badge.day, (late.date_naive() + chrono::Days::new(1)).format("%Y-%m-%d").to_string());
    assert_eq!(badge.code(), format!("LODGE-VISIT-{v}"));
    let desk = s.desk.clone();
    s.store.release(&desk, v).unwrap();
    assert!(matches!(s.store.guest_badge(v).unwrap_err(), Error::AlreadyLeft { .. }), "the card is back");
    assert!(matches!(s.store.guest_badge(VisitId::new()).unwrap_err(), Error::NotFound(_)));
}
