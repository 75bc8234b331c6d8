//! What one small change costs a device that applies it, and a server that
//! sends it: the unit of W1 (issue #17's "CPU per change applied"), without
//! a network or other processes, so that it can be counted in instructions.
//!
//! A server-side store and a device's store hold the demo site. The server
//! side signs people in and out in turn (a presence month, as W1 does), and
//! each change goes through the same calls the sync server and the sync
//! client make: `generate_sync_message` for the device, the device's
//! `receive_sync_frame` (trusted, with the feed number), and the device's
//! reply received back. Each of those is a function of its own, so
//! callgrind can count them alone:
//!
//!     cargo build --release -p lodge-core --example apply_cost
//!     valgrind --tool=callgrind --toggle-collect='apply_cost::device_applies' \
//!         target/release/examples/apply_cost 300
//!
//! Without valgrind it prints the wall and CPU time per change of each part.
//!
//! A second argument gives the number of listening devices (1 unless
//! given): the server makes the messages for all of them at once, as it
//! fans a change out (`Store::generate_first_sync_messages`). With `alone`
//! as the third, it makes each one by itself instead, as it did before:
//!
//!     valgrind --tool=callgrind --toggle-collect='apply_cost::server_delivers' \
//!         target/release/examples/apply_cost 200 20 alone

use std::sync::Arc;
use std::time::{Duration, Instant};

use lodge_core::person::PersonForm;
use lodge_core::{Actor, DocId, ManualClock, Store, Timestamp};

const SERVER: &str = "server";

// The allocator the app and `lodge-load` run with: what a device spends.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The server makes the message for each listening device (per change
/// delivered): together, or one by one (`alone`).
#[inline(never)]
fn server_delivers(server: &mut Store, peers: &[String], doc: &DocId, alone: bool) -> Vec<Option<Vec<u8>>> {
    if alone {
        peers.iter().map(|p| server.generate_first_sync_message(p, doc).unwrap()).collect()
    } else {
        server.generate_first_sync_messages(peers, doc).unwrap()
    }
}

/// The device merges, stores, projects and answers it in one transaction
/// (per change applied).
#[inline(never)]
fn device_applies(device: &mut Store, doc: &DocId, message: Vec<u8>, seq: u64) -> (bool, Option<Vec<u8>>) {
    let mut results = device.receive_sync_frame(SERVER, &[(doc.clone(), message)], None, Some(("feed", seq))).unwrap();
    let received = results.pop().unwrap().unwrap();
    (received.changed, received.reply)
}

/// The server takes the device's answer (its new heads), and asks whether
/// it has more to say to the device, as the sync server does after every
/// frame it takes.
#[inline(never)]
fn server_hears_back(server: &mut Store, peer: &str, doc: &DocId, reply: &[u8]) {
    server.receive_sync_message(peer, doc, reply).unwrap();
    std::hint::black_box(server.generate_sync_message(peer, doc).unwrap());
}

/// The process's CPU time (its checkpoint threads included).
fn cpu_now() -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes only the struct it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let changes: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let listeners: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let alone = args.next().as_deref() == Some("alone");
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Timestamp::from_millis(1_767_600_000_000));
    let mut server = Store::open(dir.path().join("server.sqlite"), Arc::new(clock.clone())).unwrap();
    lodge_core::demo::create_demo_site(&mut server).unwrap();
    // W1's site: 100 people, each with this month's presence document,
    // signed in and out in turn (a document has a handful of events).
    let founder = Actor::site_founder("bench");
    let people: Vec<_> = (0..100)
        .map(|i| server.create_person(&founder, PersonForm { name: format!("Person {i}"), ..Default::default() }).unwrap())
        .collect();
    for p in &people {
        server.sign_in(&founder, *p).unwrap();
        server.sign_out(&founder, *p).unwrap();
    }
    let peers: Vec<String> = (0..listeners).map(|k| format!("device-{k}")).collect();
    let mut devices: Vec<Store> = peers
        .iter()
        .map(|peer| {
            let mut device = Store::open(dir.path().join(format!("{peer}.sqlite")), Arc::new(clock.clone())).unwrap();
            lodge_core::exchange(&mut server, SERVER, &mut device, peer).unwrap();
            device
        })
        .collect();
    for (doc, _) in server.outbox().unwrap() {
        server.clear_outbox(&doc).unwrap();
    }

    let mut messages = 0usize;
    let (mut deliver, mut apply, mut hear) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut deliver_cpu, mut apply_cpu, mut hear_cpu) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let measure = |wall: &mut Duration, cpu: &mut Duration, f: &mut dyn FnMut()| {
        let (c, t) = (cpu_now(), Instant::now());
        f();
        *wall += t.elapsed();
        *cpu += cpu_now().saturating_sub(c);
    };
    for i in 0..changes {
        clock.advance(60_000);
        let p = people[i % people.len()];
        if server.signed_in_since(p).unwrap().is_some() {
            server.sign_out(&founder, p).unwrap();
        } else {
            server.sign_in(&founder, p).unwrap();
        }
        let (doc, _) = server.outbox().unwrap().pop().expect("the change is waiting to be sent");
        server.clear_outbox(&doc).unwrap();
        // The protocol may take a round or two (heads, then changes); the
        // whole exchange is the cost of the change.
        let mut applied = vec![false; listeners];
        loop {
            let mut made = Vec::new();
            measure(&mut deliver, &mut deliver_cpu, &mut || made = server_delivers(&mut server, &peers, &doc, alone));
            let mut replies = Vec::new();
            for (k, message) in made.into_iter().enumerate() {
                let Some(mut message) = message else { continue };
                messages += 1;
                let (mut changed, mut reply) = (false, None);
                measure(&mut apply, &mut apply_cpu, &mut || {
                    (changed, reply) = device_applies(&mut devices[k], &doc, std::mem::take(&mut message), i as u64 + 1)
                });
                applied[k] |= changed;
                replies.extend(reply.map(|r| (k, r)));
            }
            if replies.is_empty() {
                break;
            }
            for (k, reply) in replies {
                measure(&mut hear, &mut hear_cpu, &mut || server_hears_back(&mut server, &peers[k], &doc, &reply));
            }
        }
        assert!(applied.iter().all(|a| *a), "the change reached every device");
    }
    let delivered = changes * listeners;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / delivered as f64;
    println!(
        "{changes} changes (presence months of {} people) to {listeners} devices{}, {messages} messages",
        people.len(),
        if alone { " (each message made alone)" } else { "" }
    );
    println!("| part, per change delivered to one device | wall | CPU |\n| --- | --- | --- |");
    println!("| server makes the device's message | {:.0} µs | {:.0} µs |", per(deliver), per(deliver_cpu));
    println!("| device applies it | {:.0} µs | {:.0} µs |", per(apply), per(apply_cpu));
    println!("| server takes the device's answer | {:.0} µs | {:.0} µs |", per(hear), per(hear_cpu));
}
