//! How a key command's cost grows with the loans a key has had: one key
//! lent and returned every day, timed as its history grows.
//!
//! `cargo run --release -p lodge-core --example key_history -- 2000`

use std::sync::Arc;
use std::time::{Duration, Instant};

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
    println!("| loans the key has had | checkout + return, mean of the last 50 | CPU of both, user + system |");
    println!("| --- | --- | --- |");
    for i in 1..=loans {
        clock.advance(86_400_000);
        let started = Instant::now();
        let cpu_before = thread_cpu();
        store.checkout_key(&admin, CheckoutRequest { key, customer: customer.clone(), due_at: None })?;
        clock.advance(3_600_000);
        store.return_key(&admin, key)?;
        window.push((started.elapsed(), thread_cpu() - cpu_before));
        if window.len() > 50 {
            window.remove(0);
        }
        if i == 50 || i % 500 == 0 {
            let n = window.len() as u32;
            let wall = window.iter().map(|w| w.0).sum::<Duration>() / n;
            let cpu = window.iter().map(|w| w.1).sum::<Duration>() / n;
            println!("| {i} | {wall:.2?} | {cpu:.2?} |");
        }
    }
    Ok(())
}

/// This thread's CPU time so far, user and system.
fn thread_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
    let micros = |t: libc::timeval| Duration::from_micros(t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64);
    micros(u.ru_utime) + micros(u.ru_stime)
}
