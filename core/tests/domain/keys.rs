//! The key desk: lend, return, renew, lost, paid, limits and exceptions.

use lodge_core::key_loan::{CheckoutRequest, Error, LoanFilter};
use lodge_core::person::PersonForm;
use lodge_core::{AffiliationId, Email, Timestamp};

use super::fixture::{HOUR, Site, site};

const DAY: i64 = 24 * HOUR;

fn lend(s: &mut Site, key: impl FnOnce(&Site) -> lodge_core::KeyId, email: &str) -> Result<lodge_core::LoanId, Error> {
    let kd = s.key_desk.clone();
    let key = key(s);
    s.store.checkout_key(&kd, CheckoutRequest { key, customer: Email::parse(email).unwrap(), due_at: None })
}

#[test]
fn a_loan_is_due_after_the_key_types_term() {
    let mut s = site();
    lend(&mut s, |s| s.m1, "jan@lodge.test").unwrap();
    let held = s.store.keys_held_by(s.jan).unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].label, "M-1");
    assert_eq!(held[0].due_at.millis() - held[0].out_at.millis(), 14 * DAY);
    assert_eq!(s.store.loans(LoanFilter::Out).unwrap().len(), 1);
}

#[test]
fn one_key_of_a_type_per_person_until_an_exception_is_granted() {
    let mut s = site();
    lend(&mut s, |s| s.m1, "jan@lodge.test").unwrap();
    let err = lend(&mut s, |s| s.m2, "jan@lodge.test").unwrap_err();
    assert_eq!(err.to_string(), "One Master key per person: Jan Nowak already holds 1. Exception needed: ask staff to grant one.");
    let kd = s.key_desk.clone();
    let until = Timestamp::from_millis(s.store.now().millis() + 7 * DAY);
    let exception = s.store.grant_exception(&kd, s.jan, s.master.clone(), 2, until).unwrap();
    lend(&mut s, |s| s.m2, "jan@lodge.test").unwrap();
    assert_eq!(s.store.keys_held_by(s.jan).unwrap().len(), 2);
    assert_eq!(s.store.loan_exceptions(s.jan).unwrap()[0].max_keys, 2);
    s.store.revoke_exception(&kd, exception).unwrap();
    assert!(matches!(s.store.revoke_exception(&kd, exception).unwrap_err(), Error::AlreadyRevoked));
}

#[test]
fn an_expired_exception_no_longer_counts() {
    let mut s = site();
    let kd = s.key_desk.clone();
    let until = Timestamp::from_millis(s.store.now().millis() + DAY);
    s.store.grant_exception(&kd, s.jan, s.master.clone(), 2, until).unwrap();
    lend(&mut s, |s| s.m1, "jan@lodge.test").unwrap();
    s.clock.advance(2 * DAY);
    assert!(matches!(lend(&mut s, |s| s.m2, "jan@lodge.test").unwrap_err(), Error::OverLimit { .. }));
}

#[test]
fn bad_exceptions_are_refused() {
    let mut s = site();
    let kd = s.key_desk.clone();
    let past = Timestamp::from_millis(s.store.now().millis() - 1);
    assert!(matches!(s.store.grant_exception(&kd, s.jan, s.master.clone(), 2, past).unwrap_err(), Error::BadException));
    let future = Timestamp::from_millis(s.store.now().millis() + DAY);
    assert!(matches!(s.store.grant_exception(&kd, s.jan, s.master.clone(), 1, future).unwrap_err(), Error::BadException));
    assert!(matches!(
        s.store.grant_exception(&kd, lodge_core::PersonId::new(), s.master.clone(), 2, future).unwrap_err(),
        Error::UnknownPerson(_)
    ));
}

#[test]
fn retired_keys_are_never_lent() {
    let mut s = site();
    let kd = s.key_desk.clone();
    s.store.retire_key(&kd, s.m1).unwrap();
    assert_eq!(lend(&mut s, |s| s.m1, "jan@lodge.test").unwrap_err().to_string(), "Key M-1 is retired and is never lent.");
    lend(&mut s, |s| s.m2, "jan@lodge.test").unwrap();
    assert!(matches!(s.store.retire_key(&kd, s.m2).unwrap_err(), Error::RetireWhileOut(_)));
}

#[test]
fn a_key_already_out_is_refused() {
    let mut s = site();
    lend(&mut s, |s| s.m1, "jan@lodge.test").unwrap();
    let err = lend(&mut s, |s| s.m1, "anna@lodge.test").unwrap_err();
    assert!(err.to_string().starts_with("Key M-1 is already lent to Jan Nowak since"), "{err}");
}

