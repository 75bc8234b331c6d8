//! A load generator for sync, after `../shared/WORKLOADS.md`, with
//! `lodge-core`'s sync client against a real `lodge-sync` on 127.0.0.1:
//! W2 (cold sync of a fresh device), W3 (warm reconnect with nothing new)
//! and W4 (one change reaching a device that holds everything) on visits;
//! W1 (fan-out from one writer to N-1 observers) and a busy day's catch-up
//! (5,000 changes over 1,000 documents to a device that was offline) on
//! presence documents, which take a change again and again.
//!
//! `cargo run --release -p lodge-tests --bin lodge-load -- [--docs 2000]`
//! (W2, W3 and W4)
//! `cargo run --release -p lodge-tests --bin lodge-load -- w1 --devices 200 [--processes 4] [--slack]`
//! (with `--database` and `--instances`, `--kill-one-at 100` kills the last
//! instance mid-run: every change must still reach every observer)
//! `cargo run --release -p lodge-tests --bin lodge-load -- catch-up`
//! `cargo run --release -p lodge-tests --bin lodge-load -- year --devices 200`
//! `cargo run --release -p lodge-tests --bin lodge-load -- sites --sites 1000 [--sample 20] [--quiet-site-secs 5]`
//! (many sites on one server: memory, idle CPU, and a device of any site
//! joining and catching up; `LODGE_EACH=1` prints each join,
//! `LODGE_IDLE_SECS` shortens the idle measurement)
//! `cargo run --release -p lodge-tests --bin lodge-load -- hoard [--reads]`
//! (a busy day's catch-up beside a device that keeps asking for everything
//! in frames of 256 documents, and reads nothing, or reads and drops it)
//! `cargo run --release -p lodge-tests --bin lodge-load -- reminders [--people 1000]`
//!
//! Each run starts a server of its own: one `lodge-sync` on SQLite files,
//! or, with `--database postgres://USER@HOST:PORT/postgres` before or after
//! the workload (a PostgreSQL server, as `scripts/postgres start DIR` prints
//! it), `--instances N` instances of `lodge-sync` (2 unless told) on a new
//! database there, devices given each instance in turn (the harness's
//! `Server`, with `LODGE_TEST_BACKEND`, `LODGE_TEST_POSTGRES` and
//! `LODGE_TEST_INSTANCES`, which these options set). The server's CPU then
//! adds up every instance and that PostgreSQL's processes:
//! `lodge-load --database $(cat /tmp/pg/url) --instances 3 w1 --devices 200`
//!
//! `LODGE_SYNC=path/to/lodge-sync` runs the load against another build.

use std::time::{Duration, Instant};

// The app's allocator (`src-tauri/src/lib.rs`): each simulated device
// allocates as a real one does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// The seeder the core's benchmark uses: the same year everywhere.
#[path = "../../../core/benches/year/mod.rs"]
mod year;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
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

/// A memory figure of `/proc/PID/status` in MB: `VmHWM` (peak resident)
/// or `VmRSS` (resident now).
fn status_mb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn rss_mb(pid: u32) -> f64 {
    status_mb(pid, "VmHWM:")
}

fn rss_now_mb(pid: u32) -> f64 {
    status_mb(pid, "VmRSS:")
}

/// Linux's clock ticks per second in `/proc` (USER_HZ).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user + system) the process has used; with `children`,
/// with those of its children it has waited for (a postmaster's ended
/// backends).
fn cpu_seconds_of(pid: u32, children: bool) -> f64 {
    // A killed instance's last reading stands for it (`/proc` forgets it).
    static LAST: std::sync::Mutex<Vec<(u32, bool, f64)>> = std::sync::Mutex::new(Vec::new());
    let mut last = LAST.lock().unwrap();
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return last.iter().find(|(p, c, _)| (*p, *c) == (pid, children)).map_or(0.0, |(_, _, s)| *s);
    };
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime, stime, cutime and cstime are fields 14 to 17 of the whole
    // line: 11 to 14 here.
    let own = ticks(11) + ticks(12);
    let seconds = (if children { own + ticks(13) + ticks(14) } else { own }) / TICKS_PER_SECOND;
    last.retain(|(p, c, _)| (*p, *c) != (pid, children));
    last.push((pid, children, seconds));
    seconds
}

fn cpu_seconds(pid: u32) -> f64 {
    cpu_seconds_of(pid, false)
}

/// The postmaster of the PostgreSQL the servers run on (`--database`), found
/// at the start; none on SQLite.
static POSTMASTER: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// CPU seconds of each instance of the server and, last, of PostgreSQL's
/// processes when it runs on PostgreSQL (their work is the server's too).
fn cpu_parts(server: &Server) -> Vec<f64> {
    let mut parts: Vec<f64> = server.pids().into_iter().map(cpu_seconds).collect();
    if POSTMASTER.get().is_some() {
        parts.push(postgres_cpu());
    }
    parts
}

/// CPU seconds of every instance of the server, and of PostgreSQL's.
fn server_cpu(server: &Server) -> f64 {
    cpu_parts(server).iter().sum()
}

/// How CPU seconds between two [`cpu_parts`] were shared, when there was
/// more than one part: ` (lodge-sync 1.2 + 1.1 s, PostgreSQL 0.4 s)`.
fn cpu_split(before: &[f64], after: &[f64]) -> String {
    let spent: Vec<f64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    let (instances, postgres) = if POSTMASTER.get().is_some() { spent.split_at(spent.len() - 1) } else { (&spent[..], &[][..]) };
    if spent.len() < 2 {
        return String::new();
    }
    let instances = instances.iter().map(|c| format!("{c:.2}")).collect::<Vec<_>>().join(" + ");
    match postgres.first() {
        Some(pg) => format!(" (lodge-sync {instances} s, PostgreSQL {pg:.2} s)"),
        None => format!(" (lodge-sync {instances} s)"),
    }
}

/// Each instance's figure, ` (12 + 11 per instance)`, when there are
/// several.
fn each(server: &Server, figure: impl Fn(u32) -> f64) -> String {
    let pids = server.pids();
    if pids.len() < 2 {
        return String::new();
    }
    format!(" ({} per instance)", pids.into_iter().map(|p| format!("{:.0}", figure(p))).collect::<Vec<_>>().join(" + "))
}

