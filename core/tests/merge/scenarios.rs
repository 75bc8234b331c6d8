//! Named offline scenarios between replicas.

use lodge_core::key_loan::CheckoutRequest;
use lodge_core::visit::{AdmitRequest, CardFix, GuestForm, RejectReason, VisitState};
use lodge_core::{Actor, CardNumber, ConflictKind, DeviceId, DocId, Email, Role, StoreError, VisitId};

use super::replicas::{Replicas, projections};

fn card(n: u32) -> CardNumber {
    CardNumber::new(n).unwrap()
}

fn register(r: &mut Replicas, replica: usize, name: &str) -> VisitId {
    let host = r.people[0];
    r.stores[replica]
        .register_guest(
            &Actor::kiosk(DeviceId::new()),
            GuestForm { name: name.into(), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() },
        )
        .unwrap()
}

fn desk(r: &Replicas) -> Actor {
    r.person(0, Role::Reception)
}

#[test]
fn a_joined_replica_sees_everything() {
    let r = Replicas::new(2);
    assert_eq!(projections(&r.stores[0]), projections(&r.stores[1]));
    assert_eq!(r.stores[1].people("").unwrap().len(), 3);
}

#[test]
fn card_given_twice_offline_is_one_conflict_with_one_winner_everywhere() {
    let mut r = Replicas::new(2);
    let a = register(&mut r, 0, "Alice Guest");
    let b = register(&mut r, 0, "Bob Guest");
    r.sync(0, 1);
    let d = desk(&r);
    r.stores[0].admit(&d, AdmitRequest { visit: a, card: card(105), take_over: false }).unwrap();
    r.clock.advance(60_000);
    r.stores[1].admit(&d, AdmitRequest { visit: b, card: card(105), take_over: false }).unwrap();
    r.sync(0, 1);
    for store in &r.stores {
        let conflicts = store.conflicts().unwrap();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].kind, ConflictKind::CardOnTwoVisits);
        assert_eq!(conflicts[0].id, "card:105");
        assert_eq!(conflicts[0].winner, a.to_string(), "the earlier admission wins for now");
        assert!(conflicts[0].summary.contains("Alice Guest"), "{}", conflicts[0].summary);
        // The desk chooses between the two guests, the provisional winner first.
        let choices = store.conflict_choices(&conflicts[0]).unwrap();
        let sides: Vec<(String, &str)> = choices.iter().map(|c| (c.party.clone(), c.name.as_str())).collect();
        assert_eq!(sides, [(a.to_string(), "Alice Guest"), (b.to_string(), "Bob Guest")]);
    }
    assert_eq!(projections(&r.stores[0]), projections(&r.stores[1]));
    // Bob really holds 106: fixed on one replica, gone on both.
    r.stores[1].resolve_card_conflict(&d, card(105), a, &[(b, CardFix::Reissue(card(106)))]).unwrap();
    r.sync(0, 1);
    for store in &r.stores {
        assert!(store.conflicts().unwrap().is_empty());
        assert_eq!(store.guests_in().unwrap().len(), 2);
    }
}

#[test]
fn one_guest_admitted_twice_offline_is_a_conflict() {
    let mut r = Replicas::new(2);
    let v = register(&mut r, 0, "Alice Guest");
    r.sync(0, 1);
    let d = desk(&r);
    r.stores[0].admit(&d, AdmitRequest { visit: v, card: card(105), take_over: false }).unwrap();
    r.clock.advance(1000);
    r.stores[1].admit(&d, AdmitRequest { visit: v, card: card(106), take_over: false }).unwrap();
    r.sync(0, 1);
    for store in &r.stores {
        let c = store.conflicts().unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].kind, ConflictKind::VisitAdmittedTwice);
        assert_eq!(c[0].winner, "105");
    }
    r.stores[0].reissue_card(&d, v, card(106)).unwrap();
    r.sync(0, 1);
    assert!(r.stores[1].conflicts().unwrap().is_empty());
}

#[test]
fn a_key_lent_twice_offline_is_a_conflict_until_resolved() {
    let mut r = Replicas::new(2);
    let kd = r.person(0, Role::KeyDesk);
    let key = r.keys[0];
    let lend = |email: &str| CheckoutRequest { key, customer: Email::parse(email).unwrap(), due_at: None };
    let first = r.stores[0].checkout_key(&kd, lend("p1@lodge.test")).unwrap();
    r.clock.advance(1000);
    r.stores[1].checkout_key(&kd, lend("p2@lodge.test")).unwrap();
    r.sync(0, 1);
    for store in &r.stores {
        let c = store.conflicts().unwrap();
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].kind, ConflictKind::KeyLentTwice);
        assert_eq!(c[0].winner, first.to_string());
        // The desk says who really has it: one choice per loan, by name.
        let choices = store.conflict_choices(&c[0]).unwrap();
        assert_eq!(choices.len(), 2);
        assert_eq!(choices[0].party, first.to_string());
        let p1 = store.person(r.people[1]).unwrap().unwrap().name;
        let p2 = store.person(r.people[2]).unwrap().unwrap().name;
        assert_eq!(choices.iter().map(|c| c.name.clone()).collect::<Vec<_>>(), [p1, p2]);
    }
    r.stores[1].resolve_key_conflict(&kd, key, first).unwrap();
    r.sync(0, 1);
    for store in &r.stores {
        assert!(store.conflicts().unwrap().is_empty());
        assert_eq!(store.keys_held_by(r.people[1]).unwrap().len(), 1);
        assert!(store.keys_held_by(r.people[2]).unwrap().is_empty());
    }
}

