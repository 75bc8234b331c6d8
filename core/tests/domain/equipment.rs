//! Equipment taken and returned by scanning its code.

use lodge_core::equipment::{CustodyOutcome, Error, NewItem};
use lodge_core::repair::RepairState;
use lodge_core::{Actor, RepairCategoryId, Role};

use super::fixture::{HOUR, site};

#[test]
fn take_and_return_by_code() {
    let mut s = site();
    let jan = s.jan_worker();
    let taken = s.store.activate_equipment(&jan, " LODGE-D7 ").unwrap();
    assert_eq!(taken.asset_number, "D-7");
    assert_eq!(taken.previous_holder, None);
    let held = s.store.equipment_held().unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].holder_name.as_deref(), Some("Jan Nowak"));
    assert!(s.store.free_equipment().unwrap().is_empty());
    assert!(matches!(s.store.activate_equipment(&jan, "LODGE-D7").unwrap_err(), Error::AlreadyYours { .. }));
    s.clock.advance(HOUR);
    s.store.deactivate_equipment(&jan, "LODGE-D7").unwrap();
    assert!(s.store.equipment_held().unwrap().is_empty());
    assert_eq!(s.store.free_equipment().unwrap().len(), 1);
    assert!(matches!(s.store.deactivate_equipment(&jan, "LODGE-D7").unwrap_err(), Error::NotHeld { .. }));
    let history = s.store.custody_history(s.drill).unwrap();
    assert_eq!(history[0].outcome, CustodyOutcome::Returned);
}

#[test]
fn taking_an_item_someone_else_holds_closes_their_custody_flagged() {
    let mut s = site();
    let jan = s.jan_worker();
    s.store.activate_equipment(&jan, "LODGE-D7").unwrap();
    s.clock.advance(HOUR);
    let ola = Actor::person(s.ola, "Ola Wiśniewska", Role::Worker);
    let taken = s.store.activate_equipment(&ola, "LODGE-D7").unwrap();
    assert_eq!(taken.previous_holder, Some(s.jan));
    assert_eq!(s.store.equipment_held_by(s.ola).unwrap().len(), 1);
    assert!(s.store.equipment_held_by(s.jan).unwrap().is_empty());
    let flagged = s.store.flagged_custody().unwrap();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].holder, s.jan);
    assert_eq!(flagged[0].outcome, CustodyOutcome::ReturnedUnscanned);
}

#[test]
fn unknown_codes_and_retired_items_are_refused() {
    let mut s = site();
    let jan = s.jan_worker();
    let err = s.store.activate_equipment(&jan, "NOPE").unwrap_err();
    assert_eq!(err.to_string(), "No item has the code “NOPE”. Check the label, or type the code under the QR.");
    let admin = s.admin.clone();
    s.store.retire_item(&admin, s.drill).unwrap();
    assert!(matches!(s.store.activate_equipment(&jan, "LODGE-D7").unwrap_err(), Error::Retired { .. }));
}

#[test]
fn an_item_in_repair_cannot_be_taken() {
    let mut s = site();
    let jan = s.jan_worker();
    let ticket = s.store.open_ticket(&jan, s.drill, RepairCategoryId::parse("electrical").unwrap(), "Sparks from the motor").unwrap();
    // A new ticket does not lock the item yet.
    s.store.activate_equipment(&jan, "LODGE-D7").unwrap();
    s.store.deactivate_equipment(&jan, "LODGE-D7").unwrap();
    let admin = s.admin.clone();
    s.store.set_repair_state(&admin, ticket, RepairState::InProgress).unwrap();
    let err = s.store.activate_equipment(&jan, "LODGE-D7").unwrap_err();
    assert_eq!(err.to_string(), "Drill (D-7) is in repair (in progress) and cannot be taken until the ticket is resolved.");
    s.store.set_repair_state(&admin, ticket, RepairState::Resolved).unwrap();
    s.store.activate_equipment(&jan, "LODGE-D7").unwrap();
}

#[test]
fn duplicate_asset_numbers_and_codes_are_refused() {
    let mut s = site();
    let admin = s.admin.clone();
    let item = |asset: &str, code: &str| NewItem { asset_number: asset.into(), activation_code: code.into(), name: "Ladder".into(), item_type: "ladder".into() };
    assert!(matches!(s.store.add_item(&admin, item("D-7", "NEW")).unwrap_err(), Error::AssetNumberInUse(_)));
    assert!(matches!(s.store.add_item(&admin, item("L-1", "LODGE-D7")).unwrap_err(), Error::CodeInUse(_)));
    assert!(matches!(s.store.add_item(&admin, item(" ", "X")).unwrap_err(), Error::Empty("asset number")));
    s.store.add_item(&admin, item("L-1", "LODGE-L1")).unwrap();
    assert_eq!(s.store.item_by_code("LODGE-L1").unwrap().unwrap().name, "Ladder");
}

#[test]
fn only_people_take_equipment_and_held_items_are_not_retired() {
    let mut s = site();
    let device_only = Actor { person: None, device: None, name: "tablet".into(), role: Role::Worker };
    assert!(matches!(s.store.activate_equipment(&device_only, "LODGE-D7").unwrap_err(), Error::NoPerson));
    let jan = s.jan_worker();
    s.store.activate_equipment(&jan, "LODGE-D7").unwrap();
    let admin = s.admin.clone();
    assert!(matches!(s.store.retire_item(&admin, s.drill).unwrap_err(), Error::RetireWhileHeld { .. }));
    let desk = s.desk.clone();
    assert!(matches!(s.store.activate_equipment(&desk, "LODGE-D7").unwrap_err(), Error::Denied(_)));
}