/// Peak resident memory of the server's instances, added up.
fn server_rss(server: &Server) -> f64 {
    server.pids().into_iter().map(rss_mb).sum()
}

/// Resident memory of the server's instances now, added up.
fn server_rss_now(server: &Server) -> f64 {
    server.pids().into_iter().map(rss_now_mb).sum()
}

/// CPU seconds of the processes of the PostgreSQL the servers run on: its
/// postmaster, with the backends it has seen end, and those running (not
/// those of another PostgreSQL on the machine). None on SQLite.
fn postgres_cpu() -> f64 {
    let Some(&postmaster) = POSTMASTER.get() else { return 0.0 };
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0.0 };
    let parent = |pid: u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse::<u32>().ok()
    };
    let children: f64 = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent(*pid) == Some(postmaster))
        .map(cpu_seconds)
        .sum();
    cpu_seconds_of(postmaster, true) + children
}

/// Busy and total time of the whole machine so far, in clock ticks (the
/// first line of `/proc/stat`): every process, the server and all the
/// observers.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    // "cpu  user nice system idle iowait irq softirq steal ..."
    let all = stat.lines().next().and_then(|l| l.strip_prefix("cpu")).unwrap_or_default();
    let ticks: Vec<u64> = all.split_whitespace().take(8).filter_map(|v| v.parse().ok()).collect();
    let total: u64 = ticks.iter().sum();
    // idle and iowait
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    (total - idle, total)
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
    // Each instance names the others: a device of a killed one goes on.
    let server = Server::start_naming_each_other(&data)?;
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

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process on the
/// machine, so the writer's and the observers' times compare.
fn monotonic_ns() -> u64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// W1's changes: change k signs person k % 100 in (first round) or out
/// (second round), one every 50 ms.
const W1_CHANGES: usize = 200;

