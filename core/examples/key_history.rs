//! How a key command's cost grows with the loans a key has had: one key
//! lent and returned every day, timed as its history grows.
//!
//! `cargo run --release -p lodge-core --example key_history -- 2000`

use std::sync::Arc;
use std::time::Instant;

use lodge_core::key_loan::CheckoutRequest;
use lodge_core::person::PersonForm;
use lodge_core::{Actor, Email, KeyTypeId, ManualClock, NewSite, Role, Store, Timestamp};

fn main() -> anyhow::Result<()> {
    let loans: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(2000);
    let dir = tempfile::tempdir()?;
    let clock = ManualClock::new(Timestamp::from_millis(1_767_225_600_000));
    let mut store = Store::open(dir.path().join("lodge.sqlite"), Arc::new(clock.clone()))?;
    let admin = Actor::site_founder("Desk");
    store.create_site(&admin, NewSite { name: "Key House".into(), time_zone: "Europe/Warsaw".into() })?;
    let master = KeyTypeId::parse("master").unwrap();
    store.set_key_type(&admin, master.clone(), "Master", 14)?;
    store.create_person(&admin, PersonForm { name: "Kim".into(), email: Some("kim@key.test".into()), roles: vec![Role::Staff], ..Default::default() })?;
    let key = store.add_key(&admin, master, "M-1")?;
    let customer = Email::parse("kim@key.test").unwrap();
    let mut window = Vec::new();
    println!("| loans before | checkout + return, mean of the last 50 |");
    println!("| --- | --- |");
    for i in 1..=loans {
        clock.advance(86_400_000);
        let started = Instant::now();
        store.checkout_key(&admin, CheckoutRequest { key, customer: customer.clone(), due_at: None })?;
        clock.advance(3_600_000);
        store.return_key(&admin, key)?;
        window.push(started.elapsed());
        if window.len() > 50 {
            window.remove(0);
        }
        if i == 50 || i % 500 == 0 {
            let mean = window.iter().sum::<std::time::Duration>() / window.len() as u32;
            println!("| {i} | {mean:.2?} |");
        }
    }
    Ok(())
}
