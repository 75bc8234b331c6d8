//! Site settings and badge cards.

use lodge_core::site::{CardStatus, CardTypeSpec, Error};
use lodge_core::{Actor, CardTypeId, CardUid, NewSite, Role};

use super::fixture::{card, site};

#[test]
fn a_new_site_has_the_default_card_types() {
    let s = site();
    let types = s.store.card_types().unwrap();
    let ranges: Vec<(String, u32, u32, bool)> = types.iter().map(|t| (t.id.to_string(), t.first, t.last, t.for_guests)).collect();
    assert_eq!(
        ranges,
        vec![("guest".into(), 100, 199, true), ("full-service".into(), 200, 299, true), ("admin".into(), 700, 799, false)]
    );
    let guest = CardTypeId::parse("guest").unwrap();
    assert_eq!(s.store.free_cards(Some(&guest)).unwrap().len(), 100);
    let settings = s.store.site_settings().unwrap().unwrap();
    assert_eq!(settings.name, "Lodge House");
    assert_eq!(settings.reminder_time, "18:00");
}

#[test]
fn a_second_site_on_one_device_is_refused() {
    let mut s = site();
    let admin = s.admin.clone();
    let err = s.store.create_site(&admin, NewSite { name: "Other".into(), time_zone: "UTC".into() }).unwrap_err();
    assert_eq!(err.to_string(), "This device already belongs to the site “Lodge House”.");
}

#[test]
fn card_ranges_are_checked() {
    let mut s = site();
    let admin = s.admin.clone();
    let spec = |id: &str, first, last| CardTypeSpec { id: CardTypeId::parse(id).unwrap(), label: "Contractor".into(), first, last, for_guests: true };
    let err = s.store.set_card_type(&admin, spec("contractor", 150, 250)).unwrap_err();
    assert!(matches!(err, Error::RangeOverlaps { .. }), "{err}");
    assert!(matches!(s.store.set_card_type(&admin, spec("contractor", 400, 300)).unwrap_err(), Error::InvalidRange { .. }));
    assert!(matches!(s.store.set_card_type(&admin, spec("contractor", 1, 20_000)).unwrap_err(), Error::InvalidRange { .. }));
    s.store.set_card_type(&admin, spec("contractor", 300, 349)).unwrap();
    assert_eq!(s.store.card_types().unwrap().len(), 4);
    // Changing a type's own range is not an overlap with itself.
    s.store.set_card_type(&admin, spec("contractor", 300, 399)).unwrap();
    assert_eq!(s.store.free_cards(Some(&CardTypeId::parse("contractor").unwrap())).unwrap().len(), 100);
}

#[test]
fn card_uids_are_registered_once() {
    let mut s = site();
    let admin = s.admin.clone();
    let uid = CardUid::parse("04A224B1C25E80").unwrap();
    s.store.register_card(&admin, card(105), uid.clone()).unwrap();
    assert_eq!(s.store.card_by_uid(&uid).unwrap().unwrap().number, card(105));
    let err = s.store.register_card(&admin, card(106), uid.clone()).unwrap_err();
    assert_eq!(err.to_string(), "This card (UID 04A224B1C25E80) is already registered as card 105.");
    assert!(matches!(s.store.register_card(&admin, card(500), CardUid::parse("01020304").unwrap()).unwrap_err(), Error::UnknownCard(_)));
    s.store.set_card_active(&admin, card(105), false).unwrap();
    assert_eq!(s.store.card(card(105)).unwrap().unwrap().status, CardStatus::Inactive);
}

#[test]
fn settings_are_validated_and_admin_only() {
    let mut s = site();
    let admin = s.admin.clone();
    assert!(matches!(s.store.set_reminder_time(&admin, "25:00").unwrap_err(), Error::BadTimeOfDay(_)));
    assert!(matches!(s.store.set_reminder_time(&admin, "9:5").unwrap_err(), Error::BadTimeOfDay(_)));
    s.store.set_reminder_time(&admin, "17:30").unwrap();
    assert!(matches!(s.store.set_retention_days(&admin, 0).unwrap_err(), Error::BadRetention(0)));
    s.store.set_retention_days(&admin, 90).unwrap();
    assert!(matches!(s.store.set_key_type(&admin, s.master.clone(), "Master", 0).unwrap_err(), Error::BadLoanTerm(0)));
    let settings = s.store.site_settings().unwrap().unwrap();
    assert_eq!((settings.reminder_time.as_str(), settings.retention_days), ("17:30", 90));
    let desk = Actor::person(s.anna, "Anna", Role::Reception);
    assert!(matches!(s.store.set_retention_days(&desk, 10).unwrap_err(), Error::Denied(_)));
    assert_eq!(s.store.key_types().unwrap()[0].loan_days, 14);
}

#[test]
fn commands_before_a_site_exists_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = lodge_core::Store::open(dir.path().join("x.sqlite"), std::sync::Arc::new(lodge_core::SystemClock)).unwrap();
    let admin = Actor::site_founder("Ada");
    let err = store.set_retention_days(&admin, 10).unwrap_err();
    assert_eq!(err.to_string(), "This device has no site yet. Start a new site or join one first.");
    assert!(store.site_settings().unwrap().is_none());
}
