//! "Needs attention", against a real `lodge-sync`: a change the server
//! refuses leaves the device's outbox for a list, the device comes online
//! with it there, it is not sent again at the next connect, and a person
//! can discard it (the server's version comes back) or do it again (it
//! goes again, and is refused again while the rule still stands).
//!
//! The refused change is a worker's phone moving the admin's repair ticket, as an app
//! would that took its person for a technician: since an item taken offline
//! while it went to the workshop became a conflict rather than a refusal,
//! an honest device's every change is one the server keeps.

use lodge_core::equipment::NewItem;
use lodge_core::person::PersonForm;
use lodge_core::repair::RepairState;
use lodge_core::sync::{ClientMessage, Connection, Refusal, SERVER_PEER, SyncStatus};
use lodge_core::{Actor, DocId, DocKind, ItemId, PersonId, RepairCategoryId, Role, TicketId};
use lodge_tests::site::{LIMIT, TestSite, settled};
use lodge_tests::{Device, eventually};

const CODE: &str = "LODGE-D7";

async fn status_becomes(d: &Device, what: &str, check: impl Fn(&SyncStatus) -> bool) {
    let mut last = d.sync.status();
    let found = eventually(what, LIMIT, || {
        last = d.sync.status();
        check(&last)
    })
    .await;
    assert!(found.is_ok(), "timed out waiting for: {what}; status {last:?}");
}

/// The ticket's state on a device (none while a discard fetches it again).
fn state(d: &Device, ticket: TicketId) -> Option<RepairState> {
    d.read(|st| st.ticket(ticket).unwrap().map(|t| t.state))
}

/// A site with a drill, a worker (Jan) whose phone holds the drill's
/// document and a repair ticket on it, still new.
async fn drill_and_phone() -> (TestSite, Device, PersonId, ItemId, TicketId) {
    let s = TestSite::start().await;
    let admin = s.founder();
    let jan = s.admin.act(|st| st.create_person(&admin, PersonForm { name: "Jan Nowak".into(), roles: vec![Role::Worker], ..Default::default() })).unwrap();
    let category = RepairCategoryId::parse("electrical").unwrap();
    s.admin.act(|st| st.set_repair_category(&admin, category.clone(), "Electrical")).unwrap();
    let item = s
        .admin
        .act(|st| st.add_item(&admin, NewItem { asset_number: "D-7".into(), activation_code: CODE.into(), name: "Drill".into(), item_type: "drill".into() }))
        .unwrap();
    let ticket = s.admin.act(|st| st.open_ticket(&admin, item, category, "It sparks")).unwrap();
    settled(&s.admin).await;
    let phone = s.device("jan-phone", "worker", Some(jan)).await;
    eventually("the phone has the ticket", LIMIT, || phone.read(|st| st.ticket(ticket).unwrap().is_some())).await.unwrap();
    eventually("the phone has the drill", LIMIT, || phone.read(|st| st.item_by_code(CODE).unwrap().is_some())).await.unwrap();
    (s, phone, jan, item, ticket)
}

