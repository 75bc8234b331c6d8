//! Person commands: create, update, change own contact details, deactivate.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::{ContactChannel, Error, PersonDoc};
use crate::actor::{Actor, Role};
use crate::document::{DocId, DocKind, Header};
use crate::ids::{AffiliationId, CardNumber, DepartmentId, Email, PersonId, check_phone};
use crate::site::DirectoryEntry;
use crate::store::{Store, Work};

/// What the admin fills in for a person.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PersonForm {
    /// Full name.
    pub name: String,
    /// E-mail, which identifies a key customer.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Department.
    pub department: Option<DepartmentId>,
    /// Affiliation.
    pub affiliation: Option<AffiliationId>,
    /// Institution user id.
    pub user_id: Option<String>,
    /// Roles in Lodge.
    pub roles: Vec<Role>,
    /// Their own badge card, if they have one.
    pub badge_card: Option<CardNumber>,
    /// Whether guests may ask for them.
    pub hosts_guests: bool,
    /// Whether they are a fire marshal (their phone takes roll calls).
    #[serde(default)]
    pub marshal: bool,
}

struct Checked {
    name: String,
    email: Option<Email>,
    phone: Option<String>,
    user_id: Option<String>,
}

fn check_form(form: &PersonForm) -> Result<Checked, Error> {
    let name = form.name.trim().to_owned();
    if name.is_empty() {
        return Err(Error::NoName);
    }
    let email = non_blank(&form.email).map(Email::parse).transpose()?;
    let phone = non_blank(&form.phone).map(check_phone).transpose()?;
    let user_id = non_blank(&form.user_id).map(str::to_owned);
    Ok(Checked { name, email, phone, user_id })
}

