//! Command and query speed on a store seeded with a year of a busy site.
//!
//! `cargo bench -p lodge-core --bench commands` seeds
//! `target/bench-data/year.sqlite` once (a few minutes), then measures on a
//! copy: cold open, p50/p99/max of every command kind over many runs, the
//! evacuation list, and peak resident memory; criterion then times the hot
//! paths. Without `--bench` (as under `cargo test --benches`) it runs the
//! same code on a small site, as a smoke test.

#[path = "year/mod.rs"]
mod year;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use lodge_core::key_loan::CheckoutRequest;
use lodge_core::visit::{AdmitRequest, GuestForm, VisitSearch};
use lodge_core::{Actor, CardNumber, DeviceId, Email, ManualClock, Role, Store, Timestamp};

const AFTER_YEAR: i64 = year::YEAR_START + 366 * 86_400_000;

fn seeded(full: bool) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let (name, size) = if full { ("year.sqlite", year::Size::YEAR) } else { ("small.sqlite", year::Size::SMALL) };
    let path = dir.join(name);
    if !path.exists() {
        eprintln!("seeding {} (once)…", path.display());
        let tmp = dir.join(format!("{name}.partial"));
        let _ = std::fs::remove_file(&tmp);
        year::seed(&tmp, size, ManualClock::new(Timestamp::from_millis(year::YEAR_START)));
        std::fs::rename(&tmp, &path).unwrap();
    }
    // A store seeded by an older build upgrades its schema here, once.
    drop(Store::open(&path, Arc::new(ManualClock::new(Timestamp::from_millis(AFTER_YEAR)))).unwrap());
    path
}

fn copy_of(path: &Path, dir: &Path) -> PathBuf {
    let copy = dir.join("bench.sqlite");
    std::fs::copy(path, &copy).unwrap();
    // Written back now: else the first checkpoint that syncs the store
    // writes the whole copy back (300 MB, 110-140 ms), a cost no device
    // pays.
    std::fs::File::open(&copy).unwrap().sync_all().unwrap();
    copy
}

