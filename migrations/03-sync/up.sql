-- Sync: documents with local changes the server has not confirmed yet, and
-- local deletions to announce. Cleared when the server has everything.
CREATE TABLE outbox (
    doc_id TEXT PRIMARY KEY,
    purged INTEGER NOT NULL DEFAULT 0
) STRICT;