#[test]
fn a_customer_over_the_limit_after_merge_is_a_conflict() {
    let mut r = Replicas::new(2);
    let kd = r.person(0, Role::KeyDesk);
    let (k1, k2) = (r.keys[0], r.keys[1]);
    let lend = |key| CheckoutRequest { key, customer: Email::parse("p1@lodge.test").unwrap(), due_at: None };
    r.stores[0].checkout_key(&kd, lend(k1)).unwrap();
    r.clock.advance(1000);
    r.stores[1].checkout_key(&kd, lend(k2)).unwrap();
    r.sync(0, 1);
    for store in &r.stores {
        let c = store.conflicts().unwrap();
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].kind, ConflictKind::OverKeyLimit);
        assert!(c[0].summary.contains("Take back the extra key or grant an exception"));
    }
    r.stores[0].return_key(&kd, k2).unwrap();
    r.sync(0, 1);
    assert!(r.stores[1].conflicts().unwrap().is_empty());
}

#[test]
fn a_double_sign_in_offline_merges_into_one_month_and_is_flagged() {
    let mut r = Replicas::new(2);
    let me = r.person(1, Role::Staff);
    let p = r.people[1];
    r.stores[0].sign_in(&me, p).unwrap();
    r.clock.advance(5 * 60_000);
    r.stores[1].sign_in(&me, p).unwrap();
    r.sync(0, 1);
    let month_docs = |s: &lodge_core::Store| s.documents().unwrap().into_iter().filter(|d| d.as_str().starts_with("presence:")).count();
    assert_eq!(month_docs(&r.stores[0]), 1, "both devices made the same month document");
    let conflict = r.stores[0].conflict(&format!("presence:{p}")).unwrap().expect("double sign-in flagged");
    assert_eq!(conflict.kind, ConflictKind::SignedInTwice);
    assert_eq!(r.stores[1].conflicts().unwrap(), r.stores[0].conflicts().unwrap());
    // Two sign-ins to choose from, five minutes apart, the same on both.
    let choices = r.stores[0].conflict_choices(&conflict).unwrap();
    assert_eq!(choices, r.stores[1].conflict_choices(&conflict).unwrap());
    assert_eq!(choices.len(), 2);
    assert_eq!(choices[1].at.millis() - choices[0].at.millis(), 5 * 60_000);
    // The later one is the true one: the desk keeps it.
    let keep = lodge_core::EventId::parse(&choices[1].party).unwrap();
    let d = desk(&r);
    r.stores[1].resolve_presence_conflict(&d, p, keep).unwrap();
    r.sync(0, 1);
    for store in &r.stores {
        assert!(store.conflicts().unwrap().is_empty());
        let people_in = store.people_in().unwrap();
        assert_eq!(people_in.len(), 1);
        assert_eq!(people_in[0].since, choices[1].at, "in since the sign-in that was kept");
    }
}

