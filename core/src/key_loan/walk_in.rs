//! A walk-in at the key desk: a customer not yet known is made at checkout
//! from their e-mail (and user id, department and affiliation where the
//! affiliation asks for them), as the key register Lodge replaces did;
//! customers are matched by e-mail. The key is checked first, so that a
//! refused checkout makes nobody.

use serde::{Deserialize, Serialize};

use super::{CheckoutRequest, Error};
use crate::actor::{Actor, Role};
use crate::document::{DocId, DocKind, Header};
use crate::ids::{AffiliationId, DepartmentId, Email, LoanId, PersonId};
use crate::person::PersonDoc;
use crate::store::Store;

/// Who a walk-in customer is, when their e-mail is nobody's yet.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WalkIn {
    /// Their full name.
    pub name: String,
    /// Institution user id (student number…), where the affiliation asks for it.
    pub user_id: Option<String>,
    /// Department.
    pub department: Option<DepartmentId>,
    /// Affiliation.
    pub affiliation: Option<AffiliationId>,
}

impl Store {
    /// Lend a key to `customer` by e-mail; someone unknown is first made a
    /// customer from `walk_in`. One undo-free step for the desk: if the
    /// key cannot be lent, nobody is made.
    pub fn checkout_walk_in(&mut self, actor: &Actor, key: crate::ids::KeyId, customer: Email, walk_in: WalkIn, due_at: Option<crate::time::Timestamp>) -> Result<LoanId, Error> {
        actor.require(&[Role::KeyDesk, Role::Admin], "lend keys")?;
        if self.person_by_email(&customer)?.is_none() {
            self.check_key_lendable(key)?;
            self.add_customer(actor, &customer, walk_in)?;
        }
        self.checkout_key(actor, CheckoutRequest { key, customer, due_at })
    }

    /// The key exists, is not retired and is not out.
    fn check_key_lendable(&self, key: crate::ids::KeyId) -> Result<(), Error> {
        let db = |e: rusqlite::Error| Error::Store(e.into());
        let row: Option<(String, bool)> = rusqlite::OptionalExtension::optional(
            self.conn().prepare_cached("SELECT label, active FROM keys WHERE key_id = ?1").map_err(db)?.query_row([key], |r| Ok((r.get(0)?, r.get(1)?))),
        )
        .map_err(db)?;
        let out: Option<(String, crate::time::Timestamp)> = rusqlite::OptionalExtension::optional(
            self.conn()
                .prepare_cached("SELECT coalesce(p.name, l.customer), l.out_at FROM loans l LEFT JOIN people p ON p.person_id = l.customer WHERE l.key_id = ?1 AND l.state = 'out' LIMIT 1")
                .map_err(db)?
                .query_row([key], |r| Ok((r.get(0)?, r.get(1)?))),
        )
        .map_err(db)?;
        match (row, out) {
            (None, _) => Err(Error::UnknownKey(key)),
            (Some((label, false)), _) => Err(Error::Retired(label)),
            (Some((label, true)), Some((customer, since))) => Err(Error::AlreadyOut { label, customer, since }),
            (Some(_), None) => Ok(()),
        }
    }

    /// A new key customer: a person with no role in Lodge.
    fn add_customer(&mut self, actor: &Actor, email: &Email, walk_in: WalkIn) -> Result<PersonId, Error> {
        let name = walk_in.name.trim().to_owned();
        if name.is_empty() {
            return Err(Error::WalkInName(email.clone()));
        }
        let user_id = walk_in.user_id.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
        self.run("add_customer", actor, |work| {
            let db = |e: rusqlite::Error| Error::Store(e.into());
            if let Some(dep) = &walk_in.department
                && !work.conn().prepare_cached("SELECT 1 FROM departments WHERE department_id = ?1").map_err(db)?.exists([dep]).map_err(db)?
            {
                return Err(Error::UnknownDepartment(dep.clone()));
            }
            if let Some(aff) = &walk_in.affiliation {
                let requires: Option<(String, bool)> = rusqlite::OptionalExtension::optional(
                    work.conn()
                        .prepare_cached("SELECT name, requires_user_id FROM affiliations WHERE affiliation_id = ?1")
                        .map_err(db)?
                        .query_row([aff], |r| Ok((r.get(0)?, r.get(1)?))),
                )
                .map_err(db)?;
                match requires {
                    None => return Err(Error::UnknownAffiliation(aff.clone())),
                    Some((affiliation, true)) if user_id.is_none() => return Err(Error::UserIdRequired { name: name.clone(), affiliation }),
                    Some(_) => {}
                }
            }
            let id = PersonId::new();
            let site = crate::store::current_site(work.conn())?;
            let doc = PersonDoc {
                header: Header::new(DocKind::Person, site, None),
                id,
                name: name.clone(),
                email: Some(email.clone()),
                phone: None,
                department: walk_in.department.map(|d| d.to_string()),
                affiliation: walk_in.affiliation.map(|a| a.to_string()),
                user_id: user_id.clone(),
                roles: Vec::new(),
                badge_card: None,
                hosts_guests: false,
                active: true,
                preferred_contact: None,
                marshal: false,
            };
            work.create(&DocId::person(id), &doc)?;
            Ok(id)
        })
    }
}
