//! Writes the fuzzers' seed corpora (`fuzz/corpus/TARGET/`) from the schema
//! fixtures: frames and sync messages carrying each fixture document, and
//! the saved documents themselves.
//!
//! `cargo run -p lodge-core --example fuzz_seeds -- fuzz/corpus`

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use automerge::sync::SyncDoc;
use lodge_core::sync::{ClientMessage, DocMessage, ServerMessage, SyncErrorKind};
use lodge_core::{DeviceId, DocId, Role, SiteId, Store, SystemClock};

fn main() -> anyhow::Result<()> {
    let out = PathBuf::from(std::env::args().nth(1).context("usage: fuzz_seeds OUT_DIR")?);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1");
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path().join("seeds.sqlite"), Arc::new(SystemClock))?;
    let mut saved = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&fixtures)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    paths.sort();
    for path in paths {
        let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".automerge")) else { continue };
        let doc = DocId::parse(&name.replacen('_', ":", 1).replacen('_', ":", 1))?;
        let bytes = std::fs::read(&path)?;
        store.import_document(&doc, &bytes)?;
        saved.push((doc, bytes));
    }
    for target in ["frame", "device_frame", "server_message", "document"] {
        std::fs::create_dir_all(out.join(target))?;
    }
    let write = |target: &str, name: String, bytes: &[u8]| std::fs::write(out.join(target).join(name), bytes);
    // A fresh peer's opening message: heads, nothing to give.
    let opening = automerge::AutoCommit::new().sync().generate_sync_message(&mut automerge::sync::State::new()).map(|m| m.encode());
    for (i, (doc, bytes)) in saved.iter().enumerate() {
        let whole = store.generate_first_sync_message(&format!("seed-{i}"), doc)?.context("a whole document to send")?;
        let frame = ClientMessage::Sync { docs: vec![DocMessage { doc: doc.clone(), message: whole.clone() }] };
        write("frame", format!("sync-{i}"), &frame.encode())?;
        write("device_frame", format!("whole-{i}"), &frame.encode())?;
        if let Some(opening) = &opening {
            let frame = ClientMessage::Sync { docs: vec![DocMessage { doc: doc.clone(), message: opening.clone() }] };
            write("device_frame", format!("opening-{i}"), &frame.encode())?;
        }
        let pick = u8::try_from(i)?;
        write("server_message", format!("whole-{i}"), &[&[pick][..], &whole].concat())?;
        write("document", format!("saved-{i}"), &[&[pick][..], bytes].concat())?;
    }
    write("frame", "hello".into(), &ClientMessage::Hello { token: "t".into(), since: 7, pending: saved.iter().map(|(d, _)| d.clone()).collect(), app: None, kept_counts: false }.encode())?;
    write("frame", "purge".into(), &ClientMessage::Purge { docs: vec![saved[0].0.clone()] }.encode())?;
    write("frame", "welcome".into(), &ServerMessage::Welcome { site: SiteId::new(), device: DeviceId::new(), role: Role::Kiosk, seq: 3, also_at: vec!["ws://127.0.0.1:7879/sync".into()] }.encode())?;
    write(
        "frame",
        "error".into(),
        &ServerMessage::Error { kind: SyncErrorKind::Forbidden, message: "no".into(), doc: None, refusal: Some(lodge_core::sync::Refusal::KioskCreatesOnly) }
            .encode(),
    )?;
    println!("seeds written to {}", out.display());
    Ok(())
}
