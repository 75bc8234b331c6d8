//! Reads of one announcement made on several offline replicas, merged in
//! any order, give every replica the same readers and the same counts.

use lodge_core::announcement::{Audience, Kind, NewAnnouncement};
use lodge_core::{Actor, DeviceId, Role};
use proptest::prelude::*;

use super::replicas::Replicas;

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 100, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_acknowledgements_merge_the_same_in_any_order(
        replicas in 2usize..=4,
        // (replica, person, on a device of its own?, minutes later)
        reads in prop::collection::vec((0usize..4, 0usize..3, any::<bool>(), 0i64..5), 1..10),
        merges in prop::collection::vec((0usize..4, 0usize..4), 0..12),
    ) {
        let mut r = Replicas::new(replicas);
        let admin = Actor::site_founder("Ada Admin");
        let id = r.stores[0]
            .announce(&admin, NewAnnouncement { kind: Kind::Emergency, audience: Audience::AllStaff, title: String::new(), text: "Leave by the east stairs".into() })
            .unwrap();
        r.sync_all();
        // One device per (replica, person): a phone that is offline.
        let devices: Vec<Vec<DeviceId>> = (0..replicas).map(|_| (0..3).map(|_| DeviceId::new()).collect()).collect();
        for &(replica, person, on_device, later) in &reads {
            let replica = replica % replicas;
            r.clock.advance(later * 60_000);
            let mut actor = r.person(person, Role::Staff);
            if on_device {
                actor.device = Some(devices[replica][person]);
            }
            r.stores[replica].acknowledge(&actor, id).unwrap();
        }
        // Some merges in a drawn order, then everyone with everyone.
        for &(a, b) in &merges {
            r.sync(a % replicas, b % replicas);
        }
        r.sync_all();
        let first = r.stores[0].announcement_reach(id).unwrap().unwrap();
        for store in &r.stores[1..] {
            prop_assert_eq!(&store.announcement_reach(id).unwrap().unwrap(), &first);
        }
        let expected_people: std::collections::BTreeSet<usize> = reads.iter().map(|&(_, p, _, _)| p).collect();
        prop_assert_eq!(first.people_read as usize, expected_people.len());
        let expected_readers: std::collections::BTreeSet<(Option<usize>, usize)> =
            reads.iter().map(|&(rep, p, dev, _)| (dev.then_some(rep % replicas), p)).collect();
        prop_assert_eq!(first.readers.len(), expected_readers.len());
    }
}
