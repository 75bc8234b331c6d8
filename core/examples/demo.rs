//! Prints what a front desk sees of a site. With `--server URL --code CODE`
//! the store first joins that server's site as the device the code is for
//! and syncs; without, it holds a demo site of its own.
//!
//! `cargo run -p lodge-core --example demo -- demo-data/lodge.sqlite [--server http://127.0.0.1:7878 --code XXXX-XXXX-XXXX]`

use std::sync::Arc;

use anyhow::Context;
use lodge_core::key_loan::LoanFilter;
use lodge_core::{Store, SystemClock};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).cloned().unwrap_or_else(|| "demo-data/lodge.sqlite".into());
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    if let Some(dir) = std::path::Path::new(&path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let store = Store::open(&path, Arc::new(SystemClock)).with_context(|| format!("opening {path}"))?;
    let store = std::sync::Arc::new(std::sync::Mutex::new(store));
    match (flag("--server"), flag("--code")) {
        (Some(server), Some(code)) => {
            let enrolment = lodge_core::sync::enrol(&server, &code, "demo desk", &store).await?;
            let ws = format!("{}/sync", server.replacen("http", "ws", 1));
            let client = lodge_core::sync::spawn(store.clone(), ws, enrolment.token);
            let mut status = client.watch();
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
            while status.borrow().connection != lodge_core::sync::Connection::Online {
                if tokio::time::timeout_at(deadline, status.changed()).await.is_err() {
                    anyhow::bail!("the server did not bring this device up to date in 15 s");
                }
            }
            println!("Joined as a {} device and synced.\n", enrolment.role);
        }
        _ => {
            let mut s = store.lock().unwrap();
            if s.site_settings()?.is_none() {
                lodge_core::demo::create_demo_site(&mut s)?;
                println!("Created the demo site in {path}.\n");
            }
        }
    }
    let s = store.lock().unwrap();
    show(&s)
}

fn show(store: &Store) -> anyhow::Result<()> {
    let site = store.site_settings()?.context("a site")?;
    println!("{} ({})", site.name, site.time_zone);
    let evacuation = store.evacuation_list()?;
    println!("\nIn the building now: {}", evacuation.headcount());
    for p in &evacuation.people {
        println!("  staff  {:<22} since {}", p.name, p.since);
    }
    for g in &evacuation.guests {
        if let lodge_core::visit::VisitState::Admitted { card, since } = g.state {
            println!("  guest  {:<22} card {card}, host {}, since {since}", g.guest_name, g.host_name);
        }
    }
    println!("\nWaiting at the desk:");
    for g in store.waiting_guests()? {
        println!("  {} ({}) for {}", g.guest_name, g.company, g.host_name);
    }
    println!("\nKeys out:");
    for l in store.loans(LoanFilter::Out)? {
        println!("  {} with {}, due {}", l.label, l.customer_name, l.due_at);
    }
    println!("\nEquipment out:");
    for i in store.equipment_held()? {
        println!("  {} {} with {}", i.name, i.asset_number, i.holder_name.unwrap_or_default());
    }
    println!("\nFree guest cards: {}", store.free_cards(Some(&lodge_core::CardTypeId::parse("guest")?))?.len());
    println!("Open conflicts: {}", store.conflicts()?.len());
    Ok(())
}