/// The phone, offline, moves the ticket to "in progress" (a worker's
/// phone may only add notes); back online, the server refuses it.
async fn ticket_moved_by_the_phone(s: &TestSite, phone: &mut Device, jan: PersonId, ticket: TicketId) {
    phone.go_offline();
    let as_technician = Actor::person(jan, "Jan Nowak", Role::Admin);
    phone.act(|st| st.set_repair_state(&as_technician, ticket, RepairState::InProgress)).expect("the phone's own checks let it");
    assert_eq!(phone.sync.status().waiting, 1);
    phone.go_online(&s.server);
    status_becomes(phone, "online with one change needing attention", |st| {
        st.connection == Connection::Online && st.attention == 1 && st.waiting == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_change_needs_attention_and_is_not_sent_again_until_a_person_says() {
    let (s, mut phone, jan, _item, ticket) = drill_and_phone().await;
    let doc = DocId::repair(ticket);
    ticket_moved_by_the_phone(&s, &mut phone, jan, ticket).await;

    // Listed with its typed reason and what was done; the local move kept.
    let listed = phone.read(|st| st.needs_attention().unwrap());
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].doc, doc);
    assert_eq!(listed[0].kind, DocKind::Repair);
    assert_eq!(listed[0].refusal, Refusal::RoleMayNotWrite { role: Role::Worker, kind: DocKind::Repair });
    assert_eq!(listed[0].commands, vec!["set_repair_state".to_owned()]);
    assert_eq!(state(&phone, ticket), Some(RepairState::InProgress), "what the worker did stays on the phone");
    assert_eq!(state(&s.admin, ticket), Some(RepairState::New), "the server kept nothing of it");

    // The next connect sends the hello and nothing else: not the refused
    // change (it would also be refused again, at a later time).
    phone.go_offline();
    phone.go_online(&s.server);
    status_becomes(&phone, "online again", |st| st.connection == Connection::Online && st.attention == 1).await;
    let (sent, _) = phone.sync.traffic();
    let since = phone.read(|st| st.meta_number("feed_seq").unwrap());
    let hello = ClientMessage::Hello { token: phone.token.clone(), since, pending: Vec::new(), app: None, kept_counts: true }.encode().len() as u64;
    assert_eq!(sent, hello, "only the hello went up");
    assert_eq!(phone.read(|st| st.needs_attention().unwrap()), listed, "not refused a second time");

    // Discard: the server's version comes back, the local move is gone.
    phone.act(|st| st.discard_refused(SERVER_PEER, &doc)).unwrap();
    assert_eq!(phone.sync.status().attention, 0, "counted at once");
    eventually("the phone has the server's ticket again", LIMIT, || state(&phone, ticket) == Some(RepairState::New)).await.unwrap();
    status_becomes(&phone, "online, nothing waiting or refused", |st| {
        st.connection == Connection::Online && st.attention == 0 && st.waiting == 0
    })
    .await;
    assert!(phone.read(|st| st.tombstones().unwrap().is_empty()), "a discard deletes nothing for good");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn do_it_again_sends_the_refused_change_again_and_it_stays_listed_while_refused() {
    let (s, mut phone, jan, _item, ticket) = drill_and_phone().await;
    let doc = DocId::repair(ticket);
    ticket_moved_by_the_phone(&s, &mut phone, jan, ticket).await;
    let first = phone.read(|st| st.needs_attention().unwrap())[0].refused_at;

    // The rule still stands: sent again, refused again (a later refusal).
    let (sent_before, _) = phone.sync.traffic();
    phone.act(|st| st.retry_refused(SERVER_PEER, &doc)).unwrap();
    eventually("refused a second time", LIMIT, || {
        phone.read(|st| st.needs_attention().unwrap().first().is_some_and(|r| r.refused_at > first))
    })
    .await
    .unwrap();
    assert!(phone.sync.traffic().0 > sent_before, "the change went up again");
    status_becomes(&phone, "online with it listed again", |st| st.connection == Connection::Online && st.attention == 1).await;
    assert_eq!(state(&s.admin, ticket), Some(RepairState::New), "the server still kept nothing of it");

    // The admin moves the ticket itself; the phone discards its own move
    // and has the admin's.
    let admin = s.founder();
    s.admin.act(|st| st.set_repair_state(&admin, ticket, RepairState::Stalled)).unwrap();
    settled(&s.admin).await;
    phone.act(|st| st.discard_refused(SERVER_PEER, &doc)).unwrap();
    eventually("the phone shows the admin's move", LIMIT, || state(&phone, ticket) == Some(RepairState::Stalled)).await.unwrap();
    status_becomes(&phone, "online, nothing waiting or refused", |st| {
        st.connection == Connection::Online && st.attention == 0 && st.waiting == 0
    })
    .await;
}
