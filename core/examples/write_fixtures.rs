//! Writes the saved-document fixtures of the current schema: one document of
//! every kind, and a store file of the first store schema holding them.
//! Later versions of Lodge must still open both (see `tests/store_file.rs`).
//!
//! Run once per schema version, then commit the output:
//! `cargo run -p lodge-core --example write_fixtures -- core/tests/fixtures/v1`

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use lodge_core::equipment::NewItem;
use lodge_core::key_loan::CheckoutRequest;
use lodge_core::person::PersonForm;
use lodge_core::repair::RepairState;
use lodge_core::visit::{AdmitRequest, GuestForm};
use lodge_core::{Actor, CardNumber, DeviceId, Email, KeyTypeId, ManualClock, NewSite, RepairCategoryId, Role, Store, Timestamp};

fn main() -> anyhow::Result<()> {
    let out = PathBuf::from(std::env::args().nth(1).context("usage: write_fixtures OUT_DIR")?);
    std::fs::create_dir_all(&out)?;
    let work = tempfile::tempdir()?;
    let clock = ManualClock::new(Timestamp::from_millis(1_795_420_800_000));
    let mut store = Store::open(work.path().join("fixture.sqlite"), Arc::new(clock.clone()))?;
    let admin = Actor::site_founder("Fixture Admin");
    store.create_site(&admin, NewSite { name: "Fixture House".into(), time_zone: "Europe/Warsaw".into() })?;
    let master = KeyTypeId::parse("master")?;
    store.set_key_type(&admin, master.clone(), "Master", 14)?;
    store.set_repair_category(&admin, RepairCategoryId::parse("electrical")?, "Electrical")?;
    let anna = store.create_person(
        &admin,
        PersonForm {
            name: "Anna Fixture".into(),
            email: Some("anna@fixture.test".into()),
            roles: vec![Role::Staff, Role::Worker],
            hosts_guests: true,
            ..Default::default()
        },
    )?;
    let desk = Actor::person(anna, "Anna Fixture", Role::Admin);
    let visit = store.register_guest(
        &Actor::kiosk(DeviceId::new()),
        GuestForm { name: "Fixture Guest".into(), company: "Acme".into(), host: Some(anna), consent: true, ..Default::default() },
    )?;
    store.admit(&desk, AdmitRequest { visit, card: CardNumber::new(105)?, take_over: false })?;
    store.sign_in(&desk, anna)?;
    let key = store.add_key(&desk, master.clone(), "M-1")?;
    store.checkout_key(&desk, CheckoutRequest { key, customer: Email::parse("anna@fixture.test")?, due_at: None })?;
    store.grant_exception(&desk, anna, master, 3, Timestamp::from_millis(1_895_420_800_000))?;
    let item = store.add_item(
        &admin,
        NewItem { asset_number: "D-7".into(), activation_code: "FIX-D7".into(), name: "Drill".into(), item_type: "drill".into() },
    )?;
    store.activate_equipment(&desk, "FIX-D7")?;
    let ticket = store.open_ticket(&desk, item, RepairCategoryId::parse("electrical")?, "Sparks")?;
    store.set_repair_state(&admin, ticket, RepairState::InProgress)?;

    // One file per document.
    let mut docs = Vec::new();
    for id in store.documents()? {
        let bytes = store.export_document(&id)?.context("listed document")?;
        std::fs::write(out.join(format!("{}.automerge", id.as_str().replace(':', "_"))), &bytes)?;
        docs.push((id, bytes));
    }

    // A store of the first store schema (documents only, no projections).
    let path = out.join("store-schema-1.sqlite");
    let _ = std::fs::remove_file(&path);
    let mut conn = rusqlite::Connection::open(&path)?;
    lodge_core::testing::apply_migrations_up_to(&mut conn, 1)?;
    let site = store.site()?.context("site")?;
    conn.execute("INSERT INTO meta (key, value) VALUES ('site', ?1)", [site.to_string()])?;
    for (id, bytes) in &docs {
        conn.execute(
            "INSERT INTO documents (doc_id, kind, snapshot, snapshot_bytes, heads, updated_at) VALUES (?1, ?2, ?3, ?4, x'', 0)",
            rusqlite::params![id.as_str(), id.kind().as_str(), bytes, bytes.len() as i64],
        )?;
    }
    conn.execute_batch("VACUUM;")?;
    println!("wrote {} documents and {} to {}", docs.len(), path.display(), out.display());
    Ok(())
}