struct Percentiles {
    rss_mb: f64,
    name: &'static str,
    runs: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn percentiles(name: &'static str, mut samples: Vec<Duration>) -> Percentiles {
    if samples.is_empty() {
        samples.push(Duration::ZERO);
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    Percentiles { rss_mb: rss_mb("VmRSS:"), name, runs: samples.len(), p50: at(0.5), p99: at(0.99), max: *samples.last().unwrap() }
}

/// A command over [`STALL`]: where its time went. CPU time near the wall
/// time is work in the command (a compaction, a document loaded); far
/// below it is waiting, and the switches say for what: voluntary ones are
/// the thread blocking (a lock, a read, an fsync), involuntary ones the
/// thread preempted (another process, or the VM's host).
struct Stall {
    kind: &'static str,
    wall: Duration,
    user: Duration,
    system: Duration,
    voluntary_switches: i64,
    involuntary_switches: i64,
    minor_faults: i64,
    major_faults: i64,
}

/// A command slower than this is a stall (issue #17: every command under
/// 20 ms).
const STALL: Duration = Duration::from_millis(20);

thread_local! {
    static STALLS: std::cell::RefCell<Vec<Stall>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// This thread's CPU time (user, system) and counters
/// (`getrusage(RUSAGE_THREAD)`).
fn thread_usage() -> ((Duration, Duration), [i64; 4]) {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    ((tv(u.ru_utime), tv(u.ru_stime)), [u.ru_nvcsw, u.ru_nivcsw, u.ru_minflt, u.ru_majflt])
}

fn timed<T>(kind: &'static str, samples: &mut Vec<Duration>, f: impl FnOnce() -> T) -> T {
    let (cpu0, n0) = thread_usage();
    let t = Instant::now();
    let out = f();
    let wall = t.elapsed();
    samples.push(wall);
    if wall > STALL {
        let (cpu1, n1) = thread_usage();
        STALLS.with(|s| {
            s.borrow_mut().push(Stall {
                kind,
                wall,
                user: cpu1.0.saturating_sub(cpu0.0),
                system: cpu1.1.saturating_sub(cpu0.1),
                voluntary_switches: n1[0] - n0[0],
                involuntary_switches: n1[1] - n0[1],
                minor_faults: n1[2] - n0[2],
                major_faults: n1[3] - n0[3],
            })
        });
    }
    out
}

fn rss_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Every command kind, `runs` times each, on the seeded store.
fn command_percentiles(store: &mut Store, clock: &ManualClock, runs: usize) -> Vec<Percentiles> {
    let people = store.people("").unwrap();
    let hosts = store.directory("").unwrap();
    let keys = store.keys(None).unwrap();
    let items = store.free_equipment().unwrap();
    let admin = Actor::person(people[0].id, "Bench", Role::Admin);
    let mut out = Vec::new();

    let (mut reg, mut adm, mut rel) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs {
        clock.advance(1_000);
        let visit = timed("register_guest", &mut reg, || {
            store
                .register_guest(
                    &Actor::kiosk(DeviceId::new()),
                    GuestForm { name: format!("Bench Guest {i}"), company: "Bench".into(), host: Some(hosts[i % hosts.len()].id), consent: true, ..Default::default() },
                )
                .unwrap()
        });
        let card = CardNumber::new(100 + (i % 200) as u32).unwrap();
        timed("admit", &mut adm, || store.admit(&admin, AdmitRequest { visit, card, take_over: true }).unwrap());
        timed("release", &mut rel, || store.release(&admin, visit).unwrap());
    }
    out.push(percentiles("register_guest", reg));
    out.push(percentiles("admit", adm));
    out.push(percentiles("release", rel));

    let (mut sin, mut sout) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let p = &people[(i * 7 + 1) % people.len()];
        let me = Actor::person(p.id, &p.name, Role::Staff);
        clock.advance(1_000);
        if store.signed_in_since(p.id).unwrap().is_some() {
            timed("sign_out", &mut sout, || store.sign_out(&me, p.id).unwrap());
        } else {
            timed("sign_in", &mut sin, || store.sign_in(&me, p.id).unwrap());
        }
    }
    out.push(percentiles("sign_in", sin));
    out.push(percentiles("sign_out (with holdings)", sout));

    let (mut lend, mut back) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let key = &keys[i % keys.len()];
        if !key.active {
            continue;
        }
        if store.keys_held_by(people[(i * 13) % people.len()].id).unwrap().iter().any(|l| l.key_type == key.key_type) {
            continue;
        }
        // The seeded year leaves most keys lent: take this one back first.
        let _ = store.return_key(&admin, key.id);
        let customer = people[(i * 13) % people.len()].email.clone().unwrap();
        clock.advance(1_000);
        let lent = timed("checkout_key", &mut lend, || store.checkout_key(&admin, CheckoutRequest { key: key.id, customer, due_at: None }));
        if lent.is_ok() {
            timed("return_key", &mut back, || store.return_key(&admin, key.id).unwrap());
        }
    }
    out.push(percentiles("checkout_key", lend));
    out.push(percentiles("return_key", back));

    let (mut take, mut ret) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let item = &items[(i * 31) % items.len()];
        let p = &people[(i * 3) % people.len()];
        let worker = Actor::person(p.id, &p.name, Role::Worker);
        clock.advance(1_000);
        if timed("activate_equipment", &mut take, || store.activate_equipment(&worker, &item.activation_code)).is_ok() {
            timed("deactivate_equipment", &mut ret, || store.deactivate_equipment(&worker, &item.activation_code).unwrap());
        }
    }
    out.push(percentiles("activate_equipment", take));
    out.push(percentiles("deactivate_equipment", ret));

    let mut evac = Vec::new();
    let mut waiting = Vec::new();
    let mut history = Vec::new();
    for i in 0..runs {
        timed("evacuation_list", &mut evac, || store.evacuation_list().unwrap());
        timed("waiting_guests", &mut waiting, || store.waiting_guests().unwrap());
        if i % 10 == 0 {
            timed("visit_history", &mut history, || store.visit_history(&VisitSearch { text: Some("Company 3".into()), limit: Some(50), ..Default::default() }).unwrap());
        }
    }
    out.push(percentiles("evacuation_list (query)", evac));
    out.push(percentiles("waiting_guests (query)", waiting));
    out.push(percentiles("visit_history search (query)", history));

    // An admin's statistics of the year's last whole month (who was in by
    // the hour needs each person's state when the month began).
    let mut month = Vec::new();
    for _ in 0..runs.div_ceil(50) {
        timed("statistics", &mut month, || store.statistics("2026-10-01", "2026-10-31").unwrap());
    }
    out.push(percentiles("statistics of a month (query)", month));
    out
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let source = seeded(full);
    let dir = tempfile::tempdir().unwrap();
    let path = copy_of(&source, dir.path());
    let clock = ManualClock::new(Timestamp::from_millis(AFTER_YEAR));

