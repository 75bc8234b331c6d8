//! Seeds a store with a year of a busy site, through the same commands the
//! app uses: shared by the `seed_year` example and the `commands` benchmark.
//!
//! At full size: 50,000 visits, 500 people signing in and out every working
//! day, 300 keys with 5,000 loans, 2,000 items with 50,000 custody events and
//! 3,000 repair tickets.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use lodge_core::equipment::NewItem;
use lodge_core::key_loan::CheckoutRequest;
use lodge_core::person::PersonForm;
use lodge_core::repair::RepairState;
use lodge_core::visit::{AdmitRequest, GuestForm};
use lodge_core::{
    Actor, CardNumber, DeviceId, Email, ItemId, KeyId, KeyTypeId, ManualClock, NewSite, PersonId, RepairCategoryId, Role, Store,
    Timestamp,
};

/// How big a year to seed.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub visits: usize,
    pub people: usize,
    pub keys: usize,
    pub loans: usize,
    pub items: usize,
    pub custody_events: usize,
    pub repairs: usize,
    pub working_days: usize,
}

impl Size {
    pub const YEAR: Size = Size {
        visits: 50_000,
        people: 500,
        keys: 300,
        loans: 5_000,
        items: 2_000,
        custody_events: 50_000,
        repairs: 3_000,
        working_days: 250,
    };

    /// A small site for smoke runs (`cargo test --benches`).
    pub const SMALL: Size =
        Size { visits: 200, people: 20, keys: 10, loans: 40, items: 20, custody_events: 200, repairs: 20, working_days: 10 };
}

/// 2025-11-24 00:00 UTC, a Monday: the seeded year ends near "now".
pub const YEAR_START: i64 = 1_763_942_400_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

pub struct Seeded {
    pub people: Vec<PersonId>,
    pub keys: Vec<KeyId>,
    pub items: Vec<(ItemId, String)>,
    pub master: KeyTypeId,
}

fn person_actor(p: PersonId, role: Role) -> Actor {
    Actor::person(p, "Seeder", role)
}