/// Who is in is read back from the latest event to the last sign-out, and
/// a stay's events may lie in two months' documents: an earlier day's
/// stay (in and out) does not count, the two sign-ins on either side of
/// midnight at the month's end do, and the first of them is the one that
/// counts until the desk says otherwise.
#[test]
fn a_double_sign_in_across_the_month_end_is_flagged_from_the_last_sign_out() {
    let mut r = Replicas::new(2);
    let me = r.person(1, Role::Staff);
    let p = r.people[1];
    // 2026-11-30 08:00 UTC: a day's stay, seen by both devices.
    r.clock.set(lodge_core::Timestamp::from_millis(1_796_025_600_000));
    r.stores[0].sign_in(&me, p).unwrap();
    r.clock.advance(9 * 3_600_000);
    r.stores[0].sign_out(&me, p).unwrap();
    r.sync(0, 1);
    // 23:00 on one device; 00:30 the next day (December) on the other.
    r.clock.advance(6 * 3_600_000);
    let first = r.stores[0].sign_in(&me, p).unwrap();
    r.clock.advance(90 * 60_000);
    r.stores[1].sign_in(&me, p).unwrap();
    r.sync(0, 1);
    for store in &r.stores {
        let months: Vec<_> = store.documents().unwrap().into_iter().filter(|d| d.as_str().starts_with("presence:")).collect();
        assert_eq!(months.len(), 2, "November's and December's: {months:?}");
        let conflict = store.conflict(&format!("presence:{p}")).unwrap().expect("double sign-in flagged");
        assert_eq!(conflict.kind, ConflictKind::SignedInTwice);
        assert_eq!(store.conflict_choices(&conflict).unwrap().len(), 2, "the day's stay is not among them");
        let people_in = store.people_in().unwrap();
        assert_eq!(people_in.len(), 1);
        assert_eq!(people_in[0].since, first, "in since the first of the two");
    }
    // A sign-out closes both.
    r.clock.advance(60_000);
    r.stores[1].sign_out(&me, p).unwrap();
    r.sync(0, 1);
    for store in &r.stores {
        assert!(store.conflicts().unwrap().is_empty());
        assert!(store.people_in().unwrap().is_empty());
    }
}

#[test]
fn an_item_taken_by_two_workers_offline_is_with_the_later_scan() {
    let mut r = Replicas::new(2);
    let (item, code) = r.items[0].clone();
    let first = r.person(1, Role::Worker);
    let second = r.person(2, Role::Worker);
    r.stores[0].activate_equipment(&first, &code).unwrap();
    r.clock.advance(60_000);
    r.stores[1].activate_equipment(&second, &code).unwrap();
    r.sync(0, 1);
    for store in &r.stores {
        let held = store.equipment_held().unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].holder, Some(r.people[2]));
        let flagged = store.flagged_custody().unwrap();
        assert_eq!(flagged.len(), 1);
        assert_eq!((flagged[0].item, flagged[0].holder), (item, r.people[1]));
    }
}

#[test]
fn an_item_taken_offline_while_sent_to_the_workshop_is_a_conflict_until_brought_back() {
    use lodge_core::repair::RepairState;
    let mut r = Replicas::new(2);
    let (item, code) = r.items[0].clone();
    let admin = r.person(0, Role::Admin);
    let worker = r.person(1, Role::Worker);
    let category = lodge_core::RepairCategoryId::parse("electrical").unwrap();
    let ticket = r.stores[0].open_ticket(&admin, item, category, "It sparks").unwrap();
    r.sync(0, 1);
    // Offline on both sides: the desk sends it in, the worker takes it.
    r.stores[0].set_repair_state(&admin, ticket, RepairState::Stalled).unwrap();
    r.clock.advance(1000);
    r.stores[1].activate_equipment(&worker, &code).unwrap();
    r.sync(0, 1);
    for store in &r.stores {
        let c = store.conflicts().unwrap();
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].kind, ConflictKind::TakenInWorkshop);
        assert_eq!(c[0].id, format!("workshop:{item}"));
        assert_eq!(c[0].winner, r.people[1].to_string(), "the one who holds it, for now");
        assert!(c[0].summary.contains("while its repair ticket is stalled"), "{}", c[0].summary);
    }
    assert_eq!(projections(&r.stores[0]), projections(&r.stores[1]));
    // Brought back: the conflict is gone everywhere.
    r.stores[1].deactivate_equipment(&worker, &code).unwrap();
    r.sync(0, 1);
    for store in &r.stores {
        assert!(store.conflicts().unwrap().is_empty());
    }
}

#[test]
fn a_rejected_guest_is_purged_everywhere_and_never_comes_back() {
    let mut r = Replicas::new(3);
    let v = register(&mut r, 0, "Mallory Prankster");
    r.sync_all();
    assert!(r.stores[2].visit(v).unwrap().is_some());
    // Replica 2 is offline, still holding the visit, while replica 0 rejects it.
    let stale = r.stores[2].generate_sync_message("replica-0-old", &DocId::visit(v)).unwrap().expect("a first message");
    let d = desk(&r);
    r.stores[0].reject(&d, v, RejectReason::Other("test entry".into())).unwrap();
    r.sync(0, 1);
    // Replica 2 comes back through replica 1 only.
    r.sync(1, 2);
    r.sync(0, 2);
    for store in &r.stores {
        assert!(store.visit(v).unwrap().is_none());
        assert!(!store.documents().unwrap().contains(&DocId::visit(v)));
        assert!(store.tombstones().unwrap().contains(&DocId::visit(v)));
    }
    // A message about it from before the purge is refused, not resurrected.
    let err = r.stores[0].receive_sync_message("replica-2", &DocId::visit(v), &stale).unwrap_err();
    assert!(matches!(err, StoreError::Purged { .. }), "{err}");
    assert!(r.stores[0].visit(v).unwrap().is_none());
}