/// W1: one writer, N-1 observers spread over `processes` processes (as
/// WORKLOADS.md has it; by default 4, or the next multiple of the server's
/// instances, each process being given one instance in turn); a change
/// every 50 ms, 200 times, over 100 documents; each observer notes when it
/// first sees each change. With `kill_at`, the last instance is killed
/// (`kill -9`) once that many changes were made: its observers must see
/// every change all the same, through the other instances.
async fn w1(devices: usize, processes: Option<usize>, slack: bool, kill_at: Option<usize>, settle: Duration) -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    anyhow::ensure!(devices >= 2, "W1 needs a writer and at least one observer: --devices 2 or more");
    anyhow::ensure!(kill_at.is_none_or(|k| (1..W1_CHANGES).contains(&k)), "--kill-one-at: between 1 and {} changes", W1_CHANGES - 1);
    let (dir, mut server, site, writer, admin, people) = people_site(100).await?;
    let data = dir.path().join("server");
    let instances = server.pids().len();
    anyhow::ensure!(kill_at.is_none() || instances > 1, "--kill-one-at kills one of several instances: give --database and --instances 2 or more");
    // The instance killed, by its address (the writer is on the first).
    let doomed = server.http_urls().last().and_then(|u| u.split_once("://")).map(|(_, a)| a.to_owned()).filter(|_| kill_at.is_some());
    let processes = processes.unwrap_or(4usize.div_ceil(instances) * instances).clamp(1, devices - 1);
    // With `--slack`, the Slack rule is on: every sign-in and sign-out of
    // the run is posted to a stand-in for Slack on 127.0.0.1 (the hook is
    // added after the set-up, whose sign-ins are not posted).
    let slack = if slack {
        let stand_in = lodge_tests::slack::SlackStandIn::start(0).await?;
        lodge_tests::admin(&data, &["slack", "add", "--site", &site.to_string(), &stand_in.url])?;
        Some(stand_in)
    } else {
        None
    };
    let people_list = people.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    let mut shares = Vec::new();
    for p in 0..processes {
        let count = (devices - 1) / processes + usize::from(p < (devices - 1) % processes);
        shares.push((0..count).map(|_| code(&data, site, "reception", None)).collect::<anyhow::Result<Vec<_>>>()?.join(","));
    }
    let mut children = Vec::new();
    // Observers on each instance's URL, in the order the instances come.
    let mut on: Vec<(String, usize)> = Vec::new();
    // Whether each process's observers are on the instance to be killed.
    let (mut moving, mut on_count) = (Vec::new(), Vec::new());
    for (p, codes) in shares.into_iter().enumerate() {
        let child_dir = dir.path().join(format!("observers-{p}"));
        std::fs::create_dir_all(&child_dir)?;
        let ws = server.ws_url();
        moving.push(doomed.as_ref().is_some_and(|a| ws.contains(&format!("//{a}/"))));
        let count = codes.split(',').count();
        on_count.push(count);
        match on.iter_mut().find(|(url, _)| *url == ws) {
            Some((_, n)) => *n += count,
            None => on.push((ws.clone(), count)),
        }
        let child = std::process::Command::new(std::env::current_exe()?)
            .args(["w1-observe", &server.http_url(), &ws])
            .arg(&child_dir)
            .args([&people_list, &codes])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        children.push(child);
    }
    let mut outputs = Vec::new();
    for child in &mut children {
        let mut out = std::io::BufReader::new(child.stdout.take().context("stdout")?);
        let mut line = String::new();
        out.read_line(&mut line)?;
        anyhow::ensure!(line.trim() == "ready", "an observer process said {line:?}");
        outputs.push(out);
    }
    println!(
        "W1 N={devices}: {} observers in {processes} processes hold {} presence documents; server RSS so far {:.0} MB{}",
        devices - 1,
        people.len(),
        server_rss(&server),
        each(&server, rss_mb)
    );
    if instances > 1 {
        // The writer is on the first instance.
        let counts: Vec<String> = on.iter().map(|(url, n)| format!("{n} on {url}")).collect();
        println!("W1 N={devices}: {instances} instances; observers {}", counts.join(", "));
    }
    // The last observers to be ready have just caught up: their
    // acknowledgements and writes settle before the first change, so
    // that the run measures fan-out and not the end of the set-up.
    tokio::time::sleep(settle).await;
    println!("W1 N={devices}: the changes start");
    let cpu0 = cpu_parts(&server);
    let writer_traffic0 = writer.sync.traffic();
    for child in &mut children {
        writeln!(child.stdin.as_mut().context("stdin")?, "go")?;
    }
    let mut sent = vec![0u64; W1_CHANGES];
    let machine0 = machine_ticks();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let mut killed = None;
    for (k, at) in sent.iter_mut().enumerate() {
        tick.tick().await;
        if Some(k) == kill_at {
            // Its CPU until now counts (see `cpu_seconds_of`).
            cpu_parts(&server);
            killed = Some(server.kill_instance(instances)?);
        }
        let person = people[k % people.len()];
        *at = monotonic_ns();
        if k < people.len() {
            writer.act(|s| s.sign_in(&admin, person))?;
        } else {
            writer.act(|s| s.sign_out(&admin, person)).map(|_| ())?;
        }
    }
    let machine1 = machine_ticks();
    // Each observer process answers with one line per observer: when it
    // first saw each change, then a line of its bytes sent and received.
    let mut all = Vec::new();
    let mut by_change: Vec<Vec<Duration>> = vec![Vec::new(); W1_CHANGES];
    let mut missing = 0;
    let (mut up, mut down) = (0u64, 0u64);
    // After the kill: pairs of the observers that moved, and of the others.
    let (mut moved, mut stayed) = (Vec::new(), Vec::new());
    for (out, moving) in outputs.into_iter().zip(&moving) {
        for line in out.lines() {
            let line = line?;
            if let Some(traffic) = line.strip_prefix("traffic ") {
                let (u, d): (u64, u64) = serde_json::from_str(traffic)?;
                up += u;
                down += d;
                continue;
            }
            let seen: Vec<Option<u64>> = serde_json::from_str(&line)?;
            // Which changes, for the one looking into it: an observer counts
            // in order, so one change never shown leaves all after it unseen.
            if let Some(first) = seen.iter().position(Option::is_none) {
                let unseen = seen.iter().filter(|s| s.is_none()).count();
                eprintln!("W1 N={devices}: an observer {} never saw change {first} and {unseen} in all", if *moving { "of the killed instance" } else { "of a live instance" });
            }
            for (k, at) in seen.into_iter().enumerate() {
                match at {
                    Some(at) => {
                        let latency = Duration::from_nanos(at.saturating_sub(sent[k]));
                        all.push(latency);
                        by_change[k].push(latency);
                        if kill_at.is_some_and(|after| k >= after) {
                            if *moving { &mut moved } else { &mut stayed }.push(latency);
                        }
                    }
                    None => missing += 1,
                }
            }
        }
    }
    for mut child in children {
        child.wait()?;
    }
    all.sort();
    // Whether latency grows over the run (the machine falls behind) or
    // comes in bursts: the p99 of each tenth of the changes.
    let tenths: Vec<String> = by_change
        .chunks(W1_CHANGES / 10)
        .map(|c| {
            let mut c: Vec<Duration> = c.concat();
            c.sort();
            format!("{:.0?}", percentile(&c, 0.99))
        })
        .collect();
    println!("W1 N={devices}: p99 by tenth of the run: {}", tenths.join(" "));
    // While the changes were made (the work after the last is left out):
    // CPU of every process on the machine for each change seen.
    let (busy, total) = (machine1.0 - machine0.0, machine1.1 - machine0.1);
    println!(
        "W1 N={devices}: machine {:.0} % busy while the changes were made; {:.3} ms of CPU per (change, observer) pair",
        100.0 * busy as f64 / total.max(1) as f64,
        busy as f64 * 1000.0 / TICKS_PER_SECOND / ((devices - 1) * W1_CHANGES) as f64
    );
    let writer_traffic1 = writer.sync.traffic();
    println!(
        "W1 N={devices}: bytes on the wire over the run (frame payloads): {} up to the server, {} down from it",
        up + writer_traffic1.0 - writer_traffic0.0,
        down + writer_traffic1.1 - writer_traffic0.1
    );
    // The server's CPU from the first change to the last device's end,
    // for each pair seen.
    let server_run_cpu = server_cpu(&server) - cpu0.iter().sum::<f64>();
    println!(
        "W1 N={devices}: p50 {:.1?}, p99 {:.1?}, max {:.1?} over {} pairs; {missing} missing; server peak RSS {:.0} MB{}, CPU {:.2} s over the run ({:.1} µs per pair){}",
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or_default(),
        all.len(),
        server_rss(&server),
        each(&server, rss_mb),
        server_run_cpu,
        server_run_cpu * 1e6 / all.len().max(1) as f64,
        cpu_split(&cpu0, &cpu_parts(&server))
    );
    if let (Some(after), Some(pid)) = (kill_at, killed) {
        moved.sort();
        stayed.sort();
        let figures = |pairs: &[Duration]| match pairs.last() {
            Some(max) => format!("p50 {:.1?}, p99 {:.1?}, max {max:.1?}", percentile(pairs, 0.5), percentile(pairs, 0.99)),
            None => "none seen".to_owned(),
        };
        println!(
            "W1 N={devices}: instance {instances} (pid {pid}) killed with SIGKILL before change {}; from then on, its {} observers (through the others) {}; the other {} {}",
            after + 1,
            moving.iter().zip(&on_count).filter(|(m, _)| **m).map(|(_, n)| n).sum::<usize>(),
            figures(&moved),
            moving.iter().zip(&on_count).filter(|(m, _)| !**m).map(|(_, n)| n).sum::<usize>(),
            figures(&stayed)
        );
    }
    // A load run that lost a change fails (the test command's smoke run
    // relies on it).
    anyhow::ensure!(missing == 0, "W1: {missing} changes never reached an observer");
    if let Some(slack) = slack {
        let all_posted = until(Duration::from_secs(60), || slack.taken() >= W1_CHANGES).await.is_ok();
        println!(
            "W1 N={devices}: Slack rule on: {} of {W1_CHANGES} sign-ins and sign-outs posted{}",
            slack.taken(),
            if all_posted { "" } else { " within a minute" }
        );
    }
    Ok(())
}

