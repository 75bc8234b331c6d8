//! Marks of one roll call made on several offline replicas, merged in any
//! order, give every replica the same standing for everyone: two marshals
//! marking the same person is never a conflict.

use lodge_core::roll_call::{Accountable, Standing, StartRollCall};
use lodge_core::{Actor, Role};
use proptest::prelude::*;

use super::replicas::Replicas;

fn standing(i: u8) -> Standing {
    [Standing::Safe, Standing::NotHere, Standing::Missing][usize::from(i % 3)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 100, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_marks_merge_the_same_in_any_order(
        replicas in 2usize..=4,
        // (replica, person marked, standing, seconds later)
        marks in prop::collection::vec((0usize..4, 0usize..3, 0u8..3, 0i64..3), 1..12),
        merges in prop::collection::vec((0usize..4, 0usize..4), 0..12),
        end_on in prop::option::of(0usize..4),
    ) {
        let mut r = Replicas::new(replicas);
        let admin = Actor::site_founder("Ada Admin");
        for i in 0..3 {
            let (person, actor) = (r.people[i], r.person(i, Role::Staff));
            r.stores[0].sign_in(&actor, person).unwrap();
        }
        let id = r.stores[0].start_roll_call(&admin, StartRollCall::default()).unwrap();
        r.sync_all();
        for &(replica, person, s, later) in &marks {
            let replica = replica % replicas;
            r.clock.advance(later * 1000);
            let who = Accountable::Staff { person: r.people[person] };
            r.stores[replica].mark_roll_call(&admin, id, who, standing(s)).unwrap();
        }
        if let Some(replica) = end_on {
            r.stores[replica % replicas].end_roll_call(&admin, id).unwrap();
        }
        for &(a, b) in &merges {
            r.sync(a % replicas, b % replicas);
        }
        r.sync_all();
        let first = r.stores[0].roll_call(id).unwrap().unwrap();
        for store in &r.stores[1..] {
            prop_assert_eq!(&store.roll_call(id).unwrap().unwrap(), &first);
            prop_assert!(store.conflicts().unwrap().is_empty());
        }
        prop_assert_eq!(first.summary.ended_at.is_some(), end_on.is_some());
        // Each person stands as their latest mark says (time, then id: at
        // equal times either may win, the same everywhere).
        for e in &first.entries {
            let Accountable::Staff { person } = e.who else { unreachable!() };
            let i = r.people.iter().position(|p| *p == person).unwrap();
            let theirs: Vec<Standing> = marks.iter().filter(|m| m.1 == i).map(|m| standing(m.2)).collect();
            if theirs.is_empty() {
                prop_assert_eq!(e.standing, Standing::Missing);
            } else {
                prop_assert!(theirs.contains(&e.standing));
            }
        }
    }
}
