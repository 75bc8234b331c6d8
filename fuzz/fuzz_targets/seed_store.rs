//! A store in a temporary directory holding the schema fixtures: one saved
//! document of every kind (`core/tests/fixtures/v1`).
// Each target uses the parts it needs.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use lodge_core::{DocId, SiteId, Store, SystemClock};

pub struct Seeded {
    pub store: Store,
    pub site: SiteId,
    pub docs: Vec<DocId>,
    _dir: tempfile::TempDir,
}

impl Seeded {
    pub fn open() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("fuzz.sqlite"), Arc::new(SystemClock)).unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/v1");
        let mut docs = Vec::new();
        let mut site = None;
        for entry in std::fs::read_dir(fixtures).unwrap() {
            let path = entry.unwrap().path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".automerge")) else { continue };
            // `kind_id[_month]` names `kind:id[:month]`.
            let id = DocId::parse(&name.replacen('_', ":", 1).replacen('_', ":", 1)).unwrap();
            if let Some(s) = id.as_str().strip_prefix("site:") {
                site = SiteId::parse(s).ok();
            }
            store.import_document(&id, &std::fs::read(&path).unwrap()).unwrap();
            docs.push(id);
        }
        let site = site.expect("a site fixture");
        store.join_site(site).unwrap();
        docs.sort();
        Self { store, site, docs, _dir: dir }
    }

    /// A document this store holds, or (for the last values) one it does not.
    pub fn pick(&self, byte: u8) -> DocId {
        match self.docs.get(byte as usize % (self.docs.len() + 1)) {
            Some(doc) => doc.clone(),
            None => DocId::visit(lodge_core::VisitId::new()),
        }
    }
}
