-- Documents: a snapshot plus the incremental changes since, per document.
-- Compacted into a new snapshot when the changes outweigh it.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE documents (
    doc_id         TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    snapshot       BLOB NOT NULL,
    snapshot_bytes INTEGER NOT NULL,
    change_bytes   INTEGER NOT NULL DEFAULT 0,
    next_seq       INTEGER NOT NULL DEFAULT 0,
    heads          BLOB NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX documents_by_kind ON documents (kind);

CREATE TABLE doc_changes (
    doc_id TEXT NOT NULL REFERENCES documents (doc_id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    bytes  BLOB NOT NULL,
    PRIMARY KEY (doc_id, seq)
) STRICT, WITHOUT ROWID;

-- Documents deleted for good (a rejected guest): never accepted again.
CREATE TABLE tombstones (
    doc_id    TEXT PRIMARY KEY,
    purged_at INTEGER NOT NULL
) STRICT;

-- Automerge sync::State per (peer, document), persisted so a reconnect resumes.
CREATE TABLE sync_states (
    peer   TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    state  BLOB NOT NULL,
    PRIMARY KEY (peer, doc_id)
) STRICT, WITHOUT ROWID;
