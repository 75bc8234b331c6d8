//! Repair tickets.

use lodge_core::repair::{Error, RepairState};
use lodge_core::{Actor, ItemId, RepairCategoryId, Role};

use super::fixture::site;

fn electrical() -> RepairCategoryId {
    RepairCategoryId::parse("electrical").unwrap()
}

#[test]
fn a_fault_becomes_a_ticket_on_the_board() {
    let mut s = site();
    let jan = s.jan_worker();
    let t = s.store.open_ticket(&jan, s.drill, electrical(), "Sparks from the motor").unwrap();
    let open = s.store.open_repairs().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, t);
    assert_eq!(open[0].asset_number, "D-7");
    assert_eq!(open[0].state, RepairState::New);
    assert_eq!(open[0].summary, "Sparks from the motor");
    assert_eq!(s.store.tickets_opened_by(s.jan).unwrap().len(), 1);
    assert_eq!(s.store.repairs_in_state(RepairState::New).unwrap().len(), 1);
}

#[test]
fn states_move_and_notes_are_kept_in_order() {
    let mut s = site();
    let jan = s.jan_worker();
    let admin = s.admin.clone();
    let t = s.store.open_ticket(&jan, s.drill, electrical(), "Sparks").unwrap();
    s.clock.advance(1000);
    s.store.set_repair_state(&admin, t, RepairState::InProgress).unwrap();
    s.clock.advance(1000);
    s.store.add_repair_note(&jan, t, "Also smells of smoke").unwrap();
    s.clock.advance(1000);
    s.store.set_repair_state(&admin, t, RepairState::Stalled).unwrap();
    let log = s.store.repair_log(t).unwrap();
    assert_eq!(log.len(), 4);
    assert_eq!(log[0].note.as_deref(), Some("Sparks"));
    assert!(!log[0].by.contains('<'), "who, by name: {}", log[0].by);
    assert_eq!(log[1].state, Some(RepairState::InProgress));
    assert_eq!(log[3].state, Some(RepairState::Stalled));
    assert!(matches!(s.store.set_repair_state(&admin, t, RepairState::Stalled).unwrap_err(), Error::SameState(RepairState::Stalled)));
}

#[test]
fn a_resolved_ticket_only_reopens() {
    let mut s = site();
    let jan = s.jan_worker();
    let admin = s.admin.clone();
    let t = s.store.open_ticket(&jan, s.drill, electrical(), "Sparks").unwrap();
    s.store.set_repair_state(&admin, t, RepairState::Resolved).unwrap();
    assert!(matches!(s.store.add_repair_note(&jan, t, "again").unwrap_err(), Error::Resolved));
    assert!(matches!(s.store.set_repair_state(&admin, t, RepairState::Stalled).unwrap_err(), Error::Resolved));
    s.store.set_repair_state(&admin, t, RepairState::InProgress).unwrap();
    assert_eq!(s.store.ticket(t).unwrap().unwrap().state, RepairState::InProgress);
}

#[test]
fn refusals() {
    let mut s = site();
    let jan = s.jan_worker();
    assert!(matches!(s.store.open_ticket(&jan, s.drill, electrical(), "  ").unwrap_err(), Error::EmptyNote));
    assert!(matches!(s.store.open_ticket(&jan, ItemId::new(), electrical(), "x").unwrap_err(), Error::UnknownItem(_)));
    assert!(matches!(
        s.store.open_ticket(&jan, s.drill, RepairCategoryId::parse("plumbing").unwrap(), "x").unwrap_err(),
        Error::UnknownCategory(_)
    ));
    let t = s.store.open_ticket(&jan, s.drill, electrical(), "Sparks").unwrap();
    // Workers move no tickets and note only their own.
    assert!(matches!(s.store.set_repair_state(&jan, t, RepairState::Resolved).unwrap_err(), Error::Denied(_)));
    let ola = Actor::person(s.ola, "Ola", Role::Worker);
    assert!(matches!(s.store.add_repair_note(&ola, t, "mine too").unwrap_err(), Error::NotYours));
    assert!(s.store.open_repairs().unwrap().len() == 1);
}

#[test]
fn a_fault_on_an_item_without_a_label_adds_the_item_with_its_ticket_or_neither() {
    let mut s = site();
    let admin = s.admin.clone();
    let pump = lodge_core::equipment::NewItem { asset_number: "P-1".into(), activation_code: "LODGE-P1".into(), name: "Pump".into(), item_type: "pump".into() };
    let (item, ticket) = s.store.report_fault_on_new_item(&admin, pump.clone(), electrical(), "Leaks at the seal").unwrap();
    let board = s.store.open_repairs().unwrap();
    let t = board.iter().find(|t| t.id == ticket).unwrap();
    assert_eq!((t.item, t.asset_number.as_str(), t.item_name.as_str()), (item, "P-1", "Pump"));
    assert!(s.store.item_by_code("LODGE-P1").unwrap().is_some_and(|i| i.id == item));
    // Its history says what happened, by whom.
    let changes = s.store.change_history(&lodge_core::DocId::equipment(item)).unwrap();
    assert_eq!(changes.iter().map(|c| (c.command.as_str(), c.by.as_str())).collect::<Vec<_>>(), [("report_fault_on_new_item", "Ada Admin")]);

    // The same asset number again: refused, and no ticket without its item.
    let tickets = board.len();
    let refused = s.store.report_fault_on_new_item(&admin, pump, electrical(), "Again").unwrap_err();
    assert!(matches!(refused, Error::Item(lodge_core::equipment::Error::AssetNumberInUse(ref a)) if a == "P-1"), "{refused:?}");
    let drill = lodge_core::equipment::NewItem { asset_number: "X-9".into(), activation_code: "LODGE-X9".into(), name: "Saw".into(), item_type: "saw".into() };
    let unknown = RepairCategoryId::parse("plumbing").unwrap();
    assert!(matches!(s.store.report_fault_on_new_item(&admin, drill, unknown, "Blunt"), Err(Error::UnknownCategory(_))));
    assert!(s.store.item_by_code("LODGE-X9").unwrap().is_none(), "an item whose ticket was refused is not added");
    assert_eq!(s.store.open_repairs().unwrap().len(), tickets);
    // Only the admin adds items.
    let jan = s.jan_worker();
    let saw = lodge_core::equipment::NewItem { asset_number: "S-1".into(), activation_code: "LODGE-S1".into(), name: "Saw".into(), item_type: "saw".into() };
    assert!(matches!(s.store.report_fault_on_new_item(&jan, saw, electrical(), "Blunt"), Err(Error::Denied(_))));
}
