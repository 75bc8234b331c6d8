//! The bounded set of loaded documents. Queries never need a document
//! loaded; commands and merges load what they touch, least recently used
//! first out. Beside them, the documents' headers: a sync server checks
//! one for every document it sends, and loading a whole document for its
//! kind and owner cost a year's catch-up most of its time.

use std::num::NonZeroUsize;

use lru::LruCache;

use super::persist::Loaded;
use crate::document::{DocId, Header};

/// Headers kept: about 100 bytes each.
const HEADERS: usize = 200_000;

pub(super) struct DocCache {
    docs: LruCache<DocId, Loaded>,
    headers: LruCache<DocId, Header>,
}

impl DocCache {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            docs: LruCache::new(NonZeroUsize::new(capacity.max(1)).expect("at least one")),
            // Bounded by hand: `LruCache::new` would reserve it all at once.
            headers: LruCache::unbounded(),
        }
    }

    pub(super) fn header(&mut self, id: &DocId) -> Option<Header> {
        self.headers.get(id).cloned()
    }

    pub(super) fn keep_header(&mut self, id: &DocId, header: Header) {
        self.headers.put(id.clone(), header);
        if self.headers.len() > HEADERS {
            self.headers.pop_lru();
        }
    }

    /// The document was written: its header may have changed.
    pub(super) fn forget_header(&mut self, id: &DocId) {
        self.headers.pop(id);
    }

    pub(super) fn resize(&mut self, capacity: usize) {
        self.docs.resize(NonZeroUsize::new(capacity.max(1)).expect("at least one"));
    }

    pub(super) fn len(&self) -> usize {
        self.docs.len()
    }

    pub(super) fn get_mut(&mut self, id: &DocId) -> Option<&mut Loaded> {
        self.docs.get_mut(id)
    }

    pub(super) fn insert(&mut self, id: DocId, loaded: Loaded) -> &mut Loaded {
        self.docs.put(id.clone(), loaded);
        self.docs.get_mut(&id).expect("just inserted")
    }

    pub(super) fn evict(&mut self, id: &DocId) {
        self.docs.pop(id);
    }
}
