//! One site's hub: its document store and the broadcast of changes to every
//! connection of that site.

use std::sync::{Arc, Mutex, MutexGuard};

use lodge_core::{DeviceId, DocId, SiteId, Store};
use tokio::sync::broadcast;

/// A document changed on the server.
#[derive(Debug, Clone)]
pub struct Changed {
    /// The document.
    pub doc: DocId,
    /// Its feed sequence.
    pub seq: u64,
    /// Deleted for good.
    pub purged: bool,
    /// The device whose frame changed it (it already got its answer).
    pub origin: Option<DeviceId>,
}

/// A site's store and change broadcast.
pub struct SiteHub {
    /// The site.
    pub site: SiteId,
    store: Arc<Mutex<Store>>,
    changes: broadcast::Sender<Changed>,
}

impl SiteHub {
    /// A hub for an opened store.
    pub fn new(site: SiteId, store: Store) -> Self {
        let (changes, _) = broadcast::channel(4096);
        Self { site, store: Arc::new(Mutex::new(store)), changes }
    }

    /// Lock the store (from blocking code only).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tell every connection.
    pub fn announce(&self, change: Changed) {
        let _ = self.changes.send(change);
    }

    /// Listen to changes.
    pub fn subscribe(&self) -> broadcast::Receiver<Changed> {
        self.changes.subscribe()
    }
}
