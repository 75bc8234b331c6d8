//! Several devices of one site, each with its own store file, sharing one
//! clock so that their projections can be compared.

use std::sync::Arc;

use lodge_core::equipment::NewItem;
use lodge_core::person::PersonForm;
use lodge_core::{
    Actor, AffiliationId, ItemId, KeyId, KeyTypeId, ManualClock, NewSite, PersonId, RepairCategoryId, Role, Store, Timestamp, exchange,
};
use tempfile::TempDir;

pub const MONDAY_8AM: i64 = 1_795_420_800_000;

pub struct Replicas {
    pub stores: Vec<Store>,
    pub clock: ManualClock,
    pub people: Vec<PersonId>,
    pub keys: Vec<KeyId>,
    pub items: Vec<(ItemId, String)>,
    pub master: KeyTypeId,
    _dir: TempDir,
}

fn name(i: usize) -> String {
    format!("replica-{i}")
}

impl Replicas {
    /// `n` replicas of a site with three people, three keys of one type and
    /// two items; replica 0 made it, the others joined and synced.
    pub fn new(n: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(Timestamp::from_millis(MONDAY_8AM));
        let mut first = Store::open(dir.path().join("replica-0.sqlite"), Arc::new(clock.clone())).unwrap();
        let admin = Actor::site_founder("Ada Admin");
        let site = first.create_site(&admin, NewSite { name: "Lodge House".into(), time_zone: "UTC".into() }).unwrap();
        first.set_affiliation(&admin, AffiliationId::parse("staff").unwrap(), "Staff", false).unwrap();
        let master = KeyTypeId::parse("master").unwrap();
        first.set_key_type(&admin, master.clone(), "Master", 14).unwrap();
        first.set_repair_category(&admin, RepairCategoryId::parse("electrical").unwrap(), "Electrical").unwrap();
        let people: Vec<PersonId> = ["Anna Kowalska", "Jan Nowak", "Ola Lis"]
            .iter()
            .enumerate()
            .map(|(i, n)| {
                first
                    .create_person(
                        &admin,
                        PersonForm {
                            name: (*n).into(),
                            email: Some(format!("p{i}@lodge.test")),
                            affiliation: Some(AffiliationId::parse("staff").unwrap()),
                            roles: vec![Role::Staff, Role::Worker],
                            hosts_guests: true,
                            ..Default::default()
                        },
                    )
                    .unwrap()
            })
            .collect();
        let keys = (1..=3).map(|i| first.add_key(&admin, master.clone(), &format!("M-{i}")).unwrap()).collect();
        let items = ["D-7", "L-2"]
            .iter()
            .map(|asset| {
                let code = format!("CODE-{asset}");
                let id = first
                    .add_item(&admin, NewItem { asset_number: (*asset).into(), activation_code: code.clone(), name: "Tool".into(), item_type: "tool".into() })
                    .unwrap();
                (id, code)
            })
            .collect();
        let mut stores = vec![first];
        for i in 1..n {
            let mut store = Store::open(dir.path().join(format!("{}.sqlite", name(i))), Arc::new(clock.clone())).unwrap();
            store.join_site(site).unwrap();
            exchange(&mut stores[0], &name(0), &mut store, &name(i)).unwrap();
            stores.push(store);
        }
        Replicas { stores, clock, people, keys, items, master, _dir: dir }
    }

    /// Replica `i`'s store file.
    pub fn path(&self, i: usize) -> std::path::PathBuf {
        self._dir.path().join(name(i) + ".sqlite")
    }

    pub fn sync(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = self.stores.split_at_mut(hi);
        exchange(&mut left[lo], &name(lo), &mut right[0], &name(hi)).unwrap();
    }

    /// Every pair, twice, so everything reaches everyone.
    pub fn sync_all(&mut self) {
        for _ in 0..2 {
            for a in 0..self.stores.len() {
                for b in a + 1..self.stores.len() {
                    self.sync(a, b);
                }
            }
        }
    }

    pub fn person(&self, i: usize, role: Role) -> Actor {
        let names = ["Anna Kowalska", "Jan Nowak", "Ola Lis"];
        Actor::person(self.people[i], names[i], role)
    }
}

/// Every projection a user can see, as text, for comparing replicas.
pub fn projections(store: &Store) -> String {
    use lodge_core::key_loan::LoanFilter;
    use lodge_core::visit::VisitSearch;
    let mut out = String::new();
    let mut add = |label: &str, value: String| {
        out.push_str(label);
        out.push_str(": ");
        out.push_str(&value);
        out.push('\n');
    };
    add("waiting", format!("{:?}", store.waiting_guests().unwrap()));
    add("expected today", format!("{:?}", store.expected_today().unwrap()));
    add("guests in", format!("{:?}", store.guests_in().unwrap()));
    add("people in", format!("{:?}", store.people_in().unwrap()));
    add("free cards", format!("{:?}", store.free_cards(None).unwrap()));
    add("history", format!("{:?}", store.visit_history(&VisitSearch::default()).unwrap()));
    add("loans", format!("{:?}", store.loans(LoanFilter::All).unwrap()));
    add("keys", format!("{:?}", store.keys(None).unwrap()));
    add("held", format!("{:?}", store.equipment_held().unwrap()));
    add("free items", format!("{:?}", store.free_equipment().unwrap()));
    add("flagged", format!("{:?}", store.flagged_custody().unwrap()));
    add("repairs", format!("{:?}", store.open_repairs().unwrap()));
    add("people", format!("{:?}", store.people("").unwrap()));
    add("directory", format!("{:?}", store.directory("").unwrap()));
    add("card types", format!("{:?}", store.card_types().unwrap()));
    add("conflicts", format!("{:?}", store.conflicts().unwrap()));
    add("documents", format!("{:?}", store.documents().unwrap()));
    add("tombstones", format!("{:?}", store.tombstones().unwrap()));
    out
}
