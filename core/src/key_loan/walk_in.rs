//! A walk-in at the key desk: a customer not yet known is made at checkout
//! from their e-mail (and user id, department and affiliation where the
//! affiliation asks for them), as the key register Lodge replaces did;
//! customers are matched by e-mail. The customer is made and the key lent
//! in one transaction, under the desk's one set of rules
//! ([`super::commands::lend`]): a refused checkout makes nobody.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::{CheckoutRequest, Error};
use crate::actor::{Actor, Role};
use crate::document::{DocId, DocKind, Header};
use crate::ids::{AffiliationId, DepartmentId, Email, KeyId, LoanId, PersonId};
use crate::person::PersonDoc;
use crate::store::{Store, Work};
use crate::time::Timestamp;

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
    /// customer from `walk_in`, in the same transaction.
    pub fn checkout_walk_in(&mut self, actor: &Actor, key: KeyId, customer: Email, walk_in: WalkIn, due_at: Option<Timestamp>) -> Result<LoanId, Error> {
        actor.require(&[Role::KeyDesk, Role::Admin], "lend keys")?;
        self.run("checkout_walk_in", actor, |work| {
            let known = work
                .conn()
                .prepare_cached("SELECT 1 FROM people WHERE email = ?1 AND active = 1")
                .map_err(db)?
                .exists([&customer])
                .map_err(db)?;
            if !known {
                add_customer(work, &customer, walk_in)?;
            }
            super::commands::lend(work, actor, CheckoutRequest { key, customer, due_at })
        })
    }
}

fn db(e: rusqlite::Error) -> Error {
    Error::Store(e.into())
}

/// A new key customer: a person with no role in Lodge. Whether their
/// affiliation needs a user id is the lending's rule, checked there.
fn add_customer(work: &mut Work<'_>, email: &Email, walk_in: WalkIn) -> Result<PersonId, Error> {
    let name = walk_in.name.trim().to_owned();
    if name.is_empty() {
        return Err(Error::WalkInName(email.clone()));
    }
    if let Some(dep) = &walk_in.department
        && !work.conn().prepare_cached("SELECT 1 FROM departments WHERE department_id = ?1").map_err(db)?.exists([dep]).map_err(db)?
    {
        return Err(Error::UnknownDepartment(dep.clone()));
    }
    if let Some(aff) = &walk_in.affiliation
        && work.conn().prepare_cached("SELECT 1 FROM affiliations WHERE affiliation_id = ?1").map_err(db)?.query_row([aff], |_| Ok(())).optional().map_err(db)?.is_none()
    {
        return Err(Error::UnknownAffiliation(aff.clone()));
    }
    let id = PersonId::new();
    let site = crate::store::current_site(work.conn())?;
    let doc = PersonDoc {
        header: Header::new(DocKind::Person, site, None),
        id,
        name,
        email: Some(email.clone()),
        phone: None,
        department: walk_in.department.map(|d| d.to_string()),
        affiliation: walk_in.affiliation.map(|a| a.to_string()),
        user_id: walk_in.user_id.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()),
        roles: Vec::new(),
        badge_card: None,
        hosts_guests: false,
        active: true,
        preferred_contact: None,
        marshal: false,
    };
    work.create(&DocId::person(id), &doc)?;
    Ok(id)
}
