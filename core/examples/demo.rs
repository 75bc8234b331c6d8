//! A demo site on a local store: people, keys, equipment, guests waiting and
//! in the building, staff signed in. Prints what each desk would see.
//!
//! `cargo run -p lodge-core --example demo -- demo-data/lodge.sqlite`

use std::sync::Arc;

use anyhow::Context;
use lodge_core::equipment::NewItem;
use lodge_core::key_loan::{CheckoutRequest, LoanFilter};
use lodge_core::person::PersonForm;
use lodge_core::visit::{AdmitRequest, GuestForm};
use lodge_core::{Actor, CardNumber, DepartmentId, DeviceId, Email, KeyTypeId, NewSite, RepairCategoryId, Role, Store, SystemClock};

fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "demo-data/lodge.sqlite".into());
    if let Some(dir) = std::path::Path::new(&path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut store = Store::open(&path, Arc::new(SystemClock)).with_context(|| format!("opening {path}"))?;
    if store.site_settings()?.is_none() {
        fill(&mut store)?;
        println!("Created the demo site in {path}.\n");
    }
    show(&store)
}

fn fill(store: &mut Store) -> anyhow::Result<()> {
    let admin = Actor::site_founder("Demo Admin");
    store.create_site(&admin, NewSite { name: "Lodge Demo House".into(), time_zone: "Europe/Warsaw".into() })?;
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
    Ok(())
}

fn show(store: &Store) -> anyhow::Result<()> {
    let site = store.site_settings()?.context("a site")?;
    println!("{} ({})", site.name, site.time_zone);
    let evacuation = store.evacuation_list()?;
    println!("\nIn the building now: {}", evacuation.headcount());
    for p in &evacuation.people {
        println!("  staff  {:<22} since {}", p.name, p.since);
    }
    for g in &evacuation.guests {
        if let lodge_core::visit::VisitState::Admitted { card, since } = g.state {
            println!("  guest  {:<22} card {card}, host {}, since {since}", g.guest_name, g.host_name);
        }
    }
    println!("\nWaiting at the desk:");
    for g in store.waiting_guests()? {
        println!("  {} ({}) for {}", g.guest_name, g.company, g.host_name);
    }
    println!("\nKeys out:");
    for l in store.loans(LoanFilter::Out)? {
        println!("  {} with {}, due {}", l.label, l.customer_name, l.due_at);
    }
    println!("\nEquipment out:");
    for i in store.equipment_held()? {
        println!("  {} {} with {}", i.name, i.asset_number, i.holder_name.unwrap_or_default());
    }
    println!("\nFree guest cards: {}", store.free_cards(Some(&lodge_core::CardTypeId::parse("guest")?))?.len());
    println!("Open conflicts: {}", store.conflicts()?.len());
    Ok(())
}