#[test]
fn a_corrupt_sync_message_is_refused_and_changes_nothing() {
    let mut r = Replicas::new(2);
    let before = projections(&r.stores[1]);
    let doc = r.stores[1].documents().unwrap()[0].clone();
    for garbage in [vec![], vec![0x42; 10], vec![0x42, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff]] {
        let err = r.stores[1].receive_sync_message("replica-0", &doc, &garbage).unwrap_err();
        assert!(matches!(err, StoreError::BadSyncMessage { .. }), "{err}");
    }
    assert_eq!(before, projections(&r.stores[1]));
    // And a real exchange still works afterwards.
    register(&mut r, 0, "After Garbage");
    r.sync(0, 1);
    assert_eq!(r.stores[1].waiting_guests().unwrap().len(), 1);
}

#[test]
fn local_changes_to_a_received_document_carry_this_devices_actor() {
    // Regression: a document first received by sync kept a random actor id,
    // so the server refused this device's later changes to it.
    let mut r = Replicas::new(2);
    let admin = lodge_core::Actor::site_founder("Ada");
    r.stores[1].set_retention_days(&admin, 42).unwrap();
    let site = r.stores[1].site().unwrap().unwrap();
    let bytes = r.stores[1].export_document(&DocId::site(site)).unwrap().unwrap();
    let mut doc = automerge::AutoCommit::load(&bytes).unwrap();
    let last = doc.get_changes(&[]).last().unwrap().actor_id().clone();
    assert_eq!(&last, r.stores[1].actor_id());
}

#[test]
fn a_frame_applies_in_one_go_and_a_bad_message_spoils_only_its_document() {
    let mut r = Replicas::new(2);
    let a = register(&mut r, 0, "Guest A");
    let b = register(&mut r, 0, "Guest B");
    // Replica 1 asks about both visits; replica 0 answers with their changes.
    let mut batch = Vec::new();
    for v in [a, b] {
        let doc = DocId::visit(v);
        let ask = r.stores[1].generate_sync_message("replica-0", &doc).unwrap().unwrap();
        r.stores[0].receive_sync_message("replica-1", &doc, &ask).unwrap();
        batch.push((doc.clone(), r.stores[0].generate_sync_message("replica-1", &doc).unwrap().unwrap()));
    }
    let garbage = (DocId::visit(VisitId::new()), vec![0x42, 0x00, 0x13]);
    batch.insert(1, garbage);
    let results = r.stores[1].receive_sync_messages_checked("replica-0", &batch, &|_, _| Ok(())).unwrap();
    assert!(matches!(results[0], Ok(true)));
    assert!(matches!(results[1], Err(StoreError::BadSyncMessage { .. })));
    assert!(matches!(results[2], Ok(true)));
    assert!(r.stores[1].visit(a).unwrap().is_some() && r.stores[1].visit(b).unwrap().is_some());
    // A refusal by the check rolls back only that document.
    let c = register(&mut r, 0, "Guest C");
    let doc = DocId::visit(c);
    let ask = r.stores[1].generate_sync_message("replica-0", &doc).unwrap().unwrap();
    r.stores[0].receive_sync_message("replica-1", &doc, &ask).unwrap();
    let answer = r.stores[0].generate_sync_message("replica-1", &doc).unwrap().unwrap();
    let results = r.stores[1]
        .receive_sync_messages_checked("replica-0", &[(doc.clone(), answer)], &|_, _| Err(lodge_core::sync::Refusal::KioskCreatesOnly))
        .unwrap();
    assert!(matches!(&results[0], Err(StoreError::Refused { reason: lodge_core::sync::Refusal::KioskCreatesOnly, .. })));
    assert!(r.stores[1].visit(c).unwrap().is_none());
    assert!(!r.stores[1].documents().unwrap().contains(&doc));
    // The next exchange brings it after all.
    r.sync(0, 1);
    assert!(r.stores[1].visit(c).unwrap().is_some());
}

