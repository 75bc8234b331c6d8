-- Several instances on one database. Each instance keeps the sites'
-- documents in a store of its own (its data directory, a cache of what is
-- here); every change that lands on one of them is kept here, numbered by
-- the site's feed, and the others merge it (see sync-server/src/relay.rs).

-- The changes of each feed number: Automerge change bytes, or a whole
-- document's for its first number on an instance; none for a deletion, or
-- for a number that only asks devices to look at the document again.
CREATE TABLE changes (
    site_id TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    doc_id  TEXT NOT NULL,
    purged  BOOLEAN NOT NULL,
    -- The instance that made the number (it has the changes already).
    origin  TEXT NOT NULL,
    bytes   BYTEA,
    PRIMARY KEY (site_id, seq)
);

-- A job is sent by one instance: the one holding its claim, until the
-- claim runs out (an instance killed while sending) or the job is done.
-- Its end is kept for the other instances, which queued the same job:
-- they record the same (sent, refused or cancelled, and why).
CREATE TABLE job_claims (
    site_id  TEXT NOT NULL,
    job_key  TEXT NOT NULL,
    instance TEXT NOT NULL,
    until    BIGINT NOT NULL,
    done     BOOLEAN NOT NULL DEFAULT FALSE,
    outcome  TEXT,
    why      TEXT,
    PRIMARY KEY (site_id, job_key)
);