/// One W1 observer process: enrol a reception device per code, say "ready"
/// when all hold every presence document, wait for "go", then note when
/// each change is first seen (CLOCK_MONOTONIC) and print it.
async fn w1_observe(http: &str, ws: &str, dir: &str, people: &str, codes: &str) -> anyhow::Result<()> {
    use std::io::BufRead;
    let people: Vec<lodge_core::PersonId> = people.split(',').map(str::parse).collect::<Result<_, _>>()?;
    let mut observers = Vec::new();
    for (i, code) in codes.split(',').enumerate() {
        observers.push(Device::enrol_at(http, ws, std::path::Path::new(dir), &format!("observer-{i}"), code).await?);
    }
    for o in &observers {
        until(Duration::from_secs(300), || o.read(|s| s.people("").map(|p| p.len() == people.len()).unwrap_or(false))).await?;
        until(Duration::from_secs(300), || o.sync.status().connection == Connection::Online).await?;
    }
    println!("ready");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    // Counted from "go", not from "online": the catch-up's last
    // acknowledgements go up to a second after a device is online.
    let traffic0: Vec<(u64, u64)> = observers.iter().map(|o| o.sync.traffic()).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10 + W1_CHANGES as u64 / 20 + 15);
    let mut watchers = Vec::new();
    for (i, o) in observers.iter().enumerate() {
        let store = o.store.clone();
        let mut arrivals = o.sync.arrivals();
        let people = people.clone();
        watchers.push(tokio::spawn(async move {
            let mut seen: Vec<Option<u64>> = vec![None; W1_CHANGES];
            while seen.iter().any(Option::is_none) {
                if tokio::time::timeout_at(deadline, arrivals.recv()).await.is_err() {
                    break;
                }
                let now = monotonic_ns();
                // Changes reach a device in the order they were made, so
                // the oldest change not seen yet is checked first, with one
                // point query (is this person in?), then the next while
                // they hold: a change counts only once the projection a
                // screen reads shows it, and one that came early would only
                // be counted late. (Reading the whole who-is-in list on
                // every arrival cost a sixth of the observers' time.)
                let store = store.lock().unwrap();
                while let Some(k) = seen.iter().position(Option::is_none) {
                    if !shows(&store, &people, k) {
                        break;
                    }
                    seen[k] = Some(now);
                }
            }
            // Counted in order, one change never shown hides all after it:
            // say which of those the store shows now, so that one lost
            // document (the rest arrived) tells itself from a device that
            // stopped. Only a person's last change of the run can be told
            // from the store alone (a sign-in is hidden by its sign-out).
            if let Some(first) = seen.iter().position(Option::is_none) {
                let store = store.lock().unwrap();
                let judged: Vec<usize> = (first..W1_CHANGES).filter(|&k| seen[k].is_none() && k + people.len() >= W1_CHANGES).collect();
                let missing: Vec<usize> = judged.iter().copied().filter(|&k| !shows(&store, &people, k)).collect();
                eprintln!(
                    "W1 observer-{i}: change {first} never shown; at the deadline the store shows {} of the {} last changes from it, not these: {missing:?}",
                    judged.len() - missing.len(),
                    judged.len()
                );
            }
            seen
        }));
    }
    for w in watchers {
        println!("{}", serde_json::to_string(&w.await?)?);
    }
    let traffic = observers.iter().zip(traffic0).fold((0u64, 0u64), |a, (o, t0)| {
        let t = o.sync.traffic();
        (a.0 + t.0 - t0.0, a.1 + t.1 - t0.1)
    });
    println!("traffic {}", serde_json::to_string(&traffic)?);
    Ok(())
}

/// Whether an observer's store shows W1's change `k`: person `k` signed
/// in for the first round of changes, signed out for the second.
fn shows(store: &lodge_core::Store, people: &[lodge_core::PersonId], k: usize) -> bool {
    store.signed_in_since(people[k % people.len()]).ok().flatten().is_some() == (k < people.len())
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
    let (up, down) = desk.sync.traffic();
    println!("catch-up: 5,000 changes over 1,000 documents reached the device in {seen:.2?} (online after {:.2?}); {up} bytes up, {down} down", t.elapsed());
    Ok(())
}