#[test]
fn a_peer_that_never_had_a_document_gets_all_of_it_in_the_first_message() {
    let mut r = Replicas::new(2);
    let v = register(&mut r, 0, "Guest First");
    let doc = DocId::visit(v);
    // One message, no question first: replica 1 has the visit after it.
    let first = r.stores[0].generate_first_sync_message("replica-1", &doc).unwrap().expect("a message");
    let received = r.stores[1].receive_sync_frame("replica-0", &[(doc.clone(), first)], None, None).unwrap();
    let received = received.into_iter().next().unwrap().unwrap();
    assert!(received.changed);
    assert_eq!(r.stores[1].visit(v).unwrap().unwrap().guest_name, "Guest First");
    // Its answer tells replica 0 it has everything: nothing more to say.
    let ack = received.reply.expect("an acknowledgement");
    assert!(received.reply_can_wait, "it only says what replica 1 has now: it may wait");
    assert!(!r.stores[0].receive_sync_message("replica-1", &doc, &ack).unwrap());
    assert!(r.stores[0].peer_has_all("replica-1", &doc).unwrap());
    assert_eq!(r.stores[0].generate_sync_message("replica-1", &doc).unwrap(), None);
    // A peer with a known state gets the ordinary exchange, not the whole
    // document again.
    assert_eq!(r.stores[0].generate_first_sync_message("replica-1", &doc).unwrap(), None);
    // In step, the two keep only the shared heads in memory; the next
    // change still goes in one message, and one acknowledgement ends it.
    let d = desk(&r);
    r.stores[0].admit(&d, AdmitRequest { visit: v, card: card(109), take_over: false }).unwrap();
    let next = r.stores[0].generate_sync_message("replica-1", &doc).unwrap().expect("the admission");
    let got = r.stores[1].receive_sync_frame("replica-0", &[(doc.clone(), next)], None, None).unwrap().pop().unwrap().unwrap();
    assert!(got.changed && got.reply_can_wait);
    assert!(matches!(r.stores[1].visit(v).unwrap().unwrap().state, VisitState::Admitted { card: c, .. } if c == card(109)));
    assert!(!r.stores[0].receive_sync_message("replica-1", &doc, &got.reply.expect("an acknowledgement")).unwrap());
    assert_eq!(r.stores[0].generate_sync_message("replica-1", &doc).unwrap(), None);
}

#[test]
fn an_answer_that_carries_no_changes_is_taken_without_waiting_for_the_store_to_be_free() {
    let mut r = Replicas::new(2);
    let v = register(&mut r, 0, "Guest Heard");
    let doc = DocId::visit(v);
    let first = r.stores[0].generate_first_sync_message("replica-1", &doc).unwrap().expect("a message");
    let got = r.stores[1].receive_sync_frame("replica-0", &[(doc.clone(), first)], None, None).unwrap().pop().unwrap().unwrap();
    let ack = got.reply.expect("an acknowledgement");
    // Another connection holds replica 0's file for writing: a unit of work
    // there would wait for it (five seconds) and fail.
    let other = rusqlite::Connection::open(r.path(0)).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let taken = r.stores[0].receive_sync_messages_checked("replica-1", &[(doc.clone(), ack)], &|_, _| Ok(())).unwrap();
    assert!(matches!(taken[..], [Ok(false)]), "{taken:?}");
    other.execute_batch("ROLLBACK").unwrap();
    // The answer was heard: replica 0 knows replica 1 has the visit.
    assert!(r.stores[0].peer_has_all("replica-1", &doc).unwrap());
    assert_eq!(r.stores[0].generate_sync_message("replica-1", &doc).unwrap(), None);
    // An answer for a document deleted for good says so, as before.
    let d = desk(&r);
    r.stores[0].reject(&d, v, RejectReason::Abuse).unwrap();
    r.stores[1].end_sync_session("replica-0");
    let heads = r.stores[1].generate_sync_message("replica-0", &doc).unwrap().expect("replica 1 says what it has");
    let taken = r.stores[0].receive_sync_messages_checked("replica-1", &[(doc.clone(), heads)], &|_, _| Ok(())).unwrap();
    assert!(matches!(&taken[..], [Err(StoreError::Purged { .. })]), "{taken:?}");
}

