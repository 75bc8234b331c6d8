//! The bounded set of loaded documents. Queries never need a document
//! loaded; commands and merges load what they touch, least recently used
//! first out.

use std::num::NonZeroUsize;

use lru::LruCache;

use super::persist::Loaded;
use crate::document::DocId;

pub(super) struct DocCache {
    docs: LruCache<DocId, Loaded>,
}

impl DocCache {
    pub(super) fn new(capacity: usize) -> Self {
        Self { docs: LruCache::new(NonZeroUsize::new(capacity.max(1)).expect("at least one")) }
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
