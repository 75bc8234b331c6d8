//! A demo site: a few people, keys, equipment, guests waiting and in the
//! building, staff signed in. Used by `lodge-sync site create --demo` and
//! the `demo` example, so that Lodge can be tried without typing a site in.

use crate::equipment::NewItem;
use crate::key_loan::CheckoutRequest;
use crate::person::PersonForm;
use crate::visit::{AdmitRequest, GuestForm};
use crate::{Actor, CardNumber, DepartmentId, DeviceId, Email, KeyTypeId, NewSite, RepairCategoryId, Role, SiteId, Store};

/// Why the demo could not be filled in (a command refused: a bug).
#[derive(Debug, thiserror::Error)]
#[error("the demo site could not be filled in: {0}")]
pub struct DemoError(String);

macro_rules! from_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for DemoError {
            fn from(e: $t) -> Self {
                DemoError(e.to_string())
            }
        }
    )*};
}

from_errors!(
    crate::site::Error,
    crate::person::Error,
    crate::presence::Error,
    crate::key_loan::Error,
    crate::equipment::Error,
    crate::visit::Error,
    crate::InvalidId
);

/// Create "Lodge Demo House" on an empty store and fill it in.
pub fn create_demo_site(store: &mut Store) -> Result<SiteId, DemoError> {
    let admin = Actor::site_founder("Demo Admin");
    let site = store.create_site(&admin, NewSite { name: "Lodge Demo House".into(), time_zone: "Europe/Warsaw".into() })?;
    store.set_department(&admin, DepartmentId::parse("eng")?, "Engineering")?;
    store.set_department(&admin, DepartmentId::parse("ops")?, "Operations")?;
    let master = KeyTypeId::parse("master")?;
    store.set_key_type(&admin, master.clone(), "Master", 14)?;
    store.set_repair_category(&admin, RepairCategoryId::parse("electrical")?, "Electrical")?;
    let mut people = Vec::new();
    for (name, dep, role) in [
        ("Anna Kowalska", "eng", Role::Staff),
        ("Jan Nowak", "ops", Role::Worker),
        ("Olena Shevchenko", "eng", Role::Staff),
        ("Piotr Zieliński", "ops", Role::Reception),
    ] {
        let email = format!("{}@demo.lodge", name.split(' ').next().unwrap_or("x").to_lowercase());
        let id = store.create_person(
            &admin,
            PersonForm {
                name: name.into(),
                email: Some(email),
                department: Some(DepartmentId::parse(dep)?),
                roles: vec![role],
                hosts_guests: role == Role::Staff,
                // Two fire marshals, whose phones take roll calls.
                marshal: role == Role::Staff,
                ..Default::default()
            },
        )?;
        people.push((id, name, role));
    }
    let desk = Actor::person(people[3].0, people[3].1, Role::Reception);
    for (id, name, _) in people.iter().take(3) {
        store.sign_in(&Actor::person(*id, *name, Role::Staff), *id)?;
    }
    let key = store.add_key(&admin, master.clone(), "M-12")?;
    store.add_key(&admin, master, "M-13")?;
    store.checkout_key(&Actor::person(people[0].0, people[0].1, Role::KeyDesk), CheckoutRequest { key, customer: Email::parse("jan@demo.lodge")?, due_at: None })?;
    store.add_item(&admin, NewItem { asset_number: "D-7".into(), activation_code: "LODGE-D7".into(), name: "Drill".into(), item_type: "drill".into() })?;
    store.add_item(&admin, NewItem { asset_number: "L-2".into(), activation_code: "LODGE-L2".into(), name: "Ladder".into(), item_type: "ladder".into() })?;
    store.activate_equipment(&Actor::person(people[1].0, people[1].1, Role::Worker), "LODGE-D7")?;
    let kiosk = Actor::kiosk(DeviceId::new());
    let guest = |name: &str, company: &str| GuestForm {
        name: name.into(),
        company: company.into(),
        host: Some(people[0].0),
        purpose: Some("Meeting".into()),
        consent: true,
        ..Default::default()
    };
    let visit = store.register_guest(&kiosk, guest("Maria Garcia", "Acme"))?;
    store.admit(&desk, AdmitRequest { visit, card: CardNumber::new(105)?, take_over: false })?;
    store.register_guest(&kiosk, guest("Tom Becker", "Northwind"))?;
    Ok(site)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_site_has_someone_at_every_desk() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("demo.sqlite"), std::sync::Arc::new(crate::SystemClock)).unwrap();
        create_demo_site(&mut store).unwrap();
        let list = store.evacuation_list().unwrap();
        assert_eq!((list.people.len(), list.guests.len()), (3, 1));
        assert_eq!(store.waiting_guests().unwrap().len(), 1);
        assert_eq!(store.equipment_held().unwrap().len(), 1);
        assert!(store.conflicts().unwrap().is_empty());
    }
}