/// The (device, document) sync states a store has in its file for `peer`.
fn states_in_file(r: &Replicas, i: usize, peer: &str) -> Vec<String> {
    let file = rusqlite::Connection::open(r.path(i)).unwrap();
    let mut states: Vec<String> =
        file.prepare("SELECT doc_id FROM sync_states WHERE peer = ?1").unwrap().query_map([peer], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
    states.sort();
    states
}

#[test]
fn a_servers_sync_states_are_written_at_its_own_interval_and_when_the_session_ends() {
    let mut r = Replicas::new(2);
    // Replica 0 is the server: its states wait for half a minute.
    r.stores[0].set_sync_state_interval(std::time::Duration::from_secs(30));
    let (first, second) = (DocId::visit(register(&mut r, 0, "Guest Early")), DocId::visit(register(&mut r, 0, "Guest Late")));
    let hear_back = |r: &mut Replicas, doc: &DocId| {
        let message = r.stores[0].generate_first_sync_message("replica-1", doc).unwrap().expect("a message");
        let got = r.stores[1].receive_sync_frame("replica-0", &[(doc.clone(), message)], None, None).unwrap().pop().unwrap().unwrap();
        let taken = r.stores[0].receive_sync_messages_checked("replica-1", &[(doc.clone(), got.reply.expect("an answer"))], &|_, _| Ok(())).unwrap();
        assert!(matches!(taken[..], [Ok(false)]), "{taken:?}");
    };
    // What the replicas' setup left unwritten goes first.
    r.stores[0].end_sync_session("replica-1");
    let written = |r: &Replicas, doc: &DocId| states_in_file(r, 0, "replica-1").iter().any(|d| d == doc.as_str());
    hear_back(&mut r, &first);
    assert_eq!(r.stores[0].write_sync_states_when_due().unwrap(), 0, "not due within 30 s");
    assert!(!written(&r, &first), "nothing written before the interval");
    assert!(r.stores[0].peer_has_all("replica-1", &first).unwrap(), "the answer was heard all the same");
    // Once the interval has passed (made nothing here), what waits goes.
    r.stores[0].set_sync_state_interval(std::time::Duration::ZERO);
    assert_eq!(r.stores[0].write_sync_states_when_due().unwrap(), 1);
    assert!(written(&r, &first));
    // A session's end writes what waits, whatever the interval.
    r.stores[0].set_sync_state_interval(std::time::Duration::from_secs(30));
    hear_back(&mut r, &second);
    assert_eq!(r.stores[0].write_sync_states_when_due().unwrap(), 0);
    assert!(!written(&r, &second));
    r.stores[0].end_sync_session("replica-1");
    assert!(written(&r, &second));
}

#[test]
fn a_message_lost_with_its_connection_is_sent_again_in_the_next_session() {
    let mut r = Replicas::new(2);
    let v = register(&mut r, 0, "Guest Lost");
    let doc = DocId::visit(v);
    r.sync(0, 1);
    let d = desk(&r);
    r.stores[0].admit(&d, AdmitRequest { visit: v, card: card(107), take_over: false }).unwrap();
    // The change goes out, and the connection dies before it arrives.
    let lost = r.stores[0].generate_sync_message("replica-1", &doc).unwrap();
    assert!(lost.is_some());
    assert_eq!(r.stores[0].generate_sync_message("replica-1", &doc).unwrap(), None, "in flight: not sent twice");
    // The session ends; the next one says it again and it arrives.
    r.stores[0].end_sync_session("replica-1");
    r.stores[1].end_sync_session("replica-0");
    let again = r.stores[0].generate_sync_message("replica-1", &doc).unwrap().expect("said again");
    r.stores[1].receive_sync_message("replica-0", &doc, &again).unwrap();
    for _ in 0..4 {
        if let Some(m) = r.stores[1].generate_sync_message("replica-0", &doc).unwrap() {
            r.stores[0].receive_sync_message("replica-1", &doc, &m).unwrap();
        }
        if let Some(m) = r.stores[0].generate_sync_message("replica-1", &doc).unwrap() {
            r.stores[1].receive_sync_message("replica-0", &doc, &m).unwrap();
        }
    }
    assert!(matches!(r.stores[1].visit(v).unwrap().unwrap().state, VisitState::Admitted { card: c, .. } if c == card(107)));
}

#[test]
fn a_frame_records_the_feed_number_and_empties_the_outbox_in_one_go() {
    let mut r = Replicas::new(2);
    let v = register(&mut r, 1, "Guest Out");
    let doc = DocId::visit(v);
    assert!(r.stores[1].outbox().unwrap().iter().any(|(d, _)| d == &doc));
    // Replica 1 says what it has; replica 0 takes it and answers.
    let offer = r.stores[1].generate_sync_message("server", &doc).unwrap().unwrap();
    let _ = r.stores[0].receive_sync_message("device", &doc, &offer).unwrap();
    let mut to_device = r.stores[0].generate_sync_message("device", &doc).unwrap();
    let mut has_all = false;
    let mut urgent = Vec::new();
    for _ in 0..4 {
        let Some(m) = to_device.take() else { break };
        let got = r.stores[1].receive_sync_frame("server", &[(doc.clone(), m)], None, Some(("feed_seq", 42))).unwrap();
        let got = got.into_iter().next().unwrap().unwrap();
        has_all = got.peer_has_all;
        urgent.push(!got.reply_can_wait);
        if let Some(reply) = got.reply {
            r.stores[0].receive_sync_message("device", &doc, &reply).unwrap();
            to_device = r.stores[0].generate_sync_message("device", &doc).unwrap();
        }
    }
    assert!(r.stores[0].visit(v).unwrap().is_some());
    assert!(has_all, "the frame says the server has it all");
    assert_eq!(urgent.first(), Some(&true), "the answer carrying the visit to the server does not wait");
    assert!(r.stores[1].outbox().unwrap().is_empty(), "the server has it: nothing waits");
    assert_eq!(r.stores[1].meta_number("feed_seq").unwrap(), 42);
    // A smaller number never goes back.
    r.stores[1].receive_sync_frame("server", &[], None, Some(("feed_seq", 7))).unwrap();
    assert_eq!(r.stores[1].meta_number("feed_seq").unwrap(), 42);
}

#[test]
fn sync_states_and_the_feed_number_reach_the_file_in_a_quiet_moment() {
    let mut r = Replicas::new(2);
    let kept = DocId::visit(register(&mut r, 0, "Guest Kept"));
    let gone = DocId::visit(register(&mut r, 0, "Guest Gone"));
    let frame: Vec<(DocId, Vec<u8>)> = [&kept, &gone]
        .into_iter()
        .map(|d| (d.clone(), r.stores[0].generate_first_sync_message("replica-1", d).unwrap().unwrap()))
        .collect();
    // Just written: the frame's states wait for the next quiet moment.
    r.stores[1].write_sync_states().unwrap();
    r.stores[1].receive_sync_frame("replica-0", &frame, None, Some(("feed_seq", 9))).unwrap();
    // Received counts at once, whether or not it was written yet.
    assert_eq!(r.stores[1].meta_number("feed_seq").unwrap(), 9);
    // One of them is purged before: its state must not come back.
    r.stores[1].apply_tombstone(&gone).unwrap();
    assert!(r.stores[1].write_sync_states().unwrap() >= 1);
    let states = states_in_file(&r, 1, "replica-0");
    assert!(states.iter().any(|d| d == kept.as_str()), "the kept visit's state is in the file: {states:?}");
    assert!(!states.iter().any(|d| d == gone.as_str()), "the purged visit's state is not: {states:?}");
    let file = rusqlite::Connection::open(r.path(1)).unwrap();
    let feed: String = file.query_row("SELECT value FROM meta WHERE key = 'feed_seq'", [], |row| row.get(0)).unwrap();
    assert_eq!(feed, "9");
}

#[test]
fn two_messages_for_one_document_in_one_frame_apply_one_after_the_other() {
    // A device that fell behind applies the frames waiting on its socket
    // together: the second message of a document goes on from the state
    // the first left, and the two end in step.
    let mut r = Replicas::new(2);
    let v = register(&mut r, 0, "Guest Twice");
    let doc = DocId::visit(v);
    r.sync(0, 1);
    let d = desk(&r);
    r.stores[0].admit(&d, AdmitRequest { visit: v, card: card(111), take_over: false }).unwrap();
    let admitted = r.stores[0].generate_sync_message("replica-1", &doc).unwrap().expect("the admission");
    r.stores[0].release(&d, v).unwrap();
    let released = r.stores[0].generate_sync_message("replica-1", &doc).unwrap().expect("the release, sent before an answer came");
    let frame = [(doc.clone(), admitted), (doc.clone(), released)];
    let got = r.stores[1].receive_sync_frame("replica-0", &frame, None, Some(("feed_seq", 3))).unwrap();
    assert_eq!(got.len(), 2, "one result per message");
    let got: Vec<_> = got.into_iter().map(|g| g.unwrap()).collect();
    assert!(got.iter().all(|g| g.changed), "each message brought its change");
    assert!(matches!(r.stores[1].visit(v).unwrap().unwrap().state, VisitState::Left { .. }));
    // The last answer says all; after it, nothing is left to say either way.
    let last = got.last().unwrap();
    assert!(last.reply_can_wait, "the last answer only acknowledges");
    r.stores[0].receive_sync_message("replica-1", &doc, last.reply.as_ref().expect("an acknowledgement")).unwrap();
    assert_eq!(r.stores[0].generate_sync_message("replica-1", &doc).unwrap(), None);
    assert_eq!(r.stores[1].generate_sync_message("replica-0", &doc).unwrap(), None);
    assert_eq!(projections(&r.stores[0]), projections(&r.stores[1]));
}

#[test]
fn a_change_that_came_before_its_dependency_is_kept_in_the_file_once_applied() {
    let mut r = Replicas::new(2);
    let v = register(&mut r, 0, "Guest Early");
    let doc = DocId::visit(v);
    r.sync(0, 1);
    let d = desk(&r);
    r.stores[0].admit(&d, AdmitRequest { visit: v, card: card(108), take_over: false }).unwrap();
    r.stores[0].release(&d, v).unwrap();
    // The admission and then the release, each alone in a message, the
    // release first (as after a lost message, or a peer that thought the
    // admission had arrived).
    let mut source = automerge::AutoCommit::load(&r.stores[0].export_document(&doc).unwrap().unwrap()).unwrap();
    let heads = source.get_heads();
    let changes = source.get_changes(&[]);
    let (admission, release) = (&changes[changes.len() - 2], &changes[changes.len() - 1]);
    let alone = |change: &automerge::Change| {
        automerge::sync::Message {
            heads: heads.clone(),
            need: Vec::new(),
            have: Vec::new(),
            changes: vec![change.raw_bytes().to_vec()].into(),
            flags: None,
            version: automerge::sync::MessageVersion::V1,
        }
        .encode()
    };
    assert!(!r.stores[1].receive_sync_message("replica-0", &doc, &alone(release)).unwrap(), "the release waits for the admission");
    assert!(r.stores[1].receive_sync_message("replica-0", &doc, &alone(admission)).unwrap());
    let released = |s: &lodge_core::Store| matches!(s.visit(v).unwrap().unwrap().state, VisitState::Left { .. });
    assert!(released(&r.stores[1]));
    // Both are in the file: the store opened afresh still shows the release.
    let path = r.stores[1].path().to_path_buf();
    r.stores[1] = lodge_core::Store::open(&path, std::sync::Arc::new(r.clock.clone())).unwrap();
    r.stores[1].rebuild_projections().unwrap();
    assert!(released(&r.stores[1]), "{:?}", r.stores[1].visit(v).unwrap());
}

/// What one server instance gives the others (`changes_since`) and what
/// they merge (`merge_changes`): the same projections as a sync; a second
/// giving carries only what is new; damaged bytes, or a document of another
/// kind under an id, are set aside and change nothing, and the documents
/// beside them are merged.
#[test]
fn changes_given_by_one_copy_and_merged_by_another_give_the_same_projections() {
    let mut r = Replicas::new(3);
    let guest = register(&mut r, 0, "Given Guest");
    let visit = DocId::visit(guest);
    // Replica 2 hears of nothing by sync: only by what replica 0 gives.
    let given: Vec<(DocId, Vec<u8>)> = r.stores[0]
        .documents()
        .unwrap()
        .into_iter()
        .map(|doc| {
            let (bytes, _) = r.stores[0].changes_since(&doc, &[]).unwrap().unwrap();
            (doc, bytes)
        })
        .collect();
    let borrowed: Vec<(DocId, &[u8])> = given.iter().map(|(d, b)| (d.clone(), b.as_slice())).collect();
    let changed = r.stores[2].merge_changes(&borrowed).unwrap();
    assert!(changed.iter().any(|c| matches!(c, Ok(true))), "the new guest is news to replica 2");
    assert_eq!(projections(&r.stores[0]), projections(&r.stores[2]));
    // Admitted on replica 0: given again since the heads it gave, only that.
    let (_, heads) = r.stores[0].changes_since(&visit, &[]).unwrap().unwrap();
    let d = desk(&r);
    r.stores[0].admit(&d, AdmitRequest { visit: guest, card: card(105), take_over: false }).unwrap();
    let (since, _) = r.stores[0].changes_since(&visit, &heads).unwrap().unwrap();
    let (whole, _) = r.stores[0].changes_since(&visit, &[]).unwrap().unwrap();
    assert!(since.len() < whole.len(), "{} bytes since against {} whole", since.len(), whole.len());
    let merged = |store: &mut lodge_core::Store, doc: &DocId, bytes: &[u8]| -> Vec<bool> {
        store.merge_changes(&[(doc.clone(), bytes)]).unwrap().into_iter().map(|r| r.unwrap()).collect()
    };
    assert_eq!(merged(&mut r.stores[2], &visit, &since), vec![true]);
    assert_eq!(merged(&mut r.stores[2], &visit, &since), vec![false], "merged twice, changed once");
    assert_eq!(projections(&r.stores[0]), projections(&r.stores[2]));
    // Set aside one by one: garbage after a good document, and a visit's
    // bytes under a person's id. The good document is merged all the same.
    let before = projections(&r.stores[2]);
    let other = register(&mut r, 0, "Other Guest");
    let (good, _) = r.stores[0].changes_since(&DocId::visit(other), &[]).unwrap().unwrap();
    let stranger = lodge_core::PersonId::new();
    let outcomes = r.stores[2]
        .merge_changes(&[(visit.clone(), &[0x42; 12][..]), (DocId::visit(other), good.as_slice()), (DocId::person(stranger), good.as_slice())])
        .unwrap();
    assert!(matches!(&outcomes[0], Err(StoreError::CorruptDocument { .. })), "{:?}", outcomes[0]);
    assert!(matches!(&outcomes[1], Ok(true)), "{:?}", outcomes[1]);
    assert!(matches!(&outcomes[2], Err(StoreError::WrongKind { .. })), "{:?}", outcomes[2]);
    assert!(r.stores[2].visit(other).unwrap().is_some(), "the good document beside them was merged");
    assert!(r.stores[2].person(stranger).unwrap().is_none(), "nothing of the wrong kind stays");
    assert_ne!(before, projections(&r.stores[2]));
    assert_eq!(projections(&r.stores[0]), projections(&r.stores[2]), "the damaged bytes changed nothing: the same as the copy that gave them");
}
