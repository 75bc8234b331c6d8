//! What a phone sees of the key desk: a key lent to its person, read-only,
//! while it is out to them — so that "you still hold" at sign-out can list
//! it — and nothing of keys lent to anyone else. Two workers and a staff
//! phone against a real `lodge-sync`.

use lodge_core::key_loan::CheckoutRequest;
use lodge_core::person::PersonForm;
use lodge_core::{Actor, Email, KeyTypeId, PersonId, Role};
use lodge_tests::site::{LIMIT, TestSite, settled};
use lodge_tests::{Device, eventually};

fn person(s: &TestSite, name: &str, email: &str, role: Role) -> PersonId {
    let form = PersonForm { name: name.into(), email: Some(email.into()), roles: vec![role], ..Default::default() };
    s.admin.act(|st| st.create_person(&s.founder(), form)).unwrap()
}

fn lend(s: &TestSite, key: lodge_core::KeyId, to: &str) {
    let request = CheckoutRequest { key, customer: Email::parse(to).unwrap(), due_at: None };
    s.admin.act(|st| st.checkout_key(&s.founder(), request)).unwrap();
}

/// Documents of a kind in the phone's file (not only in its projections).
fn docs_in_file(d: &Device, kind: &str) -> i64 {
    let conn = rusqlite::Connection::open(&d.path).unwrap();
    conn.query_row("SELECT count(*) FROM documents WHERE kind = ?1", [kind], |r| r.get(0)).unwrap()
}

/// Key documents in the phone's file.
fn key_docs_in_file(d: &Device) -> i64 {
    docs_in_file(d, "key")
}

fn held_keys(d: &Device, p: PersonId) -> Vec<String> {
    d.read(|st| st.holdings(p).unwrap().keys.into_iter().map(|l| l.label).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_holds_its_persons_keys_while_they_are_out_and_no_one_elses() {
    let s = TestSite::start().await;
    let founder = s.founder();
    let ewa = person(&s, "Ewa Lis", "ewa@lodge.test", Role::Staff);
    let jan = person(&s, "Jan Nowak", "jan@lodge.test", Role::Worker);
    let piotr = person(&s, "Piotr Zielinski", "piotr@lodge.test", Role::Worker);
    let master = KeyTypeId::parse("master").unwrap();
    s.admin.act(|st| st.set_key_type(&founder, master.clone(), "Master", 14)).unwrap();
    let m1 = s.admin.act(|st| st.add_key(&founder, master.clone(), "M-1")).unwrap();
    let m2 = s.admin.act(|st| st.add_key(&founder, master.clone(), "M-2")).unwrap();
    settled(&s.admin).await;
    let mut ewas = s.device("ewa-phone", "staff", Some(ewa)).await;
    let jans = s.device("jan-phone", "worker", Some(jan)).await;
    let piotrs = s.device("piotr-phone", "worker", Some(piotr)).await;
    assert_eq!(key_docs_in_file(&ewas), 0, "no key is Ewa's yet");

    // Lent: pushed to the borrower's phone at once, and only there.
    lend(&s, m1, "ewa@lodge.test");
    lend(&s, m2, "jan@lodge.test");
    eventually("Ewa's phone has key M-1", LIMIT, || held_keys(&ewas, ewa) == ["M-1"]).await.unwrap();
    eventually("Jan's phone has key M-2", LIMIT, || held_keys(&jans, jan) == ["M-2"]).await.unwrap();
    assert_eq!(ewas.read(|st| st.keys(None).unwrap().len()), 1, "Ewa's phone sees only her own key");
    assert_eq!(key_docs_in_file(&ewas), 1);
    assert_eq!(key_docs_in_file(&jans), 1, "Jan's phone has only M-2");
    assert_eq!(key_docs_in_file(&piotrs), 0, "Piotr holds nothing and sees no key");
    assert_eq!(docs_in_file(&ewas, "loan-book"), 1, "the loan came in the key's book of the month");
    assert_eq!(docs_in_file(&piotrs, "loan-book"), 0, "nor any loan");

    // Signing out on the phone names what she still holds.
    let ewa_actor = Actor::person(ewa, "Ewa Lis", Role::Staff);
    ewas.act(|st| st.sign_in(&ewa_actor, ewa)).unwrap();
    let receipt = ewas.act(|st| st.sign_out(&ewa_actor, ewa)).unwrap();
    assert_eq!(receipt.still_holding.describe(), "key M-1");

    // Returned while her phone is offline: the catch-up tells it to drop
    // the key, and it is gone from the file, not only from the lists.
    ewas.go_offline();
    s.admin.act(|st| st.return_key(&founder, m1)).unwrap();
    settled(&s.admin).await;
    ewas.go_online(&s.server);
    eventually("Ewa's phone drops key M-1", LIMIT, || key_docs_in_file(&ewas) == 0).await.unwrap();
    eventually("Ewa's phone drops the key's loan book", LIMIT, || docs_in_file(&ewas, "loan-book") == 0).await.unwrap();
    assert!(held_keys(&ewas, ewa).is_empty());
    ewas.act(|st| st.sign_in(&ewa_actor, ewa)).unwrap();
    let receipt = ewas.act(|st| st.sign_out(&ewa_actor, ewa)).unwrap();
    assert!(!receipt.still_holding.holds_things(), "{:?}", receipt.still_holding);

    // Returned while online: pushed as a drop at once.
    s.admin.act(|st| st.return_key(&founder, m2)).unwrap();
    eventually("Jan's phone drops key M-2", LIMIT, || key_docs_in_file(&jans) == 0).await.unwrap();

    // Dropped, not deleted: lent to her again, it comes back whole.
    lend(&s, m1, "ewa@lodge.test");
    eventually("Ewa's phone has key M-1 again", LIMIT, || held_keys(&ewas, ewa) == ["M-1"]).await.unwrap();
    let loans = ewas.read(|st| st.loans(lodge_core::key_loan::LoanFilter::All).unwrap().len());
    assert_eq!(loans, 2, "its whole history came with it");
    assert_eq!(key_docs_in_file(&piotrs), 0, "Piotr never saw a key");
    settled(&ewas).await;
}
