//! A load generator for sync, after `../shared/WORKLOADS.md`: W2 (cold sync
//! of a fresh device), W3 (warm reconnect with nothing new) and W4 (one
//! change reaching a device that holds everything), with `lodge-core`'s sync
//! client against a real `lodge-sync` on 127.0.0.1. Documents are visits.
//!
//! `cargo run --release -p lodge-tests --bin lodge-load -- --docs 2000`

use std::time::{Duration, Instant};

use anyhow::Context;
use lodge_core::person::PersonForm;
use lodge_core::sync::Connection;
use lodge_core::visit::{AdmitRequest, GuestForm, VisitState};
use lodge_core::{Actor, CardNumber, Role};
use lodge_tests::{Device, Server, code, create_site};

async fn until(limit: Duration, mut check: impl FnMut() -> bool) -> anyhow::Result<Duration> {
    let start = Instant::now();
    while !check() {
        anyhow::ensure!(start.elapsed() < limit, "gave up after {limit:?}");
        tokio::time::sleep(Duration::from_micros(250)).await;
    }
    Ok(start.elapsed())
}

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let docs: usize = args.iter().position(|a| a == "--docs").and_then(|i| args.get(i + 1)).map_or(Ok(2000), |n| n.parse())?;
    let limit = Duration::from_secs(600);
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let site = create_site(&data, "Load House")?;
    let server = Server::start(&data, 0)?;

    // A writer device makes the documents and uploads them.
    let writer = Device::enrol(&server, dir.path(), "writer", &code(&data, site, "admin", None)?).await?;
    until(limit, || writer.read(|s| s.site_settings().ok().flatten().is_some())).await?;
    let admin = Actor { person: None, device: Some(writer.id), name: "Writer".into(), role: Role::Admin };
    let host = writer
        .act(|s| s.create_person(&admin, PersonForm { name: "Host".into(), hosts_guests: true, ..Default::default() }))
        .context("host")?;
    let t = Instant::now();
    let visits: Vec<_> = writer.act(|s| {
        (0..docs)
            .map(|i| {
                s.register_guest(&admin, GuestForm { name: format!("Guest {i}"), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() })
                    .unwrap()
            })
            .collect()
    });
    let made = t.elapsed();
    let upload = until(limit, || writer.read(|s| s.outbox().map(|o| o.is_empty()).unwrap_or(false))).await?;
    println!("setup: {docs} visits made in {made:.2?}, uploaded in {upload:.2?}");

    // W2: a fresh device joins and fetches everything.
    let t = Instant::now();
    let holder = Device::enrol(&server, dir.path(), "holder", &code(&data, site, "reception", None)?).await?;
    until(limit, || holder.read(|s| s.waiting_guests().map(|w| w.len() == docs).unwrap_or(false))).await?;
    let w2 = t.elapsed();
    until(limit, || holder.sync.status().connection == Connection::Online).await?;
    println!("W2 cold sync of {docs} documents: {w2:.2?}");

    // W3: the device restarts its client with its store; nothing changed.
    let mut holder = holder;
    holder.go_offline();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    holder.go_online(&server);
    until(limit, || holder.sync.status().connection == Connection::Online).await?;
    let w3 = t.elapsed();
    println!("W3 warm reconnect holding {docs} documents: {w3:.2?}");

    // W4: one change on another device reaches the holder, 20 times.
    let mut times = Vec::new();
    for (i, visit) in visits.iter().take(20).enumerate() {
        let card = CardNumber::new(100 + i as u32)?;
        // Timed from just before the change, as the workload says.
        let t = Instant::now();
        writer.act(|s| s.admit(&admin, AdmitRequest { visit: *visit, card, take_over: false }))?;
        until(limit, || holder.read(|s| s.visit(*visit).ok().flatten().is_some_and(|v| matches!(v.state, VisitState::Admitted { .. })))).await?;
        times.push(t.elapsed());
    }
    times.sort();
    println!("W4 one change to a device holding {docs}: median {:.2?} (min {:.2?}, max {:.2?})", times[10], times[0], times[19]);
    println!("server peak resident memory: {:.1} MB", rss_mb(server.pid()));
    Ok(())
}