    // Cold open: open the file and answer "who is in the building?".
    let mut opens = Vec::new();
    for _ in 0..if full { 20 } else { 3 } {
        timed("open", &mut opens, || {
            let store = Store::open(&path, Arc::new(clock.clone())).unwrap();
            store.evacuation_list().unwrap().headcount()
        });
    }
    let cold = percentiles("open store cold + evacuation list", opens);

    let mut store = Store::open(&path, Arc::new(clock.clone())).unwrap();
    let runs = if full { 2_000 } else { 20 };
    let mut table = vec![cold];
    table.extend(command_percentiles(&mut store, &clock, runs));
    let file_mb = std::fs::metadata(&source).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);
    println!("\n| measurement | runs | p50 | p99 | max | RSS after |\n| --- | --- | --- | --- | --- | --- |");
    for p in &table {
        println!("| {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} MB |", p.name, p.runs, ms(p.p50), ms(p.p99), ms(p.max), p.rss_mb);
    }
    let stalls = STALLS.with(|s| std::mem::take(&mut *s.borrow_mut()));
    println!("\ncommands over {} ms: {}", STALL.as_millis(), stalls.len());
    if !stalls.is_empty() {
        println!("\n| command | wall | CPU, user | CPU, system | voluntary switches | involuntary | minor faults | major faults |\n| --- | --- | --- | --- | --- | --- | --- | --- |");
        for s in &stalls {
            println!(
                "| {} | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} | {} | {} |",
                s.kind,
                ms(s.wall),
                ms(s.user),
                ms(s.system),
                s.voluntary_switches,
                s.involuntary_switches,
                s.minor_faults,
                s.major_faults
            );
        }
    }
    println!(
        "\nstore file {file_mb:.1} MB; resident memory now {:.1} MB, peak {:.1} MB; documents loaded now {}\n",
        rss_mb("VmRSS:"),
        rss_mb("VmHWM:"),
        store.loaded_documents()
    );
    if !full {
        assert!(table.iter().all(|p| p.runs > 0), "every measurement ran");
        return;
    }
    if std::env::var_os("LODGE_BENCH_TABLE_ONLY").is_some() {
        return;
    }

    let mut c = Criterion::default().configure_from_args().sample_size(50);
    c.bench_function("evacuation_list", |b| b.iter(|| store.evacuation_list().unwrap()));
    c.bench_function("waiting_guests", |b| b.iter(|| store.waiting_guests().unwrap()));
    c.bench_function("free_cards", |b| b.iter(|| store.free_cards(None).unwrap()));
    let people = store.people("").unwrap();
    let hosts = store.directory("").unwrap();
    let admin = Actor::person(people[0].id, "Bench", Role::Admin);
    let mut n = 0usize;
    c.bench_function("register_admit_release", |b| {
        b.iter(|| {
            n += 1;
            clock.advance(1_000);
            let visit = store
                .register_guest(
                    &Actor::kiosk(DeviceId::new()),
                    GuestForm { name: format!("Crit {n}"), company: "Bench".into(), host: Some(hosts[n % hosts.len()].id), consent: true, ..Default::default() },
                )
                .unwrap();
            store.admit(&admin, AdmitRequest { visit, card: CardNumber::new(100 + (n % 200) as u32).unwrap(), take_over: true }).unwrap();
            store.release(&admin, visit).unwrap();
        })
    });
    // Rotate over people and keys as a real day does: one document taking
    // thousands of sign-ins would measure a document no site has.
    let mut i = 0usize;
    c.bench_function("sign_in_or_out", |b| {
        b.iter(|| {
            i += 1;
            let p = &people[i % people.len()];
            let me = Actor::person(p.id, &p.name, Role::Staff);
            clock.advance(1_000);
            if store.signed_in_since(p.id).unwrap().is_some() {
                store.sign_out(&me, p.id).unwrap();
            } else {
                store.sign_in(&me, p.id).unwrap();
            }
        })
    });
    let keys: Vec<_> = store.keys(None).unwrap().into_iter().filter(|k| k.active).collect();
    let mut k = 0usize;
    c.bench_function("checkout_return_key", |b| {
        b.iter(|| {
            k += 1;
            let key = &keys[k % keys.len()];
            let customer = Email::parse(&format!("p{}@busy.test", 400 + k % 100)).unwrap();
            clock.advance(1_000);
            let _ = store.return_key(&admin, key.id);
            store.checkout_key(&admin, CheckoutRequest { key: key.id, customer, due_at: None }).unwrap();
            store.return_key(&admin, key.id).unwrap();
        })
    });
    c.final_summary();
    println!("peak resident memory after criterion {:.1} MB", rss_mb("VmHWM:"));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
