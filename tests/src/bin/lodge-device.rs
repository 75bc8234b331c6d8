//! A device as an operating-system process of its own, for tests that kill
//! it with `kill -9` (`tests/tests/faults.rs`): it opens a store file
//! already enrolled in a site, runs the real sync client against a server
//! and prints a line on standard output each time frames from the server
//! were applied, so that a test can wait for the moment it wants and kill
//! the process there. It runs until killed.
//!
//! `lodge-device --store FILE --url ws://127.0.0.1:PORT/sync --token TOKEN`
//!
//! Lines, each with the visit documents in the store and the documents
//! waiting to go up:
//!
//! - `started visits=N waiting=W` once the store is open;
//! - `applied visits=N waiting=W` after each batch of frames applied;
//! - `online visits=N waiting=W` each time the client says it is up to date.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use lodge_core::sync::Connection;
use lodge_core::{Store, SystemClock};

// The app's allocator (`src-tauri/src/lib.rs`): the device allocates as a
// real one does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What the device holds now: visit documents and the outbox's length.
fn counts(store: &Mutex<Store>) -> anyhow::Result<(usize, usize)> {
    let s = store.lock().unwrap_or_else(|p| p.into_inner());
    let visits = s.documents()?.iter().filter(|d| d.as_str().starts_with("visit:")).count();
    Ok((visits, s.outbox_len()?))
}

/// One line, flushed at once: the test reads it while this process runs,
/// and a kill must not lose a line already printed.
fn say(what: &str, store: &Mutex<Store>) -> anyhow::Result<()> {
    let (visits, waiting) = counts(store)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{what} visits={visits} waiting={waiting}")?;
    out.flush()?;
    Ok(())
}

fn arg(args: &[String], name: &str) -> anyhow::Result<String> {
    let i = args.iter().position(|a| a == name).with_context(|| format!("{name} is missing"))?;
    args.get(i + 1).cloned().with_context(|| format!("{name} needs a value"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    // As every Lodge process (see `lodge_core::process`).
    lodge_core::process::forgo_huge_pages();
    let args: Vec<String> = std::env::args().collect();
    let path = PathBuf::from(arg(&args, "--store")?);
    let url = arg(&args, "--url")?;
    let token = arg(&args, "--token")?;
    let store = Arc::new(Mutex::new(Store::open(&path, Arc::new(SystemClock)).with_context(|| format!("opening {}", path.display()))?));
    let sync = lodge_core::sync::spawn(store.clone(), url, token);
    let mut arrivals = sync.arrivals();
    let mut status = sync.watch();
    say("started", &store)?;
    loop {
        tokio::select! {
            arrived = arrivals.recv() => {
                // A lagging receiver only missed lines, not frames.
                if let Err(tokio::sync::broadcast::error::RecvError::Closed) = arrived {
                    anyhow::bail!("the sync client stopped");
                }
                say("applied", &store)?;
            }
            changed = status.changed() => {
                changed.context("the sync client stopped")?;
                let online = status.borrow_and_update().connection == Connection::Online;
                if online {
                    say("online", &store)?;
                }
            }
        }
    }
}
