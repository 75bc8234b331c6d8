//! The key desk: find the customer by e-mail or badge, see what they hold,
//! lend a key with the due date proposed from its type's loan term, take it
//! back, renew, mark lost or paid, and grant or revoke exceptions.

use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use lodge_core::key_loan::{CheckoutRequest, Key, Loan, LoanException, LoanFilter};
use lodge_core::person::Person;
use lodge_core::site::KeyType;
use lodge_core::{CardUid, Email, ExceptionId, KeyId, KeyTypeId, LoanId, PersonId, Timestamp};

use crate::desk::Desk;
use crate::error::{Answer, Refusal};
use crate::events::Area;

/// How the desk names a customer: a typed e-mail or a tapped badge.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "by", content = "value", rename_all = "kebab-case")]
pub enum CustomerQuery {
    /// Typed.
    Email(String),
    /// Read from their badge card.
    CardUid(String),
}

/// A customer and what they hold.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Customer {
    /// Who.
    pub person: Person,
    /// Keys out with them.
    pub loans: Vec<Loan>,
    /// Their exceptions, revoked ones included.
    pub exceptions: Vec<LoanException>,
}

/// Keys and their types, for the picker.
#[derive(Debug, Clone, Serialize, TS)]
pub struct KeyShelf {
    /// Key types and their loan terms.
    pub types: Vec<KeyType>,
    /// Every key.
    pub keys: Vec<Key>,
    /// The site's departments, for a walk-in customer.
    pub departments: Vec<lodge_core::site::Department>,
    /// The site's affiliations (and whether each asks for a user id).
    pub affiliations: Vec<lodge_core::site::Affiliation>,
}

pub(crate) fn customer_of(desk: &Desk, person: PersonId) -> Answer<Customer> {
    let store = desk.store();
    let p = store.person(person)?.ok_or_else(|| Refusal::new("This person is not on this device."))?;
    Ok(Customer { loans: store.keys_held_by(person)?, exceptions: store.loan_exceptions(person)?, person: p })
}

/// Find a customer.
#[tauri::command(async, rename_all = "snake_case")]
pub fn find_customer(desk: State<'_, Desk>, query: CustomerQuery) -> Answer<Customer> {
    let person = match &query {
        CustomerQuery::Email(text) => {
            let email = Email::parse(text.trim()).map_err(|_| Refusal::new(format!("“{}” is not an e-mail address.", text.trim())))?;
            // Typed: the screen offers to add them as a walk-in.
            desk.read(|s| s.person_by_email(&email))?.ok_or(lodge_core::key_loan::Error::UnknownCustomer(email))?
        }
        CustomerQuery::CardUid(uid) => {
            let uid = CardUid::parse(uid).map_err(|e| Refusal::new(e.to_string()))?;
            desk.read(|s| s.person_by_card_uid(&uid))?.ok_or_else(|| Refusal::new("This badge is nobody's. Find the customer by e-mail."))?
        }
    };
    customer_of(&desk, person.id)
}

/// Every key and key type.
#[tauri::command(async, rename_all = "snake_case")]
pub fn key_shelf(desk: State<'_, Desk>) -> Answer<KeyShelf> {
    let store = desk.store();
    Ok(KeyShelf { types: store.key_types()?, keys: store.keys(None)?, departments: store.departments()?, affiliations: store.affiliations()? })
}

/// Loans by state: out, overdue, lost, paid, returned or all.
#[tauri::command(async, rename_all = "snake_case")]
pub fn loans(desk: State<'_, Desk>, filter: LoanFilter) -> Answer<Vec<Loan>> {
    desk.read(|s| s.loans(filter))
}

/// Lend a key.
#[tauri::command(async, rename_all = "snake_case")]
pub fn checkout_key(desk: State<'_, Desk>, request: CheckoutRequest) -> Answer<LoanId> {
    desk.write(&[Area::Keys], |s, actor| s.checkout_key(actor, request))
}

/// Lend a key to a walk-in: someone not yet known is made a customer
/// from `walk_in` first (nobody is made if the key cannot be lent).
#[tauri::command(async, rename_all = "snake_case")]
pub fn checkout_walk_in(desk: State<'_, Desk>, request: CheckoutRequest, walk_in: lodge_core::key_loan::WalkIn) -> Answer<LoanId> {
    desk.write(&[Area::Keys, Area::People], |s, actor| s.checkout_walk_in(actor, request.key, request.customer, walk_in, request.due_at))
}

/// A key came back.
#[tauri::command(async, rename_all = "snake_case")]
pub fn return_key(desk: State<'_, Desk>, key: KeyId) -> Answer<()> {
    desk.write(&[Area::Keys], |s, actor| s.return_key(actor, key))
}

/// Renew a loan (to `due_at`, or by the loan term).
#[tauri::command(async, rename_all = "snake_case")]
pub fn renew_key(desk: State<'_, Desk>, key: KeyId, due_at: Option<Timestamp>) -> Answer<Timestamp> {
    desk.write(&[Area::Keys], |s, actor| s.renew_key(actor, key, due_at))
}

/// The customer lost the key.
#[tauri::command(async, rename_all = "snake_case")]
pub fn mark_lost(desk: State<'_, Desk>, key: KeyId) -> Answer<()> {
    desk.write(&[Area::Keys], |s, actor| s.mark_lost(actor, key))
}

/// The customer paid for a lost key.
#[tauri::command(async, rename_all = "snake_case")]
pub fn mark_paid(desk: State<'_, Desk>, key: KeyId) -> Answer<()> {
    desk.write(&[Area::Keys], |s, actor| s.mark_paid(actor, key))
}

/// Let a customer hold more keys of a type until a date.
#[tauri::command(async, rename_all = "snake_case")]
pub fn grant_exception(desk: State<'_, Desk>, customer: PersonId, key_type: KeyTypeId, max_keys: u32, expires_at: Timestamp) -> Answer<ExceptionId> {
    desk.write(&[Area::Keys], |s, actor| s.grant_exception(actor, customer, key_type, max_keys, expires_at))
}

/// Withdraw an exception.
#[tauri::command(async, rename_all = "snake_case")]
pub fn revoke_exception(desk: State<'_, Desk>, id: ExceptionId) -> Answer<()> {
    desk.write(&[Area::Keys], |s, actor| s.revoke_exception(actor, id))
}