/// Fill a new store at `path` with a year of `size`, printing progress.
pub fn seed(path: &Path, size: Size, clock: ManualClock) -> Seeded {
    clock.set(Timestamp::from_millis(YEAR_START));
    let mut store = Store::open(path, Arc::new(clock.clone())).expect("open");
    let admin = Actor::site_founder("Seeder");
    store.create_site(&admin, NewSite { name: "Busy House".into(), time_zone: "Europe/Warsaw".into() }).unwrap();
    let master = KeyTypeId::parse("master").unwrap();
    store.set_key_type(&admin, master.clone(), "Master", 14).unwrap();
    let electrical = RepairCategoryId::parse("electrical").unwrap();
    store.set_repair_category(&admin, electrical.clone(), "Electrical").unwrap();
    let people: Vec<PersonId> = (0..size.people)
        .map(|i| {
            store
                .create_person(
                    &admin,
                    PersonForm {
                        name: format!("Person {i:04}"),
                        email: Some(format!("p{i}@busy.test")),
                        roles: vec![Role::Staff, Role::Worker],
                        hosts_guests: i % 5 == 0,
                        ..Default::default()
                    },
                )
                .unwrap()
        })
        .collect();
    let hosts: Vec<PersonId> = people.iter().copied().step_by(5).collect();
    let keys: Vec<KeyId> = (0..size.keys).map(|i| store.add_key(&admin, master.clone(), &format!("K-{i:03}")).unwrap()).collect();
    let items: Vec<(ItemId, String)> = (0..size.items)
        .map(|i| {
            let code = format!("ITEM-{i:05}");
            let id = store
                .add_item(&admin, NewItem { asset_number: format!("A-{i:05}"), activation_code: code.clone(), name: "Drill".into(), item_type: "drill".into() })
                .unwrap();
            (id, code)
        })
        .collect();

    let desk = person_actor(people[0], Role::Admin);
    let days = size.working_days.max(1);
    let per_day = |total: usize, day: usize| total / days + usize::from(day < total % days);
    let started = std::time::Instant::now();
    let mut loan_cursor = 0usize;
    let mut ticket_cursor = 0usize;
    for day in 0..days {
        // Working days only: skip weekends.
        let week = day / 5;
        let day_start = YEAR_START + (week * 7 + day % 5) as i64 * DAY;
        clock.set(Timestamp::from_millis(day_start + 7 * HOUR));
        for p in &people {
            store.sign_in(&person_actor(*p, Role::Staff), *p).unwrap();
            clock.advance(20);
        }
        // Visits: register, admit with a free card, release; cards 100-299 cycle.
        let visits_today = per_day(size.visits, day);
        let mut open = Vec::new();
        for v in 0..visits_today {
            clock.advance(60_000);
            let visit = store
                .register_guest(
                    &Actor::kiosk(DeviceId::new()),
                    GuestForm {
                        name: format!("Guest {day}-{v}"),
                        company: format!("Company {}", v % 37),
                        email: Some(format!("g{day}x{v}@guest.test")),
                        host: Some(hosts[v % hosts.len()]),
                        consent: true,
                        ..Default::default()
                    },
                )
                .unwrap();
            let card = CardNumber::new(100 + (v % 200) as u32).unwrap();
            store.admit(&desk, AdmitRequest { visit, card, take_over: true }).unwrap();
            open.push(visit);
            if open.len() > 40 {
                let leaving = open.remove(0);
                let _ = store.release(&desk, leaving);
            }
        }
        // Keys: lend today's share, return those lent two weeks ago.
        for _ in 0..per_day(size.loans, day) {
            let key = keys[loan_cursor % keys.len()];
            let customer = loan_cursor % people.len();
            if loan_cursor >= keys.len() {
                let _ = store.return_key(&desk, key);
            }
            let _ = store.checkout_key(&desk, CheckoutRequest { key, customer: Email::parse(&format!("p{customer}@busy.test")).unwrap(), due_at: None });
            loan_cursor += 1;
            clock.advance(1_000);
        }
        // Equipment: take and return pairs.
        let scans_today = per_day(size.custody_events, day) / 2;
        for s in 0..scans_today {
            let (_, code) = &items[(day * 131 + s) % items.len()];
            let worker = person_actor(people[(day + s) % people.len()], Role::Worker);
            let _ = store.activate_equipment(&worker, code);
            clock.advance(500);
            let _ = store.deactivate_equipment(&worker, code);
        }
        // Repairs: open, move along, resolve.
        for _ in 0..per_day(size.repairs, day) {
            let (item, _) = items[(ticket_cursor * 17) % items.len()];
            let worker = person_actor(people[ticket_cursor % people.len()], Role::Worker);
            let ticket = store.open_ticket(&worker, item, electrical.clone(), "Does not start").unwrap();
            store.set_repair_state(&admin, ticket, RepairState::InProgress).unwrap();
            if !ticket_cursor.is_multiple_of(4) {
                store.set_repair_state(&admin, ticket, RepairState::Resolved).unwrap();
            }
            ticket_cursor += 1;
        }
        for visit in open.drain(..) {
            let _ = store.release(&desk, visit);
        }
        clock.set(Timestamp::from_millis(day_start + 17 * HOUR));
        for p in &people {
            let _ = store.sign_out(&person_actor(*p, Role::Staff), *p);
            clock.advance(20);
        }
        if day % 25 == 24 {
            eprintln!("seeded day {} of {days} after {:.0?}", day + 1, started.elapsed());
        }
    }
    // Leave a working morning: half the staff in, some guests admitted.
    for p in people.iter().step_by(2) {
        store.sign_in(&person_actor(*p, Role::Staff), *p).unwrap();
    }
    Seeded { people, keys, items, master }
}
