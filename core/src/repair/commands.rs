//! Repair commands: open a ticket, add notes, move it between states.

use super::document::{Note, StateChange};
use super::{Error, RepairDoc, RepairState};
use crate::actor::{Actor, Role};
use crate::document::{DocId, DocKind, Header};
use crate::equipment::NewItem;
use crate::ids::{EventId, ItemId, RepairCategoryId, TicketId};
use crate::store::{Store, Work};

fn read_ticket(work: &mut Work<'_>, ticket: TicketId) -> Result<RepairDoc, Error> {
    work.read::<RepairDoc>(&DocId::repair(ticket))?.ok_or(Error::UnknownTicket(ticket))
}

fn note_text(text: &str) -> Result<String, Error> {
    let t = text.trim();
    if t.is_empty() { Err(Error::EmptyNote) } else { Ok(t.chars().take(2000).collect()) }
}

fn create_ticket(work: &mut Work<'_>, actor: &Actor, item: ItemId, category: RepairCategoryId, text: String) -> Result<TicketId, Error> {
    let db = |e: rusqlite::Error| Error::Store(e.into());
    let known_item = work.conn().prepare_cached("SELECT 1 FROM equipment WHERE item_id = ?1").and_then(|mut s| s.exists([item])).map_err(db)?;
    if !known_item {
        return Err(Error::UnknownItem(item));
    }
    let known_category =
        work.conn().prepare_cached("SELECT 1 FROM repair_categories WHERE category_id = ?1").and_then(|mut s| s.exists([&category])).map_err(db)?;
    if !known_category {
        return Err(Error::UnknownCategory(category));
    }
    let site = crate::store::current_site(work.conn())?;
    let id = TicketId::new();
    let now = work.now();
    let doc = RepairDoc {
        header: Header::new(DocKind::Repair, site, actor.person.map(|p| format!("person:{p}"))),
        id,
        item,
        category: category.to_string(),
        opened_by: actor.person,
        opened_by_tag: actor.tag(),
        opened_at: now,
        notes: vec![Note { id: EventId::new(), at: now, by: actor.tag(), text }],
        states: Vec::new(),
    };
    work.create(&DocId::repair(id), &doc)?;
    Ok(id)
}

impl Store {
    /// Report a fault on an item: opens a ticket with a category and a note.
    pub fn open_ticket(&mut self, actor: &Actor, item: ItemId, category: RepairCategoryId, note: &str) -> Result<TicketId, Error> {
        actor.require(&[Role::Worker, Role::Admin], "report faults")?;
        let text = note_text(note)?;
        self.run("open_ticket", actor, |work| create_ticket(work, actor, item, category, text))
    }

    /// Report a fault on an item that has no label yet: the item is added
    /// (asset number, name, type and the code its new label will carry)
    /// and its ticket opened, in one change of each, or neither.
    pub fn report_fault_on_new_item(&mut self, actor: &Actor, item: NewItem, category: RepairCategoryId, note: &str) -> Result<(ItemId, TicketId), Error> {
        actor.require(&[Role::Admin], "add equipment")?;
        crate::equipment::check_new_item(&item)?;
        let text = note_text(note)?;
        self.run("report_fault_on_new_item", actor, |work| {
            let id = crate::equipment::create_item(work, &item)?;
            let ticket = create_ticket(work, actor, id, category, text)?;
            Ok((id, ticket))
        })
    }

    /// Add a note to a ticket (a worker only to their own).
    pub fn add_repair_note(&mut self, actor: &Actor, ticket: TicketId, note: &str) -> Result<(), Error> {
        actor.require(&[Role::Worker, Role::Admin], "add notes to repairs")?;
        let text = note_text(note)?;
        self.run("add_repair_note", actor, |work| {
            let mut doc = read_ticket(work, ticket)?;
            if actor.role == Role::Worker && (actor.person.is_none() || doc.opened_by != actor.person) {
                return Err(Error::NotYours);
            }
            if doc.state() == RepairState::Resolved {
                return Err(Error::Resolved);
            }
            let note = Note { id: EventId::new(), at: work.now(), by: actor.tag(), text };
            doc.notes.push(note.clone());
            work.append(&DocId::repair(ticket), &[(&["notes".into()], &note)], &doc)?;
            Ok(())
        })
    }

    /// Move a ticket to another state. A resolved ticket only reopens (to new
    /// or in progress).
    pub fn set_repair_state(&mut self, actor: &Actor, ticket: TicketId, state: RepairState) -> Result<(), Error> {
        actor.require(&[Role::Admin], "move repair tickets")?;
        self.run("set_repair_state", actor, |work| {
            let mut doc = read_ticket(work, ticket)?;
            let current = doc.state();
            if current == state {
                return Err(Error::SameState(state));
            }
            if current == RepairState::Resolved && !matches!(state, RepairState::New | RepairState::InProgress) {
                return Err(Error::Resolved);
            }
            let change = StateChange { id: EventId::new(), at: work.now(), by: actor.tag(), state };
            doc.states.push(change.clone());
            work.append(&DocId::repair(ticket), &[(&["states".into()], &change)], &doc)?;
            Ok(())
        })
    }
}
