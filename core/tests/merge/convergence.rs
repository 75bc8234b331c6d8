//! Property: three replicas apply random commands concurrently and merge in
//! random orders; in the end every replica shows the same projections and
//! every broken invariant is listed as a conflict.

use std::collections::BTreeMap;

use lodge_core::key_loan::{CheckoutRequest, LoanFilter};
use lodge_core::visit::{AdmitRequest, ExpectedGuest, GuestForm, RejectReason};
use lodge_core::{Actor, CardNumber, ConflictKind, DeviceId, Email, Role, Timestamp, VisitId};
use proptest::prelude::*;

use super::replicas::{Replicas, projections};

const REPLICAS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Register { at: usize },
    Admit { at: usize, visit: usize, card: u32 },
    Release { at: usize, visit: usize },
    Reject { at: usize, visit: usize },
    Expect { at: usize },
    Arrive { at: usize, visit: usize },
    SignIn { at: usize, person: usize },
    SignOut { at: usize, person: usize },
    Lend { at: usize, key: usize, person: usize },
    Return { at: usize, key: usize },
    Grant { at: usize, person: usize },
    Take { at: usize, person: usize, item: usize },
    Bring { at: usize, person: usize, item: usize },
    Tick { ms: i64 },
    Sync { a: usize, b: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let r = 0..REPLICAS;
    prop_oneof![
        3 => r.clone().prop_map(|at| Op::Register { at }),
        4 => (r.clone(), 0..8usize, 100..104u32).prop_map(|(at, visit, card)| Op::Admit { at, visit, card }),
        2 => (r.clone(), 0..8usize).prop_map(|(at, visit)| Op::Release { at, visit }),
        1 => (r.clone(), 0..8usize).prop_map(|(at, visit)| Op::Reject { at, visit }),
        2 => r.clone().prop_map(|at| Op::Expect { at }),
        2 => (r.clone(), 0..8usize).prop_map(|(at, visit)| Op::Arrive { at, visit }),
        3 => (r.clone(), 0..3usize).prop_map(|(at, person)| Op::SignIn { at, person }),
        2 => (r.clone(), 0..3usize).prop_map(|(at, person)| Op::SignOut { at, person }),
        3 => (r.clone(), 0..3usize, 0..3usize).prop_map(|(at, key, person)| Op::Lend { at, key, person }),
        2 => (r.clone(), 0..3usize).prop_map(|(at, key)| Op::Return { at, key }),
        1 => (r.clone(), 0..3usize).prop_map(|(at, person)| Op::Grant { at, person }),
        3 => (r.clone(), 0..3usize, 0..2usize).prop_map(|(at, person, item)| Op::Take { at, person, item }),
        2 => (r.clone(), 0..3usize, 0..2usize).prop_map(|(at, person, item)| Op::Bring { at, person, item }),
        2 => (1i64..600_000).prop_map(|ms| Op::Tick { ms }),
        // Weeks: a key's loans then begin in several months' loan books,
        // and sign-ins in several presence months.
        1 => (7i64..20).prop_map(|days| Op::Tick { ms: days * 86_400_000 }),
        2 => (r.clone(), r).prop_map(|(a, b)| Op::Sync { a, b }),
    ]
}