/// A busy day's catch-up (as `catch_up`) of one desk alone, then of
/// another beside a device that asks for all 1,000 presence documents
/// again and again and reads nothing; the server's memory meanwhile, and
/// when (if) it dropped that device.
async fn hoard(reads: bool) -> anyhow::Result<()> {
    use futures_util::SinkExt;
    use lodge_core::sync::{ClientMessage, DocMessage};
    let (dir, server, site, writer, admin, people) = people_site(1000).await?;
    let data = dir.path().join("server");
    let mut desks = Vec::new();
    for name in ["alone", "beside"] {
        let desk = Device::enrol(&server, dir.path(), name, &code(&data, site, "reception", None)?).await?;
        until(Duration::from_secs(300), || desk.sync.status().connection == Connection::Online).await?;
        desk.go_offline();
        desks.push(desk);
    }
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
    let pid = server.pid();
    let n = people.len();
    let (first, second) = desks.split_at_mut(1);
    let alone = desk_catch_up(&mut first[0], &server, n).await?;
    let rss_before = rss_now_mb(pid);

    // The hoarder: a reception token of its own, a 4 KB receive buffer,
    // and a frame asking for every presence document from scratch.
    let c = code(&data, site, "reception", None)?;
    let body = serde_json::json!({ "code": c, "actor": automerge::ActorId::random().to_hex_string(), "name": "hoarder" });
    let enrolled: serde_json::Value = reqwest::Client::new().post(format!("{}/enrol", server.http_url())).json(&body).send().await?.json().await?;
    let token = enrolled["token"].as_str().context("a token")?.to_owned();
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let tcp = socket.connect(server.addr.parse()?).await?;
    let (ws, _) = tokio_tungstenite::client_async(server.ws_url(), tcp).await?;
    let (mut ws, mut answers) = futures_util::StreamExt::split(ws);
    let hello = ClientMessage::Hello { token, since: 0, pending: vec![], app: None, kept_counts: false };
    ws.send(tokio_tungstenite::tungstenite::Message::Binary(hello.encode().into())).await?;
    // Asking for all of them from scratch, in frames as large as the
    // server takes (larger ones are refused whole).
    let asks: Vec<Vec<u8>> = {
        use automerge::sync::SyncDoc;
        let mut empty = automerge::AutoCommit::new();
        let message = empty.sync().generate_sync_message(&mut automerge::sync::State::new()).context("a first message")?.encode();
        let month = lodge_core::Clock::now(&lodge_core::SystemClock).month();
        people
            .chunks(lodge_core::sync::MAX_FRAME_DOCS)
            .map(|part| {
                let docs = part.iter().map(|p| DocMessage { doc: lodge_core::DocId::presence(*p, &month), message: message.clone() }).collect();
                ClientMessage::Sync { docs }.encode()
            })
            .collect()
    };
    if reads {
        // Read and drop every answer: a device the server never has a
        // reason to cut off, only ever asking.
        tokio::spawn(async move { while futures_util::StreamExt::next(&mut answers).await.is_some() {} });
    } else {
        std::mem::forget(answers);
    }
    let started = Instant::now();
    let hoarding = tokio::spawn(async move {
        let mut asked = 0u32;
        while started.elapsed() < Duration::from_secs(120) {
            let ask = asks[asked as usize % asks.len()].clone();
            match tokio::time::timeout(Duration::from_secs(5), ws.send(tokio_tungstenite::tungstenite::Message::Binary(ask.into()))).await {
                Ok(Ok(())) => asked += 1,
                // An error is the server's cut; a send that only stalls
                // (the server reads slowly) is not.
                Ok(Err(_)) => return (asked, Some(started.elapsed())),
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (asked, None)
    });
    // Let it pile up first.
    let mut peak = rss_before;
    while started.elapsed() < Duration::from_secs(20) && !hoarding.is_finished() {
        peak = peak.max(rss_now_mb(pid));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let beside = desk_catch_up(&mut second[0], &server, n).await?;
    while !hoarding.is_finished() {
        peak = peak.max(rss_now_mb(pid));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (asked, dropped) = hoarding.await?;
    println!(
        "hoard: a busy day's catch-up (5,000 changes, 1,000 documents) {alone:.2?} alone, {beside:.2?} beside a device that asked {asked} times for 256 of them and {}; {}; server resident {rss_before:.0} MB before it, {peak:.0} MB at most",
        if reads { "read the answers" } else { "read nothing" },
        dropped.map_or("it was never dropped (120 s)".to_owned(), |t| format!("the server dropped it after {t:.1?}"))
    );
    Ok(())
}

/// Bring an offline desk online; how long until it has everyone's
/// latest sign-in.
async fn desk_catch_up(desk: &mut Device, server: &Server, people: usize) -> anyhow::Result<Duration> {
    let t = Instant::now();
    desk.go_online(server);
    until(Duration::from_secs(300), || desk.read(|s| s.people_in().map(|p| p.len() == people).unwrap_or(false))).await?;
    Ok(t.elapsed())
}

/// `target/bench-data/NAME`, made by `seed` the first time (seeding takes
/// minutes): seeded under another name and renamed, so that a run cut
/// short never leaves half a seed to be taken for a whole one.
fn seeded_once(name: &str, seed: impl FnOnce(&std::path::Path) -> anyhow::Result<()>) -> anyhow::Result<std::path::PathBuf> {
    let cached = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data").join(name);
    if !cached.exists() {
        std::fs::create_dir_all(cached.parent().context("a folder")?)?;
        let partial = cached.with_extension("partial");
        let _ = std::fs::remove_file(&partial);
        let _ = std::fs::remove_dir_all(&partial);
        seed(&partial)?;
        std::fs::rename(&partial, &cached)?;
    }
    Ok(cached)
}

/// Server memory with a year of one site's data and `devices` devices
/// connected: two reception desks that hold everything, the rest staff
/// phones (each its own person and presence); then a round of sign-ins
/// pushed to everyone.
async fn year_of_data(devices: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    std::fs::create_dir_all(data.join("sites"))?;
    let t = Instant::now();
    let cached = seeded_once("year-sync.sqlite", |partial| {
        year::seed(partial, year::Size::YEAR, lodge_core::ManualClock::new(lodge_core::Timestamp::from_millis(year::YEAR_START)));
        Ok(())
    })?;
    let (site, docs, people) = {
        let store = lodge_core::Store::open(&cached, std::sync::Arc::new(lodge_core::SystemClock))?;
        let people: Vec<lodge_core::PersonId> = store.people("")?.into_iter().map(|p| p.id).collect();
        (store.site_settings()?.context("a site")?.site, store.documents()?, people)
    };
    std::fs::copy(&cached, data.join("sites").join(format!("{site}.sqlite")))?;
    {
        // As `lodge-sync site create` does for what it makes: all of it is
        // news to every device.
        let mut registry = lodge_sync_server::Registry::open(&data.join("registry.sqlite"))?;
        registry.add_site(site, "Busy House")?;
        registry.bump_many(site, &docs.iter().map(|d| (d.clone(), false)).collect::<Vec<_>>())?;
    }
    registry_into_postgres(&data)?;
    println!("year: {} documents, {} people, ready in {:.0?}", docs.len(), people.len(), t.elapsed());
    let server = Server::start(&data, 0)?;
    let t = Instant::now();
    let mut all = Vec::new();
    for i in 0..2 {
        all.push(Device::enrol(&server, dir.path(), &format!("desk-{i}"), &code(&data, site, "reception", None)?).await?);
    }
    for i in 0..devices.saturating_sub(2) {
        let person = people[i % people.len()];
        all.push(Device::enrol(&server, dir.path(), &format!("phone-{i}"), &code(&data, site, "staff", Some(person))?).await?);
    }
    for d in &all {
        if until(Duration::from_secs(600), || d.sync.status().connection == Connection::Online).await.is_err() {
            anyhow::bail!("a device did not get online: {:?}, holding {} documents", d.sync.status(), d.read(|s| s.documents().map(|d| d.len()).unwrap_or(0)));
        }
    }
    let (up, down) = all[0].sync.traffic();
    println!(
        "year: {} devices online in {:.1?} (a desk took {} documents, {down} bytes down, {up} up); server RSS now {:.0} MB, peak {:.0} MB",
        all.len(),
        t.elapsed(),
        all[0].read(|s| s.documents().map(|d| d.len()).unwrap_or(0)),
        server_rss_now(&server),
        server_rss(&server)
    );
    // Everyone's presence changes once: pushed to the desks and each phone.
    let desk = &all[0];
    let admin = Actor { person: None, device: Some(desk.id), name: "Desk".into(), role: Role::Reception };
    let t = Instant::now();
    desk.act(|s| {
        for p in &people {
            let _ = s.sign_in(&admin, *p);
        }
    });
    until(Duration::from_secs(300), || all[1].read(|s| s.people_in().map(|p| p.len() >= people.len()).unwrap_or(false))).await?;
    println!(
        "year: {} sign-ins reached the other desk in {:.1?}; server RSS now {:.0} MB, peak {:.0} MB",
        people.len(),
        t.elapsed(),
        server_rss_now(&server),
        server_rss(&server)
    );
    Ok(())
}

/// The end-of-day reminder for `people` people still signed in, each by
/// e-mail through a real SMTP server (aiosmtpd): the time from the run
/// to the last mail accepted, the server's CPU per reminder and its peak
/// memory.
async fn reminders(people: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("mail"))?;
    let mailbox = lodge_tests::mailbox::Mailbox::start(&dir.path().join("mail"))?;
    let data = dir.path().join("server");
    let site = create_site(&data, "Load House")?;
    let server = Server::start_with(&data, &["--smtp-url", &mailbox.url(), "--mail-from", "Lodge <lodge@load.test>"])?;
    let writer = Device::enrol(&server, dir.path(), "writer", &code(&data, site, "admin", None)?).await?;
    until(Duration::from_secs(60), || writer.read(|s| s.site_settings().ok().flatten().is_some())).await?;
    let admin = Actor { person: None, device: Some(writer.id), name: "Writer".into(), role: Role::Admin };
    // Not due by the clock while the people are being made.
    writer.act(|s| s.set_reminder_time(&admin, "23:59"))?;
    writer.act(|s| -> anyhow::Result<()> {
        for i in 0..people {
            let form = PersonForm { name: format!("Person {i}"), email: Some(format!("person{i}@load.test")), roles: vec![Role::Staff], ..Default::default() };
            let p = s.create_person(&admin, form)?;
            s.sign_in(&admin, p)?;
        }
        Ok(())
    })?;
    until(Duration::from_secs(600), || writer.read(|s| s.outbox().map(|o| o.is_empty()).unwrap_or(false))).await?;
    let cpu_before = server_cpu(&server);
    let t = Instant::now();
    lodge_tests::admin(&data, &["jobs", "run", "sign-out-reminder", "--site", &site.to_string()])?;
    until(Duration::from_secs(1200), || mailbox.count() >= people).await?;
    let elapsed = t.elapsed();
    let cpu = server_cpu(&server) - cpu_before;
    println!(
        "{people} end-of-day reminders through SMTP: {elapsed:.2?} from the run to the last mail ({:.2} ms each); server CPU {cpu:.2} s ({:.2} ms per reminder); server peak resident memory {:.1} MB",
        elapsed.as_secs_f64() * 1000.0 / people as f64,
        cpu * 1000.0 / people as f64,
        server_rss(&server)
    );
    Ok(())
}

/// Open file descriptors of a process.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// People and visits each of the many sites has beside the demo site's
/// own: a site of about 20 devices (desks and phones) after a day.
const SITE_PEOPLE: usize = 20;
const SITE_VISITS: usize = 20;

/// Seed `sites` sites into `data` as `lodge-sync site create` would leave
/// them: the demo site, 20 more people signed in and out, 20 guests
/// registered; all of it news to every device.
fn seed_sites(data: &std::path::Path, sites: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(data.join("sites"))?;
    let mut registry = lodge_sync_server::Registry::open(&data.join("registry.sqlite"))?;
    let admin = Actor::site_founder("Seeder");
    for i in 0..sites {
        let tmp = data.join("sites").join("seeding.sqlite");
        let site = {
            let mut store = lodge_core::Store::open(&tmp, std::sync::Arc::new(lodge_core::SystemClock))?;
            let site = lodge_core::demo::create_demo_site(&mut store)?;
            for p in 0..SITE_PEOPLE {
                let person = store.create_person(&admin, PersonForm { name: format!("Person {p} of site {i}"), roles: vec![Role::Staff], ..Default::default() })?;
                store.sign_in(&admin, person)?;
                store.sign_out(&admin, person)?;
            }
            let host = store.create_person(&admin, PersonForm { name: "Host".into(), hosts_guests: true, ..Default::default() })?;
            for v in 0..SITE_VISITS {
                store.register_guest(&admin, GuestForm { name: format!("Guest {v}"), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() })?;
            }
            let docs = store.documents()?;
            registry.add_site(site, &format!("Site {i}"))?;
            registry.bump_many(site, &docs.iter().map(|d| (d.clone(), false)).collect::<Vec<_>>())?;
            site
        };
        std::fs::rename(&tmp, data.join("sites").join(format!("{site}.sqlite")))?;
    }
    Ok(())
}

/// On PostgreSQL (`--database`), the registry of a data directory seeded
/// for one SQLite server (`registry.sqlite`, then removed) put into the
/// database the harness gives the directory, as `lodge-sync site create`
/// run on the directory leaves each site there: its documents numbered in
/// its feed with their whole changes beside them, from the instance whose
/// directory it is, so that the other instances, whose stores start empty,
/// merge them from there (`sync-server/src/relay.rs`). How many sites;
/// none on SQLite, where nothing changes.
fn registry_into_postgres(data: &std::path::Path) -> anyhow::Result<Option<usize>> {
    let Some(url) = lodge_tests::postgres::database_for(data)? else { return Ok(None) };
    let file = data.join("registry.sqlite");
    let sites = lodge_sync_server::Registry::open(&file)?.sites()?;
    for end in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{end}", file.display()));
    }
    // The name the first instance takes from its directory (as the CLI
    // would have written it there): it does not merge its own changes.
    let instance = format!("i-{}", uuid::Uuid::new_v4().simple());
    std::fs::write(data.join("instance"), &instance)?;
    lodge_tests::postgres::off_runtime(|| {
        let mut registry = lodge_sync_server::Registry::connect(&lodge_sync_server::registry::DatabaseAddress::new(&url, None)?)?;
        anyhow::ensure!(registry.sites()?.is_empty(), "the database {url} has sites already");
        for (site, name) in &sites {
            let mut store = lodge_core::Store::open(data.join("sites").join(format!("{site}.sqlite")), std::sync::Arc::new(lodge_core::SystemClock))?;
            let mut docs = Vec::new();
            for doc in store.documents()? {
                let changes = store.changes_since(&doc, &[])?.map(|(bytes, _)| bytes);
                docs.push(lodge_sync_server::registry::Numbered { doc, purged: false, changes });
            }
            registry.add_site(*site, name)?;
            registry.number(*site, &docs, &instance)?;
        }
        Ok(Some(sites.len()))
    })
}

/// Open files of every instance of the server, added up, and each
/// instance's.
fn server_open_files(server: &Server) -> String {
    let total: usize = server.pids().into_iter().map(open_files).sum();
    format!("{total} open files{}", each(server, |p| open_files(p) as f64))
}

/// Many sites on one server: its memory, open files and idle CPU with
/// every site's store open, then a reception desk of `sample` sites spread
/// over them joining and catching up, one after another (on PostgreSQL,
/// each desk on the next instance).
async fn many_sites(sites: usize, sample: usize, quiet: Option<f64>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let cached = seeded_once(&format!("sites-{sites}"), |partial| {
        let t = Instant::now();
        seed_sites(partial, sites)?;
        println!("sites: {sites} seeded in {:.0?}", t.elapsed());
        Ok(())
    })?;
    let status = std::process::Command::new("cp").arg("-r").arg(&cached).arg(&data).status()?;
    anyhow::ensure!(status.success(), "the seeded sites could not be copied");
    let t = Instant::now();
    if let Some(n) = registry_into_postgres(&data)? {
        println!("sites: {n} sites put into PostgreSQL in {:.1?}", t.elapsed());
    }
    // Off the runtime: on PostgreSQL the registry's client is a blocking one.
    let all: Vec<lodge_core::SiteId> = lodge_tests::postgres::off_runtime(|| Ok(lodge_tests::open_registry(&data)?.sites()?))?.into_iter().map(|(s, _)| s).collect();
    let bytes: u64 = std::fs::read_dir(data.join("sites"))?.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum();
    let t = Instant::now();
    let server = match quiet {
        Some(secs) => Server::start_with(&data, &["--quiet-site-secs", &secs.to_string()])?,
        None => Server::start(&data, 0)?,
    };
    println!(
        "sites: {} sites, {:.0} MB of stores; server up in {:.1?}{}, RSS {:.0} MB{}, {}",
        all.len(),
        bytes as f64 / 1e6,
        t.elapsed(),
        match server.pids().len() {
            1 => String::new(),
            n => format!(" ({n} instances)"),
        },
        server_rss_now(&server),
        each(&server, rss_now_mb),
        server_open_files(&server)
    );
    // The job loop opens every site at start; then the server idles.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let cpu0 = cpu_parts(&server);
    let idle = Duration::from_secs(std::env::var("LODGE_IDLE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(30));
    tokio::time::sleep(idle).await;
    let cpu1 = cpu_parts(&server);
    let cpu = cpu1.iter().sum::<f64>() - cpu0.iter().sum::<f64>();
    println!(
        "sites: idle with no device: RSS {:.0} MB{}, peak {:.0} MB, {}, CPU {:.1} % of one core ({:.2} ms per site per second) over {idle:.0?}{}",
        server_rss_now(&server),
        each(&server, rss_now_mb),
        server_rss(&server),
        server_open_files(&server),
        cpu * 100.0 / idle.as_secs_f64(),
        cpu * 1000.0 / idle.as_secs_f64() / all.len() as f64,
        cpu_split(&cpu0, &cpu1)
    );
    let mut times = Vec::new();
    let mut held = 0;
    for k in 0..sample.min(all.len()) {
        let site = all[k * all.len() / sample.min(all.len())];
        let waiting = lodge_core::Store::open(data.join("sites").join(format!("{site}.sqlite")), std::sync::Arc::new(lodge_core::SystemClock))?.waiting_guests()?.len();
        let code = code(&data, site, "reception", None)?;
        let ws = server.ws_url();
        let t = Instant::now();
        let desk = Device::enrol_at(&server.http_url(), &ws, dir.path(), &format!("desk-{k}"), &code).await?;
        let enrolled = t.elapsed();
        // The site's guests are the last of what a desk is sent; online,
        // it has had the whole feed.
        until(Duration::from_secs(120), || {
            desk.sync.status().connection == Connection::Online && desk.read(|s| s.waiting_guests().map(|w| w.len() == waiting).unwrap_or(false))
        })
        .await
        .with_context(|| {
            format!(
                "site {site}: the desk has {:?} waiting guests, {:?}",
                desk.read(|s| s.waiting_guests().map(|w| w.len())).ok(),
                desk.sync.status()
            )
        })?;
        if std::env::var_os("LODGE_EACH").is_some() {
            println!("sites: desk {k} on {ws}: enrolled in {enrolled:.0?}, caught up in {:.0?}", t.elapsed());
        }
        times.push(t.elapsed());
        held = desk.read(|s| s.documents().map(|d| d.len()).unwrap_or(0));
    }
    times.sort();
    println!(
        "sites: a reception desk joined and caught up with its site ({held} documents) in p50 {:.0?}, max {:.0?} over {} sites; server RSS now {:.0} MB{}, peak {:.0} MB{}, {}",
        percentile(&times, 0.5),
        times.last().copied().unwrap_or_default(),
        times.len(),
        server_rss_now(&server),
        each(&server, rss_now_mb),
        server_rss(&server),
        each(&server, rss_mb),
        server_open_files(&server)
    );
    Ok(())
}

/// A load generator for `lodge-sync` (see the module's documentation).
#[derive(Parser)]
#[command(name = "lodge-load", about = "Load on a real lodge-sync: W2, W3 and W4 without a workload named")]
struct Cli {
    /// A PostgreSQL server, `postgres://USER@HOST:PORT/postgres` (as
    /// `scripts/postgres start DIR` prints it): the server is then
    /// instances of lodge-sync on a new database there.
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    /// How many instances of lodge-sync share the database (with
    /// --database; 2 unless given).
    #[arg(long, global = true, value_name = "N")]
    instances: Option<usize>,
    /// Visits for W2, W3 and W4.
    #[arg(long, default_value_t = 2000)]
    docs: usize,
    #[command(subcommand)]
    workload: Option<Workload>,
}

#[derive(Subcommand)]
enum Workload {
    /// W1: one writer and N-1 observers in other processes.
    W1 {
        /// Devices: the writer and the observers.
        #[arg(long, default_value_t = 10)]
        devices: usize,
        /// Processes the observers are spread over (4, or the next
        /// multiple of the instances).
        #[arg(long)]
        processes: Option<usize>,
        /// With the Slack rule on.
        #[arg(long)]
        slack: bool,
        /// Kill the last instance (SIGKILL) before change K (of 200): its
        /// observers must see every change through the other instances.
        #[arg(long, value_name = "K")]
        kill_one_at: Option<usize>,
        /// Seconds between the observers' holding their documents and the
        /// first change, for the end of the catch-up to settle (longer
        /// with the server under callgrind: `scripts/callgrind-w1`).
        #[arg(long, value_name = "SECS", default_value_t = 2)]
        settle: u64,
    },
    /// One process of W1's observers (W1 starts them).
    #[command(hide = true)]
    W1Observe {
        http: String,
        ws: String,
        dir: String,
        /// The people, by id, comma-separated.
        people: String,
        /// The observers' enrolment codes, comma-separated.
        #[arg(allow_hyphen_values = true)]
        codes: String,
    },
    /// A busy day's catch-up: 5,000 changes over 1,000 documents.
    CatchUp,
    /// Many sites on one server.
    Sites {
        #[arg(long, default_value_t = 1000)]
        sites: usize,
        /// Sites whose reception desk joins and catches up.
        #[arg(long, default_value_t = 20)]
        sample: usize,
        /// The server's `--quiet-site-secs`.
        #[arg(long)]
        quiet_site_secs: Option<f64>,
    },
    /// A busy day's catch-up beside a device that keeps asking for everything.
    Hoard {
        /// The hoarder reads (and drops) the answers.
        #[arg(long)]
        reads: bool,
    },
    /// The end-of-day reminder by e-mail for people still signed in.
    Reminders {
        #[arg(long, default_value_t = 1000)]
        people: usize,
    },
    /// A year of one site's data with devices connected.
    Year {
        #[arg(long, default_value_t = 200)]
        devices: usize,
    },
}

fn main() -> anyhow::Result<()> {
    use lodge_tests::postgres::{BACKEND_ENV, INSTANCES_ENV, SERVER_ENV};
    // As every Lodge process (see `lodge_core::process`).
    lodge_core::process::forgo_huge_pages();
    let cli = Cli::parse();
    // The harness reads its back end from the environment. Set here, before
    // the runtime starts its threads: no other thread reads it meanwhile.
    if let Some(url) = &cli.database {
        // SAFETY: this process has one thread yet.
        unsafe {
            std::env::set_var(BACKEND_ENV, "postgres");
            std::env::set_var(SERVER_ENV, url);
        }
    }
    let postgres = std::env::var(BACKEND_ENV).is_ok_and(|b| b.trim() == "postgres");
    if let Some(n) = cli.instances {
        let refuse = |why: &str| Cli::command().error(clap::error::ErrorKind::ArgumentConflict, format!("--instances {n}: {why}")).exit();
        if n == 0 {
            refuse("there is at least one instance");
        }
        if n > 1 && !postgres {
            refuse("several instances share a PostgreSQL database, and there is none: give its server with --database postgres://USER@HOST:PORT/postgres");
        }
        // SAFETY: as above.
        unsafe { std::env::set_var(INSTANCES_ENV, n.to_string()) };
    }
    let observer = matches!(cli.workload, Some(Workload::W1Observe { .. }));
    if postgres && !observer {
        // Its CPU is counted with the server's; this also finds out at once
        // whether it answers.
        let pid = lodge_tests::postgres::postmaster_pid()?;
        POSTMASTER.set(pid).expect("set once");
    }
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.workload {
        Some(Workload::W1 { devices, processes, slack, kill_one_at, settle }) => {
            return w1(devices, processes, slack, kill_one_at, Duration::from_secs(settle)).await;
        }
        Some(Workload::W1Observe { http, ws, dir, people, codes }) => return w1_observe(&http, &ws, &dir, &people, &codes).await,
        Some(Workload::CatchUp) => return catch_up().await,
        Some(Workload::Sites { sites, sample, quiet_site_secs }) => return many_sites(sites, sample, quiet_site_secs).await,
        Some(Workload::Hoard { reads }) => return hoard(reads).await,
        Some(Workload::Reminders { people }) => return reminders(people).await,
        Some(Workload::Year { devices }) => return year_of_data(devices).await,
        None => {}
    }
    let docs = cli.docs;
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
    let (up, down) = holder.sync.traffic();
    println!("W2 cold sync of {docs} documents: {w2:.2?}; {up} bytes up, {down} down");

    // W3: the device restarts its client with its store; nothing changed.
    let mut holder = holder;
    holder.go_offline();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    holder.go_online(&server);
    until(limit, || holder.sync.status().connection == Connection::Online).await?;
    let w3 = t.elapsed();
    let (up, down) = holder.sync.traffic();
    println!("W3 warm reconnect holding {docs} documents: {w3:.2?}; {up} bytes up, {down} down");

    // W4: one change on another device reaches the holder, 20 times.
    let mut times = Vec::new();
    let before = holder.sync.traffic();
    for (i, visit) in visits.iter().take(20).enumerate() {
        let card = CardNumber::new(100 + i as u32)?;
        // Timed from just before the change, as the workload says.
        let t = Instant::now();
        writer.act(|s| s.admit(&admin, AdmitRequest { visit: *visit, card, take_over: false }))?;
        until(limit, || holder.read(|s| s.visit(*visit).ok().flatten().is_some_and(|v| matches!(v.state, VisitState::Admitted { .. })))).await?;
        times.push(t.elapsed());
    }
    times.sort();
    let after = holder.sync.traffic();
    println!(
        "W4 one change to a device holding {docs}: median {:.2?} (min {:.2?}, max {:.2?}); per change at the holder {} bytes in, {} out",
        times[10],
        times[0],
        times[19],
        (after.1 - before.1) / 20,
        (after.0 - before.0) / 20
    );
    println!("server peak resident memory: {:.1} MB{}", server_rss(&server), each(&server, rss_mb));
    Ok(())
}