#[test]
fn unknown_customers_and_missing_user_ids_are_refused() {
    let mut s = site();
    assert!(matches!(lend(&mut s, |s| s.m1, "nobody@lodge.test").unwrap_err(), Error::UnknownCustomer(_)));
    let err = lend(&mut s, |s| s.m1, "ola@lodge.test").unwrap_err();
    assert!(matches!(err, Error::UserIdRequired { .. }), "{err}");
    let admin = s.admin.clone();
    s.store
        .update_person(
            &admin,
            s.ola,
            PersonForm {
                name: "Ola Wiśniewska".into(),
                email: Some("ola@lodge.test".into()),
                affiliation: Some(AffiliationId::parse("student").unwrap()),
                user_id: Some("s12345".into()),
                ..Default::default()
            },
        )
        .unwrap();
    lend(&mut s, |s| s.m1, "ola@lodge.test").unwrap();
}

#[test]
fn a_due_date_in_the_past_is_refused() {
    let mut s = site();
    let kd = s.key_desk.clone();
    let past = Timestamp::from_millis(s.store.now().millis() - HOUR);
    let err = s
        .store
        .checkout_key(&kd, CheckoutRequest { key: s.m1, customer: Email::parse("jan@lodge.test").unwrap(), due_at: Some(past) })
        .unwrap_err();
    assert!(matches!(err, Error::DueInPast(_)));
    assert!(s.store.loans(LoanFilter::All).unwrap().is_empty());
}

#[test]
fn return_renew_and_overdue() {
    let mut s = site();
    lend(&mut s, |s| s.m1, "jan@lodge.test").unwrap();
    s.clock.advance(15 * DAY);
    assert_eq!(s.store.loans(LoanFilter::Overdue).unwrap().len(), 1);
    assert!(s.store.loans(LoanFilter::Overdue).unwrap()[0].overdue);
    let kd = s.key_desk.clone();
    let due = s.store.renew_key(&kd, s.m1, None).unwrap();
    assert_eq!(due.millis(), s.store.now().millis() + 14 * DAY);
    assert!(s.store.loans(LoanFilter::Overdue).unwrap().is_empty());
    assert_eq!(s.store.loans(LoanFilter::Out).unwrap()[0].renewals, 1);
    s.store.return_key(&kd, s.m1).unwrap();
    assert!(s.store.keys_held_by(s.jan).unwrap().is_empty());
    assert!(matches!(s.store.return_key(&kd, s.m1).unwrap_err(), Error::NotOut(_)));
    assert!(matches!(s.store.renew_key(&kd, s.m1, None).unwrap_err(), Error::NotOut(_)));
    assert_eq!(s.store.loans(LoanFilter::Returned).unwrap().len(), 1);
}

#[test]
fn lost_then_paid() {
    let mut s = site();
    lend(&mut s, |s| s.m1, "jan@lodge.test").unwrap();
    let kd = s.key_desk.clone();
    assert!(matches!(s.store.mark_paid(&kd, s.m1).unwrap_err(), Error::NotLost(_)));
    s.store.mark_lost(&kd, s.m1).unwrap();
    assert_eq!(s.store.loans(LoanFilter::Lost).unwrap().len(), 1);
    // A lost key no longer counts against the limit.
    lend(&mut s, |s| s.m2, "jan@lodge.test").unwrap();
    s.store.mark_paid(&kd, s.m1).unwrap();
    assert_eq!(s.store.loans(LoanFilter::Paid).unwrap().len(), 1);
    assert!(matches!(s.store.mark_lost(&kd, s.m1).unwrap_err(), Error::NotOut(_)));
}

#[test]
fn keys_need_a_known_type_and_a_label() {
    let mut s = site();
    let kd = s.key_desk.clone();
    assert!(matches!(s.store.add_key(&kd, lodge_core::KeyTypeId::parse("lab").unwrap(), "L-1").unwrap_err(), Error::UnknownKeyType(_)));
    assert!(matches!(s.store.add_key(&kd, s.master.clone(), "  ").unwrap_err(), Error::NoLabel));
    let worker = s.jan_worker();
    lend(&mut s, |s| s.m1, "jan@lodge.test").unwrap();
    assert!(matches!(s.store.return_key(&worker, s.m1).unwrap_err(), Error::Denied(_)));
    assert_eq!(s.store.keys(None).unwrap().len(), 2);
}

