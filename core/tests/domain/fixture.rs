//! A small site on a real store file: people, a key type, keys and an item.

use std::sync::Arc;

use lodge_core::person::PersonForm;
use lodge_core::{
    Actor, AffiliationId, CardNumber, DepartmentId, ItemId, KeyId, KeyTypeId, ManualClock, NewSite, PersonId, RepairCategoryId, Role,
    Store, Timestamp,
};
use tempfile::TempDir;

/// 2026-11-23 08:00 UTC, a Monday.
pub const MONDAY_8AM: i64 = 1_795_420_800_000;
pub const HOUR: i64 = 3_600_000;

pub struct Site {
    pub store: Store,
    pub clock: ManualClock,
    pub admin: Actor,
    pub desk: Actor,
    pub key_desk: Actor,
    pub anna: PersonId,
    pub jan: PersonId,
    pub ola: PersonId,
    pub master: KeyTypeId,
    pub m1: KeyId,
    pub m2: KeyId,
    pub drill: ItemId,
    pub _dir: TempDir,
}

pub fn card(n: u32) -> CardNumber {
    CardNumber::new(n).unwrap()
}

impl Site {
    pub fn jan_worker(&self) -> Actor {
        Actor::person(self.jan, "Jan Nowak", Role::Worker)
    }

    pub fn anna_staff(&self) -> Actor {
        Actor::person(self.anna, "Anna Kowalska", Role::Staff)
    }
}

pub fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Timestamp::from_millis(MONDAY_8AM));
    let mut store = Store::open(dir.path().join("lodge.sqlite"), Arc::new(clock.clone())).unwrap();
    let admin = Actor::site_founder("Ada Admin");
    store.create_site(&admin, NewSite { name: "Lodge House".into(), time_zone: "Europe/Warsaw".into() }).unwrap();
    store.set_department(&admin, DepartmentId::parse("eng").unwrap(), "Engineering").unwrap();
    store.set_affiliation(&admin, AffiliationId::parse("staff").unwrap(), "Staff", false).unwrap();
    store.set_affiliation(&admin, AffiliationId::parse("student").unwrap(), "Students", true).unwrap();
    let master = KeyTypeId::parse("master").unwrap();
    store.set_key_type(&admin, master.clone(), "Master", 14).unwrap();
    store.set_repair_category(&admin, RepairCategoryId::parse("electrical").unwrap(), "Electrical").unwrap();
    let anna = store
        .create_person(
            &admin,
            PersonForm {
                name: "Anna Kowalska".into(),
                email: Some("anna@lodge.test".into()),
                department: Some(DepartmentId::parse("eng").unwrap()),
                affiliation: Some(AffiliationId::parse("staff").unwrap()),
                roles: vec![Role::Staff],
                badge_card: Some(card(705)),
                hosts_guests: true,
                ..Default::default()
            },
        )
        .unwrap();
    let jan = store
        .create_person(
            &admin,
            PersonForm {
                name: "Jan Nowak".into(),
                email: Some("jan@lodge.test".into()),
                affiliation: Some(AffiliationId::parse("staff").unwrap()),
                roles: vec![Role::Worker],
                ..Default::default()
            },
        )
        .unwrap();
    let ola = store
        .create_person(
            &admin,
            PersonForm {
                name: "Ola Wiśniewska".into(),
                email: Some("ola@lodge.test".into()),
                affiliation: Some(AffiliationId::parse("student").unwrap()),
                ..Default::default()
            },
        )
        .unwrap();
    let key_desk = Actor::person(anna, "Anna Kowalska", Role::KeyDesk);
    let m1 = store.add_key(&key_desk, master.clone(), "M-1").unwrap();
    let m2 = store.add_key(&key_desk, master.clone(), "M-2").unwrap();
    let drill = store
        .add_item(
            &admin,
            lodge_core::equipment::NewItem {
                asset_number: "D-7".into(),
                activation_code: "LODGE-D7".into(),
                name: "Drill".into(),
                item_type: "drill".into(),
            },
        )
        .unwrap();
    let desk = Actor::person(anna, "Anna Kowalska", Role::Reception);
    Site { store, clock, admin, desk, key_desk, anna, jan, ola, master, m1, m2, drill, _dir: dir }
}