/// Apply one op; refusals are part of the game and change nothing.
fn apply(r: &mut Replicas, visits: &mut Vec<VisitId>, op: &Op) {
    let desk = r.person(0, Role::Reception);
    let kd = r.person(0, Role::KeyDesk);
    match *op {
        Op::Register { at } => {
            let form = GuestForm {
                name: format!("Guest {}", visits.len()),
                company: "Acme".into(),
                host: Some(r.people[0]),
                consent: true,
                ..Default::default()
            };
            let id = r.stores[at].register_guest(&Actor::kiosk(DeviceId::new()), form).unwrap();
            visits.push(id);
        }
        Op::Admit { at, visit, card } => {
            if let Some(&v) = visits.get(visit) {
                let _ = r.stores[at].admit(&desk, AdmitRequest { visit: v, card: CardNumber::new(card).unwrap(), take_over: false });
            }
        }
        Op::Release { at, visit } => {
            if let Some(&v) = visits.get(visit) {
                let _ = r.stores[at].release(&desk, v);
            }
        }
        Op::Reject { at, visit } => {
            if let Some(&v) = visits.get(visit) {
                let _ = r.stores[at].reject(&desk, v, RejectReason::Mistake);
            }
        }
        Op::Expect { at } => {
            let zone = r.stores[at].site_settings().unwrap().unwrap().time_zone;
            let today = lodge_core::site::local_date(&zone, lodge_core::Clock::now(&r.clock)).unwrap().format("%Y-%m-%d").to_string();
            let guest = ExpectedGuest { name: format!("Expected {}", visits.len()), company: "Acme".into(), email: None, host: Some(r.people[0]), day: today, purpose: None };
            if let Ok(invitation) = r.stores[at].expect_guest(&desk, guest) {
                visits.push(invitation.visit);
            }
        }
        Op::Arrive { at, visit } => {
            if let Some(&v) = visits.get(visit) {
                let _ = r.stores[at].guest_arrived(&desk, v);
            }
        }
        Op::SignIn { at, person } => {
            let me = r.person(person, Role::Staff);
            let _ = r.stores[at].sign_in(&me, r.people[person]);
        }
        Op::SignOut { at, person } => {
            let me = r.person(person, Role::Staff);
            let _ = r.stores[at].sign_out(&me, r.people[person]);
        }
        Op::Lend { at, key, person } => {
            let request = CheckoutRequest { key: r.keys[key], customer: Email::parse(&format!("p{person}@lodge.test")).unwrap(), due_at: None };
            let _ = r.stores[at].checkout_key(&kd, request);
        }
        Op::Return { at, key } => {
            let _ = r.stores[at].return_key(&kd, r.keys[key]);
        }
        Op::Grant { at, person } => {
            let until = Timestamp::from_millis(lodge_core::Clock::now(&r.clock).millis() + 86_400_000);
            let _ = r.stores[at].grant_exception(&kd, r.people[person], r.master.clone(), 2, until);
        }
        Op::Take { at, person, item } => {
            let worker = r.person(person, Role::Worker);
            let _ = r.stores[at].activate_equipment(&worker, &r.items[item].1.clone());
        }
        Op::Bring { at, person, item } => {
            let worker = r.person(person, Role::Worker);
            let _ = r.stores[at].deactivate_equipment(&worker, &r.items[item].1.clone());
        }
        Op::Tick { ms } => r.clock.advance(ms),
        Op::Sync { a, b } => r.sync(a, b),
    }
}

/// Recompute the invariants from what the store shows and check each broken
/// one is listed as a conflict.
fn every_broken_invariant_is_a_conflict(store: &lodge_core::Store) {
    let conflicts: Vec<String> = store.conflicts().unwrap().into_iter().map(|c| c.id).collect();
    let mut by_card: BTreeMap<CardNumber, usize> = BTreeMap::new();
    for v in store.guests_in().unwrap() {
        if let lodge_core::visit::VisitState::Admitted { card, .. } = v.state {
            *by_card.entry(card).or_default() += 1;
        }
    }
    for (card, n) in by_card {
        if n > 1 {
            assert!(conflicts.contains(&format!("card:{card}")), "card {card} on {n} visits but no conflict in {conflicts:?}");
        }
    }
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    for loan in store.loans(LoanFilter::Out).unwrap() {
        *by_key.entry(loan.key.to_string()).or_default() += 1;
    }
    for (key, n) in by_key {
        if n > 1 {
            assert!(conflicts.contains(&format!("key:{key}")), "key {key} lent {n} times but no conflict");
        }
    }
    for c in store.conflicts().unwrap() {
        assert!(!c.summary.is_empty());
        assert!(c.parties.len() >= 2 || c.kind == ConflictKind::VisitAdmittedTwice, "{c:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_whatever_the_merge_order(
        ops in prop::collection::vec(op(), 10..45),
        final_order in prop::sample::select(vec![
            [(0usize, 1usize), (1, 2), (0, 2)],
            [(0, 1), (0, 2), (1, 2)],
            [(1, 2), (0, 1), (0, 2)],
            [(1, 2), (0, 2), (0, 1)],
            [(0, 2), (0, 1), (1, 2)],
            [(0, 2), (1, 2), (0, 1)],
        ]),
    ) {
        let mut r = Replicas::new(REPLICAS);
        let mut visits = Vec::new();
        for op in &ops {
            apply(&mut r, &mut visits, op);
        }
        // Merge in the drawn order, then once more around so everything
        // reaches everyone.
        for &(a, b) in &final_order {
            r.sync(a, b);
        }
        for &(a, b) in &final_order {
            r.sync(a, b);
        }
        let first = projections(&r.stores[0]);
        for store in &r.stores[1..] {
            // Line by line, so a failure names the projection that differs.
            for (mine, theirs) in first.lines().zip(projections(store).lines()) {
                prop_assert_eq!(mine, theirs);
            }
        }
        for store in &r.stores {
            every_broken_invariant_is_a_conflict(store);
        }
        // Merged changes are kept as the sync messages carried them: each
        // store, opened afresh and re-read from its file alone, shows the
        // same.
        for i in 0..r.stores.len() {
            let path = r.stores[i].path().to_path_buf();
            r.stores[i] = lodge_core::Store::open(&path, std::sync::Arc::new(r.clock.clone())).unwrap();
            r.stores[i].rebuild_projections().unwrap();
            for (mine, reread) in first.lines().zip(projections(&r.stores[i]).lines()) {
                prop_assert_eq!(mine, reread);
            }
        }
    }
}