#[test]
fn a_walk_in_is_made_a_customer_at_checkout_and_matched_by_email_after() {
    use lodge_core::key_loan::WalkIn;
    let mut s = site();
    let kd = s.key_desk.clone();
    let email = Email::parse("Piotr@North.test").unwrap();
    let people_before = s.store.people("").unwrap().len();
    // No name: nobody is made, nothing is lent.
    let err = s.store.checkout_walk_in(&kd, s.m1, email.clone(), WalkIn::default(), None).unwrap_err();
    assert!(matches!(err, Error::WalkInName(_)), "{err}");
    // The affiliation asks for a user id.
    let student = WalkIn { name: "Piotr Nowak".into(), affiliation: Some(AffiliationId::parse("student").unwrap()), ..Default::default() };
    assert!(matches!(s.store.checkout_walk_in(&kd, s.m1, email.clone(), student.clone(), None).unwrap_err(), Error::UserIdRequired { .. }));
    // A retired key: refused before anyone is made.
    let admin = s.admin.clone();
    s.store.retire_key(&admin, s.m2).unwrap();
    assert!(matches!(s.store.checkout_walk_in(&kd, s.m2, email.clone(), student.clone(), None).unwrap_err(), Error::Retired(_)));
    assert_eq!(s.store.people("").unwrap().len(), people_before, "no refusal made a customer");

    let with_id = WalkIn { user_id: Some("s777".into()), ..student };
    let loan = s.store.checkout_walk_in(&kd, s.m1, email.clone(), with_id, None).unwrap();
    let piotr = s.store.person_by_email(&email).unwrap().expect("made a customer");
    assert_eq!((piotr.name.as_str(), piotr.user_id.as_deref(), piotr.roles.len()), ("Piotr Nowak", Some("s777"), 0));
    let out = s.store.loans(LoanFilter::Out).unwrap();
    assert!(out.iter().any(|l| l.id == loan && l.customer == piotr.id));
    // Known now: matched by e-mail, the walk-in form ignored.
    s.store.return_key(&kd, s.m1).unwrap();
    s.store.checkout_walk_in(&kd, s.m1, email.clone(), WalkIn { name: "Someone Else".into(), ..Default::default() }, None).unwrap();
    assert_eq!(s.store.people("").unwrap().len(), people_before + 1);
}

/// The loans in a document's `loans` list.
fn loans_kept_in(s: &mut Site, doc: &lodge_core::DocId) -> usize {
    use automerge::ReadDoc;
    let bytes = s.store.export_document(doc).unwrap().expect("the document is here");
    let am = automerge::AutoCommit::load(&bytes).unwrap();
    let loans = am.get(automerge::ROOT, "loans").unwrap().expect("a loans list").1;
    am.length(&loans)
}

#[test]
fn a_key_lent_every_day_keeps_each_months_loans_in_that_months_book_not_in_the_key() {
    let mut s = site();
    let kd = s.key_desk.clone();
    let mut months: std::collections::BTreeMap<String, usize> = Default::default();
    for _ in 0..70 {
        *months.entry(s.store.now().month()).or_default() += 1;
        lend(&mut s, |s| s.m1, "jan@lodge.test").unwrap();
        s.clock.advance(HOUR);
        s.store.return_key(&kd, s.m1).unwrap();
        s.clock.advance(DAY - HOUR);
    }
    assert!(months.len() >= 3, "{months:?}");
    let m1 = s.m1;
    assert_eq!(loans_kept_in(&mut s, &lodge_core::DocId::key(m1)), 0, "the key's own document holds no loan");
    for (month, n) in &months {
        assert_eq!(loans_kept_in(&mut s, &lodge_core::DocId::loan_book(m1, month)), *n, "the book of {month}");
    }
    let loans = s.store.loans_of_key(s.m1).unwrap();
    assert_eq!(loans.len(), 70);
    assert!(loans.iter().all(|l| l.state == "returned"));

    // A loan that began late in one month is renewed, lost and paid for in
    // the next: its events go to the book it began in.
    let end_of_month = months.keys().last().unwrap().clone();
    while s.store.now().month() == end_of_month {
        s.clock.advance(DAY);
    }
    let began = s.store.now().month();
    let loan = lend(&mut s, |s| s.m1, "jan@lodge.test").unwrap();
    while s.store.now().month() == began {
        s.clock.advance(DAY);
    }
    s.store.renew_key(&kd, s.m1, None).unwrap();
    s.store.mark_lost(&kd, s.m1).unwrap();
    s.store.mark_paid(&kd, s.m1).unwrap();
    assert!(!s.store.documents().unwrap().contains(&lodge_core::DocId::loan_book(s.m1, &s.store.now().month())), "no book for a month no loan began in");
    let paid = s.store.loans_of_key(s.m1).unwrap().into_iter().find(|l| l.id == loan).unwrap();
    assert_eq!((paid.state.as_str(), paid.renewals), ("paid", 0));
    assert_eq!(loans_kept_in(&mut s, &lodge_core::DocId::loan_book(m1, &began)), 1);
}
