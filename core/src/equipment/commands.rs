//! Equipment commands: add and retire items; take and return them by code.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::document::{CustodyChange, CustodyScan};
use super::{EquipmentDoc, Error};
use crate::actor::{Actor, Role};
use crate::document::{DocId, DocKind, Header};
use crate::ids::{EventId, ItemId, PersonId};
use crate::store::{Store, Work};

/// A new item.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewItem {
    /// Inventory number.
    pub asset_number: String,
    /// What its printed code says.
    pub activation_code: String,
    /// Name.
    pub name: String,
    /// Type (drill, ladder…).
    pub item_type: String,
}

/// What a take returns: the item, and whose custody it closed if the ledger
/// still showed it with someone else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Activation {
    /// The item.
    pub item: ItemId,
    /// Its name.
    pub name: String,
    /// Its asset number.
    pub asset_number: String,
    /// The person whose custody was closed as "returned unscanned".
    pub previous_holder: Option<PersonId>,
}

fn db(e: rusqlite::Error) -> Error {
    Error::Store(e.into())
}

fn item_by_code(work: &Work<'_>, code: &str) -> Result<ItemId, Error> {
    let code = code.trim();
    work.conn()
        .prepare_cached("SELECT item_id FROM equipment WHERE activation_code = ?1 ORDER BY active DESC, item_id LIMIT 1")
        .map_err(db)?
        .query_row([code], |r| r.get(0))
        .optional()
        .map_err(db)?
        .ok_or_else(|| Error::UnknownCode(code.to_owned()))
}

fn read_item(work: &mut Work<'_>, item: ItemId) -> Result<EquipmentDoc, Error> {
    work.read::<EquipmentDoc>(&DocId::equipment(item))?.ok_or(Error::UnknownItem(item))
}

fn scan(work: &mut Work<'_>, actor: &Actor, mut doc: EquipmentDoc, person: PersonId, change: CustodyChange) -> Result<(), Error> {
    let scan = CustodyScan { id: EventId::new(), at: work.now(), person, by: actor.tag(), change };
    doc.custody.push(scan.clone());
    work.append(&DocId::equipment(doc.id), &[(&["custody".into()], &scan)], &doc)?;
    Ok(())
}

/// Every field of a new item filled in.
pub(crate) fn check_new_item(new: &NewItem) -> Result<(), Error> {
    let fields = [
        (new.asset_number.trim(), "asset number"),
        (new.activation_code.trim(), "code"),
        (new.name.trim(), "name"),
        (new.item_type.trim(), "type"),
    ];
    match fields.iter().find(|(v, _)| v.is_empty()) {
        Some((_, field)) => Err(Error::Empty(field)),
        None => Ok(()),
    }
}

/// Create a checked new item in a command's work, refusing an asset number
/// or code another item has.
pub(crate) fn create_item(work: &mut Work<'_>, new: &NewItem) -> Result<ItemId, Error> {
    let asset = new.asset_number.trim().to_owned();
    let code = new.activation_code.trim().to_owned();
    let taken = |sql: &str, value: &str| -> Result<bool, Error> { work.conn().prepare_cached(sql).and_then(|mut s| s.exists([value])).map_err(db) };
    if taken("SELECT 1 FROM equipment WHERE asset_number = ?1", &asset)? {
        return Err(Error::AssetNumberInUse(asset));
    }
    if taken("SELECT 1 FROM equipment WHERE activation_code = ?1", &code)? {
        return Err(Error::CodeInUse(code));
    }
    let site = crate::store::current_site(work.conn())?;
    let id = ItemId::new();
    let doc = EquipmentDoc {
        header: Header::new(DocKind::Equipment, site, None),
        id,
        asset_number: asset,
        activation_code: code,
        name: new.name.trim().to_owned(),
        item_type: new.item_type.trim().to_owned(),
        active: true,
        custody: Vec::new(),
    };
    work.create(&DocId::equipment(id), &doc)?;
    Ok(id)
}

impl Store {
    /// Add an item of equipment.
    pub fn add_item(&mut self, actor: &Actor, new: NewItem) -> Result<ItemId, Error> {
        actor.require(&[Role::Admin], "add equipment")?;
        check_new_item(&new)?;
        self.run("add_item", actor, |work| create_item(work, &new))
    }

    /// Retire an item: it can no longer be taken.
    pub fn retire_item(&mut self, actor: &Actor, item: ItemId) -> Result<(), Error> {
        actor.require(&[Role::Admin], "retire equipment")?;
        self.run("retire_item", actor, |work| {
            let mut doc = read_item(work, item)?;
            if doc.holder().is_some() {
                return Err(Error::RetireWhileHeld { name: doc.name, asset: doc.asset_number });
            }
            doc.active = false;
            work.write(&DocId::equipment(item), &doc)?;
            Ok(())
        })
    }

    /// A worker takes the item whose code was scanned. If the ledger still
    /// shows it with someone else, their custody is closed as "returned
    /// unscanned" and flagged: the latest scan is where the item is.
    pub fn activate_equipment(&mut self, actor: &Actor, code: &str) -> Result<Activation, Error> {
        actor.require(&[Role::Worker, Role::Admin], "take equipment")?;
        let person = actor.person.ok_or(Error::NoPerson)?;
        self.run("activate_equipment", actor, |work| {
            let item = item_by_code(work, code)?;
            let doc = read_item(work, item)?;
            if !doc.active {
                return Err(Error::Retired { name: doc.name, asset: doc.asset_number });
            }
            let repair = super::queries::workshop_state(work.conn(), item).map_err(db)?;
            if let Some(state) = repair {
                return Err(Error::InRepair { name: doc.name, asset: doc.asset_number, state });
            }
            let previous_holder = match doc.holder() {
                Some((holder, _)) if holder == person => {
                    return Err(Error::AlreadyYours { name: doc.name, asset: doc.asset_number });
                }
                Some((holder, _)) => Some(holder),
                None => None,
            };
            let activation = Activation { item, name: doc.name.clone(), asset_number: doc.asset_number.clone(), previous_holder };
            scan(work, actor, doc, person, CustodyChange::Taken)?;
            Ok(activation)
        })
    }

    /// The item whose code was scanned is brought back.
    pub fn deactivate_equipment(&mut self, actor: &Actor, code: &str) -> Result<ItemId, Error> {
        actor.require(&[Role::Worker, Role::Admin], "return equipment")?;
        let person = actor.person.ok_or(Error::NoPerson)?;
        self.run("deactivate_equipment", actor, |work| {
            let item = item_by_code(work, code)?;
            let doc = read_item(work, item)?;
            if doc.holder().is_none() {
                return Err(Error::NotHeld { name: doc.name, asset: doc.asset_number });
            }
            scan(work, actor, doc, person, CustodyChange::Returned)?;
            Ok(item)
        })
    }
}