fn non_blank(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

fn check_references(work: &Work<'_>, form: &PersonForm, email: &Option<Email>, me: PersonId) -> Result<(), Error> {
    let conn = work.conn();
    let db = |e: rusqlite::Error| Error::Store(e.into());
    if let Some(dep) = &form.department
        && !conn.prepare_cached("SELECT 1 FROM departments WHERE department_id = ?1").map_err(db)?.exists([dep]).map_err(db)? {
            return Err(Error::UnknownDepartment(dep.clone()));
        }
    if let Some(aff) = &form.affiliation
        && !conn.prepare_cached("SELECT 1 FROM affiliations WHERE affiliation_id = ?1").map_err(db)?.exists([aff]).map_err(db)? {
            return Err(Error::UnknownAffiliation(aff.clone()));
        }
    if let Some(email) = email {
        let other: Option<String> = conn
            .prepare_cached("SELECT name FROM people WHERE email = ?1 AND active = 1 AND person_id != ?2")
            .map_err(db)?
            .query_row(rusqlite::params![email, me], |r| r.get(0))
            .ok();
        if let Some(name) = other {
            return Err(Error::EmailInUse { email: email.clone(), name });
        }
    }
    if let Some(card) = form.badge_card {
        let card_type: Option<(String, bool)> = conn
            .prepare_cached("SELECT t.label, t.for_guests FROM cards c JOIN card_types t ON t.type_id = c.type_id WHERE c.number = ?1")
            .map_err(db)?
            .query_row([card], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db)?;
        match card_type {
            None => return Err(Error::UnknownCard(card)),
            Some((card_type, true)) => return Err(Error::CardForGuests { card, card_type }),
            Some((_, false)) => {}
        }
        let other: Option<String> = conn
            .prepare_cached("SELECT name FROM people WHERE badge_card = ?1 AND active = 1 AND person_id != ?2")
            .map_err(db)?
            .query_row(rusqlite::params![card, me], |r| r.get(0))
            .ok();
        if let Some(name) = other {
            return Err(Error::CardInUse { card, name });
        }
    }
    Ok(())
}

fn sync_directory(work: &mut Work<'_>, person: &PersonDoc) -> Result<(), Error> {
    let (id, mut directory) = crate::site::read_directory(work)?;
    let key = person.id.to_string();
    if person.active && person.hosts_guests {
        directory.people.insert(key, DirectoryEntry { name: person.name.clone(), department: person.department.clone() });
    } else {
        directory.people.remove(&key);
    }
    work.write(&id, &directory)?;
    Ok(())
}

fn read_person(work: &mut Work<'_>, id: PersonId) -> Result<PersonDoc, Error> {
    work.read::<PersonDoc>(&DocId::person(id))?.ok_or(Error::NotFound(id))
}

impl Store {
    /// Add a person.
    pub fn create_person(&mut self, actor: &Actor, form: PersonForm) -> Result<PersonId, Error> {
        actor.require(&[Role::Admin], "add people")?;
        let checked = check_form(&form)?;
        self.run("create_person", actor, |work| {
            let id = PersonId::new();
            check_references(work, &form, &checked.email, id)?;
            let site = crate::store::current_site(work.conn())?;
            let doc = PersonDoc {
                header: Header::new(DocKind::Person, site, None),
                id,
                name: checked.name,
                email: checked.email,
                phone: checked.phone,
                department: form.department.map(|d| d.to_string()),
                affiliation: form.affiliation.map(|a| a.to_string()),
                user_id: checked.user_id,
                roles: form.roles,
                badge_card: form.badge_card,
                hosts_guests: form.hosts_guests,
                active: true,
                preferred_contact: None,
                marshal: form.marshal,
            };
            work.create(&DocId::person(id), &doc)?;
            sync_directory(work, &doc)?;
            Ok(id)
        })
    }

    /// Change everything about a person (admin).
    pub fn update_person(&mut self, actor: &Actor, id: PersonId, form: PersonForm) -> Result<(), Error> {
        actor.require(&[Role::Admin], "change people")?;
        let checked = check_form(&form)?;
        self.run("update_person", actor, |work| {
            let mut doc = read_person(work, id)?;
            check_references(work, &form, &checked.email, id)?;
            doc.name = checked.name;
            doc.email = checked.email;
            doc.phone = checked.phone;
            doc.department = form.department.map(|d| d.to_string());
            doc.affiliation = form.affiliation.map(|a| a.to_string());
            doc.user_id = checked.user_id;
            doc.roles = form.roles;
            doc.badge_card = form.badge_card;
            doc.hosts_guests = form.hosts_guests;
            doc.marshal = form.marshal;
            work.write(&DocId::person(id), &doc)?;
            sync_directory(work, &doc)
        })
    }

    /// Change a person's own e-mail and phone (the person, or an admin).
    pub fn update_contact(&mut self, actor: &Actor, id: PersonId, email: Option<String>, phone: Option<String>) -> Result<(), Error> {
        actor.require_self_or(id, &[Role::Admin], "change someone else's contact details")?;
        let email = non_blank(&email).map(Email::parse).transpose()?;
        let phone = non_blank(&phone).map(check_phone).transpose()?;
        self.run("update_contact", actor, |work| {
            let mut doc = read_person(work, id)?;
            check_references(work, &PersonForm::default(), &email, id)?;
            doc.email = email;
            doc.phone = phone;
            work.write(&DocId::person(id), &doc)?;
            Ok(())
        })
    }

    /// How a person would rather be reminded (the person, or an admin);
    /// `None` goes back to e-mail where they have one. A channel they
    /// have no address for is refused.
    pub fn set_preferred_contact(&mut self, actor: &Actor, id: PersonId, channel: Option<ContactChannel>) -> Result<(), Error> {
        actor.require_self_or(id, &[Role::Admin], "change someone else's contact details")?;
        self.run("set_preferred_contact", actor, |work| {
            let mut doc = read_person(work, id)?;
            let missing = match channel {
                Some(ContactChannel::Email) => doc.email.is_none(),
                Some(ContactChannel::Sms) => doc.phone.is_none(),
                None => false,
            };
            if let Some(channel) = channel.filter(|_| missing) {
                return Err(Error::NoAddressFor { channel });
            }
            doc.preferred_contact = channel;
            work.write(&DocId::person(id), &doc)?;
            Ok(())
        })
    }

    /// Deactivate a person: they can no longer sign in, borrow or host.
    pub fn deactivate_person(&mut self, actor: &Actor, id: PersonId) -> Result<(), Error> {
        actor.require(&[Role::Admin], "deactivate people")?;
        self.run("deactivate_person", actor, |work| {
            let mut doc = read_person(work, id)?;
            doc.active = false;
            work.write(&DocId::person(id), &doc)?;
            sync_directory(work, &doc)
        })
    }
}
