//! A load generator for sync, after `../shared/WORKLOADS.md`, with
//! `lodge-core`'s sync client against a real `lodge-sync` on 127.0.0.1:
//! W2 (cold sync of a fresh device), W3 (warm reconnect with nothing new)
//! and W4 (one change reaching a device that holds everything) on visits;
//! W1 (fan-out from one writer to N-1 observers) and a busy day's catch-up
//! (5,000 changes over 1,000 documents to a device that was offline) on
//! presence documents, which take a change again and again.
//!
//! `cargo run --release -p lodge-tests --bin lodge-load -- --docs 2000`
//! `cargo run --release -p lodge-tests --bin lodge-load -- w1 --devices 200`
//! `cargo run --release -p lodge-tests --bin lodge-load -- catch-up`

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

/// CPU seconds (user + system) the process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    (ticks(11) + ticks(12)) / 100.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A site with `people` people, created by an admin device (the writer).
async fn people_site(people: usize) -> anyhow::Result<(tempfile::TempDir, Server, lodge_core::SiteId, Device, Actor, Vec<lodge_core::PersonId>)> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let site = create_site(&data, "Load House")?;
    let server = Server::start(&data, 0)?;
    let writer = Device::enrol(&server, dir.path(), "writer", &code(&data, site, "admin", None)?).await?;
    until(Duration::from_secs(60), || writer.read(|s| s.site_settings().ok().flatten().is_some())).await?;
    let admin = Actor { person: None, device: Some(writer.id), name: "Writer".into(), role: Role::Admin };
    let ids = writer.act(|s| {
        (0..people)
            .map(|i| s.create_person(&admin, PersonForm { name: format!("Person {i}"), ..Default::default() }).unwrap())
            .collect::<Vec<_>>()
    });
    // Every person's presence document exists before the measurement.
    writer.act(|s| {
        for p in &ids {
            s.sign_in(&admin, *p).unwrap();
            s.sign_out(&admin, *p).unwrap();
        }
    });
    if until(Duration::from_secs(120), || writer.read(|s| s.outbox().map(|o| o.is_empty()).unwrap_or(false))).await.is_err() {
        let left = writer.read(|s| s.outbox().unwrap_or_default());
        anyhow::bail!("the writer's changes did not all reach the server: {} documents left, e.g. {:?}; status {:?}", left.len(), left.first(), writer.sync.status());
    }
    Ok((dir, server, site, writer, admin, ids))
}

/// W1: one writer, N-1 observers; a change every 50 ms, 200 times, over 100
/// documents; each observer notes when it first sees each change.
async fn w1(devices: usize) -> anyhow::Result<()> {
    let (dir, server, site, writer, admin, people) = people_site(100).await?;
    let data = dir.path().join("server");
    let mut observers = Vec::new();
    for i in 0..devices - 1 {
        observers.push(Device::enrol(&server, dir.path(), &format!("observer-{i}"), &code(&data, site, "reception", None)?).await?);
    }
    let expected = people.len();
    for o in &observers {
        until(Duration::from_secs(300), || o.read(|s| s.people("").map(|p| p.len() == expected).unwrap_or(false))).await?;
        until(Duration::from_secs(300), || o.sync.status().connection == Connection::Online).await?;
    }
    println!("W1 N={devices}: {} observers hold {} presence documents; server RSS so far {:.0} MB", observers.len(), expected, rss_mb(server.pid()));
    let cpu0 = cpu_seconds(server.pid());

    // Change k signs person k % 100 in (first round) or out (second round).
    let changes = 200;
    let sent: std::sync::Arc<std::sync::Mutex<Vec<Option<Instant>>>> = std::sync::Arc::new(std::sync::Mutex::new(vec![None; changes]));
    let mut watchers = Vec::new();
    for o in &observers {
        let store = o.store.clone();
        let mut arrivals = o.sync.arrivals();
        let sent = sent.clone();
        let people = people.clone();
        watchers.push(tokio::spawn(async move {
            let mut seen: Vec<Option<Duration>> = vec![None; changes];
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10 + changes as u64 / 20 + 15);
            while seen.iter().any(Option::is_none) {
                if tokio::time::timeout_at(deadline, arrivals.recv()).await.is_err() {
                    break;
                }
                let now = Instant::now();
                let sent = sent.lock().unwrap().clone();
                let store = store.lock().unwrap();
                // Only the changes sent and not yet seen: a few at a time.
                for (k, t0) in sent.iter().enumerate() {
                    let (Some(t0), None) = (t0, seen[k]) else { continue };
                    let should_be_in = k < people.len();
                    let is_in = store.signed_in_since(people[k % people.len()]).ok().flatten().is_some();
                    if is_in == should_be_in {
                        seen[k] = Some(now - *t0);
                    }
                }
            }
            seen
        }));
    }
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    for k in 0..changes {
        tick.tick().await;
        let person = people[k % people.len()];
        let t0 = Instant::now();
        sent.lock().unwrap()[k] = Some(t0);
        if k < people.len() {
            writer.act(|s| s.sign_in(&admin, person))?;
        } else {
            writer.act(|s| s.sign_out(&admin, person)).map(|_| ())?;
        }
    }
    let mut all = Vec::new();
    let mut missing = 0;
    for w in watchers {
        for seen in w.await? {
            match seen {
                Some(d) => all.push(d),
                None => missing += 1,
            }
        }
    }
    all.sort();
    println!(
        "W1 N={devices}: p50 {:.1?}, p99 {:.1?}, max {:.1?} over {} pairs; {missing} missing; server peak RSS {:.0} MB, CPU {:.1} s over the run",
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or_default(),
        all.len(),
        rss_mb(server.pid()),
        cpu_seconds(server.pid()) - cpu0
    );
    Ok(())
}

/// A busy day: a device goes offline; 5,000 changes over 1,000 documents
/// happen; it comes back and catches up.
async fn catch_up() -> anyhow::Result<()> {
    let (dir, server, site, writer, admin, people) = people_site(1000).await?;
    let data = dir.path().join("server");
    let mut desk = Device::enrol(&server, dir.path(), "desk", &code(&data, site, "reception", None)?).await?;
    until(Duration::from_secs(300), || desk.read(|s| s.people("").map(|p| p.len() == people.len()).unwrap_or(false))).await?;
    until(Duration::from_secs(300), || desk.sync.status().connection == Connection::Online).await?;
    desk.go_offline();
    // Five changes to each of the 1,000 presence documents: in, out, in, out, in.
    for round in 0..5 {
        writer.act(|s| {
            for p in &people {
                if round % 2 == 0 {
                    s.sign_in(&admin, *p).unwrap();
                } else {
                    s.sign_out(&admin, *p).unwrap();
                }
            }
        });
    }
    until(Duration::from_secs(300), || writer.read(|s| s.outbox().map(|o| o.is_empty()).unwrap_or(false))).await?;
    let t = Instant::now();
    desk.go_online(&server);
    until(Duration::from_secs(300), || desk.read(|s| s.people_in().map(|p| p.len() == people.len()).unwrap_or(false))).await?;
    let seen = t.elapsed();
    until(Duration::from_secs(300), || desk.sync.status().connection == Connection::Online).await?;
    println!("catch-up: 5,000 changes over 1,000 documents reached the device in {seen:.2?} (online after {:.2?})", t.elapsed());
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("w1") => {
            let devices: usize = args.iter().position(|a| a == "--devices").and_then(|i| args.get(i + 1)).map_or(Ok(10), |n| n.parse())?;
            return w1(devices).await;
        }
        Some("catch-up") => return catch_up().await,
        _ => {}
    }
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
